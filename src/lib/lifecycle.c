/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lifecycle.c - renew and retire.  Renewal puts a new key next to the old
 * one (the overlap API providers' rotation flows ask for); retiring removes
 * a key pair and its certificates, never the last valid one by accident.
 */
#include "config.h"

#include <ctype.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static p11e_status cert_of(p11e_ctx *ctx, CK_OBJECT_HANDLE h, X509 **out);

/* Handles of the non-CA certificates with the key's id. */
static p11e_status key_certs(p11e_ctx *ctx, const p11e_key *key, CK_OBJECT_HANDLE **hs, size_t *n)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) },
		              { CKA_ID, (void *)key->id, key->id_len } };
	size_t kept = 0;
	p11e_status st;

	*hs = NULL;
	*n = 0;
	if (!key->id_len)
		return P11E_OK;
	st = p11e__find_objects(ctx, t, 2, hs, n);
	/* a CA certificate that happens to share the id is not the key's */
	for (size_t i = 0; st == P11E_OK && i < *n; i++) {
		X509 *c = NULL;

		st = cert_of(ctx, (*hs)[i], &c);
		if (st == P11E_OK && (!c || X509_check_ca(c) <= 0))
			(*hs)[kept++] = (*hs)[i];
		X509_free(c);
	}
	*n = kept;
	if (st != P11E_OK) {
		free(*hs);
		*hs = NULL;
		*n = 0;
	}
	return st;
}

/* The certificate object's value parsed; *out NULL if it is not X.509 DER. */
static p11e_status cert_of(p11e_ctx *ctx, CK_OBJECT_HANDLE h, X509 **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	CK_ULONG len = 0;
	p11e_status st = p11e__attr_get(ctx, h, CKA_VALUE, &der, &len);

	*out = NULL;
	if (st == P11E_OK) {
		p = der;
		*out = d2i_X509(NULL, &p, (long)len);
	}
	free(der);
	return st;
}

/* The key's certificate that runs longest. */
p11e_status p11e__key_newest_cert(p11e_ctx *ctx, const p11e_key *key, X509 **out)
{
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	p11e_status st = key_certs(ctx, key, &hs, &n);

	*out = NULL;
	for (size_t i = 0; st == P11E_OK && i < n; i++) {
		X509 *c = NULL;

		st = cert_of(ctx, hs[i], &c);
		if (c && (!*out ||
		          ASN1_TIME_compare(X509_get0_notAfter(c), X509_get0_notAfter(*out)) > 0)) {
			X509_free(*out);
			*out = c;
		} else {
			X509_free(c);
		}
	}
	free(hs);
	if (st != P11E_OK) {
		X509_free(*out);
		*out = NULL;
	} else if (!*out) {
		st = p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_KEY_NO_CERT,
		                    "key '%s' has no certificate on the token to renew",
		                    key->label);
	}
	return st;
}

/*
 * The successor's label: "client" -> "client.2", "client.2" -> "client.3".
 * A successor that exists without a certificate yet (an earlier renew whose
 * certificate never came) is reused, so renew can run again safely.
 */
static p11e_status successor(p11e_ctx *ctx, const char *label, char *out, size_t len,
                             p11e_key *reuse, int *reused)
{
	const char *dot = strrchr(label, '.');
	size_t base = strlen(label), certs;
	unsigned gen = 2;
	char bad[200];
	p11e_status st;

	*reused = 0;
	if (dot && dot[1] && strspn(dot + 1, "0123456789") == strlen(dot + 1) &&
	    strlen(dot + 1) < 4) {
		base = (size_t)(dot - label);
		gen = (unsigned)strtoul(dot + 1, NULL, 10) + 1;
	}
	for (; gen < 1000; gen++) {
		snprintf(out, len, "%.*s.%u", (int)base, label, gen);
		st = p11e_key_find(ctx, out, reuse);
		if (st == P11E_ERR_NOT_FOUND) {
			p11e__clear_error(ctx);
			return P11E_OK;
		}
		if (st != P11E_OK)
			return st;
		st = p11e__key_cert_count(ctx, reuse, &certs);
		if (st == P11E_OK && certs == 0 && p11e__key_exposed(reuse, bad, sizeof(bad)))
			return p11e__fail(
				ctx, P11E_ERR_POLICY,
				"key '%s' on the token is not one born there that never left "
				"it (%s): it is not reused as the successor; retire it first",
				out, bad);
		if (st != P11E_OK || certs == 0) {
			*reused = st == P11E_OK;
			return st;
		}
		p11e_key_clear(reuse);
	}
	return p11e__fail(ctx, P11E_ERR_USAGE, "no free generation label for '%s'", label);
}

