/*
 * cmd-tokens.c - p11enroll tokens
 */
#include "config.h"

#include <stdio.h>

#include "tool.h"

const char usage_tokens[] =
	"Usage: p11enroll [GLOBAL OPTIONS] tokens\n"
	"List every slot of the module and its token (with --token: that token):\n"
	"label, manufacturer, model, serial, flags, memory, PIN lengths, pkcs11: URI.\n"
	"\n"
	"Options:\n"
	"  --help    show this help\n";

int cmd_tokens(struct tool *t, int argc, char **argv)
{
	p11e_slot *slots = NULL;
	size_t n = 0, i;
	p11e_status st;
	json_t *arr;
	int ret = tool_no_options("tokens", usage_tokens, argc, argv);

	if (ret >= 0)
		return ret;
	/* with --token: just that one (and an error if it is not there) */
	if (t->token) {
		if ((ret = tool_select_token(t)) != 0)
			return ret;
		if (t->json)
			return tool_json_emit(json_pack("[o]", tool_slot_json(p11e_token_selected(t->ctx))));
		tool_slot_print(p11e_token_selected(t->ctx));
		return 0;
	}
	if ((ret = tool_load_module(t)) != 0)
		return ret;
	st = p11e_slot_list(t->ctx, &slots, &n);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	if (t->json) {
		arr = json_array();
		for (i = 0; arr && i < n; i++)
			json_array_append_new(arr, tool_slot_json(&slots[i]));
		ret = tool_json_emit(arr);
	} else {
		if (n == 0)
			printf("the module has no slots\n");
		for (i = 0; i < n; i++)
			tool_slot_print(&slots[i]);
		ret = 0;
	}
	p11e_slot_list_free(slots, n);
	return ret;
}
