/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-cmp.c - --cmp and its options as the library's CMP settings.
 */
#include "config.h"

#include <stdio.h>

#include "ca.h"

int ca_cmp_make(struct tool *t, const struct ca_args *a, p11e_cmp **out)
{
	p11e_cmp *c = p11e_cmp_new();
	p11e_pin *secret = NULL;
	p11e_status st = c ? P11E_OK : P11E_ERR_FAILED;

	*out = NULL;
	if (st == P11E_OK)
		st = p11e_cmp_set_url(c, a->cmp);
	if (st == P11E_OK && a->trust)
		st = p11e_cmp_set_trust(c, a->trust);
	if (st == P11E_OK && a->auth_key)
		st = p11e_cmp_set_auth_key(c, a->auth_key);
	if (st == P11E_OK && a->timeout >= 0)
		st = p11e_cmp_set_timeout(c, a->timeout);
	if (st == P11E_OK && a->secret) {
		tool_warn_pass(t, a->secret);
		st = p11e_pin_read(t->ctx, a->secret, P11E_PIN_USER, &secret);
		if (st != P11E_OK) {
			p11e_cmp_free(c);
			return tool_fail(t, st, "--cmp-secret");
		}
		st = p11e_cmp_set_secret(c, a->ref, secret);
		p11e_pin_free(secret);
	}
	if (st != P11E_OK) {
		p11e_cmp_free(c);
		fprintf(stderr, "p11enroll: out of memory\n");
		return P11E_ERR_FAILED;
	}
	*out = c;
	return 0;
}
