/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * keys.c - what a key on the token is: its type and size, its attributes,
 * its CKA_ID, and its public half as a software key (for CSRs and checks).
 */
#include "config.h"

#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void p11e_key_clear(p11e_key *key)
{
	if (!key)
		return;
	free(key->uri);
	memset(key, 0, sizeof(*key));
}

static const struct {
	const char *name; /* ours */
	const char *sn;   /* OpenSSL's */
	int nid;
} curves[] = {
	{ "P-256", "prime256v1", NID_X9_62_prime256v1 },
	{ "P-384", "secp384r1", NID_secp384r1 },
	{ "P-521", "secp521r1", NID_secp521r1 },
};

p11e_status p11e_key_type_parse(p11e_ctx *ctx, const char *type, p11e_key_type *kt, unsigned *bits,
                                const char **curve)
{
	size_t i;

	*curve = NULL;
	*bits = 0;
	if (!type || strcmp(type, "rsa") == 0 || strcmp(type, "rsa:2048") == 0) {
		*kt = P11E_KEY_RSA;
		*bits = 2048;
		return P11E_OK;
	}
	if (strcmp(type, "rsa:3072") == 0 || strcmp(type, "rsa:4096") == 0) {
		*kt = P11E_KEY_RSA;
		*bits = (unsigned)atoi(type + 4);
		return P11E_OK;
	}
	if (strcmp(type, "ec") == 0)
		type = "ec:P-256";
	if (strncmp(type, "ec:", 3) == 0) {
		for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
			if (strcasecmp(type + 3, curves[i].name) == 0 ||
			    strcmp(type + 3, curves[i].sn) == 0) {
				*kt = P11E_KEY_EC;
				*curve = curves[i].name;
				*bits = strcmp(curves[i].name, "P-521") == 0
				                ? 521
				                : (unsigned)atoi(curves[i].name + 2);
				return P11E_OK;
			}
		}
	}
	return p11e__fail(ctx, P11E_ERR_USAGE,
	                  "unknown key type '%s': use rsa:2048, rsa:3072, rsa:4096, ec:P-256, "
	                  "ec:P-384 or ec:P-521",
	                  type);
}

int p11e__curve_nid(const char *name)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(name, curves[i].name) == 0)
			return curves[i].nid;
	return NID_undef;
}

static const char *curve_of_nid(int nid)
{
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].nid == nid)
			return curves[i].name;
	return NULL;
}

/* RSA public key from CKA_MODULUS / CKA_PUBLIC_EXPONENT of object h. */
static p11e_status rsa_public(p11e_ctx *ctx, CK_OBJECT_HANDLE h, EVP_PKEY **pkey)
{
	unsigned char *n = NULL, *e = NULL;
	CK_ULONG nlen = 0, elen = 0;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	p11e_status st;

	st = p11e__attr_get(ctx, h, CKA_MODULUS, &n, &nlen);
	if (st == P11E_OK)
		st = p11e__attr_get(ctx, h, CKA_PUBLIC_EXPONENT, &e, &elen);
	if (st != P11E_OK)
		goto cleanup;
	st = P11E_ERR_FAILED;
	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)))
		goto ossl_fail;
	pctx = EVP_PKEY_CTX_new_from_name(p11e__libctx(ctx), "RSA", "provider=default");
	if (!pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto ossl_fail;
	st = P11E_OK;
	goto cleanup;
ossl_fail:
	st = p11e__fail_ossl(ctx, P11E_ERR_TOKEN, "the token's RSA public key is unusable");
cleanup:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return st;
}

/* EC public key from CKA_EC_PARAMS / CKA_EC_POINT of the public object h. */
static p11e_status ec_public(p11e_ctx *ctx, CK_OBJECT_HANDLE h, EVP_PKEY **pkey)
{
	unsigned char *params_der = NULL, *point_der = NULL;
	CK_ULONG plen = 0, qlen = 0;
	const unsigned char *p;
	ASN1_OBJECT *oid = NULL;
	ASN1_OCTET_STRING *os = NULL;
	const unsigned char *q;
	size_t q_len;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pctx = NULL;
	const char *sn;
	p11e_status st;

	st = p11e__attr_get(ctx, h, CKA_EC_PARAMS, &params_der, &plen);
	if (st == P11E_OK)
		st = p11e__attr_get(ctx, h, CKA_EC_POINT, &point_der, &qlen);
	if (st != P11E_OK)
		goto cleanup;
	p = params_der;
	oid = d2i_ASN1_OBJECT(NULL, &p, (long)plen);
	sn = oid ? OBJ_nid2sn(OBJ_obj2nid(oid)) : NULL;
	if (!sn || !curve_of_nid(OBJ_obj2nid(oid))) {
		st = p11e__fail(ctx, P11E_ERR_TOKEN, "the key's curve is not one we support");
		goto cleanup;
	}
	/* PKCS#11 says DER OCTET STRING; some tokens hand back the bare point */
	p = point_der;
	os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)qlen);
	if (os && p == point_der + qlen) {
		q = ASN1_STRING_get0_data(os);
		q_len = (size_t)ASN1_STRING_length(os);
	} else {
		q = point_der;
		q_len = qlen;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)sn, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)q, q_len);
	params[2] = OSSL_PARAM_construct_end();
	pctx = EVP_PKEY_CTX_new_from_name(p11e__libctx(ctx), "EC", "provider=default");
	if (!pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		st = p11e__fail_ossl(ctx, P11E_ERR_TOKEN, "the token's EC public key is unusable");
cleanup:
	EVP_PKEY_CTX_free(pctx);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(oid);
	free(params_der);
	free(point_der);
	return st;
}

