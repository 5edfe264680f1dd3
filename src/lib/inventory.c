/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inventory.c - what is on the token: keys, certificates, and how they
 * pair up by CKA_ID.  The token is the inventory; nothing is kept elsewhere.
 */
#include "config.h"

#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

void p11e_list_free(p11e_object *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].uri);
		free(list[i].subject);
		free(list[i].issuer);
		free(list[i].serial);
		p11e_key_clear(&list[i].key);
	}
	free(list);
}

/* Label and id from t[0] and t[1] of a call that filled them (buffers of o's sizes). */
static void common_from(p11e_object *o, const CK_ATTRIBUTE *t)
{
	if (t[0].ulValueLen != CK_UNAVAILABLE_INFORMATION && t[0].ulValueLen < sizeof(o->label))
		memcpy(o->label, t[0].pValue, t[0].ulValueLen);
	if (t[1].ulValueLen != CK_UNAVAILABLE_INFORMATION && t[1].ulValueLen <= sizeof(o->id)) {
		memcpy(o->id, t[1].pValue, t[1].ulValueLen);
		o->id_len = t[1].ulValueLen;
	}
}

/*
 * Label, id and a certificate's category in one C_GetAttributeValue: listing
 * a thousand objects costs a thousand calls, not three thousand.  An
 * attribute the token cannot give in that call is left empty.
 */
static void read_common(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_object *o, int is_cert)
{
	/* zeroed: a module may report a length longer than what it wrote */
	unsigned char label[sizeof(o->label) - 1] = { 0 }, id[sizeof(o->id)] = { 0 };
	CK_ULONG category = 0;
	CK_ATTRIBUTE t[3] = {
		{ CKA_LABEL, label, sizeof(label) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_CERTIFICATE_CATEGORY, &category, sizeof(category) },
	};
	CK_RV rv = P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, t, is_cert ? 3 : 2);

	/* these codes still fill every attribute that fits (PKCS#11 2.40, 5.7) */
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID && rv != CKR_BUFFER_TOO_SMALL &&
	    rv != CKR_ATTRIBUTE_SENSITIVE)
		return;
	common_from(o, t);
	if (is_cert && t[2].ulValueLen == sizeof(category))
		o->authority = category == 2;
	p11e__clear_error(ctx);
}

/*
 * A certificate: label, id, category and value in one C_GetAttributeValue
 * (as floor-list reads an object); a value bigger than the buffer is read
 * on its own.
 */
static void describe_cert(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_object *o,
                          struct p11e__name_memo *memo)
{
	/* zeroed: a module may report a length longer than what it wrote */
	unsigned char label[sizeof(o->label) - 1] = { 0 }, id[sizeof(o->id)] = { 0 };
	unsigned char buf[4096], *big = NULL;
	CK_ULONG category = 0, len;
	CK_ATTRIBUTE t[4] = {
		{ CKA_LABEL, label, sizeof(label) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_CERTIFICATE_CATEGORY, &category, sizeof(category) },
		{ CKA_VALUE, buf, sizeof(buf) },
	};
	CK_RV rv = P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, t, 4);

	/* these codes still fill every attribute that fits (PKCS#11 2.40, 5.7) */
	if (rv == CKR_OK || rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_BUFFER_TOO_SMALL ||
	    rv == CKR_ATTRIBUTE_SENSITIVE) {
		common_from(o, t);
		if (t[2].ulValueLen == sizeof(category))
			o->authority = category == 2;
	}
	p11e__clear_error(ctx);
	if (rv == CKR_OK && t[3].ulValueLen != CK_UNAVAILABLE_INFORMATION &&
	    p11e__len_check(ctx, "reading a certificate", "C_GetAttributeValue", t[3].ulValueLen,
	                    sizeof(buf)) != P11E_OK) {
		/* listed without its fields, as a certificate that cannot be read (-v says why) */
		p11e__clear_error(ctx);
		return;
	}
	if (t[3].ulValueLen != CK_UNAVAILABLE_INFORMATION && t[3].ulValueLen <= sizeof(buf) &&
	    (rv == CKR_OK || rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_BUFFER_TOO_SMALL)) {
		p11e__cert_fields(ctx, o, buf, t[3].ulValueLen, memo);
		return;
	}
	/* bigger than the buffer (or the call failed): the value on its own */
	if (p11e__attr_get(ctx, h, CKA_VALUE, &big, &len) != P11E_OK) {
		p11e__clear_error(ctx);
		return;
	}
	p11e__cert_fields(ctx, o, big, len, memo);
	free(big);
}

