/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11fault.c - a fault-injecting PKCS#11 module for the tests.
 *
 * It loads the real module named by $P11FAULT_MODULE and forwards every
 * function of the PKCS#11 2.40 function list to it, and on the way:
 *
 *   P11FAULT_LOG=PATH        appends one line per call, the function name
 *                            (C_GetFunctionList included), so that a test can
 *                            list and count the calls a command makes.
 *   P11FAULT_FAIL=N:RV       the N-th call (1-based, every call of the process,
 *                            C_GetFunctionList included: line N of the log)
 *                            returns RV instead of being forwarded.  N+:RV
 *                            fails call N and every later one (a device that
 *                            stays gone).  Several specs, comma-separated.
 *                            RV is hex (0x30, or 30) or a CKR_ name
 *                            (CKR_DEVICE_ERROR, CKR_DEVICE_REMOVED, ...).
 *   P11FAULT_FAIL_FUNC=NAME  count only the calls to NAME (e.g. C_Login).
 *   P11FAULT_COUNT=PATH      keep the count of P11FAULT_FAIL in the file PATH
 *                            (under flock), shared by every process that loads
 *                            the module: "the N-th call" of a run whose
 *                            worker processes load it afresh (station's cards).
 *   P11FAULT_TOKEN_FLAGS=HEX ORs HEX into CK_TOKEN_INFO.flags returned by
 *                            C_GetTokenInfo (CKF_USER_PIN_FINAL_TRY 0x20000,
 *                            CKF_USER_PIN_LOCKED 0x40000, ...).
 *   P11FAULT_PINPAD=PIN      a PIN pad: C_Login with no PIN (NULL, 0) is
 *                            passed on with PIN, as if the user had typed it
 *                            on the reader; C_Login with a PIN aborts the
 *                            process with a "p11fault: " line on stderr (a
 *                            PIN sent to a PIN-pad token is a bug).  Give
 *                            the token the flag with P11FAULT_TOKEN_FLAGS=100
 *                            (CKF_PROTECTED_AUTHENTICATION_PATH).
 *   P11FAULT_SLOW=NAME:MS    every call to NAME waits MS milliseconds first
 *                            (a smartcard taking its time to make a key).
 *   P11FAULT_GATE=NAME:PATH  every call to NAME waits until PATH exists (after
 *                            its log line): a test holds a process at a
 *                            chosen call, sees it there in the log, and lets
 *                            it go when it is ready, with no sleeps.
 *   P11FAULT_BOOL=HEX:0|1    a CK_BBOOL attribute (type HEX: CKA_EXTRACTABLE
 *                            0x162, CKA_LOCAL 0x163, ...) that
 *                            C_GetAttributeValue reports as 0 or 1 whatever
 *                            the object holds: a token that does not honour
 *                            a template, or says it does not.
 *   P11FAULT_MECH=HEX:MIN:MAX C_GetMechanismInfo of mechanism HEX
 *                            (CKM_RSA_PKCS_KEY_PAIR_GEN 0, CKM_EC_KEY_PAIR_GEN
 *                            1040) reports ulMinKeySize MIN and ulMaxKeySize
 *                            MAX (decimal); MAX 0: the token lacks it
 *                            (CKR_MECHANISM_INVALID).
 *   P11FAULT_LIE=NAME[,NAME] a module that lies about counts and lengths:
 *                            slotlist-too-small  C_GetSlotList with a list
 *                              answers CKR_BUFFER_TOO_SMALL, for ever;
 *                            slotlist-count  C_GetSlotList with a list
 *                              reports more slots than the list holds;
 *                            findobjects-count  C_FindObjects reports more
 *                              objects than the buffer holds (when it found
 *                              any);
 *                            findobjects-endless  C_FindObjects never ends:
 *                              a full buffer of the first object, every call;
 *                            attr-length-huge  a size query (pValue NULL)
 *                              of C_GetAttributeValue announces 2^40 bytes;
 *                            attr-length-grow  C_GetAttributeValue reports
 *                              64 bytes more than the buffer it filled, for
 *                              every value but a CK_BBOOL or CK_ULONG;
 *                            sign-length-grow  C_Sign reports 64 bytes more
 *                              than the buffer it filled;
 *                            attr-stop  C_GetAttributeValue gives nothing
 *                              after the first attribute the object lacks
 *                              (a module that stops there).
 *
 * The environment is read once, at the first C_GetFunctionList or
 * C_Initialize.  A bad setting makes C_GetFunctionList / C_Initialize fail
 * with CKR_GENERAL_ERROR and one "p11fault: " line on stderr, so that a
 * test with a typo fails instead of silently testing nothing.
 *
 *   gcc -shared -fPIC -I/usr/include/p11-kit-1 p11fault.c -o p11fault.so -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define P11FAULT_MAX_SPECS 16

struct fault_spec {
	unsigned long n; /* 1-based call number */
	int and_later;   /* N+: every call from n on */
	CK_RV rv;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CK_RV setup_rv = CKR_OK; /* CKR_OK once the setup worked */
static CK_FUNCTION_LIST *real;  /* the real module's list */
static void *real_handle;
static int log_fd = -1;
static struct fault_spec specs[P11FAULT_MAX_SPECS];
static size_t nspecs;
static char fail_func[64]; /* "" counts every call */
static CK_FLAGS token_flags;
static CK_ATTRIBUTE_TYPE bool_type; /* P11FAULT_BOOL, when bool_set */
static CK_BBOOL bool_value;
static int bool_set;
static char slow_func[64]; /* P11FAULT_SLOW, when slow_ms */
static unsigned long slow_ms;
static CK_MECHANISM_TYPE mech_type; /* P11FAULT_MECH, when mech_set */
static CK_ULONG mech_min, mech_max;
static int mech_set;
static char gate_func[64]; /* P11FAULT_GATE, when gate_path */
static char *gate_path;
static unsigned long ncalls; /* calls counted for P11FAULT_FAIL */
static char *count_path;     /* P11FAULT_COUNT: the count in a file, or NULL */
static char *pinpad_pin;     /* P11FAULT_PINPAD, or NULL */

/* P11FAULT_LIE, one bit a lie */
enum {
	LIE_SLOTLIST_TOO_SMALL = 1 << 0,
	LIE_SLOTLIST_COUNT = 1 << 1,
	LIE_FINDOBJECTS_COUNT = 1 << 2,
	LIE_FINDOBJECTS_ENDLESS = 1 << 3,
	LIE_ATTR_LENGTH_HUGE = 1 << 4,
	LIE_ATTR_LENGTH_GROW = 1 << 5,
	LIE_SIGN_LENGTH_GROW = 1 << 6,
	LIE_ATTR_STOP = 1 << 7,
};
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
static unsigned lies;

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

		if (nspecs == P11FAULT_MAX_SPECS)
			return bad_setting("P11FAULT_FAIL='%s': too many specs", v);
		f = &specs[nspecs];
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
		nspecs++;
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
		lies |= lie_names[i].bit;
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
	real_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!real_handle)
		return bad_setting("cannot load P11FAULT_MODULE: %s", dlerror());
	*(void **)(&get) = dlsym(real_handle, "C_GetFunctionList");
	if (!get)
		return bad_setting("P11FAULT_MODULE %s has no C_GetFunctionList", path);
	rv = get(&real);
	if (rv != CKR_OK || !real)
		return bad_setting("C_GetFunctionList of P11FAULT_MODULE %s failed", path);
	return CKR_OK;
}

