/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cert-import.c - certificates onto the token, bound to their key: the leaf
 * is matched by public key (never by label) and written with the key's
 * CKA_ID; the CA certificates of the file and the chain go on as authority
 * certificates, each once, and only those on the leaf's issuer path.  Anything refused leaves the
 * token as it was; a failure half way takes back what this run wrote.  "Is it there? no: write it"
 * runs under the token's lock (lock.c), so two imports at once write it once.
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void p11e_import_result_clear(p11e_import_result *r)
{
	if (!r)
		return;
	free(r->uri);
	p11e_key_clear(&r->key);
	memset(r, 0, sizeof(*r));
}

static int der_of(X509 *c, unsigned char **der)
{
	*der = NULL;
	return i2d_X509(c, der);
}

/* Is this exact certificate on the token already? Its handle in *h. */
static p11e_status cert_present(p11e_ctx *ctx, X509 *c, int *present, CK_OBJECT_HANDLE *h)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	unsigned char *der = NULL;
	int len = der_of(c, &der);
	CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_VALUE, der, (CK_ULONG)len } };
	CK_OBJECT_HANDLE *found = NULL;
	size_t n = 0;
	p11e_status st;

	if (len <= 0)
		return p11e__fail(ctx, P11E_ERR_INPUT, "a certificate cannot be encoded");
	st = p11e__find_objects(ctx, t, 2, &found, &n);
	*present = n > 0;
	if (n > 0 && h)
		*h = found[0];
	free(found);
	OPENSSL_free(der);
	return st;
}

/* The private key on the token whose public key is the certificate's. */
static p11e_status key_for_cert(p11e_ctx *ctx, X509 *c, p11e_key *key, int *found)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	unsigned char id[20];
	CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, id, sizeof(id) } };
	CK_OBJECT_HANDLE *hits = NULL;
	EVP_PKEY *cert_pub = X509_get0_pubkey(c), *pub = NULL;
	size_t n = 0;
	p11e_status st;

	*found = 0;
	if (!cert_pub)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "the certificate's public key is unreadable");
	/* the usual id first, then every key: ids chosen by the user differ */
	st = p11e__key_id_of(ctx, cert_pub, id);
	if (st == P11E_OK)
		st = p11e__find_objects(ctx, t, 2, &hits, &n);
	if (st == P11E_OK && n == 0) {
		free(hits);
		hits = NULL;
		st = p11e__find_objects(ctx, t, 1, &hits, &n);
	}
	for (size_t i = 0; st == P11E_OK && i < n && !*found; i++) {
		p11e_status ks = p11e__key_describe(ctx, hits[i], key);

		if (ks == P11E_OK)
			ks = p11e__key_public(ctx, key, &pub);
		/* a key we cannot use (another type, no public half) is not the one */
		if (ks == P11E_ERR_POLICY || ks == P11E_ERR_NOT_FOUND) {
			p11e__clear_error(ctx);
			continue;
		}
		/* a token that fails is an error, never "no key matches" */
		if (ks != P11E_OK) {
			st = ks;
			break;
		}
		*found = EVP_PKEY_eq(pub, cert_pub) == 1;
		EVP_PKEY_free(pub);
		pub = NULL;
	}
	free(hits);
	if (!*found)
		p11e_key_clear(key);
	return st;
}

static p11e_status check_validity(p11e_ctx *ctx, X509 *c, const char *path, int allow_expired)
{
	if (allow_expired)
		return P11E_OK;
	if (X509_cmp_current_time(X509_get0_notBefore(c)) > 0)
		return p11e__fail_why(ctx, P11E_ERR_INPUT, P11E_REASON_CERT_NOT_YET_VALID,
		                      "%s: the certificate is not valid yet", path);
	if (X509_cmp_current_time(X509_get0_notAfter(c)) < 0)
		return p11e__fail_why(ctx, P11E_ERR_INPUT, P11E_REASON_CERT_EXPIRED,
		                      "%s: the certificate has expired", path);
	return P11E_OK;
}

/* The CN, else the whole subject, for a CA certificate's label. */
static void cert_label(X509 *c, char *out, size_t len)
{
	X509_NAME *name = X509_get_subject_name(c);
	int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

	out[0] = '\0';
	if (idx >= 0) {
		const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));

		snprintf(out, len, "%.*s", ASN1_STRING_length(s), ASN1_STRING_get0_data(s));
	}
	if (!out[0])
		X509_NAME_oneline(name, out, (int)len);
}

