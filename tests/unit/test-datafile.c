/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-datafile.c - the rules every data file shares (datafile.c), checked
 * through both kinds: token quirk files (quirks.c) and profiles (profile.c).
 * No token, no module.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "internal.h"

static p11e_ctx *ctx;
static char dir[64];
static X509_NAME *wild; /* CN=*.example: a violation only under no_wildcards */

static int suite_init(void)
{
	snprintf(dir, sizeof(dir), "/tmp/p11e-datafile-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* the user's own files (~/.config/p11enroll) must not change the results */
	setenv("HOME", dir, 1);
	setenv("XDG_CONFIG_HOME", dir, 1);
	wild = X509_NAME_new();
	if (!wild || !X509_NAME_add_entry_by_txt(wild, "CN", MBSTRING_UTF8,
	                                         (const unsigned char *)"*.example", -1, -1, 0))
		return -1;
	ctx = p11e_ctx_new();
	return ctx ? 0 : -1;
}

static int suite_clean(void)
{
	char cmd[128];

	p11e_ctx_free(ctx);
	X509_NAME_free(wild);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* dir/name with text; the path in a static buffer. */
static const char *put(const char *name, const char *text)
{
	static char path[256];
	char sub[256], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(sub, sizeof(sub), "%s", path);
	for (slash = strchr(sub + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(sub, 0700);
		*slash = '/';
	}
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static p11e_status quirks_of(const char *text, struct p11e__quirks *q)
{
	p11e__clear_error(ctx);
	return p11e__quirks_parse_mem(ctx, "/q/test.conf", (const unsigned char *)text,
	                              strlen(text), q);
}

/* The profile text checked (as a file) against CN=*.example. */
static p11e_status profile_of(const char *text)
{
	const char *path = put("p.conf", text);

	p11e__clear_error(ctx);
	return p11e__profile_check(ctx, path, wild, NULL, NULL);
}

static void message_has(const char *a, const char *b)
{
	const char *m = p11e_error_message(ctx);
	int ok = strstr(m, a) && (!b || strstr(m, b));

	CU_ASSERT(ok);
	if (!ok)
		fprintf(stderr, "\n  message: %s\n  wanted: '%s'%s%s\n", m, a, b ? ", " : "",
		        b ? b : "");
}

static void test_include_refused(void)
{
	struct p11e__quirks q;
	char at[300];

	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n.include /etc/ssl/openssl.cnf\n", &q),
	                P11E_ERR_INPUT);
	message_has("/q/test.conf:3:", ".include is not allowed");
	CU_ASSERT_EQUAL(quirks_of("[match]\n  .include=/etc/ssl\nmodel = X\n", &q), P11E_ERR_INPUT);
	message_has("/q/test.conf:2:", ".include");
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n.pragma dollarid:true\n", &q),
	                P11E_ERR_INPUT);
	message_has("/q/test.conf:3:", ".pragma is not allowed");
	CU_ASSERT_EQUAL(profile_of("# a profile\n[profile]\n.include /etc/passwd\n"),
	                P11E_ERR_INPUT);
	snprintf(at, sizeof(at), "%s/p.conf:3:", dir);
	message_has(at, ".include is not allowed");
}

static void test_dollar_not_expanded(void)
{
	struct p11e__quirks q;
	char at[300];

	setenv("P11E_TEST_VALUE", "LEAKED-VALUE", 1);
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = ${ENV::P11E_TEST_VALUE}\n", &q),
	                P11E_ERR_INPUT);
	message_has("/q/test.conf:2:", "'$' is not allowed");
	CU_ASSERT_PTR_NULL(strstr(p11e_error_message(ctx), "LEAKED-VALUE"));
	CU_ASSERT_EQUAL(quirks_of("m = Acme\n[match]\nmanufacturer = $m\n", &q), P11E_ERR_INPUT);
	message_has("/q/test.conf:3:", "'$'");
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = \"$(m)\"\n", &q), P11E_ERR_INPUT);
	/* a comment may say anything */
	CU_ASSERT_EQUAL(quirks_of("# costs $5\n[match]\n  # $HOME\nmodel = X\n", &q), P11E_OK);
	CU_ASSERT_EQUAL(profile_of("[profile]\nno_wildcards = yes\nec_curves = "
	                           "$ENV::P11E_TEST_VALUE\n"),
	                P11E_ERR_INPUT);
	snprintf(at, sizeof(at), "%s/p.conf:3:", dir);
	message_has(at, "'$' is not allowed");
	unsetenv("P11E_TEST_VALUE");
}

