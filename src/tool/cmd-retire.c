/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-retire.c - p11enroll retire
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

const char usage_retire[] =
	"Usage: p11enroll [GLOBAL OPTIONS] retire --key URI|LABEL [--yes] [--force]\n"
	"Remove a key pair and its certificates from the token (CA certificates stay).\n"
	"Asks on a terminal; scripts give --yes.  The only key with a valid\n"
	"certificate is kept unless --force.\n"
	"\n"
	"Options:\n"
	"  --key URI|LABEL   the key to remove\n"
	"  --yes             do not ask\n"
	"  --force           remove it even if it is the only key with a valid certificate\n"
	"                    (retire's own; the global --force, to spend a last PIN try,\n"
	"                    goes before 'retire')\n"
	"  --help            show this help\n";

enum { OPT_KEY = 256, OPT_YES, OPT_FORCE };

static int confirm(const char *question)
{
	char answer[16] = "";
	FILE *tty = fopen("/dev/tty", "r+");

	if (!tty)
		return -1;
	fprintf(tty, "%s [y/N] ", question);
	fflush(tty);
	if (!fgets(answer, sizeof(answer), tty))
		answer[0] = '\0';
	fclose(tty);
	return answer[0] == 'y' || answer[0] == 'Y';
}

static json_t *retired_json(const p11e_key *key, size_t ncerts)
{
	json_t *doc = json_object();
	int err = !doc;

	err = err || tool_json_set_text(doc, "label", key->label) != 0;
	err = err || tool_json_set_text(doc, "uri", key->uri) != 0;
	err = err || json_object_set_new(doc, "certificates_removed",
	                                 json_integer((json_int_t)ncerts)) != 0;
	return tool_json_unless(doc, err);
}

int cmd_retire(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *keyspec = NULL;
	unsigned flags = 0;
	int yes = 0, opt, ret, ok;
	char question[2048]; /* escaped labels: up to 4 bytes each */
	size_t ncerts = 0;
	p11e_key key;
	p11e_status st;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_KEY: keyspec = optarg; break;
		case OPT_YES: yes = 1; break;
		case OPT_FORCE: flags |= P11E_RETIRE_FORCE; break;
		case 'h': fputs(usage_retire, stdout); return 0;
		default: return tool_bad_option("retire", argv);
		}
	}
	if (optind < argc)
		return tool_usage_error("retire", "unexpected argument '%s'", argv[optind]);
	if (!keyspec)
		return tool_usage_error("retire", "--key is required");
	if ((ret = tool_login(t)) != 0)
		return ret;
	st = p11e_retire_plan(t->ctx, keyspec, flags, &key, &ncerts);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	if (!yes) {
		snprintf(question, sizeof(question),
		         "Remove key '%s' and %zu certificate%s from token '%s'? This cannot be "
		         "undone.",
		         tool_esc(key.label), ncerts, ncerts == 1 ? "" : "s",
		         tool_esc(p11e_token_selected(t->ctx)->label));
		ok = confirm(question);
		if (ok < 0) {
			p11e_key_clear(&key);
			return tool_usage_error("retire", "no terminal to ask on: add --yes");
		}
		if (!ok) {
			fprintf(stderr, "p11enroll: nothing removed\n");
			p11e_key_clear(&key);
			return P11E_ERR_USAGE;
		}
	}
	st = p11e_retire(t->ctx, &key, flags);
	if (st != P11E_OK)
		ret = tool_fail(t, st, NULL);
	else if (t->json)
		ret = tool_json_emit(retired_json(&key, ncerts));
	else
		tool_info(t, "removed key '%s' and %zu certificate%s\n", tool_esc(key.label),
		          ncerts, ncerts == 1 ? "" : "s");
	p11e_key_clear(&key);
	return ret;
}
