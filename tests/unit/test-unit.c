/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-unit.c - the unit suite: no token, no module.  PIN source parsing,
 * the CK_RV table, token selection, padding, object URIs, token quirk files.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "internal.h"

static p11e_ctx *ctx;
static char warnings[2048];

static void collect(void *data, p11e_log_level level, const char *msg)
{
	(void)data;
	if (level == P11E_LOG_WARN)
		strncat(warnings, msg, sizeof(warnings) - strlen(warnings) - 1);
}

static int suite_init(void)
{
	ctx = p11e_ctx_new();
	if (!ctx)
		return -1;
	p11e_ctx_set_log(ctx, collect, NULL);
	return 0;
}

static int suite_clean(void)
{
	p11e_ctx_free(ctx);
	return 0;
}

/* Read a PIN from src; returns the status, the PIN text in out. */
static p11e_status pin_of(const char *src, char *out, size_t len)
{
	p11e_pin *pin = NULL;
	p11e_status st = p11e__pin_from_source(ctx, src, &pin);

	out[0] = '\0';
	if (st == P11E_OK) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(pin);
		CU_ASSERT_EQUAL(strlen(pin->data), pin->len);
		snprintf(out, len, "%s", pin->data);
	} else {
		CU_ASSERT_PTR_NULL(pin);
	}
	p11e_pin_free(pin);
	return st;
}

static char *write_temp(const char *content, mode_t mode)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/p11e-unit-XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	fchmod(fd, mode);
	close(fd);
	return path;
}

static void test_pin_pass_env(void)
{
	char got[300];

	CU_ASSERT_EQUAL(pin_of("pass:1234", got, sizeof(got)), P11E_OK);
	CU_ASSERT_STRING_EQUAL(got, "1234");
	CU_ASSERT_EQUAL(pin_of("pass:", got, sizeof(got)), P11E_ERR_INPUT);

	setenv("P11E_UNIT_PIN", "s3cret pin", 1);
	CU_ASSERT_EQUAL(pin_of("env:P11E_UNIT_PIN", got, sizeof(got)), P11E_OK);
	CU_ASSERT_STRING_EQUAL(got, "s3cret pin");
	unsetenv("P11E_UNIT_PIN");
	CU_ASSERT_EQUAL(pin_of("env:P11E_UNIT_PIN", got, sizeof(got)), P11E_ERR_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "P11E_UNIT_PIN is not set"));
	setenv("P11E_UNIT_PIN", "", 1);
	CU_ASSERT_EQUAL(pin_of("env:P11E_UNIT_PIN", got, sizeof(got)), P11E_ERR_INPUT);
	unsetenv("P11E_UNIT_PIN");
	CU_ASSERT_EQUAL(pin_of("env:", got, sizeof(got)), P11E_ERR_USAGE);
}

static void test_pin_file(void)
{
	char got[300], *path, src[128];

	warnings[0] = '\0';
	path = write_temp("4711\r\nsecond line\n", 0600);
	snprintf(src, sizeof(src), "file:%s", path);
	CU_ASSERT_EQUAL(pin_of(src, got, sizeof(got)), P11E_OK);
	CU_ASSERT_STRING_EQUAL(got, "4711");
	CU_ASSERT_STRING_EQUAL(warnings, "");
	unlink(path);

	/* readable by others: works, with a warning naming the fix */
	path = write_temp("0815", 0644);
	snprintf(src, sizeof(src), "file:%s", path);
	CU_ASSERT_EQUAL(pin_of(src, got, sizeof(got)), P11E_OK);
	CU_ASSERT_STRING_EQUAL(got, "0815");
	CU_ASSERT_PTR_NOT_NULL(strstr(warnings, "chmod 600"));
	unlink(path);

	path = write_temp("\n", 0600);
	snprintf(src, sizeof(src), "file:%s", path);
	CU_ASSERT_EQUAL(pin_of(src, got, sizeof(got)), P11E_ERR_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "empty PIN"));
	unlink(path);

	CU_ASSERT_EQUAL(pin_of(src, got, sizeof(got)), P11E_ERR_INPUT); /* gone now */
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "cannot open"));
	CU_ASSERT_EQUAL(pin_of("file:", got, sizeof(got)), P11E_ERR_USAGE);
}

