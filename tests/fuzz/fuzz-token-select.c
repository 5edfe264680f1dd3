/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-token-select.c - libFuzzer target for --token and --key/--cert specs:
 * a label or a pkcs11: URI (RFC 7512, parsed by p11-kit).
 *
 * The spec is matched by p11e__token_match against a fixed set of fake
 * slots, in each of its three modes (no module needed: the match reads only
 * the p11e_slot structs), and read by p11e__object_spec as an object spec
 * with one of the fake tokens selected.  A match must be a slot the mode
 * admits; a refusal must say why; an object spec that parses must name an
 * object and fit its buffers.
 *
 * Built by 'make fuzz' (Makefile.am) with the library sources; seeds in
 * tests/fuzz/corpus/fuzz-token-select/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"

#define INIT_FLAGS (CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_RNG)

/* what 'p11enroll tokens' could list: two of one label, one uninitialised, one empty slot */
static const p11e_slot slots[] = {
	{ .slot_id = 0x2a3b4c5d,
	  .slot_description = "SoftHSM slot ID 0x2a3b4c5d",
	  .slot_manufacturer = "SoftHSM project",
	  .slot_flags = CKF_TOKEN_PRESENT,
	  .token_present = 1,
	  .label = "alpha",
	  .manufacturer = "SoftHSM project",
	  .model = "SoftHSM v2",
	  .serial = "8a3f1c2e9b7d4a61",
	  .token_flags = INIT_FLAGS },
	{ .slot_id = 1,
	  .slot_description = "Yubico YubiKey OTP+FIDO+CCID 00 00",
	  .slot_manufacturer = "Yubico",
	  .slot_flags = CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE | CKF_HW_SLOT,
	  .token_present = 1,
	  .label = "YubiKey PIV #12345678",
	  .manufacturer = "Yubico (www.yubico.com)",
	  .model = "YubiKey YK5",
	  .serial = "12345678",
	  .token_flags = INIT_FLAGS | CKF_PROTECTED_AUTHENTICATION_PATH },
	{ .slot_id = 2,
	  .slot_description = "SoftHSM slot ID 0x2",
	  .slot_manufacturer = "SoftHSM project",
	  .slot_flags = CKF_TOKEN_PRESENT,
	  .token_present = 1,
	  .manufacturer = "SoftHSM project",
	  .model = "SoftHSM v2",
	  .serial = "",
	  .token_flags = CKF_RNG },
	{ .slot_id = 3,
	  .slot_description = "Virtual reader 3",
	  .slot_manufacturer = "OpenSC Project",
	  .slot_flags = CKF_REMOVABLE_DEVICE },
	{ .slot_id = 13,
	  .slot_description = "SoftHSM slot ID 0xd",
	  .slot_manufacturer = "SoftHSM project",
	  .slot_flags = CKF_TOKEN_PRESENT,
	  .token_present = 1,
	  .label = "my token",
	  .manufacturer = "SoftHSM project",
	  .model = "SoftHSM v2",
	  .serial = "B2",
	  .token_flags = INIT_FLAGS },
	{ .slot_id = 17,
	  .slot_description = "OMNIKEY CardMan 3121 00 00",
	  .slot_manufacturer = "OpenSC Project",
	  .slot_flags = CKF_TOKEN_PRESENT | CKF_REMOVABLE_DEVICE,
	  .token_present = 1,
	  .label = "alpha",
	  .manufacturer = "OpenSC Project",
	  .model = "PKCS#15 emulated",
	  .serial = "0123456789abcdef",
	  .token_flags = INIT_FLAGS },
	{ .slot_id = 18,
	  .slot_description = "a label of the full 32 bytes",
	  .slot_manufacturer = "SoftHSM project",
	  .slot_flags = CKF_TOKEN_PRESENT,
	  .token_present = 1,
	  .label = "0123456789abcdef0123456789abcdef",
	  .manufacturer = "SoftHSM project",
	  .model = "SoftHSM v2",
	  .serial = "ffffffffffffffff",
	  .token_flags = INIT_FLAGS },
};
#define NSLOTS (sizeof(slots) / sizeof(slots[0]))

static int initialised(const p11e_slot *s)
{
	return s->token_present && (s->token_flags & CKF_TOKEN_INITIALIZED);
}

static void match(p11e_ctx *ctx, const char *spec, int mode)
{
	size_t found = NSLOTS;
	p11e_status st;

	p11e__clear_error(ctx);
	st = p11e__token_match(ctx, spec, slots, NSLOTS, mode, &found);
	if (st == P11E_OK) {
		const p11e_slot *s;

		if (found >= NSLOTS)
			abort();
		s = &slots[found];
		if (!s->token_present || (mode == P11E__MATCH_INITIALIZED && !initialised(s)) ||
		    (mode == P11E__MATCH_UNINITIALIZED && initialised(s)))
			abort();
		/* a label is compared as it is, never as a pattern or a prefix */
		if (spec && strncmp(spec, "pkcs11:", 7) != 0 && strcmp(spec, s->label) != 0)
			abort();
		return;
	}
	fuzz_check_message(ctx);
	/* an empty spec is a usage error, never a match of a blank label */
	if (spec && !*spec && st != P11E_ERR_USAGE)
		abort();
	if ((!spec || *spec) && st != P11E_ERR_NOT_FOUND && st != P11E_ERR_INPUT &&
	    st != P11E_ERR_FAILED)
		abort();
}

static void object_spec(p11e_ctx *ctx, const char *spec, const p11e_slot *selected)
{
	struct p11e__objspec os;
	p11e_status st;

	ctx->slot = *selected;
	ctx->have_slot = 1;
	p11e__clear_error(ctx);
	st = p11e__object_spec(ctx, spec, &os);
	ctx->have_slot = 0;
	memset(&ctx->slot, 0, sizeof(ctx->slot));
	if (st == P11E_OK) {
		if (!os.has_label && !os.has_id)
			abort();
		if (!memchr(os.label, '\0', sizeof(os.label)) || os.id_len > sizeof(os.id) ||
		    (!os.has_id && os.id_len))
			abort();
		if (strncmp(spec, "pkcs11:", 7) != 0 && (os.other_token || os.has_id))
			abort();
		return;
	}
	fuzz_check_message(ctx);
	if (st != P11E_ERR_INPUT && st != P11E_ERR_USAGE && st != P11E_ERR_FAILED)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* one context for the whole run, as one p11enroll run has */
	static p11e_ctx *ctx;
	char *spec;

	if (!ctx && !(ctx = p11e_ctx_new()))
		abort();
	if (size == 0) {
		/* no --token: the only initialised (or uninitialised) token */
		match(ctx, NULL, P11E__MATCH_INITIALIZED);
		match(ctx, NULL, P11E__MATCH_UNINITIALIZED);
		return 0;
	}
	spec = fuzz_cstr(data, size);
	match(ctx, spec, P11E__MATCH_INITIALIZED);
	match(ctx, spec, P11E__MATCH_UNINITIALIZED);
	match(ctx, spec, P11E__MATCH_ANY);
	object_spec(ctx, spec, &slots[0]);
	object_spec(ctx, spec, &slots[1]);
	free(spec);
	return 0;
}