static void setup(void)
{
	const char *v;
	char *end;

	setup_rv = load_real();
	if (setup_rv != CKR_OK)
		return;
	v = getenv("P11FAULT_LOG");
	if (v && *v) {
		log_fd = open(v, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log_fd < 0) {
			setup_rv = bad_setting("cannot open P11FAULT_LOG %s", v);
			return;
		}
	}
	v = getenv("P11FAULT_FAIL");
	if (v && *v && (setup_rv = parse_fail(v)) != CKR_OK)
		return;
	v = getenv("P11FAULT_COUNT");
	if (v && *v && !(count_path = strdup(v))) {
		setup_rv = bad_setting("out of memory");
		return;
	}
	v = getenv("P11FAULT_FAIL_FUNC");
	if (v && *v) {
		if (strlen(v) >= sizeof(fail_func)) {
			setup_rv = bad_setting("P11FAULT_FAIL_FUNC='%s' is too long", v);
			return;
		}
		strcpy(fail_func, v);
	}
	v = getenv("P11FAULT_TOKEN_FLAGS");
	if (v && *v) {
		errno = 0;
		token_flags = strtoul(v, &end, 16);
		if (errno || *end || end == v) {
			setup_rv = bad_setting("P11FAULT_TOKEN_FLAGS='%s': want hex", v);
			return;
		}
	}
	v = getenv("P11FAULT_PINPAD");
	if (v && *v && !(pinpad_pin = strdup(v))) {
		setup_rv = bad_setting("P11FAULT_PINPAD: out of memory");
		return;
	}
	v = getenv("P11FAULT_SLOW");
	if (v && *v) {
		const char *colon = strchr(v, ':');

		errno = 0;
		slow_ms = colon ? strtoul(colon + 1, &end, 10) : 0;
		if (!colon || colon == v || (size_t)(colon - v) >= sizeof(slow_func) || errno ||
		    end == colon + 1 || *end || slow_ms == 0 || slow_ms > 600000) {
			setup_rv = bad_setting("P11FAULT_SLOW='%s': want NAME:MS (1 to 600000)", v);
			return;
		}
		memcpy(slow_func, v, (size_t)(colon - v));
	}
	v = getenv("P11FAULT_GATE");
	if (v && *v) {
		const char *colon = strchr(v, ':');

		if (!colon || colon == v || (size_t)(colon - v) >= sizeof(gate_func) || !colon[1]) {
			setup_rv = bad_setting("P11FAULT_GATE='%s': want NAME:PATH", v);
			return;
		}
		memcpy(gate_func, v, (size_t)(colon - v));
		gate_path = strdup(colon + 1);
	}
	v = getenv("P11FAULT_BOOL");
	if (v && *v) {
		errno = 0;
		bool_type = strtoul(v, &end, 16);
		if (errno || end == v || *end != ':' || (end[1] != '0' && end[1] != '1') ||
		    end[2]) {
			setup_rv = bad_setting("P11FAULT_BOOL='%s': want HEX:0 or HEX:1", v);
			return;
		}
		bool_value = end[1] == '1' ? CK_TRUE : CK_FALSE;
		bool_set = 1;
	}
	v = getenv("P11FAULT_MECH");
	if (v && *v) {
		char *e2 = NULL, *e3 = NULL;

		errno = 0;
		mech_type = strtoul(v, &end, 16);
		mech_min = end != v && *end == ':' ? strtoul(end + 1, &e2, 10) : 0;
		mech_max = end != v && *end == ':' && *e2 == ':' ? strtoul(e2 + 1, &e3, 10) : 0;
		if (errno || end == v || *end != ':' || e2 == end + 1 || *e2 != ':' ||
		    e3 == e2 + 1 || *e3) {
			setup_rv = bad_setting("P11FAULT_MECH='%s': want HEX:MIN:MAX", v);
			return;
		}
		mech_set = 1;
	}
	v = getenv("P11FAULT_LIE");
	if (v && *v)
		setup_rv = parse_lies(v);
}

