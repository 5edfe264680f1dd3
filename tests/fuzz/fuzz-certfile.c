/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-certfile.c - libFuzzer target for certificate files
 * (p11e__certs_read): what import and --chain read, PEM (one or many
 * certificates), DER, PKCS#7 in PEM or DER.  OpenSSL parses; the choice
 * between the formats and the checks for damaged or concatenated input are
 * ours.
 *
 * The input is written to a file in a private directory (the library reads
 * by path).  OK must give at least one certificate; a refusal must say why
 * and give nothing; the stack is freed either way.
 *
 * Built by 'make fuzz' (Makefile.am) with the library sources; seeds in
 * tests/fuzz/corpus/fuzz-certfile/.
 */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"

static p11e_ctx *ctx;
static char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ctx = fuzz_ctx();
	path = fuzz_path("certs.pem");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *certs = (STACK_OF(X509) *)&certs;
	p11e_status st;

	fuzz_write(path, data, size);
	p11e__clear_error(ctx);
	st = p11e__certs_read(ctx, path, &certs);
	if (st == P11E_OK) {
		if (!certs || sk_X509_num(certs) <= 0)
			abort();
		for (int i = 0; i < sk_X509_num(certs); i++) {
			X509 *c = sk_X509_value(certs, i);

			/* what import does next with each of them */
			if (!c || !X509_get_subject_name(c))
				abort();
			EVP_PKEY_free(X509_get_pubkey(c));
			(void)X509_check_ca(c);
		}
		sk_X509_pop_free(certs, X509_free);
	} else {
		if (certs)
			abort();
		fuzz_check_message(ctx);
		if (st != P11E_ERR_INPUT && st != P11E_ERR_FAILED)
			abort();
	}
	ERR_clear_error();
	return 0;
}
