/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rv.c - one table from CK_RV to its CKR_ name, a plain sentence, the
 * status it maps to and, where one helps, what to do about it.
 */
#include "config.h"

#include <stddef.h>

#include "internal.h"

struct rv_entry {
	CK_RV rv;
	const char *name;
	const char *text;
	p11e_status status;
	const char *hint;
};

/* clang-format off */
#define E(code, text, status, hint) { code, #code, text, status, hint }
/* clang-format on */
#define TOK P11E_ERR_TOKEN
#define AUTH P11E_ERR_AUTH
#define NF P11E_ERR_NOT_FOUND
#define IN P11E_ERR_INPUT

static const struct rv_entry rv_table[] = {
	E(CKR_OK, "success", P11E_OK, NULL),
	E(CKR_CANCEL, "the operation was cancelled", TOK, NULL),
	E(CKR_HOST_MEMORY, "the module ran out of host memory", P11E_ERR_FAILED, NULL),
	E(CKR_SLOT_ID_INVALID, "no such slot", NF, NULL),
	E(CKR_GENERAL_ERROR, "the module hit an unrecoverable error", TOK, NULL),
	E(CKR_FUNCTION_FAILED, "the function failed", TOK, NULL),
	E(CKR_ARGUMENTS_BAD, "the module rejected the arguments", TOK, NULL),
	E(CKR_NO_EVENT, "no slot event", TOK, NULL),
	E(CKR_NEED_TO_CREATE_THREADS, "the module needs to create threads", TOK, NULL),
	E(CKR_CANT_LOCK, "the module cannot lock as asked", TOK, NULL),
	E(CKR_ATTRIBUTE_READ_ONLY, "the attribute is read-only", TOK, NULL),
	E(CKR_ATTRIBUTE_SENSITIVE, "the attribute is sensitive and cannot be read", TOK, NULL),
	E(CKR_ATTRIBUTE_TYPE_INVALID, "the token does not know that attribute", TOK, NULL),
	E(CKR_ATTRIBUTE_VALUE_INVALID, "an attribute value is invalid", TOK, NULL),
	E(CKR_ACTION_PROHIBITED, "the token's policy prohibits the action", P11E_ERR_POLICY, NULL),
	E(CKR_DATA_INVALID, "the data is invalid", IN, NULL),
	E(CKR_DATA_LEN_RANGE, "the data has the wrong length", IN, NULL),
	E(CKR_DEVICE_ERROR, "the device failed", TOK,
	  "check the token and its reader, then try again"),
	E(CKR_DEVICE_MEMORY, "the token is out of memory", TOK,
	  "free space on the token (remove unused objects)"),
	E(CKR_DEVICE_REMOVED, "the token was removed", TOK, "insert the token and try again"),
	E(CKR_ENCRYPTED_DATA_INVALID, "the encrypted data is invalid", IN, NULL),
	E(CKR_ENCRYPTED_DATA_LEN_RANGE, "the encrypted data has the wrong length", IN, NULL),
	E(CKR_FUNCTION_CANCELED, "the function was cancelled", TOK, NULL),
	E(CKR_FUNCTION_NOT_PARALLEL, "no function is running in parallel", TOK, NULL),
	E(CKR_FUNCTION_NOT_SUPPORTED, "the module does not support this function", TOK, NULL),
	E(CKR_KEY_HANDLE_INVALID, "the key handle is invalid", TOK, NULL),
	E(CKR_KEY_SIZE_RANGE, "the token does not support that key size", TOK, NULL),
	E(CKR_KEY_TYPE_INCONSISTENT, "the key type does not fit the mechanism", TOK, NULL),
	E(CKR_KEY_NOT_NEEDED, "no key is needed", TOK, NULL),
	E(CKR_KEY_CHANGED, "the key changed", TOK, NULL),
	E(CKR_KEY_NEEDED, "a key is needed", TOK, NULL),
	E(CKR_KEY_INDIGESTIBLE, "the key cannot be digested", TOK, NULL),
	E(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's attributes do not permit this use",
	  P11E_ERR_POLICY, NULL),
	E(CKR_KEY_NOT_WRAPPABLE, "the key cannot be wrapped", P11E_ERR_POLICY, NULL),
	E(CKR_KEY_UNEXTRACTABLE, "the key is not extractable", P11E_ERR_POLICY, NULL),
	E(CKR_MECHANISM_INVALID, "the token does not support that mechanism", TOK, NULL),
	E(CKR_MECHANISM_PARAM_INVALID, "the mechanism parameters are invalid", TOK, NULL),
	E(CKR_OBJECT_HANDLE_INVALID, "the object handle is invalid", NF, NULL),
	E(CKR_OPERATION_ACTIVE, "another operation is active in the session", TOK, NULL),
	E(CKR_OPERATION_NOT_INITIALIZED, "the operation was not initialised", TOK, NULL),
	E(CKR_PIN_INCORRECT, "the PIN is incorrect", AUTH,
	  "check the PIN source; the token counts failed tries"),
	E(CKR_PIN_INVALID, "the PIN has characters the token does not accept", AUTH, NULL),
	E(CKR_PIN_LEN_RANGE, "the PIN is too short or too long for this token", AUTH, NULL),
	E(CKR_PIN_EXPIRED, "the PIN has expired", AUTH, NULL),
	E(CKR_PIN_LOCKED, "the PIN is locked", AUTH, NULL),
	E(CKR_SESSION_CLOSED, "the session was closed", TOK, NULL),
	E(CKR_SESSION_COUNT, "the token has too many sessions open", TOK,
	  "close other applications using the token"),
	E(CKR_SESSION_HANDLE_INVALID, "the session handle is invalid", TOK, NULL),
	E(CKR_SESSION_PARALLEL_NOT_SUPPORTED, "parallel sessions are not supported", TOK, NULL),
	E(CKR_SESSION_READ_ONLY, "the session is read-only", TOK, NULL),
	E(CKR_SESSION_EXISTS, "a session is open on the token", TOK,
	  "close other applications using the token"),
	E(CKR_SESSION_READ_ONLY_EXISTS, "a read-only session exists", TOK, NULL),
	E(CKR_SESSION_READ_WRITE_SO_EXISTS, "a read-write SO session exists", TOK, NULL),
	E(CKR_SIGNATURE_INVALID, "the signature is invalid", IN, NULL),
	E(CKR_SIGNATURE_LEN_RANGE, "the signature has the wrong length", IN, NULL),
	E(CKR_TEMPLATE_INCOMPLETE, "the attribute template is incomplete", TOK, NULL),
	E(CKR_TEMPLATE_INCONSISTENT, "the attribute template is inconsistent", TOK, NULL),
	E(CKR_TOKEN_NOT_PRESENT, "no token is present in the slot", NF,
	  "insert the token and try again"),
	E(CKR_TOKEN_NOT_RECOGNIZED, "the module does not recognise the token", TOK, NULL),
	E(CKR_TOKEN_WRITE_PROTECTED, "the token is write-protected", TOK, NULL),
	E(CKR_UNWRAPPING_KEY_SIZE_RANGE, "the unwrapping key has the wrong size", TOK, NULL),
	E(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, "the unwrapping key type does not fit", TOK, NULL),
	E(CKR_USER_ALREADY_LOGGED_IN, "the user is already logged in", AUTH, NULL),
	E(CKR_USER_NOT_LOGGED_IN, "the user is not logged in", AUTH, NULL),
	E(CKR_USER_PIN_NOT_INITIALIZED, "the user PIN has not been set", AUTH, NULL),
	E(CKR_USER_TYPE_INVALID, "the user type is invalid", TOK, NULL),
	E(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "another user is already logged in", AUTH,
	  "close other applications using the token"),
	E(CKR_USER_TOO_MANY_TYPES, "too many user types are logged in", AUTH, NULL),
	E(CKR_WRAPPED_KEY_INVALID, "the wrapped key is invalid", IN, NULL),
	E(CKR_WRAPPED_KEY_LEN_RANGE, "the wrapped key has the wrong length", IN, NULL),
	E(CKR_WRAPPING_KEY_HANDLE_INVALID, "the wrapping key handle is invalid", TOK, NULL),
	E(CKR_WRAPPING_KEY_SIZE_RANGE, "the wrapping key has the wrong size", TOK, NULL),
	E(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "the wrapping key type does not fit", TOK, NULL),
	E(CKR_RANDOM_SEED_NOT_SUPPORTED, "the token cannot be seeded", TOK, NULL),
	E(CKR_RANDOM_NO_RNG, "the token has no random number generator", TOK, NULL),
	E(CKR_DOMAIN_PARAMS_INVALID, "the domain parameters are invalid", TOK, NULL),
	E(CKR_CURVE_NOT_SUPPORTED, "the token does not support that curve", TOK, NULL),
	E(CKR_BUFFER_TOO_SMALL, "the output buffer is too small", TOK, NULL),
	E(CKR_SAVED_STATE_INVALID, "the saved state is invalid", TOK, NULL),
	E(CKR_INFORMATION_SENSITIVE, "the information is sensitive", TOK, NULL),
	E(CKR_STATE_UNSAVEABLE, "the state cannot be saved", TOK, NULL),
	E(CKR_CRYPTOKI_NOT_INITIALIZED, "the module was not initialised", TOK, NULL),
	E(CKR_CRYPTOKI_ALREADY_INITIALIZED, "the module was already initialised", TOK, NULL),
	E(CKR_MUTEX_BAD, "bad mutex", TOK, NULL),
	E(CKR_MUTEX_NOT_LOCKED, "mutex not locked", TOK, NULL),
	E(CKR_NEW_PIN_MODE, "the token wants a new PIN", AUTH, NULL),
	E(CKR_NEXT_OTP, "the token wants the next one-time password", AUTH, NULL),
	E(CKR_EXCEEDED_MAX_ITERATIONS, "too many iterations", TOK, NULL),
	E(CKR_FIPS_SELF_TEST_FAILED, "the FIPS self-test failed", TOK, NULL),
	E(CKR_LIBRARY_LOAD_FAILED, "the module could not load a library it needs", TOK, NULL),
	E(CKR_PIN_TOO_WEAK, "the token finds the PIN too weak", AUTH,
	  "choose a longer or less guessable PIN"),
	E(CKR_PUBLIC_KEY_INVALID, "the public key is invalid", IN, NULL),
	E(CKR_FUNCTION_REJECTED, "the token rejected the function", TOK, NULL),
};

