/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-api.c - the public API's own rules, without a token: the request
 * builder copies what it is given, the PIN callback is asked as the header
 * says (a new PIN twice, every answer mapped to its status), unknown flag
 * bits are refused, and the version macros agree with the library.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"
#include "p11enroll-reader.h"

static p11e_ctx *ctx;

/* --- the request builder ------------------------------------------------ */

static void test_req_copies(void)
{
	char subject[] = "/CN=first", san[] = "DNS:a.example", ext[] = "keyUsage=digitalSignature";
	p11e_req *r = p11e_req_new();

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(p11e_req_set_subject(r, subject), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_add_san(r, san), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_add_san(r, "IP:192.0.2.1"), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_add_ext(r, ext), P11E_OK);
	/* the caller's buffers change; the builder's copies do not */
	memset(subject, 'x', sizeof(subject) - 1);
	memset(san, 'x', sizeof(san) - 1);
	memset(ext, 'x', sizeof(ext) - 1);
	CU_ASSERT_STRING_EQUAL(r->subject, "/CN=first");
	CU_ASSERT_EQUAL(r->nsan, 2);
	CU_ASSERT_STRING_EQUAL(r->san[0], "DNS:a.example");
	CU_ASSERT_STRING_EQUAL(r->san[1], "IP:192.0.2.1");
	CU_ASSERT_PTR_NULL(r->san[2]);
	CU_ASSERT_STRING_EQUAL(r->ext[0], "keyUsage=digitalSignature");
	CU_ASSERT_PTR_NULL(r->ext[1]);
	/* a setter replaces, NULL unsets */
	CU_ASSERT_EQUAL(p11e_req_set_subject(r, "/CN=second"), P11E_OK);
	CU_ASSERT_STRING_EQUAL(r->subject, "/CN=second");
	CU_ASSERT_EQUAL(p11e_req_set_subject(r, NULL), P11E_OK);
	CU_ASSERT_PTR_NULL(r->subject);
	p11e_req_free(r);
	p11e_req_free(NULL);
}

static void test_req_refuses(void)
{
	p11e_req *r = p11e_req_new();

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(p11e_req_set_subject(NULL, "/CN=x"), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_req_add_san(NULL, "DNS:x"), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_req_add_san(r, NULL), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_req_set_flags(r, P11E_REQ_PSS), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_set_flags(r, 1u << 7), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(r->flags, P11E_REQ_PSS);
	CU_ASSERT_EQUAL(p11e_req_set_backend(r, P11E_BACKEND_ENGINE), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_set_backend(r, (p11e_backend)7), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(r->backend, P11E_BACKEND_ENGINE);
	p11e_req_free(r);
}

/* What the builder holds is what the request says. */
static void test_req_content(void)
{
	p11e_req *r = p11e_req_new();
	X509_REQ *req = NULL;
	STACK_OF(X509_EXTENSION) *exts;
	const char *md = NULL;
	char cn[64] = "";

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(p11e_req_set_subject(r, "/O=Example/CN=host.example"), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_add_san(r, "DNS:host.example"), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_add_ext(r, "extendedKeyUsage=clientAuth"), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_set_digest(r, "sha384"), P11E_OK);
	CU_ASSERT_EQUAL_FATAL(p11e__req_prepare(ctx, r, &req, &md), P11E_OK);
	CU_ASSERT_STRING_EQUAL(md, "SHA384");
	X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof(cn));
	CU_ASSERT_STRING_EQUAL(cn, "host.example");
	exts = X509_REQ_get_extensions(req);
	CU_ASSERT(X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1) >= 0);
	CU_ASSERT(X509v3_get_ext_by_NID(exts, NID_ext_key_usage, -1) >= 0);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	/* an empty request (NULL) has no subject to build from */
	CU_ASSERT_EQUAL(p11e__req_prepare(ctx, NULL, &req, &md), P11E_ERR_USAGE);
	CU_ASSERT_PTR_NULL(req);
	p11e_req_free(r);
}

