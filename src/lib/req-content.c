/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * req-content.c - what a request says, from OpenSSL's own machinery: an
 * OpenSSL req-style config file read with NCONF under the rules of our data
 * files (datafile.c: no .include, no $ expansion; every [req] field known,
 * file:line for what is wrong), the subject in OpenSSL's /C=../CN=.. syntax,
 * and extensions through X509V3 (subjectAltName and name=value specs).
 * request.c puts them together and has them signed.
 */
#include "config.h"

#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* [req] keys: what we use, what only makes sense for software keys. */
static const char *const req_used[] = {
	"distinguished_name", "req_extensions", "prompt", "string_mask", "utf8", "default_md", NULL,
};
static const char *const req_ignored[] = {
	"default_bits",    "encrypt_key",
	"encrypt_rsa_key", "default_keyfile",
	"input_password",  "output_password",
	"RANDFILE",        "x509_extensions",
	"attributes",      "oid_file",
	"oid_section",     "dirstring_type",
	"copy_extensions", NULL,
};

static int in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return 1;
	return 0;
}

/* file:line of "name =" in [sec] of the config, for a message (read only then) */
#define AT(sec, name) p11e__conf_where(at, sizeof(at), rc->file, (sec), (name))

p11e_status p11e__req_conf_load(p11e_ctx *ctx, const char *file, struct p11e__req_conf *rc)
{
	STACK_OF(CONF_VALUE) *sect;
	const char *v;
	char at[PATH_MAX + 24];
	p11e_status st;
	int i;

	rc->file = file;
	rc->chtype = MBSTRING_ASC;
	rc->conf = NCONF_new_ex(p11e__libctx(ctx), NULL);
	if (!rc->conf)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	/*
	 * Read as our data files are: OpenSSL's loader would follow .include
	 * and expand $ENV::NAME, which copies whatever the environment holds
	 * (a PIN given as env:) into the subject of a request signed on the token.
	 */
	st = p11e__datafile_load_conf(ctx, "request config", file, rc->conf);
	if (st != P11E_OK)
		return st;
	sect = NCONF_get_section(rc->conf, "req");
	if (!sect)
		return p11e__fail(ctx, P11E_ERR_INPUT, "%s has no [req] section: add one", file);
	for (i = 0; i < sk_CONF_VALUE_num(sect); i++) {
		CONF_VALUE *cv = sk_CONF_VALUE_value(sect, i);

		if (in_list(req_used, cv->name))
			continue;
		if (in_list(req_ignored, cv->name)) {
			p11e__log(ctx, P11E_LOG_NOTE,
			          "%s: [req] %s ignored: the key is on the token",
			          AT("req", cv->name), cv->name);
			continue;
		}
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s: unknown field '%s' in [req]: remove it or check its "
		                  "spelling",
		                  AT("req", cv->name), cv->name);
	}
	v = NCONF_get_string(rc->conf, "req", "prompt");
	if (v && strcmp(v, "no") != 0)
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s: [req] prompt = %s: requests are built without questions; "
		                  "set prompt = no "
		                  "and give the values in the distinguished_name section",
		                  AT("req", "prompt"), v);
	ERR_clear_error(); /* missing keys leave errors behind */
	rc->dn_section = NCONF_get_string(rc->conf, "req", "distinguished_name");
	rc->ext_section = NCONF_get_string(rc->conf, "req", "req_extensions");
	rc->default_md = NCONF_get_string(rc->conf, "req", "default_md");
	v = NCONF_get_string(rc->conf, "req", "utf8");
	if (v && (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0))
		rc->chtype = MBSTRING_UTF8;
	v = NCONF_get_string(rc->conf, "req", "string_mask");
	if (v && !ASN1_STRING_set_default_mask_asc(v))
		return p11e__fail(ctx, P11E_ERR_INPUT, "%s: [req] string_mask = %s is not valid",
		                  AT("req", "string_mask"), v);
	ERR_clear_error();
	if (rc->dn_section && !NCONF_get_section(rc->conf, rc->dn_section))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s: distinguished_name names section [%s], which is not there: "
		                  "add it or fix the name",
		                  AT("req", "distinguished_name"), rc->dn_section);
	if (rc->ext_section && !NCONF_get_section(rc->conf, rc->ext_section))
		return p11e__fail(ctx, P11E_ERR_INPUT,
		                  "%s: req_extensions names section [%s], which is not there: add "
		                  "it "
		                  "or fix the name",
		                  AT("req", "req_extensions"), rc->ext_section);
	return P11E_OK;
}

