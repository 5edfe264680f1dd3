/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-token.c - the token suite: the library against a real SoftHSMv2
 * token in a directory of its own (harness.c).  Token initialisation,
 * selection, login, the wrong-PIN paths, PIN change and unblock.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define SO_PIN "90817263"
#define USER_PIN "55443322"
#define NEW_PIN "77120934"
#define WRONG_PIN "11112222"

static p11e_ctx *ctx;

static p11e_pin *pin(const char *text)
{
	p11e_pin *p = p11e__pin_new(text, strlen(text));

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

/* A fresh context on the suite's SoftHSM directory. */
static void reopen(void)
{
	p11e_ctx_free(ctx);
	ctx = p11e_ctx_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	p11e_ctx_set_log(ctx, harness_log, NULL);
	CU_ASSERT_EQUAL_FATAL(p11e_module_load(ctx, harness_softhsm_module()), P11E_OK);
}

static int suite_init(void)
{
	harness_log_reset();
	return harness_softhsm_setup();
}

static int suite_clean(void)
{
	p11e_ctx_free(ctx);
	ctx = NULL;
	harness_softhsm_teardown();
	return 0;
}

static size_t count_initialised(const char *label)
{
	p11e_slot *slots = NULL;
	size_t n = 0, hits = 0;

	CU_ASSERT_EQUAL(p11e_slot_list(ctx, &slots, &n), P11E_OK);
	for (size_t i = 0; i < n; i++)
		if ((slots[i].token_flags & CKF_TOKEN_INITIALIZED) &&
		    strcmp(slots[i].label, label) == 0)
			hits++;
	p11e_slot_list_free(slots, n);
	return hits;
}

static void test_fresh_directory(void)
{
	p11e_slot *slots = NULL;
	size_t n = 0;

	reopen();
	CU_ASSERT_EQUAL(p11e_slot_list(ctx, &slots, &n), P11E_OK);
	CU_ASSERT_EQUAL(n, 1);
	if (n == 1) {
		CU_ASSERT(slots[0].token_present);
		CU_ASSERT_FALSE(slots[0].token_flags & CKF_TOKEN_INITIALIZED);
		CU_ASSERT_STRING_EQUAL(slots[0].model, "SoftHSM v2");
		CU_ASSERT_PTR_NOT_NULL(strstr(slots[0].uri, "slot-id="));
	}
	p11e_slot_list_free(slots, n);
	/* nothing initialised yet: plain selection finds nothing */
	CU_ASSERT_EQUAL(p11e_token_select(ctx, NULL), P11E_ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(p11e_error_reason(ctx), P11E_REASON_TOKEN_NONE);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "no initialised token"));
}

static void test_init_token(void)
{
	p11e_pin *so = pin(SO_PIN), *user = pin(USER_PIN);
	const p11e_slot *s;

	reopen();
	CU_ASSERT_EQUAL_FATAL(p11e_token_select_for_init(ctx, NULL, -1, NULL), P11E_OK);
	/* label too long: refused before anything is sent */
	CU_ASSERT_EQUAL(p11e_init_token(ctx, "a label that is longer than thirty-two bytes", so,
	                                user, 0),
	                P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(count_initialised("a label that is longer than thirty-two bytes"), 0);
	CU_ASSERT_EQUAL_FATAL(p11e_token_select_for_init(ctx, NULL, -1, NULL), P11E_OK);
	CU_ASSERT_EQUAL(p11e_init_token(ctx, "suite token", so, user, 0), P11E_OK);
	s = p11e_token_selected(ctx);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->label, "suite token");
	CU_ASSERT(s->token_flags & CKF_TOKEN_INITIALIZED);
	CU_ASSERT(s->token_flags & CKF_USER_PIN_INITIALIZED);
	CU_ASSERT_PTR_NOT_NULL(strstr(s->uri, "token=suite%20token"));
	CU_ASSERT_EQUAL(count_initialised("suite token"), 1);
	p11e_pin_free(so);
	p11e_pin_free(user);
}

static void test_init_refuses_initialised(void)
{
	p11e_pin *so = pin(SO_PIN), *user = pin(USER_PIN);

	reopen();
	CU_ASSERT_EQUAL_FATAL(p11e_token_select_for_init(ctx, "suite token", -1, NULL), P11E_OK);
	CU_ASSERT_EQUAL(p11e_init_token_check(ctx, "other", 0), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_error_reason(ctx), P11E_REASON_TOKEN_INITIALIZED);
	CU_ASSERT_EQUAL(p11e_init_token(ctx, "other", so, user, 0), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(count_initialised("suite token"), 1);
	CU_ASSERT_EQUAL(count_initialised("other"), 0);
	p11e_pin_free(so);
	p11e_pin_free(user);
}

static void test_select(void)
{
	char uri[512];

	reopen();
	CU_ASSERT_EQUAL_FATAL(p11e_token_select(ctx, NULL), P11E_OK);
	snprintf(uri, sizeof(uri), "%s", p11e_token_selected(ctx)->uri);
	CU_ASSERT_EQUAL(p11e_token_select(ctx, "suite token"), P11E_OK);
	CU_ASSERT_EQUAL(p11e_token_select(ctx, uri), P11E_OK);
	CU_ASSERT_STRING_EQUAL(p11e_token_selected(ctx)->label, "suite token");
	CU_ASSERT_EQUAL(p11e_token_select(ctx, "no such token"), P11E_ERR_NOT_FOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "'suite token'"));
	CU_ASSERT_EQUAL(p11e_token_select(ctx, "pkcs11:serial=0000"), P11E_ERR_NOT_FOUND);
}

