/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * provider-sig.c - the signature side of our provider (provider.c):
 * "RSA" (PKCS#1 v1.5 and PSS) and "ECDSA" hash in software and sign the
 * digest on the token with C_Sign, through the context that owns the
 * logged-in session; the AlgorithmIdentifier is what OpenSSL's own would be.
 */
#include "config.h"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "provider.h"

struct sig_ctx {
	OSSL_LIB_CTX *libctx;
	struct prov_key *key;
	EVP_MD *md;
	EVP_MD_CTX *mdctx;
	int pss;     /* RSA: PSS instead of PKCS#1 v1.5 */
	int saltlen; /* PSS salt length; -1: the digest length */
	EVP_MD *mgf1;
};

/* --- signature ---------------------------------------------------------- */

static void *sig_newctx(void *provctx, const char *propq)
{
	struct sig_ctx *s = calloc(1, sizeof(*s));

	(void)propq;
	if (s) {
		s->libctx = provctx;
		s->saltlen = -1;
	}
	return s;
}

static void sig_freectx(void *vs)
{
	struct sig_ctx *s = vs;

	if (!s)
		return;
	EVP_MD_CTX_free(s->mdctx);
	EVP_MD_free(s->md);
	EVP_MD_free(s->mgf1);
	free(s);
}

static void *sig_dupctx(void *vs)
{
	struct sig_ctx *s = vs, *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	*d = *s;
	d->mdctx = NULL;
	if ((d->md && !EVP_MD_up_ref(d->md)) || (d->mgf1 && !EVP_MD_up_ref(d->mgf1))) {
		free(d);
		return NULL;
	}
	if (s->mdctx &&
	    (!(d->mdctx = EVP_MD_CTX_new()) || !EVP_MD_CTX_copy_ex(d->mdctx, s->mdctx))) {
		sig_freectx(d);
		return NULL;
	}
	return d;
}

static EVP_MD *fetch_md(OSSL_LIB_CTX *libctx, const char *name)
{
	return EVP_MD_fetch(libctx, name, "provider=default");
}

static int set_md(struct sig_ctx *s, const char *name, EVP_MD **slot)
{
	EVP_MD *md = fetch_md(s->libctx, name);

	if (!md)
		return 0;
	/* only the SHA-2 family: what CAs accept and tokens implement */
	switch (EVP_MD_get_type(md)) {
	case NID_sha256:
	case NID_sha384:
	case NID_sha512: break;
	default: EVP_MD_free(md); return 0;
	}
	EVP_MD_free(*slot);
	*slot = md;
	return 1;
}

static int sig_set_ctx_params(void *vs, const OSSL_PARAM params[])
{
	struct sig_ctx *s = vs;
	const OSSL_PARAM *p;
	const char *str;
	int i;

	if (!params)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE))) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING &&
		    OSSL_PARAM_get_utf8_string_ptr(p, &str))
			s->pss = strcmp(str, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0;
		else if (OSSL_PARAM_get_int(p, &i))
			s->pss = i == RSA_PKCS1_PSS_PADDING;
		else
			return 0;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN))) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING &&
		    OSSL_PARAM_get_utf8_string_ptr(p, &str))
			s->saltlen = strcmp(str, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0
			                     ? -1
			                     : atoi(str);
		else if (!OSSL_PARAM_get_int(p, &s->saltlen))
			return 0;
		if (s->saltlen < -1)
			s->saltlen = -1;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST)) &&
	    (!OSSL_PARAM_get_utf8_string_ptr(p, &str) || !set_md(s, str, &s->mgf1)))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST)) &&
	    (!OSSL_PARAM_get_utf8_string_ptr(p, &str) || !set_md(s, str, &s->md)))
		return 0;
	return 1;
}

static const OSSL_PARAM *sig_settable_ctx_params(void *vs, void *provctx)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_END,
	};

	(void)vs;
	(void)provctx;
	return types;
}

static int salt_len(const struct sig_ctx *s)
{
	return s->saltlen >= 0 ? s->saltlen : EVP_MD_get_size(s->md);
}

