/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manifest.c - what should be on which token: [token NAME] and
 * [identity NAME] sections (p11enroll-manifest(5)), read through the one
 * loader of our data files (datafile.c), so a manifest follows the rules a
 * quirk file or profile does: no .include, no '$', no unknown section or
 * field, none twice, each refusal naming file and line.  The [identity NAME]
 * syntax is shared with the station recipe (p11e__identity_fields,
 * p11e__identity_read); what is done with an identity is the caller's.
 * A station recipe is the same file less [token NAME], plus [station]: one
 * parser, told which of the two it reads (struct p11e_manifest.recipe).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "p11enroll-ca.h"

/* a manifest of thousands of identities is a few hundred KiB */
#define MAX_MANIFEST_SIZE (4 * 1024 * 1024)

static const char *const token_fields[] = { "uri", "label", "module", "pin", NULL };

const char *const p11e__identity_fields[] = {
	"token",     "label",         "type",     "subject",        "san",        "ext",
	"config",    "profile",       "outbox",   "inbox",          "renew_days", "hook",
	"est",       "cmp",           "ca_trust", "ca_fingerprint", "cmp_ref",    "cmp_secret",
	"auth_user", "auth_password", "auth_key", "ca_timeout",     NULL,
};

static const struct p11e__datafile_section sections[] = {
	{ "defaults", p11e__identity_fields, 0 },
	{ "token", token_fields, 1 },
	{ "identity", p11e__identity_fields, 1 },
	{ NULL, NULL, 0 },
};

static const struct p11e__datafile_kind kind = {
	.what = "manifest",
	.env = "P11ENROLL_MANIFEST_PATH",
	.subdir = "manifests",
	.sections = sections,
	.max_size = MAX_MANIFEST_SIZE,
};

static const char *const station_fields[] = { "module", "token",  "init", "label",
	                                      "pin",    "so_pin", NULL };

static const struct p11e__datafile_section recipe_sections[] = {
	{ "defaults", p11e__identity_fields, 0 },
	{ "station", station_fields, 0 },
	{ "identity", p11e__identity_fields, 1 },
	{ NULL, NULL, 0 },
};

static const struct p11e__datafile_kind recipe_kind = {
	.what = "recipe",
	.env = "P11ENROLL_MANIFEST_PATH",
	.subdir = "manifests",
	.sections = recipe_sections,
	.max_size = MAX_MANIFEST_SIZE,
};

struct p11e_manifest {
	p11e_manifest_token *tokens;
	size_t ntokens;
	p11e_identity *ids;
	size_t nids;
	char **strings; /* every string the entries point at */
	size_t nstrings;
	char *dir; /* the manifest's directory, for relative paths */
	int recipe; /* a station recipe: [station], and no [token NAME] */
	p11e_station station;
};

