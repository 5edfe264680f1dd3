/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-keys.c - keys and requests against a real SoftHSMv2 token: the
 * non-exportable template as the token reports it, what the token refuses
 * to do with such a key, and requests from every key type and padding that
 * OpenSSL verifies and that match what openssl req makes of the same config.
 */
#include <CUnit/Basic.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define SO_PIN "31415926"
#define USER_PIN "27182818"

static p11e_ctx *ctx;
static CK_OBJECT_HANDLE wrapper; /* an AES key that may wrap (make_wrapper) */
static void make_wrapper(void);

static int suite_init(void)
{
	ctx = harness_token_ready("keys", SO_PIN, USER_PIN);
	return ctx ? 0 : -1;
}

static int suite_clean(void)
{
	p11e_ctx_free(ctx);
	ctx = NULL;
	harness_softhsm_teardown();
	return 0;
}

static void check_nonexportable(const p11e_key *k)
{
	CK_BYTE buf[1024];
	CK_ATTRIBUTE a = { CKA_PRIVATE_EXPONENT, buf, sizeof(buf) };
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE set = { CKA_EXTRACTABLE, &yes, sizeof(yes) };
	CK_MECHANISM wrap = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_ULONG wrapped_len = sizeof(buf);
	CK_RV rv;

	CU_ASSERT_EQUAL(k->sensitive, 1);
	CU_ASSERT_EQUAL(k->extractable, 0);
	CU_ASSERT_EQUAL(k->always_sensitive, 1);
	CU_ASSERT_EQUAL(k->never_extractable, 1);
	CU_ASSERT_EQUAL(k->local, 1);
	CU_ASSERT_NOT_EQUAL(k->pub_handle, 0);

	/* the secret part cannot be read */
	a.type = k->type == P11E_KEY_RSA ? CKA_PRIVATE_EXPONENT : CKA_VALUE;
	rv = ctx->fl->C_GetAttributeValue(ctx->session, k->handle, &a, 1);
	CU_ASSERT_EQUAL(rv, CKR_ATTRIBUTE_SENSITIVE);
	CU_ASSERT_EQUAL(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	/* nor be made extractable again */
	rv = ctx->fl->C_SetAttributeValue(ctx->session, k->handle, &set, 1);
	CU_ASSERT_NOT_EQUAL(rv, CKR_OK);
	CU_ASSERT_EQUAL(p11e__attr_bool(ctx, k->handle, CKA_EXTRACTABLE), 0);
	/* nor be wrapped out by a key made to wrap, which wraps an extractable key */
	CU_ASSERT_NOT_EQUAL_FATAL(wrapper, 0);
	rv = ctx->fl->C_WrapKey(ctx->session, &wrap, wrapper, k->handle, buf, &wrapped_len);
	CU_ASSERT_EQUAL(rv, CKR_KEY_UNEXTRACTABLE);
}

/*
 * A session AES key that may wrap, and proof that it does wrap a private key
 * that is extractable: a refusal to wrap ours then means ours, not the
 * mechanism.
 */
static void make_wrapper(void)
{
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 }, ecgen = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM wrap = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_ULONG len = 32, wrapped_len;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static const CK_BYTE p256[] = {
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
	};
	CK_ATTRIBUTE aes[] = {
		{ CKA_VALUE_LEN, &len, sizeof(len) },
		{ CKA_WRAP, &yes, sizeof(yes) },
		{ CKA_TOKEN, &no, sizeof(no) },
	};
	CK_ATTRIBUTE pub[] = { { CKA_EC_PARAMS, (void *)p256, sizeof(p256) },
		               { CKA_TOKEN, &no, sizeof(no) } };
	CK_ATTRIBUTE priv[] = { { CKA_TOKEN, &no, sizeof(no) },
		                { CKA_SENSITIVE, &no, sizeof(no) },
		                { CKA_EXTRACTABLE, &yes, sizeof(yes) } };
	CK_OBJECT_HANDLE hpub, hpriv;
	CK_BYTE buf[1024];

	CU_ASSERT_EQUAL_FATAL(ctx->fl->C_GenerateKey(ctx->session, &gen, aes, 3, &wrapper), CKR_OK);
	CU_ASSERT_EQUAL_FATAL(ctx->fl->C_GenerateKeyPair(ctx->session, &ecgen, pub, 2, priv, 3,
	                                                 &hpub, &hpriv),
	                      CKR_OK);
	wrapped_len = sizeof(buf);
	CU_ASSERT_EQUAL(ctx->fl->C_WrapKey(ctx->session, &wrap, wrapper, hpriv, buf, &wrapped_len),
	                CKR_OK);
	CU_ASSERT(wrapped_len > 32);
	ctx->fl->C_DestroyObject(ctx->session, hpub);
	ctx->fl->C_DestroyObject(ctx->session, hpriv);
}