/* C_CreateObject of one X.509 certificate. */
static p11e_status write_cert(p11e_ctx *ctx, X509 *c, const char *label, const unsigned char *id,
                              size_t id_len, CK_ULONG category, CK_OBJECT_HANDLE *h)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE type = CKC_X_509;
	unsigned char *der = NULL, *subj = NULL, *iss = NULL, *serial = NULL;
	int dlen = der_of(c, &der);
	int slen = i2d_X509_NAME(X509_get_subject_name(c), &subj);
	int ilen = i2d_X509_NAME(X509_get_issuer_name(c), &iss);
	int nlen = i2d_ASN1_INTEGER(X509_get0_serialNumber(c), &serial);
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &type, sizeof(type) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		/* a token quirk file may ask for private certificates */
		{ CKA_PRIVATE, p11e__quirk_cert_private(ctx) ? &yes : &no, sizeof(CK_BBOOL) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_SUBJECT, subj, (CK_ULONG)slen },
		{ CKA_ISSUER, iss, (CK_ULONG)ilen },
		{ CKA_SERIAL_NUMBER, serial, (CK_ULONG)nlen },
		{ CKA_VALUE, der, (CK_ULONG)dlen },
		{ CKA_ID, (void *)id, id_len },
		/* optional (PKCS#11 2.40, 4.6.2): last, so that it can be left out */
		{ CKA_CERTIFICATE_CATEGORY, &category, sizeof(category) },
	};
	CK_ULONG n = sizeof(t) / sizeof(t[0]);
	int with_category = !p11e__quirks_get(ctx)->omit_certificate_category;
	p11e_status st = P11E_OK;
	CK_RV rv = CKR_OK;

	if (!id_len) {
		t[n - 2] = t[n - 1]; /* CKA_ID out, the category moves up */
		n--;
	}
	if (!with_category)
		n--;
	if (dlen <= 0 || slen <= 0 || ilen <= 0 || nlen <= 0) {
		st = p11e__fail(ctx, P11E_ERR_INPUT, "a certificate cannot be encoded");
		goto out;
	}
	rv = P11_CALL(ctx, C_CreateObject, ctx->session, t, n, h);
	if (with_category &&
	    (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_VALUE_INVALID)) {
		/* a token without it (openCryptoki 3.8): once more without the optional one */
		p11e__log(ctx, P11E_LOG_NOTE,
		          "token '%s' refused CKA_CERTIFICATE_CATEGORY (%s): the certificate is "
		          "written without it; a token quirk file can say so "
		          "(omit_certificate_category)",
		          ctx->slot.label, p11e_rv_name(rv));
		rv = P11_CALL(ctx, C_CreateObject, ctx->session, t, --n, h);
		with_category = 0;
	}
	if (rv != CKR_OK) {
		st = p11e__fail_rv(ctx, "writing the certificate", "C_CreateObject", rv);
		if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
		    rv == CKR_TEMPLATE_INCONSISTENT) {
			char said[sizeof(ctx->message)];

			memcpy(said, ctx->message, sizeof(said));
			p11e__fail(ctx, st,
			           "%s; the template was CKA_CLASS, CKA_CERTIFICATE_TYPE, "
			           "CKA_TOKEN, "
			           "CKA_PRIVATE=%s, CKA_LABEL, CKA_SUBJECT, CKA_ISSUER, "
			           "CKA_SERIAL_NUMBER, CKA_VALUE%s%s",
			           said, p11e__quirk_cert_private(ctx) ? "TRUE" : "FALSE",
			           id_len ? ", CKA_ID" : "",
			           with_category ? ", CKA_CERTIFICATE_CATEGORY" : "");
		}
	}
out:
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(serial);
	return st;
}

/* Every certificate of a and b but the leaf, each once. */
static STACK_OF(X509) *authorities(STACK_OF(X509) *a, STACK_OF(X509) *b, X509 *leaf)
{
	STACK_OF(X509) *out = sk_X509_new_null();
	STACK_OF(X509) *both[2] = { a, b };

	for (int s = 0; out && s < 2; s++) {
		for (int i = 0; both[s] && i < sk_X509_num(both[s]); i++) {
			X509 *c = sk_X509_value(both[s], i);
			int dup = X509_cmp(c, leaf) == 0;

			for (int j = 0; !dup && j < sk_X509_num(out); j++)
				dup = X509_cmp(c, sk_X509_value(out, j)) == 0;
			if (!dup)
				sk_X509_push(out, c);
		}
	}
	return out;
}

/* Is c in the stack (the same certificate)? */
static int in_stack(STACK_OF(X509) *sk, X509 *c)
{
	for (int i = 0; sk && i < sk_X509_num(sk); i++)
		if (X509_cmp(sk_X509_value(sk, i), c) == 0)
			return 1;
	return 0;
}

