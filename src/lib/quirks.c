/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * quirks.c - what a token needs beyond the standard, kept as data (DESIGN
 * decision 3): OpenSSL-style config files, tokens/NAME.conf, each with a
 * [match] on the token's manufacturerID and model (fnmatch patterns) and the
 * [quirks] that token needs.  keygen and import ask the selected token's
 * quirks; no code names a token.
 *
 * The files are found and read by the data-file loader (datafile.c: the
 * search path, the size cap, what NCONF may not do, unknown fields refused,
 * the boolean and number syntax); this file says what the fields mean.
 * Files are tried in search-path order; the first file whose [match] fits
 * wins.  Every file on the path is read and checked the first time quirks
 * are needed: a malformed one is an error (P11E_ERR_INPUT) naming it,
 * whichever token it was written for, so a typo never silently drops a quirk.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MIN_BITS 1024
#define MAX_BITS 16384

static const char *const match_fields[] = { "manufacturer", "model", "library", NULL };
static const char *const quirk_fields[] = {
	"omit_extractable",
	"certificate_private",
	"set_id_after_generation",
	"max_rsa_bits",
	"min_rsa_bits",
	"key_may_decrypt",
	"omit_certificate_category",
	"hint_general_error",
	"hint_lockout",
	NULL,
};
static const struct p11e__datafile_section sections[] = {
	{ "match", match_fields, 0 },
	{ "quirks", quirk_fields, 0 },
	{ NULL, NULL, 0 },
};
static const struct p11e__datafile_kind kind = {
	.what = "token quirk file",
	.env = "P11ENROLL_TOKENS_PATH",
	.subdir = "tokens",
	.sections = sections,
};

static const struct p11e__quirks defaults = {
	.set_id_after_generation = 1,
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static p11e_status parse_pattern(p11e_ctx *ctx, const struct p11e__datafile *df, const char *field,
                                 char *out, size_t outlen)
{
	const char *v = p11e__datafile_get(df, "match", field);

	if (!v)
		return P11E_OK;
	if (!*v || strlen(v) >= outlen)
		return p11e__datafile_invalid(ctx, df, "match", field,
		                              "give a pattern of 1 to %zu bytes", outlen - 1);
	memcpy(out, v, strlen(v) + 1);
	return P11E_OK;
}

/* A one-line text of at most outlen - 1 bytes, or nothing. */
static p11e_status parse_text(p11e_ctx *ctx, const struct p11e__datafile *df, const char *field,
                              char *out, size_t outlen)
{
	const char *v = p11e__datafile_get(df, "quirks", field);

	if (!v)
		return P11E_OK;
	if (!*v || strlen(v) >= outlen || strpbrk(v, "\n\r"))
		return p11e__datafile_invalid(ctx, df, "quirks", field,
		                              "give one line of 1 to %zu bytes", outlen - 1);
	memcpy(out, v, strlen(v) + 1);
	return P11E_OK;
}

static p11e_status read_quirks(p11e_ctx *ctx, const struct p11e__datafile *df,
                               struct p11e__quirks *q)
{
	p11e_status st;

	/* a field left out matches anything, but not both: that would be every token */
	strcpy(q->manufacturer, "*");
	strcpy(q->model, "*");
	strcpy(q->library, "*");
	if (!p11e__datafile_get(df, "match", "manufacturer") &&
	    !p11e__datafile_get(df, "match", "model") &&
	    !p11e__datafile_get(df, "match", "library"))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "token quirk file %s: [match] needs a manufacturer, a model or a "
		                  "library pattern",
		                  df->name);
	if ((st = parse_pattern(ctx, df, "manufacturer", q->manufacturer,
	                        sizeof(q->manufacturer))) != P11E_OK ||
	    (st = parse_pattern(ctx, df, "model", q->model, sizeof(q->model))) != P11E_OK ||
	    (st = parse_pattern(ctx, df, "library", q->library, sizeof(q->library))) != P11E_OK ||
	    (st = p11e__datafile_bool(ctx, df, "quirks", "key_may_decrypt", &q->key_may_decrypt)) !=
	            P11E_OK ||
	    (st = p11e__datafile_bool(ctx, df, "quirks", "omit_certificate_category",
	                              &q->omit_certificate_category)) != P11E_OK ||
	    (st = parse_text(ctx, df, "hint_general_error", q->hint_general_error,
	                     sizeof(q->hint_general_error))) != P11E_OK ||
	    (st = parse_text(ctx, df, "hint_lockout", q->hint_lockout, sizeof(q->hint_lockout))) !=
	            P11E_OK ||
	    (st = p11e__datafile_bool(ctx, df, "quirks", "omit_extractable",
	                              &q->omit_extractable)) != P11E_OK ||
	    (st = p11e__datafile_bool(ctx, df, "quirks", "certificate_private",
	                              &q->certificate_private)) != P11E_OK ||
	    (st = p11e__datafile_bool(ctx, df, "quirks", "set_id_after_generation",
	                              &q->set_id_after_generation)) != P11E_OK ||
	    (st = p11e__datafile_number(ctx, df, "quirks", "max_rsa_bits", MIN_BITS, MAX_BITS,
	                                "bits", &q->max_rsa_bits)) != P11E_OK ||
	    (st = p11e__datafile_number(ctx, df, "quirks", "min_rsa_bits", MIN_BITS, MAX_BITS,
	                                "bits", &q->min_rsa_bits)) != P11E_OK)
		return st;
	if (q->min_rsa_bits && q->max_rsa_bits && q->min_rsa_bits > q->max_rsa_bits)
		return p11e__datafile_invalid(ctx, df, "quirks", "min_rsa_bits",
		                              "it is above max_rsa_bits %u", q->max_rsa_bits);
	return P11E_OK;
}