static void destroy_key(p11e_ctx *ctx, const p11e_key *key)
{
	CK_RV saved_rv = ctx->last_rv;
	const char *saved_call = ctx->last_call;

	P11_CALL(ctx, C_DestroyObject, ctx->session, key->handle);
	if (key->pub_handle)
		P11_CALL(ctx, C_DestroyObject, ctx->session, key->pub_handle);
	ctx->last_rv = saved_rv;
	ctx->last_call = saved_call;
}

p11e_status p11e_renew(p11e_ctx *ctx, const char *keyspec, const char *type, const p11e_req *o,
                       p11e_format format, p11e_key *newkey, int *reused, unsigned char **out,
                       size_t *outlen)
{
	p11e_key old;
	X509 *cert = NULL;
	X509_REQ *req = NULL;
	const char *md = NULL, *curve;
	char label[160], typebuf[32];
	p11e_key_type kt;
	unsigned bits;
	int made = 0, lock = -1;
	p11e_status st;

	p11e__clear_error(ctx);
	o = p11e__req_or_empty(o);
	memset(newkey, 0, sizeof(*newkey));
	*reused = 0;
	*out = NULL;
	*outlen = 0;
	if (format != P11E_FORMAT_PEM && format != P11E_FORMAT_DER)
		return p11e__fail(ctx, P11E_ERR_USAGE, "p11e_renew: unknown format %d",
		                  (int)format);
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	st = p11e_key_find(ctx, keyspec, &old);
	if (st != P11E_OK)
		return st;
	if (!type) {
		if (old.type == P11E_KEY_RSA)
			snprintf(typebuf, sizeof(typebuf), "rsa:%u", old.bits);
		else
			snprintf(typebuf, sizeof(typebuf), "ec:%s", old.curve);
		type = typebuf;
	}
	/* everything is checked before a new key exists */
	st = p11e_key_type_parse(ctx, type, &kt, &bits, &curve);
	if (st == P11E_OK && (o->flags & P11E_REQ_PSS) && kt != P11E_KEY_RSA)
		st = p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_PSS_NEEDS_RSA,
		                    "RSA-PSS needs an RSA key; the new key is %s", type);
	if (st == P11E_OK && o->profile)
		st = p11e__profile_check_type(ctx, o->profile, kt, bits, curve);
	if (st == P11E_OK)
		st = p11e__key_newest_cert(ctx, &old, &cert);
	if (st == P11E_OK)
		st = p11e__req_from_cert(ctx, cert, o, &req, &md);
	/*
	 * From choosing the successor's label to its request, one p11enroll at
	 * a time: a second renew must not pick the same label, nor reuse a key
	 * this one may yet take back.
	 */
	if (st == P11E_OK)
		st = p11e__token_lock(ctx, &lock);
	if (st == P11E_OK)
		st = successor(ctx, old.label, label, sizeof(label), newkey, reused);
	if (st == P11E_OK && !*reused) {
		st = p11e_keygen(ctx, type, label, NULL, 0, newkey);
		made = st == P11E_OK;
	}
	if (st == P11E_OK)
		st = p11e__req_finish(ctx, newkey, o, format, md, req, out, outlen);
	if (st != P11E_OK) {
		/* a key made by this run and left without its request is taken back */
		if (made)
			destroy_key(ctx, newkey);
		p11e_key_clear(newkey);
	}
	p11e__token_unlock(ctx, &lock);
	X509_REQ_free(req);
	X509_free(cert);
	p11e_key_clear(&old);
	return st;
}

