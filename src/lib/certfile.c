/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * certfile.c - certificates from files: PEM (one or many), DER, PKCS#7
 * (.p7b/.p7c, PEM or DER).  OpenSSL does all the parsing.
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int add_pkcs7(STACK_OF(X509) *out, PKCS7 *p7)
{
	STACK_OF(X509) *certs = NULL;

	if (!p7)
		return 0;
	if (PKCS7_type_is_signed(p7) && p7->d.sign)
		certs = p7->d.sign->cert;
	for (int i = 0; certs && i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);

		if (!X509_up_ref(c) || !sk_X509_push(out, c)) {
			X509_free(c);
			return 0;
		}
	}
	return sk_X509_num(out) > 0;
}

p11e_status p11e__certs_read(p11e_ctx *ctx, const char *path, STACK_OF(X509) **out)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	BIO *bio = BIO_new_file(path, "rb");
	X509 *c;
	PKCS7 *p7;
	p11e_status st = P11E_OK;

	*out = NULL;
	if (!certs || !bio) {
		st = bio ? p11e__fail(ctx, P11E_ERR_FAILED, "out of memory")
		         : p11e__fail(ctx, P11E_ERR_INPUT, "cannot open %s: check the path", path);
		goto done;
	}
	/* PEM: every CERTIFICATE block, in order */
	ERR_clear_error();
	while ((c = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		if (!sk_X509_push(certs, c))
			X509_free(c);
	if (sk_X509_num(certs) > 0) {
		unsigned long e = ERR_peek_last_error();

		/* the loop must end at a clean end of file, not inside a block */
		if (e &&
		    !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
			st = p11e__fail(ctx, P11E_ERR_INPUT,
			                "%s: certificate %d is damaged or truncated: check the "
			                "file",
			                path, sk_X509_num(certs) + 1);
		goto done;
	}
	/* PEM PKCS#7, DER certificate, DER PKCS#7 */
	(void)BIO_reset(bio);
	p7 = PEM_read_bio_PKCS7(bio, NULL, NULL, NULL);
	if (add_pkcs7(certs, p7)) {
		PKCS7_free(p7);
		goto done;
	}
	PKCS7_free(p7);
	(void)BIO_reset(bio);
	if ((c = d2i_X509_bio(bio, NULL))) {
		/* a DER file must be exactly one certificate, not one and garbage */
		if (BIO_pending(bio) > 0 || BIO_read(bio, (char[1]){ 0 }, 1) > 0) {
			X509_free(c);
			st = p11e__fail(ctx, P11E_ERR_INPUT,
			                "%s: data after the certificate: is the file truncated or "
			                "concatenated?",
			                path);
			goto done;
		}
		sk_X509_push(certs, c);
		goto done;
	}
	(void)BIO_reset(bio);
	p7 = d2i_PKCS7_bio(bio, NULL);
	if (!add_pkcs7(certs, p7))
		st = p11e__fail(ctx, P11E_ERR_INPUT,
		                "%s holds no certificate OpenSSL can read (PEM, DER or PKCS#7): "
		                "check the file; a truncated download looks like this",
		                path);
	PKCS7_free(p7);
done:
	BIO_free(bio);
	ERR_clear_error();
	if (st != P11E_OK) {
		sk_X509_pop_free(certs, X509_free);
		return st;
	}
	*out = certs;
	return P11E_OK;
}
