/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * conf-line.c - where in a config file a value was written, for messages.
 *
 * NCONF reads the file and keeps no line numbers past its own syntax
 * errors, yet "file:line:" is what lets a user go straight to the mistake.
 * This reads the file once more only to find the line of "name =" inside
 * "[section]"; what the value means is still NCONF's business, and a line
 * not found here (an .include, a name made by a variable) only drops the
 * number from the message.  Our own data files (datafile.c) are held in
 * memory already: p11e__conf_line_text looks in that text instead.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* s without leading and trailing blanks, in place */
static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * One line of the file (NUL-terminated, in place): 1 if it is "name =" in
 * [section] (name NULL: the "[section]" line itself); cur is the section
 * the lines are in, updated at each header.
 */
static int line_is(char *buf, char *cur, size_t curlen, const char *section, const char *name)
{
	char *s = trim(buf), *e;
	size_t nlen;

	if (*s == '[') {
		if ((e = strchr(s, ']'))) {
			*e = '\0';
			snprintf(cur, curlen, "%s", trim(s + 1));
		}
		return !name && e && strcmp(cur, section) == 0;
	}
	nlen = name ? strlen(name) : 0;
	if (!name || strcmp(cur, section) != 0 || strncmp(s, name, nlen) != 0)
		return 0;
	s += nlen;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '=';
}

long p11e__conf_line(const char *file, const char *section, const char *name)
{
	char buf[4096], cur[256] = "default";
	long line = 0, found = 0;
	FILE *f;

	if (!file || !section || !name || !(f = fopen(file, "r")))
		return 0;
	while (!found && fgets(buf, sizeof(buf), f)) {
		line++;
		if (line_is(buf, cur, sizeof(cur), section, name))
			found = line;
	}
	fclose(f);
	return found;
}

long p11e__conf_line_text(const char *text, size_t len, const char *section, const char *name,
                          long after)
{
	char buf[4096], cur[256] = "default";
	size_t pos = 0, n;
	long line = 0;

	if (!text || !section)
		return 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		/* a line longer than the buffer is cut, as fgets would split it */
		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1),
		         text + pos);
		pos += n + 1;
		line++;
		if (line_is(buf, cur, sizeof(cur), section, name) && line > after)
			return line;
	}
	return 0;
}

const char *p11e__conf_where(char *buf, size_t len, const char *file, const char *section,
                             const char *name)
{
	long line = p11e__conf_line(file, section, name);

	if (line > 0)
		snprintf(buf, len, "%s:%ld", file, line);
	else
		snprintf(buf, len, "%s", file);
	return buf;
}
