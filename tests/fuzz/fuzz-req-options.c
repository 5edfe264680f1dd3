/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-req-options.c - libFuzzer target for the request options of csr,
 * enroll and renew: --subject (OpenSSL's /type=value/+type=value syntax,
 * parsed by request.c), --san and --ext (OpenSSL's X509V3 syntax, joined
 * and merged by request.c) and --digest, set with the p11e_req builder and
 * made through p11e__req_prepare (no key, no token).  With a certificate to renew the same options
 * go through p11e__req_from_cert, which is run too.
 *
 * The input is lines, one option each, as a shell script would pass them:
 *     subject /C=US/O=Acme/CN=host
 *     san DNS:host.example,IP:192.0.2.1
 *     ext extendedKeyUsage=clientAuth
 *     digest sha384
 * Other lines are ignored; up to 8 san and 8 ext lines count.
 *
 * Built by 'make fuzz' (Makefile.am) with the library sources; seeds in
 * tests/fuzz/corpus/fuzz-req-options/.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"

#define MAX_LIST 8

static p11e_ctx *ctx;
static X509 *old_cert; /* the certificate renew repeats */

/* A certificate like one renew finds on the token: subject, SAN, EKU, keyUsage. */
static X509 *make_cert(void)
{
	static const char *const exts[][2] = {
		{ "subjectAltName", "DNS:old.example,IP:192.0.2.7" },
		{ "extendedKeyUsage", "clientAuth" },
		{ "keyUsage", "critical,digitalSignature" },
		{ "basicConstraints", "CA:FALSE" },
	};
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);
	X509V3_CTX v3;

	if (!key || !x || !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 7) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"GB", -1,
	                                -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Acme", -1,
	                                -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                (const unsigned char *)"old.example", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key))
		abort();
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &v3, exts[i][0], exts[i][1]);

		if (!e || !X509_add_ext(x, e, -1))
			abort();
		X509_EXTENSION_free(e);
	}
	if (!X509_sign(x, key, EVP_sha256()))
		abort();
	EVP_PKEY_free(key);
	return x;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ctx = fuzz_ctx();
	old_cert = make_cert();
	return 0;
}

static void check(p11e_status st, X509_REQ *req, const char *md)
{
	fuzz_check_req(ctx, st, req, md, 0);
	ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *line, *save = NULL;
	size_t nsan = 0, next = 0;
	p11e_req *o = p11e_req_new();
	X509_REQ *req;
	const char *md;
	p11e_status st = o ? P11E_OK : P11E_ERR_FAILED;

	/* the builder's copies: the text is overwritten before the request is made */
	for (line = strtok_r(text, "\n", &save); st == P11E_OK && line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "subject ", 8) == 0)
			st = p11e_req_set_subject(o, line + 8);
		else if (strncmp(line, "san ", 4) == 0 && nsan++ < MAX_LIST)
			st = p11e_req_add_san(o, line + 4);
		else if (strncmp(line, "ext ", 4) == 0 && next++ < MAX_LIST)
			st = p11e_req_add_ext(o, line + 4);
		else if (strncmp(line, "digest ", 7) == 0)
			st = p11e_req_set_digest(o, line + 7);
	}
	if (st != P11E_OK)
		abort();
	memset(text, 'X', size);

	p11e__clear_error(ctx);
	req = (X509_REQ *)&req;
	md = NULL;
	st = p11e__req_prepare(ctx, o, &req, &md);
	check(st, req, md);
	if (st == P11E_OK && !o->subject)
		abort(); /* no config, no subject: nothing to build a request from */

	p11e__clear_error(ctx);
	req = (X509_REQ *)&req;
	md = NULL;
	st = p11e__req_from_cert(ctx, old_cert, o, &req, &md);
	check(st, req, md);

	p11e_req_free(o);
	free(text);
	return 0;
}