/* the PKCS#11 class of each of ours */
static const CK_OBJECT_CLASS object_class[] = {
	[P11E_OBJ_PRIVATE_KEY] = CKO_PRIVATE_KEY,
	[P11E_OBJ_PUBLIC_KEY] = CKO_PUBLIC_KEY,
	[P11E_OBJ_CERTIFICATE] = CKO_CERTIFICATE,
};

/* Order by id (length first): objects that pair up end up side by side. */
static int id_cmp(const p11e_object *x, const p11e_object *y)
{
	if (x->id_len != y->id_len)
		return x->id_len < y->id_len ? -1 : 1;
	return memcmp(x->id, y->id, x->id_len);
}

static int by_id(const void *a, const void *b)
{
	return id_cmp(*(p11e_object *const *)a, *(p11e_object *const *)b);
}

/* Objects o[0..n) sorted by id, for lookups and pairing. */
static p11e_object **id_index(p11e_object *o, size_t n)
{
	p11e_object **ix = malloc((n + 1) * sizeof(*ix));

	if (!ix)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ix[i] = &o[i];
	qsort(ix, n, sizeof(*ix), by_id);
	return ix;
}

/* The public key object with key's id, from the sorted public keys. */
static const p11e_object *public_of(p11e_object *const *ix, size_t n, const p11e_object *priv)
{
	size_t lo = 0, hi = n;

	while (priv->id_len && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = id_cmp(ix[mid], priv);

		if (c == 0)
			return ix[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A public key, one attribute a call (a module that fails the call of them all). */
static void describe_public_each(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_object *o)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof(kt) };

	P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, &a, 1);
	o->key.type = kt == CKK_EC ? P11E_KEY_EC : kt == CKK_RSA ? P11E_KEY_RSA : 0;
	(void)p11e__key_size_read(ctx, h, &o->key);
	p11e__clear_error(ctx);
	read_common(ctx, h, o, 0);
}

/*
 * A public key: type, label, id and its size (CKA_EC_PARAMS or CKA_MODULUS)
 * in one C_GetAttributeValue; a size that does not fit is read on its own.
 */
static void describe_public(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_object *o)
{
	/* zeroed: a module may report a length longer than what it wrote */
	unsigned char label[sizeof(o->label) - 1] = { 0 }, id[sizeof(o->id)] = { 0 };
	unsigned char params[128], modulus[1024];
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE t[5] = {
		{ CKA_LABEL, label, sizeof(label) },
		{ CKA_ID, id, sizeof(id) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_EC_PARAMS, params, sizeof(params) },
		{ CKA_MODULUS, modulus, sizeof(modulus) },
	};
	CK_RV rv = P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, t, 5);
	const CK_ATTRIBUTE *size;
	CK_ULONG room;

	o->key.sensitive = o->key.extractable = o->key.always_sensitive = -1;
	o->key.never_extractable = o->key.local = -1;
	o->key.handle = o->key.pub_handle = h;
	if ((rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID && rv != CKR_BUFFER_TOO_SMALL &&
	     rv != CKR_ATTRIBUTE_SENSITIVE) ||
	    t[2].ulValueLen != sizeof(kt)) {
		/* attribute by attribute, what can be read */
		p11e__clear_error(ctx);
		describe_public_each(ctx, h, o);
		return;
	}
	/* a key of another type (Ed25519, say): type 0, listed by label and id */
	o->key.type = kt == CKK_EC ? P11E_KEY_EC : kt == CKK_RSA ? P11E_KEY_RSA : 0;
	common_from(o, t);
	if (!o->key.type)
		return;
	size = &t[o->key.type == P11E_KEY_EC ? 3 : 4];
	room = o->key.type == P11E_KEY_EC ? sizeof(params) : sizeof(modulus);
	(void)(size->ulValueLen != CK_UNAVAILABLE_INFORMATION && size->ulValueLen <= room
	               ? p11e__key_size_from(ctx, &o->key, size->pValue, size->ulValueLen)
	               : p11e__key_size_read(ctx, h, &o->key));
	p11e__clear_error(ctx);
}

