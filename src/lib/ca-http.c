/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-http.c - HTTP to a CA through OpenSSL's own client (OSSL_HTTP_transfer),
 * with the TLS of ca-tls.c pushed onto its connection by the BIO update
 * callback.  Why OpenSSL's client and not libcurl: it takes our SSL_CTX (and
 * so the token key) as it is, CMP uses it anyway, and it is no new
 * dependency.  Proxies: given NULL, OSSL_HTTP_transfer takes https_proxy and
 * no_proxy from the environment (OSSL_HTTP_adapt_proxy); the callback then
 * sends the CONNECT before TLS starts.
 */
#include "config.h"

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca-net.h"

#define MAX_ANSWER (1L << 20)

p11e_status p11e__url_parse(p11e_ctx *ctx, const char *url, struct p11e__url *u)
{
	char *path = NULL, *query = NULL, *frag = NULL, *user = NULL;
	int ssl = 0, portnum = 0, has_user;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (!url || !*url)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no EST server URL given");
	if (!OSSL_HTTP_parse_url(url, &ssl, &user, &u->host, &u->port, &portnum, &path, &query,
	                         &frag)) {
		ERR_clear_error();
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "'%s' is not a URL https://HOST[:PORT][/PATH]", url);
	}
	OPENSSL_free(query);
	OPENSSL_free(frag);
	has_user = user && *user;
	OPENSSL_free(user); /* "" when the URL has none */
	if (!ssl || has_user) {
		OPENSSL_free(path);
		p11e__url_clear(u);
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "'%s': only https:// URLs without user:password@ are taken", url);
	}
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		path[--n] = '\0';
	if (n == 0) {
		OPENSSL_free(path);
		path = OPENSSL_strdup("/.well-known/est");
	}
	u->path = path;
	if (!u->path) {
		p11e__url_clear(u);
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	}
	return P11E_OK;
}

void p11e__url_clear(struct p11e__url *u)
{
	OPENSSL_free(u->host);
	OPENSSL_free(u->port);
	OPENSSL_free(u->path);
	memset(u, 0, sizeof(*u));
}

struct tls_info {
	SSL_CTX *ssl;
	const struct p11e__url *url;
	int use_proxy;
	int timeout;
	long verify; /* the server certificate's verification result */
	int handshake_started;
};

static BIO *tls_cb(BIO *bio, void *arg, int connect, int detail)
{
	struct tls_info *info = arg;

	if (connect && detail) {
		SSL *s;
		BIO *sbio;

		if (info->use_proxy &&
		    !OSSL_HTTP_proxy_connect(bio, info->url->host, info->url->port, NULL, NULL,
		                             info->timeout, NULL, NULL))
			return NULL;
		if (!(sbio = BIO_new(BIO_f_ssl())))
			return NULL;
		if (!(s = SSL_new(info->ssl))) {
			BIO_free(sbio);
			return NULL;
		}
		SSL_set_tlsext_host_name(s, info->url->host);
		SSL_set_connect_state(s);
		BIO_set_ssl(sbio, s, BIO_CLOSE);
		info->handshake_started = 1;
		return BIO_push(sbio, bio);
	}
	if (!connect && BIO_method_type(bio) == BIO_TYPE_SSL) {
		SSL *s = NULL;
		BIO *cbio;

		if (BIO_get_ssl(bio, &s) > 0 && s)
			info->verify = SSL_get_verify_result(s);
		(void)ERR_set_mark();
		BIO_ssl_shutdown(bio);
		cbio = BIO_pop(bio);
		BIO_free(bio);
		(void)ERR_pop_to_mark();
		return cbio;
	}
	return bio;
}

/* "Basic base64(user:password)", wiped by the caller */
static char *basic_auth(const char *user, const p11e_pin *pw)
{
	size_t ulen = strlen(user), plain_len = ulen + 1 + pw->len;
	unsigned char *plain = OPENSSL_malloc(plain_len + 1);
	size_t outlen = 6 + 4 * ((plain_len + 2) / 3) + 1;
	char *out = OPENSSL_malloc(outlen);

	if (!plain || !out) {
		OPENSSL_free(plain);
		OPENSSL_free(out);
		return NULL;
	}
	memcpy(plain, user, ulen);
	plain[ulen] = ':';
	memcpy(plain + ulen + 1, pw->data, pw->len);
	memcpy(out, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, plain, (int)plain_len);
	OPENSSL_clear_free(plain, plain_len + 1);
	return out;
}

