/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * datafile.c - the one loader of our own data files: token quirk files
 * (quirks.c) and request profiles (profile.c); request configs
 * (req-content.c) go through the same text check before NCONF reads them.
 * What a field means is their business; where the files are found, how
 * they are read and what is refused is decided here, once, so that every
 * kind follows the same rules (as p11-kit reads all its config through one
 * conf.c).
 *
 * The search path of a kind (its subdirectory SUB, e.g. "tokens"):
 *   1. the directories in its environment variable (':'-separated),
 *   2. the user's: $XDG_CONFIG_HOME/p11enroll/SUB, else ~/.config/p11enroll/SUB,
 *   3. the system's: SYSCONFDIR/p11enroll/SUB (the administrator's own files),
 *   4. the build's own: PKGDATADIR/SUB (the files p11enroll ships).
 * A file shadows a file of the same name in a later directory.
 *
 * A file is OpenSSL's config syntax read with NCONF, with NCONF's reach cut
 * back to what a data file needs: at most MAX_FILE_SIZE bytes of text, no
 * .include or .pragma (a quirk file must not open other files, and a file
 * read from memory, as the fuzz targets do, must not either), no '$'
 * outside comments (NCONF would expand $var and ${ENV::NAME}: a value must
 * mean what it says, not what the environment says), no section or field
 * the kind does not know, no field given twice.  Each refusal names the
 * file and, where there is one, the line.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "internal.h"

#ifndef P11E_SYSCONF_DIR
/* Makefile.am defines both from sysconfdir and pkgdatadir; these serve builds
 * that compile the sources directly. */
#define P11E_SYSCONF_DIR "/etc/p11enroll"
#endif
#ifndef P11E_DATA_DIR
#define P11E_DATA_DIR "/usr/share/p11enroll"
#endif

/* A quirk file or a profile is a few lines; anything much bigger is not one. */
#define MAX_FILE_SIZE (64 * 1024)
/* A request config may be a whole openssl.cnf with its CA sections. */
#define MAX_CONF_SIZE (1024 * 1024)

/* --- reading ------------------------------------------------------------- */

/* The next line of text from *pos: its start and length (without '\n'). */
static int next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	*line = text + *pos;
	nl = memchr(*line, '\n', len - *pos);
	*n = nl ? (size_t)(nl - *line) : len - *pos;
	*pos += *n + 1;
	return 1;
}

static int starts_with_word(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && strncasecmp(s, word, w) == 0;
}

/*
 * The directives and the '$' NCONF would act on.  Conservative: a '$' is
 * refused on every line but a comment line (whose '#' NCONF drops, or keeps
 * as quoted text when a continued quote runs into it: no expansion either
 * way), and a directive even where a continuation would make it a value.
 */
static p11e_status check_text(p11e_ctx *ctx, const char *what, const char *name, const char *text,
                              size_t len)
{
	size_t pos = 0, n;
	const char *line;
	long lineno = 0;

	while (next_line(text, len, &pos, &line, &n)) {
		lineno++;
		while (n > 0 && isspace((unsigned char)*line)) {
			line++;
			n--;
		}
		if (starts_with_word(line, n, ".include") || starts_with_word(line, n, ".pragma"))
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "%s %s:%ld: %s is not allowed: a %s stands alone", what,
			                  name, lineno,
			                  line[2] == 'n' || line[2] == 'N' ? ".include" : ".pragma",
			                  what);
		if (n > 0 && *line != '#' && memchr(line, '$', n))
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "%s %s:%ld: '$' is not allowed: variables are not "
			                  "expanded in a %s, write the value itself",
			                  what, name, lineno, what);
	}
	return P11E_OK;
}

/* --- line numbers --------------------------------------------------------- */

struct p11e__datafile_line {
	char *section;
	char *name; /* NULL: the section header */
	long line;
};