static const struct rv_entry *rv_find(CK_RV rv)
{
	size_t i;

	for (i = 0; i < sizeof(rv_table) / sizeof(rv_table[0]); i++)
		if (rv_table[i].rv == rv)
			return &rv_table[i];
	return NULL;
}

const char *p11e_rv_name(unsigned long rv)
{
	const struct rv_entry *e = rv_find(rv);

	if (e)
		return e->name;
	return rv >= CKR_VENDOR_DEFINED ? "CKR_VENDOR_DEFINED" : "CKR_UNKNOWN";
}

const char *p11e_rv_text(unsigned long rv)
{
	const struct rv_entry *e = rv_find(rv);

	if (e)
		return e->text;
	return rv >= CKR_VENDOR_DEFINED ? "the module returned a vendor-defined error"
	                                : "the module returned an unknown error";
}

p11e_status p11e__rv_status(CK_RV rv)
{
	const struct rv_entry *e = rv_find(rv);

	return e ? e->status : P11E_ERR_TOKEN;
}

/* The reasons a caller can act on; the rest is in the message. */
p11e_reason p11e__rv_reason(CK_RV rv)
{
	switch (rv) {
	case CKR_SLOT_ID_INVALID: return P11E_REASON_SLOT_NOT_FOUND;
	case CKR_PIN_LEN_RANGE: return P11E_REASON_PIN_LEN_RANGE;
	case CKR_PIN_EXPIRED: return P11E_REASON_PIN_EXPIRED;
	case CKR_PIN_LOCKED: return P11E_REASON_PIN_LOCKED;
	case CKR_USER_PIN_NOT_INITIALIZED: return P11E_REASON_PIN_NOT_INITIALIZED;
	default: return P11E_REASON_NONE;
	}
}

const char *p11e__rv_hint(CK_RV rv)
{
	const struct rv_entry *e = rv_find(rv);

	return e ? e->hint : NULL;
}

/*
 * The selected token's own advice for a failure, from its quirk file
 * (hint_lockout, hint_general_error), or NULL.  Read from the context, not
 * asked of quirks.c: the call layer sits below the data files.
 */
const char *p11e__rv_token_hint(const p11e_ctx *ctx, CK_RV rv)
{
	const struct p11e__quirks *q = &ctx->quirks;

	if (!ctx->have_quirks)
		return NULL;
	if (rv == CKR_PIN_LOCKED && q->hint_lockout[0])
		return q->hint_lockout;
	if ((rv == CKR_GENERAL_ERROR || rv == CKR_DEVICE_ERROR) && q->hint_general_error[0])
		return q->hint_general_error;
	return NULL;
}
