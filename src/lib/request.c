/*
 * request.c - PKCS#10 requests: content from OpenSSL's own machinery
 * (req-style config files through NCONF and X509V3, the command line's
 * subject/SAN/extension syntax), signed on the token through our provider
 * (or libp11's engine, engine.c), verified before anyone sees them.  What a
 * request holds comes from a p11e_req (request-builder.c).
 */
#include "config.h"

#include <openssl/asn1.h>
#include <openssl/conf.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "provider.h"

/* [req] keys: what we use, what only makes sense for software keys. */
static const char *const req_used[] = {
	"distinguished_name", "req_extensions", "prompt", "string_mask", "utf8", "default_md",
	NULL,
};
static const char *const req_ignored[] = {
	"default_bits", "encrypt_key", "encrypt_rsa_key", "default_keyfile", "input_password",
	"output_password", "RANDFILE", "x509_extensions", "attributes", "oid_file",
	"oid_section", "dirstring_type", "copy_extensions", NULL,
};

static int in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return 1;
	return 0;
}

struct req_conf {
	CONF *conf;
	const char *file;
	const char *dn_section;
	const char *ext_section;
	const char *default_md;
	unsigned long chtype; /* MBSTRING_ASC or MBSTRING_UTF8 */
};

/* file:line of "name =" in [sec] of the config, for a message (read only then) */
#define AT(sec, name) p11e__conf_where(at, sizeof(at), rc->file, (sec), (name))

static p11e_status conf_load(p11e_ctx *ctx, const char *file, struct req_conf *rc)
{
	STACK_OF(CONF_VALUE) *sect;
	const char *v;
	long errline = -1;
	char at[PATH_MAX + 24];
	int i;

	rc->file = file;
	rc->chtype = MBSTRING_ASC;
	rc->conf = NCONF_new_ex(p11e__libctx(ctx), NULL);
	if (!rc->conf)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	if (NCONF_load(rc->conf, file, &errline) <= 0) {
		unsigned long e = ERR_peek_last_error();

		ERR_clear_error();
		if (errline > 0)
			return p11e__fail(ctx, P11E_ERR_INPUT, "%s:%ld: %s: fix the config file", file,
			                  errline, ERR_reason_error_string(e) ? ERR_reason_error_string(e)
			                                                      : "syntax error");
		return p11e__fail(ctx, P11E_ERR_INPUT, "cannot read config %s: %s", file,
		                  ERR_reason_error_string(e) ? ERR_reason_error_string(e)
		                                             : "no such file");
	}
	sect = NCONF_get_section(rc->conf, "req");
	if (!sect)
		return p11e__fail(ctx, P11E_ERR_INPUT, "%s has no [req] section: add one", file);
	for (i = 0; i < sk_CONF_VALUE_num(sect); i++) {
		CONF_VALUE *cv = sk_CONF_VALUE_value(sect, i);

		if (in_list(req_used, cv->name))
			continue;
		if (in_list(req_ignored, cv->name)) {
			p11e__log(ctx, P11E_LOG_NOTE, "%s: [req] %s ignored: the key is on the token",
			          AT("req", cv->name), cv->name);
			continue;
		}
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s: unknown field '%s' in [req]: remove it or check its spelling",
		                  AT("req", cv->name), cv->name);
	}
	v = NCONF_get_string(rc->conf, "req", "prompt");
	if (v && strcmp(v, "no") != 0)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s: [req] prompt = %s: requests are built without questions; set prompt = no "
		                  "and give the values in the distinguished_name section",
		                  AT("req", "prompt"), v);
	ERR_clear_error(); /* missing keys leave errors behind */
	rc->dn_section = NCONF_get_string(rc->conf, "req", "distinguished_name");
	rc->ext_section = NCONF_get_string(rc->conf, "req", "req_extensions");
	rc->default_md = NCONF_get_string(rc->conf, "req", "default_md");
	v = NCONF_get_string(rc->conf, "req", "utf8");
	if (v && (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0))
		rc->chtype = MBSTRING_UTF8;
	v = NCONF_get_string(rc->conf, "req", "string_mask");
	if (v && !ASN1_STRING_set_default_mask_asc(v))
		return p11e__fail(ctx, P11E_ERR_INPUT, "%s: [req] string_mask = %s is not valid",
		                  AT("req", "string_mask"), v);
	ERR_clear_error();
	if (rc->dn_section && !NCONF_get_section(rc->conf, rc->dn_section))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s: distinguished_name names section [%s], which is not there: "
		                  "add it or fix the name",
		                  AT("req", "distinguished_name"), rc->dn_section);
	if (rc->ext_section && !NCONF_get_section(rc->conf, rc->ext_section))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s: req_extensions names section [%s], which is not there: add it "
		                  "or fix the name",
		                  AT("req", "req_extensions"), rc->ext_section);
	return P11E_OK;
}

