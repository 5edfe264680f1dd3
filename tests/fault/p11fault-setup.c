/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11fault-setup.c - the fault-injecting module's settings: load the real
 * module and read the P11FAULT_ variables (described at the top of
 * p11fault.c) into pf.  A bad setting is one "p11fault: " line and
 * CKR_GENERAL_ERROR, so that a test with a typo fails instead of silently
 * testing nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11fault.h"

struct p11fault pf = { .setup_rv = CKR_OK, .log_fd = -1 };

static const struct {
	const char *name;
	unsigned bit;
} lie_names[] = {
	{ "slotlist-too-small", LIE_SLOTLIST_TOO_SMALL },
	{ "slotlist-count", LIE_SLOTLIST_COUNT },
	{ "findobjects-count", LIE_FINDOBJECTS_COUNT },
	{ "findobjects-endless", LIE_FINDOBJECTS_ENDLESS },
	{ "attr-length-huge", LIE_ATTR_LENGTH_HUGE },
	{ "attr-length-grow", LIE_ATTR_LENGTH_GROW },
	{ "sign-length-grow", LIE_SIGN_LENGTH_GROW },
	{ "attr-stop", LIE_ATTR_STOP },
};

static const struct {
	const char *name;
	CK_RV rv;
} rv_names[] = {
	{ "CKR_OK", CKR_OK },
	{ "CKR_HOST_MEMORY", CKR_HOST_MEMORY },
	{ "CKR_SLOT_ID_INVALID", CKR_SLOT_ID_INVALID },
	{ "CKR_GENERAL_ERROR", CKR_GENERAL_ERROR },
	{ "CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED },
	{ "CKR_ARGUMENTS_BAD", CKR_ARGUMENTS_BAD },
	{ "CKR_ATTRIBUTE_TYPE_INVALID", CKR_ATTRIBUTE_TYPE_INVALID },
	{ "CKR_ATTRIBUTE_VALUE_INVALID", CKR_ATTRIBUTE_VALUE_INVALID },
	{ "CKR_DEVICE_ERROR", CKR_DEVICE_ERROR },
	{ "CKR_DEVICE_MEMORY", CKR_DEVICE_MEMORY },
	{ "CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED },
	{ "CKR_FUNCTION_NOT_SUPPORTED", CKR_FUNCTION_NOT_SUPPORTED },
	{ "CKR_OBJECT_HANDLE_INVALID", CKR_OBJECT_HANDLE_INVALID },
	{ "CKR_PIN_INCORRECT", CKR_PIN_INCORRECT },
	{ "CKR_PIN_LOCKED", CKR_PIN_LOCKED },
	{ "CKR_SESSION_CLOSED", CKR_SESSION_CLOSED },
	{ "CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID },
	{ "CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT },
	{ "CKR_TOKEN_WRITE_PROTECTED", CKR_TOKEN_WRITE_PROTECTED },
	{ "CKR_USER_NOT_LOGGED_IN", CKR_USER_NOT_LOGGED_IN },
	{ "CKR_CRYPTOKI_NOT_INITIALIZED", CKR_CRYPTOKI_NOT_INITIALIZED },
};

static CK_RV bad_setting(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static CK_RV bad_setting(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "p11fault: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return CKR_GENERAL_ERROR;
}

static int parse_rv(const char *s, size_t len, CK_RV *rv)
{
	char buf[64], *end;
	size_t i;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (strcmp(buf, rv_names[i].name) == 0) {
			*rv = rv_names[i].rv;
			return 0;
		}
	errno = 0;
	*rv = strtoul(buf, &end, 16);
	return errno || *end || end == buf ? -1 : 0;
}

/* "N:RV[,N+:RV...]" into specs[]. */
static CK_RV parse_fail(const char *v)
{
	const char *p = v;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		struct fault_spec *f;
		char *end;

		if (pf.nspecs == P11FAULT_MAX_SPECS)
			return bad_setting("P11FAULT_FAIL='%s': too many specs", v);
		f = &pf.specs[pf.nspecs];
		errno = 0;
		f->n = strtoul(p, &end, 10);
		if (errno || end == p || f->n == 0)
			return bad_setting("P11FAULT_FAIL='%s': want N:RV (N from 1)", v);
		f->and_later = *end == '+';
		if (f->and_later)
			end++;
		if (*end != ':' || parse_rv(end + 1, len - (size_t)(end + 1 - p), &f->rv) != 0)
			return bad_setting("P11FAULT_FAIL='%s': want N:RV, RV hex or a CKR_ name",
			                   v);
		pf.nspecs++;
		p += len;
		if (*p == ',')
			p++;
	}
	return CKR_OK;
}

/* "NAME[,NAME...]" into lies. */
static CK_RV parse_lies(const char *v)
{
	const char *p = v;

	while (*p) {
		size_t len = strcspn(p, ","), i;

		for (i = 0; i < sizeof(lie_names) / sizeof(lie_names[0]); i++)
			if (strlen(lie_names[i].name) == len &&
			    strncmp(p, lie_names[i].name, len) == 0)
				break;
		if (i == sizeof(lie_names) / sizeof(lie_names[0]))
			return bad_setting("P11FAULT_LIE='%s': unknown lie '%.*s'", v, (int)len, p);
		pf.lies |= lie_names[i].bit;
		p += len;
		if (*p == ',')
			p++;
	}
	return CKR_OK;
}

static CK_RV load_real(void)
{
	const char *path = getenv("P11FAULT_MODULE");
	CK_C_GetFunctionList get;
	CK_RV rv;

	if (!path || !*path)
		return bad_setting("P11FAULT_MODULE is not set: name the real module");
	pf.real_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!pf.real_handle)
		return bad_setting("cannot load P11FAULT_MODULE: %s", dlerror());
	*(void **)(&get) = dlsym(pf.real_handle, "C_GetFunctionList");
	if (!get)
		return bad_setting("P11FAULT_MODULE %s has no C_GetFunctionList", path);
	rv = get(&pf.real);
	if (rv != CKR_OK || !pf.real)
		return bad_setting("C_GetFunctionList of P11FAULT_MODULE %s failed", path);
	return CKR_OK;
}

void p11fault_setup(void)
{
	const char *v;
	char *end;

	pf.setup_rv = load_real();
	if (pf.setup_rv != CKR_OK)
		return;
	v = getenv("P11FAULT_LOG");
	if (v && *v) {
		pf.log_fd = open(v, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (pf.log_fd < 0) {
			pf.setup_rv = bad_setting("cannot open P11FAULT_LOG %s", v);
			return;
		}
	}
	v = getenv("P11FAULT_FAIL");
	if (v && *v && (pf.setup_rv = parse_fail(v)) != CKR_OK)
		return;
	v = getenv("P11FAULT_COUNT");
	if (v && *v && !(pf.count_path = strdup(v))) {
		pf.setup_rv = bad_setting("out of memory");
		return;
	}
	v = getenv("P11FAULT_FAIL_FUNC");
	if (v && *v) {
		if (strlen(v) >= sizeof(pf.fail_func)) {
			pf.setup_rv = bad_setting("P11FAULT_FAIL_FUNC='%s' is too long", v);
			return;
		}
		strcpy(pf.fail_func, v);
	}
	v = getenv("P11FAULT_TOKEN_FLAGS");
	if (v && *v) {
		errno = 0;
		pf.token_flags = strtoul(v, &end, 16);
		if (errno || *end || end == v) {
			pf.setup_rv = bad_setting("P11FAULT_TOKEN_FLAGS='%s': want hex", v);
			return;
		}
	}
	v = getenv("P11FAULT_PINPAD");
	if (v && *v && !(pf.pinpad_pin = strdup(v))) {
		pf.setup_rv = bad_setting("P11FAULT_PINPAD: out of memory");
		return;
	}
	v = getenv("P11FAULT_SLOW");
	if (v && *v) {
		const char *colon = strchr(v, ':');

		errno = 0;
		pf.slow_ms = colon ? strtoul(colon + 1, &end, 10) : 0;
		if (!colon || colon == v || (size_t)(colon - v) >= sizeof(pf.slow_func) || errno ||
		    end == colon + 1 || *end || pf.slow_ms == 0 || pf.slow_ms > 600000) {
			pf.setup_rv =
				bad_setting("P11FAULT_SLOW='%s': want NAME:MS (1 to 600000)", v);
			return;
		}
		memcpy(pf.slow_func, v, (size_t)(colon - v));
	}
	v = getenv("P11FAULT_GATE");
	if (v && *v) {
		const char *colon = strchr(v, ':');

		if (!colon || colon == v || (size_t)(colon - v) >= sizeof(pf.gate_func) ||
		    !colon[1]) {
			pf.setup_rv = bad_setting("P11FAULT_GATE='%s': want NAME:PATH", v);
			return;
		}
		memcpy(pf.gate_func, v, (size_t)(colon - v));
		pf.gate_path = strdup(colon + 1);
	}
	v = getenv("P11FAULT_BOOL");
	if (v && *v) {
		errno = 0;
		pf.bool_type = strtoul(v, &end, 16);
		if (errno || end == v || *end != ':' || (end[1] != '0' && end[1] != '1') ||
		    end[2]) {
			pf.setup_rv = bad_setting("P11FAULT_BOOL='%s': want HEX:0 or HEX:1", v);
			return;
		}
		pf.bool_value = end[1] == '1' ? CK_TRUE : CK_FALSE;
		pf.bool_set = 1;
	}
	v = getenv("P11FAULT_MECH");
	if (v && *v) {
		char *e2 = NULL, *e3 = NULL;

		errno = 0;
		pf.mech_type = strtoul(v, &end, 16);
		pf.mech_min = end != v && *end == ':' ? strtoul(end + 1, &e2, 10) : 0;
		pf.mech_max = end != v && *end == ':' && *e2 == ':' ? strtoul(e2 + 1, &e3, 10) : 0;
		if (errno || end == v || *end != ':' || e2 == end + 1 || *e2 != ':' ||
		    e3 == e2 + 1 || *e3) {
			pf.setup_rv = bad_setting("P11FAULT_MECH='%s': want HEX:MIN:MAX", v);
			return;
		}
		pf.mech_set = 1;
	}
	v = getenv("P11FAULT_LIE");
	if (v && *v)
		pf.setup_rv = parse_lies(v);
}