p11e_status p11e__key_public(p11e_ctx *ctx, const p11e_key *key, EVP_PKEY **pkey)
{
	*pkey = NULL;
	if (!p11e__libctx(ctx))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up OpenSSL");
	if (key->type == P11E_KEY_RSA)
		/* an RSA private key carries modulus and exponent itself */
		return rsa_public(ctx, key->pub_handle ? key->pub_handle : key->handle, pkey);
	if (!key->pub_handle)
		return p11e__fail(ctx, P11E_ERR_NOT_FOUND,
		                  "EC key '%s' has no public key object with its id on the token",
		                  key->label);
	return ec_public(ctx, key->pub_handle, pkey);
}

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }, DER */
static int rsa_public_der(EVP_PKEY *pub, unsigned char **der)
{
	static const char *const names[2] = { OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E };
	STACK_OF(ASN1_TYPE) *seq = sk_ASN1_TYPE_new_null();
	int len = -1, ok = seq != NULL;

	for (int i = 0; ok && i < 2; i++) {
		BIGNUM *bn = NULL;
		ASN1_INTEGER *ai = NULL;
		ASN1_TYPE *t = NULL;

		ok = EVP_PKEY_get_bn_param(pub, names[i], &bn) &&
		     (ai = BN_to_ASN1_INTEGER(bn, NULL)) && (t = ASN1_TYPE_new());
		if (ok) {
			ASN1_TYPE_set(t, V_ASN1_INTEGER, ai);
			ai = NULL;
			ok = sk_ASN1_TYPE_push(seq, t) > 0;
			if (ok)
				t = NULL;
		}
		ASN1_TYPE_free(t);
		ASN1_INTEGER_free(ai);
		BN_free(bn);
	}
	if (ok)
		len = i2d_ASN1_SEQUENCE_ANY(seq, der);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return len;
}

/*
 * pub's SubjectPublicKeyInfo into spki, put together from its parameters
 * (rsaEncryption with NULL and RSAPublicKey; id-ecPublicKey with the named
 * curve and the uncompressed point), as OpenSSL's encoder writes it: the
 * encoder of OpenSSL 3.0 looks itself up anew each time, a seventh of the
 * cost of a request.
 */
int p11e__spki_set(X509_PUBKEY *spki, EVP_PKEY *pub)
{
	unsigned char *bits = NULL;
	size_t blen = 0;
	char group[64];
	int len, nid;

	if (EVP_PKEY_is_a(pub, "RSA")) {
		if ((len = rsa_public_der(pub, &bits)) <= 0)
			return 0;
		if (X509_PUBKEY_set0_param(spki, OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, NULL,
		                           bits, len))
			return 1;
		OPENSSL_free(bits);
		return 0;
	}
	if (!EVP_PKEY_is_a(pub, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                    NULL) ||
	    (nid = OBJ_sn2nid(group)) == NID_undef ||
	    !EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0,
	                                     &blen) ||
	    !(bits = OPENSSL_malloc(blen ? blen : 1)) ||
	    !EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, bits, blen,
	                                     &blen)) {
		OPENSSL_free(bits);
		return 0;
	}
	if (X509_PUBKEY_set0_param(spki, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
	                           OBJ_nid2obj(nid), bits, (int)blen))
		return 1;
	OPENSSL_free(bits);
	return 0;
}