static void test_pin_too_long(void)
{
	char big[400], got[300], *path, src[128];

	memset(big, '7', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	path = write_temp(big, 0600);
	snprintf(src, sizeof(src), "file:%s", path);
	CU_ASSERT_EQUAL(pin_of(src, got, sizeof(got)), P11E_ERR_INPUT);
	unlink(path);
}

static void test_pin_fd(void)
{
	char got[300], src[32];
	int p[2];

	CU_ASSERT_FATAL(pipe(p) == 0);
	CU_ASSERT_EQUAL(write(p[1], "1111\n2222\n", 10), 10);
	close(p[1]);
	snprintf(src, sizeof(src), "fd:%d", p[0]);
	/* two reads from one descriptor get two lines: nothing is read ahead */
	CU_ASSERT_EQUAL(pin_of(src, got, sizeof(got)), P11E_OK);
	CU_ASSERT_STRING_EQUAL(got, "1111");
	CU_ASSERT_EQUAL(pin_of(src, got, sizeof(got)), P11E_OK);
	CU_ASSERT_STRING_EQUAL(got, "2222");
	CU_ASSERT_EQUAL(pin_of(src, got, sizeof(got)), P11E_ERR_INPUT); /* EOF: empty */
	close(p[0]);

	CU_ASSERT_EQUAL(pin_of("fd:", got, sizeof(got)), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(pin_of("fd:3x", got, sizeof(got)), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(pin_of("fd:-1", got, sizeof(got)), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(pin_of("fd:999", got, sizeof(got)), P11E_ERR_INPUT); /* not open */
}

static void test_pin_bad_scheme(void)
{
	char got[300];

	CU_ASSERT_EQUAL(pin_of("123456", got, sizeof(got)), P11E_ERR_USAGE);
	/* a bare PIN typed as a source must not be echoed in full */
	CU_ASSERT_PTR_NULL(strstr(p11e_error_message(ctx), "123456"));
	CU_ASSERT_PTR_NULL(strstr(p11e_error_message(ctx), "12"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "6 characters"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "env:VAR"));
	CU_ASSERT_EQUAL(pin_of("Pass:1", got, sizeof(got)), P11E_ERR_USAGE);
}

/* A PIN in a pkcs11: URI (pin-value) never comes back in a message. */
static void test_redact(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "pkcs11:token=t?pin-value=4711", "pkcs11:token=t?pin-value=***" },
		{ "pkcs11:token=t;pin-value=12", "pkcs11:token=t;pin-value=**" },
		{ "pkcs11:object=k?pin-value=secret&module-name=m",
		  "pkcs11:object=k?pin-value=***&module-name=m" },
		{ "'pkcs11:pin-value=a%20b;token=x' and pin-value=99999999'",
		  "'pkcs11:pin-value=***;token=x' and pin-value=***" },
		/* quotes inside the PIN mask with it, whatever follows them */
		{ "pkcs11:token=t?pin-value=ab'cd\"ef)g?h;token=x",
		  "pkcs11:token=t?pin-value=***;token=x" },
		{ "'pkcs11:token=t?pin-value=12'34' failed",
		  "'pkcs11:token=t?pin-value=*** failed" },
		{ "pin-value=", "pin-value=" },
		{ "no pin here", "no pin here" },
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		p11e__redact(buf);
		CU_ASSERT_STRING_EQUAL(buf, cases[i].out);
	}
	/* through the error path, as --token and --key reach it */
	p11e__fail(ctx, P11E_ERR_NOT_FOUND, "no token matches '%s'",
	           "pkcs11:token=nosuch?pin-value=11112222");
	CU_ASSERT_PTR_NULL(strstr(p11e_error_message(ctx), "11112222"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "token=nosuch"));
}

static void test_pin_no_terminal(void)
{
	p11e_pin *pin = NULL;
	p11e_status st;
	pid_t pid;
	int status = -1;

	/*
	 * without a controlling terminal, and without a PIN callback: an error
	 * at once, never a wait (the library itself never opens a terminal)
	 */
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		setsid();
		alarm(10);
		st = p11e_pin_read(ctx, NULL, P11E_PIN_USER, &pin);
		_exit(st == P11E_ERR_AUTH && !pin &&
		                      strstr(p11e_error_message(ctx), "no source for the user PIN")
		              ? 0
		              : 1);
	}
	waitpid(pid, &status, 0);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_rv_table(void)
{
	CU_ASSERT_STRING_EQUAL(p11e_rv_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
	CU_ASSERT_STRING_EQUAL(p11e_rv_name(CKR_OK), "CKR_OK");
	CU_ASSERT_STRING_EQUAL(p11e_rv_name(CKR_FUNCTION_REJECTED), "CKR_FUNCTION_REJECTED");
	CU_ASSERT_STRING_EQUAL(p11e_rv_name(0x7777), "CKR_UNKNOWN");
	CU_ASSERT_STRING_EQUAL(p11e_rv_name(CKR_VENDOR_DEFINED | 5), "CKR_VENDOR_DEFINED");
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_rv_text(CKR_PIN_INCORRECT), "PIN is incorrect"));
	CU_ASSERT_EQUAL(p11e__rv_status(CKR_PIN_INCORRECT), P11E_ERR_AUTH);
	CU_ASSERT_EQUAL(p11e__rv_status(CKR_PIN_LOCKED), P11E_ERR_AUTH);
	CU_ASSERT_EQUAL(p11e__rv_status(CKR_TOKEN_NOT_PRESENT), P11E_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(p11e__rv_status(CKR_DEVICE_ERROR), P11E_ERR_TOKEN);
	CU_ASSERT_EQUAL(p11e__rv_status(0x7777), P11E_ERR_TOKEN);
}

static void test_rv_names_unique(void)
{
	/* every known code has its own name and a sentence */
	unsigned long rv;
	int known = 0;

	for (rv = 0; rv < 0x300; rv++) {
		const char *name = p11e_rv_name(rv);
		int dup = 0;

		if (strcmp(name, "CKR_UNKNOWN") == 0)
			continue;
		known++;
		CU_ASSERT(strncmp(name, "CKR_", 4) == 0);
		CU_ASSERT(strlen(p11e_rv_text(rv)) > 3);
		for (unsigned long other = 0; other < rv; other++)
			dup |= strcmp(name, p11e_rv_name(other)) == 0;
		CU_ASSERT(!dup);
	}
	CU_ASSERT(known >= 90);
}

static void test_fail_rv_message(void)
{
	p11e_status st = p11e__fail_rv(ctx, "logging in", "C_Login", CKR_PIN_INCORRECT);

	CU_ASSERT_EQUAL(st, P11E_ERR_AUTH);
	CU_ASSERT_EQUAL(p11e_error_rv(ctx), CKR_PIN_INCORRECT);
	CU_ASSERT_STRING_EQUAL(p11e_error_call(ctx), "C_Login");
	CU_ASSERT(strncmp(p11e_error_message(ctx),
	                  "logging in: C_Login: the PIN is incorrect (CKR_PIN_INCORRECT)",
	                  60) == 0);
	CU_ASSERT_PTR_NULL(strchr(p11e_error_message(ctx), '\n'));
}

static void make_slot(p11e_slot *s, unsigned long id, const char *label, const char *serial,
                      int initialized)
{
	memset(s, 0, sizeof(*s));
	s->slot_id = id;
	s->token_present = 1;
	snprintf(s->slot_description, sizeof(s->slot_description), "slot %lu", id);
	snprintf(s->label, sizeof(s->label), "%s", label);
	snprintf(s->manufacturer, sizeof(s->manufacturer), "ACME");
	snprintf(s->model, sizeof(s->model), "Model 1");
	snprintf(s->serial, sizeof(s->serial), "%s", serial);
	s->token_flags = initialized ? CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED : 0;
}

static void test_token_match(void)
{
	p11e_slot s[5];
	size_t found = 99;

	make_slot(&s[0], 10, "alpha", "A1", 1);
	make_slot(&s[1], 11, "beta", "B1", 1);
	make_slot(&s[2], 12, "beta", "B2", 1);
	make_slot(&s[3], 13, "", "", 0);
	make_slot(&s[4], 14, "", "", 0);

	CU_ASSERT_EQUAL(p11e__token_match(ctx, "alpha", s, 5, P11E__MATCH_ANY, &found), P11E_OK);
	CU_ASSERT_EQUAL(found, 0);
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "pkcs11:token=beta;serial=B2", s, 5, P11E__MATCH_ANY,
	                                  &found),
	                P11E_OK);
	CU_ASSERT_EQUAL(found, 2);
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "pkcs11:slot-id=13", s, 5, P11E__MATCH_ANY, &found),
	                P11E_OK);
	CU_ASSERT_EQUAL(found, 3);
	/* percent-encoding is p11-kit's job */
	make_slot(&s[0], 10, "my token", "A1", 1);
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "pkcs11:token=my%20token", s, 5, P11E__MATCH_ANY,
	                                  &found),
	                P11E_OK);
	CU_ASSERT_EQUAL(found, 0);

	/* "" would match a token with a blank label, an uninitialised one */
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "", s, 5, P11E__MATCH_ANY, &found), P11E_ERR_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "empty token label or URI"));
	CU_ASSERT_EQUAL(p11e_error_reason(ctx), P11E_REASON_TOKEN_SPEC_EMPTY);

	/* ambiguous: the message says how many and lists them */
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "beta", s, 5, P11E__MATCH_ANY, &found),
	                P11E_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "matches 2 tokens"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "(slot 12)"));
	CU_ASSERT_EQUAL(p11e_error_reason(ctx), P11E_REASON_TOKEN_AMBIGUOUS);
	/* the library names no option of the tool: that is the tool's hint */
	CU_ASSERT_PTR_NULL(strstr(p11e_error_message(ctx), "--"));
	/* missing: lists what is there */
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "gamma", s, 5, P11E__MATCH_ANY, &found),
	                P11E_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "'my token' (slot 10)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "uninitialised (slot 13)"));
	CU_ASSERT_EQUAL(p11e_error_reason(ctx), P11E_REASON_TOKEN_NOT_FOUND);
	/* bad URI */
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "pkcs11:token=%zz", s, 5, P11E__MATCH_ANY, &found),
	                P11E_ERR_INPUT);
	/* a failure without a reason of its own does not keep the last one */
	CU_ASSERT_EQUAL(p11e_error_reason(ctx), P11E_REASON_NONE);
	/* no spec: the only initialised token, else ambiguity */
	CU_ASSERT_EQUAL(p11e__token_match(ctx, NULL, s, 5, P11E__MATCH_INITIALIZED, &found),
	                P11E_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(p11e__token_match(ctx, NULL, s, 1, P11E__MATCH_INITIALIZED, &found),
	                P11E_OK);
	CU_ASSERT_EQUAL(p11e__token_match(ctx, NULL, s, 4, P11E__MATCH_UNINITIALIZED, &found),
	                P11E_OK);
	CU_ASSERT_EQUAL(found, 3);
	CU_ASSERT_EQUAL(p11e__token_match(ctx, NULL, s, 5, P11E__MATCH_UNINITIALIZED, &found),
	                P11E_ERR_NOT_FOUND);
	/* a slot without a token never matches */
	s[3].token_present = 0;
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "pkcs11:slot-id=13", s, 5, P11E__MATCH_ANY, &found),
	                P11E_ERR_NOT_FOUND);
}

