/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-est.c - libFuzzer target for what an EST server answers: the
 * base64 PKCS#7 certs-only of /cacerts and /simpleenroll
 * (p11e__est_parse_certs) and the CsrAttrs of /csrattrs
 * (p11e__est_parse_csrattrs).  The first byte chooses the parser (odd:
 * csrattrs), the rest is the answer's body.
 *
 * OK must give at least one certificate (or a name list, maybe empty); a
 * refusal is P11E_ERR_CA with a message and gives nothing.
 *
 * Built by 'make fuzz' (Makefile.am) with the library sources; seeds in
 * tests/fuzz/corpus/fuzz-est/.
 */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "est-parse.h"
#include "fuzz-util.h"

static p11e_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ctx = fuzz_ctx();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *certs = (STACK_OF(X509) *)&certs;
	char *names = (char *)&names;
	p11e_status st;

	if (size < 1)
		return 0;
	p11e__clear_error(ctx);
	if (data[0] & 1) {
		st = p11e__est_parse_csrattrs(ctx, data + 1, size - 1, &names);
		if (st == P11E_OK) {
			if (names && strlen(names) > 4 * size + 64)
				abort();
			free(names);
		} else if (names || st != P11E_ERR_CA) {
			abort();
		} else {
			fuzz_check_message(ctx);
		}
	} else {
		st = p11e__est_parse_certs(ctx, "fuzz", data + 1, size - 1, &certs);
		if (st == P11E_OK) {
			if (!certs || sk_X509_num(certs) <= 0)
				abort();
			for (int i = 0; i < sk_X509_num(certs); i++) {
				X509 *c = sk_X509_value(certs, i);

				/* what est.c does next with each of them */
				if (!c || !X509_get_subject_name(c))
					abort();
				(void)X509_get0_pubkey(c);
				(void)X509_check_ca(c);
			}
			sk_X509_pop_free(certs, X509_free);
		} else if (certs || (st != P11E_ERR_CA && st != P11E_ERR_FAILED)) {
			abort();
		} else {
			fuzz_check_message(ctx);
		}
	}
	ERR_clear_error();
	return 0;
}
