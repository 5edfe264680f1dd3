/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11fault.h - the settings of the fault-injecting module: what
 * p11fault-setup.c reads from the environment (the variables are described
 * at the top of p11fault.c), for the forwarders in p11fault.c.
 */
#ifndef P11FAULT_H
#define P11FAULT_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

#define P11FAULT_MAX_SPECS 16

/* one P11FAULT_FAIL spec */
struct fault_spec {
	unsigned long n; /* 1-based call number */
	int and_later;   /* N+: every call from n on */
	CK_RV rv;
};

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

struct p11fault {
	CK_RV setup_rv;         /* CKR_OK once the setup worked */
	CK_FUNCTION_LIST *real; /* the real module's list */
	void *real_handle;
	int log_fd; /* P11FAULT_LOG, or -1 */
	struct fault_spec specs[P11FAULT_MAX_SPECS];
	size_t nspecs;
	char fail_func[64]; /* "" counts every call */
	CK_FLAGS token_flags;
	CK_ATTRIBUTE_TYPE bool_type; /* P11FAULT_BOOL, when bool_set */
	CK_BBOOL bool_value;
	int bool_set;
	char slow_func[64]; /* P11FAULT_SLOW, when slow_ms */
	unsigned long slow_ms;
	CK_MECHANISM_TYPE mech_type; /* P11FAULT_MECH, when mech_set */
	CK_ULONG mech_min, mech_max;
	int mech_set;
	char gate_func[64]; /* P11FAULT_GATE, when gate_path */
	char *gate_path;
	char *count_path; /* P11FAULT_COUNT: the count in a file, or NULL */
	char *pinpad_pin; /* P11FAULT_PINPAD, or NULL */
	unsigned lies;    /* P11FAULT_LIE: LIE_ bits */
};

/* the settings (hidden: the module exports C_GetFunctionList only) */
extern struct p11fault pf;

/*
 * Load the real module and read the environment into pf, once (under
 * pthread_once); a bad setting leaves pf.setup_rv CKR_GENERAL_ERROR and
 * one "p11fault: " line on stderr.
 */
void p11fault_setup(void);

#endif
