/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * status-prom.c - p11enroll status --prometheus: node_exporter
 * textfile-collector metrics of the client certificates on the selected
 * token, or on every initialised token when none is selected; written to
 * stdout or, with -o, atomically to a file (temporary file, then rename),
 * so the collector never reads half a file.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"

/* CKF_TOKEN_INITIALIZED */
#define TOKEN_INITIALIZED 0x400UL

struct buf {
	char *s;
	size_t len, cap;
	int err;
};

static void add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = 1;
			return;
		}
		if (b->s && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *grown = realloc(b->s, b->cap * 2 + (size_t)n + 64);

		if (!grown) {
			b->err = 1;
			return;
		}
		b->s = grown;
		b->cap = b->cap * 2 + (size_t)n + 64;
	}
}

/* A label value: backslash, double quote and newline escaped (the exposition format's rule). */
static void add_value(struct buf *b, const char *v)
{
	add(b, "\"");
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			add(b, "\\%c", *v);
		else if (*v == '\n')
			add(b, "\\n");
		else
			add(b, "%c", *v);
	}
	add(b, "\"");
}

struct tok_counts {
	char label[33], serial[17];
	size_t certs, expired, due;
};

/* Samples of one family stay together (the exposition format): two buffers. */
static int one_token(struct tool *t, struct buf *b, struct buf *b2, struct tok_counts *tc, int warn)
{
	const p11e_slot *s = p11e_token_selected(t->ctx);
	long long now = (long long)time(NULL);
	p11e_object *objs = NULL;
	size_t n = 0;
	p11e_status st = p11e_list(t->ctx, 0, &objs, &n);

	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	snprintf(tc->label, sizeof(tc->label), "%s", s->label);
	snprintf(tc->serial, sizeof(tc->serial), "%s", s->serial);
	for (size_t i = 0; i < n; i++) {
		const p11e_object *o = &objs[i];
		long days;
		p11e_cert_state state;

		if (o->authority)
			continue;
		state = p11e_cert_state_of(o, now, warn, 0, &days);
		tc->certs++;
		tc->expired += state == P11E_CERT_EXPIRED;
		tc->due += state == P11E_CERT_RENEW || state == P11E_CERT_CRITICAL;
		add(b, "p11enroll_certificate_days_left{token=");
		add_value(b, s->label);
		add(b, ",serial=");
		add_value(b, s->serial);
		add(b, ",label=");
		add_value(b, o->label);
		add(b, ",cert_serial=");
		add_value(b, o->serial);
		add(b, "} %ld\n", days);
		add(b2, "p11enroll_certificate_not_after_timestamp_seconds{token=");
		add_value(b2, s->label);
		add(b2, ",serial=");
		add_value(b2, s->serial);
		add(b2, ",label=");
		add_value(b2, o->label);
		add(b2, ",cert_serial=");
		add_value(b2, o->serial);
		add(b2, "} %lld\n", o->not_after);
	}
	p11e_list_free(objs, n);
	return 0;
}

int tool_status_prometheus(struct tool *t, int warn, const char *out)
{
	struct buf b = { NULL, 0, 0, 0 }, b2 = { NULL, 0, 0, 0 };
	struct tok_counts *tc = NULL;
	p11e_slot *slots = NULL;
	size_t nslots = 0, ntok = 0;
	p11e_status st;
	int ret;

	tool_no_login(t);
	if ((ret = tool_load_module(t)) != 0)
		return ret;
	if (t->token) {
		if ((st = p11e_token_select(t->ctx, t->token)) != P11E_OK)
			return tool_fail(t, st, NULL);
	} else if ((st = p11e_slot_list(t->ctx, &slots, &nslots)) != P11E_OK) {
		return tool_fail(t, st, NULL);
	}
	if (!(tc = calloc(nslots + 1, sizeof(*tc)))) {
		p11e_slot_list_free(slots, nslots);
		fprintf(stderr, "p11enroll: out of memory\n");
		return P11E_ERR_FAILED;
	}
	add(&b, "# HELP p11enroll_certificate_days_left Whole days before the certificate "
	        "expires (negative: expired).\n"
	        "# TYPE p11enroll_certificate_days_left gauge\n");
	add(&b2, "# HELP p11enroll_certificate_not_after_timestamp_seconds When the certificate "
	         "expires.\n"
	         "# TYPE p11enroll_certificate_not_after_timestamp_seconds gauge\n");
	if (t->token) {
		ret = one_token(t, &b, &b2, &tc[ntok++], warn);
	} else {
		for (size_t i = 0; ret == 0 && i < nslots; i++) {
			if (!slots[i].token_present || !(slots[i].token_flags & TOKEN_INITIALIZED))
				continue;
			if ((st = p11e_token_select(t->ctx, slots[i].uri)) != P11E_OK)
				ret = tool_fail(t, st, NULL);
			else
				ret = one_token(t, &b, &b2, &tc[ntok++], warn);
		}
	}
	add(&b, "%s", b2.s ? b2.s : "");
	b.err |= b2.err;
	add(&b, "# HELP p11enroll_certificates Client certificates on the token.\n"
	        "# TYPE p11enroll_certificates gauge\n");
	for (size_t i = 0; i < ntok; i++) {
		add(&b, "p11enroll_certificates{token=");
		add_value(&b, tc[i].label);
		add(&b, ",serial=");
		add_value(&b, tc[i].serial);
		add(&b, "} %zu\n", tc[i].certs);
	}
	add(&b, "# HELP p11enroll_certificates_expired Client certificates past their end.\n"
	        "# TYPE p11enroll_certificates_expired gauge\n");
	for (size_t i = 0; i < ntok; i++) {
		add(&b, "p11enroll_certificates_expired{token=");
		add_value(&b, tc[i].label);
		add(&b, ",serial=");
		add_value(&b, tc[i].serial);
		add(&b, "} %zu\n", tc[i].expired);
	}
	add(&b, "# HELP p11enroll_certificates_due Client certificates with fewer than "
	        "--warn-days days left, not expired.\n"
	        "# TYPE p11enroll_certificates_due gauge\n");
	for (size_t i = 0; i < ntok; i++) {
		add(&b, "p11enroll_certificates_due{token=");
		add_value(&b, tc[i].label);
		add(&b, ",serial=");
		add_value(&b, tc[i].serial);
		add(&b, "} %zu\n", tc[i].due);
	}
	add(&b,
	    "# HELP p11enroll_status_timestamp_seconds When these metrics were made.\n"
	    "# TYPE p11enroll_status_timestamp_seconds gauge\n"
	    "p11enroll_status_timestamp_seconds %lld\n",
	    (long long)time(NULL));
	if (ret == 0 && b.err) {
		fprintf(stderr, "p11enroll: out of memory\n");
		ret = P11E_ERR_FAILED;
	}
	/* a failed token leaves the last good file in place: no half a picture */
	if (ret == 0)
		ret = tool_write_output(out, (const unsigned char *)b.s, b.len);
	free(b.s);
	free(b2.s);
	free(tc);
	p11e_slot_list_free(slots, nslots);
	return ret;
}
