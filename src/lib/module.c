/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * module.c - finding, loading and listing PKCS#11 modules.  p11-kit does
 * the loading and knows the registered modules; we only decide which one.
 *
 * The default (no module given) is p11-kit's proxy module, loaded as a
 * plain library: dlopen and its C_GetFunctionList.  p11_kit_module_load
 * refuses the proxy by design (p11-kit 0.24: "refusing to load the
 * p11-kit-proxy.so module as a registered module"), and the proxy is what
 * we want: one CK_FUNCTION_LIST whose slots are the slots of every module
 * registered for it (p11-kit keeps their slot ids apart), so a context
 * stays one function list and the token of a --token label is found in
 * whichever module holds it, with no code of ours walking modules.  The
 * other way, p11_kit_modules_load_and_initialize, gives a list of function
 * lists and would make every file that calls the module pick one per slot.
 * Modules registered with "disable-in: p11-kit-proxy" (p11-kit's trust
 * module) stay out, as p11-kit intends.
 */
#include "config.h"

#include <dlfcn.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int looks_like_path(const char *spec)
{
	size_t n = strlen(spec);

	return strchr(spec, '/') || (n > 3 && strcmp(spec + n - 3, ".so") == 0);
}

/* "a, b, c" of the registered module names, for messages. */
static void registered_names(CK_FUNCTION_LIST **mods, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; mods && mods[i]; i++) {
		char *name = p11_kit_module_get_name(mods[i]);
		int n;

		if (!name)
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name);
		free(name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* Path of the module registered under name; NULL if there is none. */
static p11e_status registered_path(p11e_ctx *ctx, const char *name, char **path)
{
	CK_FUNCTION_LIST **mods = p11_kit_modules_load(NULL, 0);
	CK_FUNCTION_LIST *mod;
	char names[256];

	*path = NULL;
	if (!mods)
		return p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_MODULE_REGISTRY,
		                      "cannot read the p11-kit module registry: %s",
		                      p11_kit_message() ? p11_kit_message() : "unknown error");
	mod = p11_kit_module_for_name(mods, name);
	if (mod)
		*path = p11_kit_module_get_filename(mod);
	registered_names(mods, names, sizeof(names));
	p11_kit_modules_release(mods);
	if (!*path)
		return p11e__fail(ctx, P11E_ERR_NOT_FOUND,
		                  "no PKCS#11 module named '%s' is registered with p11-kit "
		                  "(registered: %s): give a registered name or the module's path",
		                  name, names);
	return P11E_OK;
}

/* p11-kit's proxy module, by configured path or by its file name. */
static int is_proxy(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strcmp(path, P11E_PROXY_MODULE) == 0 || strcmp(base, "p11-kit-proxy.so") == 0;
}

/* The proxy as a plain library (see the top of this file); NULL with a message. */
static CK_FUNCTION_LIST *proxy_load(p11e_ctx *ctx, const char *path)
{
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST *fl = NULL;
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const char *why;

	if (!dl) {
		why = dlerror();
		p11e__fail(ctx, P11E_ERR_TOKEN, "cannot load PKCS#11 module %s: %s", path,
		           why ? why : "unknown error");
		return NULL;
	}
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	if (!get || get(&fl) != CKR_OK || !fl) {
		dlclose(dl);
		p11e__fail(ctx, P11E_ERR_TOKEN,
		           "cannot load PKCS#11 module %s: it gives no function list", path);
		return NULL;
	}
	ctx->fl_dl = dl;
	return fl;
}

p11e_status p11e_module_load(p11e_ctx *ctx, const char *spec)
{
	CK_C_INITIALIZE_ARGS args;
	char *path = NULL;
	p11e_status st;
	CK_RV rv;

	p11e__clear_error(ctx);
	if (ctx->fl)
		return p11e__fail(ctx, P11E_ERR_FAILED, "a module is already loaded");
	if (!spec || !*spec)
		spec = getenv("P11ENROLL_MODULE");
	if (!spec || !*spec)
		spec = P11E_PROXY_MODULE;

	if (looks_like_path(spec)) {
		if (access(spec, R_OK) != 0)
			return p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_MODULE_NOT_FOUND,
			                      "PKCS#11 module %s: no such file", spec);
		path = strdup(spec);
	} else {
		st = registered_path(ctx, spec, &path);
		if (st != P11E_OK)
			return st;
	}
	if (!path)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");

	/* no token read here while another p11enroll logs in (lock.c) */
	p11e__module_lock(ctx, path);
	if (is_proxy(path))
		ctx->fl = proxy_load(ctx, path);
	else if (!(ctx->fl = p11_kit_module_load(path, 0)))
		p11e__fail(ctx, P11E_ERR_TOKEN, "cannot load PKCS#11 module %s: %s", path,
		           p11_kit_message() ? p11_kit_message() : "unknown error");
	if (!ctx->fl) {
		p11e__module_unlock(ctx);
		free(path);
		return P11E_ERR_TOKEN;
	}
	ctx->module_path = path;
	ctx->module_spec = strdup(spec);
	if (!looks_like_path(spec))
		ctx->module_name = strdup(spec);

	/*
	 * Locking only for a caller that may use the module from two threads:
	 * SoftHSMv2 otherwise takes a mutex for every object it loads and
	 * reads, 6 % of listing a token (no arguments, flags 0: "not from
	 * several threads at once", PKCS#11 2.40, 5.4)
	 */
	memset(&args, 0, sizeof(args));
	args.flags = ctx->one_thread ? 0 : CKF_OS_LOCKING_OK;
	rv = P11_CALL(ctx, C_Initialize, &args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		st = p11e__fail_rv(ctx, path, "C_Initialize", rv);
		p11e__module_release(ctx);
		return st == P11E_ERR_NOT_FOUND ? P11E_ERR_TOKEN : st;
	}
	ctx->fl_initialized = (rv == CKR_OK);
	p11e__module_lock_initialized(ctx);
	return P11E_OK;
}

