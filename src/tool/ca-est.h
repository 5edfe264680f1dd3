/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-est.h - the EST options cacerts, enroll and renew share.
 */
#ifndef P11ENROLL_CA_EST_H
#define P11ENROLL_CA_EST_H

#include <getopt.h>

#include "tool.h"

enum {
	OPT_EST = 400,
	OPT_CA_TRUST,
	OPT_CA_FINGERPRINT,
	OPT_AUTH_USER,
	OPT_AUTH_PASSWORD,
	OPT_AUTH_KEY,
	OPT_TIMEOUT,
};

#define EST_LONG_OPTIONS                                                           \
	{ "est", required_argument, NULL, OPT_EST },                               \
		{ "ca-trust", required_argument, NULL, OPT_CA_TRUST },             \
		{ "ca-fingerprint", required_argument, NULL, OPT_CA_FINGERPRINT }, \
		{ "auth-user", required_argument, NULL, OPT_AUTH_USER },           \
		{ "auth-password", required_argument, NULL, OPT_AUTH_PASSWORD },   \
		{ "auth-key", required_argument, NULL, OPT_AUTH_KEY },             \
	{                                                                          \
		"timeout", required_argument, NULL, OPT_TIMEOUT                    \
	}

/* the option names for the command table (main.c) */
#define EST_OPTIONS "est= ca-trust= ca-fingerprint= auth-user= auth-password= auth-key= timeout="

#define EST_TRUST_USAGE                                                                 \
	"  --ca-trust FILE   trust the EST server through these PEM anchors only\n"     \
	"  --ca-fingerprint SHA256:HEX\n"                                               \
	"                    first contact: trust the /cacerts certificate with this\n" \
	"                    SHA-256 fingerprint (RFC 7030 4.1.1)\n"                    \
	"  --timeout S       seconds for each exchange with the server (default 60)\n"

#define EST_USAGE                                                                                  \
	"  --est URL         enrol at this EST server (https://HOST[:PORT][/PATH]; no\n"           \
	"                    path: /.well-known/est) and import the certificate\n" EST_TRUST_USAGE \
	"  --auth-user NAME  HTTP Basic authentication as NAME\n"                                  \
	"  --auth-password SRC\n"                                                                  \
	"                    its password: env:VAR, file:PATH, fd:N, stdin, pass:PW\n"             \
	"  --auth-key URI|LABEL\n"                                                                 \
	"                    TLS client authentication with this token key and its\n"              \
	"                    certificate\n"

struct est_args {
	const char *url, *trust, *fingerprint, *user, *password, *auth_key;
	int timeout;
};

void est_args_init(struct est_args *a);
/* 1: consumed, 0: not an EST option, else an exit code (> 1). */
int est_option(struct est_args *a, const char *cmd, int opt, const char *arg);
/* An EST option without --est: 0, or the exit code after a message. */
int est_args_check(const struct est_args *a, const char *cmd);
/* The library's EST builder (reads the password): 0, or the exit code after a message. */
int est_args_build(struct tool *t, const struct est_args *a, const char *cmd, p11e_est **est);
/*
 * enroll --label name --est (cmd "enroll") or renew --key name --est (cmd
 * "renew"): log in, talk to the CA, print what was put on the token.
 */
int est_enroll_run(struct tool *t, const struct est_args *a, const char *cmd, const char *type,
                   const char *name, const p11e_req *req);

#endif
