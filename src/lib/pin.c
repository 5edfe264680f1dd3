/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pin.c - PIN sources (OpenSSL's passphrase syntax: pass:, env:, file:,
 * fd:, stdin), RFC 7512 pin-value/pin-source, and the application's PIN
 * callback.  The library never opens a terminal: a program that wants a
 * prompt (the p11enroll tool: src/tool/prompt.c) asks in its callback.
 * Every buffer that held a PIN is wiped before it is freed or goes out of
 * scope.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define PIN_MAX 256

static const char *role_name(p11e_pin_role role)
{
	switch (role) {
	case P11E_PIN_USER: return "user PIN";
	case P11E_PIN_SO: return "SO PIN";
	case P11E_PIN_NEW_USER: return "new user PIN";
	case P11E_PIN_NEW_SO: return "new SO PIN";
	}
	return "PIN";
}

p11e_pin *p11e__pin_new(const char *data, size_t len)
{
	p11e_pin *pin = calloc(1, sizeof(*pin));

	if (!pin)
		return NULL;
	pin->data = malloc(len + 1);
	if (!pin->data) {
		free(pin);
		return NULL;
	}
	memcpy(pin->data, data, len);
	pin->data[len] = '\0';
	pin->len = len;
	/*
	 * kept out of swap where the system lets us (RLIMIT_MEMLOCK); never
	 * unlocked: the page may hold another PIN, and a few locked pages
	 * until exit cost nothing.  Core dumps are the tool's part
	 * (PR_SET_DUMPABLE in src/tool/main.c).
	 */
	(void)mlock(pin->data, len + 1);
	return pin;
}

void p11e_pin_free(p11e_pin *pin)
{
	if (!pin)
		return;
	OPENSSL_cleanse(pin->data, pin->len);
	free(pin->data);
	free(pin);
}

size_t p11e_pin_length(const p11e_pin *pin)
{
	return pin ? pin->len : 0;
}

/*
 * One line from fd, a byte at a time so that a second PIN on the same
 * descriptor (stdin, fd:N) is still there for the next read.
 * Returns the length, -1 on a read error, -2 if the line is too long.
 */
static ssize_t read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= size)
			return -2;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}

static p11e_status pin_from_fd(p11e_ctx *ctx, int fd, const char *src, p11e_pin **pin)
{
	char buf[PIN_MAX + 2];
	ssize_t n = read_line(fd, buf, sizeof(buf));
	p11e_status st = P11E_OK;

	if (n == -1)
		st = p11e__fail(ctx, P11E_ERR_INPUT, "PIN source %s: read failed: %s", src,
		                strerror(errno));
	else if (n == -2)
		st = p11e__fail(ctx, P11E_ERR_INPUT,
		                "PIN source %s: the first line is longer than %d bytes: is it a "
		                "PIN?",
		                src, PIN_MAX);
	else if (n == 0)
		st = p11e__fail(ctx, P11E_ERR_INPUT,
		                "PIN source %s gave an empty PIN: check what it points to", src);
	else if (!(*pin = p11e__pin_new(buf, (size_t)n)))
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	OPENSSL_cleanse(buf, sizeof(buf));
	return st;
}

static p11e_status pin_from_file(p11e_ctx *ctx, const char *path, const char *src, p11e_pin **pin)
{
	struct stat sb;
	p11e_status st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return p11e__fail(ctx, P11E_ERR_INPUT, "PIN %s %s: cannot open it: %s", src, path,
		                  strerror(errno));
	if (fstat(fd, &sb) == 0 && (sb.st_mode & (S_IRWXG | S_IRWXO)))
		p11e__log(ctx, P11E_LOG_WARN,
		          "PIN file %s can be read by group or others (mode %03o): "
		          "chmod 600 it",
		          path, (unsigned)(sb.st_mode & 0777));
	st = pin_from_fd(ctx, fd, src, pin);
	close(fd);
	return st;
}

p11e_status p11e__pin_from_source(p11e_ctx *ctx, const char *src, p11e_pin **pin)
{
	*pin = NULL;
	if (strncmp(src, "pass:", 5) == 0) {
		if (!src[5])
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "PIN source pass: is empty: give the PIN after 'pass:'");
		*pin = p11e__pin_new(src + 5, strlen(src + 5));
		return *pin ? P11E_OK : p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	}
	if (strncmp(src, "env:", 4) == 0) {
		const char *v = getenv(src + 4);

		if (!src[4])
			return p11e__fail(ctx, P11E_ERR_USAGE,
			                  "PIN source env: names no variable: use env:VARIABLE");
		if (!v)
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "PIN source %s: the variable %s is not set: export it",
			                  src, src + 4);
		if (!*v)
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "PIN source %s: the variable %s is empty: export the PIN "
			                  "in it",
			                  src, src + 4);
		*pin = p11e__pin_new(v, strlen(v));
		if (!*pin)
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		/*
		 * Read once, then gone: nothing later in this process (a request
		 * config, an engine, a child) finds the PIN in the environment, and
		 * the copy in the initial environment (/proc/PID/environ) is wiped.
		 */
		OPENSSL_cleanse((void *)v, strlen(v));
		unsetenv(src + 4);
		return P11E_OK;
	}
	if (strncmp(src, "file:", 5) == 0) {
		if (!src[5])
			return p11e__fail(ctx, P11E_ERR_USAGE,
			                  "PIN source file: names no file: use file:PATH");
		return pin_from_file(ctx, src + 5, "file", pin);
	}
	if (strncmp(src, "fd:", 3) == 0) {
		char *end = NULL;
		long fd;

		errno = 0;
		fd = strtol(src + 3, &end, 10);
		if (!src[3] || *end || errno || fd < 0 || fd > 65535)
			return p11e__fail(ctx, P11E_ERR_USAGE,
			                  "PIN source %s: not a file descriptor number: use fd:N",
			                  src);
		return pin_from_fd(ctx, (int)fd, src, pin);
	}
	if (strcmp(src, "stdin") == 0)
		return pin_from_fd(ctx, STDIN_FILENO, src, pin);
	/* a mistyped source may be a bare PIN: none of it is shown */
	return p11e__fail(ctx, P11E_ERR_USAGE,
	                  "unknown PIN source (%zu characters, not shown): use env:VAR, "
	                  "file:PATH, fd:N, stdin or pass:PIN",
	                  strlen(src));
}

