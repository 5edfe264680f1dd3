/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca.c - the CA options of enroll, renew and cacerts: parsed and checked
 * once for both protocols, run, and the result printed the same way
 * whichever protocol brought the certificate.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"

void ca_args_init(struct ca_args *a)
{
	memset(a, 0, sizeof(*a));
	a->timeout = -1;
}

int ca_option(struct ca_args *a, const char *cmd, int opt, const char *arg)
{
	char *end;
	long v;

	switch (opt) {
	case OPT_CMP: a->cmp = arg; return 1;
	case OPT_CMP_SECRET: a->secret = arg; return 1;
	case OPT_CMP_REF: a->ref = arg; return 1;
	case OPT_EST: a->est = arg; return 1;
	case OPT_CA_FINGERPRINT: a->fingerprint = arg; return 1;
	case OPT_AUTH_USER: a->user = arg; return 1;
	case OPT_AUTH_PASSWORD: a->password = arg; return 1;
	case OPT_AUTH_KEY: a->auth_key = arg; return 1;
	case OPT_CA_TRUST: a->trust = arg; return 1;
	case OPT_CA_TIMEOUT:
		v = strtol(arg, &end, 10);
		if (!*arg || *end || v < 1 || v > 3600)
			return tool_usage_error(cmd, "--timeout '%s' is not 1 to 3600 seconds",
			                        arg);
		a->timeout = (int)v;
		return 1;
	}
	return 0;
}

int ca_args_check(const struct ca_args *a, const char *cmd)
{
	if (a->cmp && a->est)
		return tool_usage_error(cmd, "give --cmp or --est, not both");
	if (!a->cmp && !a->est) {
		if (a->secret || a->ref || a->auth_key || a->trust || a->timeout >= 0)
			return tool_usage_error(cmd, "--cmp-secret, --cmp-ref, --auth-key, "
			                             "--ca-trust and --timeout go with --cmp URL "
			                             "or --est URL");
		if (a->fingerprint || a->user || a->password)
			return tool_usage_error(cmd, "--ca-fingerprint, --auth-user and "
			                             "--auth-password go with --est URL");
		return 0;
	}
	if (a->cmp) {
		if (a->fingerprint || a->user || a->password)
			return tool_usage_error(cmd, "--ca-fingerprint, --auth-user and "
			                             "--auth-password go with --est, not --cmp");
		if (!a->secret != !a->ref)
			return tool_usage_error(cmd, "--cmp-secret and --cmp-ref go together");
		if (a->secret && a->auth_key)
			return tool_usage_error(cmd, "give --cmp-secret or --auth-key, not both");
		return 0;
	}
	if (a->secret || a->ref)
		return tool_usage_error(cmd, "--cmp-secret and --cmp-ref go with --cmp, not --est");
	if (!a->trust && !a->fingerprint)
		return tool_usage_error(cmd, "--est needs --ca-trust FILE or --ca-fingerprint "
		                             "SHA256:HEX: the server is never trusted blindly");
	if (a->trust && a->fingerprint)
		return tool_usage_error(cmd, "give --ca-trust or --ca-fingerprint, not both");
	if (!a->user != !a->password)
		return tool_usage_error(cmd, "--auth-user and --auth-password go together");
	if (a->user && a->auth_key)
		return tool_usage_error(cmd, "give --auth-user or --auth-key, not both");
	return 0;
}

/* what enroll and renew at a CA put on the token */
static int ca_result_print(struct tool *t, const p11e_import_result *r, int reused)
{
	if (t->json) {
		json_t *doc = tool_key_json(&r->key);
		int err = !doc;

		err = err || json_object_set_new(doc, "reused", json_boolean(reused)) != 0;
		err = err || json_object_set_new(doc, "already", json_boolean(r->already)) != 0;
		err = err || tool_json_set_text(doc, "certificate", r->uri ? r->uri : "") != 0;
		err = err || json_object_set_new(doc, "chain_written",
		                                 json_integer((json_int_t)r->chain_written)) != 0;
		return tool_json_emit(tool_json_unless(doc, err));
	}
	if (r->already)
		tool_info(t,
		          "p11enroll: note: key '%s' has its certificate already: nothing to do, "
		          "nothing sent\n",
		          tool_esc(r->key.label));
	else if (reused)
		tool_info(t,
		          "p11enroll: note: reused key '%s', left without a certificate by an "
		          "earlier run\n",
		          tool_esc(r->key.label));
	if (r->chain_written)
		tool_info(t, "%zu CA certificate%s written\n", r->chain_written,
		          r->chain_written == 1 ? "" : "s");
	printf("%s\n%s\n", tool_esc(r->key.uri ? r->key.uri : ""), tool_esc(r->uri ? r->uri : ""));
	return 0;
}

int ca_run(struct tool *t, const struct ca_args *a, const char *cmd, const char *type,
           const char *name, const unsigned char *id, size_t id_len, const p11e_req *req)
{
	int renew = strcmp(cmd, "renew") == 0;
	p11e_import_result res;
	p11e_cmp *cmp = NULL;
	p11e_est *est = NULL;
	p11e_status st;
	int ret, reused = 0;

	memset(&res, 0, sizeof(res));
	/* a server that closes early fails the write (EPIPE) instead of killing the tool */
	signal(SIGPIPE, SIG_IGN);
	/* the settings first: a bad one is told before the PIN is asked for */
	if (a->cmp)
		ret = ca_cmp_make(t, a, &cmp);
	else
		ret = ca_est_make(t, a, cmd, &est);
	if (ret == 0)
		ret = tool_login(t);
	if (ret != 0)
		st = P11E_OK;
	else if (cmp && renew)
		st = p11e_cmp_renew(t->ctx, cmp, name, type, req, &reused, &res);
	else if (cmp)
		st = p11e_cmp_enroll(t->ctx, cmp, type, name, id, id_len, req, &reused, &res);
	else if (renew)
		st = p11e_est_renew(t->ctx, est, name, type, req, &reused, &res);
	else
		st = p11e_est_enroll(t->ctx, est, type, name, req, &reused, &res);
	if (ret == 0)
		ret = st == P11E_OK ? ca_result_print(t, &res, reused) : tool_fail(t, st, NULL);
	p11e_import_result_clear(&res);
	p11e_cmp_free(cmp);
	p11e_est_free(est);
	return ret;
}
