/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tool.h - what the p11enroll tool's files share.
 */
#ifndef P11ENROLL_TOOL_H
#define P11ENROLL_TOOL_H

#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>

#include "p11enroll-ca.h"
#include "p11enroll-reader.h"
#include "p11enroll.h"

/* Global options and the library context: one per run, no globals. */
struct tool {
	p11e_ctx *ctx;
	const char *module;
	const char *token;
	const char *pin;
	const char *so_pin;
	int force;
	int json;
	int verbosity;   /* 0 -q, 1 default, 2 -v */
	int warned_pass; /* the pass: warning is given once */
};

struct command {
	const char *name;
	int (*run)(struct tool *t, int argc, char **argv);
	const char *summary;
	const char *usage; /* the whole --help text of the command */
	/*
	 * Its own options but --help/-h, as "key= yes o=" ("=": takes a value;
	 * one letter: a short option): globals.c leaves them and their values
	 * to the command.  tests/cli/globals.sh checks it against --help.
	 */
	const char *options;
};

/* globals.c: the global options, before the command or after it */
enum {
	TOOL_OPT_MODULE = 256,
	TOOL_OPT_TOKEN,
	TOOL_OPT_PIN,
	TOOL_OPT_SO_PIN,
	TOOL_OPT_FORCE,
	TOOL_OPT_JSON,
};
extern const struct option tool_global_options[];
/* Set global option opt (a getopt value from tool_global_options); -1 if not one. */
int tool_global_set(struct tool *t, int opt, const char *arg);
/*
 * Take the global options out of a command's arguments (argv[0] is the
 * command's name) into t, leaving the command's own; 0 or the exit code
 * of a usage error.
 */
int tool_globals_after(struct tool *t, const struct command *c, int *argc, char **argv);

int cmd_modules(struct tool *t, int argc, char **argv);
int cmd_tokens(struct tool *t, int argc, char **argv);
int cmd_init_token(struct tool *t, int argc, char **argv);
int cmd_pin(struct tool *t, int argc, char **argv);
int cmd_keygen(struct tool *t, int argc, char **argv);
int cmd_csr(struct tool *t, int argc, char **argv);
int cmd_enroll(struct tool *t, int argc, char **argv);
int cmd_lint(struct tool *t, int argc, char **argv);
int cmd_import(struct tool *t, int argc, char **argv);
int cmd_list(struct tool *t, int argc, char **argv);
int cmd_status(struct tool *t, int argc, char **argv);
int cmd_export(struct tool *t, int argc, char **argv);
int cmd_renew(struct tool *t, int argc, char **argv);
int cmd_retire(struct tool *t, int argc, char **argv);
int cmd_plan(struct tool *t, int argc, char **argv);
int cmd_apply(struct tool *t, int argc, char **argv);
int cmd_cacerts(struct tool *t, int argc, char **argv);

extern const char usage_modules[], usage_tokens[], usage_init_token[], usage_pin[], usage_keygen[],
	usage_csr[], usage_enroll[], usage_lint[], usage_import[], usage_list[], usage_status[],
	usage_export[], usage_renew[], usage_retire[], usage_plan[], usage_apply[], usage_readers[],
	usage_wait[], usage_cacerts[];

/*
 * status-prom.c: status --prometheus: metrics of the --token given, else of
 * every initialised token, to out (NULL: stdout) atomically; 0 or the exit code.
 */
int tool_status_prometheus(struct tool *t, int warn, const char *out);
int cmd_readers(struct tool *t, int argc, char **argv);
int cmd_wait(struct tool *t, int argc, char **argv);
int cmd_station(struct tool *t, int argc, char **argv);
extern const char usage_station[];

/*
 * sigwatch.c: SIGINT and SIGTERM blocked and taken by a thread that cancels
 * the context's reader wait.  start: 0 or the exit code (after a message);
 * stop: the signal taken (0: none; one that came while nothing watched
 * stays pending for the next start); die: the process dies of sig.
 */
