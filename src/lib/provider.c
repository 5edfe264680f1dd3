/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * provider.c - a small OpenSSL 3 provider whose keys are token key handles.
 *
 * keymgmt "RSA" and "EC" hold a key handle, the session's context and a
 * software copy of the public half; signature "RSA" (PKCS#1 v1.5 and PSS)
 * and "ECDSA" hash in software and sign with C_Sign (provider-sig.c).  It is
 * registered only in the library's own OSSL_LIB_CTX (ossl.c), so the
 * process' default context never sees it.  Export gives the public half only (for
 * EVP_PKEY_eq against a certificate's key): a token key cannot be moved to another
 * provider, so OpenSSL always signs through this one.
 */
#include "config.h"

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "provider.h"

#define PROV_NAME "p11enroll"
#define PROV_PROPS "provider=" PROV_NAME

/* --- keymgmt ------------------------------------------------------------ */

static void *km_new(void *provctx)
{
	(void)provctx;
	return calloc(1, sizeof(struct prov_key));
}

static void km_free(void *kd)
{
	struct prov_key *k = kd;

	if (!k)
		return;
	EVP_PKEY_free(k->ref.pub);
	free(k);
}

static int km_has(const void *kd, int selection)
{
	const struct prov_key *k = kd;

	if (!k)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && !k->ref.ctx)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && !k->ref.pub)
		return 0;
	return 1;
}

/*
 * A public key of another provider, imported to be compared with ours
 * (EVP_PKEY_eq and X509_check_private_key export one key of a pair to the
 * other's provider: CMP checks its signer's certificate against its key
 * so).  It has no token behind it (ref.ctx NULL): km_has says it has no
 * private half, so nothing can sign with it.
 */
static int km_import_public(struct prov_key *k, int selection, const OSSL_PARAM params[])
{
	const char *type = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_N) ? "RSA" : "EC";
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pub = NULL;
	int ok;

	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ||
	    !(selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY))
		return 0;
	ok = (pctx = EVP_PKEY_CTX_new_from_name(NULL, type, "provider=default")) &&
	     EVP_PKEY_fromdata_init(pctx) > 0 &&
	     EVP_PKEY_fromdata(pctx, &pub, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) > 0;
	EVP_PKEY_CTX_free(pctx);
	if (!ok) {
		EVP_PKEY_free(pub);
		return 0;
	}
	EVP_PKEY_free(k->ref.pub);
	memset(&k->ref, 0, sizeof(k->ref));
	k->ref.pub = pub;
	return 1;
}

static int km_import(void *kd, int selection, const OSSL_PARAM params[])
{
	struct prov_key *k = kd;
	const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, P11E_PROV_PARAM_REF);
	const struct p11e__prov_ref *ref;

	if (k && !p)
		return km_import_public(k, selection, params);
	if (!k || !p || p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size != sizeof(*ref))
		return 0;
	ref = p->data;
	if (!ref->pub || !EVP_PKEY_up_ref(ref->pub))
		return 0;
	EVP_PKEY_free(k->ref.pub);
	k->ref = *ref;
	return 1;
}

static const OSSL_PARAM *km_import_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_octet_string(P11E_PROV_PARAM_REF, NULL, 0),
		OSSL_PARAM_END,
	};

	(void)selection;
	return types;
}

static int km_get_params(void *kd, OSSL_PARAM params[])
{
	struct prov_key *k = kd;
	OSSL_PARAM *p;

	if (!k || !k->ref.pub)
		return 0;
	/*
	 * libssl asks for more than a CSR needs (an EC key's group, to match
	 * TLS signature algorithms): what the public half knows, it says
	 */
	if (k->ref.type == P11E_KEY_EC &&
	    (p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_GROUP_NAME))) {
		char group[64];

		if (!EVP_PKEY_get_utf8_string_param(k->ref.pub, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                    sizeof(group), NULL) ||
		    !OSSL_PARAM_set_utf8_string(p, group))
			return 0;
	}
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_BITS)) &&
	    !OSSL_PARAM_set_int(p, EVP_PKEY_get_bits(k->ref.pub)))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_SECURITY_BITS)) &&
	    !OSSL_PARAM_set_int(p, EVP_PKEY_get_security_bits(k->ref.pub)))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE)) &&
	    !OSSL_PARAM_set_int(p, EVP_PKEY_get_size(k->ref.pub)))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST)) &&
	    !OSSL_PARAM_set_utf8_string(p, "SHA256"))
		return 0;
	return 1;
}

static const OSSL_PARAM *km_gettable_params(void *provctx)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_END,
	};

	(void)provctx;
	return types;
}

/*
 * The public half only, so that EVP_PKEY_eq can compare a token key with a
 * certificate's (X509_check_private_key in SSL_CTX_use_PrivateKey); the
 * private half never leaves: asking for it fails.
 */
