/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmp.c - CMP (RFC 9810, RFC 4210) through OpenSSL's OSSL_CMP_* in the
 * library's own OpenSSL context, so every signature a message needs (the
 * request, its proof of possession, signature protection) is made by a
 * token key through our provider: no key leaves the token.
 *
 * enroll sends the PKCS#10 request enroll builds as a p10cr: the request
 * is the proof of possession, and subject, extensions, profile checks and
 * the engine backend stay exactly what csr and enroll do.  renew sends a
 * kur (a CRMF request; RFC 4210 has no p10 key update) with the new token
 * key as newPkey, which signs the CRMF proof of possession, and the old
 * key and certificate as the signer of the message.
 *
 * The answer is checked before anything goes onto the token: its
 * protection (the shared secret, or a signature from a certificate that
 * chains to the trust file), and, in the certConf callback, that the
 * certificate carries the token key's public key - else the CA is told
 * so in certConf and nothing is imported.
 */
#include "config.h"

#include <openssl/bioerr.h>
#include <openssl/cmp.h>
#include <openssl/cmperr.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmp.h"
#include "internal.h"
#include "provider.h"

struct p11e_cmp {
	char *url;
	char *trust;
	int timeout;
	char *ref;
	char *secret; /* wiped on free */
	size_t secret_len;
	char *auth_key;
};

p11e_cmp *p11e_cmp_new(void)
{
	p11e_cmp *c = calloc(1, sizeof(*c));

	if (c)
		c->timeout = 60;
	return c;
}

static void secret_clear(p11e_cmp *c)
{
	if (c->secret) {
		OPENSSL_cleanse(c->secret, c->secret_len);
		free(c->secret);
	}
	c->secret = NULL;
	c->secret_len = 0;
}

void p11e_cmp_free(p11e_cmp *c)
{
	if (!c)
		return;
	free(c->url);
	free(c->trust);
	free(c->ref);
	free(c->auth_key);
	secret_clear(c);
	free(c);
}

static p11e_status set_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (src && !(copy = strdup(src)))
		return P11E_ERR_FAILED;
	free(*dst);
	*dst = copy;
	return P11E_OK;
}

p11e_status p11e_cmp_set_url(p11e_cmp *c, const char *url)
{
	return c ? set_str(&c->url, url) : P11E_ERR_USAGE;
}

p11e_status p11e_cmp_set_trust(p11e_cmp *c, const char *path)
{
	return c ? set_str(&c->trust, path) : P11E_ERR_USAGE;
}

p11e_status p11e_cmp_set_timeout(p11e_cmp *c, int seconds)
{
	if (!c || seconds < 0)
		return P11E_ERR_USAGE;
	c->timeout = seconds;
	return P11E_OK;
}

p11e_status p11e_cmp_set_auth_key(p11e_cmp *c, const char *keyspec)
{
	return c ? set_str(&c->auth_key, keyspec) : P11E_ERR_USAGE;
}

p11e_status p11e_cmp_set_secret(p11e_cmp *c, const char *ref, const p11e_pin *secret)
{
	if (!c || (secret && !ref))
		return P11E_ERR_USAGE;
	secret_clear(c);
	if (set_str(&c->ref, ref) != P11E_OK)
		return P11E_ERR_FAILED;
	if (!secret)
		return P11E_OK;
	if (!(c->secret = malloc(secret->len + 1)))
		return P11E_ERR_FAILED;
	memcpy(c->secret, secret->data, secret->len);
	c->secret[secret->len] = '\0';
	c->secret_len = secret->len;
	return P11E_OK;
}

/* --- the exchange ------------------------------------------------------ */

/* OSSL_CMP's log callback has no argument: the context of the exchange in this thread */
static __thread p11e_ctx *log_ctx;

static int cmp_log(const char *func, const char *file, int line, OSSL_CMP_severity level,
                   const char *msg)
{
	(void)file;
	(void)line;
	if (log_ctx)
		p11e__log(log_ctx, level <= OSSL_CMP_LOG_WARNING ? P11E_LOG_INFO : P11E_LOG_DEBUG,
		          "CMP %s: %s", func ? func : "", msg);
	return 1;
}

/* The certConf callback: the certificate must be for the token key. */
static int cert_check(OSSL_CMP_CTX *cc, X509 *cert, int fail_info, const char **txt)
{
	struct p11e__cmp_run *run = OSSL_CMP_CTX_get_certConf_cb_arg(cc);
	EVP_PKEY *pub = X509_get0_pubkey(cert);

	/* the chain came with this answer; the one to certConf (pkiConf) has none */
	sk_X509_pop_free(run->ca_pubs, X509_free);
	sk_X509_pop_free(run->extra, X509_free);
	run->ca_pubs = OSSL_CMP_CTX_get1_caPubs(cc);
	run->extra = OSSL_CMP_CTX_get1_extraCertsIn(cc);
	/* OpenSSL may have found the mismatch itself already (fail_info set) */
	if (!pub || EVP_PKEY_eq(pub, run->want) != 1) {
		run->other_key = 1;
		if (fail_info == 0) {
			*txt = "the certificate is not for the public key of the request";
			return 1 << OSSL_CMP_PKIFAILUREINFO_badCertTemplate;
		}
	}
	/*
	 * not OSSL_CMP_certConf_cb: it takes the callback argument for a trust
	 * store of its own (out_trusted); the chain is checked on import
	 */
	return fail_info;
}

