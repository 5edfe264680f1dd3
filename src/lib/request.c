/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * request.c - PKCS#10 requests: content from OpenSSL's own machinery
 * (req-style config files through NCONF and X509V3, the command line's
 * subject/SAN/extension syntax), signed on the token through our provider
 * (or libp11's engine, engine.c), verified before anyone sees them.  What a
 * request holds comes from a p11e_req (request-builder.c).
 */
#include "config.h"

#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/conf.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "provider.h"

static const char *digest_name(p11e_ctx *ctx, const char *d)
{
	if (!d || strcasecmp(d, "sha256") == 0)
		return "SHA256";
	if (strcasecmp(d, "sha384") == 0)
		return "SHA384";
	if (strcasecmp(d, "sha512") == 0)
		return "SHA512";
	p11e__fail(ctx, P11E_ERR_USAGE, "digest '%s' is not offered: use sha256, sha384 or sha512",
	           d);
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
		params[1] =
			OSSL_PARAM_construct_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN,
		                                         (char *)OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST,
		                                         0);
		params[2] = OSSL_PARAM_construct_end();
		pp = params;
	}
	mctx = EVP_MD_CTX_new();
	if (!mctx ||
	    EVP_DigestSignInit_ex(mctx, NULL, md, ctx->libctx, P11E_PROV_PREFER, tok, pp) <= 0 ||
	    X509_REQ_sign_ctx(req, mctx) <= 0) {
		/* a token failure was recorded by the provider; prefer its words */
		if (ctx->last_call && ctx->last_rv != CKR_OK)
			st = p11e__fail_rv(ctx, "signing the request", ctx->last_call,
			                   ctx->last_rv);
		else
			st = p11e__fail_ossl(ctx, P11E_ERR_TOKEN, "signing the request failed");
		ERR_clear_error();
	}
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(tok);
	return st;
}

/*
 * Keys no CA our users deal with accepts, and no one should sign for by
 * accident: RSA under 2048 bits, EC under 256 (P-224, P-192).  Checked for
 * every request, profile or not; P11E_REQ_ALLOW_WEAK lets it through.
 */
#define MIN_RSA_BITS 2048
#define MIN_EC_BITS 256

static p11e_status check_strength(p11e_ctx *ctx, const p11e_key *key, const p11e_req *o)
{
	unsigned min = key->type == P11E_KEY_RSA ? MIN_RSA_BITS : MIN_EC_BITS;

	if (key->bits >= min)
		return P11E_OK;
	if (o->flags & P11E_REQ_ALLOW_WEAK) {
		p11e__log(ctx, P11E_LOG_WARN,
		          "key '%s' is %s-%u, under %s-%u: signing for it as asked", key->label,
		          key->type == P11E_KEY_RSA ? "RSA" : "EC", key->bits,
		          key->type == P11E_KEY_RSA ? "RSA" : "EC", min);
		return P11E_OK;
	}
	return p11e__fail_why(ctx, P11E_ERR_POLICY, P11E_REASON_KEY_WEAK,
	                      "key '%s' is %s-%u: a request needs at least %s-%u; nothing was "
	                      "signed",
	                      key->label, key->type == P11E_KEY_RSA ? "RSA" : "EC", key->bits,
	                      key->type == P11E_KEY_RSA ? "RSA" : "EC", min);
}

static p11e_status check_profile(p11e_ctx *ctx, const char *profile, X509_REQ *req, EVP_PKEY *pub)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	p11e_status st =
		p11e__profile_check(ctx, profile, X509_REQ_get_subject_name(req), exts, pub);

	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return st;
}

/* Everything but the key: subject and extensions, checked. */
p11e_status p11e__req_prepare(p11e_ctx *ctx, const p11e_req *o, X509_REQ **out, const char **mdname)
{
	struct p11e__req_conf rc;
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
	if (o->config && (st = p11e__req_conf_load(ctx, o->config, &rc)) != P11E_OK)
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
		st = p11e__req_parse_subject(ctx, o->subject, rc.chtype, name);
	else if (rc.dn_section)
		st = p11e__req_conf_subject(ctx, &rc, name);
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
	st = p11e__req_extensions(ctx, o->config ? &rc : NULL, o, NULL, req);
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
p11e_status p11e__req_from_cert(p11e_ctx *ctx, X509 *cert, const p11e_req *o, X509_REQ **out,
                                const char **mdname)
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
	if (o->subject &&
	    (st = p11e__req_parse_subject(ctx, o->subject, MBSTRING_UTF8, name)) != P11E_OK)
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
	st = p11e__req_extensions(ctx, NULL, o, base, req);
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
                             p11e_format format, const char *md, X509_REQ *req, unsigned char **out,
                             size_t *outlen)
{
	EVP_PKEY *pub = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem;
	p11e_status st;

	o = p11e__req_or_empty(o);
	*out = NULL;
	*outlen = 0;
	st = check_strength(ctx, key, o);
	if (st == P11E_OK)
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

p11e_status p11e_csr_make(p11e_ctx *ctx, const p11e_key *key, const p11e_req *o, p11e_format format,
                          unsigned char **out, size_t *outlen)
{
	X509_REQ *req = NULL;
	const char *md = NULL;
	char bad[200];
	p11e_status st;

	p11e__clear_error(ctx);
	*out = NULL;
	*outlen = 0;
	if (format != P11E_FORMAT_PEM && format != P11E_FORMAT_DER)
		return p11e__fail(ctx, P11E_ERR_USAGE, "p11e_csr_make: unknown format %d",
		                  (int)format);
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