static int valid_now(X509 *c)
{
	return c && X509_cmp_current_time(X509_get0_notBefore(c)) < 0 &&
	       X509_cmp_current_time(X509_get0_notAfter(c)) > 0;
}

/*
 * Does the key have a certificate valid right now?  A token that cannot be
 * read is an error, never a "no": the last-key guard must not fail open.
 */
static p11e_status has_valid_cert(p11e_ctx *ctx, const p11e_key *key, int *valid)
{
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	p11e_status st = key_certs(ctx, key, &hs, &n);

	*valid = 0;
	for (size_t i = 0; st == P11E_OK && i < n && !*valid; i++) {
		X509 *c = NULL;

		st = cert_of(ctx, hs[i], &c);
		*valid = st == P11E_OK && valid_now(c);
		X509_free(c);
	}
	free(hs);
	return st;
}

/* How many private keys on the token have a valid certificate? */
static p11e_status count_valid_keys(p11e_ctx *ctx, size_t *count)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	int valid;
	p11e_status st = p11e__find_objects(ctx, &t, 1, &hs, &n);

	*count = 0;
	for (size_t i = 0; st == P11E_OK && i < n; i++) {
		p11e_key k = { .label = "" };

		st = p11e__key_describe(ctx, hs[i], &k);
		/* a key of a type we do not handle has no certificate of ours */
		if (st == P11E_ERR_POLICY) {
			p11e__clear_error(ctx);
			st = P11E_OK;
		} else if (st == P11E_OK && (st = has_valid_cert(ctx, &k, &valid)) == P11E_OK &&
		           valid) {
			(*count)++;
		}
		p11e_key_clear(&k);
	}
	free(hs);
	return st;
}

/*
 * A public key left behind by a retire cut short after the private key was
 * removed: found by the same spec, with no private key sharing its id.
 */
static p11e_status leftover_public(p11e_ctx *ctx, const char *keyspec, p11e_key *key, int *found)
{
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
	CK_OBJECT_HANDLE *hs = NULL, *privs = NULL;
	unsigned char *v = NULL;
	CK_ULONG len = 0;
	size_t n = 0, np = 0;
	p11e_status st;

	*found = 0;
	st = p11e__find_spec(ctx, keyspec, CKO_PUBLIC_KEY, &hs, &n);
	if (st != P11E_OK || n != 1)
		goto done;
	memset(key, 0, sizeof(*key));
	key->pub_handle = hs[0];
	if ((st = p11e__attr_opt(ctx, hs[0], CKA_LABEL, &v, &len)) != P11E_OK)
		goto done;
	if (len < sizeof(key->label))
		memcpy(key->label, v, len);
	free(v);
	if ((st = p11e__attr_opt(ctx, hs[0], CKA_ID, &v, &len)) != P11E_OK)
		goto done;
	if (len <= sizeof(key->id)) {
		memcpy(key->id, v, len);
		key->id_len = len;
	}
	if (key->id_len) {
		CK_ATTRIBUTE t[2] = { { CKA_CLASS, &priv, sizeof(priv) },
			              { CKA_ID, key->id, key->id_len } };

		if ((st = p11e__find_objects(ctx, t, 2, &privs, &np)) != P11E_OK || np)
			goto done;
	}
	key->uri = p11e__object_uri(ctx, CKO_PUBLIC_KEY, key->label, key->id, key->id_len);
	*found = 1;
	p11e__log(ctx, P11E_LOG_NOTE,
	          "key '%s' has no private key left, only its public key: removing that "
	          "(an earlier retire was cut short)",
	          key->label);
done:
	free(v);
	free(hs);
	free(privs);
	if (!*found)
		p11e_key_clear(key);
	return st;
}

/*
 * The last-valid-key guard: refuse if the key has a valid certificate and
 * no other key on the token has one.
 */
