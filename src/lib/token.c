/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * token.c - choosing the token to work on: by URI or label among the slots'
 * tokens, the only initialised one, or one to initialise; and keeping the
 * choice (its URI's PIN attributes, its quirks) in the context.
 */
#include "config.h"

#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* "'alpha' (slot 1), uninitialised (slot 2)" for error messages. */
static void describe_tokens(const p11e_slot *slots, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w;

		if (!slots[i].token_present)
			continue;
		if (p11e__slot_initialized(&slots[i]))
			w = snprintf(buf + used, len - used, "%s'%s' (slot %lu)", used ? ", " : "",
			             slots[i].label, slots[i].slot_id);
		else
			w = snprintf(buf + used, len - used, "%suninitialised (slot %lu)",
			             used ? ", " : "", slots[i].slot_id);
		if (w < 0 || (size_t)w >= len - used) {
			snprintf(buf + (len > 5 ? len - 5 : 0), len > 5 ? 5 : len, "...");
			return;
		}
		used += (size_t)w;
	}
	if (!used)
		snprintf(buf, len, "no tokens at all");
}

static int admits(int mode, const p11e_slot *s)
{
	if (!s->token_present)
		return 0;
	switch (mode) {
	case P11E__MATCH_INITIALIZED: return p11e__slot_initialized(s);
	case P11E__MATCH_UNINITIALIZED: return !p11e__slot_initialized(s);
	default: return 1;
	}
}

p11e_status p11e__token_match(p11e_ctx *ctx, const char *spec, const p11e_slot *slots, size_t n,
                              int mode, size_t *found)
{
	P11KitUri *uri = NULL;
	size_t matches = 0, i;
	char list[384];
	p11e_status st;

	/* "" would pick a token whose label is blank: an uninitialised one */
	if (spec && !*spec)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_TOKEN_SPEC_EMPTY,
		                      "an empty token label or URI");
	if (spec && strncmp(spec, "pkcs11:", 7) == 0 &&
	    (st = p11e__uri_parse(ctx, spec, "token", &uri)) != P11E_OK)
		return st;
	for (i = 0; i < n; i++) {
		if (!admits(mode, &slots[i]))
			continue;
		if (uri ? !p11e__uri_matches_slot(uri, &slots[i])
		        : (spec && strcmp(spec, slots[i].label) != 0))
			continue;
		if (matches++ == 0)
			*found = i;
	}
	p11_kit_uri_free(uri);
	if (matches == 1)
		return P11E_OK;

	describe_tokens(slots, n, list, sizeof(list));
	if (matches > 1)
		return p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_TOKEN_AMBIGUOUS,
		                      "%s%s%s matches %zu tokens (%s)", spec ? "'" : "",
		                      spec ? spec : "more than one token", spec ? "'" : "", matches,
		                      list);
	if (spec)
		return p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_TOKEN_NOT_FOUND,
		                      "no %stoken matches '%s' (present: %s)",
		                      mode == P11E__MATCH_UNINITIALIZED ? "uninitialised " : "",
		                      spec, list);
	return p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_TOKEN_NONE,
	                      "no %s token found (present: %s)",
	                      mode == P11E__MATCH_UNINITIALIZED ? "uninitialised" : "initialised",
	                      list);
}

/* Keep the chosen slot, and the URI's PIN attributes for p11e_pin_read. */
static p11e_status keep_selection(p11e_ctx *ctx, p11e_slot *chosen, const char *spec)
{
	P11KitUri *uri;
	p11e_status st;

	p11e__session_close(ctx);
	p11e__slot_clear(&ctx->slot);
	ctx->slot = *chosen;
	chosen->uri = NULL; /* moved */
	ctx->have_slot = 1;
	/* a malformed quirk file fails the selection: no token runs without its quirks */
	if ((st = p11e__quirks_select(ctx)) != P11E_OK)
		return st;
	p11e__free_secret(ctx->uri_pin_value);
	free(ctx->uri_pin_source);
	ctx->uri_pin_value = ctx->uri_pin_source = NULL;
	if (!spec || strncmp(spec, "pkcs11:", 7) != 0)
		return P11E_OK;
	/* it parsed a moment ago in p11e__token_match */
	if (p11e__uri_parse(ctx, spec, "token", &uri) != P11E_OK)
		return P11E_ERR_FAILED;
	if (p11_kit_uri_get_pin_value(uri))
		ctx->uri_pin_value = strdup(p11_kit_uri_get_pin_value(uri));
	if (p11_kit_uri_get_pin_source(uri))
		ctx->uri_pin_source = strdup(p11_kit_uri_get_pin_source(uri));
	/* p11-kit keeps its own copy of pin-value; it frees without wiping */
	p11_kit_uri_free(uri);
	return P11E_OK;
}

