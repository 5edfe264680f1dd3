/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-cmp.c - libFuzzer target for a CMP server's answer: the input, as
 * DER, is what the server "sends" (OpenSSL's transfer callback returns it)
 * to a p10cr that cmp.c set up as enroll --cmp does (PBMAC with a known
 * secret), through OSSL_CMP_exec_certreq: d2i_OSSL_CMP_MSG, the
 * protection check, OpenSSL's checks and ours (the certConf callback:
 * the certificate's key against the request's), then our reading of the
 * failure (PKIStatus in words, OpenSSL's errors sorted into refused,
 * unreachable, untrusted, timeout, garbage) or, for an answer taken, the
 * issuer path we would import.
 *
 * OpenSSL makes a fresh nonce for every request, so an answer the fuzzer
 * did not see the request of fails the nonce check: the seeds reach the
 * parsing, the protection and our error handling, not the import.
 *
 * Built by 'make fuzz'; seeds in tests/fuzz/corpus/fuzz-cmp/ (answers of
 * tests/ca/cmp-server, an error message, garbage).
 */
#include <openssl/cmp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmp.h"
#include "fuzz-util.h"

static p11e_ctx *ctx;
static p11e_cmp *cmp;
static EVP_PKEY *key;
static X509_REQ *csr;

struct answer {
	const uint8_t *data;
	size_t size;
};

static OSSL_CMP_MSG *transfer(OSSL_CMP_CTX *cc, const OSSL_CMP_MSG *req)
{
	struct answer *a = OSSL_CMP_CTX_get_transfer_cb_arg(cc);
	const unsigned char *p = a->data;

	(void)req;
	return d2i_OSSL_CMP_MSG(NULL, &p, (long)a->size);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char secret[] = "cmp-test-secret";
	p11e_pin pin = { (char *)secret, sizeof(secret) - 1 };

	(void)argc;
	(void)argv;
	ctx = fuzz_ctx();
	cmp = p11e_cmp_new();
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	csr = X509_REQ_new();
	if (!cmp || !key || !csr || p11e_cmp_set_url(cmp, "http://127.0.0.1:1/pkix/") ||
	    p11e_cmp_set_secret(cmp, "ref1", &pin) || p11e_cmp_set_timeout(cmp, 5) ||
	    !X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(csr), "CN", MBSTRING_ASC,
	                                (const unsigned char *)"fuzz", -1, -1, 0) ||
	    !X509_REQ_set_pubkey(csr, key) || !X509_REQ_sign(csr, key, EVP_sha256()))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p11e__cmp_run run;
	struct answer a = { data, size };
	X509 *cert;
	p11e_status st;

	memset(&run, 0, sizeof(run));
	p11e__clear_error(ctx);
	if (p11e__cmp_begin(ctx, cmp, &run, 1) != P11E_OK)
		abort();
	if (!EVP_PKEY_up_ref(key))
		abort();
	run.want = key;
	if (!OSSL_CMP_CTX_set1_p10CSR(run.cc, csr) ||
	    !OSSL_CMP_CTX_set_transfer_cb(run.cc, transfer) ||
	    !OSSL_CMP_CTX_set_transfer_cb_arg(run.cc, &a))
		abort();
	cert = p11e__cmp_exec(&run, OSSL_CMP_P10CR, NULL);
	if (cert) {
		STACK_OF(X509) *path = NULL;

		if (!p11e__cmp_chain(&run, cert, &path))
			abort();

		/* what we would import: a certificate for our key, CA certificates above it */
		if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1)
			abort();
		for (int i = 0; i < sk_X509_num(path); i++)
			if (X509_check_ca(sk_X509_value(path, i)) <= 0)
				abort();
		sk_X509_free(path);
	} else {
		st = p11e__cmp_failed(&run, "fuzz");
		if (st != P11E_ERR_CA && st != P11E_ERR_TIMEOUT)
			abort();
		fuzz_check_message(ctx);
	}
	p11e__cmp_end(&run);
	ERR_clear_error();
	return 0;
}