static void headers_free(STACK_OF(CONF_VALUE) *hdrs)
{
	for (int i = 0; i < sk_CONF_VALUE_num(hdrs); i++) {
		CONF_VALUE *v = sk_CONF_VALUE_value(hdrs, i);

		if (v->value)
			OPENSSL_cleanse(v->value, strlen(v->value));
	}
	sk_CONF_VALUE_pop_free(hdrs, X509V3_conf_free);
}

/* What the error queue says about a failed exchange. */
struct failure {
	int http_code;
	char http_reason[128];
	int timed_out;
	char first[200];
	char sys[120]; /* the system's word for a failed connect */
};

static void failure_read(struct failure *f)
{
	const char *data = NULL;
	int flags = 0;
	unsigned long e;

	memset(f, 0, sizeof(*f));
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		const char *why = ERR_reason_error_string(e);
		const char *c;

		if (ERR_GET_LIB(e) == ERR_LIB_BIO && (ERR_GET_REASON(e) == BIO_R_TRANSFER_TIMEOUT ||
		                                      ERR_GET_REASON(e) == BIO_R_CONNECT_TIMEOUT))
			f->timed_out = 1;
		if (ERR_GET_LIB(e) == ERR_LIB_HTTP && ERR_GET_REASON(e) == HTTP_R_RETRY_TIMEOUT)
			f->timed_out = 1;
		if (ERR_GET_LIB(e) == ERR_LIB_SYS && !f->sys[0])
			snprintf(f->sys, sizeof(f->sys), "%s", strerror(ERR_GET_REASON(e)));
		if ((flags & ERR_TXT_STRING) && data && (c = strstr(data, "code=")) &&
		    !f->http_code) {
			const char *r = strstr(data, "reason=");

			f->http_code = atoi(c + 5);
			if (r)
				snprintf(f->http_reason, sizeof(f->http_reason), "%s", r + 7);
		}
		if (!f->first[0] && why)
			snprintf(f->first, sizeof(f->first), "%s%s%s", why,
			         (flags & ERR_TXT_STRING) && data && *data ? ": " : "",
			         (flags & ERR_TXT_STRING) && data ? data : "");
	}
}

static p11e_status http_fail(p11e_ctx *ctx, const struct p11e__http *h, const char *op,
                             const struct tls_info *info, const struct failure *f, time_t started)
{
	const char *host = h->url->host;

	if (f->http_code == 401 || f->http_code == 403)
		return p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_AUTH,
		                      "EST %s at %s: HTTP %d %s: the server refused the "
		                      "credentials",
		                      op, host, f->http_code, f->http_reason);
	if (f->http_code == 202)
		return p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_PENDING,
		                      "EST %s at %s: HTTP 202 %s: the request is pending at the "
		                      "CA, nothing was issued yet; the key stays for the next try",
		                      op, host, f->http_reason);
	if (f->http_code)
		return p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_HTTP,
		                      "EST %s at %s: HTTP %d %s", op, host, f->http_code,
		                      f->http_reason);
	if (info->verify != X509_V_OK)
		return p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_UNTRUSTED,
		                      "EST %s at %s: TLS: the server's certificate is not trusted: "
		                      "%s",
		                      op, host, X509_verify_cert_error_string(info->verify));
	if (f->timed_out || (h->timeout > 0 && time(NULL) - started >= h->timeout))
		return p11e__fail_why(ctx, P11E_ERR_TIMEOUT, P11E_REASON_CA_TIMEOUT,
		                      "EST %s at %s: no answer within %d s", op, host, h->timeout);
	if (!info->handshake_started)
		return p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_UNREACHABLE,
		                      "EST %s: cannot connect to %s port %s: %s", op, host,
		                      h->url->port,
		                      f->sys[0]     ? f->sys
		                      : f->first[0] ? f->first
		                                    : "connection failed");
	return p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_GARBAGE, "EST %s at %s: %s", op,
	                      host, f->first[0] ? f->first : "the exchange failed");
}

/*
 * The TCP connection, made here when no proxy is in the way: OSSL_HTTP_open
 * retries a refused connect until its timeout, so a server that is down
 * would look like one that does not answer.  A refusal fails at once.
 */
