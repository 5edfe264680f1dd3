/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sessions.c - the one session a context keeps on its selected token: opened
 * on first use, logged out and closed with the context.
 */
#include "config.h"

#include "internal.h"

p11e_status p11e__session_open(p11e_ctx *ctx, int rw)
{
	CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	CK_RV rv;

	if (ctx->have_session)
		return P11E_OK;
	if (!ctx->have_slot)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no token selected");
	rv = P11_CALL(ctx, C_OpenSession, ctx->slot.slot_id, flags, NULL, NULL, &ctx->session);
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "opening a session", "C_OpenSession", rv);
	ctx->have_session = 1;
	return P11E_OK;
}

void p11e__session_close(p11e_ctx *ctx)
{
	if (!ctx->have_session)
		return;
	if (ctx->logged_in)
		P11_CALL(ctx, C_Logout, ctx->session);
	P11_CALL(ctx, C_CloseSession, ctx->session);
	ctx->have_session = 0;
	ctx->logged_in = 0;
}