/* The subject from the config's DN section, in the order written. */
static p11e_status conf_subject(p11e_ctx *ctx, const struct req_conf *rc, X509_NAME *name)
{
	STACK_OF(CONF_VALUE) *sect = NCONF_get_section(rc->conf, rc->dn_section);
	char at[PATH_MAX + 24];
	int i;

	for (i = 0; i < sk_CONF_VALUE_num(sect); i++) {
		CONF_VALUE *cv = sk_CONF_VALUE_value(sect, i);
		const char *type = cv->name, *p;
		int set = 0;

		/* "0.OU", "1.OU": several of a kind; "+CN": same RDN as the one before */
		for (p = type; *p; p++)
			if (*p == ':' || *p == ',' || *p == '.') {
				if (p[1])
					type = p + 1;
				break;
			}
		if (*type == '+') {
			set = -1;
			type++;
		}
		if (!cv->value || !*cv->value)
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "%s: [%s] %s is empty: give it a value or remove it",
			                  AT(rc->dn_section, cv->name), rc->dn_section, cv->name);
		if (!X509_NAME_add_entry_by_txt(name, type, (int)rc->chtype,
		                                (const unsigned char *)cv->value, -1, -1, set)) {
			ERR_clear_error();
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "%s: [%s] '%s' is not a subject attribute OpenSSL knows (or its "
			                  "value is not allowed): check the name",
			                  AT(rc->dn_section, cv->name), rc->dn_section, cv->name);
		}
	}
	return P11E_OK;
}

/*
 * OpenSSL's command-line subject syntax: /type=value/type=value+type=value,
 * with backslash escapes.
 */
static p11e_status parse_subject(p11e_ctx *ctx, const char *subj, unsigned long chtype,
                                 X509_NAME *name)
{
	char *buf = NULL, *type, *value, *w;
	const char *r = subj;
	int set = 0;
	p11e_status st = P11E_OK;

	if (*r != '/')
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "subject '%s' must start with '/', as in /C=US/O=Acme/CN=host", subj);
	buf = malloc(strlen(subj) + 1);
	if (!buf)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	r++;
	while (*r && st == P11E_OK) {
		int next_set = 0;

		w = type = buf;
		while (*r && *r != '=') {
			if (*r == '\\' && r[1])
				r++;
			*w++ = *r++;
		}
		*w++ = '\0';
		if (*r != '=') {
			st = p11e__fail(ctx, P11E_ERR_USAGE, "subject: '%s' has no '=value'", type);
			break;
		}
		r++;
		value = w;
		while (*r && *r != '/' && *r != '+') {
			if (*r == '\\' && r[1])
				r++;
			*w++ = *r++;
		}
		*w = '\0';
		if (*r == '+')
			next_set = 1;
		if (*r)
			r++;
		if (!*type || !*value)
			st = p11e__fail(ctx, P11E_ERR_USAGE,
			                "subject: empty attribute name or value near '%s'",
			                *type ? type : value);
		else if (!X509_NAME_add_entry_by_txt(name, type, (int)chtype,
		                                     (unsigned char *)value, -1, -1, set ? -1 : 0)) {
			ERR_clear_error();
			st = p11e__fail(ctx, P11E_ERR_USAGE,
			                "subject: '%s' is not a subject attribute OpenSSL knows", type);
		}
		set = next_set;
	}
	free(buf);
	return st;
}

