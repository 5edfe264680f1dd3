/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * internal.h - what the library's files share; never installed.
 */
#ifndef P11ENROLL_INTERNAL_H
#define P11ENROLL_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>
#include <stdarg.h>

#include "p11enroll.h"

struct p11e_pin {
	char *data; /* NUL-terminated, wiped on free */
	size_t len;
};

/*
 * What a token needs beyond the standard (quirks.c), from the first file in
 * tokens/ whose [match] fits its manufacturerID and model.
 */
struct p11e__quirks {
	char file[256];         /* the file's name, without its directory */
	char manufacturer[128]; /* fnmatch(3) patterns; "*" when not given */
	char model[128];
	char library[128];           /* the module's CK_INFO manufacturerID; "*" when not given */
	int omit_extractable;        /* leave CKA_EXTRACTABLE out of the private-key template */
	int certificate_private;     /* write certificates with CKA_PRIVATE = TRUE */
	int set_id_after_generation; /* CKA_ID can be set after C_GenerateKeyPair (default 1) */
	unsigned min_rsa_bits, max_rsa_bits; /* 0: no limit */
	/*
	 * The token maps CKA_VERIFY / CKA_DECRYPT to one attribute of its own
	 * (tpm2-pkcs11): the template leaves both out, and such keys may decrypt.
	 */
	int key_may_decrypt;
	int omit_certificate_category; /* no CKA_CERTIFICATE_CATEGORY in certificates */
	/* what to run when the token fails a call this way ("" if nothing known) */
	char hint_general_error[256]; /* CKR_GENERAL_ERROR, CKR_DEVICE_ERROR */
	char hint_lockout[256];       /* CKR_PIN_LOCKED and the like */
};

struct p11e_ctx {
	p11e_log_fn log;
	void *log_data;
	int force;
	int warned_low;   /* the PIN-count-low warning was given */
	int warned_final; /* the last-try warning was given */
	int lock_fd;      /* the token lock (lock.c), when lock_depth > 0 */
	int lock_depth;
	int module_lock_fd; /* the module lock (lock.c), when have_module_lock */
	int have_module_lock;
	int module_lock_pinned; /* held past the login: the token's PIN is being changed */
	int no_login;           /* P11E_CTX_NO_LOGIN: the module lock only around C_Initialize */
	int one_thread;         /* P11E_CTX_ONE_THREAD: C_Initialize without CKF_OS_LOCKING_OK */

	/* the last failure */
	char message[512];
	CK_RV last_rv;
	const char *last_call;
	p11e_reason reason;
	char **details; /* more lines about the last failure (profile violations) */
	size_t ndetails;

	/* the module */
	CK_FUNCTION_LIST *fl;
	int fl_initialized;
	void *fl_dl; /* dlopen's handle of p11-kit's proxy, loaded as a plain library (module.c) */
	char *module_spec; /* what the user asked for, for messages */
	char *module_path;
	char *module_name; /* the p11-kit registered name it was loaded by, or NULL */

	/* the selected token */
	int have_slot;
	p11e_slot slot;
	char *uri_pin_value; /* from the --token URI */
	char *uri_pin_source;
	struct p11e__quirks quirks; /* the selected token's, when have_quirks */
	int have_quirks;

	/* every quirk file on the search path, read once */
	struct p11e__quirks *quirk_files;
	size_t nquirk_files;
	int quirk_files_loaded;

	/* our own OpenSSL library context: default provider + ours */
	OSSL_LIB_CTX *libctx;
	OSSL_PROVIDER *prov_default;
	OSSL_PROVIDER *prov_ours;
	OSSL_LIB_CTX *names_libctx; /* no algorithms: certificates read for their fields */
	OSSL_PROVIDER *prov_null;
	void *engine; /* libp11's ENGINE, loaded on first use by the engine backend */

	/* the open session */
	CK_SESSION_HANDLE session;
	int have_session;
	int logged_in;

