/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * est.c - Enrolment over Secure Transport (RFC 7030, RFC 8951): /cacerts,
 * /csrattrs, /simpleenroll and /simplereenroll, with the key on the token
 * inside the TLS of ca-tls.c and HTTP of ca-http.c.  The server is trusted
 * through an anchor file, or once through a fingerprint of a /cacerts
 * certificate (RFC 7030 4.1.1), never "any server".  What the CA returns
 * is checked (its key is the token key) before anything is written, and
 * written by the import code, bound by public key.
 */
#include "config.h"

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "est.h"

#define DEFAULT_TIMEOUT 60

/* --- the builder --------------------------------------------------------- */

p11e_est *p11e_est_new(void)
{
	p11e_est *e = calloc(1, sizeof(*e));

	if (e)
		e->timeout = DEFAULT_TIMEOUT;
	return e;
}

void p11e_est_free(p11e_est *e)
{
	if (!e)
		return;
	free(e->url);
	free(e->trust);
	free(e->user);
	free(e->auth_key);
	p11e_pin_free(e->password);
	OPENSSL_cleanse(e, sizeof(*e));
	free(e);
}

static p11e_status set_str(char **dst, const char *src)
{
	char *c = NULL;

	if (src && !(c = strdup(src)))
		return P11E_ERR_FAILED;
	free(*dst);
	*dst = c;
	return P11E_OK;
}

p11e_status p11e_est_set_url(p11e_est *e, const char *url)
{
	return e ? set_str(&e->url, url) : P11E_ERR_USAGE;
}

p11e_status p11e_est_set_trust(p11e_est *e, const char *file)
{
	return e ? set_str(&e->trust, file) : P11E_ERR_USAGE;
}

p11e_status p11e_est_set_fingerprint(p11e_est *e, const char *fp)
{
	size_t n = 0;

	if (!e)
		return P11E_ERR_USAGE;
	e->have_fp = 0;
	if (!fp)
		return P11E_OK;
	if (strncasecmp(fp, "SHA256:", 7) != 0)
		return P11E_ERR_USAGE;
	for (const char *p = fp + 7; *p; p++) {
		int hi, lo;

		if (*p == ':')
			continue;
		if (n == sizeof(e->fp) || !isxdigit((unsigned char)p[0]) ||
		    !isxdigit((unsigned char)p[1]))
			return P11E_ERR_USAGE;
		hi = OPENSSL_hexchar2int((unsigned char)p[0]);
		lo = OPENSSL_hexchar2int((unsigned char)p[1]);
		e->fp[n++] = (unsigned char)(hi << 4 | lo);
		p++;
	}
	if (n != sizeof(e->fp))
		return P11E_ERR_USAGE;
	e->have_fp = 1;
	return P11E_OK;
}

p11e_status p11e_est_set_basic_auth(p11e_est *e, const char *user, const p11e_pin *pw)
{
	if (!e || (user && !pw))
		return P11E_ERR_USAGE;
	p11e_pin_free(e->password);
	e->password = NULL;
	if (set_str(&e->user, user) != P11E_OK)
		return P11E_ERR_FAILED;
	if (user && !(e->password = p11e__pin_new(pw->data, pw->len)))
		return P11E_ERR_FAILED;
	return P11E_OK;
}

p11e_status p11e_est_set_auth_key(p11e_est *e, const char *keyspec)
{
	return e ? set_str(&e->auth_key, keyspec) : P11E_ERR_USAGE;
}

p11e_status p11e_est_set_timeout(p11e_est *e, int seconds)
{
	if (!e || seconds <= 0)
		return P11E_ERR_USAGE;
	e->timeout = seconds;
	return P11E_OK;
}

/* --- a session with the server -------------------------------------------- */

struct est_session {
	struct p11e__url url;
	STACK_OF(X509) *anchors;
	STACK_OF(X509) *cacerts; /* what /cacerts returned over verified TLS */
	SSL_CTX *ssl;
	struct p11e__http http;
};

static void session_clear(struct est_session *s)
{
	p11e__url_clear(&s->url);
	sk_X509_pop_free(s->anchors, X509_free);
	sk_X509_pop_free(s->cacerts, X509_free);
	SSL_CTX_free(s->ssl);
	memset(s, 0, sizeof(*s));
}

