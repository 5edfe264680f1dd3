/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * profile.c - named policies for requests and certificates, kept as data:
 * OpenSSL-style config files in a search path, checked before a request is
 * signed and again by lint.  Every violation is listed, not just the first.
 * The files are found and read by the data-file loader (datafile.c); this
 * file says what the fields mean and follows inherits.
 */
#include "config.h"

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

struct profile {
	unsigned min_rsa_bits;
	char ec_curves[128];        /* "P-256, P-384"; empty: EC not allowed */
	char required_subject[256]; /* "C, O, CN" */
	int san_required, cn_in_san, no_wildcards, ou_is_uuid;
	char eku_includes[64];
};

static const char *const fields[] = {
	"description",      "inherits",     "min_rsa_bits", "ec_curves",
	"required_subject", "san_required", "cn_in_san",    "no_wildcards",
	"ou_is_uuid",       "eku_includes", NULL,
};
static const struct p11e__datafile_section sections[] = {
	{ "profile", fields, 0 },
	{ NULL, NULL, 0 },
};
static const struct p11e__datafile_kind kind = {
	.what = "profile",
	.env = "P11ENROLL_PROFILE_PATH",
	.subdir = "profiles",
	.sections = sections,
};

static int valid_name(const char *name)
{
	if (!*name)
		return 0;
	for (const char *p = name; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' &&
		    *p != '_')
			return 0;
	return 1;
}

static p11e_status read_profile(p11e_ctx *ctx, const struct p11e__datafile *df, struct profile *p,
                                int depth);

static p11e_status load_profile(p11e_ctx *ctx, const char *name, struct profile *p, int depth)
{
	struct p11e__datafile df;
	char *path = NULL, *dirs;
	p11e_status st;

	if (depth > 4)
		return p11e__fail(ctx, P11E_ERR_INPUT, "profile '%s': inherits too deep (a loop?)",
		                  name);
	if (strchr(name, '/'))
		path = strdup(name);
	else if (valid_name(name) && (st = p11e__datafile_find(ctx, &kind, name, &path)) != P11E_OK)
		return st;
	if (!path) {
		dirs = p11e__datafile_path(&kind);
		st = p11e__fail(ctx, P11E_ERR_NOT_FOUND,
		                "no profile '%s' (searched %s): give a profile name or a file path",
		                name, dirs ? dirs : "$P11ENROLL_PROFILE_PATH");
		free(dirs);
		return st;
	}
	st = p11e__datafile_read(ctx, &kind, path, &df);
	free(path);
	if (st != P11E_OK)
		return st;
	st = read_profile(ctx, &df, p, depth);
	p11e__datafile_free(&df);
	return st;
}

