/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * text.c - what came from a token, a certificate or a module, made safe to
 * print: labels, subjects and descriptions are whatever bytes their author
 * chose, and a label "ev\033]0;PWNED\007" would retitle the terminal that
 * lists it.  Text output escapes control characters and bytes that are not
 * UTF-8 as \xNN; JSON output keeps every string valid UTF-8 and loses no byte.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

/*
 * The length of the valid UTF-8 sequence at s (1 to 4), or 0 if s does not
 * start one (a stray continuation byte, an overlong form, a surrogate,
 * beyond U+10FFFF, cut short).  *cp is the code point.
 */
static size_t utf8_seq(const unsigned char *s, unsigned *cp)
{
	size_t len;
	unsigned c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/*
 * s with \xNN for every byte that is not valid UTF-8, and with controls
 * also escaped (C0, DEL, C1) if controls; malloc'd, or NULL.
 */
static char *escape(const char *s, size_t n, int controls)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(4 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned cp;
		size_t len = utf8_seq(p + i, &cp);
		int esc = len == 0 || (controls && (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)));

		if (len == 0)
			len = 1;
		if (i + len > n) /* a sequence cut by the end: its bytes one by one */
			len = 1, esc = 1;
		for (size_t j = 0; j < len; j++, i++) {
			if (esc)
				o += sprintf(o, "\\x%02x", p[i]);
			else
				*o++ = (char)p[i];
		}
	}
	*o = '\0';
	return out;
}

int tool_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned cp;

	while (*p) {
		size_t len = utf8_seq(p, &cp);

		if (!len)
			return 0;
		p += len;
	}
	return 1;
}

/*
 * A few escaped strings live at a time: enough for the arguments of one
 * printf.  The tool is single-threaded.
 */
#define RING 8
static char *ring[RING];
static unsigned next;

const char *tool_esc(const char *s)
{
	char *e;

	if (!s)
		return "";
	/* printable ASCII (most labels, every URI) needs no copy */
	for (e = (char *)s; *e >= 0x20 && *e < 0x7f; e++)
		;
	if (!*e)
		return s;
	e = escape(s, strlen(s), 1);
	if (!e)
		return "(out of memory)";
	free(ring[next]);
	ring[next] = e;
	next = (next + 1) % RING;
	return e;
}

void tool_text_free(void)
{
	for (unsigned i = 0; i < RING; i++) {
		free(ring[i]);
		ring[i] = NULL;
	}
}

json_t *tool_json_text(const char *s)
{
	char *e;
	json_t *j;

	if (!s)
		return json_null();
	if (tool_utf8_valid(s))
		return json_string(s);
	e = escape(s, strlen(s), 0);
	if (!e)
		return NULL;
	j = json_string(e);
	free(e);
	return j;
}

int tool_json_set_text(json_t *o, const char *key, const char *s)
{
	char hexkey[64], *hex;
	size_t n;
	int err;

	err = json_object_set_new(o, key, tool_json_text(s));
	if (err || !s || tool_utf8_valid(s))
		return err ? -1 : 0;
	/* the exact bytes too, for whoever must match them */
	n = strlen(s);
	hex = malloc(2 * n + 1);
	if (!hex)
		return -1;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)s[i]);
	snprintf(hexkey, sizeof(hexkey), "%s_hex", key);
	err = json_object_set_new(o, hexkey, json_string(hex));
	free(hex);
	return err ? -1 : 0;
}