/* every reason has a stable name of its own */
static void test_reason_names(void)
{
	const char *names[P11E_REASON_CHAIN_NEEDS_PEM + 1];

	for (int r = 0; r <= P11E_REASON_CHAIN_NEEDS_PEM; r++) {
		names[r] = p11e_reason_name((p11e_reason)r);
		CU_ASSERT_STRING_NOT_EQUAL(names[r], "unknown");
		for (int o = 0; o < r; o++)
			CU_ASSERT_STRING_NOT_EQUAL(names[r], names[o]);
	}
	CU_ASSERT_STRING_EQUAL(p11e_reason_name(P11E_REASON_PIN_LAST_TRY), "pin-last-try");
	CU_ASSERT_STRING_EQUAL(p11e_reason_name((p11e_reason)999), "unknown");
}

static void test_pad(void)
{
	unsigned char field[8];
	char out[16];

	CU_ASSERT_EQUAL(p11e__pad(field, sizeof(field), "abc"), 0);
	CU_ASSERT(memcmp(field, "abc     ", 8) == 0);
	CU_ASSERT_EQUAL(p11e__pad(field, sizeof(field), "123456789"), -1);
	p11e__unpad(out, sizeof(out), field, sizeof(field));
	CU_ASSERT_STRING_EQUAL(out, "abc");
	/* a module that NUL-terminates instead of padding */
	memcpy(field, "xy\0\0\0\0\0\0", 8);
	p11e__unpad(out, sizeof(out), field, sizeof(field));
	CU_ASSERT_STRING_EQUAL(out, "xy");
}