void p11e__module_release(p11e_ctx *ctx)
{
	if (!ctx->fl)
		return;
	if (ctx->fl_initialized)
		P11_CALL(ctx, C_Finalize, NULL);
	ctx->fl_initialized = 0;
	if (ctx->fl_dl)
		dlclose(ctx->fl_dl);
	else
		p11_kit_module_release(ctx->fl);
	ctx->fl_dl = NULL;
	ctx->fl = NULL;
	p11e__module_unlock(ctx);
}

static char *dup_unpadded(const unsigned char *s, size_t len)
{
	char buf[65];

	p11e__unpad(buf, sizeof(buf), s, len);
	return strdup(buf);
}

/* Fill one entry from a loaded, initialised module. */
static void module_describe(p11e_ctx *ctx, CK_FUNCTION_LIST *fl, p11e_module_info *m)
{
	CK_FUNCTION_LIST *saved = ctx->fl;
	CK_INFO info;
	P11KitUri *uri;

	ctx->fl = fl;
	if (P11_CALL(ctx, C_GetInfo, &info) == CKR_OK) {
		m->description =
			dup_unpadded(info.libraryDescription, sizeof(info.libraryDescription));
		m->manufacturer = dup_unpadded(info.manufacturerID, sizeof(info.manufacturerID));
		m->cryptoki_major = info.cryptokiVersion.major;
		m->cryptoki_minor = info.cryptokiVersion.minor;
		m->library_major = info.libraryVersion.major;
		m->library_minor = info.libraryVersion.minor;
		uri = p11_kit_uri_new();
		if (uri) {
			memcpy(p11_kit_uri_get_module_info(uri), &info, sizeof(info));
			if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_MODULE_WITH_VERSION, &m->uri) !=
			    P11_KIT_URI_OK)
				m->uri = NULL;
			p11_kit_uri_free(uri);
		}
		m->loaded = 1;
	}
	ctx->fl = saved;
}

p11e_status p11e_module_list(p11e_ctx *ctx, p11e_module_info **list, size_t *count)
{
	CK_FUNCTION_LIST **mods = NULL;
	p11e_module_info *out = NULL;
	size_t n = 0, i;

	p11e__clear_error(ctx);
	*list = NULL;
	*count = 0;

	/* a module the user named: describe just that one */
	if (ctx->fl && !is_proxy(ctx->module_path)) {
		out = calloc(1, sizeof(*out));
		if (!out)
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		/* loaded by path, p11-kit forgets the registered name */
		out->name = ctx->module_name ? strdup(ctx->module_name)
		                             : p11_kit_module_get_name(ctx->fl);
		out->path = strdup(ctx->module_path);
		module_describe(ctx, ctx->fl, out);
		*list = out;
		*count = 1;
		return P11E_OK;
	}

	mods = p11_kit_modules_load(NULL, 0);
	if (!mods)
		return p11e__fail(ctx, P11E_ERR_TOKEN,
		                  "cannot read the p11-kit module registry: %s",
		                  p11_kit_message() ? p11_kit_message() : "unknown error");
	while (mods[n])
		n++;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		p11_kit_modules_release(mods);
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	}
	for (i = 0; i < n; i++) {
		out[i].name = p11_kit_module_get_name(mods[i]);
		out[i].path = p11_kit_module_get_filename(mods[i]);
		/* one module failing to start must not hide the others */
		if (p11_kit_module_initialize(mods[i]) == CKR_OK) {
			module_describe(ctx, mods[i], &out[i]);
			p11_kit_module_finalize(mods[i]);
		} else {
			p11e__log(ctx, P11E_LOG_INFO, "module %s failed to initialise: %s",
			          out[i].name ? out[i].name : "?",
			          p11_kit_message() ? p11_kit_message() : "unknown error");
		}
	}
	p11_kit_modules_release(mods);
	*list = out;
	*count = n;
	return P11E_OK;
}

void p11e_module_list_free(p11e_module_info *list, size_t count)
{
	for (size_t i = 0; list && i < count; i++) {
		free(list[i].name);
		free(list[i].path);
		free(list[i].description);
		free(list[i].manufacturer);
		free(list[i].uri);
	}
	free(list);
}