/*
 * What object h is, with a key's attributes: one C_GetAttributeValue asks
 * every object its class and what a key has (type, label, id, flags, and
 * its size: CKA_MODULUS, CKA_EC_PARAMS), as p11e__key_read does.  A key is
 * described then and there; a certificate's value is read after, on its
 * own call (asking every object CKA_VALUE would read any key that may be
 * read).  0 for an object that is neither key nor certificate.  A private
 * key read whole has its key type set; one read in part (not RSA or EC)
 * has label and id only, and key type 0.
 */
static p11e_obj_class sort_out(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_object *o)
{
	unsigned char modulus[1024], params[128];
	CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
	CK_ATTRIBUTE more[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_EC_PARAMS, params, sizeof(params) },
	};
	p11e_status st = p11e__key_read_more(ctx, h, &o->key, modulus, sizeof(modulus), more, 2);
	p11e_key k;

	p11e__clear_error(ctx);
	if (more[0].ulValueLen != sizeof(cls)) {
		/*
		 * The call failed, or the module stopped at an attribute the object
		 * lacks: the class alone, then the object read as its class is
		 * (what a listing did before it made one search).
		 */
		CK_ATTRIBUTE a = { CKA_CLASS, &cls, sizeof(cls) };

		p11e_key_clear(&o->key);
		if (P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, &a, 1) != CKR_OK ||
		    a.ulValueLen != sizeof(cls)) {
			p11e__clear_error(ctx);
			return 0;
		}
		more[1].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		st = cls == CKO_PRIVATE_KEY
		             ? p11e__key_read_sized(ctx, h, &o->key, modulus, sizeof(modulus))
		             : P11E_ERR_FAILED;
		p11e__clear_error(ctx);
	}
	switch (cls) {
	case CKO_PRIVATE_KEY:
		if (st != P11E_OK) {
			read_common(ctx, h, o, 0);
			return P11E_OBJ_PRIVATE_KEY;
		}
		memcpy(o->label, o->key.label, sizeof(o->label));
		memcpy(o->id, o->key.id, sizeof(o->id));
		o->id_len = o->key.id_len;
		/* an EC key's curve from its own parameters, also without a public half */
		if (o->key.type == P11E_KEY_EC &&
		    more[1].ulValueLen != CK_UNAVAILABLE_INFORMATION &&
		    more[1].ulValueLen <= sizeof(params) &&
		    p11e__key_size_from(ctx, &o->key, params, more[1].ulValueLen) != P11E_OK)
			p11e__clear_error(ctx);
		return P11E_OBJ_PRIVATE_KEY;
	case CKO_PUBLIC_KEY:
		k = o->key;
		memset(&o->key, 0, sizeof(o->key));
		if (st != P11E_OK) {
			/* as it always was: its own call, attribute by attribute if need be */
			describe_public(ctx, h, o);
			return P11E_OBJ_PUBLIC_KEY;
		}
		o->key.sensitive = o->key.extractable = o->key.always_sensitive = -1;
		o->key.never_extractable = o->key.local = -1;
		o->key.handle = o->key.pub_handle = h;
		o->key.type = k.type;
		memcpy(o->label, k.label, sizeof(o->label));
		memcpy(o->id, k.id, sizeof(o->id));
		o->id_len = k.id_len;
		/* an RSA key's size came with the call; an EC key's from its parameters */
		if (k.type == P11E_KEY_RSA) {
			o->key.bits = k.bits;
		} else if (more[1].ulValueLen != CK_UNAVAILABLE_INFORMATION &&
		           more[1].ulValueLen <= sizeof(params)) {
			(void)p11e__key_size_from(ctx, &o->key, params, more[1].ulValueLen);
		} else {
			(void)p11e__key_size_read(ctx, h, &o->key);
		}
		p11e__clear_error(ctx);
		return P11E_OBJ_PUBLIC_KEY;
	}
	/* a certificate (its value is read later) or no object of ours: nothing of the key */
	p11e_key_clear(&o->key);
	return cls == CKO_CERTIFICATE ? P11E_OBJ_CERTIFICATE : 0;
}