/* DER AlgorithmIdentifier of what we sign with: what goes into the CSR. */
static int algorithm_id(const struct sig_ctx *s, unsigned char **der)
{
	X509_ALGOR *alg = X509_ALGOR_new(), *mgf_md = NULL;
	RSA_PSS_PARAMS *pss = NULL;
	ASN1_STRING *packed = NULL;
	int sig_nid = NID_undef, len = -1;
	int key_nid =
		s->key->ref.type == P11E_KEY_RSA ? NID_rsaEncryption : NID_X9_62_id_ecPublicKey;

	if (!alg || !s->md)
		goto done;
	if (s->key->ref.type == P11E_KEY_RSA && s->pss) {
		pss = RSA_PSS_PARAMS_new();
		mgf_md = X509_ALGOR_new();
		if (!pss || !mgf_md || !(pss->hashAlgorithm = X509_ALGOR_new()) ||
		    !(pss->maskGenAlgorithm = X509_ALGOR_new()) ||
		    !(pss->saltLength = ASN1_INTEGER_new()))
			goto done;
		X509_ALGOR_set_md(pss->hashAlgorithm, s->md);
		X509_ALGOR_set_md(mgf_md, s->mgf1 ? s->mgf1 : s->md);
		if (!ASN1_item_pack(mgf_md, ASN1_ITEM_rptr(X509_ALGOR), &packed))
			goto done;
		X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE,
		                packed);
		packed = NULL;
		ASN1_INTEGER_set(pss->saltLength, salt_len(s));
		if (!ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), &packed))
			goto done;
		X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, packed);
		packed = NULL;
	} else {
		if (!OBJ_find_sigid_by_algs(&sig_nid, EVP_MD_get_type(s->md), key_nid))
			goto done;
		/* RSA PKCS#1 v1.5 carries a NULL parameter, ECDSA none (RFC 5754) */
		X509_ALGOR_set0(alg, OBJ_nid2obj(sig_nid),
		                key_nid == NID_rsaEncryption ? V_ASN1_NULL : V_ASN1_UNDEF, NULL);
	}
	len = i2d_X509_ALGOR(alg, der);
done:
	ASN1_STRING_free(packed);
	X509_ALGOR_free(mgf_md);
	RSA_PSS_PARAMS_free(pss);
	X509_ALGOR_free(alg);
	return len;
}

static int sig_get_ctx_params(void *vs, OSSL_PARAM params[])
{
	struct sig_ctx *s = vs;
	OSSL_PARAM *p;
	unsigned char *der = NULL;
	int len, ok = 1;

	if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID))) {
		len = algorithm_id(s, &der);
		ok = len > 0 && OSSL_PARAM_set_octet_string(p, der, (size_t)len);
		OPENSSL_free(der);
	}
	if (ok && (p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) && s->md)
		ok = OSSL_PARAM_set_utf8_string(p, EVP_MD_get0_name(s->md));
	return ok;
}

static const OSSL_PARAM *sig_gettable_ctx_params(void *vs, void *provctx)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_END,
	};

	(void)vs;
	(void)provctx;
	return types;
}

static int sig_init(void *vs, void *kd, const OSSL_PARAM params[])
{
	struct sig_ctx *s = vs;

	s->key = kd;
	if (!s->key || !s->key->ref.ctx)
		return 0;
	return sig_set_ctx_params(s, params);
}

static int sig_digest_init(void *vs, const char *mdname, void *kd, const OSSL_PARAM params[])
{
	struct sig_ctx *s = vs;

	if (!sig_init(vs, kd, params) || !set_md(s, mdname ? mdname : "SHA256", &s->md))
		return 0;
	EVP_MD_CTX_free(s->mdctx);
	s->mdctx = EVP_MD_CTX_new();
	return s->mdctx && EVP_DigestInit_ex2(s->mdctx, s->md, NULL);
}

static CK_MECHANISM_TYPE ck_hash(const EVP_MD *md, CK_RSA_PKCS_MGF_TYPE *mgf)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha384: *mgf = CKG_MGF1_SHA384; return CKM_SHA384;
	case NID_sha512: *mgf = CKG_MGF1_SHA512; return CKM_SHA512;
	default: *mgf = CKG_MGF1_SHA256; return CKM_SHA256;
	}
}