/* Keep s (a copy) in m; NULL when out of memory. */
static const char *keep(p11e_manifest *m, const char *s)
{
	char **grown;
	char *copy;

	if (!s)
		return NULL;
	grown = realloc(m->strings, (m->nstrings + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	m->strings = grown;
	if (!(copy = strdup(s)))
		return NULL;
	m->strings[m->nstrings++] = copy;
	return copy;
}

/* A path as written, or made relative to the manifest's directory. */
static const char *keep_path(p11e_manifest *m, const char *p)
{
	char *joined;
	const char *kept;
	size_t len;

	if (!p || p[0] == '/' || !m->dir)
		return keep(m, p);
	len = strlen(m->dir) + strlen(p) + 2;
	if (!(joined = malloc(len)))
		return NULL;
	snprintf(joined, len, "%s/%s", m->dir, p);
	kept = keep(m, joined);
	free(joined);
	return kept;
}

void p11e_manifest_free(p11e_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nids; i++)
		free((void *)m->ids[i].ext);
	for (size_t i = 0; i < m->nstrings; i++)
		free(m->strings[i]);
	free(m->strings);
	free(m->tokens);
	free(m->ids);
	free(m->dir);
	free(m);
}

const p11e_manifest_token *p11e_manifest_tokens(const p11e_manifest *m, size_t *count)
{
	*count = m ? m->ntokens : 0;
	return m ? m->tokens : NULL;
}

const p11e_identity *p11e_manifest_identities(const p11e_manifest *m, size_t *count)
{
	*count = m ? m->nids : 0;
	return m ? m->ids : NULL;
}

const p11e_station *p11e_manifest_station(const p11e_manifest *m)
{
	return m && m->recipe ? &m->station : NULL;
}

/* --- fields --------------------------------------------------------------- */

/* The identity's own value of field, else the [defaults] one; *from: the section it came from. */
static const char *id_get(const struct p11e__datafile *df, const char *section, const char *field,
                          const char **from)
{
	const char *v = p11e__datafile_get(df, section, field);

	*from = section;
	if (!v && strcmp(section, "defaults") != 0) {
		v = p11e__datafile_get(df, "defaults", field);
		*from = "defaults";
	}
	return v;
}

static int is_pin_source(const char *v)
{
	return strncmp(v, "env:", 4) == 0 || strncmp(v, "file:", 5) == 0 ||
	       strncmp(v, "fd:", 3) == 0;
}

static p11e_status read_token(p11e_ctx *ctx, const struct p11e__datafile *df, const char *sect,
                              p11e_manifest *m, p11e_manifest_token *t)
{
	const char *uri = p11e__datafile_get(df, sect, "uri");
	const char *label = p11e__datafile_get(df, sect, "label");
	const char *pin = p11e__datafile_get(df, sect, "pin");
	char at[4200];

	memset(t, 0, sizeof(*t));
	t->line = p11e__datafile_line(df, sect, NULL, 0);
	if (!uri == !label) {
		snprintf(at, sizeof(at), "%s:%ld", df->name, t->line);
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "manifest %s: [%s] needs a uri or a label (one of them): "
		                  "add the token's",
		                  at, sect);
	}
	if (uri && strncmp(uri, "pkcs11:", 7) != 0)
		return p11e__datafile_invalid(ctx, df, sect, "uri",
		                              "give a pkcs11: token URI (RFC 7512)");
	if (label && (!*label || strlen(label) > 32))
		return p11e__datafile_invalid(ctx, df, sect, "label",
		                              "a token label is 1 to 32 bytes");
	/* the file is read by whoever reads the manifest: a PIN never stands in it */
	if (pin && !is_pin_source(pin))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "manifest %s:%ld: [%s] pin: a PIN source is env:VAR, file:PATH "
		                  "or fd:N, never the PIN itself: name where the PIN is",
		                  df->name, p11e__datafile_line(df, sect, "pin", 0), sect);
	t->name = keep(m, sect + strlen("token "));
	t->uri = keep(m, uri);
	t->label = keep(m, label);
	t->module = keep(m, p11e__datafile_get(df, sect, "module"));
	t->pin = keep(m, pin);
	if (!t->name || (uri && !t->uri) || (label && !t->label) || (pin && !t->pin) ||
	    (p11e__datafile_get(df, sect, "module") && !t->module))
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	return P11E_OK;
}

/* The ';'-separated extensions of v into id->ext. */
static p11e_status split_ext(p11e_ctx *ctx, const struct p11e__datafile *df, const char *from,
                             p11e_manifest *m, const char *v, p11e_identity *id)
{
	const char **list = NULL;
	char *copy = strdup(v), *save = NULL, *item;
	size_t n = 0;

	if (!copy)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	for (item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
		const char **grown;

		while (*item == ' ' || *item == '\t')
			item++;
		if (!*item)
			continue;
		if (!strchr(item, '=')) {
			free(copy);
			free(list);
			return p11e__datafile_invalid(ctx, df, from, "ext",
			                              "an extension is name=value, as "
			                              "extendedKeyUsage=clientAuth; ';' between "
			                              "them");
		}
		grown = realloc(list, (n + 2) * sizeof(*list));
		if (!grown || !(grown[n] = keep(m, item))) {
			free(copy);
			free(grown ? grown : list);
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		}
		list = grown;
		list[++n] = NULL;
	}
	free(copy);
	id->ext = (const char *const *)list;
	id->next = n;
	return P11E_OK;
}

/* A CA field's value (identity, else [defaults]) kept in *out; *from: its section. */
static p11e_status ca_field(p11e_ctx *ctx, const struct p11e__datafile *df, const char *sect,
                            p11e_manifest *m, const char *field, const char **out,
                            const char **from)
{
	const char *v = id_get(df, sect, field, from);

	*out = NULL;
	if (v && !(*out = keep(m, v)))
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	return P11E_OK;
}