p11e_status p11e__key_id_of(p11e_ctx *ctx, EVP_PKEY *pkey, unsigned char id[20])
{
	X509_PUBKEY *xpk = X509_PUBKEY_new();
	const unsigned char *bits = NULL;
	int bits_len = 0;
	unsigned int mdlen = 0;
	EVP_MD *sha1 = EVP_MD_fetch(p11e__libctx(ctx), "SHA1", "provider=default");
	p11e_status st = P11E_OK;

	if (!sha1 || !xpk || !p11e__spki_set(xpk, pkey) ||
	    !X509_PUBKEY_get0_param(NULL, &bits, &bits_len, NULL, xpk) ||
	    !EVP_Digest(bits, (size_t)bits_len, id, &mdlen, sha1, NULL) || mdlen != 20)
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot hash the public key");
	X509_PUBKEY_free(xpk);
	EVP_MD_free(sha1);
	return st;
}

static int flag_of(const CK_ATTRIBUTE *a)
{
	if (a->ulValueLen != sizeof(CK_BBOOL))
		return -1;
	return *(const CK_BBOOL *)a->pValue == CK_TRUE;
}

p11e_status p11e__key_read(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key)
{
	return p11e__key_read_sized(ctx, h, key, NULL, 0);
}

p11e_status p11e__key_read_sized(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key,
                                 unsigned char *modulus, CK_ULONG room)
{
	return p11e__key_read_more(ctx, h, key, modulus, room, NULL, 0);
}

p11e_status p11e__key_read_more(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key,
                                unsigned char *modulus, CK_ULONG room, CK_ATTRIBUTE *more,
                                CK_ULONG nmore)
{
	CK_KEY_TYPE kt = (CK_KEY_TYPE)-1;
	CK_BBOOL f[6] = { 0 };
	/* zeroed: a module may report a length longer than what it wrote */
	unsigned char id[sizeof(key->id)] = { 0 };
	char label[sizeof(key->label) - 1] = { 0 };
	/* one call for all of it: listing a big token costs one call a key */
	CK_ATTRIBUTE a[] = {
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_LABEL, label, sizeof(label) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_SENSITIVE, &f[0], sizeof(f[0]) },
		{ CKA_EXTRACTABLE, &f[1], sizeof(f[1]) },
		{ CKA_ALWAYS_SENSITIVE, &f[2], sizeof(f[2]) },
		{ CKA_NEVER_EXTRACTABLE, &f[3], sizeof(f[3]) },
		{ CKA_LOCAL, &f[4], sizeof(f[4]) },
		{ CKA_DECRYPT, &f[5], sizeof(f[5]) },
		/* an RSA key's size in the same call (an EC key has none) */
		{ CKA_MODULUS, modulus, room },
		/* room for the caller's attributes, read along */
		{ 0, NULL, 0 },
		{ 0, NULL, 0 },
		{ 0, NULL, 0 },
		{ 0, NULL, 0 },
	};
	CK_ULONG n = 9 + (modulus ? 1 : 0), i;
	CK_RV rv;
	int filled;

	if (nmore > 4)
		return p11e__fail(ctx, P11E_ERR_USAGE, "p11e__key_read_more: %lu attributes",
		                  nmore);
	for (i = 0; i < nmore; i++)
		a[n + i] = more[i];
	p11e_key_clear(key);
	key->handle = h;
	rv = P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, a, n + nmore);
	/*
	 * These codes still fill every attribute that fits (PKCS#11 2.40, 5.7);
	 * any other means the token failed, which is never read as "no label".
	 */
	filled = rv == CKR_OK || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	         rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_BUFFER_TOO_SMALL;
	for (i = 0; i < nmore; i++)
		more[i].ulValueLen = filled ? a[n + i].ulValueLen : CK_UNAVAILABLE_INFORMATION;
	if (!filled)
		return p11e__fail_rv(ctx, "reading the key", "C_GetAttributeValue", rv);
	/* a label or id too long for us is left out, as other tools' keys may have them */
	if (a[0].ulValueLen != sizeof(kt))
		return p11e__fail(ctx, P11E_ERR_TOKEN,
		                  "the token gives no CKA_KEY_TYPE for the key");
	if (kt == CKK_RSA)
		key->type = P11E_KEY_RSA;
	else if (kt == CKK_EC)
		key->type = P11E_KEY_EC;
	else
		return p11e__fail(ctx, P11E_ERR_POLICY,
		                  "the key is neither RSA nor EC (CKA_KEY_TYPE 0x%lx)", kt);
	if (a[1].ulValueLen <= sizeof(label))
		memcpy(key->label, label, a[1].ulValueLen);
	if (a[2].ulValueLen <= sizeof(id)) {
		memcpy(key->id, id, a[2].ulValueLen);
		key->id_len = a[2].ulValueLen;
	}
	key->sensitive = flag_of(&a[3]);
	key->extractable = flag_of(&a[4]);
	key->always_sensitive = flag_of(&a[5]);
	key->never_extractable = flag_of(&a[6]);
	key->local = flag_of(&a[7]);
	key->decrypt = flag_of(&a[8]);
	/* the modulus read along, or a fresh read if it did not fit */
	if (modulus && key->type == P11E_KEY_RSA &&
	    (a[9].ulValueLen != CK_UNAVAILABLE_INFORMATION && a[9].ulValueLen <= room
	             ? p11e__key_size_from(ctx, key, modulus, a[9].ulValueLen)
	             : p11e__key_size_read(ctx, h, key)) != P11E_OK)
		p11e__clear_error(ctx); /* listed without a size, as before */
	return P11E_OK;
}

