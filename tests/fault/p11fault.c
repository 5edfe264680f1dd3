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
 * The settings are read by p11fault-setup.c (p11fault.h); this file
 * counts, logs and forwards the calls.
 *
 *   gcc -shared -fPIC -fvisibility=hidden -I/usr/include/p11-kit-1 \
 *       p11fault.c p11fault-setup.c -o p11fault.so -ldl
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "p11fault.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static unsigned long ncalls; /* calls counted for P11FAULT_FAIL */

static CK_RV ready(void)
{
	pthread_once(&once, p11fault_setup);
	return pf.setup_rv;
}

/* The next call's number: in this process, or in the P11FAULT_COUNT file (0 if it fails). */
static unsigned long next_call(void)
{
	char buf[32];
	unsigned long n = 0;
	ssize_t r;
	int fd, len;

	if (!pf.count_path)
		return __atomic_add_fetch(&ncalls, 1, __ATOMIC_SEQ_CST);
	fd = open(pf.count_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		fprintf(stderr, "p11fault: P11FAULT_COUNT %s: %s\n", pf.count_path,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return 0;
	}
	r = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[r > 0 ? r : 0] = '\0';
	n = strtoul(buf, NULL, 10) + 1;
	len = snprintf(buf, sizeof(buf), "%lu\n", n);
	if (pwrite(fd, buf, (size_t)len, 0) != len)
		fprintf(stderr, "p11fault: P11FAULT_COUNT %s: %s\n", pf.count_path,
		        strerror(errno));
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

	if (pf.log_fd >= 0) {
		char line[80];
		int n = snprintf(line, sizeof(line), "%s\n", name);

		/* one write per line: O_APPEND keeps lines whole */
		if (n > 0 && write(pf.log_fd, line, (size_t)n) < 0) {
			/* nothing to do: the log is best effort */
		}
	}
	if (!pf.real) {
		*rv = CKR_CRYPTOKI_NOT_INITIALIZED;
		return 1;
	}
	if (pf.slow_ms && strcmp(pf.slow_func, name) == 0) {
		struct timespec ts = { (time_t)(pf.slow_ms / 1000),
			               (long)(pf.slow_ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	if (pf.gate_path && strcmp(pf.gate_func, name) == 0) {
		struct timespec ts = { 0, 20 * 1000000L };

		while (access(pf.gate_path, F_OK) != 0)
			nanosleep(&ts, NULL);
	}
	if (pf.nspecs && (!pf.fail_func[0] || strcmp(pf.fail_func, name) == 0)) {
		unsigned long n = next_call();

		for (i = 0; i < pf.nspecs; i++)
			if (n == pf.specs[i].n || (pf.specs[i].and_later && n > pf.specs[i].n)) {
				*rv = pf.specs[i].rv;
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
		return pf.real->name args;  \
	}

static CK_FUNCTION_LIST wrapper_list;

static CK_RV w_C_Initialize(CK_VOID_PTR init_args)
{
	CK_RV rv = ready();

	if (rv != CKR_OK)
		return rv;
	if (intercept("C_Initialize", &rv))
		return rv;
	return pf.real->C_Initialize(init_args);
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
	rv = pf.real->C_GetTokenInfo(slot, info);
	if (rv == CKR_OK && info)
		info->flags |= pf.token_flags;
	return rv;
}

static CK_RV w_C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                                  CK_MECHANISM_INFO_PTR info)
{
	CK_RV rv;

	if (intercept("C_GetMechanismInfo", &rv))
		return rv;
	if (pf.mech_set && type == pf.mech_type && pf.mech_max == 0)
		return CKR_MECHANISM_INVALID;
	rv = pf.real->C_GetMechanismInfo(slot, type, info);
	if (rv == CKR_OK && info && pf.mech_set && type == pf.mech_type) {
		info->ulMinKeySize = pf.mech_min;
		info->ulMaxKeySize = pf.mech_max;
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
	rv = pf.real->C_GetSlotList(present, list, count);
	if (rv != CKR_OK || !list || !count)
		return rv;
	if (pf.lies & LIE_SLOTLIST_TOO_SMALL) {
		(*count)++;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (pf.lies & LIE_SLOTLIST_COUNT)
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
	if (!pf.pinpad_pin)
		return pf.real->C_Login(s, user, pin, len);
	if (pin || len) {
		static const char msg[] = "p11fault: P11FAULT_PINPAD: C_Login was given a PIN; "
					  "a PIN-pad token must get none (NULL, 0)\n";

		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* aborting all the same */
		}
		abort();
	}
	/* the user typed it on the pad */
	return pf.real->C_Login(s, user, (CK_UTF8CHAR_PTR)pf.pinpad_pin, strlen(pf.pinpad_pin));
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
	rv = pf.real->C_GetAttributeValue(s, o, t, n);
	/* attr-stop: a module that gives nothing after the first attribute the object lacks */
	for (CK_ULONG i = 0, stop = 0; (pf.lies & LIE_ATTR_STOP) && t && i < n; i++) {
		if (stop)
			t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		stop |= rv == CKR_ATTRIBUTE_TYPE_INVALID &&
		        t[i].ulValueLen == CK_UNAVAILABLE_INFORMATION;
	}
	/* only where the object has the attribute and the caller took its value */
	for (CK_ULONG i = 0; pf.bool_set && t && i < n; i++)
		if (t[i].type == pf.bool_type && t[i].pValue && t[i].ulValueLen == sizeof(CK_BBOOL))
			*(CK_BBOOL *)t[i].pValue = pf.bool_value;
	for (CK_ULONG i = 0; pf.lies && t && i < n; i++) {
		if (t[i].ulValueLen == CK_UNAVAILABLE_INFORMATION)
			continue;
		if ((pf.lies & LIE_ATTR_LENGTH_HUGE) && !t[i].pValue)
			t[i].ulValueLen = (CK_ULONG)1 << 40;
		if ((pf.lies & LIE_ATTR_LENGTH_GROW) && t[i].pValue &&
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
	rv = pf.real->C_FindObjects(s, o, max, count);
	if (rv != CKR_OK || !o || !count)
		return rv;
	if ((pf.lies & LIE_FINDOBJECTS_ENDLESS) && max) {
		if (*count)
			endless_first = o[0];
		for (CK_ULONG i = 0; i < max; i++)
			o[i] = endless_first;
		*count = max;
	}
	if ((pf.lies & LIE_FINDOBJECTS_COUNT) && *count)
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
	rv = pf.real->C_Sign(s, in, inlen, out, outlen);
	if (rv == CKR_OK && out && outlen && (pf.lies & LIE_SIGN_LENGTH_GROW))
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
