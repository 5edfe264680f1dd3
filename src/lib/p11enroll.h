/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11enroll.h - public API of libp11enroll
 *
 * libp11enroll provisions PKCS#11 tokens with identities whose private keys
 * are generated on the token and never leave it.  Every function works on a
 * context (one per run, no globals) and returns a typed status; on failure the
 * context holds a one-line message, and, where a PKCS#11 call failed, the
 * call's name and its CK_RV.
 *
 * Ownership and threads:
 * - One context per thread.  Nothing of a context may be used by two threads
 *   at once (its session, its OpenSSL library context, its error); contexts
 *   in different threads are independent.  The PKCS#11 module is loaded
 *   through p11-kit, managed: its C_Initialize and C_Finalize are reference
 *   counted, so two contexts may load the same module and it is finalised
 *   when the last one lets go (libp11's engine, P11E_BACKEND_ENGINE, loads it
 *   once more by itself, outside that count).
 * - A p11e_req belongs to its caller; it may be used by several calls, in one
 *   thread at a time, and is freed with p11e_req_free.  Its setters copy the
 *   strings they are given: the caller keeps ownership of its own.
 * - Results are owned by the caller and released with the function named for
 *   them: p11e_free (encoded requests, certificates, URIs), p11e_key_clear,
 *   p11e_import_result_clear, p11e_list_free, p11e_slot_list_free,
 *   p11e_module_list_free, p11e_pin_free (which wipes the PIN).
 * - Strings returned by a context's getters (p11e_error_message,
 *   p11e_error_details, p11e_token_selected, p11e_token_quirks) live until
 *   the next call on that context.
 * - The library never opens a terminal: it asks the application for a PIN
 *   through the callback given to p11e_ctx_set_pin_callback.
 */
#ifndef P11ENROLL_H
#define P11ENROLL_H

#include <stddef.h>

#include <p11enroll-version.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Status codes.  They double as the p11enroll tool's exit codes, so a
 * script sees the same number whichever layer it talks to.
 */
typedef enum p11e_status {
	P11E_OK = 0,
	P11E_ERR_FAILED = 1,    /* internal error, out of memory */
	P11E_ERR_USAGE = 2,     /* bad option or argument */
	P11E_ERR_AUTH = 3,      /* PIN incorrect, locked, last try refused, no PIN */
	P11E_ERR_NOT_FOUND = 4, /* module, slot, token or object not found */
	P11E_ERR_TOKEN = 5,     /* the module or token failed */
	P11E_ERR_POLICY = 6,    /* a policy refused the operation */
	P11E_ERR_INPUT = 7,     /* malformed input: file, URI, config */
	P11E_ERR_TIMEOUT = 8,   /* waited as long as allowed: a CA, p11e_reader_wait */
	P11E_ERR_CA = 9,        /* a CA refused, failed, was unreachable or untrusted */
} p11e_status;

typedef enum p11e_log_level {
	P11E_LOG_ERROR = 0,
	P11E_LOG_WARN = 1,
	P11E_LOG_NOTE = 2, /* worth telling by default: "note: ..." */
	P11E_LOG_INFO = 3,
	P11E_LOG_DEBUG = 4, /* every PKCS#11 call and its result */
} p11e_log_level;

typedef void (*p11e_log_fn)(void *data, p11e_log_level level, const char *msg);

/*
 * Why an operation failed, for a program to act on: the message says what
 * happened to which token, key or file; the reason says what kind of thing
 * it was, so that a caller can offer its own way out (the p11enroll tool
 * names its options).  P11E_REASON_NONE: the message is all there is.
 */
