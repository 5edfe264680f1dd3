/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cert-fields.c - what a listing shows of a certificate: subject and issuer
 * (RFC 2253), serial, validity and whether it is a CA's, read from the DER
 * parts that carry them; the names by their DER through a small memo.
 */
#include "config.h"

#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

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

void p11e__name_memo_free(struct p11e__name_memo *m)
{
	for (unsigned i = 0; i < P11E__NAME_MEMO_SIZE; i++) {
		free(m->e[i].der);
		free(m->e[i].text);
	}
	memset(m, 0, sizeof(*m));
}

/*
 * The text of the Name at *p (*left bytes to go), *p and *left moved past
 * it; the element itself in *der, *len.  NULL if it is not a Name
 * d2i_X509_NAME takes whole (or out of memory).  The text is the caller's.
 */
static char *name_take(struct p11e__name_memo *m, const unsigned char **p, long *left,
                       const unsigned char **der, long *len)
{
	const unsigned char *start = *p, *body, *q;
	long blen;
	X509_NAME *n;
	char *text;
	unsigned i, old = 0;

	if (!next_tlv(p, left, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1, &body, &blen))
		return NULL;
	*der = start;
	*len = (long)(*p - start);
	m->clock++;
	for (i = 0; i < P11E__NAME_MEMO_SIZE; i++) {
		if (m->e[i].der && m->e[i].len == *len && memcmp(m->e[i].der, start, *len) == 0) {
			m->e[i].used = m->clock;
			return strdup(m->e[i].text);
		}
		if (m->e[i].used < m->e[old].used)
			old = i;
	}
	q = start;
	n = d2i_X509_NAME(NULL, &q, *len);
	text = n && q == *p ? name_text(n) : NULL;
	X509_NAME_free(n);
	if (!text)
		return NULL;
	/* kept for the next certificate; a name that cannot be kept is only not kept */
	free(m->e[old].der);
	free(m->e[old].text);
	memset(&m->e[old], 0, sizeof(m->e[old]));
	if ((m->e[old].der = malloc(*len)) && (m->e[old].text = strdup(text))) {
		memcpy(m->e[old].der, start, *len);
		m->e[old].len = *len;
		m->e[old].used = m->clock;
	} else {
		free(m->e[old].der);
		m->e[old].der = NULL;
	}
	return text;
}

/* what the listing shows of a certificate, decoded on their own */
struct cert_parts {
	long version; /* 0 for v1 */
	ASN1_INTEGER *serial;
	char *issuer, *subject; /* as printed */
	const unsigned char *issuer_der, *subject_der;
	long issuer_len, subject_len;
	ASN1_TIME *not_before, *not_after;
	X509_EXTENSIONS *exts;
};

static void cert_parts_free(struct cert_parts *c)
{
	ASN1_INTEGER_free(c->serial);
	free(c->issuer);
	free(c->subject);
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
static int cert_parts_read(const unsigned char *der, long len, struct cert_parts *c,
                           struct p11e__name_memo *memo)
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
	    !(c->issuer = name_take(memo, &p, &left, &c->issuer_der, &c->issuer_len)))
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
	if (!(c->subject = name_take(memo, &p, &left, &c->subject_der, &c->subject_len)))
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

/* A v1 certificate issued by its own subject (names compared as X509_NAME_cmp does). */
static int v1_self_issued(const struct cert_parts *c)
{
	const unsigned char *p = c->subject_der, *q = c->issuer_der;
	X509_NAME *subject = d2i_X509_NAME(NULL, &p, c->subject_len);
	X509_NAME *issuer = d2i_X509_NAME(NULL, &q, c->issuer_len);
	int same = subject && issuer && X509_NAME_cmp(subject, issuer) == 0;

	X509_NAME_free(subject);
	X509_NAME_free(issuer);
	return same;
}

/* A certificate entry from the parts of its DER value. */
static void cert_fields_parts(p11e_object *o, struct cert_parts *c)
{
	BASIC_CONSTRAINTS *bc =
		c->exts ? X509V3_get_d2i(c->exts, NID_basic_constraints, NULL, NULL) : NULL;
	BIGNUM *bn;

	o->subject = c->subject;
	o->issuer = c->issuer;
	c->subject = c->issuer = NULL;
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
	else if (c->version == 0)
		o->authority |= v1_self_issued(c);
	BASIC_CONSTRAINTS_free(bc);
}

/* Fill a certificate entry from its DER value. */
void p11e__cert_fields(p11e_ctx *ctx, p11e_object *o, const unsigned char *der, CK_ULONG len,
                       struct p11e__name_memo *memo)
{
	const unsigned char *p = der;
	struct cert_parts parts;
	X509 *c;
	BIGNUM *bn = NULL;

	if (len <= LONG_MAX && cert_parts_read(der, (long)len, &parts, memo)) {
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
