/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slots.c - slots and the tokens in them, as the module reports them: read
 * into p11e_slot (strings unpadded, the token's RFC 7512 URI formatted by
 * p11-kit), listed, and read again when a flag may have changed.
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
void p11e__slot_token_info(const p11e_slot *s, CK_TOKEN_INFO *ti)
{
	memset(ti, 0, sizeof(*ti));
	p11e__pad(ti->label, sizeof(ti->label), s->label);
	p11e__pad(ti->manufacturerID, sizeof(ti->manufacturerID), s->manufacturer);
	p11e__pad(ti->model, sizeof(ti->model), s->model);
	p11e__pad(ti->serialNumber, sizeof(ti->serialNumber), s->serial);
	ti->flags = s->token_flags;
}

void p11e__slot_info(const p11e_slot *s, CK_SLOT_INFO *si)
{
	memset(si, 0, sizeof(*si));
	p11e__pad(si->slotDescription, sizeof(si->slotDescription), s->slot_description);
	p11e__pad(si->manufacturerID, sizeof(si->manufacturerID), s->slot_manufacturer);
	si->flags = s->slot_flags;
}

int p11e__slot_initialized(const p11e_slot *s)
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
	if (!p11e__slot_initialized(s)) {
		p11_kit_uri_set_slot_id(uri, s->slot_id);
		flags = P11_KIT_URI_FOR_SLOT;
	} else {
		p11e__slot_token_info(s, p11_kit_uri_get_token_info(uri));
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
	CK_ULONG n = 0, room = 0, i;
	p11e_slot *out = NULL;
	p11e_status st = P11E_ERR_FAILED;
	CK_RV rv = CKR_BUFFER_TOO_SMALL;
	int tries;

	p11e__clear_error(ctx);
	*list = NULL;
	*count = 0;
	if (!ctx->fl)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no PKCS#11 module is loaded");

	/*
	 * The slot count may change between the two calls (hotplug): ask
	 * again, a few times, never forever (bounds.c).
	 */
	for (tries = 0; tries < P11E__SIZE_TRIES && rv == CKR_BUFFER_TOO_SMALL; tries++) {
		rv = P11_CALL(ctx, C_GetSlotList, CK_FALSE, NULL, &n);
		if (rv != CKR_OK)
			break;
		if (n > P11E__MAX_OBJECTS) {
			st = p11e__module_fault(ctx, "listing slots", "C_GetSlotList",
			                        "the module announced %lu slots", n);
			goto cleanup;
		}
		free(ids);
		room = n;
		ids = calloc(n ? n : 1, sizeof(*ids));
		if (!ids)
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		rv = P11_CALL(ctx, C_GetSlotList, CK_FALSE, ids, &n);
	}
	if (rv == CKR_BUFFER_TOO_SMALL) {
		st = p11e__module_fault(ctx, "listing slots", "C_GetSlotList",
		                        "the slot list outgrew its buffer %d times in a row",
		                        P11E__SIZE_TRIES);
		goto cleanup;
	}
	if (rv != CKR_OK) {
		st = p11e__fail_rv(ctx, "listing slots", "C_GetSlotList", rv);
		goto cleanup;
	}
	if ((st = p11e__len_check(ctx, "listing slots", "C_GetSlotList", n, room)) != P11E_OK)
		goto cleanup;
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