/* o[k] becomes o[perm[k]] for k in 0..n, in place (perm is used up). */
static void permute(p11e_object *o, size_t *perm, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		p11e_object first;
		size_t j = i;

		if (perm[i] == i)
			continue;
		first = o[i];
		for (;;) {
			size_t k = perm[j];

			perm[j] = j;
			if (k == i) {
				o[j] = first;
				break;
			}
			o[j] = o[k];
			j = k;
		}
	}
}

/* A private key read whole: its public half from the index, its URI. */
static void finish_private(p11e_object *o, p11e_object *const *pubs, size_t npubs,
                           const char *token_uri)
{
	const p11e_object *pub = public_of(pubs, npubs, o);

	o->key.pub_handle = pub ? pub->key.handle : 0;
	o->key.uri = p11e__object_uri_on(token_uri, CKO_PRIVATE_KEY, o->key.label, o->key.id,
	                                 o->key.id_len);
	/* an EC key whose own parameters did not say: its public half's curve */
	if (o->key.type == P11E_KEY_EC && !o->key.bits && pub && pub->key.type == P11E_KEY_EC) {
		o->key.bits = pub->key.bits;
		memcpy(o->key.curve, pub->key.curve, sizeof(o->key.curve));
	}
}

/*
 * Pairing by CKA_ID: a key (either half) is paired when a certificate has
 * its id; a certificate, when a private key has.  Sorted by id, in n log n.
 */
static p11e_status pair_up(p11e_ctx *ctx, p11e_object *o, size_t n)
{
	p11e_object **ix = id_index(o, n);

	if (!ix)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	for (size_t i = 0, j; i < n; i = j) {
		int priv = 0, cert = 0;

		for (j = i; j < n && id_cmp(ix[i], ix[j]) == 0; j++) {
			priv |= ix[j]->cls == P11E_OBJ_PRIVATE_KEY;
			cert |= ix[j]->cls == P11E_OBJ_CERTIFICATE;
		}
		for (size_t k = i; k < j && ix[k]->id_len; k++)
			ix[k]->paired = ix[k]->cls == P11E_OBJ_CERTIFICATE ? priv : cert;
	}
	free(ix);
	return P11E_OK;
}

