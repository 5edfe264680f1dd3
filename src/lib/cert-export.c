/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cert-export.c - certificates off the token, with their chain up to the
 * root when the token holds it.  Private keys never leave: there is nothing
 * to export for them.
 */
#include "config.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static p11e_status cert_at(p11e_ctx *ctx, CK_OBJECT_HANDLE h, X509 **out)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	CK_ULONG len = 0;
	p11e_status st = p11e__attr_get(ctx, h, CKA_VALUE, &der, &len);

	*out = NULL;
	if (st != P11E_OK)
		return st;
	p = der;
	*out = d2i_X509(NULL, &p, (long)len);
	free(der);
	if (!*out)
		return p11e__fail(ctx, P11E_ERR_TOKEN,
		                  "a certificate on the token is not valid DER");
	return P11E_OK;
}

/* The certificate objects spec (a URI or a label) names: at least one. */
static p11e_status find_certs(p11e_ctx *ctx, const char *spec, CK_OBJECT_HANDLE **hs, size_t *count)
{
	p11e_status st = p11e__find_spec(ctx, spec, CKO_CERTIFICATE, hs, count);

	if (st == P11E_OK && *count == 0)
		st = p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_CERT_NOT_FOUND,
		                    "no certificate '%s' on token '%s'", spec, ctx->slot.label);
	return st;
}

/* The certificate named by spec: a URI or a label. */
static p11e_status find_cert(p11e_ctx *ctx, const char *spec, X509 **out)
{
	CK_OBJECT_HANDLE *hs = NULL;
	size_t count = 0;
	p11e_status st;

	*out = NULL;
	st = find_certs(ctx, spec, &hs, &count);
	/* several (a key's old and renewed certificates): the one that runs longest */
	for (size_t i = 0; st == P11E_OK && i < count; i++) {
		X509 *c = NULL;

		st = cert_at(ctx, hs[i], &c);
		if (st == P11E_OK && (!*out || ASN1_TIME_compare(X509_get0_notAfter(c),
		                                                 X509_get0_notAfter(*out)) > 0)) {
			X509_free(*out);
			*out = c;
		} else {
			X509_free(c);
		}
	}
	if (st != P11E_OK) {
		X509_free(*out);
		*out = NULL;
	}
	free(hs);
	return st;
}

/* The certificate on the token whose subject is c's issuer, or NULL. */
static X509 *issuer_of(p11e_ctx *ctx, X509 *c)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	unsigned char *iss = NULL;
	int len = i2d_X509_NAME(X509_get_issuer_name(c), &iss);
	CK_ATTRIBUTE t[2] = { { CKA_CLASS, &cls, sizeof(cls) },
		              { CKA_SUBJECT, iss, (CK_ULONG)len } };
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	X509 *found = NULL;

	if (len > 0 && p11e__find_objects(ctx, t, 2, &hs, &n) == P11E_OK) {
		for (size_t i = 0; i < n && !found; i++) {
			X509 *cand = NULL;

			/* the subject matches; the key must have signed c */
			if (cert_at(ctx, hs[i], &cand) == P11E_OK &&
			    X509_verify(c, X509_get0_pubkey(cand)) == 1)
				found = cand;
			else
				X509_free(cand);
		}
	}
	p11e__clear_error(ctx);
	free(hs);
	OPENSSL_free(iss);
	return found;
}

p11e_status p11e_cert_key_uri(p11e_ctx *ctx, const char *spec, char **uri)
{
	CK_OBJECT_HANDLE *hs = NULL;
	unsigned char *id = NULL, *label = NULL;
	CK_ULONG ilen = 0, llen = 0;
	char lbuf[129] = "";
	size_t count = 0;
	p11e_status st;

	p11e__clear_error(ctx);
	*uri = NULL;
	if (!ctx->have_session && (st = p11e__session_open(ctx, 0)) != P11E_OK)
		return st;
	st = find_certs(ctx, spec, &hs, &count);
	/* a key's certificates share its id and label: the first one names it */
	if (st == P11E_OK)
		st = p11e__attr_opt(ctx, hs[0], CKA_ID, &id, &ilen);
	if (st == P11E_OK)
		st = p11e__attr_opt(ctx, hs[0], CKA_LABEL, &label, &llen);
	if (st == P11E_OK && !ilen)
		st = p11e__fail(ctx, P11E_ERR_NOT_FOUND,
		                "certificate '%s' has no CKA_ID: it names no key on the token",
		                spec);
	if (st == P11E_OK) {
		if (llen < sizeof(lbuf))
			memcpy(lbuf, label, llen);
		*uri = p11e__object_uri(ctx, CKO_PRIVATE_KEY, lbuf[0] ? lbuf : NULL, id, ilen);
		if (!*uri)
			st = p11e__fail(ctx, P11E_ERR_FAILED, "cannot format the key URI");
	}
	free(id);
	free(label);
	free(hs);
	return st;
}

p11e_status p11e_export(p11e_ctx *ctx, const char *spec, unsigned flags, unsigned char **out,
                        size_t *outlen)
{
	int chain = (flags & P11E_EXPORT_CHAIN) != 0, der = (flags & P11E_EXPORT_DER) != 0;
	X509 *c = NULL, *next;
	BIO *bio = NULL;
	BUF_MEM *mem;
	p11e_status st;
	int depth = 0;

	p11e__clear_error(ctx);
	*out = NULL;
	*outlen = 0;
	P11E__FLAGS_CHECK(ctx, "p11e_export", flags, P11E_EXPORT_CHAIN | P11E_EXPORT_DER);
	if (!ctx->have_session && (st = p11e__session_open(ctx, 0)) != P11E_OK)
		return st;
	if (chain && der)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_CHAIN_NEEDS_PEM,
		                      "a chain does not fit in one DER certificate");
	st = find_cert(ctx, spec, &c);
	if (st != P11E_OK)
		return st;
	bio = BIO_new(BIO_s_mem());
	if (!bio || !(der ? i2d_X509_bio(bio, c) : PEM_write_bio_X509(bio, c))) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "cannot encode the certificate");
		goto done;
	}
	/* up the chain while the token has the issuer, stopping at a self-signed root */
	while (chain && depth++ < 10 && X509_check_issued(c, c) != X509_V_OK &&
	       (next = issuer_of(ctx, c))) {
		X509_free(c);
		c = next;
		PEM_write_bio_X509(bio, c);
	}
	BIO_get_mem_ptr(bio, &mem);
	*out = malloc(mem->length ? mem->length : 1);
	if (!*out) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	memcpy(*out, mem->data, mem->length);
	*outlen = mem->length;
done:
	BIO_free(bio);
	X509_free(c);
	return st;
}
