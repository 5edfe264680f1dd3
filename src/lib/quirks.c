/*
 * quirks.c - what a token needs beyond the standard, kept as data (DESIGN
 * decision 3): OpenSSL-style config files, tokens/NAME.conf, each with a
 * [match] on the token's manufacturerID and model (fnmatch patterns) and the
 * [quirks] that token needs.  keygen and import ask the selected token's
 * quirks; no code names a token.
 *
 * The files are searched like profiles: $P11ENROLL_TOKENS_PATH (':'-
 * separated), then the system's and ours (P11E_TOKENS_DIR).  Within a
 * directory files are tried in name order (strcmp); a file shadows one of the
 * same name in a later directory; the first file whose [match] fits wins.
 * Every file on the path is read and checked the first time quirks are
 * needed: a malformed one is an error (P11E_ERR_INPUT) naming it, whichever
 * token it was written for, so a typo never silently drops a quirk.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#ifndef P11E_TOKENS_DIR
/* Makefile.am defines it from sysconfdir and pkgdatadir; this serves builds
 * that compile the sources directly (the fuzz harness). */
#define P11E_TOKENS_DIR "/etc/p11enroll/tokens:/usr/share/p11enroll/tokens"
#endif

/* A quirk file is a few lines; anything much bigger is not one. */
#define MAX_FILE_SIZE (64 * 1024)
#define MIN_BITS 1024
#define MAX_BITS 16384

static const char *const match_fields[] = { "manufacturer", "model", NULL };
static const char *const quirk_fields[] = {
	"omit_extractable", "certificate_private", "set_id_after_generation",
	"max_rsa_bits",     "min_rsa_bits",        NULL,
};

static const struct p11e__quirks defaults = {
	.set_id_after_generation = 1,
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int known(const char *const *fields, const char *name)
{
	for (const char *const *f = fields; *f; f++)
		if (strcmp(*f, name) == 0)
			return 1;
	return 0;
}

/*
 * NCONF follows ".include" directives; a quirk file stands alone, and one
 * read from memory (the fuzz target) must not open files.  Conservative: a
 * line whose first word is .include is refused even inside a continued value.
 */
static int has_include(const unsigned char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && buf[i] != '\n' && isspace(buf[i]))
			i++;
		if (len - i >= 8 && memcmp(buf + i, ".include", 8) == 0)
			return 1;
		while (i < len && buf[i] != '\n')
			i++;
		i++;
	}
	return 0;
}

static p11e_status parse_bool(p11e_ctx *ctx, const char *name, const char *field,
                              const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "1", NULL };
	static const char *const no[] = { "no", "false", "0", NULL };

	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*out = strcasecmp(v, yes[i]) == 0;
			return P11E_OK;
		}
	}
	return p11e__fail(ctx, P11E_ERR_INPUT,
	                  "token quirk file %s: [quirks] %s = '%.40s' is not a boolean: give yes "
	                  "or no (true/false, 1/0)",
	                  name, field, v);
}

static p11e_status parse_bits(p11e_ctx *ctx, const char *name, const char *field,
                              const char *v, unsigned *out)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; v[i] && i < 6; i++) {
		if (!isdigit((unsigned char)v[i]))
			break;
		n = n * 10 + (unsigned long)(v[i] - '0');
	}
	if (i == 0 || v[i] || n < MIN_BITS || n > MAX_BITS)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "token quirk file %s: [quirks] %s = '%.40s' is not a number of "
		                  "bits from %d to %d",
		                  name, field, v, MIN_BITS, MAX_BITS);
	*out = (unsigned)n;
	return P11E_OK;
}

static p11e_status parse_pattern(p11e_ctx *ctx, const char *name, const char *field,
                                 const char *v, char *out, size_t outlen)
{
	if (!*v || strlen(v) >= outlen)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "token quirk file %s: [match] %s must be a pattern of 1 to %zu "
		                  "bytes",
		                  name, field, outlen - 1);
	memcpy(out, v, strlen(v) + 1);
	return P11E_OK;
}

