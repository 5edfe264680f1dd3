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

static char *name_text(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL;
	BUF_MEM *m;

	if (!b)
		return NULL;
	/* RFC 2253 with UTF-8 kept as is */
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		BIO_get_mem_ptr(b, &m);
		out = strndup(m->data, m->length);
	}
	BIO_free(b);
	return out;
}

static long long asn1_time_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (long long)timegm(&tm);
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
 * A CA certificate: basicConstraints says so, or an X.509 v1 certificate
 * issued by its own subject (a v1 root), as X509_check_ca has it.  Read from
 * the extension itself: X509_check_ca caches the extensions with a SHA-1 of
 * the certificate first, which the names context (no algorithms) cannot make.
 */
static int is_authority(X509 *c)
{
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(c, NID_basic_constraints, NULL, NULL);
	int ca;

	if (bc) {
		ca = bc->ca != 0;
		BASIC_CONSTRAINTS_free(bc);
		return ca;
	}
	return X509_get_version(c) == X509_VERSION_1 &&
	       X509_NAME_cmp(X509_get_subject_name(c), X509_get_issuer_name(c)) == 0;
}

/*
 * The element at *p (*left bytes to go) if it has this tag and class (and
 * is constructed, if cons): its contents in *body, *blen; *p and *left
 * move past it.  Definite lengths only.
 */
static int next_tlv(const unsigned char **p, long *left, int tag, int cls, int cons,
                    const unsigned char **body, long *blen)
{
	const unsigned char *q = *p;
	long len;
	int t, c, r = ASN1_get_object(&q, &len, &t, &c, *left);

	if ((r & 0x80) || (r & 0x01) || t != tag || c != cls || (cons && !(r & V_ASN1_CONSTRUCTED)))
		return 0;
	*body = q;
	*blen = len;
	*left -= (long)(q - *p) + len;
	*p = q + len;
	return 1;
}

/* what the listing shows of a certificate, decoded on their own */
struct cert_parts {
	long version; /* 0 for v1 */
	ASN1_INTEGER *serial;
	X509_NAME *issuer, *subject;
	ASN1_TIME *not_before, *not_after;
	X509_EXTENSIONS *exts;
};

static void cert_parts_free(struct cert_parts *c)
{
	ASN1_INTEGER_free(c->serial);
	X509_NAME_free(c->issuer);
	X509_NAME_free(c->subject);
	ASN1_TIME_free(c->not_before);
	ASN1_TIME_free(c->not_after);
	sk_X509_EXTENSION_pop_free(c->exts, X509_EXTENSION_free);
}

/* d2i of one element at p (left bytes) into var, moving past it */
#define TAKE(var, d2i) \
	(q = p, ((var) = d2i(NULL, &q, left)) != NULL && (left -= (long)(q - p), p = q, 1))

/*
 * A certificate's fields without decoding all of it (d2i_X509 decodes the
 * public key, the signature and every extension, and the names twice over:
 * a listing spent a sixth of its time there): the DER walked with OpenSSL's
 * own readers, subject, issuer, serial, validity and extensions decoded,
 * the rest only checked for its shape.  0 for anything unusual (an
 * indefinite length, a version that does not match what follows, bytes
 * left over): d2i_X509 then decides, as it always did.
 */
