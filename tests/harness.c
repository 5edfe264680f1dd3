/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * harness.c - per-suite SoftHSMv2 token directory and a log collector.
 */
#define _XOPEN_SOURCE 700
#include <CUnit/Basic.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "internal.h"

static char dir[256];
static char logbuf[1 << 16];
static size_t loglen;

const char *harness_dir(void)
{
	return dir;
}

const char *harness_softhsm_module(void)
{
	const char *m = getenv("SOFTHSM_MODULE");

	return m && *m ? m : "/usr/lib/softhsm/libsofthsm2.so";
}

int harness_softhsm_setup(void)
{
	char path[512];
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/p11enroll-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/tokens", dir);
	if (mkdir(path, 0700) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/softhsm2.conf", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
	        "directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
	        "log.level = ERROR\nslots.removable = false\n",
	        dir);
	fclose(f);
	return setenv("SOFTHSM2_CONF", path, 1);
}

p11e_ctx *harness_token_ready(const char *label, const char *so_pin, const char *user_pin)
{
	p11e_ctx *ctx;
	p11e_pin *so, *user;
	int ok;

	if (harness_softhsm_setup() != 0)
		return NULL;
	ctx = p11e_ctx_new();
	if (!ctx || p11e_module_load(ctx, harness_softhsm_module()) != P11E_OK ||
	    p11e_token_select_for_init(ctx, NULL, -1, NULL) != P11E_OK) {
		p11e_ctx_free(ctx);
		return NULL;
	}
	so = p11e__pin_new(so_pin, strlen(so_pin));
	user = p11e__pin_new(user_pin, strlen(user_pin));
	ok = so && user && p11e_init_token(ctx, label, so, user, 0) == P11E_OK &&
	     p11e_login(ctx, P11E_PIN_USER, user) == P11E_OK;
	p11e_pin_free(so);
	p11e_pin_free(user);
	if (!ok) {
		p11e_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void harness_softhsm_teardown(void)
{
	if (dir[0])
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

void harness_log(void *data, p11e_log_level level, const char *msg)
{
	int n;

	(void)data;
	(void)level;
	n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%s\n", msg);
	if (n > 0 && (size_t)n < sizeof(logbuf) - loglen)
		loglen += (size_t)n;
}

const char *harness_log_text(void)
{
	return logbuf;
}

void harness_log_reset(void)
{
	loglen = 0;
	logbuf[0] = '\0';
}

int harness_run(void)
{
	unsigned failures;

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	/* a suite whose setup failed ran nothing: that is a failure too */
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
	           CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