typedef enum p11e_reason {
	P11E_REASON_NONE = 0,
	/* PINs */
	P11E_REASON_PIN_LAST_TRY,  /* one try left: nothing sent (P11E_CTX_FORCE_LAST_PIN_TRY) */
	P11E_REASON_PIN_LOCKED,    /* the user PIN is locked: reset it as SO */
	P11E_REASON_SO_PIN_LOCKED, /* the SO PIN is locked: only the vendor can help */
	P11E_REASON_PIN_NOT_INITIALIZED, /* the token has no user PIN yet */
	P11E_REASON_PIN_EXPIRED,         /* the PIN must be changed */
	P11E_REASON_PIN_LEN_RANGE,       /* too short or too long for this token */
	/* modules, slots and tokens */
	P11E_REASON_MODULE_NOT_FOUND, /* no such module file or registered name */
	P11E_REASON_MODULE_REGISTRY,  /* p11-kit's module registry cannot be read */
	P11E_REASON_SLOT_NOT_FOUND,
	P11E_REASON_TOKEN_NOT_FOUND,   /* nothing matches the token spec */
	P11E_REASON_TOKEN_AMBIGUOUS,   /* more than one token matches */
	P11E_REASON_TOKEN_NONE,        /* no initialised (or uninitialised) token at all */
	P11E_REASON_TOKEN_SPEC_EMPTY,  /* an empty token label or URI */
	P11E_REASON_TOKEN_INITIALIZED, /* initialising again would erase it */
	P11E_REASON_TOKEN_IN_USE,      /* initialised with a user PIN: use it or erase it */
	P11E_REASON_TOKEN_LABEL_TAKEN, /* more than one token has the label */
	P11E_REASON_TOKEN_BUSY,        /* another process holds the token's lock */
	P11E_REASON_URI_OTHER_TOKEN,   /* an object URI names another token */
	P11E_REASON_LABEL_MISSING,     /* a label is needed */
	/* keys */
	P11E_REASON_KEY_NOT_FOUND,
	P11E_REASON_KEY_AMBIGUOUS,     /* more than one key has the label */
	P11E_REASON_KEY_TYPE_MISMATCH, /* a key of the label exists with another type */
	P11E_REASON_KEY_ID_MISMATCH,   /* a key of the label exists with another id */
	P11E_REASON_KEY_ID_UNSETTABLE, /* the token cannot set CKA_ID after generation */
	P11E_REASON_KEY_LAST_VALID,    /* retiring it leaves no valid certificate */
	P11E_REASON_KEY_HAS_CERT,      /* enroll: the key has a certificate; renew it */
	P11E_REASON_KEY_NO_CERT,       /* renew: the key has no certificate to repeat */
	P11E_REASON_KEY_EXISTS,        /* keygen: the label or id is taken */
	/* the token cannot make a key of this type or size (keygen asked it first) */
	P11E_REASON_KEY_TYPE_UNSUPPORTED,
	/* requests */
	P11E_REASON_SUBJECT_MISSING, /* neither a subject nor a config with one */
	P11E_REASON_PSS_NEEDS_RSA,
	P11E_REASON_BACKEND_NO_PSS,     /* the engine backend cannot pad with PSS */
	P11E_REASON_ENGINE_MISSING,     /* libp11's engine is not installed */
	P11E_REASON_ENGINE_UNSUPPORTED, /* this build has no ENGINE support */
	/* certificates */
	P11E_REASON_CERT_NOT_FOUND,
	P11E_REASON_CERT_EXPIRED,
	P11E_REASON_CERT_NOT_YET_VALID,
	P11E_REASON_CERT_ONLY_CA,    /* the file holds only CA certificates */
	P11E_REASON_CERT_OTHER_KEY,  /* the certificate is not for the named key */
	P11E_REASON_CHAIN_NEEDS_PEM, /* a chain cannot be one DER certificate */
	P11E_REASON_KEY_WEAK,        /* RSA under 2048 bits or EC under 256: P11E_REQ_ALLOW_WEAK */
	P11E_REASON_CHAIN_FOREIGN,   /* a chain certificate is not on the leaf's issuer path */
	/* certificate authorities (CMP, EST) */
	P11E_REASON_CA_REFUSED,      /* the CA answered with a rejection (PKIStatus, failInfo) */
	P11E_REASON_CA_UNREACHABLE,  /* no connection (CMP: or an HTTP error) */
	P11E_REASON_CA_UNTRUSTED,    /* the answer or TLS certificate is not from whom we trust */
	P11E_REASON_CA_TIMEOUT,      /* no answer in time */
	P11E_REASON_CA_GARBAGE,      /* the answer is not what the protocol says */
	P11E_REASON_CA_OTHER_KEY,    /* the issued certificate is for another public key */
	P11E_REASON_CA_AUTH_MISSING, /* neither a shared secret nor a key to authenticate with */
	/* card readers (pcsc-lite) */
	P11E_REASON_PCSC_NO_SERVICE, /* no PC/SC daemon (pcscd) answers */
	P11E_REASON_WAIT_CANCELLED,  /* p11e_reader_wait_cancel ended the wait */
	P11E_REASON_WAIT_TIMEOUT,    /* no card event before the time limit */
	/* certificate authorities (EST) */
	P11E_REASON_CA_FINGERPRINT, /* no certificate of /cacerts has the given fingerprint */
	P11E_REASON_CA_AUTH,        /* the server refused our credentials (HTTP 401/403) */
	P11E_REASON_CA_HTTP,        /* another HTTP error status */
	P11E_REASON_CA_PENDING,     /* accepted, not issued yet (HTTP 202): ask again later */
	P11E_REASON_CA_NO_TRUST,    /* neither a trust anchor nor a fingerprint was given */
} p11e_reason;

typedef struct p11e_ctx p11e_ctx;

/* --- context ----------------------------------------------------------- */

p11e_ctx *p11e_ctx_new(void);
void p11e_ctx_free(p11e_ctx *ctx);
void p11e_ctx_set_log(p11e_ctx *ctx, p11e_log_fn fn, void *data);

