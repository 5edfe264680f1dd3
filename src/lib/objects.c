/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * objects.c - finding objects and reading their attributes, and their
 * RFC 7512 URIs.
 */
#include "config.h"

#include <p11-kit/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

p11e_status p11e__find_objects(p11e_ctx *ctx, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                               CK_OBJECT_HANDLE **out, size_t *count)
{
	CK_OBJECT_HANDLE batch[64], *all = NULL, *grown;
	size_t total = 0, cap = 0;
	CK_ULONG got;
	p11e_status st = P11E_OK;
	CK_RV rv;

	*out = NULL;
	*count = 0;
	rv = P11_CALL(ctx, C_FindObjectsInit, ctx->session, tmpl, n);
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "searching the token", "C_FindObjectsInit", rv);
	for (;;) {
		rv = P11_CALL(ctx, C_FindObjects, ctx->session, batch,
		              sizeof(batch) / sizeof(batch[0]), &got);
		if (rv != CKR_OK) {
			st = p11e__fail_rv(ctx, "searching the token", "C_FindObjects", rv);
			break;
		}
		if (got == 0)
			break;
		/* more than the batch holds would copy past it; a search that never ends, spin */
		if ((st = p11e__len_check(ctx, "searching the token", "C_FindObjects", got,
		                          sizeof(batch) / sizeof(batch[0]))) != P11E_OK)
			break;
		if (total + got > P11E__MAX_OBJECTS) {
			st = p11e__module_fault(ctx, "searching the token", "C_FindObjects",
			                        "more than %lu objects found, and more to come",
			                        P11E__MAX_OBJECTS);
			break;
		}
		/* doubled, not grown by a batch: a big token is not copied over and over */
		if (total + got > cap) {
			cap = cap ? 2 * cap : 2 * sizeof(batch) / sizeof(batch[0]);
			grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
				break;
			}
			all = grown;
		}
		memcpy(all + total, batch, got * sizeof(*all));
		total += got;
	}
	rv = P11_CALL(ctx, C_FindObjectsFinal, ctx->session);
	if (st == P11E_OK && rv != CKR_OK)
		st = p11e__fail_rv(ctx, "searching the token", "C_FindObjectsFinal", rv);
	if (st != P11E_OK) {
		free(all);
		return st;
	}
	*out = all;
	*count = total;
	return P11E_OK;
}

p11e_status p11e__attr_get(p11e_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                           unsigned char **val, CK_ULONG *len)
{
	p11e_status st = p11e__attr_opt(ctx, h, type, val, len);

	if (st == P11E_OK && !*val)
		return p11e__fail(ctx, P11E_ERR_TOKEN, "the token has no value for attribute 0x%lx",
		                  type);
	return st;
}

p11e_status p11e__attr_opt(p11e_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                           unsigned char **val, CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_ULONG room;
	p11e_status st;
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, &a, 1);
	/* an attribute the object does not have is no error; a failing token is */
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
	    (rv == CKR_OK && a.ulValueLen == CK_UNAVAILABLE_INFORMATION))
		return P11E_OK;
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "reading an attribute", "C_GetAttributeValue", rv);
	if (a.ulValueLen > P11E__MAX_ATTR_LEN)
		return p11e__module_fault(ctx, "reading an attribute", "C_GetAttributeValue",
		                          "the module announced a value of %lu bytes",
		                          a.ulValueLen);
	room = a.ulValueLen;
	a.pValue = malloc(room ? room : 1);
	if (!a.pValue)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	rv = P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, &a, 1);
	/* the second length is what is read from the buffer: never past it */
	if (rv != CKR_OK)
		st = p11e__fail_rv(ctx, "reading an attribute", "C_GetAttributeValue", rv);
	else
		st = p11e__len_check(ctx, "reading an attribute", "C_GetAttributeValue",
		                     a.ulValueLen, room);
	if (st != P11E_OK) {
		free(a.pValue);
		return st;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return P11E_OK;
}

