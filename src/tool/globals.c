/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * globals.c - the global options, before the command or after it.
 *
 * "p11enroll tokens --json" is what people type after "p11enroll tokens",
 * as with kubectl, step or docker.  Before the command, main's getopt reads
 * them.  After it, they are taken out of the command's arguments here,
 * before the command's own getopt sees them; what is left is the command's.
 * That needs the command's own options (struct command .options): a
 * command option of the same name wins, and the value of a command option
 * is never taken for a global option ("csr --subject --json" is a subject).
 * After the command, global options are spelt in full (no abbreviations),
 * and "--" ends them as it ends every option.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

const struct option tool_global_options[] = {
	{ "module", required_argument, NULL, TOOL_OPT_MODULE },
	{ "token", required_argument, NULL, TOOL_OPT_TOKEN },
	{ "pin", required_argument, NULL, TOOL_OPT_PIN },
	{ "so-pin", required_argument, NULL, TOOL_OPT_SO_PIN },
	{ "force", no_argument, NULL, TOOL_OPT_FORCE },
	{ "json", no_argument, NULL, TOOL_OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	/* before the command only: after it, --help is the command's own */
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* the short global options that may follow the command */
#define GLOBAL_SHORTS "vq"

int tool_global_set(struct tool *t, int opt, const char *arg)
{
	switch (opt) {
	case TOOL_OPT_MODULE: t->module = arg; break;
	case TOOL_OPT_TOKEN: t->token = arg; break;
	case TOOL_OPT_PIN: t->pin = arg; break;
	case TOOL_OPT_SO_PIN: t->so_pin = arg; break;
	case TOOL_OPT_FORCE: t->force = 1; break;
	case TOOL_OPT_JSON: t->json = 1; break;
	case 'v': t->verbosity = 2; break;
	case 'q': t->verbosity = 0; break;
	default: return -1;
	}
	return 0;
}

/*
 * Is name[0..len) one of the command's own options ("key= yes o="): 1, and
 * *value says whether it takes a value.  prefix: also when name is an
 * abbreviation of a value-taking one, as getopt_long would read it.
 */
static int own(const char *options, const char *name, size_t len, int prefix, int *value)
{
	const char *p = options ? options : "";

	*value = 0;
	while (*p) {
		size_t n = strcspn(p, " =");
		int takes = p[n] == '=';

		if ((n == len || (prefix && takes && len > 1 && len < n)) &&
		    strncmp(p, name, len) == 0) {
			*value = takes;
			return 1;
		}
		p += n;
		p += strspn(p, " =");
	}
	return 0;
}

static const struct option *global_long(const char *name, size_t len)
{
	for (const struct option *o = tool_global_options; o->name; o++)
		if (o->val != 'h' && o->val != 'V' && strlen(o->name) == len &&
		    strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

/* "-v", "-qv": only short global options the command does not have itself */
static int global_shorts(const char *cluster, const char *options)
{
	int value;

	if (!*cluster)
		return 0;
	for (const char *c = cluster; *c; c++)
		if (!strchr(GLOBAL_SHORTS, *c) || own(options, c, 1, 0, &value))
			return 0;
	return 1;
}

static int bad_global(const char *name, const char *why)
{
	fprintf(stderr, "p11enroll: global option '--%s' %s: see 'p11enroll --help'\n", name, why);
	return P11E_ERR_USAGE;
}

int tool_globals_after(struct tool *t, const struct command *c, int *argc, char **argv)
{
	int in, out = 1, value;

	for (in = 1; in < *argc; in++) {
		const char *a = argv[in];

		if (strcmp(a, "--") == 0) {
			while (in < *argc)
				argv[out++] = argv[in++];
			break;
		}
		if (a[0] == '-' && a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct option *g = global_long(name, len);
			const char *arg = NULL;

			if (!g || own(c->options, name, len, 0, &value)) {
				/* the command's (or unknown: its getopt says so), with its value */
				argv[out++] = argv[in];
				if (!eq && in + 1 < *argc &&
				    own(c->options, name, len, 1, &value) && value)
					argv[out++] = argv[++in];
				continue;
			}
			if (g->has_arg == required_argument) {
				if (eq)
					arg = eq + 1;
				else if (in + 1 < *argc)
					arg = argv[++in];
				else
					return bad_global(g->name, "needs a value");
			} else if (eq) {
				return bad_global(g->name, "takes no value");
			}
			tool_global_set(t, g->val, arg);
			continue;
		}
		if (a[0] == '-' && global_shorts(a + 1, c->options)) {
			for (const char *s = a + 1; *s; s++)
				tool_global_set(t, *s, NULL);
			continue;
		}
		argv[out++] = argv[in];
		/* "-o FILE": a short option of the command whose value is the next word */
		for (const char *s = a[0] == '-' ? a + 1 : ""; *s; s++) {
			if (own(c->options, s, 1, 0, &value)) {
				if (value && !s[1] && in + 1 < *argc)
					argv[out++] = argv[++in];
				if (value)
					break;
			}
		}
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}