/* A secret's source: env:, file: or fd:, never the secret (the message does not repeat it). */
static p11e_status ca_secret(p11e_ctx *ctx, const struct p11e__datafile *df, const char *from,
                             const char *field, const char *v)
{
	if (!v || is_pin_source(v))
		return P11E_OK;
	return p11e__fail(ctx, P11E_ERR_INPUT,
	                  "%s %s:%ld: [%s] %s: a secret's source is env:VAR, file:PATH or fd:N, "
	                  "never the secret itself: name where it is",
	                  df->kind->what, df->name, p11e__datafile_line(df, from, field, 0), from,
	                  field);
}

/*
 * A [defaults] field that is not for the identity's protocol (or for no CA)
 * is not the identity's, unless the protocol comes from [defaults] too: then
 * [defaults] itself says two things that do not go together.
 */
static void drop_default(const char **v, const char *from, const char *proto_from)
{
	if (*v && strcmp(from, "defaults") == 0 &&
	    (!proto_from || strcmp(proto_from, "defaults") != 0))
		*v = NULL;
}

/*
 * The identity's CA: cmp = URL or est = URL (or neither: outbox and inbox),
 * and the fields that go with the one given; what does not go together is
 * refused at the line of the field that is too many.
 */
static p11e_status read_ca(p11e_ctx *ctx, const struct p11e__datafile *df, const char *sect,
                           p11e_manifest *m, p11e_identity *id)
{
	const char *f_cmp, *f_est, *f_trust, *f_fp, *f_ref, *f_sec, *f_user, *f_pw, *f_key, *f_to;
	const char *f_proto;
	unsigned timeout = 0;
	p11e_status st;

	if ((st = ca_field(ctx, df, sect, m, "cmp", &id->cmp, &f_cmp)) ||
	    (st = ca_field(ctx, df, sect, m, "est", &id->est, &f_est)) ||
	    (st = ca_field(ctx, df, sect, m, "ca_fingerprint", &id->ca_fingerprint, &f_fp)) ||
	    (st = ca_field(ctx, df, sect, m, "cmp_ref", &id->cmp_ref, &f_ref)) ||
	    (st = ca_field(ctx, df, sect, m, "cmp_secret", &id->cmp_secret, &f_sec)) ||
	    (st = ca_field(ctx, df, sect, m, "auth_user", &id->auth_user, &f_user)) ||
	    (st = ca_field(ctx, df, sect, m, "auth_password", &id->auth_password, &f_pw)) ||
	    (st = ca_field(ctx, df, sect, m, "auth_key", &id->auth_key, &f_key)))
		return st;
	id->ca_trust = keep_path(m, id_get(df, sect, "ca_trust", &f_trust));
	if (id_get(df, sect, "ca_trust", &f_trust) && !id->ca_trust)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	if ((st = ca_secret(ctx, df, f_sec, "cmp_secret", id->cmp_secret)) ||
	    (st = ca_secret(ctx, df, f_pw, "auth_password", id->auth_password)))
		return st;
	if (id_get(df, sect, "ca_timeout", &f_to) &&
	    (st = p11e__datafile_number(ctx, df, f_to, "ca_timeout", 1, 3600, "seconds", &timeout)))
		return st;
	id->ca_timeout = (int)timeout;
	/* the protocol the identity names itself wins over the other one in [defaults] */
	if (id->cmp && id->est && strcmp(f_cmp, f_est) != 0) {
		if (strcmp(f_cmp, "defaults") == 0)
			id->cmp = NULL;
		else
			id->est = NULL;
	}
	f_proto = id->cmp ? f_cmp : id->est ? f_est : NULL;
	if (!id->cmp) {
		drop_default(&id->cmp_ref, f_ref, f_proto);
		drop_default(&id->cmp_secret, f_sec, f_proto);
	}
	if (!id->est) {
		drop_default(&id->ca_fingerprint, f_fp, f_proto);
		drop_default(&id->auth_user, f_user, f_proto);
		drop_default(&id->auth_password, f_pw, f_proto);
	}
	if (!f_proto) {
		drop_default(&id->ca_trust, f_trust, f_proto);
		drop_default(&id->auth_key, f_key, f_proto);
		if (f_to && strcmp(f_to, "defaults") == 0)
			id->ca_timeout = 0;
	}
	/* a station's card is all or nothing: its take-back knows no CA's certificate yet */
	if (m->recipe && (id->cmp || id->est))
		return p11e__datafile_invalid(ctx, df, id->cmp ? f_cmp : f_est,
		                              id->cmp ? "cmp" : "est",
		                              "a recipe's identities use outbox and inbox: "
		                              "remove it (a CA is for a manifest)");
	if (id->cmp && id->est)
		return p11e__datafile_invalid(ctx, df, f_est, "est",
		                              "give cmp or est, not both (the identity has "
		                              "cmp = too)");
	if (id->cmp && strncmp(id->cmp, "http://", 7) != 0)
		return p11e__datafile_invalid(ctx, df, f_cmp, "cmp", "give http://HOST:PORT/PATH");
	if (id->est && strncmp(id->est, "https://", 8) != 0)
		return p11e__datafile_invalid(ctx, df, f_est, "est",
		                              "give https://HOST[:PORT][/PATH]");
	if (!id->cmp && !id->est) {
		static const char *const ca_only[] = {
			"ca_trust", "ca_fingerprint", "cmp_ref",    "cmp_secret", "auth_user",
			"auth_key", "auth_password",  "ca_timeout", NULL
		};
		const char *from;

		/* [defaults] may give them for the identities with a CA */
		for (size_t i = 0; ca_only[i]; i++)
			if (id_get(df, sect, ca_only[i], &from) && strcmp(from, "defaults") != 0)
				return p11e__datafile_invalid(ctx, df, from, ca_only[i],
				                              "goes with cmp = URL or est = URL: "
				                              "add one or remove it");
		return P11E_OK;
	}
	if (id->cmp) {
		if (id->ca_fingerprint || id->auth_user || id->auth_password)
			return p11e__datafile_invalid(ctx, df,
			                              id->ca_fingerprint ? f_fp
			                              : id->auth_user    ? f_user
			                                                 : f_pw,
			                              id->ca_fingerprint ? "ca_fingerprint"
			                              : id->auth_user    ? "auth_user"
			                                                 : "auth_password",
			                              "goes with est, not cmp");
		if (!id->cmp_ref != !id->cmp_secret)
			return p11e__datafile_invalid(ctx, df, id->cmp_ref ? f_ref : f_sec,
			                              id->cmp_ref ? "cmp_ref" : "cmp_secret",
			                              "cmp_ref and cmp_secret go together: add "
			                              "the other");
		if (id->cmp_secret && id->auth_key)
			return p11e__datafile_invalid(ctx, df, f_key, "auth_key",
			                              "give cmp_secret or auth_key, not both");
		return P11E_OK;
	}
	if (id->cmp_ref || id->cmp_secret)
		return p11e__datafile_invalid(ctx, df, id->cmp_ref ? f_ref : f_sec,
		                              id->cmp_ref ? "cmp_ref" : "cmp_secret",
		                              "goes with cmp, not est");
	if (!id->ca_trust && !id->ca_fingerprint)
		return p11e__datafile_invalid(ctx, df, f_est, "est",
		                              "add ca_trust = FILE or ca_fingerprint = "
		                              "SHA256:HEX: the server is never trusted blindly");
	if (id->ca_trust && id->ca_fingerprint)
		return p11e__datafile_invalid(ctx, df, f_fp, "ca_fingerprint",
		                              "give ca_trust or ca_fingerprint, not both");
	if (id->ca_fingerprint) {
		p11e_est *e = p11e_est_new();
		int bad = !e || p11e_est_set_fingerprint(e, id->ca_fingerprint) != P11E_OK;

		p11e_est_free(e);
		if (bad)
			return p11e__datafile_invalid(ctx, df, f_fp, "ca_fingerprint",
			                              "give SHA256: and 32 bytes of hex");
	}
	if (!id->auth_user != !id->auth_password)
		return p11e__datafile_invalid(ctx, df, id->auth_user ? f_user : f_pw,
		                              id->auth_user ? "auth_user" : "auth_password",
		                              "auth_user and auth_password go together: add "
		                              "the other");
	if (id->auth_user && id->auth_key)
		return p11e__datafile_invalid(ctx, df, f_key, "auth_key",
		                              "give auth_user or auth_key, not both");
	return P11E_OK;
}

