/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * est-parse.h - reading an EST server's answers (est-parse.c): for est.c
 * and the fuzz target fuzz-est.
 */
#ifndef P11ENROLL_EST_PARSE_H
#define P11ENROLL_EST_PARSE_H

#include <openssl/x509.h>

#include "internal.h"

/*
 * est-parse.c: the certificates of a /cacerts or /simpleenroll answer:
 * base64 (whitespace and CRLF tolerated, RFC 8951) of a DER PKCS#7
 * certs-only.  P11E_ERR_CA, P11E_REASON_CA_GARBAGE if it is not that.  The
 * fuzz target calls it.
 */
p11e_status p11e__est_parse_certs(p11e_ctx *ctx, const char *what, const unsigned char *buf,
                                  size_t len, STACK_OF(X509) **out);
/* The attribute and OID names a /csrattrs answer asks for, one line (allocated). */
p11e_status p11e__est_parse_csrattrs(p11e_ctx *ctx, const unsigned char *buf, size_t len,
                                     char **names);

#endif
