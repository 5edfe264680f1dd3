/*
 * test-unit.c - the unit suite: no token, no module.  PIN source parsing,
 * the CK_RV table, token selection, padding.
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
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "env:VAR"));
	CU_ASSERT_EQUAL(pin_of("Pass:1", got, sizeof(got)), P11E_ERR_USAGE);
}

static void test_pin_no_terminal(void)
{
	p11e_pin *pin = NULL;
	p11e_status st;
	pid_t pid;
	int status = -1;

	/* without a controlling terminal: an error at once, never a wait */
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		setsid();
		alarm(10);
		st = p11e_pin_read(ctx, NULL, P11E_PIN_USER, &pin);
		_exit(st == P11E_ERR_AUTH && !pin &&
		              strstr(p11e_error_message(ctx), "no terminal")
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
	                  "logging in: C_Login: the PIN is incorrect (CKR_PIN_INCORRECT)", 60) == 0);
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
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "pkcs11:token=beta;serial=B2", s, 5,
	                                  P11E__MATCH_ANY, &found), P11E_OK);
	CU_ASSERT_EQUAL(found, 2);
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "pkcs11:slot-id=13", s, 5, P11E__MATCH_ANY, &found),
	                P11E_OK);
	CU_ASSERT_EQUAL(found, 3);
	/* percent-encoding is p11-kit's job */
	make_slot(&s[0], 10, "my token", "A1", 1);
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "pkcs11:token=my%20token", s, 5, P11E__MATCH_ANY,
	                                  &found), P11E_OK);
	CU_ASSERT_EQUAL(found, 0);

	/* ambiguous: the message says how many and lists them */
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "beta", s, 5, P11E__MATCH_ANY, &found),
	                P11E_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "matches 2 tokens"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "(slot 12)"));
	/* missing: lists what is there */
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "gamma", s, 5, P11E__MATCH_ANY, &found),
	                P11E_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "'my token' (slot 10)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "uninitialised (slot 13)"));
	/* bad URI */
	CU_ASSERT_EQUAL(p11e__token_match(ctx, "pkcs11:token=%zz", s, 5, P11E__MATCH_ANY, &found),
	                P11E_ERR_INPUT);
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
	CU_add_test(s, "no PIN source, no terminal", test_pin_no_terminal);
	CU_add_test(s, "CK_RV table", test_rv_table);
	CU_add_test(s, "CK_RV names unique", test_rv_names_unique);
	CU_add_test(s, "PKCS#11 failure message", test_fail_rv_message);
	CU_add_test(s, "token selection", test_token_match);
	CU_add_test(s, "blank padding", test_pad);
	return harness_run();
}
