/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uri.c - RFC 7512 pkcs11: URIs read through p11-kit's P11KitUri (never by
 * hand), and whether one names a given slot's token.
 */
#include "config.h"

#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
		                  "bad %s URI: %s: give an RFC 7512 pkcs11: URI, or a label", what,
		                  p11_kit_uri_message(rc));
	}
	*out = uri;
	return P11E_OK;
}

int p11e__uri_matches_slot(P11KitUri *uri, const p11e_slot *s)
{
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	CK_SLOT_ID want = p11_kit_uri_get_slot_id(uri);

	if (want != (CK_SLOT_ID)-1 && want != s->slot_id)
		return 0;
	p11e__slot_token_info(s, &ti);
	p11e__slot_info(s, &si);
	return p11_kit_uri_match_token_info(uri, &ti) && p11_kit_uri_match_slot_info(uri, &si);
}
