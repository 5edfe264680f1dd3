/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/floor-sign - the floor for signing with a token key: what any tool
 * must pay at least, with nothing of its own on top.  Once: dlopen the
 * module, C_Initialize, C_OpenSession, C_Login, find the private key by
 * label.  Then COUNT times: C_SignInit + C_Sign of a 32-byte digest
 * (CKM_ECDSA for an EC key, CKM_RSA_PKCS over a SHA-256 DigestInfo for RSA).
 *
 *   floor-sign MODULE TOKEN-LABEL PIN KEY-LABEL COUNT
 *
 * Prints one line: signs=COUNT setup_ms=... loop_ms=... per_sign_ms=...
 */
#include "floor.h"

int main(int argc, char **argv)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE find[2], type = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	CK_OBJECT_HANDLE key, more[2];
	CK_ULONG got = 0;
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	CK_SESSION_HANDLE session;
	/* DigestInfo for SHA-256 followed by the 32-byte digest */
	unsigned char data[19 + 32] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	                                0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
	unsigned char *msg = data + 19, sig[1024];
	CK_ULONG msg_len = 32, sig_len;
	double t0 = now_ms(), t1, t2;
	long count;
	char *end;

	if (argc != 6) {
		fprintf(stderr, "usage: %s MODULE TOKEN-LABEL PIN KEY-LABEL COUNT\n", argv[0]);
		return 2;
	}
	count = strtol(argv[5], &end, 10);
	if (*end || count < 1)
		die("COUNT '%s' is not a positive number", argv[5]);
	for (size_t i = 0; i < 32; i++)
		msg[i] = (unsigned char)(i * 7 + 1);

	session = floor_open(argv[1], argv[2], argv[3]);
	find[0] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	find[1] = (CK_ATTRIBUTE){ CKA_LABEL, argv[4], strlen(argv[4]) };
	check(fl->C_FindObjectsInit(session, find, 2), "C_FindObjectsInit");
	check(fl->C_FindObjects(session, more, 2, &got), "C_FindObjects");
	check(fl->C_FindObjectsFinal(session), "C_FindObjectsFinal");
	if (got != 1)
		die("%lu private keys labelled '%s', not one", (unsigned long)got, argv[4]);
	key = more[0];
	check(fl->C_GetAttributeValue(session, key, &type, 1), "C_GetAttributeValue");
	if (kt == CKK_RSA) {
		mech.mechanism = CKM_RSA_PKCS;
		msg = data;
		msg_len = sizeof(data);
	} else if (kt != CKK_EC) {
		die("key '%s' is neither EC nor RSA", argv[4]);
	}

	t1 = now_ms();
	for (long i = 0; i < count; i++) {
		sig_len = sizeof(sig);
		check(fl->C_SignInit(session, &mech, key), "C_SignInit");
		check(fl->C_Sign(session, msg, msg_len, sig, &sig_len), "C_Sign");
	}
	t2 = now_ms();
	floor_close(session);
	printf("signs=%ld setup_ms=%.3f loop_ms=%.3f per_sign_ms=%.4f\n", count, t1 - t0, t2 - t1,
	       (t2 - t1) / (double)count);
	return 0;
}
