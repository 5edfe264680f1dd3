/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * apply-token.c - plan or apply the identities of one token, in a worker
 * process of its own: one library context, one module load, one login.
 *
 * The state is read from the token (DESIGN decision 6: no side database):
 * an identity's keys are its label and the generations renew made of it
 * ("web", "web.2", ...); the newest one decides:
 *   no key                                  create: keygen + request to the outbox
 *   no certificate, one in the inbox        import it (with the file's chain)
 *   no certificate, no request in outbox    request: write it again (same key)
 *   no certificate, its request in outbox   nothing: waiting for the CA
 *   a certificate, <= renew_days left       renew: a new key next to it + request, hook
 *   a certificate, more left                nothing
 * A certificate in the inbox is a candidate for a key when the SHA-1 of its
 * public key is the key's CKA_ID (how the library makes ids); the import
 * itself then matches the public key on the token, as p11enroll import does.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"

extern char **environ;

enum action { A_NOTHING, A_CREATE, A_REQUEST, A_IMPORT, A_RENEW };
static const char *const action_names[] = { "nothing", "create", "request", "import", "renew" };

struct inbox_cert {
	char *path;
	unsigned char key_sha1[SHA_DIGEST_LENGTH];
};

struct worker {
	const struct apply_run *run;
	const p11e_manifest_token *tok;
	p11e_ctx *ctx;
	int fd;
	json_t *events;  /* the events are kept here (the station's card), not sent to fd */
	char serial[40]; /* the token's serial, made safe for a file name */
	p11e_object *objs;
	size_t nobjs;
	/* the inbox of the identities seen so far: read once per directory */
	char *inbox_dir;
	struct inbox_cert *inbox;
	size_t ninbox;
};

/* --- the inbox --------------------------------------------------------------- */

static X509 *first_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static int pubkey_sha1(X509 *x, unsigned char *out)
{
	const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);

	if (!bits)
		return -1;
	SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), out);
	return 0;
}

static int is_cert_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 &&
	       (strcmp(name + n - 4, ".pem") == 0 || strcmp(name + n - 4, ".crt") == 0);
}

static void inbox_free(struct worker *w)
{
	for (size_t i = 0; i < w->ninbox; i++)
		free(w->inbox[i].path);
	free(w->inbox);
	free(w->inbox_dir);
	w->inbox = NULL;
	w->inbox_dir = NULL;
	w->ninbox = 0;
}