static int line_cmp(const void *a, const void *b)
{
	const struct p11e__datafile_line *x = a, *y = b;
	int c = strcmp(x->section, y->section);

	if (c)
		return c;
	if (!x->name || !y->name)
		c = !!x->name - !!y->name;
	else
		c = strcmp(x->name, y->name);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

static void lines_free(struct p11e__datafile *df)
{
	for (size_t i = 0; i < df->nlines; i++) {
		free(df->lines[i].section);
		free(df->lines[i].name);
	}
	free(df->lines);
	df->lines = NULL;
	df->nlines = 0;
}

/*
 * One pass over the text, by conf-line.c's rules: "[section]" starts a
 * section (its name trimmed), "name =" (the text before the first '=',
 * trimmed) is a field of the current one; lines before the first header
 * are in "default".  -1 when out of memory.
 */
static int lines_index(struct p11e__datafile *df)
{
	size_t pos = 0, n, cap = 0;
	const char *line;
	char *cur = strdup("default");
	long lineno = 0;

	if (!cur)
		return -1;
	while (next_line(df->text, df->len, &pos, &line, &n)) {
		struct p11e__datafile_line e = { NULL, NULL, ++lineno };
		const char *end;

		while (n && isspace((unsigned char)*line))
			line++, n--;
		if (n && *line == '[' && (end = memchr(line, ']', n))) {
			char *sect = trimmed(line + 1, (size_t)(end - line - 1));

			if (!sect)
				goto oom;
			free(cur);
			cur = sect;
		} else if (n && (end = memchr(line, '=', n))) {
			if (!(e.name = trimmed(line, (size_t)(end - line))))
				goto oom;
		} else {
			continue;
		}
		if (!(e.section = strdup(cur)))
			goto oom;
		if (df->nlines == cap) {
			struct p11e__datafile_line *grown =
				realloc(df->lines, (cap = cap * 2 + 64) * sizeof(*grown));

			if (!grown) {
				free(e.section);
				goto oom;
			}
			df->lines = grown;
		}
		df->lines[df->nlines++] = e;
		continue;
	oom:
		free(e.name);
		free(cur);
		return -1;
	}
	free(cur);
	if (df->nlines)
		qsort(df->lines, df->nlines, sizeof(*df->lines), line_cmp);
	return 0;
}

long p11e__datafile_line(const struct p11e__datafile *df, const char *section, const char *name,
                         long after)
{
	struct p11e__datafile_line key = { (char *)section, (char *)name, after + 1 };
	size_t lo = 0, hi = df->nlines;

	if (!df->lines)
		return p11e__conf_line_text(df->text, df->len, section, name, after);
	/* the first entry not below (section, name, after + 1) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (line_cmp(&df->lines[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < df->nlines && strcmp(df->lines[lo].section, section) == 0 &&
	    (name ? df->lines[lo].name && strcmp(df->lines[lo].name, name) == 0
	          : !df->lines[lo].name))
		return df->lines[lo].line;
	return 0;
}

static const struct p11e__datafile_section *find_section(const struct p11e__datafile_kind *kind,
                                                         const char *name)
{
	for (const struct p11e__datafile_section *s = kind->sections; s->name; s++) {
		size_t n = strlen(s->name);

		if (!s->named && strcmp(s->name, name) == 0)
			return s;
		/* "[token NAME]": one space, then a name of letters, digits, '.', '_', '-' */
		if (s->named && strncmp(s->name, name, n) == 0 && name[n] == ' ' && name[n + 1] &&
		    strspn(name + n + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                         "0123456789._-") == strlen(name + n + 1))
			return s;
	}
	return NULL;
}

static int known_field(const struct p11e__datafile_section *s, const char *name)
{
	for (const char *const *f = s->fields; *f; f++)
		if (strcmp(*f, name) == 0)
			return 1;
	return 0;
}

/* "[match] and [quirks]", for messages */
static void section_list(const struct p11e__datafile_kind *kind, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct p11e__datafile_section *s = kind->sections; s->name && used < len; s++)
		used += (size_t)snprintf(buf + used, len - used, "%s[%s%s]",
		                         s == kind->sections ? ""
		                         : s[1].name         ? ", "
		                                             : " and ",
		                         s->name, s->named ? " NAME" : "");
}

static const char *where(const struct p11e__datafile *df, const char *section, const char *field,
                         char *buf, size_t len)
{
	long line = p11e__datafile_line(df, section, field, 0);

	if (line > 0)
		snprintf(buf, len, "%s:%ld", df->name, line);
	else
		snprintf(buf, len, "%s", df->name);
	return buf;
}