p11e_status p11e__identity_read(p11e_ctx *ctx, const struct p11e__datafile *df, const char *sect,
                                p11e_manifest *m, p11e_identity *id)
{
	const char *from, *v;
	unsigned days = 30;
	p11e_key_type kt;
	unsigned bits;
	const char *curve;
	p11e_status st;

	memset(id, 0, sizeof(*id));
	id->line = p11e__datafile_line(df, sect, NULL, 0);
	id->name = keep(m, strchr(sect, ' ') ? strchr(sect, ' ') + 1 : sect);
	if (!id->name)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	if ((st = read_ca(ctx, df, sect, m, id)))
		return st;
	v = id_get(df, sect, "token", &from);
	/* a recipe's identities are all on the card's token */
	if (m->recipe && v)
		return p11e__datafile_invalid(ctx, df, from, "token",
		                              "a recipe's identities are on the card's token: "
		                              "remove it (choose the token in [station])");
	if (!m->recipe && !v)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "manifest %s:%ld: [%s] has no token: add token = NAME of a "
		                  "[token NAME]",
		                  df->name, id->line, sect);
	id->token = m->recipe ? keep(m, "card") : keep(m, v);
	v = id_get(df, sect, "label", &from);
	if (v && (!*v || strlen(v) > 120))
		return p11e__datafile_invalid(ctx, df, from, "label",
		                              "a key label is 1 to 120 bytes");
	id->label = keep(m, v ? v : id->name);
	if ((v = id_get(df, sect, "type", &from))) {
		if (p11e_key_type_parse(ctx, v, &kt, &bits, &curve) != P11E_OK)
			return p11e__datafile_invalid(ctx, df, from, "type",
			                              "use rsa:2048, rsa:3072, rsa:4096, ec:P-256 "
			                              "or ec:P-384");
		id->type = keep(m, v);
	}
	id->subject = keep(m, id_get(df, sect, "subject", &from));
	if (id->subject && id->subject[0] != '/')
		return p11e__datafile_invalid(ctx, df, from, "subject",
		                              "write it as /C=../O=../CN=.. (OpenSSL's syntax)");
	id->san = keep(m, id_get(df, sect, "san", &from));
	if ((v = id_get(df, sect, "ext", &from)) && (st = split_ext(ctx, df, from, m, v, id)))
		return st;
	id->config = keep_path(m, id_get(df, sect, "config", &from));
	if (!id->subject && !id->config)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s %s:%ld: [%s] has no subject and no config: add one "
		                  "(subject = /CN=...)",
		                  df->kind->what, df->name, id->line, sect);
	id->profile = keep(m, id_get(df, sect, "profile", &from));
	if (!(v = id_get(df, sect, "outbox", &from)) && !id->cmp && !id->est)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s %s:%ld: [%s] has no outbox: add outbox = DIR, where "
		                  "requests are written for the CA",
		                  df->kind->what, df->name, id->line, sect);
	id->outbox = keep_path(m, v);
	id->inbox = keep_path(m, id_get(df, sect, "inbox", &from));
	id_get(df, sect, "renew_days", &from);
	if ((st = p11e__datafile_number(ctx, df, from, "renew_days", 0, 3650, "days", &days)))
		return st;
	id->renew_days = days;
	if ((v = id_get(df, sect, "hook", &from))) {
		/* run without a shell: a path, not a command line to interpret */
		if (v[0] != '/')
			return p11e__datafile_invalid(ctx, df, from, "hook",
			                              "give the absolute path of a program "
			                              "(it runs without a shell)");
		id->hook = keep(m, v);
	}
	if (!id->token || !id->label || (id_get(df, sect, "san", &from) && !id->san))
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	return P11E_OK;
}

