/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * context.c - the per-run context: made first, freed last.  The top of the
 * house: freeing a context reaches into every part that holds something
 * (session, lock, engine, OpenSSL contexts, module), and nothing calls back
 * here.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

p11e_ctx *p11e_ctx_new(void)
{
	return calloc(1, sizeof(p11e_ctx));
}

void p11e_ctx_free(p11e_ctx *ctx)
{
	if (!ctx)
		return;
	p11e__session_close(ctx);
	if (ctx->lock_depth) {
		int fd = ctx->lock_fd;

		ctx->lock_depth = 1;
		p11e__token_unlock(ctx, &fd);
	}
	p11e__engine_free(ctx);
	p11e__libctx_free(ctx);
	p11e__module_release(ctx);
	p11e__slot_clear(&ctx->slot);
	p11e__quirks_free(ctx);
	p11e__details_set(ctx, NULL, 0);
	p11e__free_secret(ctx->uri_pin_value);
	p11e__pin_keep(ctx, NULL);
	free(ctx->uri_pin_source);
	free(ctx->module_spec);
	free(ctx->module_path);
	free(ctx->module_name);
	free(ctx);
}

void p11e_ctx_set_log(p11e_ctx *ctx, p11e_log_fn fn, void *data)
{
	ctx->log = fn;
	ctx->log_data = data;
}

p11e_status p11e_ctx_set_flags(p11e_ctx *ctx, unsigned flags)
{
	P11E__FLAGS_CHECK(ctx, "p11e_ctx_set_flags", flags,
	                  P11E_CTX_FORCE_LAST_PIN_TRY | P11E_CTX_NO_LOGIN | P11E_CTX_ONE_THREAD);
	ctx->force = (flags & P11E_CTX_FORCE_LAST_PIN_TRY) != 0;
	ctx->no_login = (flags & P11E_CTX_NO_LOGIN) != 0;
	ctx->one_thread = (flags & P11E_CTX_ONE_THREAD) != 0;
	return P11E_OK;
}

const char *p11e_version(void)
{
	return PACKAGE_VERSION;
}