p11e_status p11e__attr_flag(p11e_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, int *out)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };
	CK_RV rv = P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, &a, 1);

	*out = -1;
	if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE)
		return P11E_OK;
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "reading an attribute", "C_GetAttributeValue", rv);
	if (a.ulValueLen == sizeof(v))
		*out = v == CK_TRUE;
	return P11E_OK;
}

int p11e__attr_bool(p11e_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	if (P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, &a, 1) != CKR_OK ||
	    a.ulValueLen != sizeof(v))
		return -1;
	return v == CK_TRUE;
}

/* class, label (if any) and id (if any) into uri */
static void uri_set_object(P11KitUri *uri, CK_OBJECT_CLASS cls, const char *label,
                           const unsigned char *id, size_t id_len)
{
	CK_ATTRIBUTE a;

	a.type = CKA_CLASS;
	a.pValue = &cls;
	a.ulValueLen = sizeof(cls);
	p11_kit_uri_set_attribute(uri, &a);
	if (label) {
		a.type = CKA_LABEL;
		a.pValue = (void *)label;
		a.ulValueLen = strlen(label);
		p11_kit_uri_set_attribute(uri, &a);
	}
	if (id && id_len) {
		a.type = CKA_ID;
		a.pValue = (void *)id;
		a.ulValueLen = id_len;
		p11_kit_uri_set_attribute(uri, &a);
	}
}

/* uri formatted by p11-kit with these parts (ctx's token, an object), or NULL */
static char *uri_format(p11e_ctx *ctx, P11KitUri *uri, P11KitUriType parts)
{
	char *out = NULL;

	if (parts & P11_KIT_URI_FOR_TOKEN) {
		CK_TOKEN_INFO *ti = p11_kit_uri_get_token_info(uri);

		p11e__pad(ti->label, sizeof(ti->label), ctx->slot.label);
		p11e__pad(ti->manufacturerID, sizeof(ti->manufacturerID), ctx->slot.manufacturer);
		p11e__pad(ti->model, sizeof(ti->model), ctx->slot.model);
		p11e__pad(ti->serialNumber, sizeof(ti->serialNumber), ctx->slot.serial);
	}
	if (p11_kit_uri_format(uri, parts, &out) != P11_KIT_URI_OK)
		out = NULL;
	return out;
}

char *p11e__object_uri(p11e_ctx *ctx, CK_OBJECT_CLASS cls, const char *label,
                       const unsigned char *id, size_t id_len)
{
	P11KitUri *uri = p11_kit_uri_new();
	char *out;

	if (!uri)
		return NULL;
	uri_set_object(uri, cls, label, id, id_len);
	out = uri_format(ctx, uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN);
	p11_kit_uri_free(uri);
	return out;
}

char *p11e__token_uri(p11e_ctx *ctx)
{
	P11KitUri *uri = p11_kit_uri_new();
	char *out;

	if (!uri)
		return NULL;
	out = uri_format(ctx, uri, P11_KIT_URI_FOR_TOKEN);
	p11_kit_uri_free(uri);
	return out;
}

/*
 * p11-kit writes a token's attributes before an object's, so the object's
 * URI is the token's, ';' and the object's own attributes, each part
 * formatted (and percent-encoded) by p11-kit.
 */
char *p11e__object_uri_on(const char *token_uri, CK_OBJECT_CLASS cls, const char *label,
                          const unsigned char *id, size_t id_len)
{
	static const char scheme[] = "pkcs11:";
	P11KitUri *uri = p11_kit_uri_new();
	char *obj = NULL, *out = NULL;
	size_t tl, ol;

	if (!uri)
		return NULL;
	uri_set_object(uri, cls, label, id, id_len);
	if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_OBJECT, &obj) != P11_KIT_URI_OK)
		obj = NULL;
	p11_kit_uri_free(uri);
	if (!obj || strncmp(obj, scheme, sizeof(scheme) - 1) != 0 ||
	    strncmp(token_uri, scheme, sizeof(scheme) - 1) != 0) {
		free(obj);
		return NULL;
	}
	tl = strlen(token_uri);
	ol = strlen(obj + sizeof(scheme) - 1);
	if ((out = malloc(tl + 1 + ol + 1))) {
		int sep = tl > sizeof(scheme) - 1 && ol > 0;

		memcpy(out, token_uri, tl);
		if (sep)
			out[tl] = ';';
		memcpy(out + tl + sep, obj + sizeof(scheme) - 1, ol + 1);
	}
	free(obj);
	return out;
}

