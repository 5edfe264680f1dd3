/*
 * token.c - slots and tokens: reading their info, RFC 7512 URIs (through
 * p11-kit's P11KitUri, never by hand), choosing the token to work on, and
 * sessions on it.
 */
#include "config.h"

#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void p11e__slot_clear(p11e_slot *slot)
{
	free(slot->uri);
	memset(slot, 0, sizeof(*slot));
}

/* Back from our unpadded strings to the padded struct P11KitUri matches on. */
static void token_info_of(const p11e_slot *s, CK_TOKEN_INFO *ti)
{
	memset(ti, 0, sizeof(*ti));
	p11e__pad(ti->label, sizeof(ti->label), s->label);
	p11e__pad(ti->manufacturerID, sizeof(ti->manufacturerID), s->manufacturer);
	p11e__pad(ti->model, sizeof(ti->model), s->model);
	p11e__pad(ti->serialNumber, sizeof(ti->serialNumber), s->serial);
	ti->flags = s->token_flags;
}

static void slot_info_of(const p11e_slot *s, CK_SLOT_INFO *si)
{
	memset(si, 0, sizeof(*si));
	p11e__pad(si->slotDescription, sizeof(si->slotDescription), s->slot_description);
	p11e__pad(si->manufacturerID, sizeof(si->manufacturerID), s->slot_manufacturer);
	si->flags = s->slot_flags;
}

static int is_initialized(const p11e_slot *s)
{
	return s->token_present && (s->token_flags & CKF_TOKEN_INITIALIZED);
}

static char *token_uri(const p11e_slot *s)
{
	P11KitUri *uri = p11_kit_uri_new();
	int flags = P11_KIT_URI_FOR_TOKEN;
	char *out = NULL;

	if (!uri)
		return NULL;
	/* an uninitialised token has no label or serial to tell it apart */
	if (!is_initialized(s)) {
		p11_kit_uri_set_slot_id(uri, s->slot_id);
		flags = P11_KIT_URI_FOR_SLOT;
	} else {
		token_info_of(s, p11_kit_uri_get_token_info(uri));
	}
	if (p11_kit_uri_format(uri, flags, &out) != P11_KIT_URI_OK)
		out = NULL;
	p11_kit_uri_free(uri);
	return out;
}

p11e_status p11e__slot_read(p11e_ctx *ctx, CK_SLOT_ID id, p11e_slot *out)
{
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	memset(out, 0, sizeof(*out));
	out->slot_id = id;
	rv = P11_CALL(ctx, C_GetSlotInfo, id, &si);
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "reading the slot", "C_GetSlotInfo", rv);
	p11e__unpad(out->slot_description, sizeof(out->slot_description), si.slotDescription,
	            sizeof(si.slotDescription));
	p11e__unpad(out->slot_manufacturer, sizeof(out->slot_manufacturer), si.manufacturerID,
	            sizeof(si.manufacturerID));
	out->slot_flags = si.flags;
	out->free_public_memory = out->total_public_memory = P11E_UNAVAILABLE;
	out->free_private_memory = out->total_private_memory = P11E_UNAVAILABLE;
	if (!(si.flags & CKF_TOKEN_PRESENT))
		return P11E_OK;

	rv = P11_CALL(ctx, C_GetTokenInfo, id, &ti);
	if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_TOKEN_NOT_RECOGNIZED)
		return P11E_OK; /* removed between the two calls, or unreadable */
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "reading the token", "C_GetTokenInfo", rv);
	out->token_present = 1;
	p11e__unpad(out->label, sizeof(out->label), ti.label, sizeof(ti.label));
	p11e__unpad(out->manufacturer, sizeof(out->manufacturer), ti.manufacturerID,
	            sizeof(ti.manufacturerID));
	p11e__unpad(out->model, sizeof(out->model), ti.model, sizeof(ti.model));
	p11e__unpad(out->serial, sizeof(out->serial), ti.serialNumber, sizeof(ti.serialNumber));
	out->token_flags = ti.flags;
	out->free_public_memory = ti.ulFreePublicMemory;
	out->total_public_memory = ti.ulTotalPublicMemory;
	out->free_private_memory = ti.ulFreePrivateMemory;
	out->total_private_memory = ti.ulTotalPrivateMemory;
	out->min_pin_len = ti.ulMinPinLen;
	out->max_pin_len = ti.ulMaxPinLen;
	out->uri = token_uri(out);
	if (!out->uri)
		return p11e__fail(ctx, P11E_ERR_FAILED, "cannot format the token URI");
	return P11E_OK;
}

