/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/floor.h - what the floor programs share: load a PKCS#11 module with
 * dlopen, find a token by label, open a session and log in.  Nothing of
 * p11enroll's, p11-kit's only for <p11-kit/pkcs11.h>.  Header-only, so that
 * each floor program is one source file to build.
 */
#ifndef P11ENROLL_BENCH_FLOOR_H
#define P11ENROLL_BENCH_FLOOR_H

#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static CK_FUNCTION_LIST *fl;

/* exit status 1 with a message: the bench stops on a failed floor run */
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("floor: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void check(CK_RV rv, const char *call)
{
	if (rv != CKR_OK)
		die("%s failed: CK_RV 0x%08lx", call, (unsigned long)rv);
}

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * dlopen MODULE, C_Initialize, find the token labelled LABEL, open a
 * read-write session on it and, unless PIN is NULL or "-", log in as the
 * user.
 */
static CK_SESSION_HANDLE floor_open(const char *module, const char *label, const char *pin)
{
	CK_C_GetFunctionList get;
	CK_SLOT_ID slots[64], slot = 0;
	CK_ULONG nslots = sizeof(slots) / sizeof(slots[0]);
	CK_SESSION_HANDLE session;
	CK_TOKEN_INFO ti;
	char want[32];
	size_t len = strlen(label);
	int found = 0;
	void *dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);

	if (!dl)
		die("dlopen %s: %s", module, dlerror());
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	if (!get)
		die("%s has no C_GetFunctionList", module);
	check(get(&fl), "C_GetFunctionList");
	check(fl->C_Initialize(NULL), "C_Initialize");
	check(fl->C_GetSlotList(CK_TRUE, slots, &nslots), "C_GetSlotList");
	if (len > sizeof(want))
		die("token label '%s' is longer than 32 bytes", label);
	memset(want, ' ', sizeof(want));
	memcpy(want, label, len);
	for (CK_ULONG i = 0; i < nslots && !found; i++) {
		if (fl->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    memcmp(ti.label, want, sizeof(want)) == 0) {
			slot = slots[i];
			found = 1;
		}
	}
	if (!found)
		die("no token labelled '%s'", label);
	check(fl->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session),
	      "C_OpenSession");
	if (pin && strcmp(pin, "-") != 0)
		check(fl->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)), "C_Login");
	return session;
}

static void floor_close(CK_SESSION_HANDLE session)
{
	fl->C_CloseSession(session);
	fl->C_Finalize(NULL);
}

#endif
