/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-export.c - p11enroll export
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "tool.h"

const char usage_export[] =
	"Usage: p11enroll [GLOBAL OPTIONS] export --cert URI|LABEL [--chain] [-o FILE] [--der]\n"
	"Write a certificate from the token, and with --chain its issuers found on the\n"
	"token up to the root.  The private key stays on the token: there is no PKCS#12.\n"
	"\n"
	"Options:\n"
	"  --cert URI|LABEL   the certificate\n"
	"  --chain            its issuers too (PEM)\n"
	"  -o, --out FILE     where to write it (default: stdout)\n"
	"  --der              DER instead of PEM\n"
	"  --pkcs12           (refused: explains how to use the key where it is)\n"
	"  --help             show this help\n";

enum { OPT_CERT = 256, OPT_CHAIN, OPT_DER, OPT_PKCS12, OPT_OUT };

/*
 * No PKCS#12: it would hold the private key.  Say what to do instead, with
 * the key's own URI when the certificate is there to name it.
 */
static int refuse_pkcs12(struct tool *t, const char *cert)
{
	char *uri = NULL;

	/* best effort, and quiet: the refusal is the one line to print */
	if (cert && p11e_module_load(t->ctx, t->module) == P11E_OK &&
	    p11e_token_select(t->ctx, t->token) == P11E_OK &&
	    p11e_cert_key_uri(t->ctx, cert, &uri) != P11E_OK)
		uri = NULL;
	fprintf(stderr,
	        "p11enroll: a PKCS#12/PFX file would hold the private key, which never leaves the "
	        "token: export the certificate (export --cert %s -o client.pem) and point the "
	        "client at the key's URI instead: curl --engine pkcs11 --key-type ENG --key '%s' "
	        "--cert client.pem, or openssl ... -engine pkcs11 -keyform engine -key '%s'\n",
	        cert ? tool_esc(cert) : "LABEL", uri ? tool_esc(uri) : "pkcs11:...;type=private",
	        uri ? tool_esc(uri) : "pkcs11:...;type=private");
	p11e_free(uri);
	return P11E_ERR_USAGE;
}

int cmd_export(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "chain", no_argument, NULL, OPT_CHAIN },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "der", no_argument, NULL, OPT_DER },
		{ "pkcs12", no_argument, NULL, OPT_PKCS12 },
		{ "pfx", no_argument, NULL, OPT_PKCS12 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cert = NULL, *out = NULL;
	unsigned flags = 0;
	int pkcs12 = 0, opt, ret;
	unsigned char *data = NULL;
	size_t len = 0;
	p11e_status st;

	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_CERT: cert = optarg; break;
		case OPT_CHAIN: flags |= P11E_EXPORT_CHAIN; break;
		case 'o':
		case OPT_OUT: out = optarg; break;
		case OPT_DER: flags |= P11E_EXPORT_DER; break;
		case OPT_PKCS12: pkcs12 = 1; break;
		case 'h': fputs(usage_export, stdout); return 0;
		default: return tool_bad_option("export", argv);
		}
	}
	if (optind < argc)
		return tool_usage_error("export", "unexpected argument '%s'", argv[optind]);
	if (pkcs12)
		return refuse_pkcs12(t, cert);
	if (!cert)
		return tool_usage_error("export", "--cert is required");
	tool_no_login(t);
	if ((ret = tool_select_token(t)) != 0)
		return ret;
	st = p11e_export(t->ctx, cert, flags, &data, &len);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	ret = tool_write_output(out, data, len);
	p11e_free(data);
	return ret;
}
