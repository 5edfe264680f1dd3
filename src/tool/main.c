/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main.c - global options and the command table.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "ca.h"
#include "tool.h"

/* the request options csr, enroll and renew share (csr-options.h) */
#define CSR_OPTIONS "config= subject= san= ext= digest= pss backend= der out= o= profile= allow-weak"
/* the CA options enroll and renew share (ca-cmp.h) */

static const struct command commands[] = {
	{ "modules", cmd_modules, "list PKCS#11 modules", usage_modules, "" },
	{ "tokens", cmd_tokens, "list slots and tokens", usage_tokens, "" },
	{ "init-token", cmd_init_token, "initialise a token", usage_init_token,
	  "label= slot= reinitialize" },
	{ "pin", cmd_pin, "change, set or unblock the user PIN", usage_pin, "new-pin=" },
	{ "keygen", cmd_keygen, "generate a key pair on the token", usage_keygen,
	  "label= id= type=" },
	{ "csr", cmd_csr, "write a request signed by a token key", usage_csr, "key= " CSR_OPTIONS },
	{ "enroll", cmd_enroll, "keygen and csr in one step, idempotent", usage_enroll,
	  "label= id= type= " CSR_OPTIONS " " CA_OPTIONS },
	{ "import", cmd_import, "write a certificate (and chain) onto the token", usage_import,
	  "chain= key= label= allow-expired" },
	{ "list", cmd_list, "keys, certificates, pairing and expiry", usage_list, "" },
	{ "status", cmd_status, "renewal state, with monitoring exit codes", usage_status,
	  "warn-days= crit-days= prometheus out= o=" },
	{ "renew", cmd_renew, "a new key and request next to the old ones", usage_renew,
	  "key= type= " CSR_OPTIONS " " CA_OPTIONS },
	{ "retire", cmd_retire, "remove a key pair and its certificates", usage_retire,
	  "key= yes force" },
	{ "export", cmd_export, "write a certificate (and chain) from the token", usage_export,
	  "cert= chain out= o= der pkcs12 pfx" },
	{ "cacerts", cmd_cacerts, "fetch and show an EST server's CA certificates", usage_cacerts,
	  CA_TRUST_OPTIONS " out= o=" },
	{ "lint", cmd_lint, "check a request or certificate against a profile", usage_lint,
	  "profile=" },
	{ "plan", cmd_plan, "what apply would do for a manifest", usage_plan, "" },
	{ "apply", cmd_apply, "make a manifest so, token by token in parallel", usage_apply,
	  "jobs= j= audit= prometheus=" },
	{ "readers", cmd_readers, "list card readers, their cards and slots", usage_readers, "" },
	{ "wait", cmd_wait, "wait until a card comes into (or leaves) a reader", usage_wait,
	  "reader= removed next timeout=" },
	{ "station", cmd_station, "provision card after card from a recipe", usage_station,
	  "recipe= reader= count=" },
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage: p11enroll [OPTIONS] COMMAND [ARGS]\n"
	      "Provision PKCS#11 tokens with keys that never leave them.\n"
	      "\n"
	      "Options:\n"
	      "  --module PATH|NAME  PKCS#11 module: a path or a p11-kit module name\n"
	      "                      (default: $P11ENROLL_MODULE, else the p11-kit proxy)\n"
	      "  --token URI|LABEL   the token: a pkcs11: URI or a token label\n"
	      "  --pin SRC           user PIN source\n"
	      "  --so-pin SRC        security officer PIN source\n"
	      "  --force             allow spending a token's last PIN try\n"
	      "  --json              JSON output\n"
	      "  -v, --verbose       log every PKCS#11 call and its result to stderr\n"
	      "  -q, --quiet         print errors only\n"
	      "  -h, --help          show this help\n"
	      "  -V, --version       show the version\n"
	      "\n"
	      "Global options may also follow the command (spelt in full there); where the\n"
	      "command has an option of the same name, the command's wins: 'retire --force'.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-12s  %s\n", commands[i].name, commands[i].summary);
	fputs("  help          show the help of a command\n"
	      "\n"
	      "PIN sources: env:VAR, file:PATH, fd:N, stdin, pass:PIN (visible to ps);\n"
	      "none, on a terminal: a prompt.\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage, 3 PIN/auth, 4 not found,\n"
	      "5 token/device, 6 policy, 7 bad input, 8 timed out, 9 CA;\n"
	      "apply: 10 changed, 11 some failed.\n"
	      "See p11enroll(1) and p11enroll-COMMAND(1).\n",
	      out);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "p11enroll: unknown command '%s': see 'p11enroll --help'\n",
		        argv[1]);
		return P11E_ERR_USAGE;
	}
	fputs(c->usage, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct tool t;
	const struct command *c;
	int opt, ret;

	/*
	 * PINs pass through this process's memory (ours, the module's, the
	 * engine's): no core file, and no ptrace or /proc/PID/mem by other
	 * processes of the same user.  Before anything is read.
	 */
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	memset(&t, 0, sizeof(t));
	t.verbosity = 1;
	opterr = 0; /* our own one-line messages, not getopt's */
	/* "+": global options stop at the command name; those after it: globals.c */
	while ((opt = getopt_long(argc, argv, "+vqhV", tool_global_options, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		if (opt == 'V') {
			printf("p11enroll %s\n", p11e_version());
			return 0;
		}
		if (tool_global_set(&t, opt, optarg) != 0)
			return tool_bad_option(NULL, argv);
	}
	if (optind >= argc) {
		usage(stderr);
		fprintf(stderr, "p11enroll: no command given: see the list above\n");
		return P11E_ERR_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0)
		return cmd_help(argc, argv);
	c = find_command(argv[0]);
	if (!c) {
		fprintf(stderr, "p11enroll: unknown command '%s': see 'p11enroll --help'\n",
		        argv[0]);
		return P11E_ERR_USAGE;
	}
	if ((ret = tool_globals_after(&t, c, &argc, argv)) != 0)
		return ret;
	tool_warn_pass(&t, t.pin);
	tool_warn_pass(&t, t.so_pin);
	t.ctx = p11e_ctx_new();
	if (!t.ctx) {
		fprintf(stderr, "p11enroll: out of memory\n");
		return P11E_ERR_FAILED;
	}
	p11e_ctx_set_log(t.ctx, tool_log, &t);
	/* one thread calls the library (keygen's ticker only prints) */
	p11e_ctx_set_flags(t.ctx,
	                   (t.force ? P11E_CTX_FORCE_LAST_PIN_TRY : 0) | P11E_CTX_ONE_THREAD);
	p11e_ctx_set_pin_callback(t.ctx, tool_pin_prompt, &t);
	optind = 0; /* the command parses its own options */
	ret = c->run(&t, argc, argv);
	p11e_ctx_free(t.ctx);
	tool_text_free();
	return ret;
}