/* Did ca issue c: names (and key identifiers) match and its key verifies c's signature? */
static int issued(X509 *ca, X509 *c)
{
	EVP_PKEY *pub = X509_get0_pubkey(ca);
	int ok = X509_check_issued(ca, c) == X509_V_OK && pub && X509_verify(c, pub) == 1;

	ERR_clear_error();
	return ok;
}

/*
 * Only the CA certificates on the leaf's issuer path go on the token: its
 * issuer, that one's issuer, and so on, each found by name and proven by
 * its signature.  A CA certificate that issued none of them would sit on
 * the token as if it vouched for the key; it is refused, with nothing
 * written.  (Client certificates of other keys are skipped with a warning
 * where they are written.)
 */
static p11e_status check_chain(p11e_ctx *ctx, X509 *leaf, STACK_OF(X509) *cas,
                               STACK_OF(X509) *certs, const char *path, const char *chain_path)
{
	STACK_OF(X509) *on_path = sk_X509_new_null();
	X509 *cur = leaf;
	char subj[256], lsubj[256];
	p11e_status st = P11E_OK;

	if (!on_path)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	while (cur) {
		X509 *next = NULL;

		for (int i = 0; !next && i < sk_X509_num(cas); i++) {
			X509 *c = sk_X509_value(cas, i);

			if (X509_check_ca(c) > 0 && !in_stack(on_path, c) && issued(c, cur))
				next = c;
		}
		if (next && !sk_X509_push(on_path, next)) {
			sk_X509_free(on_path);
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		}
		cur = next;
	}
	for (int i = 0; i < sk_X509_num(cas); i++) {
		X509 *c = sk_X509_value(cas, i);

		if (X509_check_ca(c) <= 0 || in_stack(on_path, c))
			continue;
		X509_NAME_oneline(X509_get_subject_name(c), subj, sizeof(subj));
		X509_NAME_oneline(X509_get_subject_name(leaf), lsubj, sizeof(lsubj));
		st = p11e__fail_why(ctx, P11E_ERR_INPUT, P11E_REASON_CHAIN_FOREIGN,
		                    "CA certificate '%s' in %s is not in the chain of '%s' (it "
		                    "issued neither it nor its issuers): remove it from the file; "
		                    "nothing was written",
		                    subj, in_stack(certs, c) || !chain_path ? path : chain_path,
		                    lsubj);
		break;
	}
	sk_X509_free(on_path);
	return st;
}

