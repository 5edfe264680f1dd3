/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lock.c - one p11enroll at a time in a token's find-or-create sections.
 *
 * PKCS#11 has no transactions: "is there a key labelled L? no: make one"
 * run by two processes at once makes two.  State lives on the token (no
 * database of our own), so what serialises those sections is an advisory
 * lock, flock(2) on a file named after the token (a hash of its
 * manufacturer, model and serial), in a directory only the user can write:
 * $XDG_RUNTIME_DIR/p11enroll, else $RUNTIME_DIRECTORY/p11enroll (systemd),
 * else /run/p11enroll for root and /tmp/p11enroll-UID for other users.  The directory is
 * made 0700 and checked (ours, a real directory, no access for others)
 * before it is used; the lock file is opened without following symbolic
 * links.  The wait is bounded: P11ENROLL_LOCK_TIMEOUT seconds (30).
 *
 * A local lock does not reach other hosts that share a network HSM.
 *
 * A second lock, on the module (a hash of its path), is held from before
 * C_Initialize until the user is logged in: SoftHSMv2's file store rewrites
 * the token's file at every C_Login (and C_SetPIN, C_InitPIN), and another
 * process reading the token at that moment (its C_Initialize, a
 * C_GetTokenInfo) finds no token or fails with CKR_GENERAL_ERROR
 * (softhsm/SoftHSMv2#757).  Between p11enroll processes that window is
 * closed; the work after the login runs in parallel.  A context that never
 * logs in (P11E_CTX_NO_LOGIN: tokens, status, export) takes the lock shared
 * and only if it is free, and lets it go right after C_Initialize: it
 * neither waits for another's login nor holds a login up for its whole run.  It is best effort:
 * a lock that cannot be had is said at -v and the run goes on without it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define LOCK_TIMEOUT_DEFAULT 30
#define LOCK_TIMEOUT_MAX 86400
#define LOCK_POLL_MS 50
#define LOCK_NOTE_AFTER 2 /* seconds of waiting before saying so by default */
#define ROOT_LOCK_DIR "/run/p11enroll"

/* P11ENROLL_LOCK_TIMEOUT: whole seconds, 0 to not wait. */
static p11e_status lock_timeout(p11e_ctx *ctx, unsigned *secs)
{
	const char *v = getenv("P11ENROLL_LOCK_TIMEOUT");
	unsigned long n;
	char *end;

	*secs = LOCK_TIMEOUT_DEFAULT;
	if (!v || !*v)
		return P11E_OK;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || n > LOCK_TIMEOUT_MAX)
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "P11ENROLL_LOCK_TIMEOUT='%.40s' is not a number of seconds from "
		                  "0 to "
		                  "%d: set it to how long to wait for a busy token (default %d)",
		                  v, LOCK_TIMEOUT_MAX, LOCK_TIMEOUT_DEFAULT);
	*secs = (unsigned)n;
	return P11E_OK;
}

/*
 * The lock directory, made if need be and checked: its path in dir, an
 * O_DIRECTORY descriptor of it in *dfd.
 */
static p11e_status lock_dir(p11e_ctx *ctx, char *dir, size_t dirlen, int *dfd)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	const char *rtd = getenv("RUNTIME_DIRECTORY");
	uid_t uid = geteuid();
	struct stat sb;
	int made, n;

	*dfd = -1;
	/*
	 * The XDG spec wants an absolute path; anything else is ignored.  Then
	 * systemd's RuntimeDirectory= (the first of a colon-separated list).
	 * Root's own comes next: root runs without XDG_RUNTIME_DIR under sudo,
	 * cron and systemd, and a name in /tmp is one any user can take first
	 * (a /tmp/p11enroll-0 of theirs would stop every run of root's).
	 */
	if (xdg && xdg[0] == '/')
		n = snprintf(dir, dirlen, "%s/p11enroll", xdg);
	else if (rtd && rtd[0] == '/')
		n = snprintf(dir, dirlen, "%.*s/p11enroll", (int)strcspn(rtd, ":"), rtd);
	else if (uid == 0)
		n = snprintf(dir, dirlen, "%s", ROOT_LOCK_DIR);
	else
		n = snprintf(dir, dirlen, "/tmp/p11enroll-%lu", (unsigned long)uid);
	if (n < 0 || (size_t)n >= dirlen)
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "XDG_RUNTIME_DIR or RUNTIME_DIRECTORY is too long for the token "
		                  "lock directory: unset it or give a shorter path");
	made = mkdir(dir, 0700) == 0;
	if (!made && errno != EEXIST)
		return p11e__fail(ctx, P11E_ERR_FAILED,
		                  "cannot make the token lock directory %s: %s: check the parent "
		                  "directory, or set XDG_RUNTIME_DIR",
		                  dir, strerror(errno));
	if (lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode))
		return p11e__fail(ctx, P11E_ERR_POLICY,
		                  "token lock directory %s is a symbolic link, not a directory: "
		                  "remove it, or set XDG_RUNTIME_DIR to a directory of your own",
		                  dir);
	*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*dfd < 0)
		return p11e__fail(ctx,
		                  errno == ENOTDIR || errno == ELOOP ? P11E_ERR_POLICY
		                                                     : P11E_ERR_FAILED,
		                  "cannot open the token lock directory %s: %s: remove it, or set "
		                  "XDG_RUNTIME_DIR to a directory of your own",
		                  dir, errno == ENOTDIR ? "not a directory" : strerror(errno));
	/* made now: the umask must not leave it unusable */
	if (made)
		(void)fchmod(*dfd, 0700);
	/* checked on the descriptor, so what is checked is what is used */
	if (fstat(*dfd, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != uid ||
	    (sb.st_mode & 077) != 0) {
		p11e_status st = p11e__fail(ctx, P11E_ERR_POLICY,
		                            "token lock directory %s is not safe to use: owner uid "
		                            "%lu, mode %03o (want "
		                            "uid %lu, mode 700): remove it, or set XDG_RUNTIME_DIR "
		                            "to a directory of your "
		                            "own",
		                            dir, (unsigned long)sb.st_uid,
		                            (unsigned)(sb.st_mode & 0777), (unsigned long)uid);

		close(*dfd);
		*dfd = -1;
		return st;
	}
	return P11E_OK;
}

