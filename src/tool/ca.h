/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca.h - the certificate authority options of enroll and renew (--cmp or
 * --est, and the trust, authentication and time limit both share), of
 * cacerts (EST), and what a CA's answer prints.  ca.c parses, checks and
 * runs them; ca-cmp.c and ca-est.c turn them into the library's builders.
 */
#ifndef P11ENROLL_TOOL_CA_H
#define P11ENROLL_TOOL_CA_H

#include <getopt.h>

#include "tool.h"

enum {
	OPT_CMP = 400,
	OPT_CMP_SECRET,
	OPT_CMP_REF,
	OPT_EST,
	OPT_CA_FINGERPRINT,
	OPT_AUTH_USER,
	OPT_AUTH_PASSWORD,
	OPT_AUTH_KEY,
	OPT_CA_TRUST,
	OPT_CA_TIMEOUT,
};

/* what every command with a CA shares: the server's trust and the time limit */
#define CA_TRUST_LONG_OPTIONS                                                      \
	{ "est", required_argument, NULL, OPT_EST },                               \
		{ "ca-trust", required_argument, NULL, OPT_CA_TRUST },             \
		{ "ca-fingerprint", required_argument, NULL, OPT_CA_FINGERPRINT }, \
	{                                                                          \
		"timeout", required_argument, NULL, OPT_CA_TIMEOUT                 \
	}

/* enroll and renew: either protocol, and how to authenticate */
#define CA_LONG_OPTIONS                                                          \
	CA_TRUST_LONG_OPTIONS, { "cmp", required_argument, NULL, OPT_CMP },      \
		{ "cmp-secret", required_argument, NULL, OPT_CMP_SECRET },       \
		{ "cmp-ref", required_argument, NULL, OPT_CMP_REF },             \
		{ "auth-user", required_argument, NULL, OPT_AUTH_USER },         \
		{ "auth-password", required_argument, NULL, OPT_AUTH_PASSWORD }, \
	{                                                                        \
		"auth-key", required_argument, NULL, OPT_AUTH_KEY                \
	}

/* the option names for the command table (main.c) */
#define CA_TRUST_OPTIONS "est= ca-trust= ca-fingerprint= timeout="
#define CA_OPTIONS                                                               \
	CA_TRUST_OPTIONS " cmp= cmp-secret= cmp-ref= auth-user= auth-password= " \
			 "auth-key="

#define CA_TRUST_USAGE                                                                      \
	"  --ca-trust FILE   trust the CA through these certificates only (CMP: those\n"    \
	"                    that sign its answers; EST: anchors of its TLS certificate)\n" \
	"  --ca-fingerprint SHA256:HEX\n"                                                   \
	"                    EST first contact: trust the /cacerts certificate with this\n" \
	"                    SHA-256 fingerprint (RFC 7030 4.1.1)\n"                        \
	"  --timeout S       give up after S seconds (1 to 3600, default 60; exit 8)\n"

#define CA_USAGE                                                                                \
	"CA options (the certificate and its chain go onto the token; no request file):\n"      \
	"  --cmp URL         enrol at this CMP server (RFC 9810, http://HOST:PORT/PATH)\n"      \
	"  --cmp-secret SRC  CMP shared secret (env:, file:, fd:, pass:), with --cmp-ref\n"     \
	"  --cmp-ref NAME    the secret's reference (senderKID) at the CA\n"                    \
	"  --est URL         enrol at this EST server (RFC 7030, https://HOST[:PORT][/PATH];\n" \
	"                    no path: /.well-known/est)\n" CA_TRUST_USAGE                       \
	"  --auth-user NAME  EST: HTTP Basic authentication as NAME\n"                          \
	"  --auth-password SRC\n"                                                               \
	"                    its password: env:VAR, file:PATH, fd:N, stdin, pass:PW\n"          \
	"  --auth-key URI|LABEL\n"                                                              \
	"                    authenticate with this token key and its certificate (CMP:\n"      \
	"                    signed messages; EST: TLS client certificate)\n"

struct ca_args {
	const char *cmp, *secret, *ref;                  /* CMP */
	const char *est, *fingerprint, *user, *password; /* EST */
	const char *auth_key, *trust;                    /* either */
	int timeout;                                     /* -1: not given */
};

void ca_args_init(struct ca_args *a);
/* 1: consumed, 0: not a CA option, else an exit code (> 1). */
int ca_option(struct ca_args *a, const char *cmd, int opt, const char *arg);
/* Options that do not go together: the usage exit code after a message, else 0. */
int ca_args_check(const struct ca_args *a, const char *cmd);
/*
 * enroll --label NAME (cmd "enroll") or renew --key NAME (cmd "renew") at
 * the CA of --cmp or --est: log in, enrol, put the
 * certificate onto the token, print the result; 0 or the exit code.
 */
int ca_run(struct tool *t, const struct ca_args *a, const char *cmd, const char *type,
           const char *name, const unsigned char *id, size_t id_len, const p11e_req *req);

/* ca-cmp.c: the library's CMP settings, the secret read from its source. */
int ca_cmp_make(struct tool *t, const struct ca_args *a, p11e_cmp **cmp);
/* ca-est.c: the library's EST settings (the password read): 0 or the exit code. */
int ca_est_make(struct tool *t, const struct ca_args *a, const char *cmd, p11e_est **est);

#endif
