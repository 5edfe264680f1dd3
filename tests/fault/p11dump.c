/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11dump.c - what the fault sweep compares before and after a command: the
 * tokens of a module and the objects of one of them, one line each, read
 * through the real module (never the fault-injecting one, and never through
 * the code under test).
 *
 *   p11dump MODULE LABEL PIN...
 *
 * Prints, unsorted (the caller sorts):
 *   token '<label>' flags <hex>          every token present, flags read
 *                                        before any login (a failed login
 *                                        may change the PIN counters)
 *   login <n> | login none               which PIN logs in to token LABEL
 *   <class> '<label>' id <hex> ...       every object of token LABEL, with
 *                                        what rollback must restore: key
 *                                        type and flags, a digest of the
 *                                        public key and of a certificate
 * Exit 0, or 1 with a "p11dump: " line on stderr.
 */
#include <dlfcn.h>
#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CK_FUNCTION_LIST *f;

static int die(const char *what, CK_RV rv)
{
	fprintf(stderr, "p11dump: %s: 0x%lx\n", what, (unsigned long)rv);
	return 1;
}

/* A token label without its blank padding. */
static void label_of(const CK_UTF8CHAR *l, char out[33])
{
	int n = 32;

	memcpy(out, l, 32);
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* An attribute's value (malloc'd, NULL if the object has none). */
static unsigned char *attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                           CK_ULONG *len)
{
	CK_ATTRIBUTE a = { t, NULL, 0 };
	unsigned char *v;

	*len = 0;
	if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return NULL;
	v = malloc(a.ulValueLen + 1);
	if (!v)
		return NULL;
	a.pValue = v;
	if (f->C_GetAttributeValue(s, o, &a, 1) != CKR_OK) {
		free(v);
		return NULL;
	}
	*len = a.ulValueLen;
	return v;
}

static void print_hex(const unsigned char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", v[i]);
	if (!n)
		printf("-");
}

/* " NAME <digest>" of an attribute, " NAME -" if it has none. */
static void print_digest(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                         const char *name)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	CK_ULONG len;
	unsigned char *v = attr(s, o, t, &len);

	printf(" %s ", name);
	if (v && EVP_Digest(v, len, md, &mdlen, EVP_sha256(), NULL))
		print_hex(md, 12);
	else
		printf("-");
	free(v);
}

/* " NAME 0|1|-" of a CK_BBOOL or CK_ULONG attribute. */
static void print_num(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
                      const char *name)
{
	CK_ULONG len;
	unsigned char *v = attr(s, o, t, &len);

	if (v && len == sizeof(CK_BBOOL))
		printf(" %s %u", name, v[0]);
	else if (v && len == sizeof(CK_ULONG))
		printf(" %s %lu", name, *(CK_ULONG *)(void *)v);
	else
		printf(" %s -", name);
	free(v);
}

static void print_object(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o)
{
	CK_ULONG len, cls = (CK_ULONG)-1;
	unsigned char *v = attr(s, o, CKA_CLASS, &len);

	if (v && len == sizeof(cls))
		memcpy(&cls, v, sizeof(cls));
	free(v);
	switch (cls) {
	case CKO_PRIVATE_KEY: printf("private-key"); break;
	case CKO_PUBLIC_KEY: printf("public-key"); break;
	case CKO_CERTIFICATE: printf("certificate"); break;
	default: printf("class-0x%lx", cls); break;
	}
	v = attr(s, o, CKA_LABEL, &len);
	printf(" '%.*s' id ", (int)len, v ? (char *)v : "");
	free(v);
	v = attr(s, o, CKA_ID, &len);
	print_hex(v, v ? len : 0);
	free(v);
	print_num(s, o, CKA_PRIVATE, "private");
	if (cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY)
		print_num(s, o, CKA_KEY_TYPE, "type");
	if (cls == CKO_PRIVATE_KEY) {
		print_num(s, o, CKA_SENSITIVE, "sensitive");
		print_num(s, o, CKA_EXTRACTABLE, "extractable");
		print_num(s, o, CKA_SIGN, "sign");
	} else if (cls == CKO_PUBLIC_KEY) {
		print_digest(s, o, CKA_EC_POINT, "ec-point");
		print_digest(s, o, CKA_MODULUS, "modulus");
	} else if (cls == CKO_CERTIFICATE) {
		print_num(s, o, CKA_CERTIFICATE_CATEGORY, "category");
		print_digest(s, o, CKA_VALUE, "value");
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);
	CK_SLOT_ID slots[64], want = 0;
	CK_ULONG nslots = 64, n;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE objs[256];
	CK_TOKEN_INFO ti;
	int found = 0, pin = 0;
	char label[33];
	void *h;
	CK_RV rv;

	if (argc < 3) {
		fprintf(stderr, "usage: p11dump MODULE LABEL PIN...\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h || !(*(void **)(&get) = dlsym(h, "C_GetFunctionList")) || get(&f) != CKR_OK) {
		fprintf(stderr, "p11dump: cannot load %s\n", argv[1]);
		return 1;
	}
	if ((rv = f->C_Initialize(NULL)) != CKR_OK)
		return die("C_Initialize", rv);
	if ((rv = f->C_GetSlotList(CK_TRUE, slots, &nslots)) != CKR_OK)
		return die("C_GetSlotList", rv);
	for (CK_ULONG i = 0; i < nslots; i++) {
		if ((rv = f->C_GetTokenInfo(slots[i], &ti)) != CKR_OK)
			return die("C_GetTokenInfo", rv);
		label_of(ti.label, label);
		printf("token '%s' flags 0x%lx\n", label, (unsigned long)ti.flags);
		if (!found && strcmp(label, argv[2]) == 0) {
			want = slots[i];
			found = 1;
		}
	}
	if (!found)
		return 0;
	if ((rv = f->C_OpenSession(want, CKF_SERIAL_SESSION, NULL, NULL, &s)) != CKR_OK)
		return die("C_OpenSession", rv);
	for (int i = 3; i < argc && !pin; i++)
		if (f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)argv[i], strlen(argv[i])) == CKR_OK)
			pin = i - 2;
	if (pin)
		printf("login %d\n", pin);
	else
		printf("login none\n");
	if ((rv = f->C_FindObjectsInit(s, NULL, 0)) != CKR_OK)
		return die("C_FindObjectsInit", rv);
	if ((rv = f->C_FindObjects(s, objs, 256, &n)) != CKR_OK)
		return die("C_FindObjects", rv);
	f->C_FindObjectsFinal(s);
	for (CK_ULONG i = 0; i < n; i++)
		print_object(s, objs[i]);
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
	return fflush(stdout) == 0 ? 0 : 1;
}