static void test_login_and_wrong_pin(void)
{
	p11e_pin *good = pin(USER_PIN), *bad = pin(WRONG_PIN);

	reopen();
	CU_ASSERT_EQUAL_FATAL(p11e_token_select(ctx, "suite token"), P11E_OK);
	CU_ASSERT_EQUAL(p11e_login(ctx, P11E_PIN_USER, bad), P11E_ERR_AUTH);
	CU_ASSERT_EQUAL(p11e_error_rv(ctx), CKR_PIN_INCORRECT);
	CU_ASSERT_STRING_EQUAL(p11e_error_call(ctx), "C_Login");
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "CKR_PIN_INCORRECT"));
	CU_ASSERT_EQUAL(p11e_login(ctx, P11E_PIN_USER, good), P11E_OK);
	CU_ASSERT_EQUAL(p11e_logout(ctx), P11E_OK);
	/* SO login with the user PIN fails too */
	CU_ASSERT_EQUAL(p11e_login(ctx, P11E_PIN_SO, good), P11E_ERR_AUTH);
	p11e_pin_free(good);
	p11e_pin_free(bad);
}

static void test_pin_change(void)
{
	p11e_pin *old = pin(USER_PIN), *new = pin(NEW_PIN), *bad = pin(WRONG_PIN);
	p11e_pin *shortpin = pin("12");

	reopen();
	CU_ASSERT_EQUAL_FATAL(p11e_token_select(ctx, NULL), P11E_OK);
	/* wrong current PIN: refused, PIN unchanged */
	CU_ASSERT_EQUAL(p11e_pin_change(ctx, bad, new), P11E_ERR_AUTH);
	/* too short for the token: refused before anything is sent */
	CU_ASSERT_EQUAL(p11e_pin_change(ctx, old, shortpin), P11E_ERR_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "at least 4"));
	CU_ASSERT_EQUAL(p11e_pin_change(ctx, old, new), P11E_OK);
	CU_ASSERT_EQUAL(p11e_login(ctx, P11E_PIN_USER, old), P11E_ERR_AUTH);
	CU_ASSERT_EQUAL(p11e_login(ctx, P11E_PIN_USER, new), P11E_OK);
	p11e_pin_free(old);
	p11e_pin_free(new);
	p11e_pin_free(bad);
	p11e_pin_free(shortpin);
}

static void test_pin_init_unblock(void)
{
	p11e_pin *so = pin(SO_PIN), *user = pin(USER_PIN), *bad = pin(WRONG_PIN);

	reopen();
	CU_ASSERT_EQUAL_FATAL(p11e_token_select(ctx, NULL), P11E_OK);
	CU_ASSERT_EQUAL(p11e_pin_init(ctx, bad, user), P11E_ERR_AUTH);
	CU_ASSERT_EQUAL(p11e_error_rv(ctx), CKR_PIN_INCORRECT);
	CU_ASSERT_EQUAL(p11e_pin_init(ctx, so, user), P11E_OK);
	CU_ASSERT_EQUAL(p11e_login(ctx, P11E_PIN_USER, user), P11E_OK);
	p11e_pin_free(so);
	p11e_pin_free(user);
	p11e_pin_free(bad);
}

static void test_reinitialize(void)
{
	p11e_pin *so = pin(SO_PIN), *user = pin(USER_PIN);

	reopen();
	CU_ASSERT_EQUAL_FATAL(p11e_token_select_for_init(ctx, "suite token", -1, NULL), P11E_OK);
	CU_ASSERT_EQUAL(p11e_init_token(ctx, "renamed", so, user, P11E_INIT_REINIT), P11E_OK);
	CU_ASSERT_EQUAL(count_initialised("suite token"), 0);
	CU_ASSERT_EQUAL(count_initialised("renamed"), 1);
	p11e_pin_free(so);
	p11e_pin_free(user);
}

static void test_no_pin_in_log(void)
{
	const char *log = harness_log_text();

	/* the log saw every call of the suite and none of the PINs */
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "C_Login: CKR_OK"));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "C_InitToken: CKR_OK"));
	CU_ASSERT_PTR_NULL(strstr(log, SO_PIN));
	CU_ASSERT_PTR_NULL(strstr(log, USER_PIN));
	CU_ASSERT_PTR_NULL(strstr(log, NEW_PIN));
	CU_ASSERT_PTR_NULL(strstr(log, WRONG_PIN));
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("token (SoftHSMv2)", suite_init, suite_clean);
	CU_add_test(s, "fresh token directory", test_fresh_directory);
	CU_add_test(s, "init-token", test_init_token);
	CU_add_test(s, "init-token refuses an initialised token", test_init_refuses_initialised);
	CU_add_test(s, "token selection", test_select);
	CU_add_test(s, "login and wrong PIN", test_login_and_wrong_pin);
	CU_add_test(s, "PIN change", test_pin_change);
	CU_add_test(s, "PIN init / unblock", test_pin_init_unblock);
	CU_add_test(s, "reinitialise", test_reinitialize);
	CU_add_test(s, "no PIN in the log", test_no_pin_in_log);
	return harness_run();
}
