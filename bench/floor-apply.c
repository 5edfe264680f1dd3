/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/floor-apply - the floor for p11enroll apply creating COUNT
 * identities on one token: what apply must do at the PKCS#11 level and in
 * files, with nothing of its own on top.  Once: dlopen the module,
 * C_Initialize, C_OpenSession, C_Login.  Then per identity, as apply does
 * (src/lib/keygen.c, enroll.c, src/tool/apply-token.c):
 *   C_GenerateKeyPair with keygen.c's template for this token (public:
 *     class, token, private=FALSE, verify, label, id, key type, curve or
 *     modulus bits and exponent; private: class, token, private,
 *     sensitive, extractable=FALSE, sign, decrypt=FALSE, unwrap=FALSE,
 *     label, id, key type), the id a random one until the real one is known;
 *   the public half read in one C_GetAttributeValue; its CKA_ID made the
 *     SHA-1 of the subjectPublicKey bit string and set on both halves
 *     (two C_SetAttributeValue);
 *   the request (subject CN=LABEL.example) made with OpenSSL, signed with
 *     one C_SignInit + C_Sign (floor-req.h, as floor-csr);
 *   the request written as PEM to OUTBOX/TOKEN-LABEL.csr the way apply
 *     writes it: a temporary file, fchmod, write, fsync, close, rename.
 * The labels are PREFIX-1 ... PREFIX-COUNT.
 *
 *   floor-apply MODULE TOKEN-LABEL PIN COUNT OUTBOX [TYPE [PREFIX]]
 *
 * TYPE ec:P-256 (default), ec:P-384 or rsa:BITS; PREFIX "id".
 * Prints one line: identities=COUNT setup_ms=... loop_ms=... per_identity_ms=...
 */
#include <errno.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include "floor-req.h"

