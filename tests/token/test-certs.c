/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-certs.c - certificates written onto a real SoftHSMv2 token by
 * p11e_import, read back attribute by attribute with C_GetAttributeValue
 * and compared with OpenSSL's own encoding of the same certificate: what
 * pkcs11-tool, p11tool, libp11 and browsers look for (CKA_SUBJECT, CKA_ISSUER,
 * CKA_SERIAL_NUMBER as DER, CKA_ID of the key, the category) must be exact.
 */
#include <CUnit/Basic.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define SO_PIN "16180339"
#define USER_PIN "14142135"

static p11e_ctx *ctx;

static int suite_init(void)
{
	ctx = harness_token_ready("certs", SO_PIN, USER_PIN);
	return ctx ? 0 : -1;
}

static int suite_clean(void)
{
	p11e_ctx_free(ctx);
	ctx = NULL;
	harness_softhsm_teardown();
	return 0;
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A key on the token (label), a request for it, and a CA's certificate for
 * it in DIR/label.pem; the CA (made once) in DIR/ca.pem. */
static void issue(const char *label, const char *type)
{
	char path[1024];
	p11e_req *o = p11e_req_new();
	p11e_key k;
	unsigned char *out = NULL;
	size_t len = 0;
	int reused;
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(p11e_req_set_subject(o, "/O=Test/CN=client.example"), P11E_OK);
	CU_ASSERT_EQUAL_FATAL(p11e_enroll(ctx, type, label, NULL, 0, o, P11E_FORMAT_PEM, &k,
	                                  &reused, &out, &len),
	                      P11E_OK);
	p11e_req_free(o);
	snprintf(path, sizeof(path), "%s/%s.csr", harness_dir(), label);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(out, 1, len, f);
	fclose(f);
	free(out);
	p11e_key_clear(&k);
	/* a serial of 20 random bytes (-CAcreateserial), often with a leading 00 in DER */
	CU_ASSERT_EQUAL_FATAL(run("cd %s && { [ -e ca.pem ] || openssl req -x509 -newkey ec "
	                          "-pkeyopt "
	                          "ec_paramgen_curve:P-256 -nodes -keyout ca.key -subj "
	                          "'/O=Test/CN=Test CA' -days 30 "
	                          "-out ca.pem; } 2>/dev/null && openssl x509 -req -in %s.csr -CA "
	                          "ca.pem -CAkey ca.key "
	                          "-CAcreateserial -days 10 -out %s.pem 2>/dev/null",
	                          harness_dir(), label, label),
	                      0);
}

static X509 *read_cert(const char *name)
{
	char path[1024];
	X509 *x = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", harness_dir(), name);
	if ((f = fopen(path, "r"))) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	return x;
}

/* The one certificate object with this label. */
static CK_OBJECT_HANDLE cert_object(const char *label)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE t[] = { { CKA_CLASS, &cls, sizeof(cls) },
		             { CKA_LABEL, (void *)label, strlen(label) } };
	CK_OBJECT_HANDLE *hs = NULL, h = 0;
	size_t n = 0;

	CU_ASSERT_EQUAL(p11e__find_objects(ctx, t, 2, &hs, &n), P11E_OK);
	CU_ASSERT_EQUAL(n, 1);
	if (n == 1)
		h = hs[0];
	free(hs);
	return h;
}

/* The attribute's value equals the DER of len bytes at der. */
static void attr_is(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, const unsigned char *der, int len,
                    const char *what)
{
	unsigned char *v = NULL;
	CK_ULONG vlen = 0;

	CU_ASSERT_EQUAL(p11e__attr_get(ctx, h, type, &v, &vlen), P11E_OK);
	if (vlen != (CK_ULONG)len || memcmp(v, der, (size_t)len) != 0)
		fprintf(stderr, "  %s: %lu bytes on the token, %d wanted\n", what, vlen, len);
	CU_ASSERT(vlen == (CK_ULONG)len && memcmp(v, der, (size_t)len) == 0);
	free(v);
}

static CK_ULONG ulong_attr(CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG v = (CK_ULONG)-1;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	CU_ASSERT_EQUAL(ctx->fl->C_GetAttributeValue(ctx->session, h, &a, 1), CKR_OK);
	return v;
}

