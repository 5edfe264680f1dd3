/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-req-config.c - libFuzzer target for --config, the openssl-req-style
 * request config: [req], its distinguished_name section and its
 * req_extensions (OpenSSL's NCONF and X509V3 parse them; the checks around
 * them are ours).  p11e__req_prepare builds the request's subject and
 * extensions without a key or a token, which is all of the config there is.
 *
 * The input is written to a file in a private directory (the library reads
 * the config by path).  An input with an .include directive is skipped: it
 * would let the fuzzer make OpenSSL read any file on the machine.
 *
 * OK must give a request with a subject and a digest we offer; a refusal
 * must say why and give no request.
 *
 * Built by 'make fuzz' (Makefile.am) with the library sources; seeds in
 * tests/fuzz/corpus/fuzz-req-config/.
 */
#include <openssl/asn1.h>
#include <openssl/err.h>
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
	path = fuzz_path("req.cnf");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	p11e_req *o = NULL;
	X509_REQ *req = (X509_REQ *)&req;
	const char *md = NULL;
	unsigned long mask = ASN1_STRING_get_default_mask();
	p11e_status st;

	if (fuzz_has_include(data, size))
		return 0;
	fuzz_write(path, data, size);
	if (!(o = p11e_req_new()) || p11e_req_set_config(o, path) != P11E_OK)
		abort();

	p11e__clear_error(ctx);
	st = p11e__req_prepare(ctx, o, &req, &md);
	p11e_req_free(o);
	/* string_mask is process-wide in OpenSSL: the library must put it back */
	if (ASN1_STRING_get_default_mask() != mask)
		abort();
	fuzz_check_req(ctx, st, req, md, 1);
	/* the library leaves OpenSSL's error queue empty for the next caller */
	if (ERR_peek_error())
		abort();
	return 0;
}
