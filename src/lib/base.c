/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * base.c - the floor every other file stands on: the last failure (message,
 * reason, CK_RV), logging with PINs redacted, the call layer every C_* call
 * goes through, and the small string helpers PKCS#11 needs.  It calls
 * nothing of the library but the CK_RV table.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *p11e_status_name(p11e_status status)
{
	switch (status) {
	case P11E_OK: return "ok";
	case P11E_ERR_FAILED: return "failure";
	case P11E_ERR_USAGE: return "usage";
	case P11E_ERR_AUTH: return "auth";
	case P11E_ERR_NOT_FOUND: return "not-found";
	case P11E_ERR_TOKEN: return "token";
	case P11E_ERR_POLICY: return "policy";
	case P11E_ERR_INPUT: return "input";
	case P11E_ERR_TIMEOUT: return "timeout";
	case P11E_ERR_CA: return "ca";
	}
	return "unknown";
}

const char *p11e_error_message(const p11e_ctx *ctx)
{
	return ctx->message;
}

unsigned long p11e_error_rv(const p11e_ctx *ctx)
{
	return ctx->last_rv;
}

const char *p11e_error_call(const p11e_ctx *ctx)
{
	return ctx->last_call;
}

p11e_reason p11e_error_reason(const p11e_ctx *ctx)
{
	return ctx->reason;
}

void p11e__details_set(p11e_ctx *ctx, char **items, size_t n)
{
	for (size_t i = 0; i < ctx->ndetails; i++)
		free(ctx->details[i]);
	free(ctx->details);
	ctx->details = items;
	ctx->ndetails = n;
}

const char *const *p11e_error_details(const p11e_ctx *ctx, size_t *count)
{
	*count = ctx->ndetails;
	return (const char *const *)ctx->details;
}

void p11e__clear_error(p11e_ctx *ctx)
{
	p11e__details_set(ctx, NULL, 0);
	ctx->message[0] = '\0';
	ctx->last_rv = CKR_OK;
	ctx->last_call = NULL;
	ctx->reason = P11E_REASON_NONE;
}

/*
 * Messages quote what the user gave (--token, --key), and a pkcs11: URI may
 * carry its PIN (RFC 7512 pin-value): whatever follows "pin-value=" up to
 * the URI's next separator is blanked out, so no message or log line of
 * ours repeats a PIN.
 */
void p11e__redact(char *msg)
{
	static const char key[] = "pin-value=";
	char *p = msg, *end;

	while ((p = strstr(p, key))) {
		p += sizeof(key) - 1;
		/*
		 * the value runs to the next attribute or the end of the URI:
		 * quotes, brackets and '?' may be part of a PIN, all masked
		 */
		end = p + strcspn(p, ";& \t\n\r\v\f");
		if (end == p)
			continue;
		if (end - p >= 3) {
			memcpy(p, "***", 3);
			memmove(p + 3, end, strlen(end) + 1);
		} else {
			memset(p, '*', (size_t)(end - p));
		}
	}
}

void p11e__log(p11e_ctx *ctx, p11e_log_level level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!ctx->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	p11e__redact(buf);
	ctx->log(ctx->log_data, level, buf);
}

static void fail_v(p11e_ctx *ctx, p11e_reason reason, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void fail_v(p11e_ctx *ctx, p11e_reason reason, const char *fmt, va_list ap)
{
	vsnprintf(ctx->message, sizeof(ctx->message), fmt, ap);
	p11e__redact(ctx->message);
	ctx->reason = reason;
}

p11e_status p11e__fail(p11e_ctx *ctx, p11e_status status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_v(ctx, P11E_REASON_NONE, fmt, ap);
	va_end(ap);
	return status;
}

p11e_status p11e__fail_why(p11e_ctx *ctx, p11e_status status, p11e_reason reason, const char *fmt,
                           ...)
{
	va_list ap;

	va_start(ap, fmt);
	fail_v(ctx, reason, fmt, ap);
	va_end(ap);
	return status;
}

p11e_status p11e__fail_rv(p11e_ctx *ctx, const char *what, const char *call, CK_RV rv)
{
	const char *token_hint = p11e__rv_token_hint(ctx, rv);
	const char *hint = token_hint ? token_hint : p11e__rv_hint(rv);

	ctx->last_rv = rv;
	ctx->last_call = call;
	/* the token's quirk file knows better than the generic way out */
	ctx->reason = token_hint ? P11E_REASON_NONE : p11e__rv_reason(rv);
	snprintf(ctx->message, sizeof(ctx->message), "%s: %s: %s (%s)%s%s", what, call,
	         p11e_rv_text(rv), p11e_rv_name(rv), hint ? ": " : "", hint ? hint : "");
	return p11e__rv_status(rv);
}

CK_RV p11e__call_done(p11e_ctx *ctx, const char *name, CK_RV rv)
{
	/* arguments are never logged: some of them are PINs */
	if (rv == CKR_OK)
		p11e__log(ctx, P11E_LOG_DEBUG, "%s: CKR_OK", name);
	else
		p11e__log(ctx, P11E_LOG_DEBUG, "%s: %s (%s)", name, p11e_rv_name(rv),
		          p11e_rv_text(rv));
	if (rv != CKR_OK) {
		ctx->last_rv = rv;
		ctx->last_call = name;
	}
	return rv;
}

/* What the library allocated for the caller (requests, URIs, exports). */
void p11e_free(void *p)
{
	free(p);
}

void p11e__free_secret(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void p11e__unpad(char *dst, size_t dstlen, const unsigned char *src, size_t srclen)
{
	size_t n = srclen < dstlen - 1 ? srclen : dstlen - 1;

	memcpy(dst, src, n);
	/* some modules NUL-terminate instead of padding */
	dst[n] = '\0';
	n = strlen(dst);
	while (n > 0 && dst[n - 1] == ' ')
		dst[--n] = '\0';
}

int p11e__pad(unsigned char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);

	if (n > dstlen)
		return -1;
	memset(dst, ' ', dstlen);
	memcpy(dst, src, n);
	return 0;
}
