/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-pin.c - p11enroll pin change|init|unblock
 */
#include "config.h"

#include <getopt.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

const char usage_pin[] =
	"Usage: p11enroll [GLOBAL OPTIONS] pin change|init|unblock [--new-pin SRC]\n"
	"  change     change the user PIN (the current one from --pin)\n"
	"  init       set the user PIN as security officer (--so-pin)\n"
	"  unblock    the same, for a token whose user PIN is locked\n"
	"\n"
	"Options:\n"
	"  --new-pin SRC    source of the new user PIN (none, on a terminal: asked twice)\n"
	"  --help           show this help\n";

enum { OPT_NEW_PIN = 256 };

int cmd_pin(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "new-pin", required_argument, NULL, OPT_NEW_PIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	p11e_pin *auth = NULL, *new_pin = NULL;
	const char *new_src = NULL, *action, *label;
	int opt, ret, as_so, was_locked;
	p11e_status st;
	json_t *doc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_NEW_PIN: new_src = optarg; break;
		case 'h': fputs(usage_pin, stdout); return 0;
		default: return tool_bad_option("pin", argv);
		}
	}
	if (optind >= argc)
		return tool_usage_error("pin", "say change, init or unblock");
	action = argv[optind];
	if (strcmp(action, "change") != 0 && strcmp(action, "init") != 0 &&
	    strcmp(action, "unblock") != 0)
		return tool_usage_error("pin", "unknown action '%s' (change, init or unblock)",
		                        action);
	if (optind + 1 < argc)
		return tool_usage_error("pin", "unexpected argument '%s'", argv[optind + 1]);
	as_so = strcmp(action, "change") != 0;
	tool_warn_pass(t, new_src);

	if ((ret = tool_select_token(t)) != 0)
		return ret;
	/* refuse a locked or last-try PIN before asking for anything */
	st = p11e_pin_guard(t->ctx, as_so ? P11E_PIN_SO : P11E_PIN_USER);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	was_locked = (p11e_token_selected(t->ctx)->token_flags & CKF_USER_PIN_LOCKED) != 0;

	st = p11e_pin_read(t->ctx, as_so ? t->so_pin : t->pin, as_so ? P11E_PIN_SO : P11E_PIN_USER,
	                   &auth);
	if (st != P11E_OK) {
		ret = tool_fail(t, st, as_so ? "--so-pin" : "--pin");
		goto cleanup;
	}
	st = p11e_pin_read(t->ctx, new_src, P11E_PIN_NEW_USER, &new_pin);
	if (st != P11E_OK) {
		ret = tool_fail(t, st, "--new-pin");
		goto cleanup;
	}
	st = as_so ? p11e_pin_init(t->ctx, auth, new_pin) : p11e_pin_change(t->ctx, auth, new_pin);
	if (st != P11E_OK) {
		ret = tool_fail(t, st, NULL);
		goto cleanup;
	}
	label = tool_esc(p11e_token_selected(t->ctx)->label);
	if (strcmp(action, "unblock") == 0 && !was_locked && t->verbosity >= 1)
		fprintf(stderr,
		        "p11enroll: note: the user PIN of '%s' was not locked; it was reset\n",
		        label);
	/* said first, whatever follows: a script must never retry with the old PIN */
	tool_info(t, "user PIN of token '%s' %s\n", label, as_so ? "set" : "changed");
	ret = 0;
	if (t->json) {
		const p11e_slot *tok = p11e_token_selected(t->ctx);
		int err;

		doc = json_object();
		err = !doc;
		err = err || json_object_set_new(doc, "action", json_string(action)) != 0;
		err = err || tool_json_set_text(doc, "token", tok->label) != 0;
		err = err || tool_json_set_text(doc, "uri", tok->uri) != 0;
		ret = tool_json_emit(tool_json_unless(doc, err));
		if (ret != 0)
			fprintf(stderr,
			        "p11enroll: the user PIN of token '%s' was %s all the same\n",
			        label, as_so ? "set" : "changed");
	}
cleanup:
	p11e_pin_free(auth);
	p11e_pin_free(new_pin);
	return ret;
}
