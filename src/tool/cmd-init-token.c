/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-init-token.c - p11enroll init-token
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

const char usage_init_token[] =
	"Usage: p11enroll [GLOBAL OPTIONS] init-token --label L [--slot N] [--reinitialize]\n"
	"Initialise a token with the SO PIN (--so-pin) and a label, then set the\n"
	"user PIN (--pin).  Without --slot or --token: the only uninitialised token.\n"
	"\n"
	"Options:\n"
	"  --label L         the token label (at most 32 bytes)\n"
	"  --slot N          the slot id of the token\n"
	"  --reinitialize    allow initialising an initialised token: ERASES every object on it\n"
	"  --help            show this help\n";

enum { OPT_LABEL = 256, OPT_SLOT, OPT_REINIT };

int cmd_init_token(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "slot", required_argument, NULL, OPT_SLOT },
		{ "reinitialize", no_argument, NULL, OPT_REINIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	p11e_pin *so_pin = NULL, *user_pin = NULL;
	const char *label = NULL;
	long slot = -1;
	unsigned flags = 0;
	int opt, ret = P11E_ERR_FAILED;
	p11e_status st;
	char *end;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_LABEL: label = optarg; break;
		case OPT_SLOT:
			errno = 0;
			slot = strtol(optarg, &end, 0);
			if (errno || *end || slot < 0 || !*optarg)
				return tool_usage_error("init-token",
				                        "--slot '%s' is not a slot id", optarg);
			break;
		case OPT_REINIT: flags |= P11E_INIT_REINIT; break;
		case 'h': fputs(usage_init_token, stdout); return 0;
		default: return tool_bad_option("init-token", argv);
		}
	}
	if (optind < argc)
		return tool_usage_error("init-token", "unexpected argument '%s'", argv[optind]);
	if (!label)
		return tool_usage_error("init-token", "--label is required");
	if (slot >= 0 && t->token)
		return tool_usage_error("init-token", "give --slot or --token, not both");

	if ((ret = tool_load_module(t)) != 0)
		return ret;
	st = p11e_token_select_for_init(t->ctx, t->token, slot, label);
	/* refuse before asking for any PIN */
	if (st == P11E_OK)
		st = p11e_init_token_check(t->ctx, label, flags);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);

	st = p11e_pin_read(t->ctx, t->so_pin, P11E_PIN_SO, &so_pin);
	if (st != P11E_OK) {
		ret = tool_fail(t, st, "--so-pin");
		goto cleanup;
	}
	st = p11e_pin_read(t->ctx, t->pin, P11E_PIN_NEW_USER, &user_pin);
	if (st != P11E_OK) {
		ret = tool_fail(t, st, "--pin");
		goto cleanup;
	}
	st = p11e_init_token(t->ctx, label, so_pin, user_pin, flags);
	if (st != P11E_OK) {
		ret = tool_fail(t, st, NULL);
		goto cleanup;
	}
	if (t->json) {
		ret = tool_json_emit(tool_slot_json(p11e_token_selected(t->ctx)));
	} else {
		const p11e_slot *s = p11e_token_selected(t->ctx);

		tool_info(t, "initialised token '%s' and set its user PIN\n", tool_esc(s->label));
		printf("%s\n", tool_esc(s->uri));
		ret = 0;
	}
cleanup:
	p11e_pin_free(so_pin);
	p11e_pin_free(user_pin);
	return ret;
}
