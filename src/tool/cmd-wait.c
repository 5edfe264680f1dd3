/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-wait.c - p11enroll wait: block until a card comes into (or leaves) a
 * reader.
 *
 * Ctrl-C ends the wait at once and the process dies of it (sigwatch.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

const char usage_wait[] =
	"Usage: p11enroll [GLOBAL OPTIONS] wait [--reader NAME|GLOB] [--removed] [--next]\n"
	"                 [--timeout SECONDS]\n"
	"Block until a card is in a reader (readers plugged in while waiting too),\n"
	"then print the reader and the card's ATR.  A card that is in a reader\n"
	"already counts at once, unless --next.\n"
	"\n"
	"Options:\n"
	"  --reader NAME|GLOB   only readers whose name matches (fnmatch glob)\n"
	"  --removed            wait until a card leaves a reader instead; at once if\n"
	"                       no matching reader holds a card (unless --next)\n"
	"  --next               only a card inserted (or removed) after the start counts\n"
	"  --timeout SECONDS    give up after SECONDS (exit status 8)\n"
	"  --help               show this help\n"
	"\n"
	"Ctrl-C ends the wait at once: p11enroll dies of SIGINT (exit status 130).\n";

enum { OPT_READER = 256, OPT_REMOVED, OPT_NEXT, OPT_TIMEOUT };

static int timeout_arg(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 31 * 24 * 3600.0)
		return -1;
	*ms = (long)(v * 1000 + 0.5);
	return 0;
}

static int print_event(struct tool *t, const p11e_reader *r, int removed)
{
	char atr[3 * sizeof(r->atr) + 1];

	if (t->json) {
		json_t *doc = r->name ? tool_reader_json(r) : json_object();
		int err = !doc;

		if (doc && !r->name)
			err |= json_object_set_new(doc, "name", json_null());
		if (doc)
			err |= json_object_set_new(doc, "event",
			                           json_string(removed ? "removed" : "inserted"));
		return tool_json_emit(tool_json_unless(doc, err));
	}
	if (!r->name) {
		printf("no card in any matching reader\n");
		return 0;
	}
	tool_atr_hex(r, atr, sizeof(atr));
	if (removed)
		printf("card removed from reader '%s'\n", tool_esc(r->name));
	else
		printf("card in reader '%s'\n  %-13s %s\n", tool_esc(r->name), "atr:",
		       r->atr_len ? atr
		       : r->mute  ? "(mute card)"
		                  : "(none)");
	return fflush(stdout) == 0 ? 0 : P11E_ERR_FAILED;
}

int cmd_wait(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, OPT_READER },
		{ "removed", no_argument, NULL, OPT_REMOVED },
		{ "next", no_argument, NULL, OPT_NEXT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tool_sigwatch w;
	const char *pattern = NULL;
	unsigned flags = 0;
	long timeout = -1;
	p11e_reader r;
	p11e_status st;
	int opt, ret, sig;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_READER: pattern = optarg; break;
		case OPT_REMOVED: flags |= P11E_WAIT_REMOVED; break;
		case OPT_NEXT: flags |= P11E_WAIT_NEXT; break;
		case OPT_TIMEOUT:
			if (timeout_arg(optarg, &timeout) != 0)
				return tool_usage_error("wait",
				                        "--timeout '%s' is not a number of seconds",
				                        optarg);
			break;
		case 'h': fputs(usage_wait, stdout); return 0;
		default: return tool_bad_option("wait", argv);
		}
	}
	if (optind < argc)
		return tool_usage_error("wait", "unexpected argument '%s'", argv[optind]);
	if (pattern && !*pattern)
		return tool_usage_error("wait", "--reader is empty");

	if ((ret = tool_sigwatch_start(&w, t->ctx)) != 0)
		return ret;
	st = p11e_reader_wait(t->ctx, pattern, flags, timeout, &r);
	if ((sig = tool_sigwatch_stop(&w))) {
		p11e_reader_clear(&r);
		return tool_sigwatch_die(&w, sig);
	}
	tool_sigwatch_unblock(&w);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	ret = print_event(t, &r, (flags & P11E_WAIT_REMOVED) != 0);
	p11e_reader_clear(&r);
	return ret;
}