p11e_status p11e_slot_list(p11e_ctx *ctx, p11e_slot **list, size_t *count)
{
	CK_SLOT_ID *ids = NULL;
	CK_ULONG n = 0, i;
	p11e_slot *out = NULL;
	p11e_status st = P11E_ERR_FAILED;
	CK_RV rv;

	p11e__clear_error(ctx);
	*list = NULL;
	*count = 0;
	if (!ctx->fl)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no PKCS#11 module is loaded");

	/* the slot count may change between the two calls (hotplug) */
	for (;;) {
		rv = P11_CALL(ctx, C_GetSlotList, CK_FALSE, NULL, &n);
		if (rv != CKR_OK)
			return p11e__fail_rv(ctx, "listing slots", "C_GetSlotList", rv);
		free(ids);
		ids = calloc(n ? n : 1, sizeof(*ids));
		if (!ids)
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		rv = P11_CALL(ctx, C_GetSlotList, CK_FALSE, ids, &n);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK) {
		st = p11e__fail_rv(ctx, "listing slots", "C_GetSlotList", rv);
		goto cleanup;
	}
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < n; i++) {
		st = p11e__slot_read(ctx, ids[i], &out[i]);
		if (st != P11E_OK) {
			p11e_slot_list_free(out, i + 1);
			out = NULL;
			goto cleanup;
		}
	}
	*list = out;
	*count = n;
	st = P11E_OK;
cleanup:
	free(ids);
	return st;
}

void p11e_slot_list_free(p11e_slot *list, size_t count)
{
	for (size_t i = 0; list && i < count; i++)
		free(list[i].uri);
	free(list);
}

/* "'alpha' (slot 1), uninitialised (slot 2)" for error messages. */
static void describe_tokens(const p11e_slot *slots, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w;

		if (!slots[i].token_present)
			continue;
		if (is_initialized(&slots[i]))
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
	case P11E__MATCH_INITIALIZED: return is_initialized(s);
	case P11E__MATCH_UNINITIALIZED: return !is_initialized(s);
	default: return 1;
	}
}

p11e_status p11e__uri_parse(p11e_ctx *ctx, const char *spec, const char *what, P11KitUri **out)
{
	P11KitUri *uri = p11_kit_uri_new();
	int rc;

	*out = NULL;
	if (!uri)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	rc = p11_kit_uri_parse(spec, P11_KIT_URI_FOR_ANY, uri);
	if (rc != P11_KIT_URI_OK) {
		p11_kit_uri_free(uri);
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "bad %s URI: %s: give an RFC 7512 pkcs11: URI as p11enroll prints "
		                  "it, or a label",
		                  what, p11_kit_uri_message(rc));
	}
	*out = uri;
	return P11E_OK;
}

static int uri_matches(P11KitUri *uri, const p11e_slot *s)
{
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	CK_SLOT_ID want = p11_kit_uri_get_slot_id(uri);

	if (want != (CK_SLOT_ID)-1 && want != s->slot_id)
		return 0;
	token_info_of(s, &ti);
	slot_info_of(s, &si);
	return p11_kit_uri_match_token_info(uri, &ti) && p11_kit_uri_match_slot_info(uri, &si);
}

