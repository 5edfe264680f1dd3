/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-cacerts.c - p11enroll cacerts: an EST server's CA certificates
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ca.h"

const char usage_cacerts[] =
	"Usage: p11enroll [GLOBAL OPTIONS] cacerts --est URL [--ca-trust FILE |\n"
	"                 --ca-fingerprint SHA256:HEX] [-o FILE]\n"
	"Fetch the CA certificates of an EST server (/cacerts) and print each with\n"
	"its subject, issuer and SHA-256 fingerprint.  Needs no token.\n"
	"\n"
	"Options:\n"
	"  --est URL         the EST server: https://HOST[:PORT][/PATH] (no path:\n"
	"                    /.well-known/est)\n" CA_TRUST_USAGE
	"  -o, --out FILE    write the certificates there as PEM\n"
	"  --help            show this help\n";

enum { OPT_OUT_FILE = 256 };

/* "ab01..." as openssl x509 -fingerprint prints it: "AB:01:..." */
static void colon_hex(const char *hex, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; hex[i] && hex[i + 1] && o + 4 <= len; i += 2) {
		if (o)
			out[o++] = ':';
		out[o++] = (char)toupper((unsigned char)hex[i]);
		out[o++] = (char)toupper((unsigned char)hex[i + 1]);
	}
	out[o] = '\0';
}

int cmd_cacerts(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		CA_TRUST_LONG_OPTIONS,
		{ "out", required_argument, NULL, OPT_OUT_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ca_args ea;
	const char *out = NULL;
	p11e_cacert *list = NULL;
	unsigned char *pem = NULL;
	size_t n = 0, pemlen = 0;
	p11e_est *e = NULL;
	p11e_status st;
	char fp[100];
	int opt, ret;

	ca_args_init(&ea);
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
		case OPT_OUT_FILE: out = optarg; continue;
		case 'h': fputs(usage_cacerts, stdout); return 0;
		}
		ret = ca_option(&ea, "cacerts", opt, optarg);
		if (ret == 0)
			return tool_bad_option("cacerts", argv);
		if (ret != 1)
			return ret;
	}
	if (optind < argc)
		return tool_usage_error("cacerts", "unexpected argument '%s'", argv[optind]);
	if (!ea.est)
		return tool_usage_error("cacerts", "--est is required");
	if ((ret = ca_args_check(&ea, "cacerts")) != 0 ||
	    (ret = ca_est_make(t, &ea, "cacerts", &e)) != 0)
		return ret;
	st = p11e_est_cacerts(t->ctx, e, &list, &n, &pem, &pemlen);
	p11e_est_free(e);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	ret = out ? tool_write_output(out, pem, pemlen) : 0;
	if (ret == 0 && t->json) {
		json_t *doc = json_array();
		int err = !doc;

		for (size_t i = 0; !err && i < n; i++) {
			json_t *o = json_object();

			err = !o || json_array_append_new(doc, o) != 0;
			err = err ||
			      json_object_set_new(o, "subject", json_string(list[i].subject));
			err = err || json_object_set_new(o, "issuer", json_string(list[i].issuer));
			err = err ||
			      json_object_set_new(o, "sha256", json_string(list[i].fingerprint));
			err = err || json_object_set_new(o, "ca", json_boolean(list[i].authority));
		}
		ret = tool_json_emit(tool_json_unless(doc, err));
	} else if (ret == 0) {
		for (size_t i = 0; i < n; i++) {
			colon_hex(list[i].fingerprint, fp, sizeof(fp));
			printf("subject: %s\nissuer:  %s\nsha256:  %s\n%s",
			       tool_esc(list[i].subject), tool_esc(list[i].issuer), fp,
			       i + 1 < n ? "\n" : "");
		}
	}
	p11e_cacert_list_free(list, n);
	p11e_free(pem);
	return ret;
}
