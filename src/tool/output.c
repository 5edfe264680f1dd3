/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * output.c - what every command prints the same way: errors, log lines,
 * JSON, slots.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <p11-kit/pkcs11.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

void tool_log(void *data, p11e_log_level level, const char *msg)
{
	const struct tool *t = data;

	switch (level) {
	/* the library's messages quote labels and subjects: escaped */
	case P11E_LOG_ERROR: fprintf(stderr, "p11enroll: %s\n", tool_esc(msg)); break;
	case P11E_LOG_WARN:
		if (t->verbosity >= 1)
			fprintf(stderr, "p11enroll: warning: %s\n", tool_esc(msg));
		break;
	case P11E_LOG_NOTE:
		if (t->verbosity >= 1)
			fprintf(stderr, "p11enroll: note: %s\n", tool_esc(msg));
		break;
	case P11E_LOG_INFO:
	case P11E_LOG_DEBUG:
		if (t->verbosity >= 2)
			fprintf(stderr, "p11enroll: %s\n", tool_esc(msg));
		break;
	}
}

int tool_fail(struct tool *t, p11e_status st, const char *prefix)
{
	const char *msg = p11e_error_message(t->ctx);

	if (!*msg)
		msg = p11e_status_name(st);
	const char *const *details;
	size_t n;

	const char *hint = tool_hint(p11e_error_reason(t->ctx));

	fprintf(stderr, "p11enroll: %s%s%s%s%s\n", prefix ? prefix : "", prefix ? ": " : "",
	        tool_esc(msg), hint ? ": " : "", hint ? hint : "");
	/* every profile violation, one per line, after the one-line summary */
	details = p11e_error_details(t->ctx, &n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  - %s\n", tool_esc(details[i]));
	return st == P11E_OK ? P11E_ERR_FAILED : (int)st;
}

int tool_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("p11enroll: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": see 'p11enroll %s --help'\n", cmd);
	return P11E_ERR_USAGE;
}

int tool_bad_option(const char *cmd, char **argv)
{
	const char *arg = argv[optind - 1];

	if (optopt && arg[0] == '-' && arg[1] != '-')
		fprintf(stderr, "p11enroll: %s option '-%c'",
		        optopt == ':' ? "bad" : "unknown or incomplete", optopt);
	else
		fprintf(stderr, "p11enroll: unknown or incomplete option '%s'", arg);
	if (cmd)
		fprintf(stderr, ": see 'p11enroll %s --help'\n", cmd);
	else
		fprintf(stderr, ": see 'p11enroll --help'\n");
	return P11E_ERR_USAGE;
}

void tool_info(struct tool *t, const char *fmt, ...)
{
	va_list ap;

	/* stdout carries the result (a URI, a file, JSON); what happened goes to stderr */
	if (t->verbosity < 1)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

json_t *tool_json_unless(json_t *doc, int err)
{
	if (err) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

int tool_json_emit(json_t *doc)
{
	int ret = 0;

	/* a builder that failed anywhere gives NULL: no partial document */
	if (!doc) {
		fprintf(stderr, "p11enroll: the JSON output could not be made (out of memory)\n");
		return P11E_ERR_FAILED;
	}
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "p11enroll: writing the JSON output failed\n");
		ret = P11E_ERR_FAILED;
	}
	json_decref(doc);
	return ret;
}

static const struct {
	CK_FLAGS bit;
	const char *name;
} token_flags[] = {
	{ CKF_LOGIN_REQUIRED, "login-required" },
	{ CKF_TOKEN_INITIALIZED, "initialized" },
	{ CKF_USER_PIN_INITIALIZED, "user-pin-initialized" },
	{ CKF_WRITE_PROTECTED, "write-protected" },
	{ CKF_PROTECTED_AUTHENTICATION_PATH, "protected-auth-path" },
	{ CKF_USER_PIN_COUNT_LOW, "user-pin-count-low" },
	{ CKF_USER_PIN_FINAL_TRY, "user-pin-final-try" },
	{ CKF_USER_PIN_LOCKED, "user-pin-locked" },
	{ CKF_USER_PIN_TO_BE_CHANGED, "user-pin-to-be-changed" },
	{ CKF_SO_PIN_COUNT_LOW, "so-pin-count-low" },
	{ CKF_SO_PIN_FINAL_TRY, "so-pin-final-try" },
	{ CKF_SO_PIN_LOCKED, "so-pin-locked" },
	{ CKF_SO_PIN_TO_BE_CHANGED, "so-pin-to-be-changed" },
};
#define N_FLAGS (sizeof(token_flags) / sizeof(token_flags[0]))

static json_t *mem_json(unsigned long v)
{
	return v == P11E_UNAVAILABLE ? json_null() : json_integer((json_int_t)v);
}

json_t *tool_slot_json(const p11e_slot *s)
{
	json_t *o = json_object(), *flags;
	int err = 0;

	if (!o)
		return NULL;
	err |= json_object_set_new(o, "slot_id", json_integer((json_int_t)s->slot_id));
	err |= tool_json_set_text(o, "slot_description", s->slot_description);
	err |= tool_json_set_text(o, "slot_manufacturer", s->slot_manufacturer);
	err |= json_object_set_new(o, "token_present", json_boolean(s->token_present));
	err |= json_object_set_new(o, "removable",
	                           json_boolean(s->slot_flags & CKF_REMOVABLE_DEVICE));
	err |= json_object_set_new(o, "hardware", json_boolean(s->slot_flags & CKF_HW_SLOT));
	if (!s->token_present)
		goto done;
	err |= tool_json_set_text(o, "label", s->label);
	err |= tool_json_set_text(o, "manufacturer", s->manufacturer);
	err |= tool_json_set_text(o, "model", s->model);
	err |= tool_json_set_text(o, "serial", s->serial);
	flags = json_array();
	for (size_t i = 0; flags && i < N_FLAGS; i++)
		if (s->token_flags & token_flags[i].bit)
			err |= json_array_append_new(flags, json_string(token_flags[i].name));
	err |= json_object_set_new(o, "flags", flags);
	err |= json_object_set_new(o, "initialized",
	                           json_boolean(s->token_flags & CKF_TOKEN_INITIALIZED));
	err |= json_object_set_new(o, "user_pin_initialized",
	                           json_boolean(s->token_flags & CKF_USER_PIN_INITIALIZED));
	err |= json_object_set_new(o, "login_required",
	                           json_boolean(s->token_flags & CKF_LOGIN_REQUIRED));
	err |= json_object_set_new(o, "free_public_memory", mem_json(s->free_public_memory));
	err |= json_object_set_new(o, "total_public_memory", mem_json(s->total_public_memory));
	err |= json_object_set_new(o, "free_private_memory", mem_json(s->free_private_memory));
	err |= json_object_set_new(o, "total_private_memory", mem_json(s->total_private_memory));
	err |= json_object_set_new(o, "min_pin_len", mem_json(s->min_pin_len));
	err |= json_object_set_new(o, "max_pin_len", mem_json(s->max_pin_len));
	err |= tool_json_set_text(o, "uri", s->uri);
done:
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void print_mem(const char *what, unsigned long free_mem, unsigned long total)
{
	if (free_mem == P11E_UNAVAILABLE && total == P11E_UNAVAILABLE)
		return;
	printf("  %-13s ", what);
	if (free_mem != P11E_UNAVAILABLE)
		printf("%lu free", free_mem);
	else
		printf("? free");
	if (total != P11E_UNAVAILABLE)
		printf(" of %lu bytes\n", total);
	else
		printf(" bytes\n");
}

void tool_slot_print(const p11e_slot *s)
{
	const char *sep = "";

	printf("slot %lu: %s\n", s->slot_id, tool_esc(s->slot_description));
	if (!s->token_present) {
		printf("  (no token)\n");
		return;
	}
	if (s->token_flags & CKF_TOKEN_INITIALIZED)
		printf("  %-13s %s\n", "label:", tool_esc(s->label));
	else
		printf("  %-13s (uninitialised token)\n", "label:");
	printf("  %-13s %s\n", "manufacturer:", tool_esc(s->manufacturer));
	printf("  %-13s %s\n", "model:", tool_esc(s->model));
	printf("  %-13s %s\n", "serial:", tool_esc(s->serial));
	printf("  %-13s ", "flags:");
	for (size_t i = 0; i < N_FLAGS; i++) {
		if (s->token_flags & token_flags[i].bit) {
			printf("%s%s", sep, token_flags[i].name);
			sep = ", ";
		}
	}
	printf("\n");
	print_mem("public mem:", s->free_public_memory, s->total_public_memory);
	print_mem("private mem:", s->free_private_memory, s->total_private_memory);
	if (s->min_pin_len != P11E_UNAVAILABLE && s->max_pin_len != P11E_UNAVAILABLE)
		printf("  %-13s %lu-%lu\n", "PIN length:", s->min_pin_len, s->max_pin_len);
	printf("  %-13s %s\n", "uri:", tool_esc(s->uri));
}

int tool_help_only(const char *cmd, const char *usage, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		return tool_bad_option(cmd, argv);
	}
	return -1;
}

int tool_no_options(const char *cmd, const char *usage, int argc, char **argv)
{
	int ret = tool_help_only(cmd, usage, argc, argv);

	if (ret < 0 && optind < argc)
		return tool_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	return ret;
}

static void id_hex(const p11e_key *k, char *out, size_t len)
{
	out[0] = '\0';
	for (size_t i = 0; i < k->id_len && 2 * i + 2 < len; i++)
		snprintf(out + 2 * i, 3, "%02x", k->id[i]);
}

static json_t *tri(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

json_t *tool_key_json(const p11e_key *k)
{
	char id[2 * sizeof(k->id) + 1];
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	id_hex(k, id, sizeof(id));
	err |= json_object_set_new(o, "class", json_string("private-key"));
	err |= tool_json_set_text(o, "label", k->label);
	err |= json_object_set_new(o, "id", json_string(id));
	err |= tool_json_set_text(o, "uri", k->uri ? k->uri : "");
	err |= json_object_set_new(o, "key_type",
	                           json_string(k->type == P11E_KEY_RSA  ? "rsa"
	                                       : k->type == P11E_KEY_EC ? "ec"
	                                                                : "other"));
	err |= json_object_set_new(o, "bits", json_integer(k->bits));
	if (k->type == P11E_KEY_EC)
		err |= tool_json_set_text(o, "curve", k->curve);
	err |= json_object_set_new(o, "sensitive", tri(k->sensitive));
	err |= json_object_set_new(o, "extractable", tri(k->extractable));
	err |= json_object_set_new(o, "always_sensitive", tri(k->always_sensitive));
	err |= json_object_set_new(o, "never_extractable", tri(k->never_extractable));
	err |= json_object_set_new(o, "local", tri(k->local));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void tool_key_print(const p11e_key *k)
{
	char id[2 * sizeof(k->id) + 1];

	id_hex(k, id, sizeof(id));
	printf("private key '%s'\n", tool_esc(k->label));
	if (k->type == P11E_KEY_RSA)
		printf("  %-13s rsa:%u\n", "type:", k->bits);
	else
		printf("  %-13s ec:%s\n", "type:", tool_esc(k->curve));
	printf("  %-13s %s\n", "id:", id);
	printf("  %-13s sensitive=%d extractable=%d always_sensitive=%d never_extractable=%d "
	       "local=%d\n",
	       "attributes:", k->sensitive, k->extractable, k->always_sensitive,
	       k->never_extractable, k->local);
	printf("  %-13s %s\n", "uri:", tool_esc(k->uri));
}

void tool_warn_pass(struct tool *t, const char *src)
{
	if (!src || strncmp(src, "pass:", 5) != 0 || t->warned_pass || t->verbosity < 1)
		return;
	t->warned_pass = 1;
	fprintf(stderr, "p11enroll: warning: a pass: PIN is on the command line, where other "
	                "users see it (ps, /proc): prefer env:, file: or fd:\n");
}
