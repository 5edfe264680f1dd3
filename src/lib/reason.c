/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reason.c - stable names for the reasons a failure carries, for JSON
 * output and logs that a program reads.
 */
#include "config.h"

#include "internal.h"

const char *p11e_reason_name(p11e_reason reason)
{
	switch (reason) {
	case P11E_REASON_NONE: return "none";
	case P11E_REASON_PIN_LAST_TRY: return "pin-last-try";
	case P11E_REASON_PIN_LOCKED: return "pin-locked";
	case P11E_REASON_SO_PIN_LOCKED: return "so-pin-locked";
	case P11E_REASON_PIN_NOT_INITIALIZED: return "pin-not-initialized";
	case P11E_REASON_PIN_EXPIRED: return "pin-expired";
	case P11E_REASON_PIN_LEN_RANGE: return "pin-length";
	case P11E_REASON_MODULE_NOT_FOUND: return "module-not-found";
	case P11E_REASON_MODULE_REGISTRY: return "module-registry";
	case P11E_REASON_SLOT_NOT_FOUND: return "slot-not-found";
	case P11E_REASON_TOKEN_NOT_FOUND: return "token-not-found";
	case P11E_REASON_TOKEN_AMBIGUOUS: return "token-ambiguous";
	case P11E_REASON_TOKEN_NONE: return "token-none";
	case P11E_REASON_TOKEN_SPEC_EMPTY: return "token-spec-empty";
	case P11E_REASON_TOKEN_INITIALIZED: return "token-initialized";
	case P11E_REASON_TOKEN_IN_USE: return "token-in-use";
	case P11E_REASON_TOKEN_LABEL_TAKEN: return "token-label-taken";
	case P11E_REASON_TOKEN_BUSY: return "token-busy";
	case P11E_REASON_URI_OTHER_TOKEN: return "uri-other-token";
	case P11E_REASON_LABEL_MISSING: return "label-missing";
	case P11E_REASON_KEY_NOT_FOUND: return "key-not-found";
	case P11E_REASON_KEY_AMBIGUOUS: return "key-ambiguous";
	case P11E_REASON_KEY_TYPE_MISMATCH: return "key-type-mismatch";
	case P11E_REASON_KEY_ID_MISMATCH: return "key-id-mismatch";
	case P11E_REASON_KEY_ID_UNSETTABLE: return "key-id-unsettable";
	case P11E_REASON_KEY_LAST_VALID: return "key-last-valid";
	case P11E_REASON_KEY_HAS_CERT: return "key-has-cert";
	case P11E_REASON_KEY_NO_CERT: return "key-no-cert";
	case P11E_REASON_KEY_EXISTS: return "key-exists";
	case P11E_REASON_KEY_TYPE_UNSUPPORTED: return "key-type-unsupported";
	case P11E_REASON_SUBJECT_MISSING: return "subject-missing";
	case P11E_REASON_PSS_NEEDS_RSA: return "pss-needs-rsa";
	case P11E_REASON_BACKEND_NO_PSS: return "backend-no-pss";
	case P11E_REASON_ENGINE_MISSING: return "engine-missing";
	case P11E_REASON_ENGINE_UNSUPPORTED: return "engine-unsupported";
	case P11E_REASON_CERT_NOT_FOUND: return "cert-not-found";
	case P11E_REASON_CERT_EXPIRED: return "cert-expired";
	case P11E_REASON_CERT_NOT_YET_VALID: return "cert-not-yet-valid";
	case P11E_REASON_CERT_ONLY_CA: return "cert-only-ca";
	case P11E_REASON_CERT_OTHER_KEY: return "cert-other-key";
	case P11E_REASON_CHAIN_NEEDS_PEM: return "chain-needs-pem";
	case P11E_REASON_KEY_WEAK: return "key-weak";
	case P11E_REASON_CHAIN_FOREIGN: return "chain-foreign";
	case P11E_REASON_CA_REFUSED: return "ca-refused";
	case P11E_REASON_CA_UNREACHABLE: return "ca-unreachable";
	case P11E_REASON_CA_UNTRUSTED: return "ca-untrusted";
	case P11E_REASON_CA_TIMEOUT: return "ca-timeout";
	case P11E_REASON_CA_GARBAGE: return "ca-garbage";
	case P11E_REASON_CA_OTHER_KEY: return "ca-other-key";
	case P11E_REASON_CA_AUTH_MISSING: return "ca-auth-missing";
	case P11E_REASON_PCSC_NO_SERVICE: return "pcsc-no-service";
	case P11E_REASON_WAIT_CANCELLED: return "wait-cancelled";
	case P11E_REASON_WAIT_TIMEOUT: return "wait-timeout";
	case P11E_REASON_CA_FINGERPRINT: return "ca-fingerprint";
	case P11E_REASON_CA_AUTH: return "ca-auth";
	case P11E_REASON_CA_HTTP: return "ca-http";
	case P11E_REASON_CA_PENDING: return "ca-pending";
	case P11E_REASON_CA_NO_TRUST: return "ca-no-trust";
	}
	return "unknown";
}