p11e_status p11e__quirks_parse_mem(p11e_ctx *ctx, const char *name, const unsigned char *buf,
                                   size_t len, struct p11e__quirks *out)
{
	struct p11e__datafile df;
	p11e_status st;

	*out = defaults;
	snprintf(out->file, sizeof(out->file), "%s", base_name(name));
	st = p11e__datafile_parse(ctx, &kind, name, buf, len, &df);
	if (st != P11E_OK)
		return st;
	st = read_quirks(ctx, &df, out);
	p11e__datafile_free(&df);
	return st;
}

p11e_status p11e__quirks_parse_file(p11e_ctx *ctx, const char *path, struct p11e__quirks *out)
{
	struct p11e__datafile df;
	p11e_status st;

	*out = defaults;
	snprintf(out->file, sizeof(out->file), "%s", base_name(path));
	st = p11e__datafile_read(ctx, &kind, path, &df);
	if (st != P11E_OK)
		return st;
	st = read_quirks(ctx, &df, out);
	p11e__datafile_free(&df);
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

int p11e__quirks_match(const struct p11e__quirks *q, const char *manufacturer, const char *model)
{
	char m[64], mo[64];

	trimmed(m, sizeof(m), manufacturer);
	trimmed(mo, sizeof(mo), model);
	return fnmatch(q->manufacturer, m, 0) == 0 && fnmatch(q->model, mo, 0) == 0;
}

int p11e__quirks_match_library(const struct p11e__quirks *q, const char *library)
{
	char l[64];

	trimmed(l, sizeof(l), library);
	return fnmatch(q->library, l, 0) == 0;
}

/* Read and check every quirk file on the path, once per context. */
static p11e_status load_all(p11e_ctx *ctx)
{
	struct p11e__quirks *files = NULL;
	char **paths = NULL;
	size_t n = 0;
	p11e_status st;

	if (ctx->quirk_files_loaded)
		return P11E_OK;
	if ((st = p11e__datafile_list(ctx, &kind, &paths, &n)) != P11E_OK)
		return st;
	if (n && !(files = calloc(n, sizeof(*files))))
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	for (size_t i = 0; st == P11E_OK && i < n; i++) {
		st = p11e__quirks_parse_file(ctx, paths[i], &files[i]);
		if (st == P11E_OK)
			p11e__log(ctx, P11E_LOG_DEBUG, "token quirk file %s read", paths[i]);
	}
	p11e__datafile_list_free(paths, n);
	if (st != P11E_OK) {
		free(files);
		return st;
	}
	ctx->quirk_files = files;
	ctx->nquirk_files = n;
	ctx->quirk_files_loaded = 1;
	return P11E_OK;
}

p11e_status p11e__quirks_find(p11e_ctx *ctx, const p11e_slot *slot, const struct p11e__quirks **out)
{
	CK_INFO info;
	char library[sizeof(info.manufacturerID) + 1] = "";
	p11e_status st;

	*out = NULL;
	if ((st = load_all(ctx)) != P11E_OK)
		return st;
	if (!slot->token_present)
		return P11E_OK;
	/*
	 * The module's manufacturerID: tpm2-pkcs11 reports the TPM's own
	 * manufacturer and model for its tokens, so only the module tells it.
	 */
	if (ctx->fl && P11_CALL(ctx, C_GetInfo, &info) == CKR_OK) {
		memcpy(library, info.manufacturerID, sizeof(info.manufacturerID));
		library[sizeof(info.manufacturerID)] = '\0';
	}
	for (size_t i = 0; i < ctx->nquirk_files; i++) {
		if (p11e__quirks_match(&ctx->quirk_files[i], slot->manufacturer, slot->model) &&
		    p11e__quirks_match_library(&ctx->quirk_files[i], library)) {
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
