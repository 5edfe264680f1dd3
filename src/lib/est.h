/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * est.h - the EST client (est.c, the RFC 7030 operations): its settings,
 * and what it uses of ca-net.h (HTTP over TLS) and est-parse.h (the
 * answers).
 */
#ifndef P11ENROLL_EST_H
#define P11ENROLL_EST_H

#include "ca-net.h"
#include "est-parse.h"
#include "internal.h"
#include "p11enroll-ca.h"

struct p11e_est {
	char *url;
	char *trust;          /* PEM file of trust anchors */
	unsigned char fp[32]; /* SHA-256 fingerprint, when have_fp */
	int have_fp;
	char *user; /* HTTP Basic */
	p11e_pin *password;
	char *auth_key; /* TLS client authentication */
	int timeout;
};

#endif
