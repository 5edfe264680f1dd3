/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * keygen.c - key pairs born on the token: non-exportable by construction
 * (the template) and by check (the attributes read back afterwards).
 */
#include "config.h"

#include <openssl/objects.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The URI of the first object with this attribute, for "already there". */
static p11e_status refuse_existing(p11e_ctx *ctx, CK_ATTRIBUTE *a, const char *what,
                                   const char *value)
{
	CK_OBJECT_HANDLE *found = NULL;
	CK_OBJECT_CLASS cls = 0;
	CK_ATTRIBUTE ca = { CKA_CLASS, &cls, sizeof(cls) };
	unsigned char *label = NULL, *id = NULL;
	CK_ULONG llen = 0, ilen = 0;
	char lbuf[129] = "", *uri;
	size_t n = 0, at = 0;
	p11e_status st;

	st = p11e__find_objects(ctx, a, 1, &found, &n);
	if (st != P11E_OK || n == 0) {
		free(found);
		return st;
	}
	/* name the private key if there is one: its URI is what --key and engines take */
	for (size_t i = 0; i < n; i++) {
		at = i;
		if (P11_CALL(ctx, C_GetAttributeValue, ctx->session, found[i], &ca, 1) == CKR_OK &&
		    cls == CKO_PRIVATE_KEY)
			break;
	}
	if (cls == CKO_PRIVATE_KEY) {
		/*
		 * Describing the key joins a pair an earlier keygen left split (its
		 * halves with different ids), so that what the URI names is usable;
		 * a key we cannot describe is still there and still refused.
		 */
		p11e_key k = { .label = "" };

		if (p11e__key_describe(ctx, found[at], &k) != P11E_OK)
			p11e__clear_error(ctx);
		p11e_key_clear(&k);
	}
	if (p11e__attr_get(ctx, found[at], CKA_LABEL, &label, &llen) == P11E_OK &&
	    llen < sizeof(lbuf))
		memcpy(lbuf, label, llen);
	p11e__attr_get(ctx, found[at], CKA_ID, &id, &ilen);
	uri = p11e__object_uri(ctx, cls, lbuf[0] ? lbuf : NULL, id, ilen);
	st = p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_KEY_EXISTS,
	                    "%s '%s' is already on token '%s' (%s)", what, value, ctx->slot.label,
	                    uri ? uri : "?");
	free(uri);
	free(label);
	free(id);
	free(found);
	return st;
}

static void hex(char *out, size_t outlen, const unsigned char *v, size_t n)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n && 2 * i + 2 < outlen; i++)
		snprintf(out + 2 * i, 3, "%02x", v[i]);
}

static void destroy_pair(p11e_ctx *ctx, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv)
{
	/* the failure being reported is the one before this cleanup */
	CK_RV saved_rv = ctx->last_rv;
	const char *saved_call = ctx->last_call;

	if (priv && P11_CALL(ctx, C_DestroyObject, ctx->session, priv) != CKR_OK)
		p11e__log(ctx, P11E_LOG_WARN, "could not destroy the new private key");
	if (pub && P11_CALL(ctx, C_DestroyObject, ctx->session, pub) != CKR_OK)
		p11e__log(ctx, P11E_LOG_WARN, "could not destroy the new public key");
	ctx->last_rv = saved_rv;
	ctx->last_call = saved_call;
}

/* The token must have honoured the template: check what it says now. */
static p11e_status check_attributes(p11e_ctx *ctx, const p11e_key *k)
{
	char bad[200];

	if (!p11e__key_exposed(k, bad, sizeof(bad)))
		return P11E_OK;
	return p11e__fail(ctx, P11E_ERR_POLICY,
	                  "token '%s' did not honour the non-exportable key template (%s): the "
	                  "new key pair was destroyed",
	                  ctx->slot.label, bad);
}