p11e_status p11e__import_stacks(p11e_ctx *ctx, STACK_OF(X509) *certs, STACK_OF(X509) *chain,
                                const char *keyspec, const char *label, unsigned flags,
                                p11e_import_result *res, const char *path, const char *chain_path)
{
	int allow_expired = (flags & P11E_IMPORT_ALLOW_EXPIRED) != 0;
	STACK_OF(X509) *cas = NULL;
	CK_OBJECT_HANDLE written[64];
	size_t nwritten = 0;
	X509 *leaf = NULL;
	CK_OBJECT_HANDLE existing = 0;
	p11e_key want;
	int found = 0, present = 0, non_ca = 0, lock = -1;
	p11e_status st = P11E_OK;

	memset(res, 0, sizeof(*res));
	memset(&want, 0, sizeof(want));
	if (keyspec)
		st = p11e_key_find(ctx, keyspec, &want);
	if (st != P11E_OK)
		goto done;

	/* the leaf: the first non-CA certificate whose key is on the token */
	for (int i = 0; i < sk_X509_num(certs) && !found; i++) {
		X509 *c = sk_X509_value(certs, i);
		EVP_PKEY *pub = NULL;

		if (X509_check_ca(c) > 0)
			continue;
		non_ca++;
		if (keyspec) {
			found = p11e__key_public(ctx, &want, &pub) == P11E_OK &&
			        EVP_PKEY_eq(pub, X509_get0_pubkey(c)) == 1;
			EVP_PKEY_free(pub);
			if (found) {
				res->key = want;
				memset(&want, 0, sizeof(want));
			}
		} else if ((st = key_for_cert(ctx, c, &res->key, &found)) != P11E_OK) {
			goto done;
		}
		if (found)
			leaf = c;
	}
	if (!leaf) {
		if (!non_ca)
			st = p11e__fail_why(ctx, P11E_ERR_INPUT, P11E_REASON_CERT_ONLY_CA,
			                    "%s holds only CA certificates", path);
		else if (keyspec)
			st = p11e__fail_why(ctx, P11E_ERR_INPUT, P11E_REASON_CERT_OTHER_KEY,
			                    "the certificate in %s is for another key than '%s'",
			                    path, keyspec);
		else
			st = p11e__fail(ctx, P11E_ERR_NOT_FOUND,
			                "no private key on token '%s' matches the certificate in "
			                "%s: "
			                "import it into the token that holds its key",
			                ctx->slot.label, path);
		goto done;
	}
	st = check_validity(ctx, leaf, path, allow_expired);
	if (st == P11E_OK && !(cas = authorities(certs, chain, leaf)))
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	if (st == P11E_OK)
		st = check_chain(ctx, leaf, cas, certs, path, chain_path);
	/* from the first look for the certificates to the last write: one process at a time */
	if (st == P11E_OK)
		st = p11e__token_lock(ctx, &lock);
	if (st == P11E_OK)
		st = cert_present(ctx, leaf, &present, &existing);
	if (st != P11E_OK)
		goto done;
	res->already = present;
	snprintf(res->label, sizeof(res->label), "%s", label ? label : res->key.label);
	if (present) {
		/* name the object that is there, whatever label was asked for now */
		unsigned char *v = NULL;
		CK_ULONG len = 0;

		if (p11e__attr_get(ctx, existing, CKA_LABEL, &v, &len) == P11E_OK &&
		    len < sizeof(res->label)) {
			memcpy(res->label, v, len);
			res->label[len] = '\0';
		}
		free(v);
		p11e__clear_error(ctx);
	}
	if (!present) {
		st = write_cert(ctx, leaf, res->label, res->key.id, res->key.id_len, 1,
		                &written[nwritten]);
		if (st != P11E_OK)
			goto done;
		nwritten++;
	}
	res->uri = p11e__object_uri(ctx, CKO_CERTIFICATE, res->label, res->key.id, res->key.id_len);

	for (int i = 0; i < sk_X509_num(cas); i++) {
		X509 *c = sk_X509_value(cas, i);
		unsigned char id[20];
		char lbl[129];

		/* a CA goes on as an authority; another client certificate does not */
		if (X509_check_ca(c) <= 0) {
			cert_label(c, lbl, sizeof(lbl));
			p11e__log(ctx, P11E_LOG_WARN,
			          "skipped certificate '%s': not a CA, and its key is not on the "
			          "token",
			          lbl);
			continue;
		}
		st = cert_present(ctx, c, &present, NULL);
		if (st != P11E_OK)
			break;
		if (present)
			continue;
		if (nwritten == sizeof(written) / sizeof(written[0])) {
			st = p11e__fail(ctx, P11E_ERR_INPUT,
			                "more than %zu certificates in one import", nwritten);
			break;
		}
		cert_label(c, lbl, sizeof(lbl));
		st = p11e__key_id_of(ctx, X509_get0_pubkey(c), id);
		if (st == P11E_OK)
			st = write_cert(ctx, c, lbl, id, sizeof(id), 2, &written[nwritten]);
		if (st != P11E_OK)
			break;
		nwritten++;
		res->chain_written++;
	}
done:
	if (st != P11E_OK) {
		/* nothing half-written: take back what this run put on the token */
		CK_RV saved_rv = ctx->last_rv;
		const char *saved_call = ctx->last_call;

		for (size_t i = 0; i < nwritten; i++)
			P11_CALL(ctx, C_DestroyObject, ctx->session, written[i]);
		ctx->last_rv = saved_rv;
		ctx->last_call = saved_call;
		p11e_import_result_clear(res);
	}
	p11e__token_unlock(ctx, &lock);
	sk_X509_free(cas);
	p11e_key_clear(&want);
	return st;
}

p11e_status p11e_import(p11e_ctx *ctx, const char *path, const char *chain_path,
                        const char *keyspec, const char *label, unsigned flags,
                        p11e_import_result *res)
{
	STACK_OF(X509) *certs = NULL, *chain = NULL;
	p11e_status st;

	p11e__clear_error(ctx);
	memset(res, 0, sizeof(*res));
	P11E__FLAGS_CHECK(ctx, "p11e_import", flags, P11E_IMPORT_ALLOW_EXPIRED);
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	if (!p11e__libctx(ctx))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up OpenSSL");
	st = p11e__certs_read(ctx, path, &certs);
	if (st == P11E_OK && chain_path)
		st = p11e__certs_read(ctx, chain_path, &chain);
	if (st == P11E_OK)
		st = p11e__import_stacks(ctx, certs, chain, keyspec, label, flags, res, path,
		                         chain_path);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(chain, X509_free);
	return st;
}
