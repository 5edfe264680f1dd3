/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-tokens.c - p11enroll tokens
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

const char usage_tokens[] =
	"Usage: p11enroll [GLOBAL OPTIONS] tokens\n"
	"List every slot of the module and its token (with --token: that token):\n"
	"label, manufacturer, model, serial, flags, memory, PIN lengths, pkcs11: URI,\n"
	"and the token quirk file that matches it.\n"
	"\n"
	"Options:\n"
	"  --help    show this help\n";

/* Each present token's quirk file name, or NULL; all or nothing. */
static int quirks_of(struct tool *t, const p11e_slot *slots, size_t n, const char **files)
{
	for (size_t i = 0; i < n; i++) {
		p11e_status st = p11e_token_quirks(t->ctx, &slots[i], &files[i]);

		if (st != P11E_OK)
			return tool_fail(t, st, NULL);
	}
	return 0;
}

static json_t *slot_json(const p11e_slot *s, const char *quirks)
{
	json_t *o = tool_slot_json(s);

	if (o && s->token_present && tool_json_set_text(o, "quirks", quirks) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void slot_print(const p11e_slot *s, const char *quirks)
{
	tool_slot_print(s);
	if (s->token_present)
		printf("  %-13s %s\n", "quirks:", quirks ? tool_esc(quirks) : "(none)");
}

static int show(struct tool *t, const p11e_slot *slots, size_t n)
{
	const char **files = calloc(n ? n : 1, sizeof(*files));
	json_t *arr;
	int ret;

	if (!files) {
		fprintf(stderr, "p11enroll: out of memory\n");
		return P11E_ERR_FAILED;
	}
	if ((ret = quirks_of(t, slots, n, files)) != 0)
		goto done;
	if (t->json) {
		arr = json_array();
		for (size_t i = 0; arr && i < n; i++)
			if (json_array_append_new(arr, slot_json(&slots[i], files[i])) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		ret = tool_json_emit(arr);
	} else {
		if (n == 0)
			printf("the module has no slots\n");
		for (size_t i = 0; i < n; i++)
			slot_print(&slots[i], files[i]);
	}
done:
	free(files);
	return ret;
}

int cmd_tokens(struct tool *t, int argc, char **argv)
{
	p11e_slot *slots = NULL;
	size_t n = 0;
	p11e_status st;
	int ret = tool_no_options("tokens", usage_tokens, argc, argv);

	if (ret >= 0)
		return ret;
	tool_no_login(t);
	/* with --token: just that one (and an error if it is not there) */
	if (t->token) {
		if ((ret = tool_select_token(t)) != 0)
			return ret;
		return show(t, p11e_token_selected(t->ctx), 1);
	}
	if ((ret = tool_load_module(t)) != 0)
		return ret;
	st = p11e_slot_list(t->ctx, &slots, &n);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	ret = show(t, slots, n);
	p11e_slot_list_free(slots, n);
	return ret;
}