/* The token's RSA size limits, before anything is generated. */
static p11e_status check_rsa_size(p11e_ctx *ctx, const struct p11e__quirks *q, unsigned bits)
{
	if (q->max_rsa_bits && bits > q->max_rsa_bits)
		return p11e__fail(ctx, P11E_ERR_POLICY,
		                  "token '%s' takes RSA keys of at most %u bits, not %u (token "
		                  "quirk "
		                  "file %s): no key was made",
		                  ctx->slot.label, q->max_rsa_bits, bits, q->file);
	if (q->min_rsa_bits && bits < q->min_rsa_bits)
		return p11e__fail(ctx, P11E_ERR_POLICY,
		                  "token '%s' takes RSA keys of at least %u bits, not %u (token "
		                  "quirk "
		                  "file %s): no key was made",
		                  ctx->slot.label, q->min_rsa_bits, bits, q->file);
	return P11E_OK;
}

/*
 * Ask the token (C_GetMechanismInfo) whether it makes this kind of key at
 * this size, before anything is generated: a token that lacks the mechanism
 * or whose range leaves the size out is refused with the range in the
 * message.  Sizes are bits (RSA: the modulus, EC: the field); a token that
 * gives no range (0) or a range that cannot be bits is not held to it.
 */
static p11e_status check_mechanism(p11e_ctx *ctx, p11e_key_type kt, unsigned bits, const char *type)
{
	CK_MECHANISM_TYPE m = kt == P11E_KEY_RSA ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN;
	const char *mname =
		kt == P11E_KEY_RSA ? "CKM_RSA_PKCS_KEY_PAIR_GEN" : "CKM_EC_KEY_PAIR_GEN";
	CK_MECHANISM_INFO info;
	CK_RV rv;

	memset(&info, 0, sizeof(info));
	rv = P11_CALL(ctx, C_GetMechanismInfo, ctx->slot.slot_id, m, &info);
	if (rv == CKR_MECHANISM_INVALID)
		return p11e__fail_why(ctx, P11E_ERR_POLICY, P11E_REASON_KEY_TYPE_UNSUPPORTED,
		                      "token '%s' cannot make %s keys (it has no %s): no key was "
		                      "made",
		                      ctx->slot.label, kt == P11E_KEY_RSA ? "RSA" : "EC", mname);
	if (rv != CKR_OK) {
		/* the generation itself will say what the token thinks */
		p11e__log(ctx, P11E_LOG_DEBUG,
		          "C_GetMechanismInfo(%s) failed (%s): size not checked", mname,
		          p11e_rv_name(rv));
		return P11E_OK;
	}
	if (!(info.flags & CKF_GENERATE_KEY_PAIR))
		return p11e__fail_why(ctx, P11E_ERR_POLICY, P11E_REASON_KEY_TYPE_UNSUPPORTED,
		                      "token '%s' does not generate key pairs with %s: no key was "
		                      "made",
		                      ctx->slot.label, mname);
	if (info.ulMaxKeySize < (kt == P11E_KEY_RSA ? 512 : 160) ||
	    info.ulMinKeySize > info.ulMaxKeySize) {
		p11e__log(ctx, P11E_LOG_DEBUG, "%s gives the range %lu..%lu, not bits: not checked",
		          mname, (unsigned long)info.ulMinKeySize,
		          (unsigned long)info.ulMaxKeySize);
		return P11E_OK;
	}
	if (bits < info.ulMinKeySize || bits > info.ulMaxKeySize)
		return p11e__fail_why(ctx, P11E_ERR_POLICY, P11E_REASON_KEY_TYPE_UNSUPPORTED,
		                      "token '%s' makes %s keys of %lu to %lu bits, not %s (%u "
		                      "bits): no key was made",
		                      ctx->slot.label, kt == P11E_KEY_RSA ? "RSA" : "EC",
		                      (unsigned long)info.ulMinKeySize,
		                      (unsigned long)info.ulMaxKeySize, type, bits);
	return P11E_OK;
}