typedef enum p11e_ctx_flags {
	/*
	 * Allow spending a token's last PIN try (CKF_*_PIN_FINAL_TRY); without
	 * it every function that sends a PIN refuses before sending it.
	 */
	P11E_CTX_FORCE_LAST_PIN_TRY = 1u << 0,
	/*
	 * This context reads and never logs in (a listing of tokens, a status
	 * of public objects): p11e_module_load takes the module lock (against
	 * another process's login rewriting the token) only if it is free,
	 * never waits for it, and lets it go right after C_Initialize.  A
	 * login on such a context runs without the module lock.
	 */
	P11E_CTX_NO_LOGIN = 1u << 1,
	/*
	 * The caller never uses this context's module from two threads at
	 * once: p11e_module_load initialises the module without
	 * CKF_OS_LOCKING_OK, and the module takes no locks of its own (a
	 * sixteenth of listing a SoftHSMv2 token).  Without it the module is
	 * told to lock.
	 */
	P11E_CTX_ONE_THREAD = 1u << 2,
} p11e_ctx_flags;

/* Replace the context's flags (0 by default): an OR of p11e_ctx_flags. */
p11e_status p11e_ctx_set_flags(p11e_ctx *ctx, unsigned flags);

/*
 * The version of the library that runs ("1.0.0"); P11E_VERSION_NUM and
 * P11E_CHECK_VERSION (p11enroll-version.h) give the headers' at build time.
 */
const char *p11e_version(void);
const char *p11e_status_name(p11e_status status);
/* Message of the last failure, "" if none. */
const char *p11e_error_message(const p11e_ctx *ctx);
/* CK_RV and function name of the last failed PKCS#11 call (0 / NULL if none). */
unsigned long p11e_error_rv(const p11e_ctx *ctx);
/* More lines about the last failure (each profile violation), or NULL. */
const char *const *p11e_error_details(const p11e_ctx *ctx, size_t *count);
const char *p11e_error_call(const p11e_ctx *ctx);
/* The reason of the last failure (P11E_REASON_NONE if none was given). */
p11e_reason p11e_error_reason(const p11e_ctx *ctx);
/* "pin-last-try", ...: a stable name for JSON and logs; never NULL. */
const char *p11e_reason_name(p11e_reason reason);

/* "CKR_PIN_INCORRECT" and "the PIN is incorrect"; never NULL. */
const char *p11e_rv_name(unsigned long rv);
const char *p11e_rv_text(unsigned long rv);

/* --- modules ----------------------------------------------------------- */

typedef struct p11e_module_info {
	char *name;        /* p11-kit registered name, or NULL */
	char *path;        /* shared object path, or NULL if unknown */
	char *description; /* CK_INFO libraryDescription */
	char *manufacturer;
	char *uri; /* RFC 7512 module URI */
	unsigned cryptoki_major, cryptoki_minor;
	unsigned library_major, library_minor;
	int loaded; /* 0: registered but failed to initialise */
} p11e_module_info;

/*
 * Load and initialise the module to work with.  spec is a path to a shared
 * object or the name of a module registered with p11-kit.  NULL means
 * $P11ENROLL_MODULE, else the p11-kit proxy (every registered module).
 */
p11e_status p11e_module_load(p11e_ctx *ctx, const char *spec);
/*
 * The loaded module if there is one, else every module registered with
 * p11-kit.
 */
p11e_status p11e_module_list(p11e_ctx *ctx, p11e_module_info **list, size_t *count);
void p11e_module_list_free(p11e_module_info *list, size_t count);

/* --- slots and tokens -------------------------------------------------- */

#define P11E_UNAVAILABLE ((unsigned long)-1) /* CK_UNAVAILABLE_INFORMATION */

typedef struct p11e_slot {
	unsigned long slot_id;
	char slot_description[65];
	char slot_manufacturer[33];
	unsigned long slot_flags; /* CKF_TOKEN_PRESENT, CKF_REMOVABLE_DEVICE, ... */
	int token_present;
	/* token fields are empty when no token is present; strings unpadded */
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	unsigned long token_flags; /* CKF_* token flags */
	unsigned long free_public_memory, total_public_memory;
	unsigned long free_private_memory, total_private_memory;
	unsigned long min_pin_len, max_pin_len;
	char *uri; /* RFC 7512 token URI (with slot-id for an uninitialised token) */
} p11e_slot;

p11e_status p11e_slot_list(p11e_ctx *ctx, p11e_slot **list, size_t *count);
void p11e_slot_list_free(p11e_slot *list, size_t count);

/*
 * Choose the token to work on.  spec is a pkcs11: URI or a token label; NULL
 * picks the only initialised token.  No match, or more than one, fails with
 * a message that lists the tokens that are there.
 */
p11e_status p11e_token_select(p11e_ctx *ctx, const char *spec);
/*
 * Choose a token to initialise: by spec, by slot id (>= 0), or else the only
 * uninitialised one.  With neither, and a label: a token with that label
 * whose initialisation was cut short (no user PIN yet) is chosen, so that
 * init-token can run again and finish; a complete one is refused.
 */
p11e_status p11e_token_select_for_init(p11e_ctx *ctx, const char *spec, long slot_id,
                                       const char *label);
