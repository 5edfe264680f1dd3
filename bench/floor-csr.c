/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/floor-csr - the floor for one certificate request for a key on the
 * token: floor-sign's calls (dlopen, C_Initialize, C_OpenSession, C_Login,
 * find the key, one C_SignInit + C_Sign) plus what OpenSSL itself costs to
 * make the request: the public half read in one C_GetAttributeValue and
 * made an EVP_PKEY, the request built (subject CN, public key,
 * ecdsa-with-SHA256 or sha256WithRSAEncryption), its to-be-signed part
 * encoded and hashed, the signature set and the request written as PEM.
 * No file is read, no configuration, no provider of our own: what is above
 * this in p11enroll csr is p11enroll's.
 *
 *   floor-csr MODULE TOKEN-LABEL PIN KEY-LABEL CN
 *
 * The public key is the public key object with the private key's label.
 * Writes the request (PEM) to standard output.
 */
#include "floor-req.h"

/* the one object of class cls labelled label */
static CK_OBJECT_HANDLE find_one(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label)
{
	CK_ATTRIBUTE find[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_OBJECT_HANDLE more[2];
	CK_ULONG got = 0;

	check(fl->C_FindObjectsInit(s, find, 2), "C_FindObjectsInit");
	check(fl->C_FindObjects(s, more, 2, &got), "C_FindObjects");
	check(fl->C_FindObjectsFinal(s), "C_FindObjectsFinal");
	if (got != 1)
		die("%lu objects of class %lu labelled '%s', not one", (unsigned long)got,
		    (unsigned long)cls, label);
	return more[0];
}

int main(int argc, char **argv)
{
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE key, pub;
	int ec;
	X509_REQ *req;
	EVP_PKEY *pkey;
	BIO *out;

	if (argc != 6) {
		fprintf(stderr, "usage: %s MODULE TOKEN-LABEL PIN KEY-LABEL CN\n", argv[0]);
		return 2;
	}
	session = floor_open(argv[1], argv[2], argv[3]);
	key = find_one(session, CKO_PRIVATE_KEY, argv[4]);
	pub = find_one(session, CKO_PUBLIC_KEY, argv[4]);
	pkey = floor_public_key(session, pub, &ec);
	req = floor_req_sign(session, key, pkey, ec, argv[5]);
	out = BIO_new_fp(stdout, BIO_NOCLOSE);
	if (!out || !PEM_write_bio_X509_REQ(out, req))
		die("cannot write the request");
	BIO_free(out);
	floor_close(session);
	EVP_PKEY_free(pkey);
	X509_REQ_free(req);
	return 0;
}
