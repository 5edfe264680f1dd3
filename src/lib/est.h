/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * est.h - what the EST client's files share: est.c (the RFC 7030
 * operations), ca-http.c (HTTP over TLS), ca-tls.c (the TLS context) and
 * est-parse.c (the answers), and the fuzz target of est-parse.c.
 */
#ifndef P11ENROLL_EST_H
#define P11ENROLL_EST_H

#include <openssl/ssl.h>

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

/* An https URL taken apart (OSSL_HTTP_parse_url), with the EST base path. */
struct p11e__url {
	char *host;
	char *port;
	char *path; /* without a trailing '/' */
};
p11e_status p11e__url_parse(p11e_ctx *ctx, const char *url, struct p11e__url *u);
void p11e__url_clear(struct p11e__url *u);

/*
 * ca-tls.c: a TLS client context in the library's OpenSSL context: TLS 1.2
 * or later, the server verified against anchors (none: no verification,
 * for the RFC 7030 4.1.1 bootstrap only), its name or IP checked, and the
 * client certificate's key, when given, a token key of our provider.
 */
p11e_status p11e__tls_new(p11e_ctx *ctx, const char *host, STACK_OF(X509) *anchors,
                          const p11e_key *key, X509 *cert, SSL_CTX **out);

/* ca-http.c: one HTTP exchange over TLS (OSSL_HTTP_transfer). */
struct p11e__http {
	SSL_CTX *ssl;
	const struct p11e__url *url;
	int timeout;
	const char *user; /* Basic auth, or NULL */
	const p11e_pin *password;
};
/*
 * GET (body NULL) or POST body to url->path + op; the answer (2xx) in
 * *out.  HTTP 204 and 404 set *absent (for /csrattrs) when absent is given.
 * Failures: P11E_ERR_CA with the HTTP status, the TLS verification error, or
 * the connection's; P11E_ERR_TIMEOUT when the time ran out.
 */
p11e_status p11e__http_do(p11e_ctx *ctx, const struct p11e__http *h, const char *op,
                          const char *ctype, const unsigned char *body, size_t bodylen,
                          unsigned char **out, size_t *outlen, int *absent);

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