static p11e_status get_cacerts(p11e_ctx *ctx, struct est_session *s, STACK_OF(X509) **out)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	p11e_status st;

	s->http.ssl = s->ssl;
	st = p11e__http_do(ctx, &s->http, "cacerts", NULL, NULL, 0, &buf, &len, NULL);
	if (st == P11E_OK)
		st = p11e__est_parse_certs(ctx, "cacerts", buf, len, out);
	free(buf);
	return st;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* RFC 7030 4.1.1: /cacerts without verification, only to find the fingerprint */
static p11e_status bootstrap(p11e_ctx *ctx, const p11e_est *e, struct est_session *s)
{
	STACK_OF(X509) *certs = NULL;
	char want[65];
	p11e_status st;

	st = p11e__tls_new(ctx, s->url.host, NULL, NULL, NULL, &s->ssl);
	if (st == P11E_OK)
		st = get_cacerts(ctx, s, &certs);
	SSL_CTX_free(s->ssl);
	s->ssl = NULL;
	if (st != P11E_OK)
		return st;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		unsigned char md[32];
		unsigned int mdlen = 0;

		if (X509_digest(c, EVP_sha256(), md, &mdlen) && mdlen == sizeof(md) &&
		    memcmp(md, e->fp, sizeof(md)) == 0 && X509_up_ref(c)) {
			if (!(s->anchors = sk_X509_new_null()) || !sk_X509_push(s->anchors, c)) {
				X509_free(c);
				st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			}
			sk_X509_pop_free(certs, X509_free);
			return st;
		}
	}
	sk_X509_pop_free(certs, X509_free);
	hex(e->fp, sizeof(e->fp), want);
	return p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_FINGERPRINT,
	                      "EST cacerts at %s: no CA certificate has the SHA-256 fingerprint "
	                      "%s: this is not the server you meant to trust",
	                      s->url.host, want);
}

/*
 * Parse the URL, settle the trust anchors, make the TLS context (with the
 * client key, when given) and fetch /cacerts over verified TLS.
 */
static p11e_status session_open(p11e_ctx *ctx, const p11e_est *e, const p11e_key *key, X509 *cert,
                                struct est_session *s)
{
	p11e_status st;

	memset(s, 0, sizeof(*s));
	if (!e)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no EST server given");
	if (!e->trust && !e->have_fp)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_CA_NO_TRUST,
		                      "the EST server cannot be trusted without a trust anchor or "
		                      "the CA's fingerprint");
	st = p11e__url_parse(ctx, e->url, &s->url);
	if (st != P11E_OK)
		return st;
	s->http.url = &s->url;
	s->http.timeout = e->timeout;
	s->http.user = e->user;
	s->http.password = e->password;
	if (e->trust)
		st = p11e__certs_read(ctx, e->trust, &s->anchors);
	else
		st = bootstrap(ctx, e, s);
	if (st == P11E_OK)
		st = p11e__tls_new(ctx, s->url.host, s->anchors, key, cert, &s->ssl);
	if (st == P11E_OK)
		st = get_cacerts(ctx, s, &s->cacerts);
	return st;
}

/* --- cacerts -------------------------------------------------------------- */

void p11e_cacert_list_free(p11e_cacert *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].subject);
		free(list[i].issuer);
	}
	free(list);
}

static char *name_text(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL, *data;
	long n;

	if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &data)) >= 0 && (s = malloc((size_t)n + 1))) {
		memcpy(s, data, (size_t)n);
		s[n] = '\0';
	}
	BIO_free(b);
	return s;
}

