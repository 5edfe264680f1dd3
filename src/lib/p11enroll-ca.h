/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11enroll-ca.h - talking to a certificate authority (since 1.1): CMP
 * (RFC 9810, RFC 4210) and EST (RFC 7030) clients that enrol and renew a
 * key on the token and bring the certificate back.  A separate header so
 * that a program that never talks to a CA needs none of it; it includes
 * p11enroll.h.
 */
#ifndef P11ENROLL_CA_H
#define P11ENROLL_CA_H

#include "p11enroll.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- certificate authorities: CMP (RFC 9810, RFC 4210) ------------------ */

/*
 * Where a CMP server is and how to talk to it: an opaque builder, like
 * p11e_req.  Setters copy what they are given (a secret is wiped when
 * replaced or freed) and return P11E_ERR_USAGE for a bad value.
 */
typedef struct p11e_cmp p11e_cmp;

p11e_cmp *p11e_cmp_new(void);
void p11e_cmp_free(p11e_cmp *cmp);
/* http://host[:port]/path (https is not supported yet) */
p11e_status p11e_cmp_set_url(p11e_cmp *cmp, const char *url);
/* PEM/DER/PKCS#7 file of the certificates that may sign the server's answers */
p11e_status p11e_cmp_set_trust(p11e_cmp *cmp, const char *path);
/* seconds for each message and for the whole exchange; 0: no limit (default 60) */
p11e_status p11e_cmp_set_timeout(p11e_cmp *cmp, int seconds);
/* password-based MAC protection (PBMAC): the reference (senderKID) and the secret */
p11e_status p11e_cmp_set_secret(p11e_cmp *cmp, const char *ref, const p11e_pin *secret);
/* signature protection with a key (URI or label) on the token and its newest certificate */
p11e_status p11e_cmp_set_auth_key(p11e_cmp *cmp, const char *keyspec);

/*
 * p11e_enroll, then the request sent as a CMP p10cr, and the certificate
 * issued imported onto the token with the chain the CA sent (caPubs,
 * extraCerts: the certificates on the leaf's issuer path).  A key with
 * this label that has a certificate already is left alone (res->already,
 * nothing sent); a key without one is reused.  A certificate for any other
 * public key than the token key's is refused (P11E_ERR_CA, token unchanged,
 * the CA told in certConf).  The CA's failures are P11E_ERR_CA (refusal in
 * words, unreachable, untrusted, garbage) or P11E_ERR_TIMEOUT.
 */
p11e_status p11e_cmp_enroll(p11e_ctx *ctx, const p11e_cmp *cmp, const char *type, const char *label,
                            const unsigned char *id, size_t id_len, const p11e_req *req,
                            int *reused, p11e_import_result *res);
/*
 * p11e_renew's new key, certified with a CMP key update request (kur) that
 * the old key signs with its newest certificate; the new certificate goes
 * onto the token, the old key and certificate stay.  req may change what
 * the request repeats, as for p11e_renew.
 */
p11e_status p11e_cmp_renew(p11e_ctx *ctx, const p11e_cmp *cmp, const char *keyspec,
                           const char *type, const p11e_req *req, int *reused,
                           p11e_import_result *res);

/* --- certificate authorities: EST (RFC 7030) ---------------------------- */

/*
 * How to reach an EST server, built up with setters like p11e_req (since
 * 1.1).  The URL is https://host[:port][/path]: the path is the EST base
 * ("/.well-known/est" or "/.well-known/est/LABEL"); none means
 * "/.well-known/est".  The server is trusted through a trust anchor file
 * (PEM) or, for a first contact, a SHA-256 fingerprint of one certificate
 * /cacerts returns (RFC 7030 4.1.1); one of the two is required.
 */
typedef struct p11e_est p11e_est;

p11e_est *p11e_est_new(void);
void p11e_est_free(p11e_est *est);
p11e_status p11e_est_set_url(p11e_est *est, const char *url);
p11e_status p11e_est_set_trust(p11e_est *est, const char *pem_file);
/* "SHA256:HEX" (colons between the bytes allowed, any case) */
p11e_status p11e_est_set_fingerprint(p11e_est *est, const char *fingerprint);
/* HTTP Basic: the password is copied (and wiped with the builder) */
p11e_status p11e_est_set_basic_auth(p11e_est *est, const char *user, const p11e_pin *password);
/* TLS client authentication with this key (URI or label) and its newest certificate */
p11e_status p11e_est_set_auth_key(p11e_est *est, const char *keyspec);
/* seconds for each exchange with the server (connect, TLS, answer); default 60 */
p11e_status p11e_est_set_timeout(p11e_est *est, int seconds);

/* One certificate of a CA's answer. */
typedef struct p11e_cacert {
	char *subject;        /* RFC 2253 */
	char *issuer;         /* RFC 2253 */
	char fingerprint[65]; /* SHA-256 of the DER, lower-case hex */
	int authority;        /* basicConstraints CA */
} p11e_cacert;

/*
 * GET /cacerts: the CA certificates, described in *list and as PEM in *pem
 * (free with p11e_cacert_list_free and p11e_free).  Needs no token.
 */
p11e_status p11e_est_cacerts(p11e_ctx *ctx, const p11e_est *est, p11e_cacert **list, size_t *count,
                             unsigned char **pem, size_t *pemlen);
void p11e_cacert_list_free(p11e_cacert *list, size_t count);

/*
 * p11e_enroll, then /simpleenroll with the request, and the certificate the
 * CA returns imported with the chain from /cacerts (on the certificate's
 * issuer path).  A certificate for another key is refused (P11E_ERR_CA,
 * P11E_REASON_CA_OTHER_KEY) and nothing is written.  When the CA fails or
 * refuses, a key this call made is removed again (the token is as it was),
 * except after HTTP 202 (P11E_REASON_CA_PENDING): the CA holds the request
 * for that key, and the next call reuses it.  A label whose key has a
 * certificate already is reported in result (already = 1), nothing sent.
 */
p11e_status p11e_est_enroll(p11e_ctx *ctx, const p11e_est *est, const char *type, const char *label,
                            const p11e_req *req, int *reused, p11e_import_result *result);
/*
 * p11e_renew, then /simplereenroll over TLS authenticated by the old key
 * and its newest certificate, and the new certificate imported.  The old
 * key and certificate stay; a new key is taken back as p11e_est_enroll does.
 */
p11e_status p11e_est_renew(p11e_ctx *ctx, const p11e_est *est, const char *keyspec,
                           const char *type, const p11e_req *req, int *reused,
                           p11e_import_result *result);

#ifdef __cplusplus
}
#endif

#endif /* P11ENROLL_CA_H */