/*
 * Put a copy of ext into sk, replacing one of the same kind (the command line
 * wins), and free ext.
 */
static int ext_put(STACK_OF(X509_EXTENSION) **sk, X509_EXTENSION *ext)
{
	int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
	int at = X509v3_get_ext_by_NID(*sk, nid, -1);
	int ok;

	if (at >= 0)
		X509_EXTENSION_free(X509v3_delete_ext(*sk, at));
	ok = X509v3_add_ext(sk, ext, -1) != NULL;
	X509_EXTENSION_free(ext);
	return ok;
}

static p11e_status ossl_input(p11e_ctx *ctx, const char *what)
{
	return p11e__fail_ossl(ctx, P11E_ERR_INPUT, what);
}

/*
 * Which entry of the extension section (or of a section an entry names with
 * @, as subjectAltName = @alt_names does) OpenSSL refuses: its file:line and
 * OpenSSL's reason, for a message that points at the mistake.
 */
static p11e_status ext_failure(p11e_ctx *ctx, const struct req_conf *rc, X509V3_CTX *v3)
{
	STACK_OF(CONF_VALUE) *sect = NCONF_get_section(rc->conf, rc->ext_section);
	char at[PATH_MAX + 24], what[PATH_MAX + 300];
	const char *in = rc->ext_section, *name = NULL;

	ERR_set_mark();
	for (int i = 0; !name && i < sk_CONF_VALUE_num(sect); i++) {
		CONF_VALUE *cv = sk_CONF_VALUE_value(sect, i);
		X509_EXTENSION *ext = X509V3_EXT_nconf(rc->conf, v3, cv->name, cv->value);
		STACK_OF(CONF_VALUE) *sub;

		if (ext) {
			X509_EXTENSION_free(ext);
			continue;
		}
		name = cv->name;
		/* a general name list: find the entry in the section it names */
		if (cv->value && cv->value[0] == '@' &&
		    (sub = NCONF_get_section(rc->conf, cv->value + 1))) {
			for (int j = 0; j < sk_CONF_VALUE_num(sub); j++) {
				CONF_VALUE *gv = sk_CONF_VALUE_value(sub, j);
				GENERAL_NAME *gn = v2i_GENERAL_NAME(NULL, v3, gv);

				if (gn) {
					GENERAL_NAME_free(gn);
					continue;
				}
				in = cv->value + 1;
				name = gv->name;
				break;
			}
		}
	}
	/* the first failure's reason is the one to report: drop the probes' */
	ERR_pop_to_mark();
	if (!name) {
		snprintf(what, sizeof(what), "%s: fix the extensions in [%s] or a section they name",
		         rc->file, rc->ext_section);
		return ossl_input(ctx, what);
	}
	snprintf(what, sizeof(what), "%s: [%s] %s: fix this extension value",
	         p11e__conf_where(at, sizeof(at), rc->file, in, name), in, name);
	return ossl_input(ctx, what);
}