/* Read dir's certificates (once; a file that is no certificate is passed over). */
static void inbox_load(struct worker *w, const char *dir)
{
	DIR *d;
	struct dirent *e;

	if (w->inbox_dir && strcmp(w->inbox_dir, dir) == 0)
		return;
	inbox_free(w);
	w->inbox_dir = strdup(dir);
	if (!(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		struct inbox_cert *grown;
		char *path;
		X509 *x;

		if (!is_cert_name(e->d_name) || !(path = malloc(len)))
			continue;
		snprintf(path, len, "%s/%s", dir, e->d_name);
		x = first_cert(path);
		grown = x ? realloc(w->inbox, (w->ninbox + 1) * sizeof(*grown)) : NULL;
		if (!grown || pubkey_sha1(x, grown[w->ninbox].key_sha1) != 0) {
			if (grown)
				w->inbox = grown;
			free(path);
			X509_free(x);
			continue;
		}
		w->inbox = grown;
		w->inbox[w->ninbox++].path = path;
		X509_free(x);
	}
	closedir(d);
}

static const char *inbox_find(struct worker *w, const p11e_identity *id, const p11e_object *key)
{
	if (!id->inbox || key->id_len != SHA_DIGEST_LENGTH)
		return NULL;
	inbox_load(w, id->inbox);
	for (size_t i = 0; i < w->ninbox; i++)
		if (memcmp(w->inbox[i].key_sha1, key->id, SHA_DIGEST_LENGTH) == 0)
			return w->inbox[i].path;
	return NULL;
}

/* --- what is on the token ------------------------------------------------------ */

/* 1 for base itself, N for "base.N", 0 for another label */
static unsigned generation(const char *base, const char *label)
{
	size_t n = strlen(base);
	unsigned long g;
	char *end;

	if (strcmp(base, label) == 0)
		return 1;
	if (strncmp(base, label, n) != 0 || label[n] != '.' || label[n + 1] < '1' ||
	    label[n + 1] > '9')
		return 0;
	g = strtoul(label + n + 1, &end, 10);
	return *end || g > 100000 ? 0 : (unsigned)g;
}

/* The identity's newest key (a private key where one is listed) and its newest certificate. */
static const p11e_object *newest_key(const struct worker *w, const p11e_identity *id,
                                     const p11e_object **cert)
{
	const p11e_object *best = NULL;
	unsigned best_gen = 0;

	*cert = NULL;
	for (size_t i = 0; i < w->nobjs; i++) {
		const p11e_object *o = &w->objs[i];
		unsigned g;

		if (o->cls == P11E_OBJ_CERTIFICATE || !(g = generation(id->label, o->label)))
			continue;
		if (g > best_gen || (g == best_gen && o->cls == P11E_OBJ_PRIVATE_KEY))
			best = o, best_gen = g;
	}
	for (size_t i = 0; best && i < w->nobjs; i++) {
		const p11e_object *o = &w->objs[i];

		if (o->cls == P11E_OBJ_CERTIFICATE && !o->authority && o->id_len == best->id_len &&
		    memcmp(o->id, best->id, o->id_len) == 0 &&
		    (!*cert || o->not_after > (*cert)->not_after))
			*cert = o;
	}
	return best;
}

static void csr_path(const struct worker *w, const p11e_identity *id, const char *label, char *buf,
                     size_t len)
{
	snprintf(buf, len, "%s/%s-%s.csr", id->outbox, w->serial, label);
}

/* --- events ---------------------------------------------------------------------- */

static json_t *event_new(const struct worker *w, const p11e_identity *id, enum action a)
{
	json_t *ev = json_object();

	if (!ev)
		return NULL;
	json_object_set_new(ev, "event", json_string("identity"));
	tool_json_set_text(ev, "token", w->tok->name);
	tool_json_set_text(ev, "identity", id->name);
	tool_json_set_text(ev, "label", id->label);
	json_object_set_new(ev, "action", json_string(action_names[a]));
	return ev;
}

static void event_error(json_t *ev, p11e_ctx *ctx, const char *msg)
{
	json_object_set_new(ev, "result", json_string("failed"));
	tool_json_set_text(ev, "error", msg ? msg : p11e_error_message(ctx));
	if (!msg && p11e_error_reason(ctx) != P11E_REASON_NONE)
		json_object_set_new(ev, "reason",
		                    json_string(p11e_reason_name(p11e_error_reason(ctx))));
}

/* One line to the parent, in one write (a pipe keeps it whole up to PIPE_BUF). */
static void event_send(const struct worker *w, json_t *ev)
{
	char *line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	size_t len;

	if (w->events && ev) {
		free(line);
		json_array_append_new(w->events, ev);
		return;
	}
	json_decref(ev);
	if (!line)
		return; /* the parent counts the identity as failed */
	len = strlen(line);
	line[len] = '\n';
	if (write(w->fd, line, len + 1) != (ssize_t)(len + 1))
		fprintf(stderr, "p11enroll: a worker cannot report: %s\n", strerror(errno));
	free(line);
}

static json_t *audit_new(const struct worker *w, const p11e_identity *id, const char *action)
{
	json_t *a = json_object();

	if (!a)
		return NULL;
	tool_json_set_text(a, "token", w->tok->name);
	tool_json_set_text(a, "token_serial", w->serial);
	tool_json_set_text(a, "identity", id->name);
	json_object_set_new(a, "action", json_string(action));
	json_object_set_new(a, "objects", json_array());
	return a;
}

static void audit_object(json_t *a, const char *uri)
{
	if (a && uri)
		json_array_append_new(json_object_get(a, "objects"), json_string(uri));
}

static void audit_result(const struct worker *w, json_t *a, p11e_status st)
{
	if (!a)
		return;
	json_object_set_new(a, "result", json_string(st == P11E_OK ? "ok" : "failed"));
	if (st != P11E_OK)
		tool_json_set_text(a, "error", p11e_error_message(w->ctx));
	apply_audit(w->run, a);
}

/* The certificate's serial (hex) and SHA-256 fingerprint into a. */
static void audit_cert(json_t *a, const char *path)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	X509 *x = first_cert(path);
	BIGNUM *bn;
	char *s;

	if (!a || !x) {
		X509_free(x);
		return;
	}
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) && (s = BN_bn2hex(bn))) {
		json_object_set_new(a, "cert_serial", json_string(s));
		OPENSSL_free(s);
	}
	BN_free(bn);
	if (X509_digest(x, EVP_sha256(), md, &mdlen)) {
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02X", md[i]);
		json_object_set_new(a, "cert_sha256", json_string(hex));
	}
	X509_free(x);
}

