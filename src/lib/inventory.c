/*
 * inventory.c - what is on the token: keys, certificates, and how they
 * pair up by CKA_ID.  The token is the inventory; nothing is kept elsewhere.
 */
#include "config.h"

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

/*
 * Label, id and a certificate's category in one C_GetAttributeValue: listing
 * a thousand objects costs a thousand calls, not three thousand.  An
 * attribute the token cannot give in that call is left empty.
 */
static void read_common(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_object *o, int is_cert)
{
	unsigned char label[sizeof(o->label) - 1], id[sizeof(o->id)];
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
	if (t[0].ulValueLen != CK_UNAVAILABLE_INFORMATION && t[0].ulValueLen <= sizeof(label))
		memcpy(o->label, label, t[0].ulValueLen);
	if (t[1].ulValueLen != CK_UNAVAILABLE_INFORMATION && t[1].ulValueLen <= sizeof(id)) {
		memcpy(o->id, id, t[1].ulValueLen);
		o->id_len = t[1].ulValueLen;
	}
	if (is_cert && t[2].ulValueLen == sizeof(category))
		o->authority = category == 2;
	p11e__clear_error(ctx);
}

/* Fill a certificate entry from its DER value. */
static void describe_cert(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_object *o)
{
	unsigned char buf[4096], *der = buf, *big = NULL;
	const unsigned char *p;
	CK_ATTRIBUTE a = { CKA_VALUE, buf, sizeof(buf) };
	CK_ULONG len;
	X509 *c = NULL;
	BIGNUM *bn = NULL;

	/* most certificates fit the stack buffer: one call, not two */
	if (P11_CALL(ctx, C_GetAttributeValue, ctx->session, h, &a, 1) != CKR_OK) {
		if (p11e__attr_get(ctx, h, CKA_VALUE, &big, &len) != P11E_OK) {
			p11e__clear_error(ctx);
			return;
		}
		der = big;
	} else {
		len = a.ulValueLen;
	}
	p = der;
	c = d2i_X509(NULL, &p, (long)len);
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
		o->authority |= X509_check_ca(c) > 0;
	}
	BN_free(bn);
	X509_free(c);
	free(big);
	p11e__clear_error(ctx);
}

static int same_id(const p11e_object *a, const p11e_object *b)
{
	return a->id_len && a->id_len == b->id_len && memcmp(a->id, b->id, a->id_len) == 0;
}

p11e_status p11e_list(p11e_ctx *ctx, int want_keys, p11e_object **list, size_t *count)
{
	static const CK_OBJECT_CLASS classes[] = { CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE };
	p11e_object *out = NULL, *grown;
	size_t n = 0;
	p11e_status st = P11E_OK;

	p11e__clear_error(ctx);
	*list = NULL;
	*count = 0;
	if (!ctx->have_session && (st = p11e__session_open(ctx, 0)) != P11E_OK)
		return st;
	if (!p11e__libctx(ctx))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up OpenSSL");
	for (size_t c = want_keys ? 0 : 2; c < 3 && st == P11E_OK; c++) {
		CK_OBJECT_CLASS cls = classes[c];
		CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
		CK_OBJECT_HANDLE *hs = NULL;
		size_t nh = 0;

		st = p11e__find_objects(ctx, &t, 1, &hs, &nh);
		if (st != P11E_OK)
			break;
		grown = realloc(out, (n + nh + 1) * sizeof(*out));
		if (!grown) {
			free(hs);
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			break;
		}
		out = grown;
		for (size_t i = 0; i < nh; i++) {
			p11e_object *o = &out[n++];

			memset(o, 0, sizeof(*o));
			o->cls = cls == CKO_PRIVATE_KEY  ? P11E_OBJ_PRIVATE_KEY
			         : cls == CKO_PUBLIC_KEY ? P11E_OBJ_PUBLIC_KEY
			                                 : P11E_OBJ_CERTIFICATE;
			if (o->cls == P11E_OBJ_PRIVATE_KEY &&
			    p11e__key_describe(ctx, hs[i], &o->key) == P11E_OK) {
				/* describe read label and id already */
				memcpy(o->label, o->key.label, sizeof(o->label));
				memcpy(o->id, o->key.id, sizeof(o->id));
				o->id_len = o->key.id_len;
			} else if (o->cls == P11E_OBJ_PRIVATE_KEY) {
				p11e__clear_error(ctx);
				read_common(ctx, hs[i], o, 0);
			} else if (o->cls == P11E_OBJ_PUBLIC_KEY) {
				EVP_PKEY *pub = NULL;
				CK_KEY_TYPE kt = 0;
				CK_ATTRIBUTE a = { CKA_KEY_TYPE, &kt, sizeof(kt) };

				P11_CALL(ctx, C_GetAttributeValue, ctx->session, hs[i], &a, 1);
				o->key.type = kt == CKK_EC ? P11E_KEY_EC : P11E_KEY_RSA;
				o->key.handle = o->key.pub_handle = hs[i];
				if (p11e__key_public(ctx, &o->key, &pub) == P11E_OK)
					p11e__key_size_of(&o->key, pub);
				EVP_PKEY_free(pub);
				o->key.sensitive = o->key.extractable = o->key.always_sensitive = -1;
				o->key.never_extractable = o->key.local = -1;
				p11e__clear_error(ctx);
				read_common(ctx, hs[i], o, 0);
			} else {
				read_common(ctx, hs[i], o, 1);
				describe_cert(ctx, hs[i], o);
			}
			o->uri = p11e__object_uri(ctx, cls, o->label[0] ? o->label : NULL, o->id,
			                          o->id_len);
		}
		free(hs);
	}
	if (st != P11E_OK) {
		p11e_list_free(out, n);
		return st;
	}
	/*
	 * pairing by CKA_ID: a key (either half) has a certificate; a certificate
	 * has a private key
	 */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n && !out[i].paired; j++) {
			if (i == j || !same_id(&out[i], &out[j]))
				continue;
			if (out[i].cls == P11E_OBJ_CERTIFICATE)
				out[i].paired = out[j].cls == P11E_OBJ_PRIVATE_KEY;
			else
				out[i].paired = out[j].cls == P11E_OBJ_CERTIFICATE;
		}
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