/* The selected token (refreshed), or NULL. */
const p11e_slot *p11e_token_selected(const p11e_ctx *ctx);
/*
 * The token quirk file (NAME.conf, searched in $P11ENROLL_TOKENS_PATH, then
 * $XDG_CONFIG_HOME/p11enroll/tokens, then the system's configuration and data
 * directories: p11enroll(1), DATA FILES) whose [match] fits slot's token: its name
 * without the directory in *file (valid while ctx lives), or NULL when none
 * fits or no token is present.  A malformed quirk file anywhere on the path
 * is P11E_ERR_INPUT naming it.
 */
p11e_status p11e_token_quirks(p11e_ctx *ctx, const p11e_slot *slot, const char **file);

/* --- PINs -------------------------------------------------------------- */

typedef enum p11e_pin_role {
	P11E_PIN_USER = 0,
	P11E_PIN_SO = 1,
	P11E_PIN_NEW_USER = 2, /* a new user PIN: prompted for twice */
	P11E_PIN_NEW_SO = 3,
} p11e_pin_role;

typedef struct p11e_pin p11e_pin;

/* What a PIN callback is told about the PIN it is asked for. */
typedef enum p11e_pin_flags {
	/* a new PIN asked for the second time: the library compares the two */
	P11E_PIN_FLAG_CONFIRM = 1u << 0,
	/* the token reports failed tries of this PIN (CKF_*_PIN_COUNT_LOW) */
	P11E_PIN_FLAG_COUNT_LOW = 1u << 1,
	/* one try is left and P11E_CTX_FORCE_LAST_PIN_TRY allows spending it */
	P11E_PIN_FLAG_FINAL_TRY = 1u << 2,
} p11e_pin_flags;

/* What a PIN callback returns when it has no PIN (else the PIN's length). */
#define P11E_PIN_ANSWER_NONE 0           /* the user gave none (an empty answer, cancelled) */
#define P11E_PIN_ANSWER_UNAVAILABLE (-1) /* no way to ask now (no terminal): as without one */
#define P11E_PIN_ANSWER_FAILED (-2)      /* asking failed, or the PIN does not fit in buf */

/*
 * The application's way to ask for a PIN, in the spirit of p11-kit's
 * p11_kit_pin_register_callback.  Called from within the library's call
 * that needs the PIN (p11e_pin_read, or a signature through libp11's
 * engine), in the caller's thread.  role says which PIN; token_label and
 * token_uri name the selected token (NULL when none is).  flags is an OR of
 * p11e_pin_flags.  Write the PIN to buf (at most size - 1 bytes) and return
 * its length, or one of the P11E_PIN_ANSWER_* values.  The library wipes
 * buf afterwards; the callback should wipe any copy of its own.  A new PIN
 * (P11E_PIN_NEW_*) is asked for twice, the second time with
 * P11E_PIN_FLAG_CONFIRM.  A PIN the token rejected is never asked for again
 * within the call: the call fails.
 */
typedef int (*p11e_pin_fn)(void *data, p11e_pin_role role, const char *token_label,
                           const char *token_uri, unsigned flags, char *buf, size_t size);

/* Register (fn NULL: remove) the callback; one per context. */
void p11e_ctx_set_pin_callback(p11e_ctx *ctx, p11e_pin_fn fn, void *data);

/*
 * Read a PIN from a source: pass:PIN, env:VAR, file:PATH, fd:N, stdin.
 * src NULL: for the user PIN, the selected token URI's pin-value or
 * pin-source; then the PIN callback.  Without a callback (or when it says
 * P11E_PIN_ANSWER_UNAVAILABLE) this fails with P11E_ERR_AUTH rather than
 * wait.
 */
p11e_status p11e_pin_read(p11e_ctx *ctx, const char *src, p11e_pin_role role, p11e_pin **pin);
/* Wipes the buffer before freeing it. */
void p11e_pin_free(p11e_pin *pin);
size_t p11e_pin_length(const p11e_pin *pin);

/*
 * Refuse before any PIN is asked for if the role's PIN is locked, or is on its
 * final try without P11E_CTX_FORCE_LAST_PIN_TRY.  Called again by every function that sends a
 * PIN to the token.
 */
p11e_status p11e_pin_guard(p11e_ctx *ctx, p11e_pin_role role);

/* --- sessions and PIN operations on the selected token ---------------- */

/*
 * Open a read-write session on the selected token and log in.  The user PIN
 * of a successful login stays in the context (a copy, wiped by p11e_logout
 * and p11e_ctx_free): libp11's engine (P11E_BACKEND_ENGINE) logs in by
 * itself and is given it.  pin NULL: the token has a PIN pad
 * (CKF_PROTECTED_AUTHENTICATION_PATH, see p11e_token_pinpad): C_Login with
 * no PIN, after the note "enter the PIN on the reader's PIN pad", and the
 * user types it there; on a token without one, P11E_ERR_AUTH.  The PIN
 * guard (p11e_pin_guard) runs first either way.
 */
