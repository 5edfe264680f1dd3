/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/floor-fill - fill a token with COUNT objects fast, for bench/run's
 * list and status scenarios: one session, one C_CreateObject per object.
 * Not a contender, a setup helper (pkcs11-tool or p11enroll import would
 * pay a process, a module load and a token scan per object).
 *
 *   floor-fill MODULE TOKEN-LABEL PIN COUNT
 *
 * What it writes, like p11enroll enroll + import would leave it: one CA
 * certificate (CKA_CERTIFICATE_CATEGORY 2), then (COUNT - 1) / 3
 * identities, each an EC P-256 private key (sensitive, CKA_PRIVATE), its
 * public key and a certificate for it (CKA_CERTIFICATE_CATEGORY 1) from that
 * CA, valid from an hour ago for 365 days, label fill-NNNNN, and CKA_ID the
 * SHA-1 of the public key; the rest up to COUNT are more CA certificates.
 * Keys and certificates are made in software with OpenSSL and written as
 * they are (the token imports, not generates, the keys: quicker, the same
 * objects to list).  Prints one line: objects=N identities=N ms=...
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "floor.h"

/* DER of the OID prime256v1, as CKA_EC_PARAMS */
static const unsigned char p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

static CK_SESSION_HANDLE session;
static EVP_PKEY *ca_key;
static X509 *ca_cert;

static void ossl_die(const char *what)
{
	die("%s: OpenSSL failed", what);
}

static EVP_PKEY *ec_key(unsigned char point[65], unsigned char scalar[32], unsigned char id[20])
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	BIGNUM *d = NULL;
	size_t len = 0;
	unsigned int idlen = 0;

	if (!k || !EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, 65,
	                                           &len) ||
	    len != 65)
		ossl_die("EC key");
	if (scalar && (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &d) ||
	               BN_bn2binpad(d, scalar, 32) != 32))
		ossl_die("EC private key");
	BN_clear_free(d);
	/* the id p11enroll gives a key: SHA-1 of the public key's bit string */
	if (!EVP_Digest(point, 65, id, &idlen, EVP_sha1(), NULL) || idlen != 20)
		ossl_die("SHA-1");
	return k;
}

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, ca_cert ? ca_cert : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!e || !X509_add_ext(x, e, -1))
		ossl_die("extension");
	X509_EXTENSION_free(e);
}

/* a certificate for KEY named CN, signed by the CA (or self-signed if none yet) */
static X509 *certify(EVP_PKEY *key, const char *cn, long serial, int is_ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	if (!x || !name || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Bench", -1,
	                                -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
	                                0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, ca_cert ? X509_get_subject_name(ca_cert) : name) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) || !X509_set_pubkey(x, key))
		ossl_die("certificate");
	add_ext(x, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	if (!is_ca)
		add_ext(x, NID_ext_key_usage, "clientAuth");
	if (!X509_sign(x, ca_key ? ca_key : key, EVP_sha256()))
		ossl_die("signing a certificate");
	X509_NAME_free(name);
	return x;
}

static void create(CK_ATTRIBUTE *t, CK_ULONG n, const char *what)
{
	CK_OBJECT_HANDLE h;

	check(fl->C_CreateObject(session, t, n, &h), what);
}

/* DER of X (or of a part of it) into a new buffer */
#define DER(fn, x, out, len)                  \
	do {                                      \
		(out) = NULL;                         \
		(len) = fn((x), &(out));              \
		if ((len) <= 0)                       \
			ossl_die("DER encoding");         \
	} while (0)