/*
 * Size and curve from the attributes (CKA_MODULUS, CKA_EC_PARAMS) of object
 * h, without making an OpenSSL key of it: listing a token of thousands of
 * keys spent an eighth of its time building EVP_PKEYs only to ask their size.
 */
p11e_status p11e__key_size_read(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key)
{
	unsigned char *v = NULL;
	CK_ULONG len = 0;
	p11e_status st;

	st = p11e__attr_get(ctx, h, key->type == P11E_KEY_RSA ? CKA_MODULUS : CKA_EC_PARAMS, &v,
	                    &len);
	if (st != P11E_OK)
		return st;
	st = p11e__key_size_from(ctx, key, v, len);
	free(v);
	return st;
}

/* Size and curve from the value v of CKA_MODULUS (RSA) or CKA_EC_PARAMS (EC). */
p11e_status p11e__key_size_from(p11e_ctx *ctx, p11e_key *key, const unsigned char *v, CK_ULONG len)
{
	const unsigned char *p;
	ASN1_OBJECT *oid = NULL;
	const char *curve;

	if (key->type == P11E_KEY_RSA) {
		CK_ULONG i = 0;

		/* the bits of the modulus, leading zero bytes and bits not counted */
		while (i < len && v[i] == 0)
			i++;
		key->bits = i < len ? (unsigned)(8 * (len - i)) : 0;
		for (unsigned char top = i < len ? v[i] : 0x80; top && !(top & 0x80); top <<= 1)
			key->bits--;
		return key->bits ? P11E_OK
		                 : p11e__fail(ctx, P11E_ERR_TOKEN,
		                              "the token's RSA key has no modulus");
	}
	p = v;
	oid = d2i_ASN1_OBJECT(NULL, &p, (long)len);
	curve = oid ? curve_of_nid(OBJ_obj2nid(oid)) : NULL;
	ASN1_OBJECT_free(oid);
	if (!curve)
		return p11e__fail(ctx, P11E_ERR_TOKEN, "the key's curve is not one we support");
	snprintf(key->curve, sizeof(key->curve), "%s", curve);
	key->bits = strcmp(curve, "P-521") == 0 ? 521 : (unsigned)atoi(curve + 2);
	return P11E_OK;
}

p11e_status p11e__key_finish(p11e_ctx *ctx, p11e_key *key)
{
	free(key->uri);
	key->uri = p11e__object_uri(ctx, CKO_PRIVATE_KEY, key->label, key->id, key->id_len);
	if (!key->uri)
		return p11e__fail(ctx, P11E_ERR_FAILED, "cannot format the key URI");
	if (key->type == P11E_KEY_EC && !key->pub_handle)
		return p11e__fail(ctx, P11E_ERR_NOT_FOUND,
		                  "EC key '%s' has no public key object with its id on the token",
		                  key->label);
	/* an RSA private key carries its modulus; an EC one's curve is its public half's */
	return p11e__key_size_read(ctx, key->type == P11E_KEY_EC ? key->pub_handle : key->handle,
	                           key);
}

int p11e__key_exposed(const p11e_key *k, char *bad, size_t badlen)
{
	size_t len;

	bad[0] = '\0';
#define WANT(field, value, name)                                                    \
	if (k->field != (value)) {                                                  \
		len = strlen(bad);                                                  \
		snprintf(bad + len, badlen - len, "%s%s=%s", len ? ", " : "", name, \
		         k->field < 0 ? "unreadable"                                \
		         : k->field   ? "TRUE"                                      \
		                      : "FALSE");                                     \
	}
	WANT(sensitive, 1, "CKA_SENSITIVE")
	WANT(extractable, 0, "CKA_EXTRACTABLE")
	WANT(always_sensitive, 1, "CKA_ALWAYS_SENSITIVE")
	WANT(never_extractable, 1, "CKA_NEVER_EXTRACTABLE")
	WANT(local, 1, "CKA_LOCAL")
#undef WANT
	return bad[0] != '\0';
}
