/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmp-flow.c - enroll and renew with a CMP server: the key and request of
 * p11e_enroll / p11e_renew, the exchange of cmp.c, the import of
 * cert-import.c.  A key this run made is taken back when no certificate
 * reaches the token, so a refused or failed exchange leaves the token as
 * it was; a key an earlier run left (no certificate yet) is reused.
 */
#include "config.h"

#include <openssl/cmp.h>
#include <openssl/crmf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmp.h"
#include "internal.h"
#include "provider.h"

p11e_status p11e_cmp_enroll(p11e_ctx *ctx, const p11e_cmp *cmp, const char *type, const char *label,
                            const unsigned char *id, size_t id_len, const p11e_req *req,
                            int *reused, p11e_import_result *res)
{
	struct p11e__cmp_run run;
	unsigned char *der = NULL;
	const unsigned char *p;
	size_t len = 0;
	X509_REQ *csr = NULL;
	X509 *cert;
	p11e_key key;
	int done = 0;
	p11e_status st;

	p11e__clear_error(ctx);
	memset(&run, 0, sizeof(run));
	memset(&key, 0, sizeof(key));
	memset(res, 0, sizeof(*res));
	*reused = 0;
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	if (label && *label) {
		st = p11e__ca_enrolled(ctx, label, res, &done);
		if (st != P11E_OK || done)
			return st;
	}
	/* everything about the server is checked before a key is made */
	st = p11e__cmp_begin(ctx, cmp, &run, 1);
	if (st != P11E_OK)
		return st;
	st = p11e_enroll(ctx, type, label, id, id_len, req, P11E_FORMAT_DER, &key, reused, &der,
	                 &len);
	if (st != P11E_OK)
		goto done;
	p = der;
	if (!(csr = d2i_X509_REQ(NULL, &p, (long)len)))
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot read the request back");
	if (st == P11E_OK)
		st = p11e__key_public(ctx, &key, &run.want);
	if (st == P11E_OK && !OSSL_CMP_CTX_set1_p10CSR(run.cc, csr))
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set the CMP request");
	if (st == P11E_OK) {
		cert = p11e__cmp_exec(&run, OSSL_CMP_P10CR, NULL);
		st = cert ? p11e__cmp_import(&run, cert, &key, res) : p11e__cmp_failed(&run, label);
	}
	if (st != P11E_OK && !*reused)
		p11e__ca_take_back(ctx, &key);
done:
	p11e__cmp_end(&run);
	X509_REQ_free(csr);
	p11e_free(der);
	p11e_key_clear(&key);
	return st;
}

/*
 * The kur's CRMF request, made here rather than by OSSL_CMP_exec_certreq:
 * OpenSSL 3.0 writes the template's public key with its encoders, which
 * a token key of our provider has none of.  So OpenSSL fills the template
 * (subject and subjectAltName of the old certificate, its id as oldCertID)
 * from the software public half, and the token key signs the proof of
 * possession (RFC 4211 POPOSigningKey) through our provider.
 */
static p11e_status kur_request(struct p11e__cmp_run *run, X509 *oldcert, EVP_PKEY *newpkey,
                               OSSL_CRMF_MSG **crm)
{
	p11e_ctx *ctx = run->ctx;
	EVP_MD *md = NULL;
	p11e_status st = P11E_OK;

	*crm = NULL;
	if (!OSSL_CMP_CTX_set1_oldCert(run->cc, oldcert) || !EVP_PKEY_up_ref(run->want))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up the CMP key update");
	if (!OSSL_CMP_CTX_set0_newPkey(run->cc, 0, run->want)) {
		EVP_PKEY_free(run->want);
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up the CMP key update");
	}
	if (!(*crm = OSSL_CMP_CTX_setup_CRM(run->cc, 1, 0)) ||
	    !(md = EVP_MD_fetch(p11e__libctx(ctx), "SHA256", NULL)) ||
	    !OSSL_CRMF_MSG_create_popo(OSSL_CRMF_POPO_SIGNATURE, *crm, newpkey, md,
	                               p11e__libctx(ctx), NULL))
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED,
		                     "cannot sign the key update request on the token");
	EVP_MD_free(md);
	if (st != P11E_OK) {
		OSSL_CRMF_MSG_free(*crm);
		*crm = NULL;
	}
	return st;
}

p11e_status p11e_cmp_renew(p11e_ctx *ctx, const p11e_cmp *cmp, const char *keyspec,
                           const char *type, const p11e_req *req, int *reused,
                           p11e_import_result *res)
{
	struct p11e__cmp_run run;
	unsigned char *der = NULL;
	size_t len = 0;
	EVP_PKEY *newpkey = NULL;
	OSSL_CRMF_MSG *crm = NULL;
	X509 *oldcert = NULL, *cert;
	p11e_key old, key;
	p11e_status st;

	p11e__clear_error(ctx);
	memset(&run, 0, sizeof(run));
	memset(&old, 0, sizeof(old));
	memset(&key, 0, sizeof(key));
	memset(res, 0, sizeof(*res));
	*reused = 0;
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	/* the old key signs the kur with its certificate: no secret needed */
	st = p11e__cmp_begin(ctx, cmp, &run, 0);
	if (st == P11E_OK)
		st = p11e_key_find(ctx, keyspec, &old);
	if (st == P11E_OK)
		st = p11e__key_newest_cert(ctx, &old, &oldcert);
	if (st == P11E_OK)
		st = p11e__cmp_signer(&run, &old);
	if (st != P11E_OK)
		goto done;
	/* the new key (or the one an earlier renew left), checked as renew checks it */
	st = p11e_renew(ctx, keyspec, type, req, P11E_FORMAT_DER, &key, reused, &der, &len);
	if (st != P11E_OK)
		goto done;
	st = p11e__key_public(ctx, &key, &run.want);
	if (st == P11E_OK)
		st = p11e__key_evp(ctx, &key, &newpkey);
	if (st == P11E_OK)
		st = kur_request(&run, oldcert, newpkey, &crm);
	if (st == P11E_OK) {
		/* the CMP context's now: priv = 1, as a kur must prove possession */
		if (OSSL_CMP_CTX_set0_newPkey(run.cc, 1, newpkey))
			newpkey = NULL;
		else
			st = p11e__fail_ossl(ctx, P11E_ERR_FAILED,
			                     "cannot set up the CMP key update");
	}
	if (st == P11E_OK) {
		cert = p11e__cmp_exec(&run, OSSL_CMP_KUR, crm);
		st = cert ? p11e__cmp_import(&run, cert, &key, res)
		          : p11e__cmp_failed(&run, key.label);
	}
	if (st != P11E_OK && !*reused)
		p11e__ca_take_back(ctx, &key);
done:
	p11e__cmp_end(&run);
	OSSL_CRMF_MSG_free(crm);
	EVP_PKEY_free(newpkey);
	X509_free(oldcert);
	p11e_free(der);
	p11e_key_clear(&old);
	p11e_key_clear(&key);
	return st;
}