/* Every section is one the kind knows, every field in it too, and none twice. */
static p11e_status check_fields(p11e_ctx *ctx, const struct p11e__datafile *df)
{
	const struct p11e__datafile_kind *kind = df->kind;
	STACK_OF(OPENSSL_CSTRING) *names = NCONF_get_section_names(df->conf);
	char at[4200], known[256];
	p11e_status st = P11E_OK;

	if (!names)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	section_list(kind, known, sizeof(known));
	for (int i = 0; st == P11E_OK && i < sk_OPENSSL_CSTRING_num(names); i++) {
		const char *sname = sk_OPENSSL_CSTRING_value(names, i);
		STACK_OF(CONF_VALUE) *sect = NCONF_get_section(df->conf, sname);
		const struct p11e__datafile_section *s = find_section(kind, sname);
		int n = sk_CONF_VALUE_num(sect);
		long first, again;

		/* NCONF files the values above the first [section] under "default" */
		if (!s && strcmp(sname, "default") == 0) {
			if (n > 0) {
				const char *field = sk_CONF_VALUE_value(sect, 0)->name;

				st = p11e__fail(ctx, P11E_ERR_INPUT,
				                "%s %s: field '%.40s' is outside %s", kind->what,
				                where(df, "default", field, at, sizeof(at)), field,
				                known);
			}
			continue;
		}
		if (!s) {
			st = p11e__fail(ctx, P11E_ERR_INPUT,
			                "%s %s: unknown section [%.40s]: a %s has %s", kind->what,
			                where(df, sname, NULL, at, sizeof(at)), sname, kind->what,
			                known);
			break;
		}
		for (int j = 0; st == P11E_OK && j < n; j++) {
			const char *field = sk_CONF_VALUE_value(sect, j)->name;

			if (!known_field(s, field)) {
				st = p11e__fail(ctx, P11E_ERR_INPUT,
				                "%s %s: unknown field '%.40s' in [%s]: "
				                "check its spelling",
				                kind->what, where(df, sname, field, at, sizeof(at)),
				                field, sname);
				break;
			}
			/* NCONF keeps the last of a repeated field: the text tells */
			first = p11e__datafile_line(df, sname, field, 0);
			again = first ? p11e__datafile_line(df, sname, field, first) : 0;
			if (again)
				st = p11e__fail(ctx, P11E_ERR_INPUT,
				                "%s %s:%ld: [%s] %s is given twice "
				                "(first on line %ld): keep one",
				                kind->what, df->name, again, sname, field, first);
		}
	}
	sk_OPENSSL_CSTRING_free(names);
	return st;
}

p11e_status p11e__datafile_parse(p11e_ctx *ctx, const struct p11e__datafile_kind *kind,
                                 const char *name, const unsigned char *buf, size_t len,
                                 struct p11e__datafile *df)
{
	BIO *bio = NULL;
	long errline = -1;
	p11e_status st;

	size_t max = kind->max_size ? kind->max_size : MAX_FILE_SIZE;

	memset(df, 0, sizeof(*df));
	df->kind = kind;
	if (len > max)
		return p11e__fail(ctx, P11E_ERR_INPUT, "%s %s is over %zu bytes: it is not a %s",
		                  kind->what, name, max, kind->what);
	if (memchr(buf, '\0', len))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s %s has a NUL byte: it is not a text file", kind->what, name);
	if ((st = check_text(ctx, kind->what, name, (const char *)buf, len)) != P11E_OK)
		return st;
	df->name = strdup(name);
	df->text = malloc(len + 1);
	/* no library context: NCONF parses text, and needs no provider for it */
	df->conf = NCONF_new(NULL);
	bio = BIO_new_mem_buf(buf, (int)len);
	if (!df->name || !df->text || !df->conf || !bio) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	memcpy(df->text, buf, len);
	df->text[len] = '\0';
	df->len = len;
	if (NCONF_load_bio(df->conf, bio, &errline) <= 0) {
		ERR_clear_error();
		st = p11e__fail(ctx, P11E_ERR_INPUT, "%s %s:%ld: cannot parse it", kind->what, name,
		                errline);
		goto done;
	}
	if (lines_index(df) != 0) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	st = check_fields(ctx, df);
done:
	BIO_free(bio);
	if (st != P11E_OK)
		p11e__datafile_free(df);
	return st;
}

/* The whole file, at most max bytes; one byte more is read to tell a file too big apart. */
static p11e_status read_all(p11e_ctx *ctx, const char *what, const char *path, size_t max,
                            unsigned char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;

	*out = NULL;
	*len = 0;
	if (!f)
		return p11e__fail(ctx, P11E_ERR_INPUT, "%s %s: %s", what, path, strerror(errno));
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	}
	*len = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return p11e__fail(ctx, P11E_ERR_INPUT, "%s %s: cannot read it", what, path);
	}
	fclose(f);
	*out = buf;
	return P11E_OK;
}

