/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-est.c - the EST options of cacerts, enroll and renew, and what
 * enroll/renew --est print.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-est.h"

void est_args_init(struct est_args *a)
{
	memset(a, 0, sizeof(*a));
}

int est_option(struct est_args *a, const char *cmd, int opt, const char *arg)
{
	char *end = NULL;
	long v;

	switch (opt) {
	case OPT_EST: a->url = arg; return 1;
	case OPT_CA_TRUST: a->trust = arg; return 1;
	case OPT_CA_FINGERPRINT: a->fingerprint = arg; return 1;
	case OPT_AUTH_USER: a->user = arg; return 1;
	case OPT_AUTH_PASSWORD: a->password = arg; return 1;
	case OPT_AUTH_KEY: a->auth_key = arg; return 1;
	case OPT_TIMEOUT:
		v = strtol(arg, &end, 10);
		if (!*arg || *end || v <= 0 || v > 86400)
			return tool_usage_error(cmd, "--timeout '%s' is not 1 to 86400 seconds",
			                        arg);
		a->timeout = (int)v;
		return 1;
	}
	return 0;
}

int est_args_check(const struct est_args *a, const char *cmd)
{
	if (a->url)
		return 0;
	if (a->trust || a->fingerprint || a->user || a->password || a->auth_key || a->timeout)
		return tool_usage_error(cmd, "--ca-trust, --ca-fingerprint, --auth-*, --timeout "
		                             "go with --est URL");
	return 0;
}

int est_args_build(struct tool *t, const struct est_args *a, const char *cmd, p11e_est **out)
{
	p11e_est *e;
	p11e_pin *pw = NULL;
	p11e_status st;

	*out = NULL;
	if (!a->trust && !a->fingerprint)
		return tool_usage_error(cmd, "--est needs --ca-trust FILE or --ca-fingerprint "
		                             "SHA256:HEX: the server is never trusted blindly");
	if (a->trust && a->fingerprint)
		return tool_usage_error(cmd, "give --ca-trust or --ca-fingerprint, not both");
	if (!!a->user != !!a->password)
		return tool_usage_error(cmd, "--auth-user and --auth-password go together");
	if (a->user && a->auth_key)
		return tool_usage_error(cmd, "give --auth-user or --auth-key, not both");
	if (!(e = p11e_est_new()))
		return tool_usage_error(cmd, "out of memory");
	if (p11e_est_set_url(e, a->url) != P11E_OK || p11e_est_set_trust(e, a->trust) != P11E_OK ||
	    p11e_est_set_auth_key(e, a->auth_key) != P11E_OK) {
		p11e_est_free(e);
		fprintf(stderr, "p11enroll: out of memory\n");
		return P11E_ERR_FAILED;
	}
	if (p11e_est_set_fingerprint(e, a->fingerprint) != P11E_OK) {
		p11e_est_free(e);
		return tool_usage_error(cmd,
		                        "--ca-fingerprint '%s' is not SHA256: and 32 bytes of hex",
		                        tool_esc(a->fingerprint));
	}
	if (a->timeout)
		(void)p11e_est_set_timeout(e, a->timeout);
	if (a->user) {
		tool_warn_pass(t, a->password);
		st = p11e_pin_read(t->ctx, a->password, P11E_PIN_USER, &pw);
		if (st != P11E_OK) {
			p11e_est_free(e);
			return tool_fail(t, st, "--auth-password");
		}
		st = p11e_est_set_basic_auth(e, a->user, pw);
		p11e_pin_free(pw);
		if (st != P11E_OK) {
			p11e_est_free(e);
			fprintf(stderr, "p11enroll: out of memory\n");
			return P11E_ERR_FAILED;
		}
	}
	*out = e;
	return 0;
}

static int est_report(struct tool *t, const p11e_import_result *res, int reused)
{
	if (t->json) {
		json_t *doc = tool_key_json(&res->key);
		int err = !doc;

		err = err || json_object_set_new(doc, "reused", json_boolean(reused)) != 0;
		err = err || json_object_set_new(doc, "already", json_boolean(res->already)) != 0;
		err = err || json_object_set_new(doc, "certificate", json_string(res->uri)) != 0;
		err = err || json_object_set_new(doc, "chain_written",
		                                 json_integer((json_int_t)res->chain_written)) != 0;
		return tool_json_emit(tool_json_unless(doc, err));
	}
	if (res->already)
		tool_info(t, "p11enroll: note: '%s' has its certificate already: nothing to do\n",
		          tool_esc(res->key.label));
	else if (reused)
		tool_info(t, "p11enroll: note: reused key '%s' from an earlier run\n",
		          tool_esc(res->key.label));
	printf("%s\n%s\n", tool_esc(res->key.uri), tool_esc(res->uri));
	return 0;
}

int est_enroll_run(struct tool *t, const struct est_args *a, const char *cmd, const char *type,
                   const char *name, const p11e_req *req)
{
	p11e_import_result res;
	p11e_est *e = NULL;
	p11e_status st;
	int ret, reused = 0;

	memset(&res, 0, sizeof(res));
	if ((ret = est_args_build(t, a, cmd, &e)) != 0)
		return ret;
	if ((ret = tool_login(t)) != 0) {
		p11e_est_free(e);
		return ret;
	}
	if (strcmp(cmd, "renew") == 0)
		st = p11e_est_renew(t->ctx, e, name, type, req, &reused, &res);
	else
		st = p11e_est_enroll(t->ctx, e, type, name, req, &reused, &res);
	p11e_est_free(e);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	ret = est_report(t, &res, reused);
	p11e_import_result_clear(&res);
	return ret;
}