/* The subject from the config's DN section, in the order written. */
p11e_status p11e__req_conf_subject(p11e_ctx *ctx, const struct p11e__req_conf *rc, X509_NAME *name)
{
	STACK_OF(CONF_VALUE) *sect = NCONF_get_section(rc->conf, rc->dn_section);
	char at[PATH_MAX + 24];
	int i;

	for (i = 0; i < sk_CONF_VALUE_num(sect); i++) {
		CONF_VALUE *cv = sk_CONF_VALUE_value(sect, i);
		const char *type = cv->name, *p;
		int set = 0;

		/* "0.OU", "1.OU": several of a kind; "+CN": same RDN as the one before */
		for (p = type; *p; p++)
			if (*p == ':' || *p == ',' || *p == '.') {
				if (p[1])
					type = p + 1;
				break;
			}
		if (*type == '+') {
			set = -1;
			type++;
		}
		if (!cv->value || !*cv->value)
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "%s: [%s] %s is empty: give it a value or remove it",
			                  AT(rc->dn_section, cv->name), rc->dn_section, cv->name);
		if (!X509_NAME_add_entry_by_txt(name, type, (int)rc->chtype,
		                                (const unsigned char *)cv->value, -1, -1, set)) {
			ERR_clear_error();
			return p11e__fail(ctx, P11E_ERR_INPUT,
			                  "%s: [%s] '%s' is not a subject attribute OpenSSL knows "
			                  "(or its "
			                  "value is not allowed): check the name",
			                  AT(rc->dn_section, cv->name), rc->dn_section, cv->name);
		}
	}
	return P11E_OK;
}

/*
 * OpenSSL's command-line subject syntax: /type=value/type=value+type=value,
 * with backslash escapes.
 */
p11e_status p11e__req_parse_subject(p11e_ctx *ctx, const char *subj, unsigned long chtype,
                                    X509_NAME *name)
{
	char *buf = NULL, *type, *value, *w;
	const char *r = subj;
	int set = 0;
	p11e_status st = P11E_OK;

	if (*r != '/')
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "subject '%s' must start with '/', as in /C=US/O=Acme/CN=host",
		                  subj);
	buf = malloc(strlen(subj) + 1);
	if (!buf)
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	r++;
	while (*r && st == P11E_OK) {
		int next_set = 0;

		w = type = buf;
		while (*r && *r != '=') {
			if (*r == '\\' && r[1])
				r++;
			*w++ = *r++;
		}
		*w++ = '\0';
		if (*r != '=') {
			st = p11e__fail(ctx, P11E_ERR_USAGE, "subject: '%s' has no '=value'", type);
			break;
		}
		r++;
		value = w;
		while (*r && *r != '/' && *r != '+') {
			if (*r == '\\' && r[1])
				r++;
			*w++ = *r++;
		}
		*w = '\0';
		if (*r == '+')
			next_set = 1;
		if (*r)
			r++;
		if (!*type || !*value)
			st = p11e__fail(ctx, P11E_ERR_USAGE,
			                "subject: empty attribute name or value near '%s'",
			                *type ? type : value);
		else if (!X509_NAME_add_entry_by_txt(name, type, (int)chtype,
		                                     (unsigned char *)value, -1, -1,
		                                     set ? -1 : 0)) {
			ERR_clear_error();
			st = p11e__fail(ctx, P11E_ERR_USAGE,
			                "subject: '%s' is not a subject attribute OpenSSL knows",
			                type);
		}
		set = next_set;
	}
	free(buf);
	return st;
}

/*
 * Put a copy of ext into sk, replacing one of the same kind (the command line
 * wins), and free ext.
 */
static int ext_put(STACK_OF(X509_EXTENSION) **sk, X509_EXTENSION *ext)
{
	int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
	int at = X509v3_get_ext_by_NID(*sk, nid, -1);
	int ok;

	if (at >= 0)
		X509_EXTENSION_free(X509v3_delete_ext(*sk, at));
	ok = X509v3_add_ext(sk, ext, -1) != NULL;
	X509_EXTENSION_free(ext);
	return ok;
}

static p11e_status ossl_input(p11e_ctx *ctx, const char *what)
{
	return p11e__fail_ossl(ctx, P11E_ERR_INPUT, what);
}

/*
 * Which entry of the extension section (or of a section an entry names with
 * @, as subjectAltName = @alt_names does) OpenSSL refuses: its file:line and
 * OpenSSL's reason, for a message that points at the mistake.
 */