static p11e_status keygen_locked(p11e_ctx *ctx, const char *type, const char *label,
                                 const unsigned char *id, size_t id_len, int label_free,
                                 p11e_key *key);

/*
 * The new pair described from the handles C_GenerateKeyPair gave, not by a
 * search for the public half's CKA_ID: a token that keeps no index
 * (SoftHSMv2) reads every object of the token for a search, so that apply's
 * run of many keys grew with the square of their number.  That the token
 * linked the halves by id, the public half's CKA_ID read back says.
 */
static p11e_status describe_new(p11e_ctx *ctx, CK_OBJECT_HANDLE hpub, CK_OBJECT_HANDLE hpriv,
                                p11e_key *key)
{
	unsigned char id[sizeof(key->id)] = { 0 };
	CK_ATTRIBUTE a = { CKA_ID, id, sizeof(id) };
	p11e_status st = p11e__key_read(ctx, hpriv, key);
	CK_RV rv;

	if (st != P11E_OK)
		return st;
	rv = P11_CALL(ctx, C_GetAttributeValue, ctx->session, hpub, &a, 1);
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "reading the new public key", "C_GetAttributeValue", rv);
	if (!key->id_len || a.ulValueLen != key->id_len || memcmp(id, key->id, key->id_len) != 0)
		return p11e__fail(ctx, P11E_ERR_TOKEN, "the token did not link the key pair by id");
	key->pub_handle = hpub;
	return p11e__key_finish(ctx, key);
}

/*
 * From "is the label free?" to the final CKA_ID, one p11enroll at a time:
 * two keygens of one label must not both find it free.
 */
static p11e_status keygen(p11e_ctx *ctx, const char *type, const char *label,
                          const unsigned char *id, size_t id_len, int label_free, p11e_key *key)
{
	int lock = -1;
	p11e_status st;

	p11e__clear_error(ctx);
	memset(key, 0, sizeof(*key));
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	st = p11e__token_lock(ctx, &lock);
	if (st == P11E_OK)
		st = keygen_locked(ctx, type, label, id, id_len, label_free, key);
	p11e__token_unlock(ctx, &lock);
	return st;
}

p11e_status p11e_keygen(p11e_ctx *ctx, const char *type, const char *label, const unsigned char *id,
                        size_t id_len, p11e_key *key)
{
	return keygen(ctx, type, label, id, id_len, 0, key);
}

p11e_status p11e__keygen_label_free(p11e_ctx *ctx, const char *type, const char *label,
                                    const unsigned char *id, size_t id_len, p11e_key *key)
{
	return keygen(ctx, type, label, id, id_len, 1, key);
}