static void keygen_one(const char *type, const char *label, p11e_key_type kt, unsigned bits)
{
	p11e_key k;

	CU_ASSERT_EQUAL_FATAL(p11e_keygen(ctx, type, label, NULL, 0, &k), P11E_OK);
	CU_ASSERT_EQUAL(k.type, kt);
	CU_ASSERT_EQUAL(k.bits, bits);
	CU_ASSERT_STRING_EQUAL(k.label, label);
	CU_ASSERT_PTR_NOT_NULL(strstr(k.uri, "type=private"));
	check_nonexportable(&k);
	/*
	 * That CKA_ID is the SHA-1 of the public key is checked once, and
	 * independently of the code that computes it: tests/cli/keygen.sh
	 * hashes the key pkcs11-tool reads off the token with openssl.
	 */
	p11e_key_clear(&k);
}

static void test_keygen_rsa(void)
{
	make_wrapper();
	keygen_one(NULL, "rsa2048", P11E_KEY_RSA, 2048);
	keygen_one("rsa:3072", "rsa3072", P11E_KEY_RSA, 3072);
}

static void test_keygen_ec(void)
{
	p11e_key k;

	keygen_one("ec:P-256", "p256", P11E_KEY_EC, 256);
	keygen_one("ec:P-384", "p384", P11E_KEY_EC, 384);
	CU_ASSERT_EQUAL(p11e_key_find(ctx, "p384", &k), P11E_OK);
	CU_ASSERT_STRING_EQUAL(k.curve, "P-384");
	p11e_key_clear(&k);
}

static void test_keygen_refusals(void)
{
	static const unsigned char id[] = { 0x0a, 0x0b };
	p11e_key k;

	CU_ASSERT_EQUAL(p11e_keygen(ctx, "rsa:1024", "weak", NULL, 0, &k), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_keygen(ctx, NULL, "rsa2048", NULL, 0, &k), P11E_ERR_USAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(p11e_error_message(ctx), "object=rsa2048"));
	CU_ASSERT_EQUAL(p11e_keygen(ctx, "ec:P-256", "given-id", id, sizeof(id), &k), P11E_OK);
	CU_ASSERT_EQUAL(k.id_len, 2);
	CU_ASSERT(memcmp(k.id, id, 2) == 0);
	p11e_key_clear(&k);
	CU_ASSERT_EQUAL(p11e_keygen(ctx, "ec:P-256", "other", id, sizeof(id), &k), P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_key_find(ctx, "other", &k), P11E_ERR_NOT_FOUND);
}

static void set_attr(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const void *v, CK_ULONG len)
{
	CK_ATTRIBUTE a = { type, (void *)v, len };

	CU_ASSERT_EQUAL_FATAL(ctx->fl->C_SetAttributeValue(ctx->session, h, &a, 1), CKR_OK);
}

/* CKA_ID of h, into id[20]; its length. */
static CK_ULONG id_of(CK_OBJECT_HANDLE h, unsigned char id[20])
{
	CK_ATTRIBUTE a = { CKA_ID, id, 20 };

	CU_ASSERT_EQUAL(ctx->fl->C_GetAttributeValue(ctx->session, h, &a, 1), CKR_OK);
	return a.ulValueLen;
}

/*
 * A keygen cut short between the ids of its halves leaves them split: the
 * next logged-in look at the key joins them under the SHA-1 id again, taking
 * only the public key that verifies the private key's signature, never
 * another key's half that merely shares the label.
 */