/* path written atomically, as src/tool/files.c's tool_write_output */
static void write_file(const char *path, const unsigned char *data, size_t len)
{
	char tmp[4300];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		die("cannot write %s: %s", path, strerror(errno));
	if (fchmod(fd, 0644) != 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) != 0 ||
	    close(fd) != 0 || rename(tmp, path) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

/* one identity: key pair, id, request, outbox */
static void identity(CK_SESSION_HANDLE session, const char *token, const char *type,
                     const char *label, const char *outbox)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
	CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY, priv_class = CKO_PRIVATE_KEY;
	CK_KEY_TYPE ktype;
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_ULONG modulus_bits = 0, npub = 0, npriv = 0;
	CK_ATTRIBUTE pub[10], priv[12], set;
	CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
	unsigned char tmp_id[20], sha_id[SHA_DIGEST_LENGTH], *ec_params = NULL, *p;
	const unsigned char *bits;
	int ec_params_len = 0, bits_len = 0, ec;
	X509_PUBKEY *xpub = NULL;
	EVP_PKEY *pkey;
	X509_REQ *req;
	BIO *mem;
	char path[4200], cn[200], *pem;
	long pem_len;

	if (RAND_bytes(tmp_id, sizeof(tmp_id)) != 1)
		die("no random bytes");
#define ADD(t, type_, val, len) t[n##t++] = (CK_ATTRIBUTE){ type_, (void *)(val), len }
	ADD(pub, CKA_CLASS, &pub_class, sizeof(pub_class));
	ADD(pub, CKA_TOKEN, &yes, sizeof(yes));
	ADD(pub, CKA_PRIVATE, &no, sizeof(no));
	ADD(pub, CKA_VERIFY, &yes, sizeof(yes));
	ADD(pub, CKA_LABEL, label, strlen(label));
	ADD(pub, CKA_ID, tmp_id, sizeof(tmp_id));
	ADD(priv, CKA_CLASS, &priv_class, sizeof(priv_class));
	ADD(priv, CKA_TOKEN, &yes, sizeof(yes));
	ADD(priv, CKA_PRIVATE, &yes, sizeof(yes));
	ADD(priv, CKA_SENSITIVE, &yes, sizeof(yes));
	ADD(priv, CKA_EXTRACTABLE, &no, sizeof(no));
	ADD(priv, CKA_SIGN, &yes, sizeof(yes));
	ADD(priv, CKA_DECRYPT, &no, sizeof(no));
	ADD(priv, CKA_UNWRAP, &no, sizeof(no));
	ADD(priv, CKA_LABEL, label, strlen(label));
	ADD(priv, CKA_ID, tmp_id, sizeof(tmp_id));
	if (strncmp(type, "rsa:", 4) == 0) {
		ktype = CKK_RSA;
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		modulus_bits = strtoul(type + 4, NULL, 10);
		ADD(pub, CKA_KEY_TYPE, &ktype, sizeof(ktype));
		ADD(pub, CKA_MODULUS_BITS, &modulus_bits, sizeof(modulus_bits));
		ADD(pub, CKA_PUBLIC_EXPONENT, exponent, sizeof(exponent));
	} else {
		int nid = strcmp(type, "ec:P-384") == 0 ? NID_secp384r1 : NID_X9_62_prime256v1;

		ktype = CKK_EC;
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		ec_params_len = i2d_ASN1_OBJECT(OBJ_nid2obj(nid), NULL);
		if (ec_params_len <= 0 || !(ec_params = malloc((size_t)ec_params_len)))
			die("cannot encode the curve");
		p = ec_params;
		i2d_ASN1_OBJECT(OBJ_nid2obj(nid), &p);
		ADD(pub, CKA_KEY_TYPE, &ktype, sizeof(ktype));
		ADD(pub, CKA_EC_PARAMS, ec_params, (CK_ULONG)ec_params_len);
	}
	ADD(priv, CKA_KEY_TYPE, &ktype, sizeof(ktype));
#undef ADD
	check(fl->C_GenerateKeyPair(session, &mech, pub, npub, priv, npriv, &hpub, &hpriv),
	      "C_GenerateKeyPair");
	free(ec_params);

	/* the real id: SHA-1 of the subjectPublicKey bit string */
	pkey = floor_public_key(session, hpub, &ec);
	if (!X509_PUBKEY_set(&xpub, pkey) ||
	    !X509_PUBKEY_get0_param(NULL, &bits, &bits_len, NULL, xpub))
		die("cannot encode the public key");
	SHA1(bits, (size_t)bits_len, sha_id);
	X509_PUBKEY_free(xpub);
	set = (CK_ATTRIBUTE){ CKA_ID, sha_id, sizeof(sha_id) };
	check(fl->C_SetAttributeValue(session, hpriv, &set, 1), "C_SetAttributeValue");
	check(fl->C_SetAttributeValue(session, hpub, &set, 1), "C_SetAttributeValue");

	snprintf(cn, sizeof(cn), "%s.example", label);
	req = floor_req_sign(session, hpriv, pkey, ec, cn);
	if (!(mem = BIO_new(BIO_s_mem())) || !PEM_write_bio_X509_REQ(mem, req) ||
	    (pem_len = BIO_get_mem_data(mem, &pem)) <= 0)
		die("cannot write the request");
	snprintf(path, sizeof(path), "%s/%s-%s.csr", outbox, token, label);
	write_file(path, (const unsigned char *)pem, (size_t)pem_len);
	BIO_free(mem);
	X509_REQ_free(req);
	EVP_PKEY_free(pkey);
}

int main(int argc, char **argv)
{
	CK_SESSION_HANDLE session;
	const char *type = argc > 6 ? argv[6] : "ec:P-256", *prefix = argc > 7 ? argv[7] : "id";
	char label[128];
	double t0 = now_ms(), t1, t2;
	long count;
	char *end;

	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: %s MODULE TOKEN-LABEL PIN COUNT OUTBOX [TYPE [PREFIX]]\n",
		        argv[0]);
		return 2;
	}
	count = strtol(argv[4], &end, 10);
	if (*end || count < 1)
		die("COUNT '%s' is not a positive number", argv[4]);
	if (strcmp(type, "ec:P-256") != 0 && strcmp(type, "ec:P-384") != 0 &&
	    strncmp(type, "rsa:", 4) != 0)
		die("TYPE '%s' is not ec:P-256, ec:P-384 or rsa:BITS", type);
	session = floor_open(argv[1], argv[2], argv[3]);
	t1 = now_ms();
	for (long i = 1; i <= count; i++) {
		snprintf(label, sizeof(label), "%s-%ld", prefix, i);
		identity(session, argv[2], type, label, argv[5]);
	}
	t2 = now_ms();
	floor_close(session);
	printf("identities=%ld setup_ms=%.3f loop_ms=%.3f per_identity_ms=%.4f\n", count, t1 - t0,
	       t2 - t1, (t2 - t1) / (double)count);
	return 0;
}