static p11e_status last_valid_guard(p11e_ctx *ctx, const p11e_key *key)
{
	size_t valid_keys = 0;
	int valid = 0;
	p11e_status st = has_valid_cert(ctx, key, &valid);

	if (st == P11E_OK && valid && (st = count_valid_keys(ctx, &valid_keys)) == P11E_OK &&
	    valid_keys <= 1)
		st = p11e__fail_why(ctx, P11E_ERR_POLICY, P11E_REASON_KEY_LAST_VALID,
		                    "key '%s' is the only key on token '%s' with a valid "
		                    "certificate",
		                    key->label, ctx->slot.label);
	return st;
}

p11e_status p11e_retire_plan(p11e_ctx *ctx, const char *keyspec, unsigned flags, p11e_key *key,
                             size_t *ncerts)
{
	int force = (flags & P11E_RETIRE_FORCE) != 0;
	CK_OBJECT_HANDLE *hs = NULL;
	size_t nprivs = 0;
	int leftover = 0;
	p11e_status st;

	p11e__clear_error(ctx);
	memset(key, 0, sizeof(*key));
	*ncerts = 0;
	P11E__FLAGS_CHECK(ctx, "p11e_retire_plan", flags, P11E_RETIRE_FORCE);
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	st = p11e__find_spec(ctx, keyspec, CKO_PRIVATE_KEY, &hs, &nprivs);
	free(hs);
	hs = NULL;
	if (st == P11E_OK && nprivs == 0)
		st = leftover_public(ctx, keyspec, key, &leftover);
	if (st == P11E_OK && !leftover)
		st = p11e_key_find(ctx, keyspec, key);
	if (st == P11E_OK)
		st = key_certs(ctx, key, &hs, ncerts);
	free(hs);
	/* a first look, before the user is asked; p11e_retire looks again under the lock */
	if (st == P11E_OK && !leftover && !force)
		st = last_valid_guard(ctx, key);
	if (st != P11E_OK)
		p11e_key_clear(key);
	return st;
}

p11e_status p11e_retire(p11e_ctx *ctx, const p11e_key *key, unsigned flags)
{
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	int lock = -1;
	p11e_status st;
	CK_RV rv = CKR_OK;

	p11e__clear_error(ctx);
	P11E__FLAGS_CHECK(ctx, "p11e_retire", flags, P11E_RETIRE_FORCE);
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	/*
	 * From the guard to the last C_DestroyObject, one p11enroll at a time:
	 * two retires of the two last valid keys, each told by its plan that
	 * another remains, would otherwise remove both.  The guard is asked
	 * again here, after the confirmation, under the lock.
	 */
	st = p11e__token_lock(ctx, &lock);
	if (st != P11E_OK)
		return st;
	if (!(flags & P11E_RETIRE_FORCE) && (st = last_valid_guard(ctx, key)) != P11E_OK)
		goto done;
	/*
	 * Certificates first, then the private key, then the public one: cut
	 * short anywhere, what is left is never a certificate without its key
	 * or a private key without its public half; a public key left alone
	 * is found and removed by running retire again (leftover_public).
	 */
	st = key_certs(ctx, key, &hs, &n);
	for (size_t i = 0; st == P11E_OK && i < n; i++) {
		if ((rv = P11_CALL(ctx, C_DestroyObject, ctx->session, hs[i])) != CKR_OK)
			st = p11e__fail_rv(ctx, "removing a certificate", "C_DestroyObject", rv);
	}
	free(hs);
	if (st == P11E_OK && key->handle &&
	    (rv = P11_CALL(ctx, C_DestroyObject, ctx->session, key->handle)) != CKR_OK)
		st = p11e__fail_rv(ctx, "removing the private key", "C_DestroyObject", rv);
	if (st == P11E_OK && key->pub_handle &&
	    (rv = P11_CALL(ctx, C_DestroyObject, ctx->session, key->pub_handle)) != CKR_OK)
		st = p11e__fail_rv(ctx, "removing the public key", "C_DestroyObject", rv);
done:
	p11e__token_unlock(ctx, &lock);
	return st;
}