p11e_status p11e__token_match(p11e_ctx *ctx, const char *spec, const p11e_slot *slots,
                              size_t n, int mode, size_t *found)
{
	P11KitUri *uri = NULL;
	size_t matches = 0, i;
	char list[384];
	p11e_status st;

	/* "" would pick a token whose label is blank: an uninitialised one */
	if (spec && !*spec)
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "an empty --token: give a token label or a pkcs11: URI from "
		                  "'p11enroll tokens'");
	if (spec && strncmp(spec, "pkcs11:", 7) == 0 &&
	    (st = p11e__uri_parse(ctx, spec, "token", &uri)) != P11E_OK)
		return st;
	for (i = 0; i < n; i++) {
		if (!admits(mode, &slots[i]))
			continue;
		if (uri ? !uri_matches(uri, &slots[i])
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
		return p11e__fail(ctx, P11E_ERR_NOT_FOUND,
		                  "%s%s%s matches %zu tokens (%s): choose one with --token and its "
		                  "pkcs11: URI from 'p11enroll tokens'",
		                  spec ? "'" : "", spec ? spec : "more than one token",
		                  spec ? "'" : "", matches, list);
	if (spec)
		return p11e__fail(ctx, P11E_ERR_NOT_FOUND,
		                  "no %stoken matches '%s' (present: %s): check --token",
		                  mode == P11E__MATCH_UNINITIALIZED ? "uninitialised " : "", spec,
		                  list);
	return p11e__fail(ctx, P11E_ERR_NOT_FOUND, "no %s token found (present: %s): %s",
	                  mode == P11E__MATCH_UNINITIALIZED ? "uninitialised" : "initialised",
	                  list,
	                  mode == P11E__MATCH_UNINITIALIZED
	                      ? "choose one with --slot or --token"
	                      : "initialise one with 'p11enroll init-token' or choose one with --token");
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
			p11e__fail(ctx, st, "no slot %ld: list the slots with 'p11enroll tokens'",
			           slot_id);
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
		if (is_initialized(&slots[i]) && strcmp(slots[i].label, label) == 0 && hits++ == 0)
			*at = i;
	}
	if (hits > 1)
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "%zu tokens are labelled '%s' already: choose one with --token or "
		                  "--slot, or another label",
		                  hits, label);
	if (hits == 1 && (slots[*at].token_flags & CKF_USER_PIN_INITIALIZED))
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "token '%s' in slot %lu is already initialised and has its user "
		                  "PIN: use it, or erase it with --slot %lu --reinitialize",
		                  label, slots[*at].slot_id, slots[*at].slot_id);
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

p11e_status p11e__slot_refresh(p11e_ctx *ctx)
{
	p11e_slot fresh;
	p11e_status st;

	st = p11e__slot_read(ctx, ctx->slot.slot_id, &fresh);
	if (st != P11E_OK) {
		p11e__slot_clear(&fresh);
		return st;
	}
	if (!fresh.token_present) {
		p11e__slot_clear(&fresh);
		return p11e__fail(ctx, P11E_ERR_NOT_FOUND,
		                  "the token in slot %lu is gone: insert it and try again",
		                  ctx->slot.slot_id);
	}
	p11e__slot_clear(&ctx->slot);
	ctx->slot = fresh;
	return P11E_OK;
}

p11e_status p11e__session_open(p11e_ctx *ctx, int rw)
{
	CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	CK_RV rv;

	if (ctx->have_session)
		return P11E_OK;
	if (!ctx->have_slot)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no token selected");
	rv = P11_CALL(ctx, C_OpenSession, ctx->slot.slot_id, flags, NULL, NULL, &ctx->session);
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "opening a session", "C_OpenSession", rv);
	ctx->have_session = 1;
	return P11E_OK;
}

void p11e__session_close(p11e_ctx *ctx)
{
	if (!ctx->have_session)
		return;
	if (ctx->logged_in)
		P11_CALL(ctx, C_Logout, ctx->session);
	P11_CALL(ctx, C_CloseSession, ctx->session);
	ctx->have_session = 0;
	ctx->logged_in = 0;
}