/*
 * An object's URI joined from its token's part (formatted once, as list
 * does) is the very URI formatted whole, for awkward labels and tokens.
 */
static void test_object_uri_on(void)
{
	static const struct {
		const char *label, *manufacturer, *model, *serial;
	} tokens[] = {
		{ "cli list", "SoftHSM project", "SoftHSM v2", "ae204f66297905c0" },
		{ "a;b/c?d=e%f", "Acme & Co.", "m\xc3\xbc", "" },
		{ "", "", "", "" },
	};
	static const char *labels[] = {
		NULL,
		"web",
		"two words",
		"a;b/c?d=e%f&g",
		"\xc3\xbcml",
		"0123456789012345678901234567890123456789012345678901234567890123"
		"4567890123456789012345678901234567890123456789012345678901234567"
	};
	static const unsigned char id[20] = { 0x00, 0x3c, 0xb4, 0x1d, 0x9a, 0x25, 0x3b, 0xff };
	static const CK_OBJECT_CLASS classes[] = { CKO_PRIVATE_KEY, CKO_PUBLIC_KEY,
		                                   CKO_CERTIFICATE };
	int compared = 0;

	for (size_t t = 0; t < sizeof(tokens) / sizeof(tokens[0]); t++) {
		char *token_uri;

		snprintf(ctx->slot.label, sizeof(ctx->slot.label), "%s", tokens[t].label);
		snprintf(ctx->slot.manufacturer, sizeof(ctx->slot.manufacturer), "%s",
		         tokens[t].manufacturer);
		snprintf(ctx->slot.model, sizeof(ctx->slot.model), "%s", tokens[t].model);
		snprintf(ctx->slot.serial, sizeof(ctx->slot.serial), "%s", tokens[t].serial);
		token_uri = p11e__token_uri(ctx);
		CU_ASSERT_PTR_NOT_NULL_FATAL(token_uri);
		for (size_t l = 0; l < sizeof(labels) / sizeof(labels[0]); l++)
			for (size_t c = 0; c < 3; c++)
				for (size_t n = 0; n <= sizeof(id); n += 10) {
					char *whole =
						p11e__object_uri(ctx, classes[c], labels[l], id, n);
					char *joined = p11e__object_uri_on(token_uri, classes[c],
					                                   labels[l], id, n);

					CU_ASSERT_PTR_NOT_NULL(whole);
					CU_ASSERT_PTR_NOT_NULL(joined);
					if (whole && joined) {
						CU_ASSERT_STRING_EQUAL(joined, whole);
						compared++;
					}
					free(whole);
					free(joined);
				}
		free(token_uri);
	}
	CU_ASSERT_EQUAL(compared, 3 * 6 * 3 * 3);
	memset(&ctx->slot, 0, sizeof(ctx->slot));
}