static void split_one(const char *type, const char *label)
{
	static const unsigned char stray[20] = { 0x5a, 0x5a, 0x01 },
				   stray2[20] = { 0x5a, 0x5a, 0x02 };
	char decoy_label[64];
	unsigned char id[20];
	p11e_key k, decoy, again;

	snprintf(decoy_label, sizeof(decoy_label), "%s-decoy", label);
	CU_ASSERT_EQUAL_FATAL(p11e_keygen(ctx, type, label, NULL, 0, &k), P11E_OK);
	CU_ASSERT_EQUAL_FATAL(p11e_keygen(ctx, type, decoy_label, NULL, 0, &decoy), P11E_OK);
	/* the decoy: a public key of our label whose private key is gone */
	CU_ASSERT_EQUAL(ctx->fl->C_DestroyObject(ctx->session, decoy.handle), CKR_OK);
	set_attr(decoy.pub_handle, CKA_LABEL, label, strlen(label));
	set_attr(decoy.pub_handle, CKA_ID, stray2, sizeof(stray2));
	/* split: the public half under an id no private key has */
	set_attr(k.pub_handle, CKA_ID, stray, sizeof(stray));

	harness_log_reset();
	p11e_ctx_set_log(ctx, harness_log, NULL);
	CU_ASSERT_EQUAL(p11e_key_find(ctx, label, &again), P11E_OK);
	p11e_ctx_set_log(ctx, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(harness_log_text(), "was split"));
	CU_ASSERT_EQUAL(again.pub_handle, k.pub_handle);
	CU_ASSERT_EQUAL(again.id_len, 20);
	CU_ASSERT(memcmp(again.id, k.id, 20) == 0);
	CU_ASSERT_EQUAL(id_of(k.pub_handle, id), 20);
	CU_ASSERT(memcmp(id, k.id, 20) == 0);
	CU_ASSERT_EQUAL(id_of(k.handle, id), 20);
	CU_ASSERT(memcmp(id, k.id, 20) == 0);
	/* the decoy kept its id */
	CU_ASSERT_EQUAL(id_of(decoy.pub_handle, id), 20);
	CU_ASSERT(memcmp(id, stray2, 20) == 0);
	p11e_key_clear(&again);

	/* with its own half gone, the decoy is not taken for it */
	CU_ASSERT_EQUAL(ctx->fl->C_DestroyObject(ctx->session, k.pub_handle), CKR_OK);
	if (k.type == P11E_KEY_EC) {
		CU_ASSERT_EQUAL(p11e_key_find(ctx, label, &again), P11E_ERR_NOT_FOUND);
	} else {
		/* an RSA private key still gives its public key itself */
		CU_ASSERT_EQUAL(p11e_key_find(ctx, label, &again), P11E_OK);
		CU_ASSERT_EQUAL(again.pub_handle, 0);
	}
	p11e_key_clear(&again);
	CU_ASSERT_EQUAL(id_of(decoy.pub_handle, id), 20);
	CU_ASSERT(memcmp(id, stray2, 20) == 0);
	ctx->fl->C_DestroyObject(ctx->session, decoy.pub_handle);
	ctx->fl->C_DestroyObject(ctx->session, k.handle);
	p11e_key_clear(&k);
	p11e_key_clear(&decoy);
}

static void test_split_pair(void)
{
	split_one("ec:P-256", "split-ec");
	split_one("rsa:2048", "split-rsa");
}

/* Sign a request with each key and padding; OpenSSL must verify it. */
static void csr_verifies(const char *label, const char *digest, int pss, int want_nid,
                         p11e_backend backend)
{
	p11e_req *o = p11e_req_new();
	unsigned char *out = NULL;
	size_t len = 0;
	p11e_key k;
	BIO *bio;
	X509_REQ *req = NULL;
	EVP_PKEY *pub = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL(p11e_req_set_subject(o, "/C=US/O=Example/CN=client.example"), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_add_san(o, "DNS:client.example"), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_add_ext(o, "extendedKeyUsage=clientAuth"), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_set_digest(o, digest), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_set_flags(o, pss ? P11E_REQ_PSS : 0), P11E_OK);
	CU_ASSERT_EQUAL(p11e_req_set_backend(o, backend), P11E_OK);
	CU_ASSERT_EQUAL_FATAL(p11e_key_find(ctx, label, &k), P11E_OK);
	if (p11e_csr_make(ctx, &k, o, P11E_FORMAT_PEM, &out, &len) != P11E_OK)
		fprintf(stderr, "\n%s: %s\n", label, p11e_error_message(ctx));
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	bio = BIO_new_mem_buf(out, (int)len);
	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	/* verified with a public key read independently of the request */
	CU_ASSERT_EQUAL(p11e__key_public(ctx, &k, &pub), P11E_OK);
	CU_ASSERT_EQUAL(X509_REQ_verify(req, pub), 1);
	CU_ASSERT_EQUAL(X509_REQ_get_signature_nid(req), want_nid);
	EVP_PKEY_free(pub);
	X509_REQ_free(req);
	BIO_free(bio);
	free(out);
	p11e_key_clear(&k);
	p11e_req_free(o);
}

