/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/floor-req.h - what the floor programs that make certificate
 * requests share (floor-csr, floor-apply): a key's public half read in one
 * C_GetAttributeValue and made an EVP_PKEY, and a request for it made with
 * OpenSSL as any program would (subject CN, public key, ecdsa-with-SHA256
 * or sha256WithRSAEncryption), its to-be-signed part hashed and signed on
 * the token with one C_SignInit + C_Sign.  Header-only, like floor.h; the
 * programs that include it link libcrypto.
 */
#ifndef P11ENROLL_BENCH_FLOOR_REQ_H
#define P11ENROLL_BENCH_FLOOR_REQ_H

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "floor.h"

/* the public key object h as an EVP_PKEY; *ec: 1 for EC, 0 for RSA */
static EVP_PKEY *floor_public_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, int *ec)
{
	CK_KEY_TYPE kt = 0;
	unsigned char params[128], point[1024], n[1024], e[16];
	CK_ATTRIBUTE a[5] = {
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },      { CKA_EC_PARAMS, params, sizeof(params) },
		{ CKA_EC_POINT, point, sizeof(point) }, { CKA_MODULUS, n, sizeof(n) },
		{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
	};
	CK_RV rv = fl->C_GetAttributeValue(s, h, a, 5);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *ps = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	int ok;

	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID)
		check(rv, "C_GetAttributeValue");
	*ec = kt == CKK_EC;
	if (*ec) {
		const unsigned char *p = params;
		ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, (long)a[1].ulValueLen);
		ASN1_OCTET_STRING *os = NULL;

		p = point;
		os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)a[2].ulValueLen);
		ok = oid && os &&
		     OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		                                     OBJ_nid2sn(OBJ_obj2nid(oid)), 0) &&
		     OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		                                      ASN1_STRING_get0_data(os),
		                                      (size_t)ASN1_STRING_length(os)) &&
		     (ps = OSSL_PARAM_BLD_to_param(bld)); /* before os goes: it is not copied */
		ASN1_OBJECT_free(oid);
		ASN1_OCTET_STRING_free(os);
	} else {
		bn = BN_bin2bn(n, (int)a[3].ulValueLen, NULL);
		be = BN_bin2bn(e, (int)a[4].ulValueLen, NULL);
		ok = bn && be && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
		     OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) &&
		     (ps = OSSL_PARAM_BLD_to_param(bld));
	}
	ok = ok && (pc = EVP_PKEY_CTX_new_from_name(NULL, *ec ? "EC" : "RSA", NULL)) &&
	     EVP_PKEY_fromdata_init(pc) > 0 &&
	     EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, ps) > 0;
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(ps);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	if (!ok)
		die("cannot make the public key an EVP_PKEY");
	return pkey;
}

/* a raw ECDSA signature r || s as DER (ECDSA-Sig-Value), in place */
static CK_ULONG floor_ecdsa_der(unsigned char *sig, CK_ULONG len, size_t room)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)(len / 2), NULL),
	       *s = BN_bin2bn(sig + len / 2, (int)(len / 2), NULL);
	unsigned char *p = sig;
	int dlen;

	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s))
		die("cannot make the ECDSA signature DER");
	if (i2d_ECDSA_SIG(es, NULL) > (int)room)
		die("the ECDSA signature does not fit");
	dlen = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	return (CK_ULONG)dlen;
}

/*
 * A request for pkey with the subject CN=cn, signed by the private key
 * object key: built and its to-be-signed part hashed with OpenSSL, one
 * C_SignInit + C_Sign on the token.
 */
static X509_REQ *floor_req_sign(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key, EVP_PKEY *pkey,
                                int ec, const char *cn)
{
	CK_MECHANISM mech = { ec ? CKM_ECDSA : CKM_RSA_PKCS, NULL, 0 };
	/* DigestInfo for SHA-256 followed by the 32-byte digest */
	unsigned char data[19 + 32] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		                        0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	unsigned char *md = data + 19, *tbs = NULL, sig[1024];
	CK_ULONG sig_len = sizeof(sig);
	unsigned mdlen = 0;
	int tbs_len;
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_BIT_STRING *bits = ASN1_BIT_STRING_new();

	if (!req || !name || !alg || !bits)
		die("out of memory");
	/* the request's content, then its to-be-signed part hashed */
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	                                -1, 0) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, pkey) ||
	    !X509_ALGOR_set0(alg,
	                     OBJ_nid2obj(ec ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption),
	                     ec ? V_ASN1_UNDEF : V_ASN1_NULL, NULL) ||
	    !X509_REQ_set1_signature_algo(req, alg) ||
	    (tbs_len = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0 ||
	    !EVP_Digest(tbs, (size_t)tbs_len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		die("cannot build the request");

	/* the one signature on the token */
	check(fl->C_SignInit(session, &mech, key), "C_SignInit");
	check(fl->C_Sign(session, ec ? md : data, ec ? 32 : sizeof(data), sig, &sig_len), "C_Sign");
	if (ec)
		sig_len = floor_ecdsa_der(sig, sig_len, sizeof(sig));
	if (!ASN1_BIT_STRING_set(bits, sig, (int)sig_len))
		die("out of memory");
	/* no unused bits, as X509_REQ_sign has it */
	bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	X509_REQ_set0_signature(req, bits);
	OPENSSL_free(tbs);
	X509_ALGOR_free(alg);
	X509_NAME_free(name);
	return req;
}

#endif