p11e_status p11e_login(p11e_ctx *ctx, p11e_pin_role role, const p11e_pin *pin);
/*
 * 1 if the selected token takes its PIN on a PIN pad of its own or of its
 * reader (CKF_PROTECTED_AUTHENTICATION_PATH): p11e_login wants no PIN then.
 */
int p11e_token_pinpad(const p11e_ctx *ctx);
p11e_status p11e_logout(p11e_ctx *ctx);

typedef enum p11e_init_flags {
	/* initialise a token that is initialised already: erases every object on it */
	P11E_INIT_REINIT = 1u << 0,
} p11e_init_flags;

/*
 * Initialise the token chosen with p11e_token_select_for_init: C_InitToken
 * with the SO PIN and the label (at most 32 bytes, blank padded), then the
 * user PIN with C_InitPIN.  An initialised token is refused unless flags has
 * P11E_INIT_REINIT.
 */
p11e_status p11e_init_token(p11e_ctx *ctx, const char *label, const p11e_pin *so_pin,
                            const p11e_pin *user_pin, unsigned flags);
/*
 * The checks p11e_init_token makes before it sends anything (label length,
 * already initialised, SO PIN state), so a caller can run them before it
 * asks for PINs.  Same flags.
 */
p11e_status p11e_init_token_check(p11e_ctx *ctx, const char *label, unsigned flags);
/* C_SetPIN as the user. */
p11e_status p11e_pin_change(p11e_ctx *ctx, const p11e_pin *old_pin, const p11e_pin *new_pin);
/* C_InitPIN as SO: set or reset (unblock) the user PIN. */
p11e_status p11e_pin_init(p11e_ctx *ctx, const p11e_pin *so_pin, const p11e_pin *new_pin);

/* --- keys --------------------------------------------------------------- */

typedef enum p11e_key_type {
	P11E_KEY_RSA = 1,
	P11E_KEY_EC = 2,
} p11e_key_type;

typedef struct p11e_key {
	char label[129];
	unsigned char id[64];
	size_t id_len;
	char *uri; /* RFC 7512 URI of the private key */
	p11e_key_type type;
	unsigned bits;  /* RSA modulus bits or EC field bits */
	char curve[16]; /* "P-256", "P-384" for EC keys */
	/* attributes as the token reports them: 1, 0, or -1 when unreadable */
	int sensitive, extractable, always_sensitive, never_extractable, local;
	unsigned long handle;     /* the private key object */
	unsigned long pub_handle; /* its public key object, 0 if there is none */
	/*
	 * CKA_DECRYPT of the private key as the token reports it (1, 0, -1):
	 * 1 only on a token whose quirk file declares key_may_decrypt.
	 */
	int decrypt;
} p11e_key;

/*
 * Generate a key pair on the selected token (logged in as user).  type is
 * rsa:2048 (default when NULL), rsa:3072, rsa:4096, ec:P-256 or ec:P-384.
 * The private key is sensitive and never extractable; both halves carry
 * label and CKA_ID, the SHA-1 of the public key unless id is given.  A label
 * or id already on the token is refused, and a pair whose attributes the
 * token did not honour is destroyed (P11E_ERR_POLICY).
 */
p11e_status p11e_keygen(p11e_ctx *ctx, const char *type, const char *label, const unsigned char *id,
                        size_t id_len, p11e_key *key);
/*
 * The private key named by a pkcs11: URI or a label on the selected token.
 * A key whose public half lost the common CKA_ID (a key generation cut short
 * between its two C_SetAttributeValue calls) is joined to it again here:
 * the half is the one that verifies a signature the private key makes, and
 * both get the SHA-1 id, so this call may write CKA_ID on the token.
 */
p11e_status p11e_key_find(p11e_ctx *ctx, const char *spec, p11e_key *key);
void p11e_key_clear(p11e_key *key);
/* Parse "rsa:2048", "ec:P-256", ...; P11E_ERR_USAGE with a message if bad. */
p11e_status p11e_key_type_parse(p11e_ctx *ctx, const char *type, p11e_key_type *kt, unsigned *bits,
                                const char **curve);

/* --- certificate requests --------------------------------------------- */

/*
 * What a request says and how it is signed, built up with setters: an
 * opaque builder, so that a later version can add to it.  It is not tied
 * to a context; the calls that use it (p11e_csr_make, p11e_enroll,
 * p11e_renew) check its content and report what is wrong in their context.
 * Those calls take NULL as an empty request.
 */
typedef struct p11e_req p11e_req;

typedef enum p11e_req_flags {
	P11E_REQ_PSS = 1u << 0, /* RSA-PSS instead of PKCS#1 v1.5 (RSA keys) */
	/* sign for a key under RSA-2048 or P-256 (refused otherwise: P11E_REASON_KEY_WEAK) */
	P11E_REQ_ALLOW_WEAK = 1u << 1,
} p11e_req_flags;

typedef enum p11e_backend {
	P11E_BACKEND_PROVIDER = 0, /* the library's own provider, in its private OpenSSL context */
	P11E_BACKEND_ENGINE = 1,   /* libp11's pkcs11 engine, loaded privately */
} p11e_backend;

