/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-profile.c - libFuzzer target for request profiles (profile.c): the
 * [profile] file, its inherits chain, and the checks it drives.  The input
 * is the profile "fuzz", written as fuzz.conf to a private directory that
 * leads P11ENROLL_PROFILE_PATH, followed by the source tree's profiles/ so
 * that "inherits = mtls-client" finds the real one.  It is checked
 * (p11e__profile_check) against fixed requests built with OpenSSL: one
 * that meets open-banking, one that breaks most rules, one without
 * extensions or key; and p11e__profile_check_type for an RSA and an EC key.
 *
 * Skipped: an input whose inherits is a path (it has a '/'): it would let
 * the fuzzer make the library read any file on the machine, a terminal
 * among them; and one with an .include directive, which the library
 * refuses (fuzz-quirks covers that refusal) but this harness's own NCONF
 * read of the inherits value would follow.
 *
 * OK must leave no violations; P11E_ERR_POLICY must list them; any other
 * refusal must say why.
 *
 * Built by 'make fuzz' (Makefile.am) with the library sources and
 * -DFUZZ_PROFILES=<srcdir>/profiles; seeds in tests/fuzz/corpus/fuzz-profile/.
 */
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"

#ifndef FUZZ_PROFILES
#error "FUZZ_PROFILES: the source tree's profiles/ directory"
#endif

struct request {
	X509_NAME *subject;
	STACK_OF(X509_EXTENSION) *exts;
	EVP_PKEY *key;
};

static p11e_ctx *ctx;
static char *path;
static struct request reqs[3];

static X509_NAME *make_name(const char *const (*rdn)[2], size_t n)
{
	X509_NAME *name = X509_NAME_new();

	if (!name)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!X509_NAME_add_entry_by_txt(name, rdn[i][0], MBSTRING_UTF8,
		                                (const unsigned char *)rdn[i][1], -1, -1, 0))
			abort();
	return name;
}

static STACK_OF(X509_EXTENSION) *make_exts(const char *const (*ext)[2], size_t n)
{
	STACK_OF(X509_EXTENSION) *sk = sk_X509_EXTENSION_new_null();
	X509V3_CTX v3;

	if (!sk)
		abort();
	X509V3_set_ctx(&v3, NULL, NULL, NULL, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &v3, ext[i][0], ext[i][1]);

		if (!e || !sk_X509_EXTENSION_push(sk, e))
			abort();
	}
	return sk;
}

#define N(a) (sizeof(a) / sizeof(a[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* meets open-banking (and so mtls-client) */
	static const char *const good_dn[][2] = {
		{ "C", "GB" },
		{ "O", "Acme Bank Ltd" },
		{ "OU", "0015800001041REAAY" },
		{ "OU", "3f2c8a1e-9b7d-4a61-8c2e-1d5f0a9b7c3e" },
		{ "CN", "client.acme.example" },
		{ "businessCategory", "Private Organization" },
		{ "jurisdictionCountryName", "GB" },
		{ "serialNumber", "07489052" },
		{ "UID", "0015800001041REAAY" },
	};
	static const char *const good_ext[][2] = {
		{ "subjectAltName", "DNS:client.acme.example,DNS:api.acme.example,IP:192.0.2.10" },
		{ "extendedKeyUsage", "clientAuth" },
		{ "keyUsage", "critical,digitalSignature" },
	};
	/* breaks most rules: wildcards, CN not in the SANs, no C/O, serverAuth only */
	static const char *const bad_dn[][2] = {
		{ "OU", "not-a-uuid" },
		{ "CN", "*.acme.example" },
	};
	static const char *const bad_ext[][2] = {
		{ "subjectAltName",
		  "DNS:*.acme.example,email:ops@acme.example,URI:https://acme.example/" },
		{ "extendedKeyUsage", "serverAuth,1.3.6.1.4.1.311.20.2.2" },
	};
	static const char *const bare_dn[][2] = { { "CN", "client.acme.example" } };
	char *env;

	(void)argc;
	(void)argv;
	ctx = fuzz_ctx();
	path = fuzz_path("fuzz.conf");
	env = malloc(strlen(fuzz_dir()) + strlen(FUZZ_PROFILES) + 2);
	if (!env)
		abort();
	sprintf(env, "%s:%s", fuzz_dir(), FUZZ_PROFILES);
	setenv("P11ENROLL_PROFILE_PATH", env, 1);
	/* no ~/.config/p11enroll/profiles of whoever runs the fuzzer */
	setenv("HOME", fuzz_dir(), 1);
	free(env);

	reqs[0] =
		(struct request){ make_name(good_dn, N(good_dn)), make_exts(good_ext, N(good_ext)),
		                  EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") };
	reqs[1] = (struct request){ make_name(bad_dn, N(bad_dn)), make_exts(bad_ext, N(bad_ext)),
		                    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024) };
	reqs[2] = (struct request){ make_name(bare_dn, N(bare_dn)), NULL, NULL };
	if (!reqs[0].key || !reqs[1].key)
		abort();
	return 0;
}

/* The [profile] inherits value as the library will read it, if it is a path. */
static int inherits_path(const uint8_t *data, size_t size)
{
	BIO *bio = BIO_new_mem_buf(data, (int)size);
	CONF *conf = NCONF_new(NULL);
	long errline = -1;
	const char *v;
	int path_like = 0;

	if (!bio || !conf)
		abort();
	if (NCONF_load_bio(conf, bio, &errline) > 0 &&
	    (v = NCONF_get_string(conf, "profile", "inherits")))
		path_like = strchr(v, '/') != NULL;
	NCONF_free(conf);
	BIO_free(bio);
	ERR_clear_error();
	return path_like;
}

static void check_result(p11e_status st, int with_details)
{
	size_t n = 0;

	(void)p11e_error_details(ctx, &n);
	switch (st) {
	case P11E_OK:
		if (n)
			abort();
		break;
	case P11E_ERR_POLICY:
		fuzz_check_message(ctx);
		if (with_details && !n)
			abort();
		break;
	case P11E_ERR_INPUT:
	case P11E_ERR_NOT_FOUND:
	case P11E_ERR_FAILED: fuzz_check_message(ctx); break;
	default: abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536 || fuzz_has_include(data, size) || inherits_path(data, size))
		return 0;
	fuzz_write(path, data, size);
	for (size_t i = 0; i < N(reqs); i++) {
		p11e__clear_error(ctx);
		check_result(p11e__profile_check(ctx, "fuzz", reqs[i].subject, reqs[i].exts,
		                                 reqs[i].key),
		             1);
		ERR_clear_error();
	}
	p11e__clear_error(ctx);
	check_result(p11e__profile_check_type(ctx, "fuzz", P11E_KEY_RSA, 2048, NULL), 0);
	p11e__clear_error(ctx);
	check_result(p11e__profile_check_type(ctx, "fuzz", P11E_KEY_EC, 0, "P-384"), 0);
	p11e__clear_error(ctx);
	ERR_clear_error();
	return 0;
}