static p11e_status read_profile(p11e_ctx *ctx, const struct p11e__datafile *df, struct profile *p,
                                int depth)
{
	p11e_status st;
	const char *v;

	if (!NCONF_get_section(df->conf, "profile"))
		return p11e__fail(ctx, P11E_ERR_INPUT, "profile %s has no [profile] section",
		                  df->name);
	/* the parent's fields first, so that this file's override them */
	if ((v = p11e__datafile_get(df, "profile", "inherits")) &&
	    (st = load_profile(ctx, v, p, depth + 1)) != P11E_OK)
		return st;
#define STR(field)                                           \
	if ((v = p11e__datafile_get(df, "profile", #field))) \
		snprintf(p->field, sizeof(p->field), "%s", v);
	STR(ec_curves)
	STR(required_subject)
	STR(eku_includes)
#undef STR
	if ((st = p11e__datafile_bool(ctx, df, "profile", "san_required", &p->san_required)) !=
	            P11E_OK ||
	    (st = p11e__datafile_bool(ctx, df, "profile", "cn_in_san", &p->cn_in_san)) != P11E_OK ||
	    (st = p11e__datafile_bool(ctx, df, "profile", "no_wildcards", &p->no_wildcards)) !=
	            P11E_OK ||
	    (st = p11e__datafile_bool(ctx, df, "profile", "ou_is_uuid", &p->ou_is_uuid)) !=
	            P11E_OK ||
	    (st = p11e__datafile_number(ctx, df, "profile", "min_rsa_bits", 1024, 16384, "bits",
	                                &p->min_rsa_bits)) != P11E_OK)
		return st;
	/* an extended key usage OpenSSL cannot name would match nothing, or anything */
	if (p->eku_includes[0]) {
		ASN1_OBJECT *o;

		ERR_set_mark();
		o = OBJ_txt2obj(p->eku_includes, 0);
		ERR_pop_to_mark();
		if (!o)
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "profile %s: eku_includes = %s is no extended key usage "
			                  "name or OID: use clientAuth, serverAuth, ... or a "
			                  "dotted OID",
			                  df->name, p->eku_includes);
		ASN1_OBJECT_free(o);
	}
	return P11E_OK;
}

/* --- the checks ---------------------------------------------------------- */

struct findings {
	char **items;
	size_t n;
};

static void add(struct findings *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct findings *f, const char *fmt, ...)
{
	char buf[512], **grown;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	grown = realloc(f->items, (f->n + 1) * sizeof(*grown));
	if (!grown)
		return;
	f->items = grown;
	f->items[f->n] = strdup(buf);
	if (f->items[f->n])
		f->n++;
}

/* Each name in a "A, B, C" list. */
static int each_name(const char *list, int (*fn)(const char *name, void *arg), void *arg)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
		if (fn(tok, arg))
			return 1;
	return 0;
}

static int name_is(const char *name, void *arg)
{
	return strcasecmp(name, arg) == 0;
}

struct subj_arg {
	const X509_NAME *subject;
	struct findings *f;
};

static int require_attr(const char *name, void *arg)
{
	struct subj_arg *a = arg;
	int nid = OBJ_txt2nid(name);

	if (nid == NID_undef)
		add(a->f, "the profile names '%s', which OpenSSL does not know", name);
	else if (X509_NAME_get_index_by_NID(a->subject, nid, -1) < 0)
		add(a->f, "the subject has no %s (%s)", OBJ_nid2sn(nid), OBJ_nid2ln(nid));
	return 0;
}

static void check_key(const struct profile *p, EVP_PKEY *pub, struct findings *f)
{
	char group[64] = "";
	const char *curve = NULL;

	if (EVP_PKEY_is_a(pub, "RSA")) {
		if ((unsigned)EVP_PKEY_get_bits(pub) < p->min_rsa_bits)
			add(f, "RSA key of %d bits: the profile needs at least %u",
			    EVP_PKEY_get_bits(pub), p->min_rsa_bits);
		return;
	}
	if (EVP_PKEY_is_a(pub, "EC") && EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL)) {
		int nid = OBJ_sn2nid(group);

		curve = nid == NID_X9_62_prime256v1 ? "P-256"
		        : nid == NID_secp384r1      ? "P-384"
		        : nid == NID_secp521r1      ? "P-521"
		                                    : group;
		if (!p->ec_curves[0] || !each_name(p->ec_curves, name_is, (void *)curve))
			add(f, "EC key on curve %s: the profile allows %s", curve,
			    p->ec_curves[0] ? p->ec_curves : "no EC keys");
		return;
	}
	add(f, "the key is neither RSA nor EC");
}

static int is_uuid(const unsigned char *s, int len)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (len != (int)sizeof(shape) - 1)
		return 0;
	for (int i = 0; i < len; i++)
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit(s[i]))
			return 0;
	return 1;
}

static void check_names(const struct profile *p, const X509_NAME *subject,
                        const STACK_OF(X509_EXTENSION) *exts, struct findings *f)
{
	GENERAL_NAMES *sans = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	int i, idx, cn_found = 0, cn_idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	const ASN1_STRING *cn =
		cn_idx >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn_idx)) : NULL;

	if (!sans && p->san_required)
		add(f,
		    "no subjectAltName: list every DNS name and IP address the client calls from");
	for (i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		const ASN1_STRING *dns;

		if (gn->type != GEN_DNS)
			continue;
		dns = gn->d.dNSName;
		if (p->no_wildcards &&
		    memchr(ASN1_STRING_get0_data(dns), '*', (size_t)ASN1_STRING_length(dns)))
			add(f,
			    "wildcard DNS name '%.*s' in subjectAltName: list every name "
			    "explicitly",
			    ASN1_STRING_length(dns), ASN1_STRING_get0_data(dns));
		if (cn && ASN1_STRING_length(dns) == ASN1_STRING_length(cn) &&
		    strncasecmp((const char *)ASN1_STRING_get0_data(dns),
		                (const char *)ASN1_STRING_get0_data(cn),
		                (size_t)ASN1_STRING_length(cn)) == 0)
			cn_found = 1;
	}
	if (p->no_wildcards && cn &&
	    memchr(ASN1_STRING_get0_data(cn), '*', (size_t)ASN1_STRING_length(cn)))
		add(f, "wildcard CN '%.*s': name the host explicitly", ASN1_STRING_length(cn),
		    ASN1_STRING_get0_data(cn));
	if (p->cn_in_san && cn && sans && !cn_found)
		add(f, "CN '%.*s' is not among the DNS names in subjectAltName: add DNS:%.*s",
		    ASN1_STRING_length(cn), ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn),
		    ASN1_STRING_get0_data(cn));
	if (p->ou_is_uuid) {
		for (idx = -1;
		     (idx = X509_NAME_get_index_by_NID(subject, NID_organizationalUnitName, idx)) >=
		     0;) {
			const ASN1_STRING *ou =
				X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));

			if (!is_uuid(ASN1_STRING_get0_data(ou), ASN1_STRING_length(ou)))
				add(f, "OU '%.*s' is not a UUID", ASN1_STRING_length(ou),
				    ASN1_STRING_get0_data(ou));
		}
	}
	GENERAL_NAMES_free(sans);
}