/* How an encoded request or certificate is written. */
typedef enum p11e_format {
	P11E_FORMAT_PEM = 0,
	P11E_FORMAT_DER = 1,
} p11e_format;

/* An empty request (provider backend, no flags); NULL when out of memory. */
p11e_req *p11e_req_new(void);
void p11e_req_free(p11e_req *req);
/*
 * Each setter copies what it is given and replaces what was set (NULL
 * unsets); the add functions append.  They return P11E_ERR_FAILED when out
 * of memory and P11E_ERR_USAGE for a NULL req or an unknown value.
 */
/*
 * An OpenSSL req-style config: [req] with prompt = no, distinguished_name,
 * req_extensions, string_mask, utf8, default_md.
 */
p11e_status p11e_req_set_config(p11e_req *req, const char *path);
/* "/C=US/O=Acme/CN=host" (OpenSSL's syntax); overrides the config's. */
p11e_status p11e_req_set_subject(p11e_req *req, const char *subject);
/* subjectAltName items, "DNS:a.example,IP:192.0.2.1"; all of them make one extension. */
p11e_status p11e_req_add_san(p11e_req *req, const char *san);
/* An extension in OpenSSL's syntax, "extendedKeyUsage=clientAuth"; overrides the config's. */
p11e_status p11e_req_add_ext(p11e_req *req, const char *ext);
/* sha256, sha384, sha512; NULL: the config's default_md, else sha256. */
p11e_status p11e_req_set_digest(p11e_req *req, const char *digest);
/* A profile the request is checked against before it is signed (p11e_lint). */
p11e_status p11e_req_set_profile(p11e_req *req, const char *profile);
/* Replace the flags: an OR of p11e_req_flags. */
p11e_status p11e_req_set_flags(p11e_req *req, unsigned flags);
p11e_status p11e_req_set_backend(p11e_req *req, p11e_backend backend);

/*
 * Build a PKCS#10 request as req says for key (on the selected, logged-in
 * token), sign it on the token through the backend req names (the
 * library's provider by default, or libp11's engine, which is given the
 * user PIN of the login), verify it, and return it encoded in *out (free
 * with p11e_free).
 */
p11e_status p11e_csr_make(p11e_ctx *ctx, const p11e_key *key, const p11e_req *req,
                          p11e_format format, unsigned char **out, size_t *outlen);
void p11e_free(void *p);

/*
 * Check a request or certificate file (PEM or DER) against a profile
 * (NULL: mtls-client): P11E_ERR_POLICY with each violation in
 * p11e_error_details.  Profiles are OpenSSL-style config files named NAME.conf
 * in $P11ENROLL_PROFILE_PATH, $XDG_CONFIG_HOME/p11enroll/profiles, then the
 * system's configuration and data directories (p11enroll(1), DATA FILES).
 */
p11e_status p11e_lint(p11e_ctx *ctx, const char *path, const char *profile);

/*
 * keygen + csr in one step, idempotent: a private key with this label and
 * no certificate yet is reused (*reused = 1); one of another type, or with a
 * certificate, is an error.  The request input is checked before any key is
 * generated.
 */
p11e_status p11e_enroll(p11e_ctx *ctx, const char *type, const char *label, const unsigned char *id,
                        size_t id_len, const p11e_req *req, p11e_format format, p11e_key *key,
                        int *reused, unsigned char **out, size_t *outlen);

/* --- certificates on the token ----------------------------------------- */

typedef struct p11e_import_result {
	int already;          /* the certificate was on the token already */
	size_t chain_written; /* authority certificates written */
	char label[129];
	char *uri;    /* the certificate's URI */
	p11e_key key; /* the key it belongs to */
} p11e_import_result;

typedef enum p11e_import_flags {
	/* take a certificate outside its validity period */
	P11E_IMPORT_ALLOW_EXPIRED = 1u << 0,
} p11e_import_flags;

/*
 * Write the certificate in path (PEM, DER or PKCS#7) whose public key
 * matches a private key on the token, with that key's CKA_ID and label (or
 * label), and the other certificates of path and chain_path as authority
 * certificates.  keyspec (URI or label) names the key, or NULL to find it by
 * public key.  Refused, with the token untouched: no matching key, only CA
 * certificates, unreadable input, a certificate outside its validity period
 * (unless flags has P11E_IMPORT_ALLOW_EXPIRED).
 */
p11e_status p11e_import(p11e_ctx *ctx, const char *path, const char *chain_path,
                        const char *keyspec, const char *label, unsigned flags,
                        p11e_import_result *result);
void p11e_import_result_clear(p11e_import_result *result);

typedef enum p11e_export_flags {
	/* the certificate followed by its issuers found on the token (PEM only) */
	P11E_EXPORT_CHAIN = 1u << 0,
	P11E_EXPORT_DER = 1u << 1, /* DER instead of PEM */
} p11e_export_flags;

/*
 * The certificate named by spec (URI or label), PEM unless P11E_EXPORT_DER;
 * with P11E_EXPORT_CHAIN, followed by its issuers found on the token, up to
 * a self-signed root.  Free *out with p11e_free.
 */