/* "token-" and the SHA-256 of manufacturer, model and serial, in hex. */
static p11e_status lock_name(p11e_ctx *ctx, char *name, size_t len)
{
	const p11e_slot *s = &ctx->slot;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	OSSL_LIB_CTX *libctx = p11e__libctx(ctx);
	EVP_MD *sha = libctx ? EVP_MD_fetch(libctx, "SHA256", "provider=default") : NULL;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = sha && m && EVP_DigestInit_ex2(m, sha, NULL) &&
	         EVP_DigestUpdate(m, s->manufacturer, strlen(s->manufacturer) + 1) &&
	         EVP_DigestUpdate(m, s->model, strlen(s->model) + 1) &&
	         EVP_DigestUpdate(m, s->serial, strlen(s->serial) + 1) &&
	         EVP_DigestFinal_ex(m, md, &mdlen) && 2 * mdlen + 12 <= len;

	EVP_MD_CTX_free(m);
	EVP_MD_free(sha);
	if (!ok)
		return p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot name the token lock file");
	strcpy(name, "token-");
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(name + 6 + 2 * i, 3, "%02x", md[i]);
	strcat(name, ".lock");
	return P11E_OK;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

p11e_status p11e__token_lock(p11e_ctx *ctx, int *fd)
{
	char dir[PATH_MAX], name[80];
	struct timespec pause = { 0, LOCK_POLL_MS * 1000000L };
	unsigned timeout;
	int dfd = -1, lfd = -1, waited = 0, noted = 0;
	double start, now;
	struct stat sb;
	p11e_status st;

	*fd = -1;
	if (!ctx->have_slot)
		return p11e__fail(ctx, P11E_ERR_USAGE, "select a token first");
	/* held already, by a caller further up (renew -> keygen): nested */
	if (ctx->lock_depth) {
		ctx->lock_depth++;
		*fd = ctx->lock_fd;
		return P11E_OK;
	}
	st = lock_timeout(ctx, &timeout);
	if (st == P11E_OK)
		st = lock_name(ctx, name, sizeof(name));
	if (st == P11E_OK)
		st = lock_dir(ctx, dir, sizeof(dir), &dfd);
	if (st != P11E_OK)
		return st;
	lfd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (lfd < 0) {
		st = p11e__fail(ctx, errno == ELOOP ? P11E_ERR_POLICY : P11E_ERR_FAILED,
		                "cannot open the token lock file %s/%s: %s: remove it", dir, name,
		                errno == ELOOP ? "a symbolic link" : strerror(errno));
		close(dfd);
		return st;
	}
	close(dfd);
	if (fstat(lfd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
		close(lfd);
		return p11e__fail(ctx, P11E_ERR_POLICY,
		                  "token lock file %s/%s is not a regular file of yours: remove it",
		                  dir, name);
	}
	start = now_s();
	for (;;) {
		if (flock(lfd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "cannot lock %s/%s: %s", dir, name,
			                strerror(errno));
			break;
		}
		now = now_s();
		if (now - start >= (double)timeout) {
			st = p11e__fail_why(
				ctx, P11E_ERR_TOKEN, P11E_REASON_TOKEN_BUSY,
				"token '%s' is busy: another process holds its lock (%s/%s) and "
				"did not let go within %u s: retry, or wait longer with "
				"P11ENROLL_LOCK_TIMEOUT",
				ctx->slot.label, dir, name, timeout);
			break;
		}
		if (!waited++)
			p11e__log(ctx, P11E_LOG_INFO,
			          "token '%s' is busy, another process holds its lock (%s/%s): "
			          "waiting up to %u s",
			          ctx->slot.label, dir, name, timeout);
		/* a wait a user would notice is said once, and why */
		if (!noted && now - start >= LOCK_NOTE_AFTER) {
			noted = 1;
			p11e__log(ctx, P11E_LOG_NOTE,
			          "waiting for token '%s': another process is changing it (lock "
			          "%s/%s; up to %u s, P11ENROLL_LOCK_TIMEOUT)",
			          ctx->slot.label, dir, name, timeout);
		}
		nanosleep(&pause, NULL);
	}
	if (st != P11E_OK) {
		close(lfd);
		return st;
	}
	if (waited)
		p11e__log(ctx, P11E_LOG_INFO, "token lock %s/%s taken after %.1f s", dir, name,
		          now_s() - start);
	*fd = ctx->lock_fd = lfd;
	ctx->lock_depth = 1;
	return P11E_OK;
}

void p11e__module_lock(p11e_ctx *ctx, const char *path)
{
	char dir[PATH_MAX], name[80], msg[sizeof(ctx->message)];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, timeout;
	struct timespec pause = { 0, LOCK_POLL_MS * 1000000L };
	int dfd = -1, lfd = -1, noted = 0;
	double start;
	struct stat sb;

	if (ctx->have_module_lock)
		return;
	/* what went wrong here is no error of the command's: keep its message */
	memcpy(msg, ctx->message, sizeof(msg));
	if (lock_timeout(ctx, &timeout) != P11E_OK ||
	    !EVP_Digest(path, strlen(path), md, &mdlen, EVP_sha256(), NULL) ||
	    lock_dir(ctx, dir, sizeof(dir), &dfd) != P11E_OK)
		goto out;
	strcpy(name, "module-");
	for (unsigned i = 0; i < mdlen && i < 16; i++)
		snprintf(name + 7 + 2 * i, 3, "%02x", md[i]);
	strcat(name, ".lock");
	lfd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	close(dfd);
	if (lfd < 0 || fstat(lfd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
		p11e__log(ctx, P11E_LOG_INFO, "no module lock (%s/%s): going on without it", dir,
		          name);
		goto out;
	}
	/*
	 * A context that never logs in only reads: shared with other readers,
	 * taken only if no login holds it (its own run must not wait on
	 * another's), and let go after C_Initialize.
	 */
	if (ctx->no_login) {
		while (flock(lfd, LOCK_SH | LOCK_NB) != 0) {
			if (errno == EINTR)
				continue;
			p11e__log(ctx, P11E_LOG_INFO,
			          "another process holds the module lock %s/%s (a login or a PIN "
			          "change): not waiting, this command does not log in",
			          dir, name);
			goto out;
		}
		goto held;
	}
	start = now_s();
	while (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EINTR && errno != EWOULDBLOCK)
			goto out;
		if (now_s() - start >= (double)timeout) {
			p11e__log(ctx, P11E_LOG_WARN,
			          "another process has held the module lock %s/%s for %u s: going "
			          "on "
			          "without it",
			          dir, name, timeout);
			goto out;
		}
		if (!noted && now_s() - start >= LOCK_NOTE_AFTER) {
			noted = 1;
			/* the holder may be starting up, logging in or changing a PIN */
			p11e__log(ctx, P11E_LOG_NOTE,
			          "waiting for another process using %s (module lock %s/%s; up to "
			          "%u s, P11ENROLL_LOCK_TIMEOUT)",
			          path, dir, name, timeout);
		}
		nanosleep(&pause, NULL);
	}
held:
	ctx->module_lock_fd = lfd;
	ctx->have_module_lock = 1;
	lfd = -1;
out:
	if (lfd >= 0)
		close(lfd);
	memcpy(ctx->message, msg, sizeof(msg));
}

void p11e__module_lock_initialized(p11e_ctx *ctx)
{
	if (ctx->no_login)
		p11e__module_unlock(ctx);
}

void p11e__module_unlock(p11e_ctx *ctx)
{
	if (!ctx->have_module_lock)
		return;
	flock(ctx->module_lock_fd, LOCK_UN);
	close(ctx->module_lock_fd);
	ctx->have_module_lock = 0;
}

void p11e__token_unlock(p11e_ctx *ctx, int *fd)
{
	if (*fd < 0 || !ctx->lock_depth)
		return;
	*fd = -1;
	if (--ctx->lock_depth)
		return;
	/* the file stays: removing it would let two processes lock two files */
	flock(ctx->lock_fd, LOCK_UN);
	close(ctx->lock_fd);
	ctx->lock_fd = -1;
}