static void test_size_cap(void)
{
	size_t max = 64 * 1024;
	char *text = malloc(max + 2);
	struct p11e__quirks q;
	const char *head = "[match]\nmodel = X\n";

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	/* exactly the cap: a long comment is still a quirk file */
	memset(text, '#', max);
	memcpy(text, head, strlen(head));
	text[max - 1] = '\n';
	text[max] = '\0';
	CU_ASSERT_EQUAL(quirks_of(text, &q), P11E_OK);
	/* one byte more: refused, from memory and from a file, for both kinds */
	text[max] = '\n';
	text[max + 1] = '\0';
	CU_ASSERT_EQUAL(quirks_of(text, &q), P11E_ERR_INPUT);
	message_has("/q/test.conf", "over 65536 bytes");
	CU_ASSERT_EQUAL(p11e__quirks_parse_file(ctx, put("big.conf", text), &q), P11E_ERR_INPUT);
	message_has("big.conf is over 65536 bytes", NULL);
	memcpy(text, "[profile]\n", 10);
	CU_ASSERT_EQUAL(profile_of(text), P11E_ERR_INPUT);
	message_has("p.conf is over 65536 bytes", NULL);
	free(text);
}

/* Every spelling one kind takes, the other takes the same way. */
static void test_same_booleans(void)
{
	static const struct {
		const char *text;
		int value; /* -1: refused by both */
	} spellings[] = {
		{ "yes", 1 },   { "Yes", 1 },   { "YES", 1 },  { "true", 1 },  { "True", 1 },
		{ "1", 1 },     { "no", 0 },    { "No", 0 },   { "false", 0 }, { "FALSE", 0 },
		{ "0", 0 },     { "on", -1 },   { "off", -1 }, { "y", -1 },    { "2", -1 },
		{ "yes!", -1 }, { "\"\"", -1 },
	};
	struct p11e__quirks q;
	char text[256];

	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		const char *v = spellings[i].text;
		int want = spellings[i].value;
		p11e_status qst, pst;
		size_t n = 0;

		snprintf(text, sizeof(text),
		         "[match]\nmodel = X\n[quirks]\nomit_extractable = %s\n", v);
		qst = quirks_of(text, &q);
		snprintf(text, sizeof(text), "[profile]\nno_wildcards = %s\n", v);
		pst = profile_of(text);
		(void)p11e_error_details(ctx, &n);
		if (want < 0) {
			CU_ASSERT_EQUAL(qst, P11E_ERR_INPUT);
			CU_ASSERT_EQUAL(pst, P11E_ERR_INPUT);
			message_has("no_wildcards = ", "use yes or no");
		} else {
			CU_ASSERT_EQUAL(qst, P11E_OK);
			CU_ASSERT_EQUAL(q.omit_extractable, want);
			/* the wildcard CN breaks the profile exactly when no_wildcards is on */
			CU_ASSERT_EQUAL(pst, want ? P11E_ERR_POLICY : P11E_OK);
			CU_ASSERT_EQUAL(n, (size_t)want);
		}
		if ((want < 0) != (qst != P11E_OK) || (want < 0) != (pst == P11E_ERR_INPUT))
			fprintf(stderr, "\n  spelling '%s': quirks %d, profile %d\n", v, qst, pst);
	}
}

static void test_same_numbers(void)
{
	static const char *const bad[] = {
		"+2048", "2048 bits", "0x800", "-1", "1023", "16385", "99999999999999999999", "2k"
	};
	struct p11e__quirks q;
	char text[256];

	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n[quirks]\nmax_rsa_bits = 02048\n", &q),
	                P11E_OK);
	CU_ASSERT_EQUAL(q.max_rsa_bits, 2048);
	CU_ASSERT_EQUAL(profile_of("[profile]\nmin_rsa_bits = 16384\n"), P11E_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "[match]\nmodel = X\n[quirks]\nmax_rsa_bits = %s\n",
		         bad[i]);
		CU_ASSERT_EQUAL(quirks_of(text, &q), P11E_ERR_INPUT);
		message_has("/q/test.conf:4: [quirks] max_rsa_bits = ", "give a number of bits");
		snprintf(text, sizeof(text), "[profile]\n\nmin_rsa_bits = %s\n", bad[i]);
		CU_ASSERT_EQUAL(profile_of(text), P11E_ERR_INPUT);
		message_has("p.conf:3: [profile] min_rsa_bits = ", "1024 to 16384");
	}
}