static p11e_status select_mode(p11e_ctx *ctx, const char *spec, long slot_id, int mode)
{
	p11e_slot *slots = NULL;
	size_t n = 0, found = 0, i;
	p11e_status st;

	st = p11e_slot_list(ctx, &slots, &n);
	if (st != P11E_OK)
		return st;
	if (slot_id >= 0) {
		st = P11E_ERR_NOT_FOUND;
		for (i = 0; i < n; i++) {
			if (slots[i].slot_id == (unsigned long)slot_id) {
				found = i;
				st = P11E_OK;
			}
		}
		if (st != P11E_OK)
			p11e__fail_why(ctx, st, P11E_REASON_SLOT_NOT_FOUND, "no slot %ld", slot_id);
		else if (!slots[found].token_present)
			st = p11e__fail(ctx, P11E_ERR_NOT_FOUND,
			                "slot %ld has no token: insert one and try again", slot_id);
	} else {
		st = p11e__token_match(ctx, spec, slots, n, mode, &found);
	}
	if (st == P11E_OK)
		st = keep_selection(ctx, &slots[found], spec);
	p11e_slot_list_free(slots, n);
	return st;
}

p11e_status p11e_token_select(p11e_ctx *ctx, const char *spec)
{
	p11e__clear_error(ctx);
	return select_mode(ctx, spec, -1, spec ? P11E__MATCH_ANY : P11E__MATCH_INITIALIZED);
}

/* An initialised token already labelled 'label': 1 found (in *at), 0 none, or an error. */
static p11e_status labelled(p11e_ctx *ctx, const char *label, p11e_slot *slots, size_t n,
                            size_t *at, int *found)
{
	size_t hits = 0;

	*found = 0;
	for (size_t i = 0; i < n; i++) {
		if (p11e__slot_initialized(&slots[i]) && strcmp(slots[i].label, label) == 0 &&
		    hits++ == 0)
			*at = i;
	}
	if (hits > 1)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_TOKEN_LABEL_TAKEN,
		                      "%zu tokens are labelled '%s' already", hits, label);
	if (hits == 1 && (slots[*at].token_flags & CKF_USER_PIN_INITIALIZED))
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_TOKEN_IN_USE,
		                      "token '%s' in slot %lu is already initialised and has its "
		                      "user PIN",
		                      label, slots[*at].slot_id);
	*found = hits == 1;
	return P11E_OK;
}

p11e_status p11e_token_select_for_init(p11e_ctx *ctx, const char *spec, long slot_id,
                                       const char *label)
{
	p11e_slot *slots = NULL;
	size_t n = 0, at = 0;
	int found = 0;
	p11e_status st;

	p11e__clear_error(ctx);
	if (spec || slot_id >= 0 || !label)
		return select_mode(ctx, spec, slot_id,
		                   spec ? P11E__MATCH_ANY : P11E__MATCH_UNINITIALIZED);
	st = p11e_slot_list(ctx, &slots, &n);
	if (st == P11E_OK)
		st = labelled(ctx, label, slots, n, &at, &found);
	if (st == P11E_OK && found)
		st = keep_selection(ctx, &slots[at], NULL);
	p11e_slot_list_free(slots, n);
	if (st != P11E_OK || found)
		return st;
	return select_mode(ctx, NULL, -1, P11E__MATCH_UNINITIALIZED);
}

const p11e_slot *p11e_token_selected(const p11e_ctx *ctx)
{
	return ctx->have_slot ? &ctx->slot : NULL;
}