static int cert_parts_read(const unsigned char *der, long len, struct cert_parts *c)
{
	const unsigned char *p = der, *q, *body, *tbs;
	long left = len, blen, tlen;
	ASN1_INTEGER *v = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bits = NULL;
	int ok = 0, uids = 0;

	memset(c, 0, sizeof(*c));
	/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature } */
	if (!next_tlv(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &body, &blen) || left != 0)
		return 0;
	p = body;
	left = blen;
	if (!next_tlv(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &tbs, &tlen) ||
	    !TAKE(alg, d2i_X509_ALGOR) || !TAKE(bits, d2i_ASN1_BIT_STRING) || left != 0)
		goto done;
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(bits);
	alg = NULL;
	bits = NULL;
	p = tbs;
	left = tlen;
	/* version [0] EXPLICIT INTEGER DEFAULT v1 */
	if (left > 0 && *p == 0xa0) {
		if (!next_tlv(&p, &left, 0, V_ASN1_CONTEXT_SPECIFIC, 1, &body, &blen))
			goto done;
		q = body;
		if (!(v = d2i_ASN1_INTEGER(NULL, &q, blen)) || q != body + blen)
			goto done;
		c->version = ASN1_INTEGER_get(v);
		if (c->version < 0 || c->version > 2)
			goto done;
	}
	if (!TAKE(c->serial, d2i_ASN1_INTEGER) || !TAKE(alg, d2i_X509_ALGOR) ||
	    !TAKE(c->issuer, d2i_X509_NAME))
		goto done;
	/* validity ::= SEQUENCE { notBefore, notAfter } */
	{
		const unsigned char *vp, *vq;
		long vleft;

		if (!next_tlv(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &vp, &vleft))
			goto done;
		vq = vp;
		if (!(c->not_before = d2i_ASN1_TIME(NULL, &vq, vleft)))
			goto done;
		vleft -= (long)(vq - vp);
		vp = vq;
		if (!(c->not_after = d2i_ASN1_TIME(NULL, &vq, vleft)) || vq != vp + vleft)
			goto done;
	}
	if (!TAKE(c->subject, d2i_X509_NAME))
		goto done;
	/* subjectPublicKeyInfo: its shape only */
	{
		const unsigned char *sp;
		long sleft;

		X509_ALGOR_free(alg);
		alg = NULL;
		if (!next_tlv(&p, &left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &sp, &sleft))
			goto done;
		q = sp;
		if (!(alg = d2i_X509_ALGOR(NULL, &q, sleft)))
			goto done;
		sleft -= (long)(q - sp);
		sp = q;
		if (!(bits = d2i_ASN1_BIT_STRING(NULL, &q, sleft)) || q != sp + sleft)
			goto done;
	}
	/* issuerUniqueID [1], subjectUniqueID [2] (v2 and v3), extensions [3] (v3) */
	for (int tag = 1; tag <= 2; tag++)
		if (left > 0 && (*p & 0x1f) == tag && (*p & 0xc0) == 0x80) {
			if (!next_tlv(&p, &left, tag, V_ASN1_CONTEXT_SPECIFIC, 0, &body, &blen))
				goto done;
			uids = 1;
		}
	if (left > 0 && *p == 0xa3) {
		if (!next_tlv(&p, &left, 3, V_ASN1_CONTEXT_SPECIFIC, 1, &body, &blen))
			goto done;
		q = body;
		if (!(c->exts = d2i_X509_EXTENSIONS(NULL, &q, blen)) || q != body + blen)
			goto done;
	}
	ok = left == 0 && !(uids && c->version < 1) && !(c->exts && c->version < 2);
done:
	ASN1_INTEGER_free(v);
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(bits);
	if (!ok)
		cert_parts_free(c);
	return ok;
}
#undef TAKE

/* A certificate entry from the parts of its DER value. */
static void cert_fields_parts(p11e_object *o, const struct cert_parts *c)
{
	BASIC_CONSTRAINTS *bc =
		c->exts ? X509V3_get_d2i(c->exts, NID_basic_constraints, NULL, NULL) : NULL;
	BIGNUM *bn;

	o->subject = name_text(c->subject);
	o->issuer = name_text(c->issuer);
	bn = ASN1_INTEGER_to_BN(c->serial, NULL);
	if (bn) {
		char *hex = BN_bn2hex(bn);

		o->serial = hex ? strdup(hex) : NULL;
		OPENSSL_free(hex);
		BN_free(bn);
	}
	o->not_before = asn1_time_epoch(c->not_before);
	o->not_after = asn1_time_epoch(c->not_after);
	/* as is_authority: basicConstraints, or a v1 certificate issued by its subject */
	if (bc)
		o->authority |= bc->ca != 0;
	else
		o->authority |= c->version == 0 && X509_NAME_cmp(c->subject, c->issuer) == 0;
	BASIC_CONSTRAINTS_free(bc);
}

/* Fill a certificate entry from its DER value. */
static void cert_fields(p11e_ctx *ctx, p11e_object *o, const unsigned char *der, CK_ULONG len)
{
	const unsigned char *p = der;
	struct cert_parts parts;
	X509 *c;
	BIGNUM *bn = NULL;

	if (len <= LONG_MAX && cert_parts_read(der, (long)len, &parts)) {
		cert_fields_parts(o, &parts);
		cert_parts_free(&parts);
		p11e__clear_error(ctx);
		return;
	}
	c = X509_new_ex(p11e__names_libctx(ctx), NULL);

	if (c && !d2i_X509(&c, &p, (long)len)) {
		/* d2i_X509 freed it */
		c = NULL;
	}
	if (c) {
		o->subject = name_text(X509_get_subject_name(c));
		o->issuer = name_text(X509_get_issuer_name(c));
		bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(c), NULL);
		if (bn) {
			char *hex = BN_bn2hex(bn);

			o->serial = hex ? strdup(hex) : NULL;
			OPENSSL_free(hex);
		}
		o->not_before = asn1_time_epoch(X509_get0_notBefore(c));
		o->not_after = asn1_time_epoch(X509_get0_notAfter(c));
		o->authority |= is_authority(c);
	}
	BN_free(bn);
	X509_free(c);
	p11e__clear_error(ctx);
}

/*
 * A certificate: label, id, category and value in one C_GetAttributeValue
 * (as floor-list reads an object); a value bigger than the buffer is read
 * on its own.
 */
