/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * session.c - the steps every token command starts with: the module, the
 * token, the login (guarded: a locked PIN or a last try is refused before
 * any PIN is asked for).
 */
#include "config.h"

#include <stdio.h>

#include "tool.h"

void tool_no_login(struct tool *t)
{
	p11e_ctx_set_flags(t->ctx, (t->force ? P11E_CTX_FORCE_LAST_PIN_TRY : 0) |
	                                   P11E_CTX_NO_LOGIN | P11E_CTX_ONE_THREAD);
}

int tool_load_module(struct tool *t)
{
	p11e_status st = p11e_module_load(t->ctx, t->module);

	return st == P11E_OK ? 0 : tool_fail(t, st, NULL);
}

int tool_select_token(struct tool *t)
{
	p11e_status st;
	int ret = tool_load_module(t);

	if (ret)
		return ret;
	st = p11e_token_select(t->ctx, t->token);
	return st == P11E_OK ? 0 : tool_fail(t, st, NULL);
}

int tool_login(struct tool *t)
{
	p11e_pin *pin = NULL;
	p11e_status st;
	int ret = tool_select_token(t);

	if (ret)
		return ret;
	/* a locked PIN or a last try is refused before any PIN is asked for */
	st = p11e_pin_guard(t->ctx, P11E_PIN_USER);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	/* a PIN pad: the user types the PIN there, and no PIN is read here */
	if (p11e_token_pinpad(t->ctx)) {
		if (t->pin && t->verbosity >= 1)
			fprintf(stderr,
			        "p11enroll: note: --pin is ignored: token '%s' takes the "
			        "PIN on its reader's PIN pad\n",
			        tool_esc(p11e_token_selected(t->ctx)->label));
		st = p11e_login(t->ctx, P11E_PIN_USER, NULL);
		return st == P11E_OK ? 0 : tool_fail(t, st, NULL);
	}
	st = p11e_pin_read(t->ctx, t->pin, P11E_PIN_USER, &pin);
	if (st != P11E_OK)
		return tool_fail(t, st, "--pin");
	st = p11e_login(t->ctx, P11E_PIN_USER, pin);
	p11e_pin_free(pin);
	return st == P11E_OK ? 0 : tool_fail(t, st, NULL);
}