p11e_status p11e_export(p11e_ctx *ctx, const char *spec, unsigned flags, unsigned char **out,
                        size_t *outlen);

/*
 * The RFC 7512 URI of the private key certificate spec (URI or label)
 * belongs to, from its CKA_ID and label (free with p11e_free): what a client
 * (curl, openssl, an engine or provider) is pointed at instead of a PKCS#12
 * file.  No login needed.
 */
p11e_status p11e_cert_key_uri(p11e_ctx *ctx, const char *spec, char **uri);

/*
 * A new key next to the old one (label with a generation suffix, "client.2",
 * new CKA_ID, the old key's type unless type is given) and a request that
 * repeats the old key's newest certificate: subject, subjectAltName,
 * extendedKeyUsage, keyUsage, each replaced by what req sets (req NULL:
 * nothing; a config replaces all of it).  The old key and certificate stay.  A successor without a
 * certificate yet (an earlier renew) is reused (*reused = 1); a key this call made is removed again
 * if the request fails.
 */
p11e_status p11e_renew(p11e_ctx *ctx, const char *keyspec, const char *type, const p11e_req *req,
                       p11e_format format, p11e_key *newkey, int *reused, unsigned char **out,
                       size_t *outlen);

typedef enum p11e_retire_flags {
	/* retire the only key on the token with a valid certificate too */
	P11E_RETIRE_FORCE = 1u << 0,
} p11e_retire_flags;

/*
 * Find the key to retire and count its certificates; refused (policy) when it
 * is the only key with a valid certificate, unless flags has
 * P11E_RETIRE_FORCE.
 */
p11e_status p11e_retire_plan(p11e_ctx *ctx, const char *keyspec, unsigned flags, p11e_key *key,
                             size_t *ncerts);
/*
 * Remove the key's certificates, then the key pair. CA certificates stay.
 * Under the token's lock, the last-valid-key guard of p11e_retire_plan is
 * checked again (the token may have changed while the user was asked),
 * unless flags has P11E_RETIRE_FORCE; give the flags the plan was given.
 */
p11e_status p11e_retire(p11e_ctx *ctx, const p11e_key *key, unsigned flags);

typedef enum p11e_obj_class {
	P11E_OBJ_PRIVATE_KEY = 1,
	P11E_OBJ_PUBLIC_KEY = 2,
	P11E_OBJ_CERTIFICATE = 3,
} p11e_obj_class;

typedef struct p11e_object {
	p11e_obj_class cls;
	char label[129];
	unsigned char id[64];
	size_t id_len;
	char *uri;
	p11e_key key;  /* keys: type, bits, curve, attributes */
	char *subject; /* certificates: RFC 2253 */
	char *issuer;
	char *serial;         /* hex */
	long long not_before; /* seconds since the epoch */
	long long not_after;
	int authority; /* a CA certificate */
	int paired;    /* key: a certificate has its id; certificate: a private key has */
} p11e_object;

typedef enum p11e_list_flags {
	/* private keys (needs a login) and public keys as well as certificates */
	P11E_LIST_KEYS = 1u << 0,
} p11e_list_flags;

/*
 * Everything on the selected token: with P11E_LIST_KEYS, private keys,
 * public keys and certificates; else certificates only (no login).
 */
p11e_status p11e_list(p11e_ctx *ctx, unsigned flags, p11e_object **list, size_t *count);
void p11e_list_free(p11e_object *list, size_t count);

typedef enum p11e_cert_state {
	P11E_CERT_OK = 0,
	P11E_CERT_RENEW = 1,    /* fewer than warn_days left */
	P11E_CERT_CRITICAL = 2, /* fewer than crit_days left */
	P11E_CERT_EXPIRED = 3,
	P11E_CERT_NOT_YET_VALID = 4,
} p11e_cert_state;

p11e_cert_state p11e_cert_state_of(const p11e_object *cert, long long now, int warn_days,
                                   int crit_days, long *days_left);
const char *p11e_cert_state_name(p11e_cert_state state);

/* --- manifests (P11E_1.1) ---------------------------------------------- */

/*
 * A manifest says what should be on which token (p11enroll-manifest(5)):
 * [token NAME] sections name tokens (uri or label, module, pin source),
 * [identity NAME] sections the keys on them (label, type, request content,
 * profile, outbox and inbox directories, renewal window, hook), [defaults]
 * identity fields every identity takes unless it gives its own.  It is read
 * through the same loader as quirk files and profiles: OpenSSL's config
 * syntax, no .include, no '$', every unknown section or field and every bad
 * value refused naming file and line (P11E_ERR_INPUT).  The station recipe
 * uses the same [identity NAME] syntax.  Strings live as long as the
 * manifest; relative paths are made relative to the manifest's directory.
 */
typedef struct p11e_manifest p11e_manifest;

