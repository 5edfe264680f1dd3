/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bounds.c - what a module says about counts and lengths is checked before
 * anything is read or allocated with it.  A module is outside code: one that
 * answers CKR_BUFFER_TOO_SMALL forever, reports more objects than the buffer
 * it was given, or a second length above the one it announced would
 * otherwise make us spin, or read past a buffer.  One place for the limits
 * and the message, so every caller refuses the same way.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

p11e_status p11e__module_fault(p11e_ctx *ctx, const char *what, const char *call, const char *fmt,
                               ...)
{
	char why[256];
	va_list ap;
	p11e_status st;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	st = p11e__fail(ctx, P11E_ERR_TOKEN, "%s: %s: %s: a fault of the PKCS#11 module", what,
	                call, why);
	/* a caller may word the failure by its CK_RV alone (signing does): -v keeps the why */
	p11e__log(ctx, P11E_LOG_INFO, "%s", ctx->message);
	/* as a module that fails the call itself would report it */
	ctx->last_rv = CKR_GENERAL_ERROR;
	ctx->last_call = call;
	return st;
}

p11e_status p11e__len_check(p11e_ctx *ctx, const char *what, const char *call, CK_ULONG got,
                            CK_ULONG room)
{
	if (got <= room)
		return P11E_OK;
	return p11e__module_fault(ctx, what, call,
	                          "the module returned a length larger than it announced "
	                          "(%lu, room for %lu)",
	                          got, room);
}