void p11e_ctx_set_pin_callback(p11e_ctx *ctx, p11e_pin_fn fn, void *data)
{
	ctx->pin_fn = fn;
	ctx->pin_data = fn ? data : NULL;
}

/* What the token says about the PIN, for the callback to show if it likes. */
static unsigned pin_flags(const p11e_ctx *ctx, p11e_pin_role role)
{
	CK_FLAGS f = ctx->have_slot ? ctx->slot.token_flags : 0;
	unsigned out = 0;

	if (role == P11E_PIN_USER) {
		out |= (f & CKF_USER_PIN_COUNT_LOW) ? P11E_PIN_FLAG_COUNT_LOW : 0;
		out |= (f & CKF_USER_PIN_FINAL_TRY) ? P11E_PIN_FLAG_FINAL_TRY : 0;
	} else if (role == P11E_PIN_SO) {
		out |= (f & CKF_SO_PIN_COUNT_LOW) ? P11E_PIN_FLAG_COUNT_LOW : 0;
		out |= (f & CKF_SO_PIN_FINAL_TRY) ? P11E_PIN_FLAG_FINAL_TRY : 0;
	}
	return out;
}

/* One answer of the callback into buf; its length, or a failure recorded. */
static p11e_status ask_once(p11e_ctx *ctx, p11e_pin_role role, unsigned flags, char *buf,
                            size_t size, size_t *len)
{
	int n;

	if (!ctx->pin_fn)
		return p11e__fail(ctx, P11E_ERR_AUTH,
		                  "no source for the %s and no PIN callback to ask with: give one "
		                  "(env:VAR, file:PATH, fd:N or stdin)",
		                  role_name(role));
	n = ctx->pin_fn(ctx->pin_data, role, ctx->have_slot ? ctx->slot.label : NULL,
	                ctx->have_slot ? ctx->slot.uri : NULL, flags, buf, size);
	if (n == P11E_PIN_ANSWER_UNAVAILABLE)
		return p11e__fail(ctx, P11E_ERR_AUTH,
		                  "no source for the %s and no way to ask for it here (no "
		                  "terminal): "
		                  "give one (env:VAR, file:PATH, fd:N or stdin)",
		                  role_name(role));
	if (n == P11E_PIN_ANSWER_NONE)
		return p11e__fail(ctx, P11E_ERR_AUTH, "no PIN entered");
	if (n < 0 || (size_t)n >= size)
		return p11e__fail(ctx, P11E_ERR_INPUT, "reading the %s failed", role_name(role));
	*len = (size_t)n;
	return P11E_OK;
}

/* Ask the application; a new PIN twice, and the two must match. */
static p11e_status pin_ask(p11e_ctx *ctx, p11e_pin_role role, p11e_pin **pin)
{
	char a[PIN_MAX + 2], b[PIN_MAX + 2];
	size_t la = 0, lb = 0;
	unsigned flags = pin_flags(ctx, role);
	p11e_status st;

	st = ask_once(ctx, role, flags, a, sizeof(a), &la);
	if (st == P11E_OK && (role == P11E_PIN_NEW_USER || role == P11E_PIN_NEW_SO)) {
		st = ask_once(ctx, role, flags | P11E_PIN_FLAG_CONFIRM, b, sizeof(b), &lb);
		if (st == P11E_OK && (la != lb || memcmp(a, b, la) != 0))
			st = p11e__fail(ctx, P11E_ERR_AUTH, "the two PINs differ: try again");
	}
	if (st == P11E_OK && !(*pin = p11e__pin_new(a, la)))
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return st;
}

p11e_status p11e__pin_get(p11e_ctx *ctx, const char *src, p11e_pin_role role, p11e_pin **pin)
{
	*pin = NULL;
	if (src)
		return p11e__pin_from_source(ctx, src, pin);
	if (role == P11E_PIN_USER && ctx->uri_pin_value) {
		*pin = p11e__pin_new(ctx->uri_pin_value, strlen(ctx->uri_pin_value));
		return *pin ? P11E_OK : p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	}
	if (role == P11E_PIN_USER && ctx->uri_pin_source) {
		const char *path = ctx->uri_pin_source;

		/* RFC 7512: a file: URI or a path */
		if (strncmp(path, "file://", 7) == 0)
			path += 7;
		else if (strncmp(path, "file:", 5) == 0)
			path += 5;
		return pin_from_file(ctx, path, "pin-source file", pin);
	}
	return pin_ask(ctx, role, pin);
}

p11e_status p11e_pin_read(p11e_ctx *ctx, const char *src, p11e_pin_role role, p11e_pin **pin)
{
	p11e__clear_error(ctx);
	return p11e__pin_get(ctx, src, role, pin);
}

p11e_status p11e__pin_keep(p11e_ctx *ctx, const p11e_pin *pin)
{
	p11e_pin_free(ctx->login_pin);
	ctx->login_pin = NULL;
	if (pin && !(ctx->login_pin = p11e__pin_new(pin->data, pin->len)))
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	return P11E_OK;
}
