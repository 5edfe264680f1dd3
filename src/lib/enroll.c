/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enroll.c - key and request in one step, and safe to run again: a key
 * with the label and no certificate yet is reused, never duplicated, also
 * by two runs at once: the look-up and the key generation happen under the
 * token's lock (lock.c), so the second run finds the first one's key.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * The one private key with this label: *found 1, or 0 for none, or an
 * error; *taken: some object (of any class) has the label.  One search for
 * every class, so that keygen need not search for the label again (a token
 * without an index, SoftHSMv2, reads every object for a search).
 */
static p11e_status find_by_label(p11e_ctx *ctx, const char *label, p11e_key *key, int *found,
                                 int *taken)
{
	CK_ATTRIBUTE tmpl = { CKA_LABEL, (void *)label, strlen(label) };
	CK_OBJECT_HANDLE *hits = NULL;
	size_t n = 0, npriv = 0;
	p11e_status st;

	*found = 0;
	st = p11e__find_objects(ctx, &tmpl, 1, &hits, &n);
	*taken = st != P11E_OK || n > 0;
	/* the private keys among them, to the front of hits */
	for (size_t i = 0; st == P11E_OK && i < n; i++) {
		CK_OBJECT_CLASS cls = 0;
		CK_ATTRIBUTE ca = { CKA_CLASS, &cls, sizeof(cls) };
		CK_RV rv = P11_CALL(ctx, C_GetAttributeValue, ctx->session, hits[i], &ca, 1);

		if (rv != CKR_OK)
			st = p11e__fail_rv(ctx, "reading an object's class", "C_GetAttributeValue",
			                   rv);
		else if (cls == CKO_PRIVATE_KEY)
			hits[npriv++] = hits[i];
	}
	if (st == P11E_OK && npriv > 1)
		st = p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_KEY_AMBIGUOUS,
		                    "%zu private keys are labelled '%s'", npriv, label);
	if (st == P11E_OK && npriv == 1) {
		st = p11e__key_describe(ctx, hits[0], key);
		*found = st == P11E_OK;
	}
	free(hits);
	return st;
}

static int same_type(const p11e_key *k, p11e_key_type kt, unsigned bits, const char *curve)
{
	if (k->type != kt)
		return 0;
	if (kt == P11E_KEY_RSA)
		return k->bits == bits;
	return curve && strcmp(k->curve, curve) == 0;
}

p11e_status p11e_enroll(p11e_ctx *ctx, const char *type, const char *label, const unsigned char *id,
                        size_t id_len, const p11e_req *o, p11e_format format, p11e_key *key,
                        int *reused, unsigned char **out, size_t *outlen)
{
	X509_REQ *req = NULL;
	const char *md = NULL, *curve;
	p11e_key_type kt;
	unsigned bits;
	size_t certs = 0;
	int found = 0, taken = 1, lock = -1;
	char bad[200];
	p11e_status st;

	p11e__clear_error(ctx);
	o = p11e__req_or_empty(o);
	memset(key, 0, sizeof(*key));
	*reused = 0;
	*out = NULL;
	*outlen = 0;
	if (format != P11E_FORMAT_PEM && format != P11E_FORMAT_DER)
		return p11e__fail(ctx, P11E_ERR_USAGE, "p11e_enroll: unknown format %d",
		                  (int)format);
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	st = p11e_key_type_parse(ctx, type, &kt, &bits, &curve);
	if (st != P11E_OK)
		return st;
	if (!label || !*label)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_LABEL_MISSING,
		                      "a key label is needed");
	/* bad request input must not leave a new key behind: check it first */
	st = p11e__req_prepare(ctx, o, &req, &md);
	if (st != P11E_OK)
		return st;
	/* find-or-create: one process at a time; what it finds is what the last one made */
	st = p11e__token_lock(ctx, &lock);
	if (st == P11E_OK)
		st = find_by_label(ctx, label, key, &found, &taken);
	if (st == P11E_OK && found) {
		if (!same_type(key, kt, bits, curve)) {
			char have[32];

			if (key->type == P11E_KEY_RSA)
				snprintf(have, sizeof(have), "rsa:%u", key->bits);
			else
				snprintf(have, sizeof(have), "ec:%s", key->curve);
			st = p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_KEY_TYPE_MISMATCH,
			                    "key '%s' on the token is %s, not %s", label, have,
			                    type ? type : "rsa:2048");
		} else if (id_len && (id_len != key->id_len || memcmp(id, key->id, id_len) != 0))
			st = p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_KEY_ID_MISMATCH,
			                    "key '%s' is on the token with another id", label);
		else if (p11e__key_exposed(key, bad, sizeof(bad)))
			/* enroll vouches for the key it hands on: one that may have left
			 * the token is not reused for a new identity */
			st = p11e__fail(ctx, P11E_ERR_POLICY,
			                "key '%s' on the token is not one born there that never "
			                "left "
			                "it (%s): it is not reused; choose another label",
			                label, bad);
		else if ((st = p11e__key_cert_count(ctx, key, &certs)) == P11E_OK && certs)
			st = p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_KEY_HAS_CERT,
			                    "key '%s' already has a certificate on the token",
			                    label);
		*reused = st == P11E_OK;
	} else if (st == P11E_OK) {
		/* a key the profile would refuse is never made */
		if (o->profile)
			st = p11e__profile_check_type(ctx, o->profile, kt, bits, curve);
		if (st == P11E_OK)
			st = taken ? p11e_keygen(ctx, type, label, id, id_len, key)
			           : p11e__keygen_label_free(ctx, type, label, id, id_len, key);
	}
	/* the key is complete (its final CKA_ID set): others may find it now */
	p11e__token_unlock(ctx, &lock);
	if (st == P11E_OK)
		st = p11e__req_finish(ctx, key, o, format, md, req, out, outlen);
	if (st != P11E_OK)
		p11e_key_clear(key);
	X509_REQ_free(req);
	return st;
}
