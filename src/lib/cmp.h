/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmp.h - what cmp.c (the exchange) gives cmp-flow.c (enroll and renew).
 */
#ifndef P11ENROLL_CMP_H
#define P11ENROLL_CMP_H

#include <openssl/cmp.h>

#include "internal.h"
#include "p11enroll-ca.h"

/* One CMP exchange: its OpenSSL context and what the answer must carry. */
struct p11e__cmp_run {
	p11e_ctx *ctx;
	const p11e_cmp *cmp;
	OSSL_CMP_CTX *cc;
	EVP_PKEY *want; /* the token key's public half (software): the certificate must have it */
	int other_key;  /* the CA issued for another key: refused in certConf */
	/* the answer's caPubs and extraCerts, kept before certConf's answer replaces them */
	STACK_OF(X509) *ca_pubs, *extra;
};

/*
 * The OSSL_CMP_CTX for cmp's server, trust and protection (need_auth: a
 * secret or an auth key must be given).  The caller sets run->want and
 * the request, then p11e__cmp_exec; p11e__cmp_end in every case.
 */
p11e_status p11e__cmp_begin(p11e_ctx *ctx, const p11e_cmp *cmp, struct p11e__cmp_run *run,
                            int need_auth);
void p11e__cmp_end(struct p11e__cmp_run *run);
/* Sign the messages with key and its newest certificate, unless an auth key was given (a secret
 * wins over both). */
p11e_status p11e__cmp_signer(struct p11e__cmp_run *run, const p11e_key *key);
/* OSSL_CMP_exec_certreq: the certificate (the CMP context's), or NULL. */
X509 *p11e__cmp_exec(struct p11e__cmp_run *run, int type, const OSSL_CRMF_MSG *crm);
/* Why the exchange failed, from the PKIStatus and OpenSSL's errors; what: the key's label. */
p11e_status p11e__cmp_failed(struct p11e__cmp_run *run, const char *what);
/*
 * The CA certificates of the answer's caPubs and extraCerts on leaf's
 * issuer path, its issuer first: what goes onto the token next to it (import
 * refuses anything else, and a CA may send more than the path).  *out shares
 * run's certificates (free it with sk_X509_free); 0: out of memory.
 */
int p11e__cmp_chain(struct p11e__cmp_run *run, X509 *leaf, STACK_OF(X509) **out);
/* The certificate (checked once more against run->want) and its issuer path onto the token. */
p11e_status p11e__cmp_import(struct p11e__cmp_run *run, X509 *cert, const p11e_key *key,
                             p11e_import_result *res);

#endif
