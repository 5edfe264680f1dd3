/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * est-parse.c - what an EST server answers, decoded by OpenSSL: base64
 * (EVP_Decode*, which skips whitespace and CRLF as RFC 8951 asks us to
 * tolerate) of a DER PKCS#7 certs-only (d2i_PKCS7), and the CsrAttrs
 * SEQUENCE of /csrattrs (d2i_ASN1_SEQUENCE_ANY).  A fuzz target calls both.
 */
#include "config.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "est-parse.h"

#define MAX_ANSWER (1UL << 20)

/* base64 to DER in *der (free it); -1 if it is not base64 */
static int b64_decode(const unsigned char *in, size_t len, unsigned char **der, size_t *derlen)
{
	EVP_ENCODE_CTX *e = EVP_ENCODE_CTX_new();
	unsigned char *out = malloc(len / 4 * 3 + 4);
	int n = 0, m = 0, ok;

	*der = NULL;
	*derlen = 0;
	ok = e && out && len <= MAX_ANSWER;
	if (ok) {
		EVP_DecodeInit(e);
		ok = EVP_DecodeUpdate(e, out, &n, in, (int)len) >= 0 &&
		     EVP_DecodeFinal(e, out + n, &m) == 1;
	}
	EVP_ENCODE_CTX_free(e);
	if (!ok || n + m == 0) {
		free(out);
		return -1;
	}
	*der = out;
	*derlen = (size_t)(n + m);
	return 0;
}

p11e_status p11e__est_parse_certs(p11e_ctx *ctx, const char *what, const unsigned char *buf,
                                  size_t len, STACK_OF(X509) **out)
{
	STACK_OF(X509) *certs = NULL, *in = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t derlen = 0;
	PKCS7 *p7 = NULL;
	p11e_status st = P11E_OK;

	*out = NULL;
	if (b64_decode(buf, len, &der, &derlen) != 0) {
		st = p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_GARBAGE,
		                    "EST %s: the answer is not base64 (%zu bytes)", what, len);
		goto done;
	}
	p = der;
	p7 = d2i_PKCS7(NULL, &p, (long)derlen);
	if (!p7 || p != der + derlen || !PKCS7_type_is_signed(p7) || !p7->d.sign) {
		st = p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_GARBAGE,
		                    "EST %s: the answer is not a PKCS#7 certs-only structure",
		                    what);
		goto done;
	}
	in = p7->d.sign->cert;
	if (sk_X509_num(in) <= 0) {
		st = p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_GARBAGE,
		                    "EST %s: the answer holds no certificate", what);
		goto done;
	}
	if (!(certs = sk_X509_new_null())) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	for (int i = 0; i < sk_X509_num(in); i++) {
		X509 *c = sk_X509_value(in, i);

		if (!X509_up_ref(c))
			continue;
		if (!sk_X509_push(certs, c)) {
			X509_free(c);
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
	}
	*out = certs;
	certs = NULL;
done:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	PKCS7_free(p7);
	free(der);
	return st;
}

/* append "name" (", " between) to a growing string */
static int add_name(char **s, size_t *len, const char *name)
{
	size_t n = strlen(name), need = *len + (*len ? 2 : 0) + n + 1;
	char *t = realloc(*s, need);

	if (!t)
		return -1;
	if (*len) {
		memcpy(t + *len, ", ", 2);
		*len += 2;
	}
	memcpy(t + *len, name, n + 1);
	*len += n;
	*s = t;
	return 0;
}

static void oid_name(const ASN1_OBJECT *o, char *buf, size_t len)
{
	int nid = OBJ_obj2nid(o);

	if (nid != NID_undef && OBJ_nid2sn(nid))
		snprintf(buf, len, "%s", OBJ_nid2sn(nid));
	else if (OBJ_obj2txt(buf, (int)len, o, 1) <= 0)
		snprintf(buf, len, "?");
}

p11e_status p11e__est_parse_csrattrs(p11e_ctx *ctx, const unsigned char *buf, size_t len,
                                     char **names)
{
	STACK_OF(ASN1_TYPE) *seq = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t derlen = 0, nlen = 0;
	char *s = NULL, name[128];
	p11e_status st = P11E_OK;

	*names = NULL;
	if (b64_decode(buf, len, &der, &derlen) != 0 ||
	    (p = der, !(seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)derlen))) ||
	    p != der + derlen) {
		st = p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_GARBAGE,
		                    "EST csrattrs: the answer is not a base64 CsrAttrs SEQUENCE");
		goto done;
	}
	for (int i = 0; i < sk_ASN1_TYPE_num(seq); i++) {
		ASN1_TYPE *t = sk_ASN1_TYPE_value(seq, i);

		name[0] = '\0';
		if (t->type == V_ASN1_OBJECT) {
			oid_name(t->value.object, name, sizeof(name));
		} else if (t->type == V_ASN1_SEQUENCE) {
			/* Attribute: its type, then the values it would have */
			const unsigned char *q = t->value.sequence->data;
			STACK_OF(ASN1_TYPE) *attr =
				d2i_ASN1_SEQUENCE_ANY(NULL, &q, t->value.sequence->length);
			ASN1_TYPE *a0 = attr && sk_ASN1_TYPE_num(attr) > 0
			                        ? sk_ASN1_TYPE_value(attr, 0)
			                        : NULL;

			if (a0 && a0->type == V_ASN1_OBJECT)
				oid_name(a0->value.object, name, sizeof(name));
			sk_ASN1_TYPE_pop_free(attr, ASN1_TYPE_free);
		}
		if (!name[0])
			continue;
		if (add_name(&s, &nlen, name) != 0) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
	}
	*names = s;
	s = NULL;
done:
	ERR_clear_error();
	free(s);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	free(der);
	return st;
}