static p11e_status ext_failure(p11e_ctx *ctx, const struct p11e__req_conf *rc, X509V3_CTX *v3)
{
	STACK_OF(CONF_VALUE) *sect = NCONF_get_section(rc->conf, rc->ext_section);
	char at[PATH_MAX + 24], what[PATH_MAX + 300];
	const char *in = rc->ext_section, *name = NULL;

	ERR_set_mark();
	for (int i = 0; !name && i < sk_CONF_VALUE_num(sect); i++) {
		CONF_VALUE *cv = sk_CONF_VALUE_value(sect, i);
		X509_EXTENSION *ext = X509V3_EXT_nconf(rc->conf, v3, cv->name, cv->value);
		STACK_OF(CONF_VALUE) *sub;

		if (ext) {
			X509_EXTENSION_free(ext);
			continue;
		}
		name = cv->name;
		/* a general name list: find the entry in the section it names */
		if (cv->value && cv->value[0] == '@' &&
		    (sub = NCONF_get_section(rc->conf, cv->value + 1))) {
			for (int j = 0; j < sk_CONF_VALUE_num(sub); j++) {
				CONF_VALUE *gv = sk_CONF_VALUE_value(sub, j);
				GENERAL_NAME *gn = v2i_GENERAL_NAME(NULL, v3, gv);

				if (gn) {
					GENERAL_NAME_free(gn);
					continue;
				}
				in = cv->value + 1;
				name = gv->name;
				break;
			}
		}
	}
	/* the first failure's reason is the one to report: drop the probes' */
	ERR_pop_to_mark();
	if (!name) {
		snprintf(what, sizeof(what),
		         "%s: fix the extensions in [%s] or a section they name", rc->file,
		         rc->ext_section);
		return ossl_input(ctx, what);
	}
	snprintf(what, sizeof(what), "%s: [%s] %s: fix this extension value",
	         p11e__conf_where(at, sizeof(at), rc->file, in, name), in, name);
	return ossl_input(ctx, what);
}

/* base: extensions to start from (renew: the old certificate's), or NULL. */
p11e_status p11e__req_extensions(p11e_ctx *ctx, const struct p11e__req_conf *rc, const p11e_req *o,
                                 const STACK_OF(X509_EXTENSION) *base, X509_REQ *req)
{
	STACK_OF(X509_EXTENSION) *sk = NULL;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char what[256], *san = NULL;
	size_t san_len = 0;
	p11e_status st = P11E_OK;

	for (int i = 0; base && i < sk_X509_EXTENSION_num(base); i++) {
		X509_EXTENSION *e = X509_EXTENSION_dup(sk_X509_EXTENSION_value(base, i));

		if (!e || !ext_put(&sk, e)) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
	}
	X509V3_set_ctx(&v3, NULL, NULL, req, NULL, 0);
	if (rc && rc->conf)
		X509V3_set_nconf(&v3, rc->conf);
	if (rc && rc->ext_section &&
	    !X509V3_EXT_add_nconf_sk(rc->conf, &v3, rc->ext_section, &sk)) {
		st = ext_failure(ctx, rc, &v3);
		goto done;
	}
	for (size_t i = 0; o->san && o->san[i]; i++) {
		size_t n = strlen(o->san[i]);
		char *grown = realloc(san, san_len + n + 2);

		if (!grown) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
		san = grown;
		if (san_len)
			san[san_len++] = ',';
		memcpy(san + san_len, o->san[i], n + 1);
		san_len += n;
	}
	if (san) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
		if (!ext || !ext_put(&sk, ext)) {
			snprintf(what, sizeof(what),
			         "subjectAltName '%s' (as in DNS:a.example,IP:192.0.2.1)", san);
			st = ossl_input(ctx, what);
			goto done;
		}
	}
	for (size_t i = 0; o->ext && o->ext[i]; i++) {
		char *spec = strdup(o->ext[i]), *eq = spec ? strchr(spec, '=') : NULL;

		if (!eq) {
			free(spec);
			st = p11e__fail(ctx, P11E_ERR_USAGE,
			                "extension '%s': use name=value, as in "
			                "extendedKeyUsage=clientAuth",
			                o->ext[i]);
			goto done;
		}
		*eq = '\0';
		ext = X509V3_EXT_nconf(rc ? rc->conf : NULL, &v3, spec, eq + 1);
		free(spec);
		if (!ext || !ext_put(&sk, ext)) {
			snprintf(what, sizeof(what), "extension '%s' (OpenSSL's extension syntax)",
			         o->ext[i]);
			st = ossl_input(ctx, what);
			goto done;
		}
	}
	if (sk && sk_X509_EXTENSION_num(sk) > 0 && !X509_REQ_add_extensions(req, sk))
		st = p11e__fail_ossl(ctx, P11E_ERR_FAILED, "cannot add the extensions");
done:
	free(san);
	sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
	return st;
}
