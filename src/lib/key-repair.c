/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * key-repair.c - a key pair whose halves lost their common CKA_ID.
 *
 * keygen makes a pair under a random id, then sets the real one (the SHA-1
 * of the public key) on the private half and on the public half: two
 * C_SetAttributeValue calls.  A token pulled out between them, or a cleanup
 * that fails as well, leaves a private key and a public key of one label
 * with different ids, and nothing finds the public half by id any more.
 * The next logged-in run puts them together again: a public key of the same
 * label and key type, whose id no private key has, is the private key's
 * half only if it verifies a signature the private key just made (RSA: if
 * the private key's own modulus and exponent are its), never because of its
 * label.  Then both halves get the SHA-1 id, as keygen would have left them.
 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "provider.h"

/* 1 if some private key has this id, 0 if none, -1 on a token failure. */
static int private_has_id(p11e_ctx *ctx, const unsigned char *id, CK_ULONG len)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, (void *)id, len } };
	CK_OBJECT_HANDLE *hs = NULL;
	size_t n = 0;
	p11e_status st = p11e__find_objects(ctx, t, 2, &hs, &n);

	free(hs);
	return st != P11E_OK ? -1 : n > 0;
}

/* Does the software public key pub belong to the token's private key? */
static int pairs_with(p11e_ctx *ctx, const p11e_key *key, CK_OBJECT_HANDLE cand, EVP_PKEY *pub)
{
	unsigned char msg[32], sig[1024];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *own = NULL, *signer = NULL;
	p11e_key probe = *key;
	int ok = 0;

	if (key->type == P11E_KEY_RSA) {
		/* the private key carries its modulus and exponent: compare them */
		probe.pub_handle = 0;
		if (p11e__key_public(ctx, &probe, &own) == P11E_OK)
			ok = EVP_PKEY_eq(own, pub) == 1;
		EVP_PKEY_free(own);
		return ok;
	}
	/* an EC private key has no public point: it has to prove it */
	probe.pub_handle = cand;
	probe.uri = NULL;
	if (RAND_bytes(msg, sizeof(msg)) != 1 || p11e__key_evp(ctx, &probe, &signer) != P11E_OK)
		goto done;
	if (!(md = EVP_MD_CTX_new()) ||
	    EVP_DigestSignInit_ex(md, NULL, "SHA256", p11e__libctx(ctx), P11E_PROV_PREFER, signer,
	                          NULL) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) != 1)
		goto done;
	EVP_MD_CTX_free(md);
	if (!(md = EVP_MD_CTX_new()) ||
	    EVP_DigestVerifyInit_ex(md, NULL, "SHA256", p11e__libctx(ctx), "provider=default", pub,
	                            NULL) != 1)
		goto done;
	ok = EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) == 1;
done:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(signer);
	return ok;
}

/* Set CKA_ID on h unless it has it already. */
static p11e_status set_id(p11e_ctx *ctx, CK_OBJECT_HANDLE h, const unsigned char *have,
                          CK_ULONG have_len, unsigned char id[20])
{
	CK_ATTRIBUTE a = { CKA_ID, id, 20 };
	CK_RV rv;

	if (have_len == 20 && memcmp(have, id, 20) == 0)
		return P11E_OK;
	rv = P11_CALL(ctx, C_SetAttributeValue, ctx->session, h, &a, 1);
	if (rv != CKR_OK)
		return p11e__fail_rv(ctx, "giving the key pair its id again", "C_SetAttributeValue",
		                     rv);
	return P11E_OK;
}

p11e_status p11e__key_repair(p11e_ctx *ctx, p11e_key *key)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = key->type == P11E_KEY_RSA ? CKK_RSA : CKK_EC;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_LABEL, key->label, strlen(key->label) },
	};
	CK_OBJECT_HANDLE *hs = NULL, found = 0;
	unsigned char *cid = NULL, *fid = NULL, id[20];
	CK_ULONG clen = 0, flen = 0;
	EVP_PKEY *pub = NULL, *fpub = NULL;
	size_t n = 0, matches = 0;
	char hex[41];
	p11e_status st;

	/* only where keygen would have set the id, and only with a session that may */
	if (!ctx->logged_in || !key->label[0] || !p11e__quirks_get(ctx)->set_id_after_generation)
		return P11E_OK;
	st = p11e__find_objects(ctx, t, 3, &hs, &n);
	for (size_t i = 0; st == P11E_OK && i < n; i++) {
		int taken;

		free(cid);
		cid = NULL;
		st = p11e__attr_opt(ctx, hs[i], CKA_ID, &cid, &clen);
		if (st != P11E_OK)
			break;
		/* the public half of another pair is never taken over */
		if (clen && (taken = private_has_id(ctx, cid, clen)) != 0) {
			if (taken < 0)
				st = P11E_ERR_TOKEN;
			continue;
		}
		{
			p11e_key probe = *key;

			probe.pub_handle = hs[i];
			probe.uri = NULL;
			if (p11e__key_public(ctx, &probe, &pub) != P11E_OK) {
				/* not a usable public key of ours: not the half */
				p11e__clear_error(ctx);
				continue;
			}
		}
		if (pairs_with(ctx, key, hs[i], pub)) {
			matches++;
			found = hs[i];
			EVP_PKEY_free(fpub);
			fpub = pub;
			pub = NULL;
			free(fid);
			fid = cid;
			flen = clen;
			cid = NULL;
		}
		EVP_PKEY_free(pub);
		pub = NULL;
		p11e__clear_error(ctx);
	}
	if (st != P11E_OK || matches != 1)
		goto done;
	st = p11e__key_id_of(ctx, fpub, id);
	/* the public half first: the private key's id is what URIs name */
	if (st == P11E_OK)
		st = set_id(ctx, found, fid, flen, id);
	if (st == P11E_OK)
		st = set_id(ctx, key->handle, key->id, key->id_len, id);
	if (st != P11E_OK)
		goto done;
	for (size_t i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	p11e__log(ctx, P11E_LOG_NOTE,
	          "key pair '%s' was split (its halves had different ids, from a run cut short): "
	          "both halves have id %s again",
	          key->label, hex);
	memcpy(key->id, id, 20);
	key->id_len = 20;
	key->pub_handle = found;
done:
	EVP_PKEY_free(pub);
	EVP_PKEY_free(fpub);
	free(hs);
	free(cid);
	free(fid);
	return st;
}
