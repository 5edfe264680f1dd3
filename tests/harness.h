/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * harness.h - a fresh SoftHSMv2 token directory per suite, with its own
 * SOFTHSM2_CONF: the system token directory is never touched.
 */
#ifndef P11ENROLL_TEST_HARNESS_H
#define P11ENROLL_TEST_HARNESS_H

#include <stddef.h>

#include "p11enroll.h"

/* Create the directory and conf, export SOFTHSM2_CONF; 0 on success. */
int harness_softhsm_setup(void);
/*
 * harness_softhsm_setup, then a context on it with the SoftHSMv2 module, its
 * free token initialised as label (SO and user PIN given) and the user
 * logged in: what a suite of key and certificate tests starts from.  NULL
 * if any step failed.
 */
p11e_ctx *harness_token_ready(const char *label, const char *so_pin, const char *user_pin);
/* Remove the directory. */
void harness_softhsm_teardown(void);
/* The SoftHSMv2 module path ($SOFTHSM_MODULE or the Debian default). */
const char *harness_softhsm_module(void);
const char *harness_dir(void);

/* Log lines the library sent, all joined, for checking that no PIN leaks. */
void harness_log(void *data, p11e_log_level level, const char *msg);
const char *harness_log_text(void);
void harness_log_reset(void);

/* Run the registered CUnit suites, print their summary; 0 if all passed. */
int harness_run(void);

#endif
