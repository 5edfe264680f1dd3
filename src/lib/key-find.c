/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * key-find.c - the private key a URI or label names, described whole: its
 * attributes, its public half by CKA_ID and its size.  A private key whose
 * public half has lost the common id (a keygen cut short between its two
 * C_SetAttributeValue calls) is joined to it again on the way
 * (key-repair.c): finding a key may write CKA_ID on the token.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

p11e_status p11e__key_describe(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key)
{
	CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE pub_tmpl[2];
	CK_OBJECT_HANDLE *pubs = NULL;
	size_t npub = 0;
	p11e_status st = p11e__key_read(ctx, h, key);

	if (st != P11E_OK)
		return st;
	if (key->id_len) {
		pub_tmpl[0] = (CK_ATTRIBUTE){ CKA_CLASS, &pub_class, sizeof(pub_class) };
		pub_tmpl[1] = (CK_ATTRIBUTE){ CKA_ID, key->id, key->id_len };
		st = p11e__find_objects(ctx, pub_tmpl, 2, &pubs, &npub);
		if (st != P11E_OK)
			return st;
		if (npub >= 1)
			key->pub_handle = pubs[0];
		free(pubs);
	}
	if (!key->pub_handle && (st = p11e__key_repair(ctx, key)) != P11E_OK)
		return st;
	return p11e__key_finish(ctx, key);
}

p11e_status p11e_key_find(p11e_ctx *ctx, const char *spec, p11e_key *key)
{
	CK_OBJECT_HANDLE *found = NULL;
	size_t count = 0;
	p11e_status st;

	p11e__clear_error(ctx);
	memset(key, 0, sizeof(*key));
	if (!ctx->have_session)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	st = p11e__find_spec(ctx, spec, CKO_PRIVATE_KEY, &found, &count);
	if (st != P11E_OK)
		return st;
	if (count == 1)
		st = p11e__key_describe(ctx, found[0], key);
	else if (count == 0)
		st = p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_KEY_NOT_FOUND,
		                    "no private key '%s' on token '%s'", spec, ctx->slot.label);
	else
		st = p11e__fail(ctx, P11E_ERR_NOT_FOUND,
		                "'%s' matches %zu private keys on token '%s': give the key's "
		                "pkcs11: URI with its id",
		                spec, count, ctx->slot.label);
	free(found);
	if (st != P11E_OK)
		p11e_key_clear(key);
	return st;
}