struct tool_sigwatch {
	p11e_ctx *ctx;
	sigset_t set;
	pthread_t th;
	int running;
	int sig;
};
int tool_sigwatch_start(struct tool_sigwatch *w, p11e_ctx *ctx);
int tool_sigwatch_stop(struct tool_sigwatch *w);
int tool_sigwatch_die(struct tool_sigwatch *w, int sig);
void tool_sigwatch_unblock(struct tool_sigwatch *w);

/* cmd-readers.c: a reader's ATR as colon-separated hex; its JSON object */
void tool_atr_hex(const p11e_reader *r, char *out, size_t size);
json_t *tool_reader_json(const p11e_reader *r);

/* hints.c: the tool's advice for a failure's reason, naming its options; or NULL */
const char *tool_hint(p11e_reason reason);

/* output.c */
void tool_log(void *data, p11e_log_level level, const char *msg);
/* Print the context's error (after "prefix: " if given); returns status. */
int tool_fail(struct tool *t, p11e_status st, const char *prefix);
/* Print a usage error naming the command's --help; returns P11E_ERR_USAGE. */
int tool_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After getopt_long returned '?' or ':': one line naming the option. */
int tool_bad_option(const char *cmd, char **argv);
void tool_info(struct tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Dump JSON to stdout and release it. */
/* doc, or NULL (and doc freed) if err: a document built with a failure is no document */
json_t *tool_json_unless(json_t *doc, int err);
int tool_json_emit(json_t *doc);
json_t *tool_slot_json(const p11e_slot *s);
void tool_slot_print(const p11e_slot *s);
/*
 * For commands whose only option is --help: -1 to go on (their operands
 * from argv[optind]), else the exit code to return.  tool_no_options also
 * refuses any operand.
 */
int tool_help_only(const char *cmd, const char *usage, int argc, char **argv);
int tool_no_options(const char *cmd, const char *usage, int argc, char **argv);
/* --module, then --token: 0 or the exit code after printing the error. */
/* The command reads and never logs in: the module lock neither waits nor is kept (lock.c). */
void tool_no_login(struct tool *t);
int tool_load_module(struct tool *t);
int tool_select_token(struct tool *t);
/* --token, then log in as user with --pin (guarded): 0 or the exit code. */
int tool_login(struct tool *t);
/*
 * prompt.c: the PIN callback (p11e_pin_fn): a no-echo prompt on the
 * controlling terminal, P11E_PIN_ANSWER_UNAVAILABLE without one.
 */
int tool_pin_prompt(void *data, p11e_pin_role role, const char *token_label, const char *token_uri,
                    unsigned flags, char *buf, size_t size);
json_t *tool_key_json(const p11e_key *k);
void tool_key_print(const p11e_key *k);
/* A one-line warning, once per run and not with -q, if src is a pass: PIN. */
void tool_warn_pass(struct tool *t, const char *src);
/* Write data to path ("-" or NULL: stdout) via a temporary file and rename. */
int tool_write_output(const char *path, const unsigned char *data, size_t len);
/* Hex (with or without colons) to bytes; 0 or -1. */
int tool_hex_decode(const char *hex, unsigned char *out, size_t max, size_t *len);

/*
 * text.c: token, certificate and module text made safe to print.
 * tool_esc: for a terminal or plain text, controls (C0, DEL, C1) and bytes
 * that are not UTF-8 as \xNN; valid until 8 more calls ("" for NULL).
 */
const char *tool_esc(const char *s);
void tool_text_free(void);
int tool_utf8_valid(const char *s);
/* A JSON string of s (null for NULL), bytes that are not UTF-8 as \xNN; NULL: no memory. */
json_t *tool_json_text(const char *s);
/*
 * o[key] = tool_json_text(s), and if s is not valid UTF-8 also
 * o[key "_hex"] = its exact bytes in hex; 0 or -1.
 */
int tool_json_set_text(json_t *o, const char *key, const char *s);

#endif