/* base: extensions to start from (renew: the old certificate's), or NULL. */
static p11e_status build_extensions(p11e_ctx *ctx, const struct req_conf *rc, const p11e_req *o,
                                    const STACK_OF(X509_EXTENSION) *base, X509_REQ *req)
{
	STACK_OF(X509_EXTENSION) *sk = NULL;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char what[256], *san = NULL;
	size_t san_len = 0;
	p11e_status st = P11E_OK;

	for (int i = 0; base && i < sk_X509_EXTENSION_num(base); i++) {
		X509_EXTENSION *e = X509_EXTENSION_dup(sk_X509_EXTENSION_value(base, i));

		if (!e || !ext_put(&sk, e)) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
	}
	X509V3_set_ctx(&v3, NULL, NULL, req, NULL, 0);
	if (rc && rc->conf)
		X509V3_set_nconf(&v3, rc->conf);
	if (rc && rc->ext_section &&
	    !X509V3_EXT_add_nconf_sk(rc->conf, &v3, rc->ext_section, &sk)) {
		st = ext_failure(ctx, rc, &v3);
		goto done;
	}
	for (size_t i = 0; o->san && o->san[i]; i++) {
		size_t n = strlen(o->san[i]);
		char *grown = realloc(san, san_len + n + 2);

		if (!grown) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
		san = grown;
		if (san_len)
			san[san_len++] = ',';
		memcpy(san + san_len, o->san[i], n + 1);
		san_len += n;
	}
	if (san) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
		if (!ext || !ext_put(&sk, ext)) {
			snprintf(what, sizeof(what), "subjectAltName '%s' (as in DNS:a.example,IP:192.0.2.1)", san);
			st = ossl_input(ctx, what);
			goto done;
		}
	}
	for (size_t i = 0; o->ext && o->ext[i]; i++) {
		char *spec = strdup(o->ext[i]), *eq = spec ? strchr(spec, '=') : NULL;

		if (!eq) {
			free(spec);
			st = p11e__fail(ctx, P11E_ERR_USAGE,
			                "extension '%s': use name=value, as in extendedKeyUsage=clientAuth",
			                o->ext[i]);
			goto done;
		}
		*eq = '\0';
		ext = X509V3_EXT_nconf(rc ? rc->conf : NULL, &v3, spec, eq + 1);
		free(spec);
		if (!ext || !ext_put(&sk, ext)) {
			snprintf(what, sizeof(what), "extension '%s' (OpenSSL's extension syntax)", o->ext[i]);
			st = ossl_input(ctx, what);
			goto done;
		}
	}
	if (sk && sk_X509_EXTENSION_num(sk) > 0 && !X509_REQ_add_extensions(req, sk))
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot add the extensions");
done:
	free(san);
	sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
	return st;
}

static const char *digest_name(p11e_ctx *ctx, const char *d)
{
	if (!d || strcasecmp(d, "sha256") == 0)
		return "SHA256";
	if (strcasecmp(d, "sha384") == 0)
		return "SHA384";
	if (strcasecmp(d, "sha512") == 0)
		return "SHA512";
	p11e__fail(ctx, P11E_ERR_USAGE, "digest '%s' is not offered: use sha256, sha384 or sha512", d);
	return NULL;
}

static p11e_status sign_request(p11e_ctx *ctx, const p11e_key *key, const p11e_req *o,
                                const char *md, X509_REQ *req)
{
	EVP_PKEY *tok = NULL;
	EVP_MD_CTX *mctx = NULL;
	OSSL_PARAM params[3], *pp = NULL;
	int pss = (o->flags & P11E_REQ_PSS) != 0;
	p11e_status st;

	if (pss && key->type != P11E_KEY_RSA)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_PSS_NEEDS_RSA,
		                      "RSA-PSS needs an RSA key; '%s' is EC", key->label);
	if (o->backend == P11E_BACKEND_ENGINE)
		return p11e__engine_sign(ctx, key, md, pss, req);
	st = p11e__key_evp(ctx, key, &tok);
	if (st != P11E_OK)
		return st;
	if (pss) {
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE,
		                                             (char *)OSSL_PKEY_RSA_PAD_MODE_PSS, 0);
		params[1] = OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN,
		                                             (char *)OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST, 0);
		params[2] = OSSL_PARAM_construct_end();
		pp = params;
	}
	mctx = EVP_MD_CTX_new();
	if (!mctx ||
	    EVP_DigestSignInit_ex(mctx, NULL, md, ctx->libctx, P11E_PROV_PREFER, tok, pp) <= 0 ||
	    X509_REQ_sign_ctx(req, mctx) <= 0) {
		/* a token failure was recorded by the provider; prefer its words */
		if (ctx->last_call && ctx->last_rv != CKR_OK)
			st = p11e__fail_rv(ctx, "signing the request", ctx->last_call, ctx->last_rv);
		else
			st = p11e__fail_ossl(ctx, P11E_ERR_TOKEN, "signing the request failed");
		ERR_clear_error();
	}
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(tok);
	return st;
}