	/*
	 * PINs (pin.c): the application's callback, and a copy of the user PIN
	 * of the last login, for libp11's engine, which logs in by itself;
	 * wiped by p11e_logout and p11e_ctx_free.
	 */
	p11e_pin_fn pin_fn;
	void *pin_data;
	p11e_pin *login_pin;

	/*
	 * Card readers (reader.c): the PC/SC context of a p11e_reader_wait
	 * that runs, for p11e_reader_wait_cancel in another thread; all three
	 * read and written with __atomic builtins.
	 */
	long pcsc_context; /* SCARDCONTEXT */
	int pcsc_waiting;
	int wait_cancel;
};

/*
 * --- the request builder (request-builder.c) ---------------------------
 * What p11e_req_* set: request content and the signing backend, never the
 * output format or a PIN.  Strings are the builder's own copies; san and
 * ext are NULL-terminated (never NULL themselves once one is added).
 */
struct p11e_req {
	char *config;
	char *subject;
	char **san;
	size_t nsan;
	char **ext;
	size_t next;
	char *digest;
	char *profile;
	unsigned flags; /* p11e_req_flags */
	p11e_backend backend;
};
/* --- end of the request builder ------------------------------------------ */

/*
 * Refuse flag bits a function does not know, so that a flag of a later
 * version given to this one fails instead of being ignored.
 */
#define P11E__FLAGS_CHECK(ctx, fn, flags, known)                                                 \
	do {                                                                                     \
		if ((flags) & ~(unsigned)(known))                                                \
			return p11e__fail((ctx), P11E_ERR_USAGE, "%s: unknown flags 0x%x", (fn), \
			                  (flags) & ~(unsigned)(known));                         \
	} while (0)

/*
 * The call layer.  Every C_* call goes through P11_CALL, which records the
 * function name and CK_RV in the context and logs both at debug level: one
 * place for -v, error text and (with the wrapper module) fault injection.
 * Arguments are never logged, so PINs cannot leak through it.
 */
CK_RV p11e__call_done(p11e_ctx *ctx, const char *name, CK_RV rv);
#define P11_CALL(ctx, fn, ...) p11e__call_done((ctx), #fn, (ctx)->fl->fn(__VA_ARGS__))

/*
 * bounds.c: counts and lengths a module returns, checked before use.  A
 * two-call size query is tried at most P11E__SIZE_TRIES times; one search
 * finds at most P11E__MAX_OBJECTS objects; no attribute value we read is
 * longer than P11E__MAX_ATTR_LEN.
 */
#define P11E__SIZE_TRIES 4
#define P11E__MAX_OBJECTS (1UL << 20)
#define P11E__MAX_ATTR_LEN (16UL << 20)
/* "<what>: <call>: <why>: a fault of the PKCS#11 module", CKR_GENERAL_ERROR as the CK_RV. */
p11e_status p11e__module_fault(p11e_ctx *ctx, const char *what, const char *call, const char *fmt,
                               ...) __attribute__((format(printf, 4, 5)));
/* OK if got <= room, else the module fault "returned a length larger than it announced". */
p11e_status p11e__len_check(p11e_ctx *ctx, const char *what, const char *call, CK_ULONG got,
                            CK_ULONG room);