/* --- token quirk files (quirks.c) ------------------------------------------ */

static p11e_status quirks_of(const char *text, struct p11e__quirks *q)
{
	return p11e__quirks_parse_mem(ctx, "/some/dir/test.conf", (const unsigned char *)text,
	                              strlen(text), q);
}

/* The last failure names every one of the words. */
static void message_names(const char *a, const char *b, const char *c)
{
	const char *m = p11e_error_message(ctx);

	CU_ASSERT_PTR_NOT_NULL(strstr(m, a));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, b));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, c));
	if (!strstr(m, a) || !strstr(m, b) || !strstr(m, c))
		fprintf(stderr, "\n  message: %s\n", m);
}

static void test_quirks_valid(void)
{
	struct p11e__quirks q;

	CU_ASSERT_EQUAL_FATAL(quirks_of("# a comment\n"
	                                "[match]\n"
	                                "manufacturer = Acme Corp\n"
	                                "model = Token ?000*\n"
	                                "[quirks]\n"
	                                "omit_extractable = yes\n"
	                                "certificate_private = TRUE\n"
	                                "set_id_after_generation = 0\n"
	                                "max_rsa_bits = 2048\n"
	                                "min_rsa_bits = 1024\n",
	                                &q),
	                      P11E_OK);
	CU_ASSERT_STRING_EQUAL(q.file, "test.conf");
	CU_ASSERT_STRING_EQUAL(q.manufacturer, "Acme Corp");
	CU_ASSERT_STRING_EQUAL(q.model, "Token ?000*");
	CU_ASSERT_EQUAL(q.omit_extractable, 1);
	CU_ASSERT_EQUAL(q.certificate_private, 1);
	CU_ASSERT_EQUAL(q.set_id_after_generation, 0);
	CU_ASSERT_EQUAL(q.max_rsa_bits, 2048);
	CU_ASSERT_EQUAL(q.min_rsa_bits, 1024);

	/* tpm2-pkcs11's and openCryptoki's fields, a library-only [match] */
	CU_ASSERT_EQUAL_FATAL(quirks_of("[match]\n"
	                                "library = tpm2-software*\n"
	                                "[quirks]\n"
	                                "key_may_decrypt = yes\n"
	                                "omit_certificate_category = 1\n"
	                                "hint_lockout = \"run 'a -c'\"\n"
	                                "hint_general_error = run b\n",
	                                &q),
	                      P11E_OK);
	CU_ASSERT_STRING_EQUAL(q.library, "tpm2-software*");
	CU_ASSERT_STRING_EQUAL(q.manufacturer, "*");
	CU_ASSERT_EQUAL(q.key_may_decrypt, 1);
	CU_ASSERT_EQUAL(q.omit_certificate_category, 1);
	CU_ASSERT_STRING_EQUAL(q.hint_lockout, "run 'a -c'");
	CU_ASSERT_STRING_EQUAL(q.hint_general_error, "run b");
	CU_ASSERT(p11e__quirks_match_library(&q, "tpm2-software.github.io   "));
	CU_ASSERT(!p11e__quirks_match_library(&q, "SoftHSM"));
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n[quirks]\nhint_lockout = \"\"\n", &q),
	                P11E_ERR_INPUT);

	/* the defaults: nothing special, CKA_ID can be set */
	CU_ASSERT_EQUAL_FATAL(quirks_of("[match]\nmodel = X\n[quirks]\n", &q), P11E_OK);
	CU_ASSERT_STRING_EQUAL(q.library, "*");
	CU_ASSERT_EQUAL(q.key_may_decrypt, 0);
	CU_ASSERT_STRING_EQUAL(q.hint_lockout, "");
	CU_ASSERT_STRING_EQUAL(q.manufacturer, "*");
	CU_ASSERT_EQUAL(q.omit_extractable, 0);
	CU_ASSERT_EQUAL(q.certificate_private, 0);
	CU_ASSERT_EQUAL(q.set_id_after_generation, 1);
	CU_ASSERT_EQUAL(q.max_rsa_bits, 0);
	/* no [quirks] at all is the same */
	CU_ASSERT_EQUAL(quirks_of("[match]\nmanufacturer = X\n", &q), P11E_OK);
	CU_ASSERT_STRING_EQUAL(q.model, "*");
}

