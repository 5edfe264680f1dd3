/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-flow.c - what enrolment at a CA does the same whichever protocol
 * carries it (cmp-flow.c, est.c): a label enrolled already is left alone,
 * and a key this run made is taken back when no certificate reached the
 * token, so that a failed exchange leaves the token as it was.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"

p11e_status p11e__ca_enrolled(p11e_ctx *ctx, const char *label, p11e_import_result *res, int *done)
{
	p11e_key key;
	size_t n = 0;
	p11e_status st;

	*done = 0;
	if (!label || !*label)
		return P11E_OK;
	if (p11e_key_find(ctx, label, &key) != P11E_OK) {
		/* none, or an error the enrolment itself will report */
		p11e__clear_error(ctx);
		return P11E_OK;
	}
	st = p11e__key_cert_count(ctx, &key, &n);
	if (st == P11E_OK && n > 0) {
		*done = 1;
		res->already = 1;
		snprintf(res->label, sizeof(res->label), "%s", key.label);
		res->uri = p11e__object_uri(ctx, CKO_CERTIFICATE, key.label, key.id, key.id_len);
		res->key = key;
		return P11E_OK;
	}
	p11e_key_clear(&key);
	return st;
}

void p11e__ca_take_back(p11e_ctx *ctx, const p11e_key *key)
{
	char msg[sizeof(ctx->message)];
	p11e_reason reason = ctx->reason;
	CK_RV rv = ctx->last_rv;
	const char *call = ctx->last_call;

	if (!key->handle)
		return;
	memcpy(msg, ctx->message, sizeof(msg));
	p11e__log(ctx, P11E_LOG_INFO, "removing key '%s': no certificate came for it", key->label);
	P11_CALL(ctx, C_DestroyObject, ctx->session, key->handle);
	if (key->pub_handle)
		P11_CALL(ctx, C_DestroyObject, ctx->session, key->pub_handle);
	/* the failure that made the CA's answer unusable is what the caller reports */
	memcpy(ctx->message, msg, sizeof(msg));
	ctx->reason = reason;
	ctx->last_rv = rv;
	ctx->last_call = call;
}