/* --- the hook ------------------------------------------------------------------ */

/*
 * Run hook without a shell: its words (split at blanks, no quoting) are the
 * program and its arguments.  Its environment is made afresh, so that no
 * PIN a variable holds (an env: PIN source, or anything else of ours) goes
 * with it: PATH, HOME, LANG, TZ, TMPDIR, USER and LOGNAME where set, plus
 * P11ENROLL_* about the renewal.  Output goes to our stderr (stdout carries
 * the events).  0 or why not.
 */
static int run_hook(const struct worker *w, const p11e_identity *id, const char *old_uri,
                    const p11e_key *key, const char *csr, char *why, size_t whylen)
{
	static const char *const keep[] = { "PATH",   "HOME", "LANG",    "LC_ALL", "TZ",
		                            "TMPDIR", "USER", "LOGNAME", NULL };
	char *copy = strdup(id->hook), *argv[33], *save = NULL;
	int argc = 0, status = 0;
	pid_t pid;

	if (!copy) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	for (char *t = strtok_r(copy, " \t", &save); t && argc < 32;
	     t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char *kept[sizeof(keep) / sizeof(keep[0])];

		for (size_t i = 0; keep[i]; i++)
			kept[i] = getenv(keep[i]);
		if (clearenv() != 0)
			_exit(127);
		for (size_t i = 0; keep[i]; i++)
			if (kept[i])
				setenv(keep[i], kept[i], 1);
		setenv("P11ENROLL_IDENTITY", id->name, 1);
		setenv("P11ENROLL_TOKEN", w->tok->name, 1);
		setenv("P11ENROLL_TOKEN_SERIAL", w->serial, 1);
		setenv("P11ENROLL_LABEL", key->label, 1);
		setenv("P11ENROLL_KEY_URI", key->uri ? key->uri : "", 1);
		setenv("P11ENROLL_OLD_KEY_URI", old_uri ? old_uri : "", 1);
		setenv("P11ENROLL_CSR", csr, 1);
		if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(127);
		execve(argv[0], argv, environ);
		fprintf(stderr, "p11enroll: hook %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(copy);
	if (pid < 0) {
		snprintf(why, whylen, "hook: cannot start it: %s", strerror(errno));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(why, whylen, "hook %s: %s %d", id->hook,
	         WIFEXITED(status) ? "exited with" : "killed by signal",
	         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -1;
}

/* --- one identity -------------------------------------------------------------- */

static int write_csr(struct worker *w, json_t *ev, const char *path, const unsigned char *csr,
                     size_t len)
{
	if (tool_write_output(path, csr, len) != 0) {
		char msg[4200];

		snprintf(msg, sizeof(msg), "cannot write the request %s: check the outbox", path);
		event_error(ev, w->ctx, msg);
		return -1;
	}
	tool_json_set_text(ev, "csr", path);
	return 0;
}

/* Enrol or renew at the identity's CA: key, certificate and chain onto the token in one step. */
static void act_ca(struct worker *w, const p11e_identity *id, enum action a, const p11e_object *key,
                   const p11e_req *req, json_t *ev)
{
	const char *old = a == A_RENEW ? key->uri : NULL, *why = NULL;
	p11e_import_result res;
	p11e_status st;
	char msg[4400];
	json_t *audit;
	int reused = 0;

	memset(&res, 0, sizeof(res));
	st = apply_ca(w->ctx, id, key ? key->label : id->label, old, req, &reused, &res, &why);
	audit = audit_new(w, id, a == A_RENEW ? "renew" : "enroll");
	if (audit)
		tool_json_set_text(audit, "ca", id->cmp ? id->cmp : id->est);
	audit_object(audit, res.key.uri);
	audit_object(audit, res.uri);
	audit_object(audit, old);
	if (why && audit) {
		json_object_set_new(audit, "result", json_string("failed"));
		tool_json_set_text(audit, "error", why);
		apply_audit(w->run, audit);
	} else {
		audit_result(w, audit, st);
	}
	if (st != P11E_OK) {
		event_error(ev, w->ctx, why);
		goto done;
	}
	tool_json_set_text(ev, "key_uri", res.key.uri);
	tool_json_set_text(ev, "cert_uri", res.uri);
	if (old)
		tool_json_set_text(ev, "old_key_uri", old);
	json_object_set_new(ev, "reused", json_boolean(reused));
	json_object_set_new(ev, "chain_written", json_integer((json_int_t)res.chain_written));
	if (a == A_RENEW && id->hook && run_hook(w, id, old, &res.key, "", msg, sizeof(msg)) != 0) {
		event_error(ev, w->ctx, msg);
		goto done;
	}
	json_object_set_new(ev, "result", json_string("ok"));
done:
	p11e_import_result_clear(&res);
}

/* Make it so; the event says how it went. */
static void act(struct worker *w, const p11e_identity *id, enum action a, const p11e_object *key,
                const char *certfile, json_t *ev)
{
	char path[4200], why[4400];
	unsigned char *csr = NULL;
	size_t len = 0;
	p11e_req *req = NULL;
	p11e_key nk;
	p11e_import_result res;
	p11e_status st = P11E_OK;
	json_t *audit = NULL;
	int reused = 0;

	memset(&nk, 0, sizeof(nk));
	memset(&res, 0, sizeof(res));
	if (a != A_IMPORT && (st = p11e_identity_req(w->ctx, id, &req)) != P11E_OK) {
		event_error(ev, w->ctx, NULL);
		return;
	}
	if ((id->cmp || id->est) && (a == A_CREATE || a == A_RENEW)) {
		act_ca(w, id, a, key, req, ev);
		p11e_req_free(req);
		return;
	}
	switch (a) {
	case A_CREATE:
	case A_REQUEST:
		st = p11e_enroll(w->ctx, id->type, a == A_CREATE ? id->label : key->label, NULL, 0,
		                 req, P11E_FORMAT_PEM, &nk, &reused, &csr, &len);
		if (!reused) {
			audit = audit_new(w, id, "keygen");
			audit_object(audit, nk.uri);
			audit_result(w, audit, st);
		}
		if (st != P11E_OK)
			break;
		tool_json_set_text(ev, "key_uri", nk.uri);
		csr_path(w, id, nk.label, path, sizeof(path));
		if (write_csr(w, ev, path, csr, len) == 0)
			json_object_set_new(ev, "result", json_string("ok"));
		goto done;
	case A_IMPORT:
		st = p11e_import(w->ctx, certfile, NULL, key->uri, NULL, 0, &res);
		audit = audit_new(w, id, "import");
		audit_object(audit, res.uri);
		audit_cert(audit, certfile);
		audit_result(w, audit, st);
		if (st != P11E_OK)
			break;
		tool_json_set_text(ev, "cert_uri", res.uri);
		tool_json_set_text(ev, "certificate", certfile);
		json_object_set_new(ev, "chain_written",
		                    json_integer((json_int_t)res.chain_written));
		json_object_set_new(ev, "result", json_string("ok"));
		goto done;
	case A_RENEW:
		st = p11e_renew(w->ctx, key->uri, id->type, req, P11E_FORMAT_PEM, &nk, &reused,
		                &csr, &len);
		audit = audit_new(w, id, "renew");
		audit_object(audit, nk.uri);
		audit_object(audit, key->uri);
		audit_result(w, audit, st);
		if (st != P11E_OK)
			break;
		tool_json_set_text(ev, "key_uri", nk.uri);
		tool_json_set_text(ev, "old_key_uri", key->uri);
		csr_path(w, id, nk.label, path, sizeof(path));
		if (write_csr(w, ev, path, csr, len) != 0)
			goto done;
		if (id->hook && run_hook(w, id, key->uri, &nk, path, why, sizeof(why)) != 0) {
			event_error(ev, w->ctx, why);
			goto done;
		}
		json_object_set_new(ev, "result", json_string("ok"));
		goto done;
	case A_NOTHING: break;
	}
	if (st != P11E_OK)
		event_error(ev, w->ctx, NULL);
done:
	p11e_free(csr);
	p11e_req_free(req);
	p11e_key_clear(&nk);
	p11e_import_result_clear(&res);
}

static void one_identity(struct worker *w, const p11e_identity *id)
{
	const p11e_object *cert = NULL, *key = newest_key(w, id, &cert);
	const char *certfile = NULL;
	enum action a = A_NOTHING;
	char path[4200];
	long days = 0;
	struct stat sb;
	json_t *ev;

	if (!key || (!cert && (id->cmp || id->est))) {
		/* at a CA: a key left without a certificate is enrolled again (reused) */
		a = A_CREATE;
	} else if (!cert) {
		csr_path(w, id, key->label, path, sizeof(path));
		if ((certfile = inbox_find(w, id, key)))
			a = A_IMPORT;
		else if (stat(path, &sb) != 0)
			a = A_REQUEST;
	} else {
		p11e_cert_state_of(cert, (long long)time(NULL), 0, 0, &days);
		if (days <= (long)id->renew_days)
			a = A_RENEW;
	}
	if (!(ev = event_new(w, id, a)))
		return;
	if (key)
		tool_json_set_text(ev, "key", key->label);
	if (cert)
		json_object_set_new(ev, "days_left", json_integer(days));
	if (a == A_NOTHING)
		json_object_set_new(ev, "detail",
		                    json_string(cert ? "certificate valid"
		                                     : "waiting for its certificate"));
	if (certfile)
		tool_json_set_text(ev, "certificate", certfile);
	if ((id->cmp || id->est) && (a == A_CREATE || a == A_RENEW)) {
		char at[4200];

		snprintf(at, sizeof(at), "%s at %s", a == A_CREATE ? "enroll" : "renew",
		         id->cmp ? id->cmp : id->est);
		tool_json_set_text(ev, "ca", id->cmp ? id->cmp : id->est);
		tool_json_set_text(ev, "detail", at);
	}
	if (a == A_NOTHING)
		json_object_set_new(ev, "result", json_string("unchanged"));
	else if (w->run->plan)
		json_object_set_new(ev, "result", json_string("planned"));
	else
		act(w, id, a, key, certfile, ev);
	event_send(w, ev);
}

/* --- the token ------------------------------------------------------------------ */

static p11e_status open_token(struct worker *w)
{
	p11e_pin *pin = NULL;
	p11e_status st;

	st = p11e_module_load(w->ctx, w->tok->module ? w->tok->module : w->run->module);
	if (st == P11E_OK)
		st = p11e_token_select(w->ctx, w->tok->uri ? w->tok->uri : w->tok->label);
	/* a plan reads public objects in a read-only session: no PIN, no login */
	if (st != P11E_OK || w->run->plan)
		return st;
	if ((st = p11e_pin_guard(w->ctx, P11E_PIN_USER)) == P11E_OK &&
	    (st = p11e_pin_read(w->ctx, w->tok->pin, P11E_PIN_USER, &pin)) == P11E_OK)
		st = p11e_login(w->ctx, P11E_PIN_USER, pin);
	p11e_pin_free(pin);
	return st;
}

static void safe_serial(const char *in, char *out, size_t len)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < len; i++)
		out[i] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
		                in[i])
		                 ? in[i]
		                 : '_';
	out[i] = '\0';
	if (!i)
		snprintf(out, len, "token");
}

int apply_identities(const struct apply_run *run, const p11e_manifest_token *tok, p11e_ctx *ctx,
                     p11e_status st, const p11e_identity *const *ids, size_t n, int fd,
                     json_t *events)
{
	struct worker w;
	int failed = 0;

	memset(&w, 0, sizeof(w));
	w.run = run;
	w.tok = tok;
	w.fd = fd;
	w.events = events;
	w.ctx = ctx;
	if (st == P11E_OK) {
		safe_serial(p11e_token_selected(w.ctx)->serial, w.serial, sizeof(w.serial));
		st = p11e_list(w.ctx, P11E_LIST_KEYS, &w.objs, &w.nobjs);
	}
	for (size_t i = 0; i < n; i++) {
		if (st == P11E_OK) {
			one_identity(&w, ids[i]);
			continue;
		}
		/* the token cannot be worked on: each of its identities fails with why */
		json_t *ev = event_new(&w, ids[i], A_NOTHING);

		if (ev) {
			json_object_del(ev, "action");
			event_error(ev, w.ctx, NULL);
		}
		event_send(&w, ev);
		failed = 1;
	}
	inbox_free(&w);
	p11e_list_free(w.objs, w.nobjs);
	return failed ? (int)st : 0;
}

int apply_token(const struct apply_run *run, const p11e_manifest_token *tok,
                const p11e_identity *const *ids, size_t n, int fd)
{
	struct tool t;
	struct worker w;
	int ret;

	memset(&t, 0, sizeof(t));
	memset(&w, 0, sizeof(w));
	t.verbosity = run->verbosity;
	w.run = run;
	w.tok = tok;
	if (!(w.ctx = t.ctx = p11e_ctx_new()))
		return P11E_ERR_FAILED;
	p11e_ctx_set_log(w.ctx, tool_log, &t);
	p11e_ctx_set_flags(w.ctx, (run->force ? P11E_CTX_FORCE_LAST_PIN_TRY : 0) |
	                                  (run->plan ? P11E_CTX_NO_LOGIN : 0));
	ret = apply_identities(run, tok, w.ctx, open_token(&w), ids, n, fd, NULL);
	p11e_ctx_free(w.ctx);
	return ret;
}