static void write_cert(X509 *x, const char *label, const unsigned char id[20], CK_ULONG category)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	unsigned char *value, *subject, *issuer, *serial;
	int vlen, slen, ilen, nlen;

	DER(i2d_X509, x, value, vlen);
	DER(i2d_X509_NAME, X509_get_subject_name(x), subject, slen);
	DER(i2d_X509_NAME, X509_get_issuer_name(x), issuer, ilen);
	DER(i2d_ASN1_INTEGER, X509_get_serialNumber(x), serial, nlen);
	{
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &no, sizeof(no) },
			{ CKA_LABEL, (void *)label, strlen(label) },
			{ CKA_ID, (void *)id, 20 },
			{ CKA_SUBJECT, subject, (CK_ULONG)slen },
			{ CKA_ISSUER, issuer, (CK_ULONG)ilen },
			{ CKA_SERIAL_NUMBER, serial, (CK_ULONG)nlen },
			{ CKA_VALUE, value, (CK_ULONG)vlen },
			{ CKA_CERTIFICATE_CATEGORY, &category, sizeof(category) },
		};
		create(t, sizeof(t) / sizeof(t[0]), "C_CreateObject (certificate)");
	}
	OPENSSL_free(value);
	OPENSSL_free(subject);
	OPENSSL_free(issuer);
	OPENSSL_free(serial);
}

static void write_keys(const unsigned char point[65], const unsigned char scalar[32],
                       const char *label, const unsigned char id[20])
{
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY, pub = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = CKK_EC;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	/* CKA_EC_POINT: the uncompressed point in a DER OCTET STRING */
	unsigned char ec_point[2 + 65] = { 0x04, 65 };
	CK_ATTRIBUTE tpriv[] = {
		{ CKA_CLASS, &priv, sizeof(priv) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, (void *)id, 20 },
		{ CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid) },
		{ CKA_VALUE, (void *)scalar, 32 },
	};
	CK_ATTRIBUTE tpub[] = {
		{ CKA_CLASS, &pub, sizeof(pub) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, (void *)id, 20 },
		{ CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid) },
		{ CKA_EC_POINT, ec_point, sizeof(ec_point) },
	};

	memcpy(ec_point + 2, point, 65);
	create(tpriv, sizeof(tpriv) / sizeof(tpriv[0]), "C_CreateObject (private key)");
	create(tpub, sizeof(tpub) / sizeof(tpub[0]), "C_CreateObject (public key)");
}

int main(int argc, char **argv)
{
	unsigned char point[65], scalar[32], id[20];
	char label[32];
	long count, ids, cas, written = 0;
	double t0 = now_ms();
	char *end;

	if (argc != 5) {
		fprintf(stderr, "usage: %s MODULE TOKEN-LABEL PIN COUNT\n", argv[0]);
		return 2;
	}
	count = strtol(argv[4], &end, 10);
	if (*end || count < 1 || count > 1000000)
		die("COUNT '%s' is not a number from 1 to 1000000", argv[4]);
	ids = (count - 1) / 3;
	cas = count - 3 * ids;
	session = floor_open(argv[1], argv[2], argv[3]);

	ca_key = ec_key(point, NULL, id);
	ca_cert = certify(ca_key, "Fill CA", 1, 1);
	for (long i = 0; i < cas; i++) {
		X509 *x = i ? certify(ca_key, "Fill CA", 1000000 + i, 1) : ca_cert;

		snprintf(label, sizeof(label), i ? "Fill CA %ld" : "Fill CA", i);
		write_cert(x, label, id, 2);
		if (x != ca_cert)
			X509_free(x);
		written++;
	}
	for (long i = 0; i < ids; i++) {
		EVP_PKEY *k = ec_key(point, scalar, id);
		X509 *x;

		snprintf(label, sizeof(label), "fill-%05ld", i + 1);
		x = certify(k, label, i + 2, 0);
		write_keys(point, scalar, label, id);
		write_cert(x, label, id, 1);
		OPENSSL_cleanse(scalar, sizeof(scalar));
		X509_free(x);
		EVP_PKEY_free(k);
		written += 3;
	}
	floor_close(session);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	printf("objects=%ld identities=%ld ms=%.1f\n", written, ids, now_ms() - t0);
	return 0;
}