/* Record a failure and return status; fmt is the whole one-line message. */
p11e_status p11e__fail(p11e_ctx *ctx, p11e_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Record a failed PKCS#11 call: "<what>: C_Login: the PIN is incorrect
 * (CKR_PIN_INCORRECT)", plus a hint where one helps.  The status follows the
 * CK_RV (p11e__rv_status).
 */
/* p11e__fail, and the reason a caller can act on (p11e_error_reason). */
p11e_status p11e__fail_why(p11e_ctx *ctx, p11e_status status, p11e_reason reason, const char *fmt,
                           ...) __attribute__((format(printf, 4, 5)));
p11e_status p11e__fail_rv(p11e_ctx *ctx, const char *what, const char *call, CK_RV rv);
p11e_status p11e__rv_status(CK_RV rv);
const char *p11e__rv_hint(CK_RV rv);
const char *p11e__rv_token_hint(const p11e_ctx *ctx, CK_RV rv);
p11e_reason p11e__rv_reason(CK_RV rv);
void p11e__clear_error(p11e_ctx *ctx);
/* conf-line.c: the line of "name =" in [section] of file, 0 if not found. */
long p11e__conf_line(const char *file, const char *section, const char *name);
/*
 * "file:line", or "file" where the line is not found, in buf (returned).
 * It reads the file again: for messages only, never on the way to success.
 */
const char *p11e__conf_where(char *buf, size_t len, const char *file, const char *section,
                             const char *name);
/* The same in text already read, the first after line after; name NULL: "[section]". */
long p11e__conf_line_text(const char *text, size_t len, const char *section, const char *name,
                          long after);
/* Blank out the value of every "pin-value=" in msg (in place, never longer). */
void p11e__redact(char *msg);
void p11e__log(p11e_ctx *ctx, p11e_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Blank-padded PKCS#11 string to C string (trailing blanks removed). */
void p11e__unpad(char *dst, size_t dstlen, const unsigned char *src, size_t srclen);
/* C string to blank-padded field; returns -1 if it does not fit. */
int p11e__pad(unsigned char *dst, size_t dstlen, const char *src);

/* Fill a p11e_slot from the module (uri allocated). */
p11e_status p11e__slot_read(p11e_ctx *ctx, CK_SLOT_ID id, p11e_slot *out);
/* login.c: an init-token cut short (label set, no user PIN yet) that may finish. */
int p11e__init_unfinished(const p11e_ctx *ctx, const char *label, int reinit);
/* Re-read the selected token's info into ctx->slot. */
p11e_status p11e__slot_refresh(p11e_ctx *ctx);
void p11e__slot_clear(p11e_slot *slot);
/*
 * Which of slots[0..n) match spec (a pkcs11: URI or a label; NULL matches
 * every token the mode admits); the index of the single match goes to
 * *found.  No module calls, so the unit suite can test it.
 */
enum {
	P11E__MATCH_INITIALIZED,   /* tokens with CKF_TOKEN_INITIALIZED */
	P11E__MATCH_UNINITIALIZED, /* tokens without it */
	P11E__MATCH_ANY,           /* any present token */
};
p11e_status p11e__token_match(p11e_ctx *ctx, const char *spec, const p11e_slot *slots, size_t n,
                              int mode, size_t *found);

/* Unload the module (after C_Finalize). */
void p11e__module_release(p11e_ctx *ctx);
/* Wipe and free a secret string. */
void p11e__free_secret(char *s);

/* slots.c: a slot's fields back in the padded structs P11KitUri matches on */
void p11e__slot_token_info(const p11e_slot *s, CK_TOKEN_INFO *ti);
void p11e__slot_info(const p11e_slot *s, CK_SLOT_INFO *si);
/* a token is present and initialised */
int p11e__slot_initialized(const p11e_slot *s);

/* uri.c: parse a pkcs11: URI (what: "token", "object") or fail with a message. */
p11e_status p11e__uri_parse(p11e_ctx *ctx, const char *spec, const char *what, P11KitUri **out);
/* 1 if uri's slot id, slot and token attributes fit s */
int p11e__uri_matches_slot(P11KitUri *uri, const p11e_slot *s);

/* objects.c */
p11e_status p11e__find_objects(p11e_ctx *ctx, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                               CK_OBJECT_HANDLE **out, size_t *count);
/* Allocated attribute value (free it). */
p11e_status p11e__attr_get(p11e_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                           unsigned char **val, CK_ULONG *len);
/* Like p11e__attr_get, but an attribute the object lacks gives OK, NULL, 0. */
p11e_status p11e__attr_opt(p11e_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
                           unsigned char **val, CK_ULONG *len);
/* A CK_BBOOL: *out 1, 0, or -1 when the object lacks it; a failing token is an error. */
p11e_status p11e__attr_flag(p11e_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, int *out);
int p11e__attr_bool(p11e_ctx *ctx, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type);
char *p11e__object_uri(p11e_ctx *ctx, CK_OBJECT_CLASS cls, const char *label,
                       const unsigned char *id, size_t id_len);
/* The URI of ctx's token ("pkcs11:model=...;token=..."), and an object's on it: the
 * same as p11e__object_uri, with the token's part formatted once for many objects. */
char *p11e__token_uri(p11e_ctx *ctx);
char *p11e__object_uri_on(const char *token_uri, CK_OBJECT_CLASS cls, const char *label,
                          const unsigned char *id, size_t id_len);
/* --- cert-fields.c: what a listing shows of a certificate --------------- */

/*
 * The names a listing prints, by their DER bytes: the certificates on a
 * token mostly share an issuer, and each name is decoded and printed once
 * (d2i_X509_NAME and the RFC 2253 text were a sixteenth of a listing of
 * 1,000 objects).  A few entries, the least recently used replaced first.
 */
#define P11E__NAME_MEMO_SIZE 8
struct p11e__name_memo {
	struct {
		unsigned char *der;
		long len;
		char *text;
		unsigned long used; /* when last asked for, by the clock below */
	} e[P11E__NAME_MEMO_SIZE];
	unsigned long clock;
};
void p11e__name_memo_free(struct p11e__name_memo *m);
/*
 * Subject, issuer, serial, validity and whether it is a CA's, from a
 * certificate's DER, into o (a field that cannot be read is left empty);
 * names through memo (zeroed at first, freed with p11e__name_memo_free).
 */
void p11e__cert_fields(p11e_ctx *ctx, p11e_object *o, const unsigned char *der, CK_ULONG len,
                       struct p11e__name_memo *memo);
/* What a --key URI|LABEL names. */
struct p11e__objspec {
	char label[129];
	int has_label;
	unsigned char id[64];
	size_t id_len;
	int has_id;
	int other_token; /* the URI's token attributes do not match the selected token */
};
p11e_status p11e__object_spec(p11e_ctx *ctx, const char *spec, struct p11e__objspec *out);
/* The objects of class cls that a URI or label names, on the selected token. */
p11e_status p11e__find_spec(p11e_ctx *ctx, const char *spec, CK_OBJECT_CLASS cls,
                            CK_OBJECT_HANDLE **hs, size_t *count);

/*
 * ossl.c: the library's OpenSSL context with the default provider, made on
 * first use; provider.c adds its own when a token key becomes an EVP_PKEY.
 */
OSSL_LIB_CTX *p11e__libctx(p11e_ctx *ctx);
void p11e__libctx_free(p11e_ctx *ctx);
/*
 * A context with only OpenSSL's null provider, for reading a certificate's
 * names, serial, dates and basic constraints: d2i_X509 in it does not
 * decode the public key (OpenSSL 3.0 runs its provider decoders for that,
 * half the time of listing a token of certificates).  Nothing that needs
 * an algorithm (a signature, a key) may be done with what it reads.
 */
OSSL_LIB_CTX *p11e__names_libctx(p11e_ctx *ctx);
/* Record the OpenSSL error queue's first error as the failure. */
p11e_status p11e__fail_ossl(p11e_ctx *ctx, p11e_status st, const char *what);

/* keys.c */
int p11e__curve_nid(const char *name);
/* The public half as a software EVP_PKEY in the library context. */
p11e_status p11e__key_public(p11e_ctx *ctx, const p11e_key *key, EVP_PKEY **pkey);
/*
 * key-find.c: fill key->... from the private key object h, its public half
 * found by CKA_ID; a split pair is joined again (key-repair.c), which may
 * write CKA_ID on both halves.
 */
p11e_status p11e__key_describe(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key);
/*
 * p11e__key_describe in two steps, for callers that know the public half
 * already (list): type, label, id and flags in one call; then, with
 * pub_handle set, the URI and the size.
 */
p11e_status p11e__key_read(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key);
p11e_status p11e__key_finish(p11e_ctx *ctx, p11e_key *key);
/* key->bits (and curve) from object h's CKA_MODULUS or CKA_EC_PARAMS. */
p11e_status p11e__key_size_read(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key);
p11e_status p11e__key_size_from(p11e_ctx *ctx, p11e_key *key, const unsigned char *v, CK_ULONG len);
/*
 * p11e__key_read, and with modulus (room bytes) an RSA key's size in the
 * same C_GetAttributeValue (read anew if it does not fit; a size that
 * cannot be read is left 0, no error)
 */
p11e_status p11e__key_read_sized(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key,
                                 unsigned char *modulus, CK_ULONG room);
/*
 * p11e__key_read_sized, and up to 4 attributes more (more[0..nmore)) in the
 * same call: their lengths as the token gave them, also when the object
 * is no key at all (the status then says so); CK_UNAVAILABLE_INFORMATION
 * if the call failed.
 */
p11e_status p11e__key_read_more(p11e_ctx *ctx, CK_OBJECT_HANDLE h, p11e_key *key,
                                unsigned char *modulus, CK_ULONG room, CK_ATTRIBUTE *more,
                                CK_ULONG nmore);
/*
 * 1 if the token does not say the key was born on it and never left it
 * (sensitive, never extractable, always sensitive, local): bad lists the
 * attributes that are off, as "CKA_EXTRACTABLE=TRUE, ...".
 */
int p11e__key_exposed(const p11e_key *k, char *bad, size_t badlen);
/*
 * key-repair.c: a private key with no public half by id, logged in: find its
 * half (same label and type, an id no private key has, proven by a signature)
 * and give both the SHA-1 id again.  OK with key->pub_handle still 0 when
 * there is none.
 */
p11e_status p11e__key_repair(p11e_ctx *ctx, p11e_key *key);
/* pub's SubjectPublicKeyInfo into spki, without OpenSSL's encoders; 1 on success. */
int p11e__spki_set(X509_PUBKEY *spki, EVP_PKEY *pub);
/* SHA-1 of the subjectPublicKey bit string: the usual CKA_ID. */
p11e_status p11e__key_id_of(p11e_ctx *ctx, EVP_PKEY *pkey, unsigned char id[20]);

/* req-content.c: what a request says, from a req-style config and the builder */
struct p11e__req_conf {
	CONF *conf;
	const char *file;
	const char *dn_section;
	const char *ext_section;
	const char *default_md;
	unsigned long chtype; /* MBSTRING_ASC or MBSTRING_UTF8 */
};
p11e_status p11e__req_conf_load(p11e_ctx *ctx, const char *file, struct p11e__req_conf *rc);
/* the subject of the config's distinguished_name section */
p11e_status p11e__req_conf_subject(p11e_ctx *ctx, const struct p11e__req_conf *rc, X509_NAME *name);
/* "/C=US/O=Acme/CN=host" (OpenSSL's syntax, '+' for multi-valued RDNs) */
p11e_status p11e__req_parse_subject(p11e_ctx *ctx, const char *subj, unsigned long chtype,
                                    X509_NAME *name);
/*
 * The request's extensions: base (a certificate's, for renew), then the
 * config's req_extensions (rc may be NULL), then the builder's SANs and specs.
 */
p11e_status p11e__req_extensions(p11e_ctx *ctx, const struct p11e__req_conf *rc, const p11e_req *o,
                                 const STACK_OF(X509_EXTENSION) *base, X509_REQ *req);

/*
 * request.c: a request in two steps, so enroll can check input before
 * keygen.  o NULL is an empty request.
 */
p11e_status p11e__req_prepare(p11e_ctx *ctx, const p11e_req *o, X509_REQ **req,
                              const char **mdname);
p11e_status p11e__req_from_cert(p11e_ctx *ctx, X509 *cert, const p11e_req *o, X509_REQ **out,
                                const char **mdname);
p11e_status p11e__req_finish(p11e_ctx *ctx, const p11e_key *key, const p11e_req *o,
                             p11e_format format, const char *md, X509_REQ *req, unsigned char **out,
                             size_t *outlen);
/* request-builder.c: an empty request for o NULL, so callers need not check. */
const p11e_req *p11e__req_or_empty(const p11e_req *o);

/*
 * engine.c: sign req with libp11's engine (loaded privately), which logs in
 * with the user PIN kept from p11e_login (else the PIN callback's).
 */
void p11e__engine_free(p11e_ctx *ctx);
p11e_status p11e__engine_sign(p11e_ctx *ctx, const p11e_key *key, const char *md, int pss,
                              X509_REQ *req);

/* certfile.c: every certificate in a PEM, DER or PKCS#7 file. */
p11e_status p11e__certs_read(p11e_ctx *ctx, const char *path, STACK_OF(X509) **out);

/*
 * cert-import.c: the CA certificates of pool on leaf's issuer path, leaf's
 * issuer first, each found by name and proven by its signature, into *out
 * (a new stack that shares pool's certificates: free it with sk_X509_free).
 * 0: out of memory.
 */
int p11e__issuer_path(STACK_OF(X509) *pool, X509 *leaf, STACK_OF(X509) **out);
/*
 * cert-import.c: p11e_import on certificates already read (cmp.c's from a
 * CA's answer); path and chain_path only name them in messages.  The
 * stacks stay the caller's.
 */
p11e_status p11e__import_certs(p11e_ctx *ctx, STACK_OF(X509) *certs, STACK_OF(X509) *chain,
                               const char *path, const char *chain_path, const char *keyspec,
                               const char *label, unsigned flags, p11e_import_result *res);
/*
 * ca-flow.c: a key labelled label that has a certificate: *done = 1 and res
 * says so (nothing to send to the CA).  Then, when no certificate reached
 * the token, the key pair this run made is destroyed again; the context's
 * error (the CA's failure) stays as it was.
 */
p11e_status p11e__ca_enrolled(p11e_ctx *ctx, const char *label, p11e_import_result *res, int *done);
void p11e__ca_take_back(p11e_ctx *ctx, const p11e_key *key);
/* lifecycle.c: the key's certificate that runs longest (P11E_REASON_KEY_NO_CERT if none). */
p11e_status p11e__key_newest_cert(p11e_ctx *ctx, const p11e_key *key, X509 **out);

/* inventory.c: certificates on the token with the key's CKA_ID. */
p11e_status p11e__key_cert_count(p11e_ctx *ctx, const p11e_key *key, size_t *count);

/* profile.c: check against a named profile; violations go to the details. */
p11e_status p11e__profile_check(p11e_ctx *ctx, const char *name, const X509_NAME *subject,
                                const STACK_OF(X509_EXTENSION) *exts, EVP_PKEY *pub);
/* The key type a profile would accept, before generating one. */
p11e_status p11e__profile_check_type(p11e_ctx *ctx, const char *name, p11e_key_type kt,
                                     unsigned bits, const char *curve);
/* context.c: take ownership of a list of detail lines. */
void p11e__details_set(p11e_ctx *ctx, char **items, size_t n);

/* ===== datafile.c: the one loader of our data files (quirks, profiles) ===== */
/* The fields a section may hold (NULL-terminated). */
struct p11e__datafile_section {
	const char *name;
	const char *const *fields;
	/* 1: the sections are "[name NAME]", one per NAME (a manifest's tokens) */
	int named;
};
/* A kind of data file: where it is searched and what it may hold. */
struct p11e__datafile_kind {
	const char *what;   /* "token quirk file", "profile": the noun in messages */
	const char *env;    /* "P11ENROLL_TOKENS_PATH": directories searched first */
	const char *subdir; /* "tokens": its directory under each place searched */
	const struct p11e__datafile_section *sections; /* ends with a NULL name */
	size_t max_size; /* bytes; 0: 64 KiB, a quirk file's or a profile's */
};
/* One file, read and checked. */
struct p11e__datafile_line; /* datafile.c: where each "[section]" and "name =" is */
struct p11e__datafile {
	const struct p11e__datafile_kind *kind;
	char *name; /* as given (a path), for messages */
	char *text; /* the text, NUL-terminated, for the lines in messages */
	size_t len;
	CONF *conf;
	/* every section header and "name =" line, sorted, for line numbers
	 * without a scan of the text each (a manifest has thousands) */
	struct p11e__datafile_line *lines;
	size_t nlines;
};
/*
 * The line of "name =" in [section] (name NULL: the "[section]" line) after
 * line `after`, or 0; as p11e__conf_line_text, from df's index.
 */
long p11e__datafile_line(const struct p11e__datafile *df, const char *section, const char *name,
                         long after);
/*
 * Read text (name is for messages) or the file path: at most 64 KiB, no
 * NUL, no .include/.pragma, no '$' outside comments (NCONF would expand
 * it), only the kind's sections and fields, none twice.  A refusal is
 * P11E_ERR_INPUT naming the file and line.  Free df on success.
 */
p11e_status p11e__datafile_parse(p11e_ctx *ctx, const struct p11e__datafile_kind *kind,
                                 const char *name, const unsigned char *buf, size_t len,
                                 struct p11e__datafile *df);
p11e_status p11e__datafile_read(p11e_ctx *ctx, const struct p11e__datafile_kind *kind,
                                const char *path, struct p11e__datafile *df);
void p11e__datafile_free(struct p11e__datafile *df);
/*
 * An OpenSSL config of the user's (a request config) into conf, under the
 * rules of our data files: no .include or .pragma, no '$' outside comments
 * (so no $var or $ENV:: expansion), a size cap, no NUL.  Refusals fail the
 * context naming what (e.g. "request config"), the file and the line, as
 * does a line NCONF cannot parse.
 */
p11e_status p11e__datafile_load_conf(p11e_ctx *ctx, const char *what, const char *path, CONF *conf);
/* A field's value, or NULL when the file does not give it. */
const char *p11e__datafile_get(const struct p11e__datafile *df, const char *section,
                               const char *field);
/*
 * The field as a boolean (yes/no, true/false, 1/0, any case) or a number
 * of unit from min to max (decimal digits only); absent: OK, *out as it was.
 */
p11e_status p11e__datafile_bool(p11e_ctx *ctx, const struct p11e__datafile *df, const char *section,
                                const char *field, int *out);
p11e_status p11e__datafile_number(p11e_ctx *ctx, const struct p11e__datafile *df,
                                  const char *section, const char *field, unsigned min,
                                  unsigned max, const char *unit, unsigned *out);
/* Refuse the field's value: "<kind> file:line: [section] field = value: <why>". */
p11e_status p11e__datafile_invalid(p11e_ctx *ctx, const struct p11e__datafile *df,
                                   const char *section, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/*
 * The search path, ':'-separated (allocated): $<env>, then
 * $XDG_CONFIG_HOME/p11enroll/<subdir> (else ~/.config/...), then
 * <sysconfdir>/p11enroll/<subdir>, then <pkgdatadir>/<subdir>.
 */
char *p11e__datafile_path(const struct p11e__datafile_kind *kind);
/* The first <dir>/<name>.conf on the path that exists (*out allocated), or *out NULL. */
p11e_status p11e__datafile_find(p11e_ctx *ctx, const struct p11e__datafile_kind *kind,
                                const char *name, char **out);
/*
 * Every *.conf on the path: directory by directory, in name order within
 * one; a name already seen in an earlier directory is shadowed (left out).
 */
p11e_status p11e__datafile_list(p11e_ctx *ctx, const struct p11e__datafile_kind *kind,
                                char ***paths, size_t *n);
void p11e__datafile_list_free(char **paths, size_t n);
/* ===== end of datafile.c ===== */

/*
 * manifest.c: the fields of an [identity NAME] section (NULL-terminated),
 * and one such section of df read into id, its strings kept by m; the
 * station recipe reads its identities with the same two.
 */
extern const char *const p11e__identity_fields[];
p11e_status p11e__identity_read(p11e_ctx *ctx, const struct p11e__datafile *df, const char *sect,
                                p11e_manifest *m, p11e_identity *id);

/*
 * quirks.c.  Parse one quirk file's text (name is for messages): an unknown
 * section or field, a bad boolean or number is P11E_ERR_INPUT naming the
 * file, the section and the field.  The fuzz target calls this.
 */
p11e_status p11e__quirks_parse_mem(p11e_ctx *ctx, const char *name, const unsigned char *buf,
                                   size_t len, struct p11e__quirks *out);
p11e_status p11e__quirks_parse_file(p11e_ctx *ctx, const char *path, struct p11e__quirks *out);
/* 1 if the token's manufacturerID and model (blanks trimmed) fit q's [match]. */
int p11e__quirks_match(const struct p11e__quirks *q, const char *manufacturer, const char *model);
/* ... and the module's CK_INFO manufacturerID (the [match] library pattern). */
int p11e__quirks_match_library(const struct p11e__quirks *q, const char *library);
/*
 * The first quirk file on the search path that fits slot's token (*out NULL
 * if none); every file on the path is read and checked the first time.
 */
p11e_status p11e__quirks_find(p11e_ctx *ctx, const p11e_slot *slot,
                              const struct p11e__quirks **out);
/* After a token is selected: keep its quirks in the context. */
p11e_status p11e__quirks_select(p11e_ctx *ctx);
/* The selected token's quirks; the defaults when no file matched. */
const struct p11e__quirks *p11e__quirks_get(const p11e_ctx *ctx);
/* cert-import: write certificates with CKA_PRIVATE = TRUE. */
int p11e__quirk_cert_private(const p11e_ctx *ctx);
void p11e__quirks_free(p11e_ctx *ctx);

/* sessions.c: the session on the selected token. */
p11e_status p11e__session_open(p11e_ctx *ctx, int rw);
void p11e__session_close(p11e_ctx *ctx);

/*
 * lock.c: the token's cross-process lock, around find-or-create sections
 * (PKCS#11 has no transactions).  flock(2) on a file per token (SHA-256 of
 * manufacturer, model, serial) in $XDG_RUNTIME_DIR/p11enroll, else
 * /tmp/p11enroll-UID (0700, ours, checked); waits P11ENROLL_LOCK_TIMEOUT
 * seconds (30), then fails "token is busy".  Nested: a section inside a
 * section (keygen in enroll or renew) takes it again without waiting; the
 * outermost unlock lets go.  *fd is -1 when not held; unlock is a no-op then.
 */
p11e_status p11e__token_lock(p11e_ctx *ctx, int *fd);
/*
 * keygen.c: p11e_keygen for a caller that holds the token lock and has just
 * found no object of any class with this label (enroll): the label is not
 * searched for again (on a token without an index, SoftHSMv2, a search
 * reads every object).
 */
p11e_status p11e__keygen_label_free(p11e_ctx *ctx, const char *type, const char *label,
                                    const unsigned char *id, size_t id_len, p11e_key *key);
void p11e__token_unlock(p11e_ctx *ctx, int *fd);
/*
 * lock.c: the module lock, from before C_Initialize to the end of the login
 * (p11e_login lets go unless pinned): best effort, never an error.
 */
void p11e__module_lock(p11e_ctx *ctx, const char *path);
void p11e__module_unlock(p11e_ctx *ctx);
/* C_Initialize is done: a context that will not log in lets the module lock go now. */
void p11e__module_lock_initialized(p11e_ctx *ctx);

/* Parse a PIN source spec without the callback/URI fallbacks (unit-tested). */
p11e_status p11e__pin_from_source(p11e_ctx *ctx, const char *src, p11e_pin **pin);
p11e_pin *p11e__pin_new(const char *data, size_t len);
/* p11e_pin_read without clearing the context's error, for the library's own flows. */
p11e_status p11e__pin_get(p11e_ctx *ctx, const char *src, p11e_pin_role role, p11e_pin **pin);
/* Keep a copy of the user PIN of a login (ctx->login_pin), or wipe it (pin NULL). */
p11e_status p11e__pin_keep(p11e_ctx *ctx, const p11e_pin *pin);

#endif