static void describe_cert(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_object *o)
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
		cert_fields(ctx, o, buf, t[3].ulValueLen);
		return;
	}
	/* bigger than the buffer (or the call failed): the value on its own */
	if (p11e__attr_get(ctx, h, CKA_VALUE, &big, &len) != P11E_OK) {
		p11e__clear_error(ctx);
		return;
	}
	cert_fields(ctx, o, big, len);
	free(big);
}

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
	o->key.type = kt == CKK_EC ? P11E_KEY_EC : P11E_KEY_RSA;
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
	o->key.type = kt == CKK_EC ? P11E_KEY_EC : P11E_KEY_RSA;
	common_from(o, t);
	size = &t[o->key.type == P11E_KEY_EC ? 3 : 4];
	room = o->key.type == P11E_KEY_EC ? sizeof(params) : sizeof(modulus);
	(void)(size->ulValueLen != CK_UNAVAILABLE_INFORMATION && size->ulValueLen <= room
	               ? p11e__key_size_from(ctx, &o->key, size->pValue, size->ulValueLen)
	               : p11e__key_size_read(ctx, h, &o->key));
	p11e__clear_error(ctx);
}

/* A private key: one attribute call, and its public half from the index. */
static void describe_private(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_object *o,
                             p11e_object *const *pubs, size_t npubs)
{
	unsigned char modulus[1024];
	const p11e_object *pub;

	if (p11e__key_read_sized(ctx, h, &o->key, modulus, sizeof(modulus)) != P11E_OK) {
		p11e__clear_error(ctx);
		read_common(ctx, h, o, 0);
		return;
	}
	memcpy(o->label, o->key.label, sizeof(o->label));
	memcpy(o->id, o->key.id, sizeof(o->id));
	o->id_len = o->key.id_len;
	pub = public_of(pubs, npubs, o);
	o->key.pub_handle = pub ? pub->key.handle : 0;
	o->key.uri = p11e__object_uri(ctx, CKO_PRIVATE_KEY, o->key.label, o->key.id, o->key.id_len);
	/* an EC key's curve is its public half's, read already */
	if (o->key.type == P11E_KEY_EC && pub && pub->key.type == P11E_KEY_EC) {
		o->key.bits = pub->key.bits;
		memcpy(o->key.curve, pub->key.curve, sizeof(o->key.curve));
	}
	p11e__clear_error(ctx);
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
	static const CK_OBJECT_CLASS classes[] = { CKO_PRIVATE_KEY, CKO_PUBLIC_KEY,
		                                   CKO_CERTIFICATE };
	static const p11e_obj_class ours[] = { P11E_OBJ_PRIVATE_KEY, P11E_OBJ_PUBLIC_KEY,
		                               P11E_OBJ_CERTIFICATE };
	CK_OBJECT_HANDLE *hs[3] = { NULL, NULL, NULL };
	size_t nh[3] = { 0, 0, 0 }, n = 0, c;
	p11e_object **pubs = NULL;
	p11e_object *out = NULL;
	p11e_status st = P11E_OK;

	p11e__clear_error(ctx);
	*list = NULL;
	*count = 0;
	P11E__FLAGS_CHECK(ctx, "p11e_list", flags, P11E_LIST_KEYS);
	if (!ctx->have_session && (st = p11e__session_open(ctx, 0)) != P11E_OK)
		return st;
	if (!p11e__libctx(ctx))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up OpenSSL");
	for (c = want_keys ? 0 : 2; c < 3 && st == P11E_OK; c++) {
		CK_OBJECT_CLASS cls = classes[c];
		CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };

		st = p11e__find_objects(ctx, &t, 1, &hs[c], &nh[c]);
	}
	if (st == P11E_OK && !(out = calloc(nh[0] + nh[1] + nh[2] + 1, sizeof(*out))))
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	if (st != P11E_OK)
		goto done;
	/* listed private keys first, then public keys, then certificates */
	for (c = 0; c < 3; c++)
		for (size_t i = 0; i < nh[c]; i++)
			out[n++].cls = ours[c];
	/* the public keys first: each private key finds its half among them */
	for (size_t i = 0; i < nh[1]; i++)
		describe_public(ctx, hs[1][i], &out[nh[0] + i]);
	if (!(pubs = id_index(out + nh[0], nh[1]))) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nh[0]; i++)
		describe_private(ctx, hs[0][i], &out[i], pubs, nh[1]);
	for (size_t i = 0; i < nh[2]; i++)
		describe_cert(ctx, hs[2][i], &out[nh[0] + nh[1] + i]);
	for (c = 0, n = 0; c < 3; c++)
		for (size_t i = 0; i < nh[c]; i++, n++) {
			p11e_object *o = &out[n];

			/* a private key's own URI is this one when it has a label */
			if (c == 0 && o->label[0] && o->key.uri)
				o->uri = strdup(o->key.uri);
			else
				o->uri = p11e__object_uri(ctx, classes[c],
				                          o->label[0] ? o->label : NULL, o->id,
				                          o->id_len);
		}
	st = pair_up(ctx, out, n);
done:
	free(pubs);
	for (c = 0; c < 3; c++)
		free(hs[c]);
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
