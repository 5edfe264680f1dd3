/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-net.h - talking to a CA over the network: an https URL taken apart and
 * HTTP over TLS (ca-http.c), the TLS client context (ca-tls.c).  EST (est.c)
 * uses them.
 */
#ifndef P11ENROLL_CA_NET_H
#define P11ENROLL_CA_NET_H

#include <openssl/ssl.h>

#include "internal.h"

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

#endif
