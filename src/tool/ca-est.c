/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-est.c - --est and its options as the library's EST settings.
 */
#include "config.h"

#include <stdio.h>

#include "ca.h"

int ca_est_make(struct tool *t, const struct ca_args *a, const char *cmd, p11e_est **out)
{
	p11e_est *e;
	p11e_pin *pw = NULL;
	p11e_status st;

	*out = NULL;
	if (!(e = p11e_est_new()) || p11e_est_set_url(e, a->est) != P11E_OK ||
	    p11e_est_set_trust(e, a->trust) != P11E_OK ||
	    p11e_est_set_auth_key(e, a->auth_key) != P11E_OK ||
	    (a->timeout >= 0 && p11e_est_set_timeout(e, a->timeout) != P11E_OK)) {
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
