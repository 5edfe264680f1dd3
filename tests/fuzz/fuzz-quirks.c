/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-quirks.c - libFuzzer target for the token quirk file parser
 * (p11e__quirks_parse_mem): any bytes must give P11E_OK or P11E_ERR_INPUT
 * with a message, never a crash, a leak or a read outside the buffer.
 *
 * Built by 'make fuzz' (Makefile.am) with the library sources; seeds in
 * tests/fuzz/corpus/fuzz-quirks/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* one context for the whole run, as one p11enroll run has */
	static p11e_ctx *ctx;
	struct p11e__quirks q;
	p11e_status st;

	if (!ctx && !(ctx = p11e_ctx_new()))
		abort();
	st = p11e__quirks_parse_mem(ctx, "fuzz.conf", data, size, &q);
	switch (st) {
	case P11E_OK:
		/* what the parser accepted is usable as it stands */
		if (!memchr(q.manufacturer, '\0', sizeof(q.manufacturer)) ||
		    !memchr(q.model, '\0', sizeof(q.model)) || !q.manufacturer[0] || !q.model[0] ||
		    (q.max_rsa_bits && (q.max_rsa_bits < 1024 || q.max_rsa_bits > 16384)) ||
		    (q.min_rsa_bits && q.max_rsa_bits && q.min_rsa_bits > q.max_rsa_bits))
			abort();
		(void)p11e__quirks_match(&q, "SoftHSM project", "SoftHSM v2");
		break;
	case P11E_ERR_INPUT:
		/* a refusal always says what is wrong, and with which file */
		if (!strstr(p11e_error_message(ctx), "fuzz.conf"))
			abort();
		break;
	default:
		/* P11E_ERR_FAILED is out of memory; anything else is a bug */
		if (st != P11E_ERR_FAILED)
			abort();
		break;
	}
	return 0;
}
