/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-cmp.c - the CMP options of enroll and renew, and what they print.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-cmp.h"

void cmp_args_init(struct cmp_args *a)
{
	memset(a, 0, sizeof(*a));
	a->timeout = -1;
}

int cmp_option(struct cmp_args *a, const char *cmd, int opt, const char *arg)
{
	char *end;
	long v;

	switch (opt) {
	case OPT_CMP: a->url = arg; return 1;
	case OPT_CMP_SECRET: a->secret = arg; return 1;
	case OPT_CMP_REF: a->ref = arg; return 1;
	case OPT_CMP_AUTH_KEY: a->auth_key = arg; return 1;
	case OPT_CMP_CA_TRUST: a->trust = arg; return 1;
	case OPT_CMP_TIMEOUT:
		v = strtol(arg, &end, 10);
		if (!*arg || *end || v < 1 || v > 3600)
			return tool_usage_error(cmd, "--timeout '%s' is not 1 to 3600 seconds",
			                        arg);
		a->timeout = (int)v;
		return 1;
	}
	return 0;
}

int cmp_args_check(const struct cmp_args *a, const char *cmd)
{
	if (!a->url && (a->secret || a->ref || a->auth_key || a->trust || a->timeout >= 0))
		return tool_usage_error(cmd, "--cmp-secret, --cmp-ref, --auth-key, --ca-trust and "
		                             "--timeout go with --cmp URL");
	if (a->url && (!a->secret != !a->ref))
		return tool_usage_error(cmd, "--cmp-secret and --cmp-ref go together");
	if (a->url && a->secret && a->auth_key)
		return tool_usage_error(cmd, "give --cmp-secret or --auth-key, not both");
	return 0;
}

int cmp_args_make(struct tool *t, const struct cmp_args *a, p11e_cmp **out)
{
	p11e_cmp *c = p11e_cmp_new();
	p11e_pin *secret = NULL;
	p11e_status st = c ? P11E_OK : P11E_ERR_FAILED;

	*out = NULL;
	/* a server that closes early fails the write (EPIPE) instead of killing the tool */
	signal(SIGPIPE, SIG_IGN);
	if (st == P11E_OK)
		st = p11e_cmp_set_url(c, a->url);
	if (st == P11E_OK && a->trust)
		st = p11e_cmp_set_trust(c, a->trust);
	if (st == P11E_OK && a->auth_key)
		st = p11e_cmp_set_auth_key(c, a->auth_key);
	if (st == P11E_OK && a->timeout >= 0)
		st = p11e_cmp_set_timeout(c, a->timeout);
	if (st != P11E_OK) {
		p11e_cmp_free(c);
		fprintf(stderr, "p11enroll: out of memory\n");
		return P11E_ERR_FAILED;
	}
	if (a->secret) {
		tool_warn_pass(t, a->secret);
		st = p11e_pin_read(t->ctx, a->secret, P11E_PIN_USER, &secret);
		if (st != P11E_OK) {
			p11e_cmp_free(c);
			return tool_fail(t, st, "--cmp-secret");
		}
		st = p11e_cmp_set_secret(c, a->ref, secret);
		p11e_pin_free(secret);
		if (st != P11E_OK) {
			p11e_cmp_free(c);
			fprintf(stderr, "p11enroll: out of memory\n");
			return P11E_ERR_FAILED;
		}
	}
	*out = c;
	return 0;
}

int cmp_result_print(struct tool *t, const p11e_import_result *r, int reused)
{
	if (t->json) {
		json_t *doc = json_object();
		int err = !doc;

		err = err || tool_json_set_text(doc, "label", r->label) != 0;
		err = err || tool_json_set_text(doc, "uri", r->uri ? r->uri : "") != 0;
		err = err || json_object_set_new(doc, "already", json_boolean(r->already)) != 0;
		err = err || json_object_set_new(doc, "reused", json_boolean(reused)) != 0;
		err = err || json_object_set_new(doc, "chain_written",
		                                 json_integer((json_int_t)r->chain_written)) != 0;
		err = err || tool_json_set_text(doc, "key_uri", r->key.uri ? r->key.uri : "") != 0;
		return tool_json_emit(tool_json_unless(doc, err));
	}
	if (r->already)
		tool_info(t,
		          "p11enroll: note: key '%s' has its certificate already: nothing sent\n",
		          tool_esc(r->key.label));
	else if (reused)
		tool_info(t,
		          "p11enroll: note: reused key '%s', left without a certificate by an "
		          "earlier run\n",
		          tool_esc(r->key.label));
	if (r->chain_written)
		tool_info(t, "%zu CA certificate%s written\n", r->chain_written,
		          r->chain_written == 1 ? "" : "s");
	printf("%s\n", tool_esc(r->uri ? r->uri : ""));
	return 0;
}