/* --- the PIN callback --------------------------------------------------- */

struct answers {
	const char *pin[2]; /* what the callback says, call by call */
	int ret[2];         /* 0: the PIN's length (0 for ""), else this */
	int calls;
	unsigned flags[2];
	p11e_pin_role role;
	int had_label;
};

static int answer(void *data, p11e_pin_role role, const char *token_label, const char *token_uri,
                  unsigned flags, char *buf, size_t size)
{
	struct answers *a = data;
	int i = a->calls++;

	(void)token_uri;
	if (i > 1)
		return P11E_PIN_ANSWER_FAILED;
	a->flags[i] = flags;
	a->role = role;
	a->had_label = token_label != NULL;
	if (a->ret[i])
		return a->ret[i];
	snprintf(buf, size, "%s", a->pin[i]);
	return (int)strlen(a->pin[i]);
}

static p11e_status read_with(struct answers *a, const char *src, p11e_pin_role role, p11e_pin **pin)
{
	a->calls = 0;
	p11e_ctx_set_pin_callback(ctx, answer, a);
	return p11e_pin_read(ctx, src, role, pin);
}

static void test_pin_callback(void)
{
	struct answers a = { .pin = { "11223344", "11223344" } };
	p11e_pin *pin = NULL;

	CU_ASSERT_EQUAL(read_with(&a, NULL, P11E_PIN_USER, &pin), P11E_OK);
	CU_ASSERT_EQUAL(a.calls, 1);
	CU_ASSERT_EQUAL(a.role, P11E_PIN_USER);
	CU_ASSERT_EQUAL(a.flags[0], 0);
	CU_ASSERT_FALSE(a.had_label); /* no token selected */
	CU_ASSERT_PTR_NOT_NULL_FATAL(pin);
	CU_ASSERT_EQUAL(pin->len, 8);
	CU_ASSERT_STRING_EQUAL(pin->data, "11223344");
	p11e_pin_free(pin);
	/* a source given: the callback is not asked */
	CU_ASSERT_EQUAL(read_with(&a, "pass:5566", P11E_PIN_USER, &pin), P11E_OK);
	CU_ASSERT_EQUAL(a.calls, 0);
	p11e_pin_free(pin);
	p11e_ctx_set_pin_callback(ctx, NULL, NULL);
}

static void test_pin_callback_new(void)
{
	struct answers a = { .pin = { "99887766", "99887766" } };
	p11e_pin *pin = NULL;

	/* a new PIN: asked twice, the second time to confirm */
	CU_ASSERT_EQUAL(read_with(&a, NULL, P11E_PIN_NEW_USER, &pin), P11E_OK);
	CU_ASSERT_EQUAL(a.calls, 2);
	CU_ASSERT_EQUAL(a.flags[0] & P11E_PIN_FLAG_CONFIRM, 0);
	CU_ASSERT_NOT_EQUAL(a.flags[1] & P11E_PIN_FLAG_CONFIRM, 0);
	CU_ASSERT_PTR_NOT_NULL(pin);
	p11e_pin_free(pin);
	pin = NULL;
	a.pin[1] = "99887767";
	CU_ASSERT_EQUAL(read_with(&a, NULL, P11E_PIN_NEW_SO, &pin), P11E_ERR_AUTH);
	CU_ASSERT_PTR_NULL(pin);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "the two PINs differ"));
	/* no PIN in the message, not even the ones that differ */
	CU_ASSERT_PTR_NULL(strstr(p11e_error_message(ctx), "9988776"));
	p11e_ctx_set_pin_callback(ctx, NULL, NULL);
}

