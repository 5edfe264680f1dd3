/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/floor-list - the floor for listing a token: C_Initialize, one
 * C_FindObjects pass over every object the session can see, then one
 * C_GetAttributeValue per object for CKA_LABEL, CKA_ID and CKA_VALUE, in a
 * raw loop: no parsing, no formatting, no pairing.
 *
 *   floor-list MODULE TOKEN-LABEL [PIN]
 *
 * Without PIN (or with "-") the session is not logged in and sees public
 * objects only, as a monitoring run does.  Prints one line:
 * objects=N value_bytes=N find_ms=... attrs_ms=...
 */
#include "floor.h"

int main(int argc, char **argv)
{
	CK_SESSION_HANDLE session;
	CK_OBJECT_HANDLE batch[256], *all = NULL, *grown;
	CK_ULONG got, total = 0;
	unsigned char label[256], id[256], value[8192];
	unsigned long long bytes = 0;
	double t0, t1, t2;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: %s MODULE TOKEN-LABEL [PIN]\n", argv[0]);
		return 2;
	}
	session = floor_open(argv[1], argv[2], argc == 4 ? argv[3] : NULL);

	t0 = now_ms();
	check(fl->C_FindObjectsInit(session, NULL, 0), "C_FindObjectsInit");
	for (;;) {
		check(fl->C_FindObjects(session, batch, 256, &got), "C_FindObjects");
		if (got == 0)
			break;
		grown = realloc(all, (total + got) * sizeof(*all));
		if (!grown)
			die("out of memory");
		all = grown;
		memcpy(all + total, batch, got * sizeof(*all));
		total += got;
	}
	check(fl->C_FindObjectsFinal(session), "C_FindObjectsFinal");

	t1 = now_ms();
	for (CK_ULONG i = 0; i < total; i++) {
		CK_ATTRIBUTE t[3] = {
			{ CKA_LABEL, label, sizeof(label) },
			{ CKA_ID, id, sizeof(id) },
			{ CKA_VALUE, value, sizeof(value) },
		};
		CK_RV rv = fl->C_GetAttributeValue(session, all[i], t, 3);

		/* a key's CKA_VALUE is sensitive, a public key has none: both fine */
		if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE && rv != CKR_ATTRIBUTE_TYPE_INVALID)
			check(rv, "C_GetAttributeValue");
		if (t[2].ulValueLen != CK_UNAVAILABLE_INFORMATION)
			bytes += t[2].ulValueLen;
	}
	t2 = now_ms();
	free(all);
	floor_close(session);
	printf("objects=%lu value_bytes=%llu find_ms=%.3f attrs_ms=%.3f\n", (unsigned long)total,
	       bytes, t1 - t0, t2 - t1);
	return 0;
}
