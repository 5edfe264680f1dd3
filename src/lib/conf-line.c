/*
 * conf-line.c - where in a config file a value was written, for messages.
 *
 * NCONF reads the file and keeps no line numbers past its own syntax
 * errors, yet "file:line:" is what lets a user go straight to the mistake.
 * This reads the file once more only to find the line of "name =" inside
 * "[section]"; what the value means is still NCONF's business, and a line
 * not found here (an .include, a name made by a variable) only drops the
 * number from the message.
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

long p11e__conf_line(const char *file, const char *section, const char *name)
{
	char buf[4096], cur[256] = "default", *s, *e;
	size_t nlen = strlen(name);
	long line = 0, found = 0;
	FILE *f;

	if (!file || !section || !name || !(f = fopen(file, "r")))
		return 0;
	while (!found && fgets(buf, sizeof(buf), f)) {
		line++;
		s = trim(buf);
		if (*s == '[') {
			if ((e = strchr(s, ']'))) {
				*e = '\0';
				snprintf(cur, sizeof(cur), "%s", trim(s + 1));
			}
			continue;
		}
		if (strcmp(cur, section) != 0 || strncmp(s, name, nlen) != 0)
			continue;
		s += nlen;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '=')
			found = line;
	}
	fclose(f);
	return found;
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
