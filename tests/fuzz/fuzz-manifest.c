/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-manifest.c - libFuzzer target for the manifest parser
 * (p11e_manifest_parse, manifest.c, through datafile.c): any bytes must give
 * P11E_OK with a usable manifest, or P11E_ERR_INPUT with a message naming
 * the file, never a crash, a leak or a read outside the buffer.
 *
 * Built by 'make fuzz' (Makefile.am) with the library sources; seeds in
 * tests/fuzz/corpus/fuzz-manifest/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static p11e_ctx *ctx;
	p11e_manifest *m = NULL;
	const p11e_manifest_token *toks;
	const p11e_identity *ids;
	size_t nt, ni;
	p11e_status st;

	if (!ctx && !(ctx = p11e_ctx_new()))
		abort();
	st = p11e_manifest_parse(ctx, "fuzz.conf", data, size, &m);
	switch (st) {
	case P11E_OK:
		/* every identity is on a token of the file, with what apply needs */
		toks = p11e_manifest_tokens(m, &nt);
		ids = p11e_manifest_identities(m, &ni);
		if (ni == 0)
			abort();
		for (size_t i = 0; i < ni; i++) {
			size_t t;
			p11e_req *req = NULL;

			for (t = 0; t < nt && strcmp(toks[t].name, ids[i].token) != 0; t++)
				;
			if (t == nt || !ids[i].label[0] || !ids[i].outbox ||
			    (!ids[i].subject && !ids[i].config) || ids[i].renew_days > 3650 ||
			    (ids[i].hook && ids[i].hook[0] != '/'))
				abort();
			for (size_t e = 0; e < ids[i].next; e++)
				if (!strchr(ids[i].ext[e], '='))
					abort();
			if (p11e_identity_req(ctx, &ids[i], &req) == P11E_OK)
				p11e_req_free(req);
		}
		for (size_t t = 0; t < nt; t++)
			if (!toks[t].uri == !toks[t].label)
				abort();
		p11e_manifest_free(m);
		break;
	case P11E_ERR_INPUT:
		if (m || !strstr(p11e_error_message(ctx), "fuzz.conf"))
			abort();
		break;
	default:
		if (st != P11E_ERR_FAILED)
			abort();
		break;
	}
	return 0;
}