p11e_status p11e__object_spec(p11e_ctx *ctx, const char *spec, struct p11e__objspec *out)
{
	P11KitUri *uri;
	CK_ATTRIBUTE *a;
	CK_TOKEN_INFO ti;
	p11e_status st;

	memset(out, 0, sizeof(*out));
	if (!*spec)
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "an empty key or certificate name: give its "
		                  "label or pkcs11: URI");
	if (strncmp(spec, "pkcs11:", 7) != 0) {
		/* cut short, it could name another object whose label is the prefix */
		if (strlen(spec) >= sizeof(out->label))
			return p11e__fail(ctx, P11E_ERR_USAGE,
			                  "the label '%.32s...' is longer than %zu bytes, the most "
			                  "a label "
			                  "can be here",
			                  spec, sizeof(out->label) - 1);
		snprintf(out->label, sizeof(out->label), "%s", spec);
		out->has_label = 1;
		return P11E_OK;
	}
	if ((st = p11e__uri_parse(ctx, spec, "object", &uri)) != P11E_OK)
		return st;
	/* the URI must name this token, if it names one at all */
	memset(&ti, 0, sizeof(ti));
	p11e__pad(ti.label, sizeof(ti.label), ctx->slot.label);
	p11e__pad(ti.manufacturerID, sizeof(ti.manufacturerID), ctx->slot.manufacturer);
	p11e__pad(ti.model, sizeof(ti.model), ctx->slot.model);
	p11e__pad(ti.serialNumber, sizeof(ti.serialNumber), ctx->slot.serial);
	out->other_token = !p11_kit_uri_match_token_info(uri, &ti);
	if ((a = p11_kit_uri_get_attribute(uri, CKA_LABEL)) && a->ulValueLen < sizeof(out->label)) {
		memcpy(out->label, a->pValue, a->ulValueLen);
		out->label[a->ulValueLen] = '\0';
		out->has_label = 1;
	} else if (a) {
		st = p11e__fail(ctx, P11E_ERR_USAGE,
		                "the URI's object= is longer than %zu bytes: no object has it",
		                sizeof(out->label) - 1);
	}
	if ((a = p11_kit_uri_get_attribute(uri, CKA_ID)) && a->ulValueLen <= sizeof(out->id)) {
		memcpy(out->id, a->pValue, a->ulValueLen);
		out->id_len = a->ulValueLen;
		out->has_id = 1;
	} else if (a) {
		st = p11e__fail(ctx, P11E_ERR_USAGE,
		                "the URI's id= is longer than %zu bytes: no object has it",
		                sizeof(out->id));
	}
	p11_kit_uri_free(uri);
	if (st != P11E_OK)
		return st;
	if (!out->has_label && !out->has_id)
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "the URI names no object (no object= or id=): add one");
	return P11E_OK;
}

p11e_status p11e__find_spec(p11e_ctx *ctx, const char *spec, CK_OBJECT_CLASS cls,
                            CK_OBJECT_HANDLE **hs, size_t *count)
{
	struct p11e__objspec os;
	CK_ATTRIBUTE t[3];
	CK_ULONG n = 0;
	p11e_status st;

	*hs = NULL;
	*count = 0;
	st = p11e__object_spec(ctx, spec, &os);
	if (st != P11E_OK)
		return st;
	if (os.other_token)
		return p11e__fail_why(ctx, P11E_ERR_NOT_FOUND, P11E_REASON_URI_OTHER_TOKEN,
		                      "the URI '%s' names another token than '%s'", spec,
		                      ctx->slot.label);
	t[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	if (os.has_label)
		t[n++] = (CK_ATTRIBUTE){ CKA_LABEL, os.label, strlen(os.label) };
	if (os.has_id)
		t[n++] = (CK_ATTRIBUTE){ CKA_ID, os.id, os.id_len };
	return p11e__find_objects(ctx, t, n, hs, count);
}
