/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ossl.c - the library's own OpenSSL library contexts.  The process'
 * default context is never touched: OpenSSL's default provider is loaded
 * into a context of our own (provider.c adds ours to it when a token key is
 * first used), and a second one with only the null provider reads
 * certificates for their fields.
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/provider.h>
#include <stdio.h>

#include "internal.h"

OSSL_LIB_CTX *p11e__libctx(p11e_ctx *ctx)
{
	if (ctx->libctx)
		return ctx->libctx;
	ctx->libctx = OSSL_LIB_CTX_new();
	if (!ctx->libctx)
		return NULL;
	ctx->prov_default = OSSL_PROVIDER_load(ctx->libctx, "default");
	if (!ctx->prov_default) {
		p11e__libctx_free(ctx);
		return NULL;
	}
	return ctx->libctx;
}

OSSL_LIB_CTX *p11e__names_libctx(p11e_ctx *ctx)
{
	if (ctx->names_libctx)
		return ctx->names_libctx;
	ctx->names_libctx = OSSL_LIB_CTX_new();
	/* loaded explicitly, or the first fetch would load the default provider */
	if (ctx->names_libctx &&
	    !(ctx->prov_null = OSSL_PROVIDER_load(ctx->names_libctx, "null"))) {
		OSSL_LIB_CTX_free(ctx->names_libctx);
		ctx->names_libctx = NULL;
	}
	return ctx->names_libctx;
}

void p11e__libctx_free(p11e_ctx *ctx)
{
	if (ctx->prov_null)
		OSSL_PROVIDER_unload(ctx->prov_null);
	OSSL_LIB_CTX_free(ctx->names_libctx);
	ctx->prov_null = NULL;
	ctx->names_libctx = NULL;
	if (ctx->prov_ours)
		OSSL_PROVIDER_unload(ctx->prov_ours);
	if (ctx->prov_default)
		OSSL_PROVIDER_unload(ctx->prov_default);
	OSSL_LIB_CTX_free(ctx->libctx);
	ctx->prov_ours = ctx->prov_default = NULL;
	ctx->libctx = NULL;
}

p11e_status p11e__fail_ossl(p11e_ctx *ctx, p11e_status st, const char *what)
{
	const char *data = NULL;
	int flags = 0;
	/* the earliest error is the cause; later ones say where it surfaced */
	unsigned long e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	char detail[160] = "";

	if (e && data && *data && (flags & ERR_TXT_STRING))
		snprintf(detail, sizeof(detail), " (%s)", data);
	ERR_clear_error();
	if (reason)
		return p11e__fail(ctx, st, "%s: %s%s", what, reason, detail);
	if (e)
		return p11e__fail(ctx, st, "%s: OpenSSL error 0x%lx", what, e);
	return p11e__fail(ctx, st, "%s", what);
}
