/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-manifest.c - libFuzzer target for the manifest parser
 * (p11e_manifest_parse, manifest.c, through datafile.c) and its station
 * recipe variant (p11e_recipe_parse): any bytes must give P11E_OK with a
 * usable manifest (recipe), or P11E_ERR_INPUT with a message naming the
 * file, never a crash, a leak or a read outside the buffer.
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

/* The same bytes as a station recipe: a [station] that station can use. */
static void recipe(p11e_ctx *ctx, const uint8_t *data, size_t size)
{
	p11e_manifest *m = NULL;
	const p11e_station *s;
	const p11e_identity *ids;
	size_t nt, ni;
	p11e_status st = p11e_recipe_parse(ctx, "fuzz.recipe", data, size, &m);

	if (st == P11E_OK) {
		s = p11e_manifest_station(m);
		ids = p11e_manifest_identities(m, &ni);
		p11e_manifest_tokens(m, &nt);
		if (!s || nt != 0 || ni == 0 || (s->init && !s->label) ||
		    (s->label && (!s->label[0] || strlen(s->label) > 32)) ||
		    (s->token == P11E_STATION_TOKEN_URI) != (s->uri != NULL) ||
		    (s->pin && s->pin[0] != 'e' && s->pin[0] != 'f'))
			abort();
		for (size_t i = 0; i < ni; i++)
			if (!ids[i].label[0] || !ids[i].outbox ||
			    (!ids[i].subject && !ids[i].config))
				abort();
		p11e_manifest_free(m);
	} else if (st == P11E_ERR_INPUT) {
		if (m || !strstr(p11e_error_message(ctx), "fuzz.recipe"))
			abort();
	} else if (st != P11E_ERR_FAILED) {
		abort();
	}
}

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
			/* a CA: cmp or est, an EST server trusted somehow, no inline secret */
			if ((ids[i].cmp && ids[i].est) ||
			    (ids[i].est && !ids[i].ca_trust && !ids[i].ca_fingerprint) ||
			    (!ids[i].cmp_ref != !ids[i].cmp_secret) ||
			    (ids[i].cmp_secret && strncmp(ids[i].cmp_secret, "pass:", 5) == 0) ||
			    (ids[i].auth_password &&
			     strncmp(ids[i].auth_password, "pass:", 5) == 0) ||
			    ids[i].ca_timeout < 0 || ids[i].ca_timeout > 3600)
				abort();
			if (t == nt || !ids[i].label[0] ||
			    (!ids[i].outbox && !ids[i].cmp && !ids[i].est) ||
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
	recipe(ctx, data, size);
	return 0;
}