static void test_quirks_unknown_field(void)
{
	struct p11e__quirks q;

	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n[quirks]\nmax_rsa_bit = 2048\n", &q),
	                P11E_ERR_INPUT);
	message_names("/some/dir/test.conf", "[quirks]", "'max_rsa_bit'");
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\nlabel = Y\n", &q), P11E_ERR_INPUT);
	message_names("/some/dir/test.conf", "[match]", "'label'");
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n[quirk]\nomit_extractable = yes\n", &q),
	                P11E_ERR_INPUT);
	message_names("/some/dir/test.conf", "[quirk]", "section");
	CU_ASSERT_EQUAL(quirks_of("omit_extractable = yes\n[match]\nmodel = X\n", &q),
	                P11E_ERR_INPUT);
	message_names("/some/dir/test.conf", "'omit_extractable'", "outside");
	/* [match] is needed, and must not match every token */
	CU_ASSERT_EQUAL(quirks_of("[quirks]\nomit_extractable = yes\n", &q), P11E_ERR_INPUT);
	message_names("/some/dir/test.conf", "[match]", "manufacturer");
	CU_ASSERT_EQUAL(quirks_of("[match]\n[quirks]\n", &q), P11E_ERR_INPUT);
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel =\n", &q), P11E_ERR_INPUT);
	message_names("/some/dir/test.conf", "[match]", "model");
}

static void test_quirks_bad_bool(void)
{
	struct p11e__quirks q;

	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n[quirks]\nomit_extractable = maybe\n", &q),
	                P11E_ERR_INPUT);
	message_names("/some/dir/test.conf:4", "omit_extractable = maybe", "yes or no");
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n[quirks]\ncertificate_private = 2\n", &q),
	                P11E_ERR_INPUT);
	message_names("test.conf", "certificate_private", "boolean");
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n[quirks]\nset_id_after_generation = No\n",
	                          &q),
	                P11E_OK);
	CU_ASSERT_EQUAL(q.set_id_after_generation, 0);
}

static void test_quirks_bad_number(void)
{
	struct p11e__quirks q;
	static const char *const bad[] = { "lots",  "2048 bits", "-2048",
		                           "0x800", "512",       "99999999999999999999",
		                           "" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "[match]\nmodel = X\n[quirks]\nmax_rsa_bits = %s\n",
		         bad[i]);
		CU_ASSERT_EQUAL(quirks_of(text, &q), P11E_ERR_INPUT);
		message_names("/some/dir/test.conf", "[quirks]", "max_rsa_bits");
	}
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n[quirks]\nmin_rsa_bits = 4096\n"
	                          "max_rsa_bits = 2048\n",
	                          &q),
	                P11E_ERR_INPUT);
	message_names("test.conf", "min_rsa_bits", "max_rsa_bits");
}

static void test_quirks_not_config(void)
{
	static const unsigned char nul[] = "[match]\nmodel = X\0\n";
	struct p11e__quirks q;

	/* a syntax error gives the line */
	CU_ASSERT_EQUAL(quirks_of("[match\nmodel = X\n", &q), P11E_ERR_INPUT);
	message_names("/some/dir/test.conf:1", "cannot parse", "");
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n.include /etc\n", &q), P11E_ERR_INPUT);
	message_names("test.conf", ".include", "");
	CU_ASSERT_EQUAL(quirks_of("[match]\n  .include=/etc/ssl\n", &q), P11E_ERR_INPUT);
	CU_ASSERT_EQUAL(p11e__quirks_parse_mem(ctx, "nul.conf", nul, sizeof(nul) - 1, &q),
	                P11E_ERR_INPUT);
	message_names("nul.conf", "NUL", "");
}