static void test_pin_callback_answers(void)
{
	static const struct {
		int ret;
		p11e_status st;
		const char *says;
	} cases[] = {
		{ P11E_PIN_ANSWER_NONE, P11E_ERR_AUTH, "no PIN entered" },
		{ P11E_PIN_ANSWER_UNAVAILABLE, P11E_ERR_AUTH, "no way to ask for it here" },
		{ P11E_PIN_ANSWER_FAILED, P11E_ERR_INPUT, "reading the user PIN failed" },
		{ -9, P11E_ERR_INPUT, "reading the user PIN failed" },
		{ 100000, P11E_ERR_INPUT, "reading the user PIN failed" }, /* more than buf */
	};
	p11e_pin *pin = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct answers a = { .pin = { "", "" }, .ret = { cases[i].ret, 0 } };

		CU_ASSERT_EQUAL(read_with(&a, NULL, P11E_PIN_USER, &pin), cases[i].st);
		CU_ASSERT_PTR_NULL(pin);
		CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), cases[i].says));
	}
	/* no callback at all: as a callback that cannot ask */
	p11e_ctx_set_pin_callback(ctx, NULL, NULL);
	CU_ASSERT_EQUAL(p11e_pin_read(ctx, NULL, P11E_PIN_SO, &pin), P11E_ERR_AUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "no source for the SO PIN and no "
	                                                       "PIN callback"));
}

/* --- flags and versions ------------------------------------------------- */

static void test_unknown_flags(void)
{
	p11e_object *objs = NULL;
	unsigned char *out = NULL;
	size_t n = 0;
	p11e_import_result res;
	p11e_key key;

	CU_ASSERT_EQUAL(p11e_ctx_set_flags(ctx, P11E_CTX_FORCE_LAST_PIN_TRY), P11E_OK);
	CU_ASSERT_EQUAL(ctx->force, 1);
	CU_ASSERT_EQUAL(p11e_ctx_set_flags(ctx, 0), P11E_OK);
	CU_ASSERT_EQUAL(ctx->force, 0);
	CU_ASSERT_EQUAL(p11e_ctx_set_flags(ctx, 1u << 9), P11E_ERR_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "unknown flags 0x200"));
	/* refused before anything is looked at: no module is loaded here */
	CU_ASSERT_EQUAL(p11e_list(ctx, 1u << 5, &objs, &n), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_export(ctx, "x", 1u << 5, &out, &n), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_import(ctx, "x", NULL, NULL, NULL, 1u << 5, &res), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_retire_plan(ctx, "x", 1u << 5, &key, &n), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_init_token_check(ctx, "x", 1u << 5), P11E_ERR_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "p11e_init_token: unknown flags"));
	CU_ASSERT_EQUAL(p11e_csr_make(ctx, &key, NULL, (p11e_format)3, &out, &n), P11E_ERR_USAGE);
}

static void test_version(void)
{
	char want[32];

	CU_ASSERT_EQUAL(P11E_VERSION_NUM, (P11E_VERSION_MAJOR << 16) | (P11E_VERSION_MINOR << 8) |
	                                          P11E_VERSION_PATCH);
	CU_ASSERT(P11E_VERSION_NUM >= 0x010000);
	CU_ASSERT(P11E_CHECK_VERSION(1, 0, 0));
	CU_ASSERT(P11E_CHECK_VERSION(P11E_VERSION_MAJOR, P11E_VERSION_MINOR, P11E_VERSION_PATCH));
	CU_ASSERT_FALSE(
		P11E_CHECK_VERSION(P11E_VERSION_MAJOR, P11E_VERSION_MINOR, P11E_VERSION_PATCH + 1));
	CU_ASSERT_FALSE(P11E_CHECK_VERSION(P11E_VERSION_MAJOR + 1, 0, 0));
	snprintf(want, sizeof(want), "%d.%d.%d", P11E_VERSION_MAJOR, P11E_VERSION_MINOR,
	         P11E_VERSION_PATCH);
	CU_ASSERT_STRING_EQUAL(p11e_version(), want);
	CU_ASSERT_STRING_EQUAL(P11E_VERSION_STRING, want);
}

/* --- readers and slots --------------------------------------------------- */

static void set_desc(p11e_slot *s, const char *d)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->slot_description, sizeof(s->slot_description), "%s", d);
}

