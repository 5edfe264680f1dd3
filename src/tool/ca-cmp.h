/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-cmp.h - the CMP options enroll and renew share (--cmp and friends).
 */
#ifndef P11ENROLL_CA_CMP_H
#define P11ENROLL_CA_CMP_H

#include <getopt.h>

#include "tool.h"

enum {
	OPT_CMP = 400,
	OPT_CMP_SECRET,
	OPT_CMP_REF,
	OPT_CMP_AUTH_KEY,
	OPT_CMP_CA_TRUST,
	OPT_CMP_TIMEOUT,
};

#define CMP_LONG_OPTIONS                                                   \
	{ "cmp", required_argument, NULL, OPT_CMP },                       \
		{ "cmp-secret", required_argument, NULL, OPT_CMP_SECRET }, \
		{ "cmp-ref", required_argument, NULL, OPT_CMP_REF },       \
		{ "auth-key", required_argument, NULL, OPT_CMP_AUTH_KEY }, \
		{ "ca-trust", required_argument, NULL, OPT_CMP_CA_TRUST }, \
	{                                                                  \
		"timeout", required_argument, NULL, OPT_CMP_TIMEOUT        \
	}

#define CMP_USAGE                                                                           \
	"CA options (CMP, RFC 9810):\n"                                                     \
	"  --cmp URL         send the request to this CMP server (http://host:port/path)\n" \
	"                    and put the certificate and its chain onto the token\n"        \
	"  --cmp-secret SRC  shared secret (pass:, env:, file:, fd:), with --cmp-ref\n"     \
	"  --cmp-ref NAME    the secret's reference (senderKID) at the CA\n"                \
	"  --auth-key URI|LABEL  sign the request with this token key and its\n"            \
	"                    certificate instead\n"                                         \
	"  --ca-trust FILE   certificates that may sign the CA's answers\n"                 \
	"  --timeout S       give up after S seconds (default 60; exit 8)\n"

struct cmp_args {
	const char *url, *secret, *ref, *auth_key, *trust;
	int timeout;
};

void cmp_args_init(struct cmp_args *a);
/* 1: consumed, 0: not a CMP option, else an exit code (> 1). */
int cmp_option(struct cmp_args *a, const char *cmd, int opt, const char *arg);
/* A CMP option without --cmp: the usage exit code after a message, else 0. */
int cmp_args_check(const struct cmp_args *a, const char *cmd);
/* The library's CMP settings, the secret read from its source: 0 or the exit code. */
int cmp_args_make(struct tool *t, const struct cmp_args *a, p11e_cmp **cmp);
/* Print what p11e_cmp_enroll/renew put on the token; 0 or an exit code. */
int cmp_result_print(struct tool *t, const p11e_import_result *r, int reused);

#endif