static p11e_status trust_store(p11e_ctx *ctx, const char *path, X509_STORE **out)
{
	STACK_OF(X509) *certs = NULL;
	X509_STORE *store = NULL;
	p11e_status st = p11e__certs_read(ctx, path, &certs);

	*out = NULL;
	if (st == P11E_OK && !(store = X509_STORE_new()))
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	for (int i = 0; st == P11E_OK && i < sk_X509_num(certs); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(certs, i)))
			st = p11e__fail_ossl(ctx, P11E_ERR_INPUT, path);
	sk_X509_pop_free(certs, X509_free);
	if (st != P11E_OK)
		X509_STORE_free(store);
	else
		*out = store;
	return st;
}

static p11e_status set_server(p11e_ctx *ctx, OSSL_CMP_CTX *cc, const char *url)
{
	char *host = NULL, *path = NULL;
	int ssl = 0, port = 0;
	p11e_status st = P11E_OK;

	if (!OSSL_HTTP_parse_url(url, &ssl, NULL, &host, NULL, &port, &path, NULL, NULL)) {
		ERR_clear_error();
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "'%s' is not a CMP server URL (http://host[:port]/path)", url);
	}
	if (ssl)
		st = p11e__fail(ctx, P11E_ERR_USAGE,
		                "'%s': CMP over https is not supported yet; CMP protects its "
		                "messages itself: use http://",
		                url);
	else if (!OSSL_CMP_CTX_set1_server(cc, host) || !OSSL_CMP_CTX_set_serverPort(cc, port) ||
	         !OSSL_CMP_CTX_set1_serverPath(cc, path))
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set the CMP server");
	OPENSSL_free(host);
	OPENSSL_free(path);
	return st;
}

/* Signature protection: the key and its newest certificate on the token. */
static p11e_status set_signer(p11e_ctx *ctx, OSSL_CMP_CTX *cc, const p11e_key *key);

p11e_status p11e__cmp_signer(struct p11e__cmp_run *run, const p11e_key *key)
{
	/* an auth key the caller chose signs instead (p11e__cmp_begin set it) */
	if (run->cmp->auth_key && !run->cmp->secret)
		return P11E_OK;
	return set_signer(run->ctx, run->cc, key);
}

static p11e_status set_signer(p11e_ctx *ctx, OSSL_CMP_CTX *cc, const p11e_key *key)
{
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	p11e_status st = p11e__key_newest_cert(ctx, key, &cert);

	if (st == P11E_OK)
		st = p11e__key_evp(ctx, key, &pkey);
	if (st == P11E_OK &&
	    (!OSSL_CMP_CTX_set1_cert(cc, cert) || !OSSL_CMP_CTX_set1_pkey(cc, pkey)))
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set the CMP signer");
	EVP_PKEY_free(pkey);
	X509_free(cert);
	return st;
}

