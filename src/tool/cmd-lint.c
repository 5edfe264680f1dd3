/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-lint.c - p11enroll lint
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "tool.h"

const char usage_lint[] =
	"Usage: p11enroll [GLOBAL OPTIONS] lint FILE [--profile NAME]\n"
	"Check a request or certificate (PEM or DER) against a profile, the same\n"
	"checks csr --profile makes before signing.  Lists every violation; exit\n"
	"status 6 if there is any.  No token is needed.\n"
	"\n"
	"Options:\n"
	"  --profile NAME    mtls-client (default), open-banking, or your own\n"
	"  --help            show this help\n";

enum { OPT_PROFILE = 256 };

int cmd_lint(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile = "mtls-client", *file;
	const char *const *details;
	size_t n = 0;
	p11e_status st;
	json_t *doc, *arr;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_PROFILE: profile = optarg; break;
		case 'h': fputs(usage_lint, stdout); return 0;
		default: return tool_bad_option("lint", argv);
		}
	}
	if (optind + 1 != argc)
		return tool_usage_error("lint", "give one request or certificate file");
	file = argv[optind];
	st = p11e_lint(t->ctx, file, profile);
	if (st != P11E_OK && st != P11E_ERR_POLICY)
		return tool_fail(t, st, NULL);
	details = p11e_error_details(t->ctx, &n);
	if (t->json) {
		int err = 0;

		arr = json_array();
		for (size_t i = 0; arr && i < n; i++)
			err |= json_array_append_new(arr, tool_json_text(details[i]));
		doc = json_object();
		if (doc) {
			err |= tool_json_set_text(doc, "file", file);
			err |= tool_json_set_text(doc, "profile", profile);
			err |= json_object_set_new(doc, "ok", json_boolean(st == P11E_OK));
			err |= json_object_set_new(doc, "violations", arr);
		} else {
			json_decref(arr);
		}
		return tool_json_emit(tool_json_unless(doc, err)) ? P11E_ERR_FAILED : (int)st;
	}
	if (st == P11E_OK) {
		tool_info(t, "%s: meets profile '%s'\n", file, profile);
		return 0;
	}
	fprintf(stderr, "p11enroll: %s: %s\n", tool_esc(file),
	        tool_esc(p11e_error_message(t->ctx)));
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  - %s\n", tool_esc(details[i]));
	return (int)st;
}