static void test_csr_all_types(void)
{
	csr_verifies("rsa2048", NULL, 0, NID_sha256WithRSAEncryption, P11E_BACKEND_PROVIDER);
	csr_verifies("rsa2048", "sha512", 0, NID_sha512WithRSAEncryption, P11E_BACKEND_PROVIDER);
	csr_verifies("rsa3072", "sha384", 1, NID_rsassaPss, P11E_BACKEND_PROVIDER);
	csr_verifies("rsa2048", NULL, 1, NID_rsassaPss, P11E_BACKEND_PROVIDER);
	csr_verifies("p256", NULL, 0, NID_ecdsa_with_SHA256, P11E_BACKEND_PROVIDER);
	csr_verifies("p384", "sha384", 0, NID_ecdsa_with_SHA384, P11E_BACKEND_PROVIDER);
}

static void test_csr_engine(void)
{
	p11e_req *o = p11e_req_new();
	unsigned char *out = NULL;
	size_t len = 0;
	p11e_key k;

	/* libp11's engine, on the same module, signs with the same key, logged
	 * in with the PIN the context kept from p11e_login */
	csr_verifies("rsa2048", NULL, 0, NID_sha256WithRSAEncryption, P11E_BACKEND_ENGINE);
	csr_verifies("p256", "sha384", 0, NID_ecdsa_with_SHA384, P11E_BACKEND_ENGINE);
	/* PSS is refused there, never silently dropped */
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	p11e_req_set_subject(o, "/CN=x");
	p11e_req_set_flags(o, P11E_REQ_PSS);
	p11e_req_set_backend(o, P11E_BACKEND_ENGINE);
	CU_ASSERT_EQUAL_FATAL(p11e_key_find(ctx, "rsa2048", &k), P11E_OK);
	CU_ASSERT_EQUAL(p11e_csr_make(ctx, &k, o, P11E_FORMAT_PEM, &out, &len), P11E_ERR_USAGE);
	CU_ASSERT_PTR_NULL(out);
	p11e_key_clear(&k);
	p11e_req_free(o);
}

