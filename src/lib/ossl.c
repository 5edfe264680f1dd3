/*
 * ossl.c - the library's own OpenSSL library context.  The process'
 * default context is never touched: our provider and the default one are
 * loaded into a context of our own.
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
	if (!ctx->prov_default || p11e__provider_load(ctx) != 0) {
		p11e__libctx_free(ctx);
		return NULL;
	}
	return ctx->libctx;
}

void p11e__libctx_free(p11e_ctx *ctx)
{
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
	char buf[256];
	unsigned long e = ERR_peek_last_error();

	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		ERR_clear_error();
		return p11e__fail(ctx, st, "%s: %s", what, buf);
	}
	return p11e__fail(ctx, st, "%s", what);
}