/* Every section is one we know, and every field in it too. */
static p11e_status check_fields(p11e_ctx *ctx, const char *name, const CONF *conf)
{
	STACK_OF(OPENSSL_CSTRING) *names = NCONF_get_section_names(conf);
	p11e_status st = P11E_OK;

	if (!names)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	for (int i = 0; st == P11E_OK && i < sk_OPENSSL_CSTRING_num(names); i++) {
		const char *sname = sk_OPENSSL_CSTRING_value(names, i);
		STACK_OF(CONF_VALUE) *sect = NCONF_get_section(conf, sname);
		const char *const *fields = strcmp(sname, "match") == 0    ? match_fields
		                            : strcmp(sname, "quirks") == 0 ? quirk_fields
		                                                           : NULL;

		/* NCONF files values above the first [section] under "default" */
		if (!fields && strcmp(sname, "default") == 0) {
			if (sk_CONF_VALUE_num(sect) > 0)
				st = p11e__fail(ctx, P11E_ERR_INPUT,
				                "token quirk file %s: field '%.40s' is outside [match] "
				                "and [quirks]",
				                name, sk_CONF_VALUE_value(sect, 0)->name);
			continue;
		}
		if (!fields) {
			st = p11e__fail(ctx, P11E_ERR_INPUT,
			                "token quirk file %s: unknown section [%.40s]: a quirk file "
			                "has [match] and [quirks]",
			                name, sname);
			break;
		}
		for (int j = 0; j < sk_CONF_VALUE_num(sect); j++) {
			const char *field = sk_CONF_VALUE_value(sect, j)->name;

			if (!known(fields, field)) {
				st = p11e__fail(ctx, P11E_ERR_INPUT,
				                "token quirk file %s: unknown field '%.40s' in [%s]: "
				                "check its spelling",
				                name, field, sname);
				break;
			}
		}
	}
	sk_OPENSSL_CSTRING_free(names);
	return st;
}

static p11e_status read_conf(p11e_ctx *ctx, const char *name, const CONF *conf,
                             struct p11e__quirks *q)
{
	const char *v;
	int given = 0;
	p11e_status st = P11E_OK;