static int km_export(void *kd, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
	struct prov_key *k = kd;
	OSSL_PARAM *params = NULL;
	int ok;

	if (!k || !k->ref.pub || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
		return 0;
	if (EVP_PKEY_todata(k->ref.pub, EVP_PKEY_PUBLIC_KEY, &params) != 1)
		return 0;
	ok = cb(params, cbarg);
	OSSL_PARAM_free(params);
	return ok;
}

static const OSSL_PARAM *km_export_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
		OSSL_PARAM_END,
	};

	return (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) ? NULL : types;
}

static int km_match(const void *a, const void *b, int selection)
{
	const struct prov_key *ka = a, *kb = b;

	(void)selection;
	return ka && kb && ka->ref.pub && kb->ref.pub && EVP_PKEY_eq(ka->ref.pub, kb->ref.pub) == 1;
}

static const char *km_rsa_op_name(int op)
{
	return op == OSSL_OP_SIGNATURE ? "RSA" : NULL;
}

static const char *km_ec_op_name(int op)
{
	return op == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

#define KEYMGMT_COMMON                                                                \
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))km_new },                            \
		{ OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free },                  \
		{ OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has },                    \
		{ OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))km_match },                \
		{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_import },              \
		{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))km_import_types },  \
		{ OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))km_export },              \
		{ OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))km_export_types },  \
		{ OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params },      \
	{                                                                             \
		OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))km_gettable_params \
	}

static const OSSL_DISPATCH rsa_keymgmt[] = {
	KEYMGMT_COMMON,
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))km_rsa_op_name },
	{ 0, NULL },
};

static const OSSL_DISPATCH ec_keymgmt[] = {
	KEYMGMT_COMMON,
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))km_ec_op_name },
	{ 0, NULL },
};

/* --- the provider ------------------------------------------------------- */

#define RSA_NAMES "RSA:rsaEncryption:1.2.840.113549.1.1.1"
#define EC_NAMES "EC:id-ecPublicKey:1.2.840.10045.2.1"

static const OSSL_ALGORITHM keymgmt_algs[] = {
	{ RSA_NAMES, PROV_PROPS, rsa_keymgmt, "RSA keys on a PKCS#11 token" },
	{ EC_NAMES, PROV_PROPS, ec_keymgmt, "EC keys on a PKCS#11 token" },
	{ NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM signature_algs[] = {
	{ RSA_NAMES, PROV_PROPS, p11e__prov_signature, "RSA signatures made by a PKCS#11 token" },
	{ "ECDSA", PROV_PROPS, p11e__prov_signature, "ECDSA signatures made by a PKCS#11 token" },
	{ NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM *prov_query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	switch (op) {
	case OSSL_OP_KEYMGMT: return keymgmt_algs;
	case OSSL_OP_SIGNATURE: return signature_algs;
	}
	return NULL;
}

static const OSSL_DISPATCH prov_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))prov_query },
	{ 0, NULL },
};

static int prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                     const OSSL_DISPATCH **out, void **provctx)
{
	OSSL_FUNC_core_get_libctx_fn *get_libctx = NULL;

	for (; in && in->function_id; in++)
		if (in->function_id == OSSL_FUNC_CORE_GET_LIBCTX)
			get_libctx = OSSL_FUNC_core_get_libctx(in);
	if (!get_libctx)
		return 0;
	/* the library context we live in: digests are fetched from it */
	*provctx = (void *)get_libctx(handle);
	*out = prov_dispatch;
	return 1;
}

/*
 * Our provider joins the library context the first time a token key becomes
 * an EVP_PKEY, and only then: reading a config, a certificate or a quirk
 * file never pays for it.
 */
static int provider_load(p11e_ctx *ctx)
{
	if (ctx->prov_ours)
		return 0;
	if (!p11e__libctx(ctx) || !OSSL_PROVIDER_add_builtin(ctx->libctx, PROV_NAME, prov_init))
		return -1;
	ctx->prov_ours = OSSL_PROVIDER_load(ctx->libctx, PROV_NAME);
	return ctx->prov_ours ? 0 : -1;
}

p11e_status p11e__key_evp(p11e_ctx *ctx, const p11e_key *key, EVP_PKEY **out)
{
	struct p11e__prov_ref ref;
	OSSL_PARAM params[2];
	EVP_PKEY_CTX *pctx = NULL;
	p11e_status st;

	*out = NULL;
	if (provider_load(ctx) != 0)
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot load the library's provider");
	memset(&ref, 0, sizeof(ref));
	st = p11e__key_public(ctx, key, &ref.pub);
	if (st != P11E_OK)
		return st;
	ref.ctx = ctx;
	ref.handle = key->handle;
	ref.type = key->type;
	params[0] = OSSL_PARAM_construct_octet_string(P11E_PROV_PARAM_REF, &ref, sizeof(ref));
	params[1] = OSSL_PARAM_construct_end();
	pctx = EVP_PKEY_CTX_new_from_name(ctx->libctx, key->type == P11E_KEY_RSA ? "RSA" : "EC",
	                                  PROV_PROPS);
	if (!pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_KEYPAIR, params) <= 0)
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED,
		                     "cannot make an OpenSSL key of the token key");
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(ref.pub); /* the key holds its own reference */
	return st;
}
