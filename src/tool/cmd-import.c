/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-import.c - p11enroll import
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "tool.h"

const char usage_import[] =
	"Usage: p11enroll [GLOBAL OPTIONS] import CERTFILE [--chain FILE] [--key URI|LABEL]\n"
	"                 [--label L] [--allow-expired]\n"
	"Write the certificate in CERTFILE (PEM, DER or PKCS#7) onto the token, bound\n"
	"to the private key whose public key it carries; the file's other certificates\n"
	"and --chain go on as CA certificates, each once.\n"
	"\n"
	"Options:\n"
	"  --chain FILE       CA certificates to write too\n"
	"  --key URI|LABEL    the key it must belong to (default: found by public key)\n"
	"  --label L          the certificate's label (default: the key's)\n"
	"  --allow-expired    import a certificate outside its validity period\n"
	"  --help             show this help\n";

enum { OPT_CHAIN = 256, OPT_KEY, OPT_LABEL, OPT_ALLOW_EXPIRED };

int cmd_import(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "chain", required_argument, NULL, OPT_CHAIN },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "allow-expired", no_argument, NULL, OPT_ALLOW_EXPIRED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *chain = NULL, *key = NULL, *label = NULL;
	unsigned flags = 0;
	int opt, ret;
	p11e_import_result r;
	p11e_status st;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_CHAIN: chain = optarg; break;
		case OPT_KEY: key = optarg; break;
		case OPT_LABEL: label = optarg; break;
		case OPT_ALLOW_EXPIRED: flags |= P11E_IMPORT_ALLOW_EXPIRED; break;
		case 'h': fputs(usage_import, stdout); return 0;
		default: return tool_bad_option("import", argv);
		}
	}
	if (optind + 1 != argc)
		return tool_usage_error("import", "give one certificate file");
	if ((ret = tool_login(t)) != 0)
		return ret;
	st = p11e_import(t->ctx, argv[optind], chain, key, label, flags, &r);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	if (t->json) {
		json_t *doc = json_object();
		int err = !doc;

		err = err || tool_json_set_text(doc, "label", r.label) != 0;
		err = err || tool_json_set_text(doc, "uri", r.uri ? r.uri : "") != 0;
		err = err || json_object_set_new(doc, "already", json_boolean(r.already)) != 0;
		err = err || json_object_set_new(doc, "chain_written",
		                                 json_integer((json_int_t)r.chain_written)) != 0;
		err = err || tool_json_set_text(doc, "key_uri", r.key.uri ? r.key.uri : "") != 0;
		ret = tool_json_emit(tool_json_unless(doc, err));
	} else {
		if (r.already)
			tool_info(t, "the certificate is on the token already\n");
		if (r.chain_written)
			tool_info(t, "%zu CA certificate%s written\n", r.chain_written,
			          r.chain_written == 1 ? "" : "s");
		printf("%s\n", tool_esc(r.uri));
		ret = 0;
	}
	p11e_import_result_clear(&r);
	return ret;
}