	if ((st = check_fields(ctx, name, conf)) != P11E_OK)
		return st;
	/* NCONF_get_string queues an error for every absent value */
	ERR_set_mark();
	/* a field left out matches anything, but not both: that would be every token */
	strcpy(q->manufacturer, "*");
	strcpy(q->model, "*");
	if ((v = NCONF_get_string(conf, "match", "manufacturer"))) {
		st = parse_pattern(ctx, name, "manufacturer", v, q->manufacturer,
		                   sizeof(q->manufacturer));
		given++;
	}
	if (st == P11E_OK && (v = NCONF_get_string(conf, "match", "model"))) {
		st = parse_pattern(ctx, name, "model", v, q->model, sizeof(q->model));
		given++;
	}
	if (st == P11E_OK && !given)
		st = p11e__fail(ctx, P11E_ERR_INPUT,
		                "token quirk file %s: [match] needs a manufacturer or a model "
		                "pattern",
		                name);
#define BOOL(field)                                                              \
	if (st == P11E_OK && (v = NCONF_get_string(conf, "quirks", #field)))     \
		st = parse_bool(ctx, name, #field, v, &q->field);
#define BITS(field)                                                              \
	if (st == P11E_OK && (v = NCONF_get_string(conf, "quirks", #field)))     \
		st = parse_bits(ctx, name, #field, v, &q->field);
	BOOL(omit_extractable)
	BOOL(certificate_private)
	BOOL(set_id_after_generation)
	BITS(max_rsa_bits)
	BITS(min_rsa_bits)
#undef BOOL
#undef BITS
	ERR_pop_to_mark();
	if (st == P11E_OK && q->min_rsa_bits && q->max_rsa_bits && q->min_rsa_bits > q->max_rsa_bits)
		st = p11e__fail(ctx, P11E_ERR_INPUT,
		                "token quirk file %s: [quirks] min_rsa_bits %u is above max_rsa_bits "
		                "%u",
		                name, q->min_rsa_bits, q->max_rsa_bits);
	return st;
}

p11e_status p11e__quirks_parse_mem(p11e_ctx *ctx, const char *name, const unsigned char *buf,
                                   size_t len, struct p11e__quirks *out)
{
	CONF *conf = NULL;
	BIO *bio = NULL;
	long errline = -1;
	p11e_status st;

	*out = defaults;
	snprintf(out->file, sizeof(out->file), "%s", base_name(name));
	if (len > MAX_FILE_SIZE)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "token quirk file %s is over %d bytes: it is not a quirk file", name,
		                  MAX_FILE_SIZE);
	if (memchr(buf, '\0', len))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "token quirk file %s has a NUL byte: it is not a text file", name);
	if (has_include(buf, len))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "token quirk file %s: .include is not allowed in quirk files", name);
	conf = NCONF_new_ex(p11e__libctx(ctx), NULL);
	bio = BIO_new_mem_buf(buf, (int)len);
	if (!conf || !bio) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	if (NCONF_load_bio(conf, bio, &errline) <= 0) {
		ERR_clear_error();
		st = p11e__fail(ctx, P11E_ERR_INPUT, "token quirk file %s:%ld: cannot parse it", name,
		                errline);
		goto done;
	}
	st = read_conf(ctx, name, conf, out);
done:
	BIO_free(bio);
	NCONF_free(conf);
	return st;
}

p11e_status p11e__quirks_parse_file(p11e_ctx *ctx, const char *path, struct p11e__quirks *out)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0;
	p11e_status st;

	*out = defaults;
	if (!f)
		return p11e__fail(ctx, P11E_ERR_INPUT, "token quirk file %s: %s", path,
		                  strerror(errno));
	/* one byte more than allowed, so that a file too big is told apart */
	buf = malloc(MAX_FILE_SIZE + 1);
	if (!buf) {
		fclose(f);
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	}
	len = fread(buf, 1, MAX_FILE_SIZE + 1, f);
	if (ferror(f))
		st = p11e__fail(ctx, P11E_ERR_INPUT, "token quirk file %s: cannot read it", path);
	else
		st = p11e__quirks_parse_mem(ctx, path, buf, len, out);
	fclose(f);
	free(buf);
	return st;
}

/* The value with blanks trimmed both sides (tokens pad theirs with blanks). */
static void trimmed(char *out, size_t outlen, const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	snprintf(out, outlen, "%s", s);
	n = strlen(out);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
}

int p11e__quirks_match(const struct p11e__quirks *q, const char *manufacturer,
                       const char *model)
{
	char m[64], mo[64];

	trimmed(m, sizeof(m), manufacturer);
	trimmed(mo, sizeof(mo), model);
	return fnmatch(q->manufacturer, m, 0) == 0 && fnmatch(q->model, mo, 0) == 0;
}

/* --- the search path ----------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_conf(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

/* The *.conf names in dir, sorted; a missing directory has none. */
static p11e_status list_dir(p11e_ctx *ctx, const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **grown;

	*names = NULL;
	*n = 0;
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return P11E_OK;
		return p11e__fail(ctx, P11E_ERR_INPUT, "token quirk directory %s: %s", dir,
		                  strerror(errno));
	}
	while ((e = readdir(d))) {
		if (!is_conf(e->d_name))
			continue;
		grown = realloc(*names, (*n + 1) * sizeof(*grown));
		if (!grown || !(grown[*n] = strdup(e->d_name))) {
			*names = grown ? grown : *names;
			closedir(d);
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		}
		*names = grown;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	return P11E_OK;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int seen(const struct p11e__quirks *files, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(files[i].file, name) == 0)
			return 1;
	return 0;
}

/* Read and check every quirk file on the path, once per context. */
static p11e_status load_all(p11e_ctx *ctx)
{
	const char *env = getenv("P11ENROLL_TOKENS_PATH");
	char dirs[4096], path[4096], *save = NULL, *dir;
	struct p11e__quirks *files = NULL, *grown;
	size_t nfiles = 0;
	p11e_status st = P11E_OK;

	if (ctx->quirk_files_loaded)
		return P11E_OK;
	snprintf(dirs, sizeof(dirs), "%s:%s", env ? env : "", P11E_TOKENS_DIR);
	for (dir = strtok_r(dirs, ":", &save); st == P11E_OK && dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char **names = NULL;
		size_t n = 0;

		st = list_dir(ctx, dir, &names, &n);
		for (size_t i = 0; st == P11E_OK && i < n; i++) {
			if (seen(files, nfiles, names[i]))
				continue; /* shadowed by an earlier directory */
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
				st = p11e__fail(ctx, P11E_ERR_INPUT, "token quirk file %s/%s: path too long",
				                dir, names[i]);
				break;
			}
			grown = realloc(files, (nfiles + 1) * sizeof(*files));
			if (!grown) {
				st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
				break;
			}
			files = grown;
			st = p11e__quirks_parse_file(ctx, path, &files[nfiles]);
			if (st == P11E_OK) {
				p11e__log(ctx, P11E_LOG_DEBUG, "token quirk file %s read", path);
				nfiles++;
			}
		}
		free_names(names, n);
	}
	if (st != P11E_OK) {
		free(files);
		return st;
	}
	ctx->quirk_files = files;
	ctx->nquirk_files = nfiles;
	ctx->quirk_files_loaded = 1;
	return P11E_OK;
}

p11e_status p11e__quirks_find(p11e_ctx *ctx, const p11e_slot *slot,
                              const struct p11e__quirks **out)
{
	p11e_status st;

	*out = NULL;
	if ((st = load_all(ctx)) != P11E_OK)
		return st;
	if (!slot->token_present)
		return P11E_OK;
	for (size_t i = 0; i < ctx->nquirk_files; i++) {
		if (p11e__quirks_match(&ctx->quirk_files[i], slot->manufacturer, slot->model)) {
			*out = &ctx->quirk_files[i];
			break;
		}
	}
	return P11E_OK;
}

p11e_status p11e__quirks_select(p11e_ctx *ctx)
{
	const struct p11e__quirks *q = NULL;
	p11e_status st;

	ctx->have_quirks = 0;
	ctx->quirks = defaults;
	st = p11e__quirks_find(ctx, &ctx->slot, &q);
	if (st != P11E_OK || !q)
		return st;
	ctx->quirks = *q;
	ctx->have_quirks = 1;
	p11e__log(ctx, P11E_LOG_INFO, "token '%s' (%s, %s): quirks from %s", ctx->slot.label,
	          ctx->slot.manufacturer, ctx->slot.model, q->file);
	return P11E_OK;
}

const struct p11e__quirks *p11e__quirks_get(const p11e_ctx *ctx)
{
	return ctx->have_quirks ? &ctx->quirks : &defaults;
}

int p11e__quirk_cert_private(const p11e_ctx *ctx)
{
	return p11e__quirks_get(ctx)->certificate_private;
}

void p11e__quirks_free(p11e_ctx *ctx)
{
	free(ctx->quirk_files);
	ctx->quirk_files = NULL;
	ctx->nquirk_files = 0;
	ctx->quirk_files_loaded = 0;
	ctx->have_quirks = 0;
}

p11e_status p11e_token_quirks(p11e_ctx *ctx, const p11e_slot *slot, const char **file)
{
	const struct p11e__quirks *q = NULL;
	p11e_status st;

	p11e__clear_error(ctx);
	*file = NULL;
	st = p11e__quirks_find(ctx, slot, &q);
	if (st == P11E_OK && q)
		*file = q->file;
	return st;
}