p11e_status p11e_list(p11e_ctx *ctx, unsigned flags, p11e_object **list, size_t *count)
{
	int want_keys = (flags & P11E_LIST_KEYS) != 0;
	static const p11e_obj_class order[] = { P11E_OBJ_PRIVATE_KEY, P11E_OBJ_PUBLIC_KEY,
		                                P11E_OBJ_CERTIFICATE };
	CK_OBJECT_CLASS cert = CKO_CERTIFICATE;
	CK_ATTRIBUTE only_certs = { CKA_CLASS, &cert, sizeof(cert) };
	CK_OBJECT_HANDLE *hs = NULL, *oh = NULL;
	size_t nh = 0, n = 0, nc[4] = { 0, 0, 0, 0 }, *perm = NULL;
	p11e_object **pubs = NULL;
	p11e_object *out = NULL;
	struct p11e__name_memo memo;
	char *token_uri = NULL;
	p11e_status st = P11E_OK;

	p11e__clear_error(ctx);
	memset(&memo, 0, sizeof(memo));
	*list = NULL;
	*count = 0;
	P11E__FLAGS_CHECK(ctx, "p11e_list", flags, P11E_LIST_KEYS);
	if (!ctx->have_session && (st = p11e__session_open(ctx, 0)) != P11E_OK)
		return st;
	if (!p11e__libctx(ctx))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up OpenSSL");
	/*
	 * One search: every object (SoftHSMv2 checks each object's file on every
	 * search, so one search of all, not one per class), or the certificates.
	 */
	st = p11e__find_objects(ctx, want_keys ? NULL : &only_certs, want_keys ? 0 : 1, &hs, &nh);
	if (st == P11E_OK &&
	    (!(out = calloc(nh + 1, sizeof(*out))) || !(oh = calloc(nh + 1, sizeof(*oh))) ||
	     !(perm = calloc(nh + 1, sizeof(*perm))) || !(token_uri = p11e__token_uri(ctx))))
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	if (st != P11E_OK)
		goto done;
	for (size_t i = 0; i < nh; i++) {
		out[i].cls = want_keys ? sort_out(ctx, hs[i], &out[i]) : P11E_OBJ_CERTIFICATE;
		nc[out[i].cls]++;
	}
	/*
	 * Listed private keys first, then public keys, then certificates, each
	 * in the token's order, objects of other classes (which own nothing)
	 * last and left out: out[k] becomes out[perm[k]], moved in place.
	 */
	for (size_t c = 0; c < 3; c++)
		for (size_t i = 0; i < nh; i++)
			if (out[i].cls == order[c]) {
				oh[n] = hs[i];
				perm[n++] = i;
			}
	for (size_t i = 0, k = n; i < nh; i++)
		if (!out[i].cls)
			perm[k++] = i;
	permute(out, perm, nh);
	/* the private keys find their public halves among the public keys */
	if (!(pubs = id_index(out + nc[P11E_OBJ_PRIVATE_KEY], nc[P11E_OBJ_PUBLIC_KEY]))) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		p11e_object *o = &out[i];

		/* a private key read whole (RSA or EC) has its type */
		if (o->cls == P11E_OBJ_PRIVATE_KEY && o->key.type)
			finish_private(o, pubs, nc[P11E_OBJ_PUBLIC_KEY], token_uri);
		else if (o->cls == P11E_OBJ_CERTIFICATE)
			describe_cert(ctx, oh[i], o, &memo);
		/* a private key's own URI is this one when it has a label */
		if (o->cls == P11E_OBJ_PRIVATE_KEY && o->label[0] && o->key.uri)
			o->uri = strdup(o->key.uri);
		else
			o->uri = p11e__object_uri_on(token_uri, object_class[o->cls],
			                             o->label[0] ? o->label : NULL, o->id,
			                             o->id_len);
	}
	p11e__clear_error(ctx);
	st = pair_up(ctx, out, n);
done:
	p11e__name_memo_free(&memo);
	free(token_uri);
	free(pubs);
	free(hs);
	free(oh);
	free(perm);
	if (st != P11E_OK) {
		p11e_list_free(out, n);
		return st;
	}
	*list = out;
	*count = n;
	return P11E_OK;
}

p11e_cert_state p11e_cert_state_of(const p11e_object *o, long long now, int warn_days,
                                   int crit_days, long *days_left)
{
	long long left = o->not_after - now;

	*days_left = (long)(left >= 0 ? left / 86400 : -((-left + 86399) / 86400));
	if (o->not_before > now)
		return P11E_CERT_NOT_YET_VALID;
	if (left <= 0)
		return P11E_CERT_EXPIRED;
	if (*days_left < crit_days)
		return P11E_CERT_CRITICAL;
	if (*days_left < warn_days)
		return P11E_CERT_RENEW;
	return P11E_CERT_OK;
}

const char *p11e_cert_state_name(p11e_cert_state s)
{
	switch (s) {
	case P11E_CERT_OK: return "ok";
	case P11E_CERT_RENEW: return "renew-soon";
	case P11E_CERT_CRITICAL: return "critical";
	case P11E_CERT_EXPIRED: return "expired";
	case P11E_CERT_NOT_YET_VALID: return "not-yet-valid";
	}
	return "unknown";
}

/* Certificates on the token with the key's CKA_ID (enroll, retire). */
p11e_status p11e__key_cert_count(p11e_ctx *ctx, const p11e_key *key, size_t *count)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)key->id, key->id_len },
	};
	CK_OBJECT_HANDLE *found = NULL;
	p11e_status st;

	*count = 0;
	if (!key->id_len)
		return P11E_OK;
	st = p11e__find_objects(ctx, tmpl, 2, &found, count);
	free(found);
	return st;
}