p11e_status p11e_est_cacerts(p11e_ctx *ctx, const p11e_est *e, p11e_cacert **list, size_t *count,
                             unsigned char **pem, size_t *pemlen)
{
	struct est_session s;
	p11e_cacert *l = NULL;
	BIO *b = NULL;
	char *data;
	long n;
	int num;
	p11e_status st;

	p11e__clear_error(ctx);
	*list = NULL;
	*count = 0;
	*pem = NULL;
	*pemlen = 0;
	st = session_open(ctx, e, NULL, NULL, &s);
	if (st != P11E_OK)
		goto done;
	num = sk_X509_num(s.cacerts);
	if (!(l = calloc((size_t)num, sizeof(*l))) || !(b = BIO_new(BIO_s_mem()))) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	for (int i = 0; i < num; i++) {
		X509 *c = sk_X509_value(s.cacerts, i);
		unsigned char md[32];
		unsigned int mdlen = 0;

		l[i].subject = name_text(X509_get_subject_name(c));
		l[i].issuer = name_text(X509_get_issuer_name(c));
		l[i].authority = X509_check_ca(c) > 0;
		if (!l[i].subject || !l[i].issuer || !X509_digest(c, EVP_sha256(), md, &mdlen) ||
		    !PEM_write_bio_X509(b, c)) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
		hex(md, mdlen, l[i].fingerprint);
	}
	n = BIO_get_mem_data(b, &data);
	if (n <= 0 || !(*pem = malloc((size_t)n))) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	memcpy(*pem, data, (size_t)n);
	*pemlen = (size_t)n;
	*list = l;
	*count = (size_t)num;
	l = NULL;
done:
	p11e_cacert_list_free(l, (size_t)sk_X509_num(s.cacerts));
	BIO_free(b);
	session_clear(&s);
	ERR_clear_error();
	return st;
}

/* --- enrolment ------------------------------------------------------------ */

/* /csrattrs: what the CA asks the request to hold, told (not applied: see the guide) */
static p11e_status csrattrs(p11e_ctx *ctx, struct est_session *s)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	char *names = NULL;
	int absent = 0;
	p11e_status st;

	st = p11e__http_do(ctx, &s->http, "csrattrs", NULL, NULL, 0, &buf, &len, &absent);
	if (st == P11E_ERR_TIMEOUT)
		goto done;
	if (st == P11E_OK && !absent && len > 0 &&
	    p11e__est_parse_csrattrs(ctx, buf, len, &names) == P11E_OK && names && *names)
		p11e__log(ctx, P11E_LOG_NOTE, "the CA asks the request for: %s", names);
	else if (st != P11E_OK || (!absent && len > 0 && !names))
		p11e__log(ctx, P11E_LOG_WARN, "EST csrattrs not read (%s): going on without",
		          p11e_error_message(ctx));
	p11e__clear_error(ctx);
	st = P11E_OK;
done:
	free(buf);
	free(names);
	return st;
}

/*
 * POST the request, find the certificate for key in the answer, and import
 * it with its chain from /cacerts.
 */
static p11e_status issue(p11e_ctx *ctx, struct est_session *s, const char *op, const p11e_key *key,
                         const unsigned char *der, size_t derlen, p11e_import_result *res)
{
	STACK_OF(X509) *got = NULL, *leafs = NULL, *chain = NULL;
	unsigned char *b64 = NULL, *buf = NULL;
	EVP_PKEY *pub = NULL;
	X509 *leaf = NULL;
	size_t len = 0;
	p11e_status st;

	if (!(b64 = malloc(4 * ((derlen + 2) / 3) + 1)))
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	EVP_EncodeBlock(b64, der, (int)derlen);
	st = p11e__http_do(ctx, &s->http, op, "application/pkcs10", b64, strlen((char *)b64), &buf,
	                   &len, NULL);
	if (st == P11E_OK)
		st = p11e__est_parse_certs(ctx, op, buf, len, &got);
	if (st == P11E_OK)
		st = p11e__key_public(ctx, key, &pub);
	for (int i = 0; st == P11E_OK && !leaf && i < sk_X509_num(got); i++)
		if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(got, i)), pub) == 1)
			leaf = sk_X509_value(got, i);
	ERR_clear_error();
	if (st == P11E_OK && !leaf)
		st = p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_OTHER_KEY,
		                    "EST %s at %s: the CA returned a certificate for another key "
		                    "than '%s': refused, nothing was written",
		                    op, s->url.host, key->label);
	if (st == P11E_OK && (!(leafs = sk_X509_new_null()) || !sk_X509_push(leafs, leaf) ||
	                      !p11e__issuer_path(s->cacerts, leaf, &chain)))
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	if (st == P11E_OK)
		st = p11e__import_certs(ctx, leafs, chain, "the EST answer", "the EST /cacerts",
		                        key->uri, NULL, 0, res);
	sk_X509_free(leafs);
	sk_X509_free(chain);
	sk_X509_pop_free(got, X509_free);
	EVP_PKEY_free(pub);
	free(buf);
	free(b64);
	return st;
}