/* --- a recipe's [station] ------------------------------------------------- */

/* A PIN source field, never the PIN itself (the message does not repeat the value). */
static p11e_status pin_field(p11e_ctx *ctx, const struct p11e__datafile *df, const char *sect,
                             const char *field, p11e_manifest *m, const char **out)
{
	const char *v = p11e__datafile_get(df, sect, field);

	if (v && !is_pin_source(v))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s %s:%ld: [%s] %s: a PIN source is env:VAR, file:PATH or fd:N, "
		                  "never the PIN itself: name where the PIN is",
		                  df->kind->what, df->name, p11e__datafile_line(df, sect, field, 0),
		                  sect, field);
	if (v && !(*out = keep(m, v)))
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	return P11E_OK;
}

static p11e_status read_station(p11e_ctx *ctx, const struct p11e__datafile *df, p11e_manifest *m)
{
	p11e_station *s = &m->station;
	const char *v;
	p11e_status st;

	s->line = p11e__datafile_line(df, "station", NULL, 0);
	if ((v = p11e__datafile_get(df, "station", "module")) && !(s->module = keep(m, v)))
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	v = p11e__datafile_get(df, "station", "token");
	if (!v || strcmp(v, "reader") == 0) {
		s->token = P11E_STATION_TOKEN_READER;
	} else if (strcmp(v, "blank") == 0) {
		s->token = P11E_STATION_TOKEN_BLANK;
	} else if (strncmp(v, "pkcs11:", 7) == 0) {
		s->token = P11E_STATION_TOKEN_URI;
		if (!(s->uri = keep(m, v)))
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	} else {
		return p11e__datafile_invalid(ctx, df, "station", "token",
		                              "use reader (the slot of the card's reader), blank "
		                              "(the module's only uninitialised token) or a "
		                              "pkcs11: token URI");
	}
	if ((st = p11e__datafile_bool(ctx, df, "station", "init", &s->init)))
		return st;
	if ((v = p11e__datafile_get(df, "station", "label"))) {
		/* %n (the card's number) and %% only: the label is at most 32 bytes made */
		for (const char *p = v; *p; p++)
			if (*p == '%' && p[1] != 'n' && p[1] != '%')
				return p11e__datafile_invalid(ctx, df, "station", "label",
				                              "%%n is the card's number, %%%% a "
				                              "%%; nothing else follows a %%");
			else if (*p == '%')
				p++;
		if (!*v || strlen(v) > 32)
			return p11e__datafile_invalid(ctx, df, "station", "label",
			                              "a token label is 1 to 32 bytes");
		if (!(s->label = keep(m, v)))
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	}
	if (s->init && !s->label)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "recipe %s:%ld: [station] init = yes needs the label a blank "
		                  "token is given: add label = NAME (%%n: the card's number)",
		                  df->name, p11e__datafile_line(df, "station", "init", 0));
	if ((st = pin_field(ctx, df, "station", "pin", m, &s->pin)) ||
	    (st = pin_field(ctx, df, "station", "so_pin", m, &s->so_pin)))
		return st;
	return P11E_OK;
}