p11e_status p11e__cmp_begin(p11e_ctx *ctx, const p11e_cmp *c, struct p11e__cmp_run *run,
                            int need_auth)
{
	OSSL_LIB_CTX *lc = p11e__libctx(ctx);
	OSSL_CMP_CTX *cc = NULL;
	X509_STORE *store = NULL;
	p11e_key auth;
	p11e_status st = P11E_OK;

	memset(&auth, 0, sizeof(auth));
	run->ctx = ctx;
	run->cmp = c;
	if (!c || !c->url)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no CMP server URL");
	if (need_auth && !c->secret && !c->auth_key)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_CA_AUTH_MISSING,
		                      "a CMP request needs a shared secret and its reference, or "
		                      "a key on the token with a certificate to sign it");
	if (c->secret && (!c->ref || !*c->ref))
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_CA_AUTH_MISSING,
		                      "a CMP shared secret needs its reference");
	if (!lc || !(cc = OSSL_CMP_CTX_new(lc, NULL)))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up CMP");
	run->cc = cc;
	st = set_server(ctx, cc, c->url);
	if (st == P11E_OK && c->trust) {
		st = trust_store(ctx, c->trust, &store);
		if (st == P11E_OK && !OSSL_CMP_CTX_set0_trustedStore(cc, store)) {
			X509_STORE_free(store);
			st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set the CMP trust");
		}
	}
	if (st == P11E_OK && c->secret &&
	    (!OSSL_CMP_CTX_set1_referenceValue(cc, (const unsigned char *)c->ref,
	                                       (int)strlen(c->ref)) ||
	     !OSSL_CMP_CTX_set1_secretValue(cc, (const unsigned char *)c->secret,
	                                    (int)c->secret_len)))
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set the CMP secret");
	if (st == P11E_OK && c->auth_key && !c->secret) {
		st = p11e_key_find(ctx, c->auth_key, &auth);
		if (st == P11E_OK)
			st = set_signer(ctx, cc, &auth);
	}
	/*
	 * An error answer may come unprotected (a server that could not check
	 * our protection cannot protect its answer for us either): it is only
	 * ever a refusal, and its words are worth showing.
	 */
	if (st == P11E_OK &&
	    (!OSSL_CMP_CTX_set_option(cc, OSSL_CMP_OPT_UNPROTECTED_ERRORS, 1) ||
	     !OSSL_CMP_CTX_set_option(cc, OSSL_CMP_OPT_MSG_TIMEOUT, c->timeout) ||
	     !OSSL_CMP_CTX_set_option(cc, OSSL_CMP_OPT_TOTAL_TIMEOUT, c->timeout) ||
	     !OSSL_CMP_CTX_set_log_cb(cc, cmp_log) ||
	     !OSSL_CMP_CTX_set_certConf_cb(cc, cert_check) ||
	     !OSSL_CMP_CTX_set_certConf_cb_arg(cc, run)))
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up CMP");
	p11e_key_clear(&auth);
	if (st != P11E_OK)
		p11e__cmp_end(run);
	return st;
}

void p11e__cmp_end(struct p11e__cmp_run *run)
{
	OSSL_CMP_CTX_free(run->cc);
	run->cc = NULL;
	EVP_PKEY_free(run->want);
	run->want = NULL;
	sk_X509_pop_free(run->ca_pubs, X509_free);
	sk_X509_pop_free(run->extra, X509_free);
	run->ca_pubs = run->extra = NULL;
}

/* Every error in the queue as "reason (data); reason (data)", and what kind it is. */
static p11e_reason queue_text(char *buf, size_t len)
{
	p11e_reason why = P11E_REASON_CA_GARBAGE;
	int rank = 0; /* no connection > timeout > untrusted > unreachable > garbage */
	size_t used = 0;
	const char *data;
	size_t data_len = 0;
	unsigned long e;
	int flags;

	buf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		int lib = ERR_GET_LIB(e), r = ERR_GET_REASON(e);
		const char *rs = ERR_reason_error_string(e);

		if (lib == ERR_LIB_BIO && r == BIO_R_CONNECT_TIMEOUT) {
			/* OpenSSL tries a refused connection again until the time is up */
			why = P11E_REASON_CA_UNREACHABLE;
			rank = 4;
		} else if (rank < 3 && ((lib == ERR_LIB_CMP && r == CMP_R_TOTAL_TIMEOUT) ||
		                        (lib == ERR_LIB_BIO && r == BIO_R_TRANSFER_TIMEOUT) ||
		                        (lib == ERR_LIB_HTTP && r == HTTP_R_RETRY_TIMEOUT))) {
			why = P11E_REASON_CA_TIMEOUT;
			rank = 3;
		} else if (rank < 2 && lib == ERR_LIB_CMP &&
		           (r == CMP_R_ERROR_VALIDATING_PROTECTION ||
		            r == CMP_R_ERROR_VALIDATING_SIGNATURE ||
		            r == CMP_R_MISSING_TRUST_STORE || r == CMP_R_MISSING_TRUST_ANCHOR ||
		            r == CMP_R_NO_SUITABLE_SENDER_CERT)) {
			why = P11E_REASON_CA_UNTRUSTED;
			rank = 2;
		} else if (rank < 1 &&
		           ((lib == ERR_LIB_BIO &&
		             (r == BIO_R_CONNECT_ERROR || r == BIO_R_NBIO_CONNECT_ERROR)) ||
		            (lib == ERR_LIB_HTTP &&
		             (r == HTTP_R_CONNECT_FAILURE || r == HTTP_R_RECEIVED_ERROR ||
		              r == HTTP_R_STATUS_CODE_UNSUPPORTED ||
		              r == HTTP_R_SERVER_CANCELED_CONNECTION)) ||
		            (lib == ERR_LIB_SYS))) {
			why = P11E_REASON_CA_UNREACHABLE;
			rank = 1;
		}
		/* the first line of what OpenSSL adds (a certificate dump follows it) */
		if (data && (flags & ERR_TXT_STRING))
			data_len = strcspn(data, "\n");
		if (used + 8 < len && rs) {
			int n = snprintf(buf + used, len - used, "%s%s", used ? "; " : "", rs);

			used += n > 0 ? (size_t)n : 0;
			if (used < len && data && *data && (flags & ERR_TXT_STRING)) {
				n = snprintf(buf + used, len - used, " (%.*s)",
				             (int)(data_len < 120 ? data_len : 120), data);
				used += n > 0 ? (size_t)n : 0;
			}
			if (used >= len)
				used = len - 1;
		}
	}
	return why;
}