static void test_quirks_match(void)
{
	struct p11e__quirks q;

	CU_ASSERT_EQUAL_FATAL(quirks_of("[match]\nmanufacturer = SoftHSM project\n"
	                                "model = SoftHSM v2*\n",
	                                &q),
	                      P11E_OK);
	CU_ASSERT(p11e__quirks_match(&q, "SoftHSM project", "SoftHSM v2"));
	CU_ASSERT(p11e__quirks_match(&q, "  SoftHSM project   ", "SoftHSM v2.6 "));
	CU_ASSERT(!p11e__quirks_match(&q, "SoftHSM project", "SoftHSM v1"));
	CU_ASSERT(!p11e__quirks_match(&q, "softhsm project", "SoftHSM v2"));
	CU_ASSERT(!p11e__quirks_match(&q, "Other", "SoftHSM v2"));

	/* a model alone (quoted: # starts a comment); brackets as fnmatch(3) has them */
	CU_ASSERT_EQUAL_FATAL(quirks_of("[match]\nmodel = \"PKCS#15*\"\n", &q), P11E_OK);
	CU_ASSERT(p11e__quirks_match(&q, "piv_II", "PKCS#15 emulated"));
	CU_ASSERT(p11e__quirks_match(&q, "", "PKCS#15"));
	CU_ASSERT(!p11e__quirks_match(&q, "piv_II", "PKCS#11"));
	CU_ASSERT_EQUAL_FATAL(quirks_of("[match]\nmanufacturer = Yubico*\n"
	                                "model = YubiKey YK[45]\n",
	                                &q),
	                      P11E_OK);
	CU_ASSERT(p11e__quirks_match(&q, "Yubico (www.yubico.com)", "YubiKey YK4"));
	CU_ASSERT(!p11e__quirks_match(&q, "Yubico (www.yubico.com)", "YubiKey NEO"));
}

static char quirk_dir[64];

static void quirk_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* The quirk file p11e__quirks_find picks for manufacturer/model, in a fresh context. */
static p11e_status find_quirks(const char *manufacturer, const char *model, char *file, size_t len,
                               unsigned *max_bits)
{
	p11e_ctx *c = p11e_ctx_new();
	const struct p11e__quirks *q = NULL;
	p11e_slot s;
	p11e_status st;

	memset(&s, 0, sizeof(s));
	s.token_present = 1;
	snprintf(s.manufacturer, sizeof(s.manufacturer), "%s", manufacturer);
	snprintf(s.model, sizeof(s.model), "%s", model);
	st = p11e__quirks_find(c, &s, &q);
	snprintf(file, len, "%s", q ? q->file : "");
	if (max_bits)
		*max_bits = q ? q->max_rsa_bits : 0;
	if (st != P11E_OK)
		snprintf(file, len, "%s", p11e_error_message(c));
	p11e_ctx_free(c);
	return st;
}

