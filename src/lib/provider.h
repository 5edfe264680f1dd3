/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * provider.h - how the library hands a token key to its provider.
 */
#ifndef P11ENROLL_PROVIDER_H
#define P11ENROLL_PROVIDER_H

#include "internal.h"

/* The one import parameter of our keymgmt: a struct p11e__prov_ref, by value. */
#define P11E_PROV_PARAM_REF "p11enroll-key-ref"
/* Property query that prefers our provider's algorithms. */
#define P11E_PROV_PREFER "?provider=p11enroll"

struct p11e__prov_ref {
	p11e_ctx *ctx; /* owns the logged-in session the key is used in */
	CK_OBJECT_HANDLE handle;
	p11e_key_type type;
	EVP_PKEY *pub; /* software public half */
};

/* What our keymgmt holds for a key, and the signature side signs with. */
struct prov_key {
	struct p11e__prov_ref ref;
};

/* provider-sig.c: the signature operations of "RSA" and "ECDSA" */
extern const OSSL_DISPATCH p11e__prov_signature[];

/* An EVP_PKEY in ctx->libctx whose signatures are made by the token. */
p11e_status p11e__key_evp(p11e_ctx *ctx, const p11e_key *key, EVP_PKEY **out);

#endif
