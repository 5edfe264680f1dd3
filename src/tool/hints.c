/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hints.c - what the user can do about a failure, in the tool's own terms:
 * the library says why (p11e_reason), only the tool knows its options and
 * commands (DESIGN.md decision 12).
 */
#include "config.h"

#include <stddef.h>

#include "tool.h"

static const struct {
	p11e_reason reason;
	const char *hint;
} hints[] = {
	{ P11E_REASON_PIN_LAST_TRY, "re-run with --force if you are sure of the PIN" },
	{ P11E_REASON_PIN_LOCKED, "unblock it with 'p11enroll pin unblock' (needs the SO PIN)" },
	{ P11E_REASON_PIN_NOT_INITIALIZED, "set it with 'p11enroll pin init' (needs the SO PIN)" },
	{ P11E_REASON_PIN_EXPIRED, "change it with 'p11enroll pin change'" },
	{ P11E_REASON_PIN_LEN_RANGE, "see min/max PIN length in 'p11enroll tokens'" },
	{ P11E_REASON_MODULE_NOT_FOUND,
	  "check --module (a path or a p11-kit module name; 'p11enroll modules' lists them)" },
	{ P11E_REASON_MODULE_REGISTRY, "give --module PATH" },
	{ P11E_REASON_SLOT_NOT_FOUND, "list the slots with 'p11enroll tokens'" },
	{ P11E_REASON_TOKEN_NOT_FOUND, "check --token" },
	{ P11E_REASON_TOKEN_AMBIGUOUS,
	  "choose one with --token and its pkcs11: URI from 'p11enroll tokens'" },
	{ P11E_REASON_TOKEN_SPEC_EMPTY,
	  "give --token a token label or a pkcs11: URI from 'p11enroll tokens'" },
	{ P11E_REASON_TOKEN_INITIALIZED, "add --reinitialize if that is what you want" },
	{ P11E_REASON_TOKEN_IN_USE, "use it, or erase it with --slot and --reinitialize" },
	{ P11E_REASON_TOKEN_LABEL_TAKEN, "choose one with --token or --slot, or another label" },
	{ P11E_REASON_URI_OTHER_TOKEN, "check it and --token" },
	{ P11E_REASON_LABEL_MISSING, "give --label" },
	{ P11E_REASON_KEY_NOT_FOUND, "check --key (a label or a pkcs11: URI; 'p11enroll list')" },
	{ P11E_REASON_KEY_AMBIGUOUS, "give --key with the pkcs11: URI of the one to use" },
	{ P11E_REASON_KEY_TYPE_MISMATCH, "give --type with the key's type, or another --label" },
	{ P11E_REASON_KEY_ID_MISMATCH, "leave out --id or choose another label" },
	{ P11E_REASON_KEY_ID_UNSETTABLE, "give --id if the token cannot" },
	{ P11E_REASON_KEY_LAST_VALID, "renew and import its successor first, or add --force" },
	{ P11E_REASON_KEY_HAS_CERT, "use 'p11enroll renew' for a new key and request" },
	{ P11E_REASON_KEY_NO_CERT,
	  "use 'p11enroll csr' or 'p11enroll enroll' for a first certificate" },
	{ P11E_REASON_KEY_EXISTS, "choose another, or use 'p11enroll enroll' to reuse the key" },
	{ P11E_REASON_KEY_TYPE_UNSUPPORTED, "choose a --type the token can make" },
	{ P11E_REASON_SUBJECT_MISSING, "give --subject or a --config with distinguished_name" },
	{ P11E_REASON_PSS_NEEDS_RSA, "leave out --pss, or use an RSA --type" },
	{ P11E_REASON_BACKEND_NO_PSS,
	  "--pss is not offered with --backend engine: use --backend provider" },
	{ P11E_REASON_ENGINE_MISSING, "install it, or use --backend provider" },
	{ P11E_REASON_ENGINE_UNSUPPORTED, "use --backend provider" },
	{ P11E_REASON_CERT_NOT_FOUND, "'p11enroll list' shows what is there" },
	{ P11E_REASON_CERT_EXPIRED, "get a new one, or add --allow-expired to import it anyway" },
	{ P11E_REASON_CERT_NOT_YET_VALID,
	  "check the clock, or add --allow-expired to import it anyway" },
	{ P11E_REASON_CERT_ONLY_CA,
	  "import the client certificate (give CA certificates with --chain)" },
	{ P11E_REASON_CERT_OTHER_KEY,
	  "check --key, or leave it out to find the key by public key" },
	{ P11E_REASON_CHAIN_NEEDS_PEM, "use PEM for --chain" },
	{ P11E_REASON_KEY_WEAK,
	  "make a stronger key (keygen --type rsa:2048 or ec:P-256), or add --allow-weak" },
	{ P11E_REASON_CHAIN_FOREIGN, "give --chain only the CA certificates that issued it" },
	{ P11E_REASON_CA_REFUSED, "check --cmp-ref and --cmp-secret, or ask the CA's operator" },
	{ P11E_REASON_CA_UNREACHABLE, "check the --cmp or --est URL (host and port), the proxy "
	                              "settings, and that the CA is up" },
	{ P11E_REASON_CA_UNTRUSTED,
	  "check --ca-trust: it must hold the CA that signs the CMP answers or issued the EST "
	  "server's certificate" },
	{ P11E_REASON_CA_TIMEOUT, "try again later, or give the CA more --timeout" },
	{ P11E_REASON_CA_GARBAGE,
	  "check the --cmp or --est URL: the server does not answer as its protocol says" },
	{ P11E_REASON_CA_OTHER_KEY, "ask the CA's operator: it issued for another key" },
	{ P11E_REASON_CA_AUTH_MISSING, "give --cmp-secret and --cmp-ref, or --auth-key" },
	{ P11E_REASON_PCSC_NO_SERVICE, "start it with 'systemctl start pcscd.socket'" },
	{ P11E_REASON_WAIT_TIMEOUT, "insert the card, or give a longer --timeout" },
	{ P11E_REASON_CA_FINGERPRINT,
	  "compare --ca-fingerprint with the one the CA's operator gives you" },
	{ P11E_REASON_CA_AUTH, "check --auth-user and --auth-password, or --auth-key" },
	{ P11E_REASON_CA_HTTP, "check the --est URL's path, or ask the CA's operator" },
	{ P11E_REASON_CA_PENDING, "run the same command again later: it reuses the key" },
	{ P11E_REASON_CA_NO_TRUST, "give --ca-trust FILE or --ca-fingerprint SHA256:HEX" },
};

const char *tool_hint(p11e_reason reason)
{
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (hints[i].reason == reason)
			return hints[i].hint;
	return NULL;
}