static void test_unknown_and_twice(void)
{
	struct p11e__quirks q;

	/* a profile's other sections were ignored once; now refused like a quirk file's */
	CU_ASSERT_EQUAL(profile_of("[profile]\nno_wildcards = no\n\n[extra]\nx = 1\n"),
	                P11E_ERR_INPUT);
	message_has("p.conf:4: unknown section [extra]", "[profile]");
	CU_ASSERT_EQUAL(profile_of("[profile]\nno_wildcard = yes\n"), P11E_ERR_INPUT);
	message_has("p.conf:2: unknown field 'no_wildcard' in [profile]", NULL);
	CU_ASSERT_EQUAL(profile_of("top = 1\n[profile]\n"), P11E_ERR_INPUT);
	message_has("p.conf:1: field 'top' is outside [profile]", NULL);
	/* the second value would win silently */
	CU_ASSERT_EQUAL(profile_of("[profile]\nno_wildcards = yes\nno_wildcards = no\n"),
	                P11E_ERR_INPUT);
	message_has("[profile] no_wildcards is given twice", NULL);
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\nmodel = Y\n", &q), P11E_ERR_INPUT);
	message_has("/q/test.conf:3: [match] model is given twice (first on line 2)", NULL);
	CU_ASSERT_EQUAL(quirks_of("[match]\nmodel = X\n[other]\n", &q), P11E_ERR_INPUT);
	message_has("/q/test.conf:3: unknown section [other]", "[match] and [quirks]");
}

/* The search path: $VAR, then the user's (XDG), then the system's. */
static void test_search_path(void)
{
	struct p11e__datafile_kind kind = { "test file", "P11E_TEST_PATH", "things", NULL, 0 };
	char env[300], want[300], *path = NULL, **paths = NULL;
	size_t n = 0;

	put("env/a.conf", "");
	put("env/b.conf", "");
	put("user/p11enroll/things/b.conf", "");
	put("user/p11enroll/things/c.conf", "");
	put("user/p11enroll/things/0.conf", "");
	put("home/.config/p11enroll/things/d.conf", "");
	snprintf(env, sizeof(env), "%s/missing:%s/env", dir, dir);
	setenv("P11E_TEST_PATH", env, 1);
	snprintf(env, sizeof(env), "%s/user", dir);
	setenv("XDG_CONFIG_HOME", env, 1);

	CU_ASSERT_EQUAL(p11e__datafile_find(ctx, &kind, "b", &path), P11E_OK);
	snprintf(want, sizeof(want), "%s/env/b.conf", dir);
	CU_ASSERT_STRING_EQUAL(path ? path : "", want);
	free(path);
	CU_ASSERT_EQUAL(p11e__datafile_find(ctx, &kind, "c", &path), P11E_OK);
	snprintf(want, sizeof(want), "%s/user/p11enroll/things/c.conf", dir);
	CU_ASSERT_STRING_EQUAL(path ? path : "", want);
	free(path);
	CU_ASSERT_EQUAL(p11e__datafile_find(ctx, &kind, "d", &path), P11E_OK);
	CU_ASSERT_PTR_NULL(path);

	/* directory by directory, name order in each, b.conf shadowed in the user's */
	CU_ASSERT_EQUAL_FATAL(p11e__datafile_list(ctx, &kind, &paths, &n), P11E_OK);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(paths[0], "/env/a.conf"));
	CU_ASSERT_PTR_NOT_NULL(strstr(paths[1], "/env/b.conf"));
	CU_ASSERT_PTR_NOT_NULL(strstr(paths[2], "/user/p11enroll/things/0.conf"));
	CU_ASSERT_PTR_NOT_NULL(strstr(paths[3], "/user/p11enroll/things/c.conf"));
	p11e__datafile_list_free(paths, n);

	/* a relative XDG_CONFIG_HOME is ignored (XDG Base Directory): ~/.config */
	setenv("XDG_CONFIG_HOME", "user", 1);
	snprintf(env, sizeof(env), "%s/home", dir);
	setenv("HOME", env, 1);
	CU_ASSERT_EQUAL(p11e__datafile_find(ctx, &kind, "d", &path), P11E_OK);
	CU_ASSERT_PTR_NOT_NULL(path && strstr(path, "/home/.config/p11enroll/things/d.conf"));
	free(path);
	path = p11e__datafile_path(&kind);
	snprintf(want, sizeof(want), "%s/missing:%s/env:%s/home/.config/p11enroll/things:", dir,
	         dir, dir);
	CU_ASSERT(path && strncmp(path, want, strlen(want)) == 0);
	CU_ASSERT(path && strstr(path, "/p11enroll/things:") && strstr(path, "/things"));
	free(path);

	unsetenv("P11E_TEST_PATH");
	setenv("HOME", dir, 1);
	setenv("XDG_CONFIG_HOME", dir, 1);
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("data files", suite_init, suite_clean);
	CU_add_test(s, ".include and .pragma refused with file:line", test_include_refused);
	CU_add_test(s, "'$' refused, never expanded", test_dollar_not_expanded);
	CU_add_test(s, "a file over 64 KiB refused", test_size_cap);
	CU_add_test(s, "quirks and profiles take the same booleans", test_same_booleans);
	CU_add_test(s, "quirks and profiles take the same numbers", test_same_numbers);
	CU_add_test(s, "unknown sections, fields, and a field twice", test_unknown_and_twice);
	CU_add_test(s, "search path order", test_search_path);
	return harness_run();
}