static void check_eku(const struct profile *p, const STACK_OF(X509_EXTENSION) *exts,
                      struct findings *f)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *want;
	int found = 0;

	if (!p->eku_includes[0])
		return;
	/* no EKU at all is the CA's choice; an EKU without clientAuth is a mistake */
	eku = X509V3_get_d2i(exts, NID_ext_key_usage, NULL, NULL);
	if (!eku)
		return;
	/* compared as OIDs: one OpenSSL has no name for still matches only itself */
	want = OBJ_txt2obj(p->eku_includes, 0);
	for (int i = 0; want && i < sk_ASN1_OBJECT_num(eku); i++)
		found |= OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0;
	if (!found)
		add(f, "extendedKeyUsage does not include %s", p->eku_includes);
	ASN1_OBJECT_free(want);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
}

p11e_status p11e__profile_check_type(p11e_ctx *ctx, const char *name, p11e_key_type kt,
                                     unsigned bits, const char *curve)
{
	struct profile p;
	p11e_status st;

	memset(&p, 0, sizeof(p));
	st = load_profile(ctx, name, &p, 0);
	if (st != P11E_OK)
		return st;
	if (kt == P11E_KEY_RSA && bits < p.min_rsa_bits)
		return p11e__fail(ctx, P11E_ERR_POLICY,
		                  "profile '%s' needs RSA keys of at least %u bits, not %u: no key "
		                  "was made",
		                  name, p.min_rsa_bits, bits);
	if (kt == P11E_KEY_EC &&
	    (!p.ec_curves[0] || !each_name(p.ec_curves, name_is, (void *)curve)))
		return p11e__fail(ctx, P11E_ERR_POLICY,
		                  "profile '%s' allows EC curves %s, not %s: no key was made", name,
		                  p.ec_curves[0] ? p.ec_curves : "(none)", curve);
	return P11E_OK;
}

p11e_status p11e__profile_check(p11e_ctx *ctx, const char *name, const X509_NAME *subject,
                                const STACK_OF(X509_EXTENSION) *exts, EVP_PKEY *pub)
{
	struct profile p;
	struct findings f = { NULL, 0 };
	struct subj_arg sa = { subject, &f };
	p11e_status st;

	memset(&p, 0, sizeof(p));
	st = load_profile(ctx, name, &p, 0);
	if (st != P11E_OK)
		return st;
	if (pub)
		check_key(&p, pub, &f);
	if (p.required_subject[0])
		each_name(p.required_subject, require_attr, &sa);
	check_names(&p, subject, exts, &f);
	check_eku(&p, exts, &f);
	p11e__details_set(ctx, f.items, f.n);
	if (f.n)
		return p11e__fail(ctx, P11E_ERR_POLICY, "%zu violation%s of profile '%s'", f.n,
		                  f.n == 1 ? "" : "s", name);
	return P11E_OK;
}

/* Read a CSR or a certificate, PEM or DER. */
static int read_request_or_cert(const char *path, X509_REQ **req, X509 **cert)
{
	BIO *bio = BIO_new_file(path, "rb");

	*req = NULL;
	*cert = NULL;
	if (!bio)
		return -1;
	if ((*req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL)))
		goto done;
	(void)BIO_reset(bio);
	if ((*cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		goto done;
	(void)BIO_reset(bio);
	if ((*req = d2i_X509_REQ_bio(bio, NULL)))
		goto done;
	(void)BIO_reset(bio);
	*cert = d2i_X509_bio(bio, NULL);
done:
	BIO_free(bio);
	ERR_clear_error();
	return *req || *cert ? 0 : -1;
}

p11e_status p11e_lint(p11e_ctx *ctx, const char *path, const char *profile)
{
	X509_REQ *req = NULL;
	X509 *cert = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	p11e_status st;

	p11e__clear_error(ctx);
	if (!p11e__libctx(ctx))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up OpenSSL");
	if (read_request_or_cert(path, &req, &cert) != 0)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s is not a PKCS#10 request or an X.509 certificate (PEM or "
		                  "DER): "
		                  "check the file",
		                  path);
	if (req) {
		if (X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1) {
			st = p11e__fail(ctx, P11E_ERR_INPUT,
			                "%s: the request's signature does not verify: it was "
			                "altered or "
			                "signed with another key",
			                path);
			goto done;
		}
		exts = X509_REQ_get_extensions(req);
		st = p11e__profile_check(ctx, profile ? profile : "mtls-client",
		                         X509_REQ_get_subject_name(req), exts,
		                         X509_REQ_get0_pubkey(req));
	} else {
		st = p11e__profile_check(ctx, profile ? profile : "mtls-client",
		                         X509_get_subject_name(cert), X509_get0_extensions(cert),
		                         X509_get0_pubkey(cert));
	}
done:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	X509_free(cert);
	return st;
}
