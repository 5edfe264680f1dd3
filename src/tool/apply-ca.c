/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * apply-ca.c - an identity's CA (cmp = URL or est = URL in the manifest):
 * the library's CMP or EST settings made from its fields, its secret read
 * from its source and wiped with the settings, and the enrolment or
 * renewal run at that CA, as enroll/renew --cmp/--est do (ca.c).
 */
#include "config.h"

#include <signal.h>

#include "apply.h"

#define SETTINGS_REFUSED "the identity's CA settings are refused (out of memory?)"

/* The settings for id's CMP server. */
static p11e_status cmp_make(p11e_ctx *ctx, const p11e_identity *id, p11e_cmp **out,
                            const char **why)
{
	p11e_cmp *c = p11e_cmp_new();
	p11e_pin *secret = NULL;
	p11e_status st = c ? P11E_OK : P11E_ERR_FAILED;

	if (st == P11E_OK)
		st = p11e_cmp_set_url(c, id->cmp);
	if (st == P11E_OK && id->ca_trust)
		st = p11e_cmp_set_trust(c, id->ca_trust);
	if (st == P11E_OK && id->auth_key)
		st = p11e_cmp_set_auth_key(c, id->auth_key);
	if (st == P11E_OK && id->ca_timeout > 0)
		st = p11e_cmp_set_timeout(c, id->ca_timeout);
	if (st != P11E_OK)
		*why = SETTINGS_REFUSED;
	/* a secret that cannot be read says why on ctx */
	if (st == P11E_OK && id->cmp_secret &&
	    (st = p11e_pin_read(ctx, id->cmp_secret, P11E_PIN_USER, &secret)) == P11E_OK &&
	    (st = p11e_cmp_set_secret(c, id->cmp_ref, secret)) != P11E_OK)
		*why = SETTINGS_REFUSED;
	p11e_pin_free(secret);
	if (st != P11E_OK) {
		p11e_cmp_free(c);
		return st;
	}
	*out = c;
	return P11E_OK;
}

/* The settings for id's EST server. */
static p11e_status est_make(p11e_ctx *ctx, const p11e_identity *id, p11e_est **out,
                            const char **why)
{
	p11e_est *e = p11e_est_new();
	p11e_pin *pw = NULL;
	p11e_status st = e ? P11E_OK : P11E_ERR_FAILED;

	if (st == P11E_OK)
		st = p11e_est_set_url(e, id->est);
	if (st == P11E_OK)
		st = p11e_est_set_trust(e, id->ca_trust);
	if (st == P11E_OK)
		st = p11e_est_set_fingerprint(e, id->ca_fingerprint);
	if (st == P11E_OK)
		st = p11e_est_set_auth_key(e, id->auth_key);
	if (st == P11E_OK && id->ca_timeout > 0)
		st = p11e_est_set_timeout(e, id->ca_timeout);
	if (st != P11E_OK)
		*why = SETTINGS_REFUSED;
	if (st == P11E_OK && id->auth_user &&
	    (st = p11e_pin_read(ctx, id->auth_password, P11E_PIN_USER, &pw)) == P11E_OK &&
	    (st = p11e_est_set_basic_auth(e, id->auth_user, pw)) != P11E_OK)
		*why = SETTINGS_REFUSED;
	p11e_pin_free(pw);
	if (st != P11E_OK) {
		p11e_est_free(e);
		return st;
	}
	*out = e;
	return P11E_OK;
}

p11e_status apply_ca(p11e_ctx *ctx, const p11e_identity *id, const char *label, const char *old_key,
                     const p11e_req *req, int *reused, p11e_import_result *res, const char **why)
{
	p11e_cmp *cmp = NULL;
	p11e_est *est = NULL;
	p11e_status st;

	/* a server that closes early fails the write (EPIPE) instead of killing the worker */
	signal(SIGPIPE, SIG_IGN);
	*why = NULL;
	st = id->cmp ? cmp_make(ctx, id, &cmp, why) : est_make(ctx, id, &est, why);
	if (st != P11E_OK)
		return st;
	if (cmp && old_key)
		st = p11e_cmp_renew(ctx, cmp, old_key, id->type, req, reused, res);
	else if (cmp)
		st = p11e_cmp_enroll(ctx, cmp, id->type, label, NULL, 0, req, reused, res);
	else if (old_key)
		st = p11e_est_renew(ctx, est, old_key, id->type, req, reused, res);
	else
		st = p11e_est_enroll(ctx, est, id->type, label, req, reused, res);
	p11e_cmp_free(cmp);
	p11e_est_free(est);
	return st;
}