static BIO *connect_direct(const struct p11e__http *h, time_t started)
{
	BIO *b = BIO_new_connect(h->url->host);

	if (!b || !BIO_set_conn_port(b, h->url->port) || BIO_set_nbio(b, 1) <= 0) {
		BIO_free_all(b);
		return NULL;
	}
	for (;;) {
		if (BIO_do_connect(b) > 0)
			return b;
		if (!BIO_should_retry(b) ||
		    BIO_wait(b, h->timeout > 0 ? started + h->timeout : 0, 100) <= 0) {
			BIO_free_all(b);
			return NULL;
		}
	}
}

p11e_status p11e__http_do(p11e_ctx *ctx, const struct p11e__http *h, const char *op,
                          const char *ctype, const unsigned char *body, size_t bodylen,
                          unsigned char **out, size_t *outlen, int *absent)
{
	STACK_OF(CONF_VALUE) *hdrs = NULL;
	struct tls_info info;
	struct failure f;
	BIO *req = NULL, *resp = NULL;
	char path[1024], *auth = NULL;
	OSSL_HTTP_REQ_CTX *rctx = NULL;
	BIO *conn = NULL; /* ours when given to OSSL_HTTP_transfer */
	unsigned char *buf = NULL;
	size_t want;
	long n;
	time_t started = time(NULL);
	p11e_status st = P11E_OK;

	*out = NULL;
	*outlen = 0;
	if (absent)
		*absent = 0;
	memset(&info, 0, sizeof(info));
	info.ssl = h->ssl;
	info.url = h->url;
	info.timeout = h->timeout;
	info.verify = X509_V_OK;
	info.use_proxy = OSSL_HTTP_adapt_proxy(NULL, NULL, h->url->host, 1) != NULL;
	ERR_clear_error();
	if (!info.use_proxy && !(conn = connect_direct(h, started))) {
		failure_read(&f);
		st = http_fail(ctx, h, op, &info, &f, started);
		goto done;
	}
	snprintf(path, sizeof(path), "%s/%s", h->url->path, op);
	if (h->user) {
		if (!(auth = basic_auth(h->user, h->password)) ||
		    !X509V3_add_value("Authorization", auth, &hdrs)) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
	}
	if (body) {
		if (!X509V3_add_value("Content-Transfer-Encoding", "base64", &hdrs) ||
		    !(req = BIO_new_mem_buf(body, (int)bodylen))) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
	}
	p11e__log(ctx, P11E_LOG_INFO, "EST: %s https://%s:%s%s", body ? "POST" : "GET",
	          h->url->host, h->url->port, path);
	ERR_clear_error();
	/*
	 * keep_alive 1 and our own rctx: OSSL_HTTP_transfer hands a body that is
	 * not ASN.1 back as the connection's stream, which must stay open
	 * until it is read (OSSL_HTTP_close below)
	 */
	resp = OSSL_HTTP_transfer(&rctx, h->url->host, h->url->port, path, 1, NULL, NULL, conn,
	                          NULL, tls_cb, &info, 0, hdrs, body ? ctype : NULL, req, NULL, 0,
	                          MAX_ANSWER, h->timeout, 1);
	if (!resp) {
		failure_read(&f);
		if (absent && (f.http_code == 204 || f.http_code == 404)) {
			*absent = 1;
			goto done;
		}
		st = http_fail(ctx, h, op, &info, &f, started);
		goto done;
	}
	want = rctx ? OSSL_HTTP_REQ_CTX_get_resp_len(rctx) : 0;
	if (!(buf = malloc(MAX_ANSWER + 1))) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	/* to Content-Length, else to the end of the stream, within the time left */
	for (n = 0; n < MAX_ANSWER && (!want || (size_t)n < want);) {
		int r = BIO_read(resp, buf + n, (int)(MAX_ANSWER - n));

		if (r > 0) {
			n += r;
			continue;
		}
		if (!BIO_should_retry(resp))
			break;
		if (BIO_wait(resp, h->timeout > 0 ? started + h->timeout : 0, 100) <= 0) {
			failure_read(&f);
			f.timed_out = 1;
			st = http_fail(ctx, h, op, &info, &f, started);
			goto done;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = (size_t)n;
	buf = NULL;
done:
	ERR_clear_error();
	free(buf);
	BIO_free(resp); /* our reference; the connection goes with rctx */
	if (rctx)
		(void)OSSL_HTTP_close(rctx, st == P11E_OK);
	BIO_free_all(conn);
	BIO_free(req);
	headers_free(hdrs);
	if (auth)
		OPENSSL_clear_free(auth, strlen(auth));
	return st;
}