p11e_status p11e__datafile_read(p11e_ctx *ctx, const struct p11e__datafile_kind *kind,
                                const char *path, struct p11e__datafile *df)
{
	unsigned char *buf = NULL;
	size_t len;
	p11e_status st;

	memset(df, 0, sizeof(*df));
	st = read_all(ctx, kind->what, path, kind->max_size ? kind->max_size : MAX_FILE_SIZE, &buf,
	              &len);
	if (st == P11E_OK)
		st = p11e__datafile_parse(ctx, kind, path, buf, len, df);
	free(buf);
	return st;
}

p11e_status p11e__datafile_load_conf(p11e_ctx *ctx, const char *what, const char *path, CONF *conf)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	long errline = -1;
	BIO *bio = NULL;
	p11e_status st;

	st = read_all(ctx, what, path, MAX_CONF_SIZE, &buf, &len);
	if (st == P11E_OK && len > MAX_CONF_SIZE)
		st = p11e__fail(ctx, P11E_ERR_INPUT, "%s %s is over %d bytes: it is not a %s", what,
		                path, MAX_CONF_SIZE, what);
	if (st == P11E_OK && memchr(buf, '\0', len))
		st = p11e__fail(ctx, P11E_ERR_INPUT, "%s %s has a NUL byte: it is not a text file",
		                what, path);
	if (st == P11E_OK)
		st = check_text(ctx, what, path, (const char *)buf, len);
	if (st == P11E_OK && !(bio = BIO_new_mem_buf(buf, (int)len)))
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	if (st == P11E_OK && NCONF_load_bio(conf, bio, &errline) <= 0) {
		const char *why = ERR_reason_error_string(ERR_peek_last_error());

		ERR_clear_error();
		st = p11e__fail(ctx, P11E_ERR_INPUT, "%s %s:%ld: %s: fix the file", what, path,
		                errline, why ? why : "syntax error");
	}
	BIO_free(bio);
	free(buf);
	return st;
}

void p11e__datafile_free(struct p11e__datafile *df)
{
	lines_free(df);
	NCONF_free(df->conf);
	free(df->name);
	free(df->text);
	df->conf = NULL;
	df->name = df->text = NULL;
	df->len = 0;
}

const char *p11e__datafile_get(const struct p11e__datafile *df, const char *section,
                               const char *field)
{
	const char *v;

	/* NCONF_get_string queues an error for every absent value */
	ERR_set_mark();
	v = NCONF_get_string(df->conf, section, field);
	ERR_pop_to_mark();
	return v;
}

p11e_status p11e__datafile_invalid(p11e_ctx *ctx, const struct p11e__datafile *df,
                                   const char *section, const char *field, const char *fmt, ...)
{
	char at[4200], why[256];
	const char *v = p11e__datafile_get(df, section, field);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return p11e__fail(ctx, P11E_ERR_INPUT, "%s %s: [%s] %s = %.40s: %s", df->kind->what,
	                  where(df, section, field, at, sizeof(at)), section, field, v ? v : "",
	                  why);
}

p11e_status p11e__datafile_bool(p11e_ctx *ctx, const struct p11e__datafile *df, const char *section,
                                const char *field, int *out)
{
	static const char *const yes[] = { "yes", "true", "1", NULL };
	static const char *const no[] = { "no", "false", "0", NULL };
	const char *v = p11e__datafile_get(df, section, field);

	if (!v)
		return P11E_OK;
	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*out = strcasecmp(v, yes[i]) == 0;
			return P11E_OK;
		}
	}
	/* a mistyped boolean never switches a check off, or a quirk on, quietly */
	return p11e__datafile_invalid(ctx, df, section, field,
	                              "use yes or no (a boolean: yes/no, true/false, 1/0)");
}

p11e_status p11e__datafile_number(p11e_ctx *ctx, const struct p11e__datafile *df,
                                  const char *section, const char *field, unsigned min,
                                  unsigned max, const char *unit, unsigned *out)
{
	const char *v = p11e__datafile_get(df, section, field);
	unsigned long n = 0;
	size_t i;

	if (!v)
		return P11E_OK;
	/* digits only: no sign, no base prefix, no unit; stop before it can wrap */
	for (i = 0; isdigit((unsigned char)v[i]) && n <= max; i++)
		n = n * 10 + (unsigned long)(v[i] - '0');
	if (i == 0 || v[i] || n < min || n > max)
		return p11e__datafile_invalid(ctx, df, section, field,
		                              "give a number of %s, %u to %u", unit, min, max);
	*out = (unsigned)n;
	return P11E_OK;
}