static p11e_status check_profile(p11e_ctx *ctx, const char *profile, X509_REQ *req,
                                 EVP_PKEY *pub)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	p11e_status st = p11e__profile_check(ctx, profile, X509_REQ_get_subject_name(req), exts,
	                                     pub);

	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return st;
}

/* Everything but the key: subject and extensions, checked. */
p11e_status p11e__req_prepare(p11e_ctx *ctx, const p11e_req *o, X509_REQ **out,
                              const char **mdname)
{
	struct req_conf rc;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	unsigned long saved_mask = ASN1_STRING_get_default_mask();
	p11e_status st;

	o = p11e__req_or_empty(o);
	memset(&rc, 0, sizeof(rc));
	rc.chtype = MBSTRING_ASC;
	*out = NULL;
	if (!p11e__libctx(ctx))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up OpenSSL");
	if (o->config && (st = conf_load(ctx, o->config, &rc)) != P11E_OK)
		goto cleanup;
	*mdname = digest_name(ctx, o->digest ? o->digest : rc.default_md);
	if (!*mdname) {
		st = P11E_ERR_USAGE;
		goto cleanup;
	}
	req = X509_REQ_new_ex(ctx->libctx, NULL);
	name = X509_NAME_new();
	if (!req || !name || !X509_REQ_set_version(req, X509_REQ_VERSION_1)) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto cleanup;
	}
	if (o->subject)
		st = parse_subject(ctx, o->subject, rc.chtype, name);
	else if (rc.dn_section)
		st = conf_subject(ctx, &rc, name);
	else
		st = p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_SUBJECT_MISSING,
		                    "no subject: neither a subject nor a config with "
		                    "distinguished_name");
	if (st != P11E_OK)
		goto cleanup;
	if (X509_NAME_entry_count(name) == 0) {
		st = p11e__fail(ctx, P11E_ERR_INPUT, "the subject is empty: give at least CN");
		goto cleanup;
	}
	if (!X509_REQ_set_subject_name(req, name)) {
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set the subject");
		goto cleanup;
	}
	st = build_extensions(ctx, o->config ? &rc : NULL, o, NULL, req);
	if (st == P11E_OK && o->profile)
		st = check_profile(ctx, o->profile, req, NULL);
	if (st == P11E_OK) {
		*out = req;
		req = NULL;
	}
cleanup:
	ASN1_STRING_set_default_mask(saved_mask);
	X509_NAME_free(name);
	X509_REQ_free(req);
	NCONF_free(rc.conf);
	ERR_clear_error();
	return st;
}

/*
 * A request that repeats a certificate: its subject (unless --subject), its
 * subjectAltName, extendedKeyUsage and keyUsage (each unless overridden by
 * --san / --ext).  A --config replaces all of it.
 */
p11e_status p11e__req_from_cert(p11e_ctx *ctx, X509 *cert, const p11e_req *o,
                                X509_REQ **out, const char **mdname)
{
	static const int kept[] = { NID_subject_alt_name, NID_ext_key_usage, NID_key_usage };
	STACK_OF(X509_EXTENSION) *base = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	p11e_status st;

	o = p11e__req_or_empty(o);
	*out = NULL;
	if (o->config)
		return p11e__req_prepare(ctx, o, out, mdname);
	*mdname = digest_name(ctx, o->digest);
	if (!*mdname)
		return P11E_ERR_USAGE;
	req = X509_REQ_new_ex(p11e__libctx(ctx), NULL);
	name = o->subject ? X509_NAME_new() : X509_NAME_dup(X509_get_subject_name(cert));
	if (!req || !name || !X509_REQ_set_version(req, X509_REQ_VERSION_1)) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	if (o->subject && (st = parse_subject(ctx, o->subject, MBSTRING_UTF8, name)) != P11E_OK)
		goto done;
	if (!X509_REQ_set_subject_name(req, name)) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		int at = X509_get_ext_by_NID(cert, kept[i], -1);

		if (at >= 0 && !X509v3_add_ext(&base, X509_get_ext(cert, at), -1)) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
	}
	st = build_extensions(ctx, NULL, o, base, req);
	if (st == P11E_OK && o->profile)
		st = check_profile(ctx, o->profile, req, NULL);
	if (st == P11E_OK) {
		*out = req;
		req = NULL;
	}