/* Sign a finished hash on the token and shape the result as X.509 wants. */
static int sign_hash(struct sig_ctx *s, unsigned char *sig, size_t *siglen, size_t sigsize,
                     const unsigned char *hash, size_t hashlen)
{
	p11e_ctx *ctx = s->key->ref.ctx;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	CK_RSA_PKCS_PSS_PARAMS pss;
	CK_RSA_PKCS_MGF_TYPE dummy;
	unsigned char *in = NULL, raw[1024];
	CK_ULONG inlen = (CK_ULONG)hashlen, rawlen = sizeof(raw);
	X509_SIG *di = NULL;
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *digest;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *sv = NULL;
	unsigned char *p;
	int ok = 0, len;
	CK_RV rv;

	if (s->key->ref.type == P11E_KEY_RSA && !s->pss) {
		/* CKM_RSA_PKCS signs a DigestInfo: every RSA token has it */
		di = X509_SIG_new();
		if (!di)
			goto done;
		X509_SIG_getm(di, &alg, &digest);
		if (!X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(s->md)), V_ASN1_NULL, NULL) ||
		    !ASN1_OCTET_STRING_set(digest, hash, (int)hashlen) ||
		    (len = i2d_X509_SIG(di, &in)) <= 0)
			goto done;
		inlen = (CK_ULONG)len;
	} else if (s->key->ref.type == P11E_KEY_RSA) {
		pss.hashAlg = ck_hash(s->md, &dummy);
		ck_hash(s->mgf1 ? s->mgf1 : s->md, &pss.mgf);
		pss.sLen = (CK_ULONG)salt_len(s);
		mech = (CK_MECHANISM){ CKM_RSA_PKCS_PSS, &pss, sizeof(pss) };
	} else {
		mech = (CK_MECHANISM){ CKM_ECDSA, NULL, 0 };
	}

	rv = P11_CALL(ctx, C_SignInit, ctx->session, &mech, s->key->ref.handle);
	if (rv == CKR_OK)
		rv = P11_CALL(ctx, C_Sign, ctx->session, in ? in : (unsigned char *)hash, inlen,
		              raw, &rawlen);
	if (rv != CKR_OK) {
		p11e__fail_rv(ctx, "signing on the token", ctx->last_call, rv);
		ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "%s", p11e_error_message(ctx));
		goto done;
	}
	/* the signature is read from raw by rawlen: never past it */
	if (p11e__len_check(ctx, "signing on the token", "C_Sign", rawlen, sizeof(raw)) !=
	    P11E_OK) {
		ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "%s", p11e_error_message(ctx));
		goto done;
	}
	if (s->key->ref.type == P11E_KEY_EC) {
		/* PKCS#11 gives r || s; X.509 wants a DER ECDSA-Sig-Value */
		es = ECDSA_SIG_new();
		r = BN_bin2bn(raw, (int)(rawlen / 2), NULL);
		sv = BN_bin2bn(raw + rawlen / 2, (int)(rawlen / 2), NULL);
		if (!es || !r || !sv || rawlen % 2 || !ECDSA_SIG_set0(es, r, sv))
			goto done;
		r = sv = NULL;
		len = i2d_ECDSA_SIG(es, NULL);
		if (len <= 0 || (size_t)len > sigsize)
			goto done;
		p = sig;
		i2d_ECDSA_SIG(es, &p);
		*siglen = (size_t)len;
	} else {
		if (rawlen > sigsize)
			goto done;
		memcpy(sig, raw, rawlen);
		*siglen = rawlen;
	}
	ok = 1;
done:
	BN_free(r);
	BN_free(sv);
	ECDSA_SIG_free(es);
	X509_SIG_free(di);
	OPENSSL_free(in);
	return ok;
}

static int sig_sign(void *vs, unsigned char *sig, size_t *siglen, size_t sigsize,
                    const unsigned char *tbs, size_t tbslen)
{
	struct sig_ctx *s = vs;

	if (!sig) {
		*siglen = (size_t)EVP_PKEY_get_size(s->key->ref.pub);
		return 1;
	}
	if (!s->md && !set_md(s, "SHA256", &s->md))
		return 0;
	if (tbslen != (size_t)EVP_MD_get_size(s->md))
		return 0;
	return sign_hash(s, sig, siglen, sigsize, tbs, tbslen);
}

static int sig_digest_update(void *vs, const unsigned char *data, size_t len)
{
	struct sig_ctx *s = vs;

	return s->mdctx && EVP_DigestUpdate(s->mdctx, data, len);
}

static int sig_digest_final(void *vs, unsigned char *sig, size_t *siglen, size_t sigsize)
{
	struct sig_ctx *s = vs;
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;

	if (!sig) {
		*siglen = (size_t)EVP_PKEY_get_size(s->key->ref.pub);
		return 1;
	}
	if (!s->mdctx || !EVP_DigestFinal_ex(s->mdctx, hash, &hlen))
		return 0;
	return sign_hash(s, sig, siglen, sigsize, hash, hlen);
}

static int sig_digest_sign(void *vs, unsigned char *sig, size_t *siglen, size_t sigsize,
                           const unsigned char *tbs, size_t tbslen)
{
	struct sig_ctx *s = vs;

	if (!sig) {
		*siglen = (size_t)EVP_PKEY_get_size(s->key->ref.pub);
		return 1;
	}
	return sig_digest_update(vs, tbs, tbslen) && sig_digest_final(vs, sig, siglen, sigsize);
}

const OSSL_DISPATCH p11e__prov_signature[] = {
	{ OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))sig_newctx },
	{ OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))sig_freectx },
	{ OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))sig_dupctx },
	{ OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void))sig_init },
	{ OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void))sig_sign },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))sig_digest_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))sig_digest_update },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))sig_digest_final },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))sig_digest_sign },
	{ OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))sig_get_ctx_params },
	{ OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))sig_gettable_ctx_params },
	{ OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))sig_set_ctx_params },
	{ OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))sig_settable_ctx_params },
	{ 0, NULL },
};
