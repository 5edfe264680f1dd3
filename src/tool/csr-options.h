/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * csr-options.h - the request options csr and enroll share.
 */
#ifndef P11ENROLL_CSR_OPTIONS_H
#define P11ENROLL_CSR_OPTIONS_H

#include <getopt.h>

#include "tool.h"

#define CSR_MAX_LIST 32

enum {
	OPT_CONFIG = 300,
	OPT_SUBJECT,
	OPT_SAN,
	OPT_EXT,
	OPT_DIGEST,
	OPT_PSS,
	OPT_BACKEND,
	OPT_DER,
	OPT_OUT,
	OPT_PROFILE,
	OPT_ALLOW_WEAK,
};

#define CSR_LONG_OPTIONS                                             \
	{ "config", required_argument, NULL, OPT_CONFIG },           \
		{ "subject", required_argument, NULL, OPT_SUBJECT }, \
		{ "san", required_argument, NULL, OPT_SAN },         \
		{ "ext", required_argument, NULL, OPT_EXT },         \
		{ "digest", required_argument, NULL, OPT_DIGEST },   \
		{ "pss", no_argument, NULL, OPT_PSS },               \
		{ "backend", required_argument, NULL, OPT_BACKEND }, \
		{ "der", no_argument, NULL, OPT_DER },               \
		{ "out", required_argument, NULL, OPT_OUT },         \
		{ "allow-weak", no_argument, NULL, OPT_ALLOW_WEAK }, \
	{                                                            \
		"profile", required_argument, NULL, OPT_PROFILE      \
	}

#define CSR_USAGE                                                                        \
	"  --config FILE     OpenSSL req-style config ([req], prompt = no)\n"            \
	"  --subject DN      subject as /C=US/O=Acme/CN=host (overrides the config)\n"   \
	"  --san LIST        subjectAltName: DNS:a.example,IP:192.0.2.1 (repeatable)\n"  \
	"  --ext SPEC        extension in OpenSSL syntax: extendedKeyUsage=clientAuth\n" \
	"                    (repeatable; overrides the config's)\n"                     \
	"  --digest NAME     sha256 (default), sha384 or sha512\n"                       \
	"  --pss             sign with RSA-PSS (RSA keys)\n"                             \
	"  --allow-weak      sign for a key under RSA-2048 or EC P-256 (refused else)\n" \
	"  --profile NAME    refuse a request that breaks this profile (mtls-client,\n"  \
	"                    open-banking, or your own)\n"                               \
	"  --backend NAME    provider (default: ours, in a private OpenSSL context)\n"   \
	"                    or engine (libp11's pkcs11 engine, loaded privately)\n"     \
	"  -o, --out FILE    write the request there (default: stdout)\n"                \
	"  --der             DER instead of PEM\n"

/* The options as given (pointers into argv), until the request is built. */
struct csr_args {
	const char *config, *subject, *digest, *profile;
	const char *san[CSR_MAX_LIST];
	const char *ext[CSR_MAX_LIST];
	size_t nsan, next;
	unsigned flags; /* p11e_req_flags */
	p11e_backend backend;
	p11e_format format;
	const char *out;
};

void csr_args_init(struct csr_args *a);
/* 1: consumed, 0: not a request option, else an exit code (> 1). */
int csr_option(struct csr_args *a, const char *cmd, int opt, const char *arg);
/* The library's request from the options: 0, or the exit code after a message. */
int csr_args_req(const struct csr_args *a, p11e_req **req);

#endif