static p11e_status keygen_locked(p11e_ctx *ctx, const char *type, const char *label,
                                 const unsigned char *id, size_t id_len, int label_free,
                                 p11e_key *key)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
	CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY, priv_class = CKO_PRIVATE_KEY;
	CK_KEY_TYPE ktype;
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_ULONG modulus_bits;
	CK_ATTRIBUTE pub[10], priv[12], probe;
	CK_ULONG npub = 0, npriv = 0;
	CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
	const struct p11e__quirks *q = p11e__quirks_get(ctx);
	unsigned char *ec_params = NULL, *p, tmp_id[20], sha_id[20];
	int ec_params_len = 0;
	p11e_key_type kt;
	unsigned bits;
	const char *curve;
	EVP_PKEY *pkey = NULL;
	char idhex[130];
	p11e_status st;
	CK_RV rv;

	p11e__clear_error(ctx);
	memset(key, 0, sizeof(*key));
	st = p11e_key_type_parse(ctx, type, &kt, &bits, &curve);
	if (st != P11E_OK)
		return st;
	if (!label || !*label || strlen(label) > 128)
		return p11e__fail(ctx, P11E_ERR_USAGE, "a key label of 1 to 128 bytes is needed");
	if (id_len > sizeof(key->id))
		return p11e__fail(ctx, P11E_ERR_USAGE, "the id is longer than %zu bytes",
		                  sizeof(key->id));
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	if (kt == P11E_KEY_RSA && (st = check_rsa_size(ctx, q, bits)) != P11E_OK)
		return st;
	if ((st = check_mechanism(ctx, kt, bits, type ? type : "rsa:2048")) != P11E_OK)
		return st;

	/* label_free: the caller searched for the label under the lock a moment ago */
	probe = (CK_ATTRIBUTE){ CKA_LABEL, (void *)label, strlen(label) };
	st = label_free ? P11E_OK : refuse_existing(ctx, &probe, "label", label);
	if (st == P11E_OK && id_len) {
		hex(idhex, sizeof(idhex), id, id_len);
		probe = (CK_ATTRIBUTE){ CKA_ID, (void *)id, id_len };
		st = refuse_existing(ctx, &probe, "id", idhex);
	}
	if (st != P11E_OK)
		return st;
	if (!id_len) {
		/* a temporary random id links the halves until the real one is known */
		if (RAND_bytes(tmp_id, sizeof(tmp_id)) != 1)
			return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "no random bytes");
		id = tmp_id;
		id_len = sizeof(tmp_id);
	}

#define ADD(t, type_, val, len) t[n##t++] = (CK_ATTRIBUTE){ type_, (void *)(val), len }
	ADD(pub, CKA_CLASS, &pub_class, sizeof(pub_class));
	ADD(pub, CKA_TOKEN, &yes, sizeof(yes));
	ADD(pub, CKA_PRIVATE, &no, sizeof(no));
	/*
	 * A token that maps CKA_VERIFY and CKA_DECRYPT onto one attribute of its
	 * own (tpm2-pkcs11: TPMA_OBJECT_DECRYPT) refuses the pair of them; its
	 * quirk file declares that, and both are left to the token's default.
	 */
	if (!q->key_may_decrypt)
		ADD(pub, CKA_VERIFY, &yes, sizeof(yes));
	ADD(pub, CKA_LABEL, label, strlen(label));
	ADD(pub, CKA_ID, id, id_len);
	ADD(priv, CKA_CLASS, &priv_class, sizeof(priv_class));
	ADD(priv, CKA_TOKEN, &yes, sizeof(yes));
	ADD(priv, CKA_PRIVATE, &yes, sizeof(yes));
	ADD(priv, CKA_SENSITIVE, &yes, sizeof(yes));
	/* the read-back below still requires never-extractable */
	if (!q->omit_extractable)
		ADD(priv, CKA_EXTRACTABLE, &no, sizeof(no));
	else
		p11e__log(ctx, P11E_LOG_INFO,
		          "CKA_EXTRACTABLE left out of the template (token quirk file %s)",
		          q->file);
	ADD(priv, CKA_SIGN, &yes, sizeof(yes));
	if (!q->key_may_decrypt)
		ADD(priv, CKA_DECRYPT, &no, sizeof(no));
	ADD(priv, CKA_UNWRAP, &no, sizeof(no));
	ADD(priv, CKA_LABEL, label, strlen(label));
	ADD(priv, CKA_ID, id, id_len);
	if (kt == P11E_KEY_RSA) {
		ktype = CKK_RSA;
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		modulus_bits = bits;
		ADD(pub, CKA_KEY_TYPE, &ktype, sizeof(ktype));
		ADD(pub, CKA_MODULUS_BITS, &modulus_bits, sizeof(modulus_bits));
		ADD(pub, CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent));
	} else {
		ktype = CKK_EC;
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		ec_params_len = i2d_ASN1_OBJECT(OBJ_nid2obj(p11e__curve_nid(curve)), NULL);
		if (ec_params_len <= 0 || !(ec_params = malloc((size_t)ec_params_len)))
			return p11e__fail(ctx, P11E_ERR_FAILED, "cannot encode the curve");
		p = ec_params;
		i2d_ASN1_OBJECT(OBJ_nid2obj(p11e__curve_nid(curve)), &p);
		ADD(pub, CKA_KEY_TYPE, &ktype, sizeof(ktype));
		ADD(pub, CKA_EC_PARAMS, ec_params, (CK_ULONG)ec_params_len);
	}
	ADD(priv, CKA_KEY_TYPE, &ktype, sizeof(ktype));