done:
	sk_X509_EXTENSION_pop_free(base, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return st;
}

/* Public key, signature on the token, verification, encoding. */
p11e_status p11e__req_finish(p11e_ctx *ctx, const p11e_key *key, const p11e_req *o,
                             p11e_format format, const char *md, X509_REQ *req,
                             unsigned char **out, size_t *outlen)
{
	EVP_PKEY *pub = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem;
	p11e_status st;

	o = p11e__req_or_empty(o);
	*out = NULL;
	*outlen = 0;
	st = p11e__key_public(ctx, key, &pub);
	if (st != P11E_OK)
		goto cleanup;
	if (!p11e__spki_set(X509_REQ_get_X509_PUBKEY(req), pub)) {
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set the public key");
		goto cleanup;
	}
	/* now with the key: a request that breaks the profile is never signed */
	if (o->profile && (st = check_profile(ctx, o->profile, req, pub)) != P11E_OK)
		goto cleanup;
	st = sign_request(ctx, key, o, md, req);
	if (st != P11E_OK)
		goto cleanup;
	/* the token's signature must verify with the token's public key */
	if (X509_REQ_verify_ex(req, pub, ctx->libctx, NULL) != 1) {
		st = p11e__fail_ossl(ctx, P11E_ERR_TOKEN,
		                     "the token's signature on the request does not verify");
		goto cleanup;
	}
	bio = BIO_new(BIO_s_mem());
	if (!bio || !(format == P11E_FORMAT_DER ? i2d_X509_REQ_bio(bio, req)
	                                        : PEM_write_bio_X509_REQ(bio, req))) {
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot encode the request");
		goto cleanup;
	}
	BIO_get_mem_ptr(bio, &mem);
	*out = malloc(mem->length ? mem->length : 1);
	if (!*out) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto cleanup;
	}
	memcpy(*out, mem->data, mem->length);
	*outlen = mem->length;
cleanup:
	BIO_free(bio);
	EVP_PKEY_free(pub);
	ERR_clear_error();
	return st;
}

p11e_status p11e_csr_make(p11e_ctx *ctx, const p11e_key *key, const p11e_req *o,
                          p11e_format format, unsigned char **out, size_t *outlen)
{
	X509_REQ *req = NULL;
	const char *md = NULL;
	char bad[200];
	p11e_status st;

	p11e__clear_error(ctx);
	*out = NULL;
	*outlen = 0;
	if (format != P11E_FORMAT_PEM && format != P11E_FORMAT_DER)
		return p11e__fail(ctx, P11E_ERR_USAGE, "p11e_csr_make: unknown format %d", (int)format);
	if (!ctx->logged_in)
		return p11e__fail(ctx, P11E_ERR_USAGE, "log in to the token first");
	/* a key brought to the token (imported) can still be asked for; say so */
	if (p11e__key_exposed(key, bad, sizeof(bad)))
		p11e__log(ctx, P11E_LOG_WARN,
		          "key '%s' is not one born on the token that never left it (%s): a copy "
		          "of it may exist elsewhere",
		          key->label, bad);
	st = p11e__req_prepare(ctx, o, &req, &md);
	if (st == P11E_OK)
		st = p11e__req_finish(ctx, key, o, format, md, req, out, outlen);
	X509_REQ_free(req);
	return st;
}