static CK_RV ready(void)
{
	pthread_once(&once, setup);
	return setup_rv;
}

/* The next call's number: in this process, or in the P11FAULT_COUNT file (0 if it fails). */
static unsigned long next_call(void)
{
	char buf[32];
	unsigned long n = 0;
	ssize_t r;
	int fd, len;

	if (!count_path)
		return __atomic_add_fetch(&ncalls, 1, __ATOMIC_SEQ_CST);
	fd = open(count_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		fprintf(stderr, "p11fault: P11FAULT_COUNT %s: %s\n", count_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 0;
	}
	r = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[r > 0 ? r : 0] = '\0';
	n = strtoul(buf, NULL, 10) + 1;
	len = snprintf(buf, sizeof(buf), "%lu\n", n);
	if (pwrite(fd, buf, (size_t)len, 0) != len)
		fprintf(stderr, "p11fault: P11FAULT_COUNT %s: %s\n", count_path, strerror(errno));
	close(fd); /* the lock goes with it */
	return n;
}

/*
 * Every call comes here first: log it, count it, and say whether to fail
 * it (1, with *rv) instead of forwarding it (0).
 */
static int intercept(const char *name, CK_RV *rv)
{
	size_t i;

	if (log_fd >= 0) {
		char line[80];
		int n = snprintf(line, sizeof(line), "%s\n", name);

		/* one write per line: O_APPEND keeps lines whole */
		if (n > 0 && write(log_fd, line, (size_t)n) < 0) {
			/* nothing to do: the log is best effort */
		}
	}
	if (!real) {
		*rv = CKR_CRYPTOKI_NOT_INITIALIZED;
		return 1;
	}
	if (slow_ms && strcmp(slow_func, name) == 0) {
		struct timespec ts = { (time_t)(slow_ms / 1000),
			               (long)(slow_ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	if (gate_path && strcmp(gate_func, name) == 0) {
		struct timespec ts = { 0, 20 * 1000000L };

		while (access(gate_path, F_OK) != 0)
			nanosleep(&ts, NULL);
	}
	if (nspecs && (!fail_func[0] || strcmp(fail_func, name) == 0)) {
		unsigned long n = next_call();

		for (i = 0; i < nspecs; i++)
			if (n == specs[i].n || (specs[i].and_later && n > specs[i].n)) {
				*rv = specs[i].rv;
				return 1;
			}
	}
	return 0;
}

/* One forwarder per signature: FWD(name, (params), (args)). */
#define FWD(name, params, args)             \
	static CK_RV w_##name params        \
	{                                   \
		CK_RV rv_;                  \
		if (intercept(#name, &rv_)) \
			return rv_;         \
		return real->name args;     \
	}

static CK_FUNCTION_LIST wrapper_list;

static CK_RV w_C_Initialize(CK_VOID_PTR init_args)
{
	CK_RV rv = ready();

	if (rv != CKR_OK)
		return rv;
	if (intercept("C_Initialize", &rv))
		return rv;
	return real->C_Initialize(init_args);
}

static CK_RV w_C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	CK_RV rv;

	if (intercept("C_GetFunctionList", &rv))
		return rv;
	if (!list)
		return CKR_ARGUMENTS_BAD;
	*list = &wrapper_list;
	return CKR_OK;
}

static CK_RV w_C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CK_RV rv;

	if (intercept("C_GetTokenInfo", &rv))
		return rv;
	rv = real->C_GetTokenInfo(slot, info);
	if (rv == CKR_OK && info)
		info->flags |= token_flags;
	return rv;
}

static CK_RV w_C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                                  CK_MECHANISM_INFO_PTR info)
{
	CK_RV rv;

	if (intercept("C_GetMechanismInfo", &rv))
		return rv;
	if (mech_set && type == mech_type && mech_max == 0)
		return CKR_MECHANISM_INVALID;
	rv = real->C_GetMechanismInfo(slot, type, info);
	if (rv == CKR_OK && info && mech_set && type == mech_type) {
		info->ulMinKeySize = mech_min;
		info->ulMaxKeySize = mech_max;
	}
	return rv;
}

FWD(C_Finalize, (CK_VOID_PTR reserved), (reserved))
FWD(C_GetInfo, (CK_INFO_PTR info), (info))
static CK_RV w_C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	CK_RV rv;

	if (intercept("C_GetSlotList", &rv))
		return rv;
	rv = real->C_GetSlotList(present, list, count);
	if (rv != CKR_OK || !list || !count)
		return rv;
	if (lies & LIE_SLOTLIST_TOO_SMALL) {
		(*count)++;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (lies & LIE_SLOTLIST_COUNT)
		*count += 1000;
	return rv;
}
FWD(C_GetSlotInfo, (CK_SLOT_ID slot, CK_SLOT_INFO_PTR info), (slot, info))
FWD(C_GetMechanismList, (CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count),
    (slot, list, count))
FWD(C_InitToken, (CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG len, CK_UTF8CHAR_PTR label),
    (slot, pin, len, label))
FWD(C_InitPIN, (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR pin, CK_ULONG len), (s, pin, len))
FWD(C_SetPIN,
    (CK_SESSION_HANDLE s, CK_UTF8CHAR_PTR old, CK_ULONG olen, CK_UTF8CHAR_PTR new_, CK_ULONG nlen),
    (s, old, olen, new_, nlen))
FWD(C_OpenSession,
    (CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify, CK_SESSION_HANDLE_PTR s),
    (slot, flags, app, notify, s))
FWD(C_CloseSession, (CK_SESSION_HANDLE s), (s))
FWD(C_CloseAllSessions, (CK_SLOT_ID slot), (slot))
FWD(C_GetSessionInfo, (CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR info), (s, info))
FWD(C_GetOperationState, (CK_SESSION_HANDLE s, CK_BYTE_PTR state, CK_ULONG_PTR len),
    (s, state, len))
FWD(C_SetOperationState,
    (CK_SESSION_HANDLE s, CK_BYTE_PTR state, CK_ULONG len, CK_OBJECT_HANDLE ekey,
     CK_OBJECT_HANDLE akey),
    (s, state, len, ekey, akey))
static CK_RV w_C_Login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	CK_RV rv;

	if (intercept("C_Login", &rv))
		return rv;
	if (!pinpad_pin)
		return real->C_Login(s, user, pin, len);
	if (pin || len) {
		static const char msg[] = "p11fault: P11FAULT_PINPAD: C_Login was given a PIN; "
					  "a PIN-pad token must get none (NULL, 0)\n";

		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* aborting all the same */
		}
		abort();
	}
	/* the user typed it on the pad */
	return real->C_Login(s, user, (CK_UTF8CHAR_PTR)pinpad_pin, strlen(pinpad_pin));
}
FWD(C_Logout, (CK_SESSION_HANDLE s), (s))
FWD(C_CreateObject, (CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR o),
    (s, t, n, o))
FWD(C_CopyObject,
    (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n,
     CK_OBJECT_HANDLE_PTR o2),
    (s, o, t, n, o2))
FWD(C_DestroyObject, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o), (s, o))
FWD(C_GetObjectSize, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ULONG_PTR size), (s, o, size))
static CK_RV w_C_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t,
                                   CK_ULONG n)
{
	CK_RV rv;

	if (intercept("C_GetAttributeValue", &rv))
		return rv;
	rv = real->C_GetAttributeValue(s, o, t, n);
	/* attr-stop: a module that gives nothing after the first attribute the object lacks */
	for (CK_ULONG i = 0, stop = 0; (lies & LIE_ATTR_STOP) && t && i < n; i++) {
		if (stop)
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		stop |= rv == CKR_ATTRIBUTE_TYPE_INVALID &&
		        t[i].ulValueLen == CK_UNAVAILABLE_INFORMATION;
	}
	/* only where the object has the attribute and the caller took its value */
	for (CK_ULONG i = 0; bool_set && t && i < n; i++)
		if (t[i].type == bool_type && t[i].pValue && t[i].ulValueLen == sizeof(CK_BBOOL))
			*(CK_BBOOL *)t[i].pValue = bool_value;
	for (CK_ULONG i = 0; lies && t && i < n; i++) {
		if (t[i].ulValueLen == CK_UNAVAILABLE_INFORMATION)
			continue;
		if ((lies & LIE_ATTR_LENGTH_HUGE) && !t[i].pValue)
			t[i].ulValueLen = (CK_ULONG)1 << 40;
		if ((lies & LIE_ATTR_LENGTH_GROW) && t[i].pValue &&
		    t[i].ulValueLen != sizeof(CK_BBOOL) && t[i].ulValueLen != sizeof(CK_ULONG))
			t[i].ulValueLen += 64;
	}
	return rv;
}
FWD(C_SetAttributeValue, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n),
    (s, o, t, n))