static void test_reader_slot(void)
{
	char longname[100];
	p11e_slot slots[4];
	p11e_reader r;
	size_t more = 99;

	memset(&r, 0, sizeof(r));
	r.name = (char *)"Virtual PCD 00 01";
	set_desc(&slots[0], "Virtual PCD 00 00");
	set_desc(&slots[1], "Virtual PCD 00 01");
	set_desc(&slots[2], "Virtual PCD 00 01");
	set_desc(&slots[3], "Virtual PCD 00 0");
	CU_ASSERT_EQUAL(p11e_reader_slot(&r, slots, 4, &more), 1);
	CU_ASSERT_EQUAL(more, 1);
	/* a prefix is no match, nor is a longer name */
	r.name = (char *)"Virtual PCD 00";
	CU_ASSERT_EQUAL(p11e_reader_slot(&r, slots, 4, &more), -1);
	CU_ASSERT_EQUAL(more, 0);
	r.name = (char *)"Virtual PCD 00 011";
	CU_ASSERT_EQUAL(p11e_reader_slot(&r, slots, 4, NULL), -1);
	/* a name longer than the 64 bytes of a slot description: cut there */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(slots[0].slot_description, sizeof(slots[0].slot_description), "%.64s", longname);
	r.name = longname;
	CU_ASSERT_EQUAL(p11e_reader_slot(&r, slots, 4, &more), 0);
	/* blank padding a module left in is no part of the name */
	set_desc(&slots[0], "Reader A   ");
	r.name = (char *)"Reader A";
	CU_ASSERT_EQUAL(p11e_reader_slot(&r, slots, 1, NULL), 0);
	r.name = NULL;
	CU_ASSERT_EQUAL(p11e_reader_slot(&r, slots, 1, NULL), -1);
	CU_ASSERT_EQUAL(p11e_reader_slot(NULL, slots, 1, NULL), -1);
}

static void test_reader_names(void)
{
	CU_ASSERT_STRING_EQUAL(p11e_reason_name(P11E_REASON_PCSC_NO_SERVICE), "pcsc-no-service");
	CU_ASSERT_STRING_EQUAL(p11e_reason_name(P11E_REASON_WAIT_TIMEOUT), "wait-timeout");
	CU_ASSERT_STRING_EQUAL(p11e_reason_name(P11E_REASON_WAIT_CANCELLED), "wait-cancelled");
	CU_ASSERT_STRING_EQUAL(p11e_status_name(P11E_ERR_TIMEOUT), "timeout");
	CU_ASSERT_EQUAL(P11E_ERR_TIMEOUT, 8);
	/* a flag of a later version is refused before pcscd is asked */
	p11e_reader r;
	CU_ASSERT_EQUAL(p11e_reader_wait(ctx, NULL, 1u << 7, 0, &r), P11E_ERR_USAGE);
	/* no token selected: no PIN pad */
	CU_ASSERT_EQUAL(p11e_token_pinpad(ctx), 0);
}

static int suite_init(void)
{
	ctx = p11e_ctx_new();
	return ctx ? 0 : -1;
}

static int suite_clean(void)
{
	p11e_ctx_free(ctx);
	return 0;
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("public API (no token)", suite_init, suite_clean);
	CU_add_test(s, "request builder copies its strings", test_req_copies);
	CU_add_test(s, "request builder refuses bad values", test_req_refuses);
	CU_add_test(s, "request builder content in the request", test_req_content);
	CU_add_test(s, "PIN callback", test_pin_callback);
	CU_add_test(s, "PIN callback: a new PIN twice", test_pin_callback_new);
	CU_add_test(s, "PIN callback: answers without a PIN", test_pin_callback_answers);
	CU_add_test(s, "unknown flags refused", test_unknown_flags);
	CU_add_test(s, "version macros", test_version);
	CU_add_test(s, "a reader's slot, by the slot description", test_reader_slot);
	CU_add_test(s, "readers: reasons, status, flags", test_reader_names);
	return harness_run();
}