/* The key of keyspec and its newest certificate, for TLS client authentication. */
static p11e_status auth_key(p11e_ctx *ctx, const char *keyspec, p11e_key *key, X509 **cert)
{
	p11e_status st = p11e_key_find(ctx, keyspec, key);

	*cert = NULL;
	if (st == P11E_OK && (st = p11e__key_newest_cert(ctx, key, cert)) != P11E_OK)
		p11e_key_clear(key);
	return st;
}

p11e_status p11e_est_enroll(p11e_ctx *ctx, const p11e_est *e, const char *type, const char *label,
                            const p11e_req *req, int *reused, p11e_import_result *res)
{
	struct est_session s;
	p11e_key key, akey;
	X509 *acert = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	int done = 0;
	p11e_status st;

	p11e__clear_error(ctx);
	memset(res, 0, sizeof(*res));
	memset(&key, 0, sizeof(key));
	memset(&akey, 0, sizeof(akey));
	memset(&s, 0, sizeof(s));
	*reused = 0;
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	st = p11e__ca_enrolled(ctx, label, res, &done);
	if (st != P11E_OK || done)
		return st;
	if (e && e->auth_key && (st = auth_key(ctx, e->auth_key, &akey, &acert)) != P11E_OK)
		return st;
	/* the server and its trust first: a CA that cannot be reached leaves no key */
	st = session_open(ctx, e, acert ? &akey : NULL, acert, &s);
	if (st == P11E_OK)
		st = csrattrs(ctx, &s);
	if (st == P11E_OK)
		st = p11e_enroll(ctx, type, label, NULL, 0, req, P11E_FORMAT_DER, &key, reused,
		                 &der, &derlen);
	if (st == P11E_OK) {
		st = issue(ctx, &s, "simpleenroll", &key, der, derlen, res);
		/* not after HTTP 202: the CA holds the request for that key */
		if (st != P11E_OK && !*reused && ctx->reason != P11E_REASON_CA_PENDING)
			p11e__ca_take_back(ctx, &key);
	}
	p11e_free(der);
	p11e_key_clear(&key);
	p11e_key_clear(&akey);
	X509_free(acert);
	session_clear(&s);
	return st;
}

p11e_status p11e_est_renew(p11e_ctx *ctx, const p11e_est *e, const char *keyspec, const char *type,
                           const p11e_req *req, int *reused, p11e_import_result *res)
{
	struct est_session s;
	p11e_key old, key;
	X509 *cert = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	p11e_status st;

	p11e__clear_error(ctx);
	memset(res, 0, sizeof(*res));
	memset(&key, 0, sizeof(key));
	memset(&s, 0, sizeof(s));
	*reused = 0;
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	/* re-enrolment: TLS with the old key and certificate (RFC 7030 4.2.2) */
	st = auth_key(ctx, keyspec, &old, &cert);
	if (st != P11E_OK)
		return st;
	st = session_open(ctx, e, &old, cert, &s);
	if (st == P11E_OK)
		st = p11e_renew(ctx, keyspec, type, req, P11E_FORMAT_DER, &key, reused, &der,
		                &derlen);
	if (st == P11E_OK) {
		st = issue(ctx, &s, "simplereenroll", &key, der, derlen, res);
		/* not after HTTP 202: the CA holds the request for that key */
		if (st != P11E_OK && !*reused && ctx->reason != P11E_REASON_CA_PENDING)
			p11e__ca_take_back(ctx, &key);
	}
	p11e_free(der);
	p11e_key_clear(&key);
	p11e_key_clear(&old);
	X509_free(cert);
	session_clear(&s);
	return st;
}