FWD(C_FindObjectsInit, (CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n), (s, t, n))
static CK_OBJECT_HANDLE endless_first; /* findobjects-endless: what it repeats */

static CK_RV w_C_FindObjects(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR o, CK_ULONG max,
                             CK_ULONG_PTR count)
{
	CK_RV rv;

	if (intercept("C_FindObjects", &rv))
		return rv;
	rv = real->C_FindObjects(s, o, max, count);
	if (rv != CKR_OK || !o || !count)
		return rv;
	if ((lies & LIE_FINDOBJECTS_ENDLESS) && max) {
		if (*count)
			endless_first = o[0];
		for (CK_ULONG i = 0; i < max; i++)
			o[i] = endless_first;
		*count = max;
	}
	if ((lies & LIE_FINDOBJECTS_COUNT) && *count)
		*count = max + 1000;
	return rv;
}
FWD(C_FindObjectsFinal, (CK_SESSION_HANDLE s), (s))

/* the five "Init (session, mechanism, key)" calls */
#define FWD_INIT(name) \
	FWD(name, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k), (s, m, k))
/* the "(session, in, inlen, out, outlen*)" calls */
#define FWD_IO(name)                                                               \
	FWD(name,                                                                  \
	    (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inlen, CK_BYTE_PTR out, \
	     CK_ULONG_PTR outlen),                                                 \
	    (s, in, inlen, out, outlen))
