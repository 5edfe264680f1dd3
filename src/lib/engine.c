/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine.c - the second signing backend: libp11's "pkcs11" ENGINE, for sites
 * whose OpenSSL setup is engine-based.  The engine is loaded privately through
 * the dynamic engine, never through a global OPENSSL_CONF (libp11 #455: with
 * the engine in the global config, software RSA signing in the same process
 * breaks).  It opens the same module and signs with the same key, found by
 * the key's pkcs11: URI.
 */
#include "config.h"

/* the ENGINE API is deprecated in OpenSSL 3; this file is where we mean it */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#ifdef P11E_HAVE_ENGINE
#include <openssl/engine.h>
#include <openssl/err.h>

/*
 * One engine per context, kept until the context goes: libp11 0.4.12's engine
 * cannot be initialised a second time in a process once it was finished.
 */
static ENGINE *engine_get(p11e_ctx *ctx)
{
	ENGINE *e;

	if (ctx->engine)
		return ctx->engine;
	ENGINE_load_dynamic();
	e = ENGINE_by_id("dynamic");
	if (!e)
		return NULL;
	if (!ENGINE_ctrl_cmd_string(e, "SO_PATH", P11E_ENGINE_PATH, 0) ||
	    !ENGINE_ctrl_cmd_string(e, "ID", "pkcs11", 0) ||
	    !ENGINE_ctrl_cmd_string(e, "LOAD", NULL, 0) ||
	    /* libp11 prints its errors to stderr; ours carry them from the error queue */
	    !ENGINE_ctrl_cmd_string(e, "QUIET", NULL, 1) ||
	    !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", ctx->module_path, 0) || !ENGINE_init(e)) {
		ENGINE_free(e);
		return NULL;
	}
	ctx->engine = e;
	return e;
}

void p11e__engine_free(p11e_ctx *ctx)
{
	if (!ctx->engine)
		return;
	ENGINE_finish(ctx->engine);
	ENGINE_free(ctx->engine);
	ctx->engine = NULL;
}

p11e_status p11e__engine_sign(p11e_ctx *ctx, const p11e_key *key, const char *md, int pss,
                              X509_REQ *req)
{
	ENGINE *e;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *mctx = NULL;
	p11e_pin *asked = NULL;
	const p11e_pin *pin = ctx->login_pin;
	p11e_status st = P11E_ERR_TOKEN;

	/* libp11 0.4.12's engine cannot be told to pad with PSS: refuse, never fall back */
	if (pss)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_BACKEND_NO_PSS,
		                      "libp11's engine cannot sign with RSA-PSS padding");
	if (access(P11E_ENGINE_PATH, R_OK) != 0)
		return p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_ENGINE_MISSING,
		                      "libp11's engine %s is not installed (Debian package "
		                      "libengine-pkcs11-openssl)",
		                      P11E_ENGINE_PATH);
	/* the login's PIN, kept by p11e_login; else the URI's or the application's */
	if (!pin) {
		st = p11e__pin_get(ctx, NULL, P11E_PIN_USER, &asked);
		if (st != P11E_OK)
			return st;
		pin = asked;
	}
	e = engine_get(ctx);
	if (!e || !ENGINE_ctrl_cmd_string(e, "PIN", pin->data, 0)) {
		st = p11e__fail_ossl(ctx, P11E_ERR_TOKEN, "cannot load libp11's pkcs11 engine");
		goto done;
	}
	/* libp11 initialises the module and logs in by itself: under the module lock too */
	if (ctx->module_path)
		p11e__module_lock(ctx, ctx->module_path);
	pkey = ENGINE_load_private_key(e, key->uri, NULL, NULL);
	if (!ctx->module_lock_pinned)
		p11e__module_unlock(ctx);
	if (!pkey) {
		st = p11e__fail_ossl(ctx, P11E_ERR_NOT_FOUND,
		                     "the pkcs11 engine cannot load the key by its URI");
		goto done;
	}
	mctx = EVP_MD_CTX_new();
	if (!mctx || EVP_DigestSignInit_ex(mctx, NULL, md, NULL, NULL, pkey, NULL) <= 0 ||
	    X509_REQ_sign_ctx(req, mctx) <= 0) {
		st = p11e__fail_ossl(ctx, P11E_ERR_TOKEN,
		                     "signing through the pkcs11 engine failed");
		goto done;
	}
	st = P11E_OK;
done:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	/* the engine keeps a copy of the PIN: overwrite it */
	if (ctx->engine)
		ENGINE_ctrl_cmd_string(ctx->engine, "PIN", "", 1);
	p11e_pin_free(asked);
	ERR_clear_error();
	return st;
}
#else
void p11e__engine_free(p11e_ctx *ctx)
{
	(void)ctx;
}

p11e_status p11e__engine_sign(p11e_ctx *ctx, const p11e_key *key, const char *md, int pss,
                              X509_REQ *req)
{
	(void)key;
	(void)md;
	(void)pss;
	(void)req;
	return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_ENGINE_UNSUPPORTED,
	                      "this build has no ENGINE support");
}
#endif