/* --- the search path ----------------------------------------------------- */

char *p11e__datafile_path(const struct p11e__datafile_kind *kind)
{
	const char *env = getenv(kind->env);
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char user[4096] = "";
	char *path;
	size_t len;

	/* XDG Base Directory: a relative $XDG_CONFIG_HOME is to be ignored */
	if (xdg && xdg[0] == '/')
		snprintf(user, sizeof(user), "%s/p11enroll/%s", xdg, kind->subdir);
	else if (home && home[0] == '/')
		snprintf(user, sizeof(user), "%s/.config/p11enroll/%s", home, kind->subdir);
	len = (env ? strlen(env) : 0) + strlen(user) + strlen(P11E_SYSCONF_DIR) +
	      strlen(P11E_DATA_DIR) + 2 * strlen(kind->subdir) + 8;
	path = malloc(len);
	if (path)
		snprintf(path, len, "%s%s%s%s%s/%s:%s/%s", env && *env ? env : "",
		         env && *env ? ":" : "", user, *user ? ":" : "", P11E_SYSCONF_DIR,
		         kind->subdir, P11E_DATA_DIR, kind->subdir);
	return path;
}

p11e_status p11e__datafile_find(p11e_ctx *ctx, const struct p11e__datafile_kind *kind,
                                const char *name, char **out)
{
	char *dirs = p11e__datafile_path(kind), *save = NULL, *dir;
	struct stat sb;

	*out = NULL;
	if (!dirs)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		size_t len = strlen(dir) + strlen(name) + 7;

		if (!(*out = malloc(len))) {
			free(dirs);
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		}
		snprintf(*out, len, "%s/%s.conf", dir, name);
		/* there but unreadable is an error when read, never a skip to the next */
		if (stat(*out, &sb) == 0)
			break;
		free(*out);
		*out = NULL;
	}
	free(dirs);
	return P11E_OK;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_conf(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Append s to the list; -1 out of memory. */
static int push(char ***list, size_t *n, char *s)
{
	char **grown;

	if (!s)
		return -1;
	grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return -1;
	}
	*list = grown;
	(*list)[(*n)++] = s;
	return 0;
}

/* The *.conf names in dir, sorted; a missing directory has none. */
static p11e_status list_dir(p11e_ctx *ctx, const struct p11e__datafile_kind *kind, const char *dir,
                            char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*names = NULL;
	*n = 0;
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return P11E_OK;
		return p11e__fail(ctx, P11E_ERR_INPUT, "%s directory %s: %s", kind->what, dir,
		                  strerror(errno));
	}
	while ((e = readdir(d))) {
		if (is_conf(e->d_name) && push(names, n, strdup(e->d_name)) != 0) {
			closedir(d);
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		}
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	return P11E_OK;
}

static int seen(char **paths, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(base_name(paths[i]), name) == 0)
			return 1;
	return 0;
}

p11e_status p11e__datafile_list(p11e_ctx *ctx, const struct p11e__datafile_kind *kind,
                                char ***paths, size_t *npaths)
{
	char *dirs = p11e__datafile_path(kind), *save = NULL, *dir;
	p11e_status st = P11E_OK;

	*paths = NULL;
	*npaths = 0;
	if (!dirs)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	for (dir = strtok_r(dirs, ":", &save); st == P11E_OK && dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char **names = NULL;
		size_t n = 0;

		st = list_dir(ctx, kind, dir, &names, &n);
		for (size_t i = 0; st == P11E_OK && i < n; i++) {
			size_t len = strlen(dir) + strlen(names[i]) + 2;
			char *path;

			if (seen(*paths, *npaths, names[i]))
				continue; /* shadowed by an earlier directory */
			path = malloc(len);
			if (path)
				snprintf(path, len, "%s/%s", dir, names[i]);
			if (push(paths, npaths, path) != 0)
				st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		}
		p11e__datafile_list_free(names, n);
	}
	free(dirs);
	if (st != P11E_OK) {
		p11e__datafile_list_free(*paths, *npaths);
		*paths = NULL;
		*npaths = 0;
	}
	return st;
}

void p11e__datafile_list_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