/* the "(session, out, outlen*)" final calls */
#define FWD_FINAL(name) \
	FWD(name, (CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG_PTR outlen), (s, out, outlen))
/* the "(session, in, inlen)" update calls */
#define FWD_UPDATE(name) \
	FWD(name, (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inlen), (s, in, inlen))

FWD_INIT(C_EncryptInit)
FWD_IO(C_Encrypt)
FWD_IO(C_EncryptUpdate)
FWD_FINAL(C_EncryptFinal)
FWD_INIT(C_DecryptInit)
FWD_IO(C_Decrypt)
FWD_IO(C_DecryptUpdate)
FWD_FINAL(C_DecryptFinal)
FWD(C_DigestInit, (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m), (s, m))
FWD_IO(C_Digest)
FWD_UPDATE(C_DigestUpdate)
FWD(C_DigestKey, (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k), (s, k))
FWD_FINAL(C_DigestFinal)
FWD_INIT(C_SignInit)

static CK_RV w_C_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inlen, CK_BYTE_PTR out,
                      CK_ULONG_PTR outlen)
{
	CK_ULONG room = outlen ? *outlen : 0;
	CK_RV rv;

	if (intercept("C_Sign", &rv))
		return rv;
	rv = real->C_Sign(s, in, inlen, out, outlen);
	if (rv == CKR_OK && out && outlen && (lies & LIE_SIGN_LENGTH_GROW))
		*outlen = room + 64;
	return rv;
}
FWD_UPDATE(C_SignUpdate)
FWD_FINAL(C_SignFinal)
FWD_INIT(C_SignRecoverInit)
FWD_IO(C_SignRecover)
FWD_INIT(C_VerifyInit)
FWD(C_Verify,
    (CK_SESSION_HANDLE s, CK_BYTE_PTR in, CK_ULONG inlen, CK_BYTE_PTR sig, CK_ULONG siglen),
    (s, in, inlen, sig, siglen))