/* --- the whole file ------------------------------------------------------- */

struct sect {
	const char *name;
	long line;
};

static int by_line(const void *a, const void *b)
{
	const struct sect *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

static p11e_status build(p11e_ctx *ctx, const struct p11e__datafile *df, p11e_manifest *m)
{
	STACK_OF(OPENSSL_CSTRING) *names = NCONF_get_section_names(df->conf);
	struct sect *list = NULL;
	size_t n = 0, nt = 0, ni = 0;
	p11e_status st = P11E_OK;

	if (!names)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	list = calloc((size_t)sk_OPENSSL_CSTRING_num(names) + 1, sizeof(*list));
	if (!list) {
		sk_OPENSSL_CSTRING_free(names);
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	}
	for (int i = 0; i < sk_OPENSSL_CSTRING_num(names); i++) {
		const char *s = sk_OPENSSL_CSTRING_value(names, i);

		if (strncmp(s, "token ", 6) == 0)
			nt++;
		else if (strncmp(s, "identity ", 9) == 0)
			ni++;
		else
			continue;
		list[n].name = s;
		list[n++].line = p11e__datafile_line(df, s, NULL, 0);
	}
	/* NCONF keeps sections in a hash: the file's order is the one a user expects */
	qsort(list, n, sizeof(*list), by_line);
	m->tokens = calloc(nt + 1, sizeof(*m->tokens));
	m->ids = calloc(ni + 1, sizeof(*m->ids));
	if (!m->tokens || !m->ids)
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	for (size_t i = 0; st == P11E_OK && i < n; i++) {
		if (list[i].name[0] == 't')
			st = read_token(ctx, df, list[i].name, m, &m->tokens[m->ntokens++]);
		else
			st = p11e__identity_read(ctx, df, list[i].name, m, &m->ids[m->nids++]);
	}
	/* each identity on a token the file names, and no label twice on one token */
	if (st == P11E_OK && m->recipe)
		st = read_station(ctx, df, m);
	for (size_t i = 0; st == P11E_OK && i < m->nids; i++) {
		const p11e_identity *id = &m->ids[i];
		size_t t;

		for (t = 0; t < m->ntokens && strcmp(m->tokens[t].name, id->token) != 0; t++)
			;
		if (t == m->ntokens && !m->recipe)
			st = p11e__fail(ctx, P11E_ERR_INPUT,
			                "manifest %s:%ld: [identity %s] token = %.40s: there is no "
			                "[token %.40s]: add it, or check the name",
			                df->name, id->line, id->name, id->token, id->token);
		for (size_t j = 0; st == P11E_OK && j < i; j++)
			if (strcmp(m->ids[j].token, id->token) == 0 &&
			    strcmp(m->ids[j].label, id->label) == 0)
				st = p11e__fail(ctx, P11E_ERR_INPUT,
				                "%s %s:%ld: [identity %s] has the label '%s' of "
				                "[identity %s] on the same token: give each "
				                "its own",
				                df->kind->what, df->name, id->line, id->name,
				                id->label, m->ids[j].name);
	}
	if (st == P11E_OK && m->nids == 0)
		st = p11e__fail(ctx, P11E_ERR_INPUT,
		                "%s %s: no [identity NAME] section: nothing to do", df->kind->what,
		                df->name);
	free(list);
	sk_OPENSSL_CSTRING_free(names);
	return st;
}

static p11e_status parse(p11e_ctx *ctx, int recipe, const char *name, const unsigned char *text,
                         size_t len, const char *path, p11e_manifest **out)
{
	struct p11e__datafile df;
	p11e_manifest *m;
	p11e_status st;

	*out = NULL;
	if (!(m = calloc(1, sizeof(*m))))
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	m->recipe = recipe;
	if (path && strrchr(path, '/')) {
		m->dir = strndup(path, (size_t)(strrchr(path, '/') - path));
		if (!m->dir) {
			free(m);
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		}
	}
	st = path ? p11e__datafile_read(ctx, recipe ? &recipe_kind : &kind, path, &df)
	          : p11e__datafile_parse(ctx, recipe ? &recipe_kind : &kind, name, text, len, &df);
	if (st != P11E_OK) {
		p11e_manifest_free(m);
		return st;
	}
	st = build(ctx, &df, m);
	p11e__datafile_free(&df);
	if (st != P11E_OK) {
		p11e_manifest_free(m);
		return st;
	}
	*out = m;
	return P11E_OK;
}

p11e_status p11e_manifest_read(p11e_ctx *ctx, const char *path, p11e_manifest **out)
{
	if (!ctx || !path || !out)
		return p11e__fail(ctx, P11E_ERR_USAGE, "p11e_manifest_read: NULL argument");
	return parse(ctx, 0, path, NULL, 0, path, out);
}

p11e_status p11e_manifest_parse(p11e_ctx *ctx, const char *name, const unsigned char *text,
                                size_t len, p11e_manifest **out)
{
	if (!ctx || !name || !text || !out)
		return p11e__fail(ctx, P11E_ERR_USAGE, "p11e_manifest_parse: NULL argument");
	return parse(ctx, 0, name, text, len, NULL, out);
}

p11e_status p11e_recipe_read(p11e_ctx *ctx, const char *path, p11e_manifest **out)
{
	if (!ctx || !path || !out)
		return p11e__fail(ctx, P11E_ERR_USAGE, "p11e_recipe_read: NULL argument");
	return parse(ctx, 1, path, NULL, 0, path, out);
}

p11e_status p11e_recipe_parse(p11e_ctx *ctx, const char *name, const unsigned char *text,
                              size_t len, p11e_manifest **out)
{
	if (!ctx || !name || !text || !out)
		return p11e__fail(ctx, P11E_ERR_USAGE, "p11e_recipe_parse: NULL argument");
	return parse(ctx, 1, name, text, len, NULL, out);
}

p11e_status p11e_identity_req(p11e_ctx *ctx, const p11e_identity *id, p11e_req **out)
{
	p11e_req *r = p11e_req_new();
	p11e_status st = r ? P11E_OK : P11E_ERR_FAILED;

	*out = NULL;
	if (st == P11E_OK && id->config)
		st = p11e_req_set_config(r, id->config);
	if (st == P11E_OK && id->subject)
		st = p11e_req_set_subject(r, id->subject);
	if (st == P11E_OK && id->san)
		st = p11e_req_add_san(r, id->san);
	for (size_t i = 0; st == P11E_OK && i < id->next; i++)
		st = p11e_req_add_ext(r, id->ext[i]);
	if (st == P11E_OK && id->profile)
		st = p11e_req_set_profile(r, id->profile);
	if (st != P11E_OK) {
		p11e_req_free(r);
		return p11e__fail(ctx, st, "identity %s: cannot build its request", id->name);
	}
	*out = r;
	return P11E_OK;
}