p11e_status p11e__cmp_failed(struct p11e__cmp_run *run, const char *what)
{
	p11e_ctx *ctx = run->ctx;
	const char *url = run->cmp->url;
	char errs[400], status[300];
	p11e_reason why = queue_text(errs, sizeof(errs));
	int pki = OSSL_CMP_CTX_get_status(run->cc);

	if (run->other_key)
		return p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_OTHER_KEY,
		                      "CMP server %s issued a certificate for another public key "
		                      "than %s's: refused, nothing imported",
		                      url, what);
	if (pki == OSSL_CMP_PKISTATUS_rejection || pki == OSSL_CMP_PKISTATUS_revocationWarning ||
	    pki == OSSL_CMP_PKISTATUS_revocationNotification ||
	    pki == OSSL_CMP_PKISTATUS_keyUpdateWarning || pki == OSSL_CMP_PKISTATUS_waiting) {
		if (!OSSL_CMP_CTX_snprint_PKIStatus(run->cc, status, sizeof(status)))
			snprintf(status, sizeof(status), "PKIStatus %d", pki);
		ERR_clear_error();
		return p11e__fail_why(ctx, P11E_ERR_CA, P11E_REASON_CA_REFUSED,
		                      "CMP server %s refused %s: %s", url, what, status);
	}
	if (why == P11E_REASON_CA_TIMEOUT)
		return p11e__fail_why(ctx, P11E_ERR_TIMEOUT, why,
		                      "CMP server %s: no answer within %d s for %s (%s)", url,
		                      run->cmp->timeout, what, errs);
	if (why == P11E_REASON_CA_UNTRUSTED)
		return p11e__fail_why(ctx, P11E_ERR_CA, why,
		                      "CMP server %s: its answer for %s is not protected by a "
		                      "secret or certificate we trust: %s",
		                      url, what, errs);
	if (why == P11E_REASON_CA_UNREACHABLE)
		return p11e__fail_why(ctx, P11E_ERR_CA, why, "CMP server %s is not reachable: %s",
		                      url, errs);
	return p11e__fail_why(ctx, P11E_ERR_CA, why,
	                      "CMP server %s answered %s with nothing usable: %s", url, what,
	                      errs[0] ? errs : "no certificate");
}

int p11e__cmp_chain(struct p11e__cmp_run *run, X509 *leaf, STACK_OF(X509) **out)
{
	STACK_OF(X509) *pool = sk_X509_new_null();
	int ok = pool != NULL;

	for (int i = 0; ok && i < sk_X509_num(run->ca_pubs); i++)
		ok = sk_X509_push(pool, sk_X509_value(run->ca_pubs, i)) > 0;
	for (int i = 0; ok && i < sk_X509_num(run->extra); i++)
		ok = sk_X509_push(pool, sk_X509_value(run->extra, i)) > 0;
	ok = ok && p11e__issuer_path(pool, leaf, out);
	sk_X509_free(pool);
	return ok;
}

p11e_status p11e__cmp_import(struct p11e__cmp_run *run, X509 *cert, const p11e_key *key,
                             p11e_import_result *res)
{
	p11e_ctx *ctx = run->ctx;
	STACK_OF(X509) *leaf = sk_X509_new_null(), *path = NULL;
	p11e_status st = P11E_OK;

	(void)p11e__cmp_chain(run, cert, &path);
	p11e__log(ctx, P11E_LOG_DEBUG,
	          "CMP answer: %d caPubs, %d extraCerts, %d on the issuer path",
	          sk_X509_num(run->ca_pubs), sk_X509_num(run->extra), sk_X509_num(path));
	/* checked again here: a future OpenSSL may skip the certConf callback */
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), run->want) != 1) {
		run->other_key = 1;
		st = p11e__cmp_failed(run, key->label);
	} else if (!leaf || !path || !sk_X509_push(leaf, cert)) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	} else {
		st = p11e__import_certs(ctx, leaf, path, "the certificate from the CMP server",
		                        "its CA certificates", key->uri, NULL, 0, res);
	}
	sk_X509_free(leaf);
	sk_X509_free(path);
	return st;
}

X509 *p11e__cmp_exec(struct p11e__cmp_run *run, int type, const OSSL_CRMF_MSG *crm)
{
	X509 *cert;

	ERR_clear_error();
	log_ctx = run->ctx;
	cert = OSSL_CMP_exec_certreq(run->cc, type, crm);
	log_ctx = NULL;
	return cert;
}