FWD_UPDATE(C_VerifyUpdate)
FWD(C_VerifyFinal, (CK_SESSION_HANDLE s, CK_BYTE_PTR sig, CK_ULONG siglen), (s, sig, siglen))
FWD_INIT(C_VerifyRecoverInit)
FWD_IO(C_VerifyRecover)
FWD_IO(C_DigestEncryptUpdate)
FWD_IO(C_DecryptDigestUpdate)
FWD_IO(C_SignEncryptUpdate)
FWD_IO(C_DecryptVerifyUpdate)
FWD(C_GenerateKey,
    (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR t, CK_ULONG n,
     CK_OBJECT_HANDLE_PTR k),
    (s, m, t, n, k))
FWD(C_GenerateKeyPair,
    (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pubt, CK_ULONG npub,
     CK_ATTRIBUTE_PTR privt, CK_ULONG npriv, CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv),
    (s, m, pubt, npub, privt, npriv, pub, priv))
FWD(C_WrapKey,
    (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE wk, CK_OBJECT_HANDLE k,
     CK_BYTE_PTR out, CK_ULONG_PTR outlen),
    (s, m, wk, k, out, outlen))
FWD(C_UnwrapKey,
    (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE uk, CK_BYTE_PTR in, CK_ULONG inlen,
     CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR k),
    (s, m, uk, in, inlen, t, n, k))