static void test_quirks_search_path(void)
{
	char a[80], b[80], env[512], file[512];
	const char *old = getenv("P11ENROLL_TOKENS_PATH");
	char *saved = old ? strdup(old) : NULL;
	unsigned bits = 0;

	snprintf(quirk_dir, sizeof(quirk_dir), "/tmp/p11e-quirks-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(quirk_dir));
	snprintf(a, sizeof(a), "%s/a", quirk_dir);
	snprintf(b, sizeof(b), "%s/b", quirk_dir);
	CU_ASSERT_FATAL(mkdir(a, 0700) == 0 && mkdir(b, 0700) == 0);
	/* in a directory, name order; the first match wins */
	quirk_file(a, "20-any.conf", "[match]\nmanufacturer = Acme\n");
	quirk_file(a, "10-one.conf",
	           "[match]\nmanufacturer = Acme\nmodel = One\n"
	           "[quirks]\nmax_rsa_bits = 2048\n");
	quirk_file(a, "notes.txt", "not a quirk file [\n");
	/* b is searched after a; its 10-one.conf is shadowed by a's */
	quirk_file(b, "10-one.conf", "[match]\nmanufacturer = Other\n");
	quirk_file(b, "30-other.conf", "[match]\nmanufacturer = Other\n");
	snprintf(env, sizeof(env), "%s/missing:%s:%s", quirk_dir, a, b);
	setenv("P11ENROLL_TOKENS_PATH", env, 1);

	CU_ASSERT_EQUAL(find_quirks("Acme", "One", file, sizeof(file), &bits), P11E_OK);
	CU_ASSERT_STRING_EQUAL(file, "10-one.conf");
	CU_ASSERT_EQUAL(bits, 2048);
	CU_ASSERT_EQUAL(find_quirks("Acme", "Two", file, sizeof(file), NULL), P11E_OK);
	CU_ASSERT_STRING_EQUAL(file, "20-any.conf");
	CU_ASSERT_EQUAL(find_quirks("Other", "Three", file, sizeof(file), NULL), P11E_OK);
	CU_ASSERT_STRING_EQUAL(file, "30-other.conf");
	CU_ASSERT_EQUAL(find_quirks("Nobody", "Four", file, sizeof(file), NULL), P11E_OK);
	CU_ASSERT_STRING_EQUAL(file, "");

	/* a malformed file anywhere on the path fails every token, naming it */
	quirk_file(b, "40-bad.conf", "[match]\nmanufacturer = Zzz\n[quirks]\nomit = yes\n");
	CU_ASSERT_EQUAL(find_quirks("Acme", "One", file, sizeof(file), NULL), P11E_ERR_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(file, "40-bad.conf"));
	CU_ASSERT_PTR_NOT_NULL(strstr(file, "'omit'"));

	if (saved)
		setenv("P11ENROLL_TOKENS_PATH", saved, 1);
	else
		unsetenv("P11ENROLL_TOKENS_PATH");
	free(saved);
	snprintf(env, sizeof(env), "rm -rf '%s'", quirk_dir);
	CU_ASSERT_EQUAL(system(env), 0);
}

/* The files in tokens/ (make check points P11ENROLL_TOKENS_PATH there). */
static void test_quirks_shipped(void)
{
	char file[512];
	unsigned bits = 1;

	if (!getenv("P11ENROLL_TOKENS_PATH")) {
		fprintf(stderr, "(P11ENROLL_TOKENS_PATH unset: shipped quirk files not checked) ");
		return;
	}
	CU_ASSERT_EQUAL(find_quirks("SoftHSM project", "SoftHSM v2", file, sizeof(file), &bits),
	                P11E_OK);
	CU_ASSERT_STRING_EQUAL(file, "softhsm2.conf");
	CU_ASSERT_EQUAL(bits, 0);
	CU_ASSERT_EQUAL(find_quirks("piv_II", "PKCS#15 emulated", file, sizeof(file), NULL),
	                P11E_OK);
	CU_ASSERT_STRING_EQUAL(file, "opensc.conf");
	CU_ASSERT_EQUAL(find_quirks("Yubico (www.yubico.com)", "YubiKey YK4", file, sizeof(file),
	                            &bits),
	                P11E_OK);
	CU_ASSERT_STRING_EQUAL(file, "ykcs11-yk4.conf");
	CU_ASSERT_EQUAL(bits, 2048);
	CU_ASSERT_EQUAL(find_quirks("Yubico (www.yubico.com)", "YubiKey YK5", file, sizeof(file),
	                            &bits),
	                P11E_OK);
	CU_ASSERT_STRING_EQUAL(file, "ykcs11.conf");
	CU_ASSERT_EQUAL(bits, 0);
}

static void quirks_suite(void)
{
	CU_pSuite s = CU_add_suite("quirks", suite_init, suite_clean);

	CU_add_test(s, "quirk file: valid", test_quirks_valid);
	CU_add_test(s, "quirk file: unknown section or field", test_quirks_unknown_field);
	CU_add_test(s, "quirk file: bad boolean", test_quirks_bad_bool);
	CU_add_test(s, "quirk file: bad number", test_quirks_bad_number);
	CU_add_test(s, "quirk file: not a config file", test_quirks_not_config);
	CU_add_test(s, "quirk file: fnmatch on manufacturer and model", test_quirks_match);
	CU_add_test(s, "quirk files: search path", test_quirks_search_path);
	CU_add_test(s, "quirk files: shipped in tokens/", test_quirks_shipped);
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("unit", suite_init, suite_clean);
	CU_add_test(s, "PIN sources pass: and env:", test_pin_pass_env);
	CU_add_test(s, "PIN source file:", test_pin_file);
	CU_add_test(s, "PIN too long", test_pin_too_long);
	CU_add_test(s, "PIN source fd:", test_pin_fd);
	CU_add_test(s, "unknown PIN source", test_pin_bad_scheme);
	CU_add_test(s, "no PIN in messages", test_redact);
	CU_add_test(s, "no PIN source, no terminal", test_pin_no_terminal);
	CU_add_test(s, "CK_RV table", test_rv_table);
	CU_add_test(s, "CK_RV names unique", test_rv_names_unique);
	CU_add_test(s, "PKCS#11 failure message", test_fail_rv_message);
	CU_add_test(s, "token selection", test_token_match);
	CU_add_test(s, "reason names", test_reason_names);
	CU_add_test(s, "blank padding", test_pad);
	CU_add_test(s, "object URI: token part once, joined", test_object_uri_on);
	quirks_suite();
	return harness_run();
}