/* Subject, issuer, serial and value of x on object h, as OpenSSL encodes them. */
static void same_cert(CK_OBJECT_HANDLE h, X509 *x)
{
	unsigned char *der = NULL;
	int len;

	len = i2d_X509_NAME(X509_get_subject_name(x), &der);
	attr_is(h, CKA_SUBJECT, der, len, "CKA_SUBJECT");
	OPENSSL_free(der);
	der = NULL;
	len = i2d_X509_NAME(X509_get_issuer_name(x), &der);
	attr_is(h, CKA_ISSUER, der, len, "CKA_ISSUER");
	OPENSSL_free(der);
	der = NULL;
	len = i2d_ASN1_INTEGER(X509_get_serialNumber(x), &der);
	attr_is(h, CKA_SERIAL_NUMBER, der, len, "CKA_SERIAL_NUMBER");
	OPENSSL_free(der);
	der = NULL;
	len = i2d_X509(x, &der);
	attr_is(h, CKA_VALUE, der, len, "CKA_VALUE");
	OPENSSL_free(der);
	CU_ASSERT_EQUAL(ulong_attr(h, CKA_CERTIFICATE_TYPE), CKC_X_509);
	CU_ASSERT_EQUAL(p11e__attr_bool(ctx, h, CKA_TOKEN), 1);
	/* certificates are public objects: status lists them without a PIN */
	CU_ASSERT_EQUAL(p11e__attr_bool(ctx, h, CKA_PRIVATE), 0);
}

static void import_one(const char *label, const char *type)
{
	char leaf[1024], chain[1024];
	p11e_import_result r;
	p11e_key k;
	X509 *x, *ca;
	CK_OBJECT_HANDLE h;

	issue(label, type);
	snprintf(leaf, sizeof(leaf), "%s/%s.pem", harness_dir(), label);
	snprintf(chain, sizeof(chain), "%s/ca.pem", harness_dir());
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL_FATAL(p11e_import(ctx, leaf, chain, NULL, NULL, 0, &r), P11E_OK);
	CU_ASSERT_EQUAL(r.already, 0);
	CU_ASSERT_STRING_EQUAL(r.label, label);
	p11e_import_result_clear(&r);
	CU_ASSERT_EQUAL_FATAL(p11e_key_find(ctx, label, &k), P11E_OK);

	x = read_cert(strrchr(leaf, '/') + 1);
	ca = read_cert("ca.pem");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
	h = cert_object(label);
	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	same_cert(h, x);
	/* bound to its key by CKA_ID, and a user's own certificate */
	attr_is(h, CKA_ID, k.id, (int)k.id_len, "CKA_ID");
	CU_ASSERT_EQUAL(ulong_attr(h, CKA_CERTIFICATE_CATEGORY), 1);

	h = cert_object("Test CA");
	CU_ASSERT_NOT_EQUAL_FATAL(h, 0);
	same_cert(h, ca);
	CU_ASSERT_EQUAL(ulong_attr(h, CKA_CERTIFICATE_CATEGORY), 2);

	/* once there, importing again changes nothing and says so */
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(p11e_import(ctx, leaf, chain, NULL, NULL, 0, &r), P11E_OK);
	CU_ASSERT_EQUAL(r.already, 1);
	CU_ASSERT_EQUAL(r.chain_written, 0);
	p11e_import_result_clear(&r);
	(void)cert_object(label);
	(void)cert_object("Test CA");
	p11e_key_clear(&k);
	X509_free(x);
	X509_free(ca);
}

static void test_import_ec(void)
{
	import_one("leaf-ec", "ec:P-256");
}

static void test_import_rsa(void)
{
	import_one("leaf-rsa", "rsa:2048");
}

int main(void)
{
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return CU_get_error();
	s = CU_add_suite("certificates on the token (SoftHSMv2)", suite_init, suite_clean);
	CU_add_test(s, "an EC key's certificate and its CA, attribute by attribute",
	            test_import_ec);
	CU_add_test(s, "an RSA key's certificate, attribute by attribute", test_import_rsa);
	return harness_run();
}
