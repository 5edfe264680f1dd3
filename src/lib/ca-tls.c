/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ca-tls.c - the TLS client a CA is reached through.  It lives in the
 * library's own OpenSSL context, where a token key is an EVP_PKEY of our
 * provider: SSL_CTX_use_PrivateKey with that key makes the token sign the
 * handshake (CertificateVerify), nothing is exported.  The server is
 * trusted only through the anchors given, never the system's store.
 */
#include "config.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ca-net.h"
#include "provider.h"

static int is_ip(const char *host)
{
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
	int ok = ip != NULL;

	ASN1_OCTET_STRING_free(ip);
	ERR_clear_error();
	return ok;
}

p11e_status p11e__tls_new(p11e_ctx *ctx, const char *host, STACK_OF(X509) *anchors,
                          const p11e_key *key, X509 *cert, SSL_CTX **out)
{
	SSL_CTX *ssl = NULL;
	EVP_PKEY *pkey = NULL;
	X509_VERIFY_PARAM *vpm;
	X509_STORE *store;
	p11e_status st = P11E_OK;

	*out = NULL;
	if (!p11e__libctx(ctx))
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up OpenSSL");
	ssl = SSL_CTX_new_ex(ctx->libctx, NULL, TLS_client_method());
	if (!ssl || !SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION)) {
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up TLS");
		goto done;
	}
	/* no session tickets kept: one connection per exchange, nothing to resume */
	SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
	if (anchors) {
		store = SSL_CTX_get_cert_store(ssl);
		for (int i = 0; i < sk_X509_num(anchors); i++)
			if (!X509_STORE_add_cert(store, sk_X509_value(anchors, i))) {
				st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up TLS");
				goto done;
			}
		SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		vpm = SSL_CTX_get0_param(ssl);
		X509_VERIFY_PARAM_set_hostflags(vpm, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (!(is_ip(host) ? X509_VERIFY_PARAM_set1_ip_asc(vpm, host)
		                  : X509_VERIFY_PARAM_set1_host(vpm, host, 0))) {
			st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot set up TLS");
			goto done;
		}
	} else {
		/* the RFC 7030 4.1.1 bootstrap: only /cacerts, compared to a fingerprint */
		SSL_CTX_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	}
	if (key) {
		st = p11e__key_evp(ctx, key, &pkey);
		if (st != P11E_OK)
			goto done;
		if (SSL_CTX_use_certificate(ssl, cert) != 1 ||
		    SSL_CTX_use_PrivateKey(ssl, pkey) != 1 || SSL_CTX_check_private_key(ssl) != 1) {
			st = p11e__fail_ossl(ctx, P11E_ERR_FAILED,
			                     "cannot use the token key for TLS client "
			                     "authentication");
			goto done;
		}
	}
	*out = ssl;
	ssl = NULL;
done:
	EVP_PKEY_free(pkey);
	SSL_CTX_free(ssl);
	return st;
}