/* DER of subject and requested extensions of a PEM request. */
static int req_parts(const char *pem_path, unsigned char **subj, int *slen, unsigned char **ext,
                     int *elen)
{
	FILE *f = fopen(pem_path, "r");
	X509_REQ *req = f ? PEM_read_X509_REQ(f, NULL, NULL, NULL) : NULL;
	STACK_OF(X509_EXTENSION) *exts;

	if (f)
		fclose(f);
	if (!req)
		return -1;
	*subj = NULL;
	*ext = NULL;
	*slen = i2d_X509_NAME(X509_REQ_get_subject_name(req), subj);
	exts = X509_REQ_get_extensions(req);
	*elen = i2d_X509_EXTENSIONS(exts, ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return *slen > 0 && *elen > 0 ? 0 : -1;
}

static void same_as_openssl_req(const char *cnf)
{
	char config[512], ours[512], theirs[512], cmd[2048];
	p11e_req *o = p11e_req_new();
	unsigned char *out = NULL, *s1, *s2, *e1, *e2;
	int l1, l2, m1, m2;
	size_t len = 0;
	p11e_key k;
	FILE *f;

	snprintf(config, sizeof(config), "%s/tests/data/%s",
	         getenv("TOP_SRCDIR") ? getenv("TOP_SRCDIR") : "..", cnf);
	snprintf(ours, sizeof(ours), "%s/%s.ours.csr", harness_dir(), cnf);
	snprintf(theirs, sizeof(theirs), "%s/%s.openssl.csr", harness_dir(), cnf);
	CU_ASSERT_EQUAL_FATAL(p11e_req_set_config(o, config), P11E_OK);
	CU_ASSERT_EQUAL_FATAL(p11e_key_find(ctx, "rsa2048", &k), P11E_OK);
	CU_ASSERT_EQUAL_FATAL(p11e_csr_make(ctx, &k, o, P11E_FORMAT_PEM, &out, &len), P11E_OK);
	p11e_req_free(o);
	f = fopen(ours, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(out, 1, len, f);
	fclose(f);
	/* the same config through openssl req with a software key */
	snprintf(cmd, sizeof(cmd),
	         "openssl req -new -newkey rsa:2048 -nodes -keyout %s/sw.key -config '%s' -out "
	         "'%s' "
	         "2>/dev/null",
	         harness_dir(), config, theirs);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	CU_ASSERT_EQUAL_FATAL(req_parts(ours, &s1, &l1, &e1, &m1), 0);
	CU_ASSERT_EQUAL_FATAL(req_parts(theirs, &s2, &l2, &e2, &m2), 0);
	CU_ASSERT(l1 == l2 && memcmp(s1, s2, (size_t)l1) == 0);
	CU_ASSERT(m1 == m2 && memcmp(e1, e2, (size_t)m1) == 0);
	OPENSSL_free(s1);
	OPENSSL_free(s2);
	OPENSSL_free(e1);
	OPENSSL_free(e2);
	free(out);
	p11e_key_clear(&k);
}

static void test_configs_match_openssl(void)
{
	same_as_openssl_req("mtls-client.cnf");
	same_as_openssl_req("open-banking.cnf");
	same_as_openssl_req("multi-rdn.cnf");
}

static void test_enroll_idempotent(void)
{
	p11e_req *o = p11e_req_new();
	p11e_key k1, k2;
	unsigned char *out = NULL;
	size_t len = 0, n = 0;
	int reused = -1;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[2] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_LABEL, "enrolled", 8 } };
	CK_OBJECT_HANDLE *found = NULL;

	CU_ASSERT_EQUAL_FATAL(p11e_req_set_subject(o, "/CN=enrolled.example"), P11E_OK);
	CU_ASSERT_EQUAL_FATAL(p11e_enroll(ctx, "ec:P-256", "enrolled", NULL, 0, o, P11E_FORMAT_PEM,
	                                  &k1, &reused, &out, &len),
	                      P11E_OK);
	CU_ASSERT_EQUAL(reused, 0);
	free(out);
	CU_ASSERT_EQUAL(p11e_enroll(ctx, "ec:P-256", "enrolled", NULL, 0, o, P11E_FORMAT_PEM, &k2,
	                            &reused, &out, &len),
	                P11E_OK);
	CU_ASSERT_EQUAL(reused, 1);
	CU_ASSERT(k1.id_len == k2.id_len && memcmp(k1.id, k2.id, k1.id_len) == 0);
	free(out);
	p11e_key_clear(&k2);
	/* another type under the same label is refused */
	CU_ASSERT_EQUAL(p11e_enroll(ctx, "rsa:2048", "enrolled", NULL, 0, o, P11E_FORMAT_PEM, &k2,
	                            &reused, &out, &len),
	                P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e__find_objects(ctx, tmpl, 2, &found, &n), P11E_OK);
	CU_ASSERT_EQUAL(n, 1);
	free(found);
	/* bad request input: refused before any key is made */
	p11e_req_set_subject(o, "no-slash");
	CU_ASSERT_EQUAL(p11e_enroll(ctx, "ec:P-256", "never-made", NULL, 0, o, P11E_FORMAT_PEM, &k2,
	                            &reused, &out, &len),
	                P11E_ERR_USAGE);
	CU_ASSERT_EQUAL(p11e_key_find(ctx, "never-made", &k2), P11E_ERR_NOT_FOUND);
	p11e_key_clear(&k1);
	p11e_req_free(o);
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("keys and requests (SoftHSMv2)", suite_init, suite_clean);
	CU_add_test(s, "RSA keys are non-exportable", test_keygen_rsa);
	CU_add_test(s, "EC keys are non-exportable", test_keygen_ec);
	CU_add_test(s, "keygen refusals", test_keygen_refusals);
	CU_add_test(s, "requests from every key type verify", test_csr_all_types);
	CU_add_test(s, "engine backend", test_csr_engine);
	CU_add_test(s, "configs match openssl req", test_configs_match_openssl);
	CU_add_test(s, "enroll is idempotent", test_enroll_idempotent);
	CU_add_test(s, "a split key pair is joined again", test_split_pair);
	return harness_run();
}