typedef struct p11e_manifest_token {
	const char *name;   /* [token NAME] */
	const char *uri;    /* a pkcs11: token URI, or NULL */
	const char *label;  /* a token label, or NULL (one of uri and label is set) */
	const char *module; /* a module path or p11-kit name, or NULL: the default */
	const char *pin;    /* a PIN source (env:, file:, fd:), or NULL */
	long line;          /* the line of its section header */
} p11e_manifest_token;

typedef struct p11e_identity {
	const char *name;       /* [identity NAME] */
	const char *token;      /* the NAME of its [token NAME] */
	const char *label;      /* the key's label (default: NAME) */
	const char *type;       /* rsa:2048 (default), rsa:3072, ..., ec:P-256, ec:P-384 */
	const char *subject;    /* "/C=../CN=..", or NULL */
	const char *san;        /* "DNS:a,IP:b", or NULL */
	const char *const *ext; /* extensions in OpenSSL's syntax (';' between them in the file) */
	size_t next;
	const char *config;  /* an OpenSSL req-style config, or NULL */
	const char *profile; /* a profile name, or NULL */
	const char *outbox;  /* the directory requests are written to */
	const char *inbox;   /* the directory certificates are taken from, or NULL */
	unsigned renew_days; /* renew when this many days or fewer are left (default 30) */
	const char *hook;    /* an absolute path, and arguments, run after a renewal; or NULL */
	long line;           /* the line of its section header */
	/* since 1.1: a CA (one of cmp and est, or neither: outbox and inbox) */
	const char *cmp;            /* a CMP server's URL, or NULL */
	const char *est;            /* an EST server's URL, or NULL */
	const char *ca_trust;       /* the CA's trust anchors (a file), or NULL */
	const char *ca_fingerprint; /* EST: "SHA256:HEX" of a /cacerts certificate, or NULL */
	const char *cmp_ref;        /* CMP: the shared secret's reference, or NULL */
	const char *cmp_secret;     /* CMP: the secret's source (env:, file:, fd:), or NULL */
	const char *auth_user;      /* EST: HTTP Basic user, or NULL */
	const char *auth_password;  /* EST: its password's source (env:, file:, fd:), or NULL */
	const char *auth_key;       /* a token key (URI or label) to authenticate with, or NULL */
	int ca_timeout;             /* seconds (1 to 3600), 0: the library's default */
} p11e_identity;

/* Read and check the manifest in path; free with p11e_manifest_free. */
p11e_status p11e_manifest_read(p11e_ctx *ctx, const char *path, p11e_manifest **out);
/* The same from text in memory (name for messages; relative paths against the cwd). */
p11e_status p11e_manifest_parse(p11e_ctx *ctx, const char *name, const unsigned char *text,
                                size_t len, p11e_manifest **out);
void p11e_manifest_free(p11e_manifest *m);
/* The tokens and identities in the order of the file. */
const p11e_manifest_token *p11e_manifest_tokens(const p11e_manifest *m, size_t *count);
const p11e_identity *p11e_manifest_identities(const p11e_manifest *m, size_t *count);
/* A request builder with the identity's subject, SANs, extensions, config and profile. */
p11e_status p11e_identity_req(p11e_ctx *ctx, const p11e_identity *id, p11e_req **out);

/*
 * A station recipe (p11enroll-station(1)) is a manifest without [token NAME]
 * sections: its [station] section says which token is the card's and how a
 * blank one is initialised; its [identity NAME] and [defaults] sections are
 * a manifest's, less the identity's token field (every identity is on the
 * card's token).  Read with p11e_recipe_read into a p11e_manifest, whose
 * p11e_manifest_station is then the [station] section (NULL for a manifest).
 */
typedef enum p11e_station_token {
	P11E_STATION_TOKEN_READER = 0, /* the slot that backs the card's reader (default) */
	P11E_STATION_TOKEN_BLANK = 1,  /* the module's only uninitialised token */
	P11E_STATION_TOKEN_URI = 2,    /* the token of the uri */
} p11e_station_token;

typedef struct p11e_station {
	const char *module;       /* a module path or p11-kit name, or NULL: the default */
	p11e_station_token token; /* which token is the card's */
	const char *uri;          /* P11E_STATION_TOKEN_URI: the pkcs11: URI */
	int init;                 /* initialise the card's token when it is blank */
	const char *label;        /* the label a blank token is given ("%n": the card's number) */
	const char *pin;          /* the user PIN's source, or NULL: asked for */
	const char *so_pin;       /* the SO PIN's source (init only), or NULL: asked for */
	long line;                /* the line of [station] (0: the file has none) */
} p11e_station;

p11e_status p11e_recipe_read(p11e_ctx *ctx, const char *path, p11e_manifest **out);
p11e_status p11e_recipe_parse(p11e_ctx *ctx, const char *name, const unsigned char *text,
                              size_t len, p11e_manifest **out);
/* The recipe's [station] section; NULL for a manifest. */
const p11e_station *p11e_manifest_station(const p11e_manifest *m);
#ifdef __cplusplus
}
#endif

#endif /* P11ENROLL_H */
