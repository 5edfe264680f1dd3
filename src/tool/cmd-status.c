/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-status.c - p11enroll status: renewal state for monitoring.  Exit
 * codes follow the Nagios plugin convention, not the other commands'.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tool.h"

const char usage_status[] =
	"Usage: p11enroll [GLOBAL OPTIONS] status [--warn-days N] [--crit-days N]\n"
	"       p11enroll [GLOBAL OPTIONS] status --prometheus [--warn-days N] [-o FILE]\n"
	"Days left and state of each client certificate on the token (no PIN needed).\n"
	"Exit status, as monitoring plugins use it: 0 all ok, 1 one to renew soon,\n"
	"2 critical, expired or not yet valid, 3 unknown (an error, or no certificate).\n"
	"\n"
	"Options:\n"
	"  --warn-days N    renew soon below N days left (default 30)\n"
	"  --crit-days N    critical below N days left (default 5)\n"
	"  --prometheus     node_exporter textfile metrics instead: of the token\n"
	"                   selected, else of every token; exit 0 when written\n"
	"  -o, --out FILE   write them to FILE atomically (default: stdout)\n"
	"  --help           show this help\n";

enum { OPT_WARN = 256, OPT_CRIT, OPT_PROM };
enum { NAGIOS_OK = 0, NAGIOS_WARNING = 1, NAGIOS_CRITICAL = 2, NAGIOS_UNKNOWN = 3 };

static int days_arg(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || !*s || v < 0 || v > 3650)
		return -1;
	*out = (int)v;
	return 0;
}

/* One certificate's entry onto arr (which may be NULL: -1); 0 or -1. */
static int cert_json(json_t *arr, const p11e_object *o, long days, p11e_cert_state s)
{
	json_t *j = arr ? json_object() : NULL;
	int err = 0;

	if (!j)
		return -1;
	err |= tool_json_set_text(j, "label", o->label);
	err |= tool_json_set_text(j, "uri", o->uri ? o->uri : "");
	err |= tool_json_set_text(j, "subject", o->subject ? o->subject : "");
	err |= json_object_set_new(j, "days_left", json_integer((json_int_t)days));
	err |= json_object_set_new(j, "state", json_string(p11e_cert_state_name(s)));
	if (err) {
		json_decref(j);
		return -1;
	}
	return json_array_append_new(arr, j);
}

int cmd_status(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "warn-days", required_argument, NULL, OPT_WARN },
		{ "crit-days", required_argument, NULL, OPT_CRIT },
		{ "prometheus", no_argument, NULL, OPT_PROM },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int warn = 30, crit = 5, opt, worst = NAGIOS_OK, seen = 0, json_err = 0, prom = 0;
	const char *out = NULL;
	long long now = (long long)time(NULL);
	p11e_object *objs = NULL;
	size_t n = 0;
	p11e_status st;
	json_t *arr = NULL;

	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_PROM: prom = 1; break;
		case 'o': out = optarg; break;
		case OPT_WARN:
		case OPT_CRIT:
			if (days_arg(optarg, opt == OPT_WARN ? &warn : &crit) != 0) {
				tool_usage_error("status", "'%s' is not a number of days", optarg);
				return NAGIOS_UNKNOWN;
			}
			break;
		case 'h': fputs(usage_status, stdout); return 0;
		default: tool_bad_option("status", argv); return NAGIOS_UNKNOWN;
		}
	}
	if (optind < argc) {
		tool_usage_error("status", "unexpected argument '%s'", argv[optind]);
		return NAGIOS_UNKNOWN;
	}
	if (crit > warn) {
		tool_usage_error("status", "--crit-days %d is more than --warn-days %d", crit,
		                 warn);
		return NAGIOS_UNKNOWN;
	}
	if (out && !prom) {
		tool_usage_error("status", "-o goes with --prometheus");
		return NAGIOS_UNKNOWN;
	}
	if (prom)
		return tool_status_prometheus(t, warn, out);
	/* certificates are public objects: monitoring needs no PIN */
	tool_no_login(t);
	if (tool_select_token(t) != 0)
		return NAGIOS_UNKNOWN;
	st = p11e_list(t->ctx, 0, &objs, &n);
	if (st != P11E_OK) {
		tool_fail(t, st, NULL);
		return NAGIOS_UNKNOWN;
	}
	if (t->json && !(arr = json_array()))
		json_err = -1;
	for (size_t i = 0; i < n; i++) {
		const p11e_object *o = &objs[i];
		long days;
		p11e_cert_state s;
		int code;

		if (o->authority)
			continue;
		seen++;
		s = p11e_cert_state_of(o, now, warn, crit, &days);
		code = s == P11E_CERT_OK      ? NAGIOS_OK
		       : s == P11E_CERT_RENEW ? NAGIOS_WARNING
		                              : NAGIOS_CRITICAL;
		if (code > worst)
			worst = code;
		if (t->json)
			json_err |= cert_json(arr, o, days, s);
		else
			printf("%-13s %5ld days  %s  %s\n", p11e_cert_state_name(s), days,
			       tool_esc(o->label), tool_esc(o->subject));
	}
	if (!seen) {
		if (!t->json)
			printf("no client certificate on token '%s'\n",
			       tool_esc(p11e_token_selected(t->ctx)->label));
		worst = NAGIOS_UNKNOWN;
	}
	if (t->json) {
		static const char *const names[] = { "ok", "warning", "critical", "unknown" };
		json_t *doc = json_object();

		if (doc) {
			json_err |= tool_json_set_text(doc, "token",
			                               p11e_token_selected(t->ctx)->label);
			json_err |= json_object_set_new(doc, "worst", json_string(names[worst]));
			json_err |= json_object_set_new(doc, "warn_days", json_integer(warn));
			json_err |= json_object_set_new(doc, "crit_days", json_integer(crit));
			json_err |= json_object_set_new(doc, "certificates", arr);
		} else {
			json_decref(arr);
		}
		/* a state nobody can read is no state: unknown */
		if (tool_json_emit(tool_json_unless(doc, json_err)) != 0)
			worst = NAGIOS_UNKNOWN;
	}
	p11e_list_free(objs, n);
	return worst;
}