FWD(C_DeriveKey,
    (CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE bk, CK_ATTRIBUTE_PTR t, CK_ULONG n,
     CK_OBJECT_HANDLE_PTR k),
    (s, m, bk, t, n, k))
FWD(C_SeedRandom, (CK_SESSION_HANDLE s, CK_BYTE_PTR seed, CK_ULONG len), (s, seed, len))
FWD(C_GenerateRandom, (CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG len), (s, out, len))
FWD(C_GetFunctionStatus, (CK_SESSION_HANDLE s), (s))
FWD(C_CancelFunction, (CK_SESSION_HANDLE s), (s))
FWD(C_WaitForSlotEvent, (CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved),
    (flags, slot, reserved))

/* Our list is a 2.40 list whatever the real module reports. */
static CK_FUNCTION_LIST wrapper_list = {
	{ 2, 40 },
#define W(name) .name = w_##name
	W(C_Initialize),
	W(C_Finalize),
	W(C_GetInfo),
	W(C_GetFunctionList),
	W(C_GetSlotList),
	W(C_GetSlotInfo),
	W(C_GetTokenInfo),
	W(C_GetMechanismList),
	W(C_GetMechanismInfo),
	W(C_InitToken),
	W(C_InitPIN),
	W(C_SetPIN),
	W(C_OpenSession),
	W(C_CloseSession),
	W(C_CloseAllSessions),
	W(C_GetSessionInfo),
	W(C_GetOperationState),
	W(C_SetOperationState),
	W(C_Login),
	W(C_Logout),
	W(C_CreateObject),
	W(C_CopyObject),
	W(C_DestroyObject),
	W(C_GetObjectSize),
	W(C_GetAttributeValue),
	W(C_SetAttributeValue),
	W(C_FindObjectsInit),
	W(C_FindObjects),
	W(C_FindObjectsFinal),
	W(C_EncryptInit),
	W(C_Encrypt),
	W(C_EncryptUpdate),
	W(C_EncryptFinal),
	W(C_DecryptInit),
	W(C_Decrypt),
	W(C_DecryptUpdate),
	W(C_DecryptFinal),
	W(C_DigestInit),
	W(C_Digest),
	W(C_DigestUpdate),
	W(C_DigestKey),
	W(C_DigestFinal),
	W(C_SignInit),
	W(C_Sign),
	W(C_SignUpdate),
	W(C_SignFinal),
	W(C_SignRecoverInit),
	W(C_SignRecover),
	W(C_VerifyInit),
	W(C_Verify),
	W(C_VerifyUpdate),
	W(C_VerifyFinal),
	W(C_VerifyRecoverInit),
	W(C_VerifyRecover),
	W(C_DigestEncryptUpdate),
	W(C_DecryptDigestUpdate),
	W(C_SignEncryptUpdate),
	W(C_DecryptVerifyUpdate),
	W(C_GenerateKey),
	W(C_GenerateKeyPair),
	W(C_WrapKey),
	W(C_UnwrapKey),
	W(C_DeriveKey),
	W(C_SeedRandom),
	W(C_GenerateRandom),
	W(C_GetFunctionStatus),
	W(C_CancelFunction),
	W(C_WaitForSlotEvent),
#undef W
};

/* The one exported symbol. */
__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	CK_RV rv = ready();

	if (rv != CKR_OK)
		return rv;
	return w_C_GetFunctionList(list);
}