#undef ADD

	rv = P11_CALL(ctx, C_GenerateKeyPair, ctx->session, &mech, pub, npub, priv, npriv, &hpub,
	              &hpriv);
	free(ec_params);
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
	    rv == CKR_TEMPLATE_INCONSISTENT) {
		/* which attribute, the token does not say: name the ones it may lack */
		char said[sizeof(ctx->message)];

		p11e__fail_rv(ctx, "generating the key pair", "C_GenerateKeyPair", rv);
		memcpy(said, ctx->message, sizeof(said));
		return p11e__fail(ctx, p11e__rv_status(rv),
		                  "%s; the template's optional attributes were%s%s%s (a token "
		                  "quirk "
		                  "file can leave them out)",
		                  said, q->key_may_decrypt ? "" : " CKA_VERIFY, CKA_DECRYPT=FALSE,",
		                  q->omit_extractable ? "" : " CKA_EXTRACTABLE=FALSE,",
		                  " CKA_UNWRAP=FALSE");
	}
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "generating the key pair", "C_GenerateKeyPair", rv);

	/* from here on, any failure destroys the new pair: nothing half-made stays */
	st = describe_new(ctx, hpub, hpriv, key);
	if (st == P11E_OK)
		st = check_attributes(ctx, key);
	if (st == P11E_OK && id == tmp_id && !q->set_id_after_generation) {
		hex(idhex, sizeof(idhex), tmp_id, sizeof(tmp_id));
		p11e__log(ctx, P11E_LOG_NOTE,
		          "token '%s' cannot change CKA_ID after generation (token quirk file %s): "
		          "the key pair keeps the random id %s; an id given beforehand is kept "
		          "instead",
		          ctx->slot.label, q->file, idhex);
	} else if (st == P11E_OK && id == tmp_id) {
		CK_ATTRIBUTE set = { CKA_ID, sha_id, sizeof(sha_id) };

		st = p11e__key_public(ctx, key, &pkey);
		if (st == P11E_OK)
			st = p11e__key_id_of(ctx, pkey, sha_id);
		if (st == P11E_OK) {
			hex(idhex, sizeof(idhex), sha_id, sizeof(sha_id));
			st = refuse_existing(ctx, &set, "id", idhex);
		}
		if (st == P11E_OK &&
		    ((rv = P11_CALL(ctx, C_SetAttributeValue, ctx->session, hpriv, &set, 1)) !=
		             CKR_OK ||
		     (rv = P11_CALL(ctx, C_SetAttributeValue, ctx->session, hpub, &set, 1)) !=
		             CKR_OK)) {
			st = p11e__fail_rv(ctx, "setting the key id after generation",
			                   "C_SetAttributeValue", rv);
			ctx->reason = P11E_REASON_KEY_ID_UNSETTABLE;
		}
		if (st == P11E_OK)
			st = describe_new(ctx, hpub, hpriv, key);
	}
	EVP_PKEY_free(pkey);
	if (st != P11E_OK) {
		destroy_pair(ctx, hpub, hpriv);
		p11e_key_clear(key);
		return st;
	}
	/* the relaxation declared in the quirk file, as the key reads back */
	if (q->key_may_decrypt && key->decrypt == 1)
		p11e__log(ctx, P11E_LOG_NOTE, "this token's keys may also decrypt (tokens/%s)",
		          q->file);
	return P11E_OK;
}
