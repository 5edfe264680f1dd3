/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-enroll.c - p11enroll enroll
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ca.h"
#include "csr-options.h"

const char usage_enroll[] =
	"Usage: p11enroll [GLOBAL OPTIONS] enroll --label L [--id HEX] [--type TYPE] [OPTIONS]\n"
	"keygen and csr in one step, safe to run again: a key with this label and\n"
	"no certificate yet is reused, and a fresh request written.\n"
	"\n"
	"Options:\n"
	"  --label L         the key label\n"
	"  --id HEX          CKA_ID for a new key (default: SHA-1 of the public key)\n"
	"  --type TYPE       rsa:2048 (default), rsa:3072, rsa:4096, ec:P-256, ec:P-384,\n"
	"                    ec:P-521\n" CSR_USAGE CA_USAGE "  --help            show this help\n";

enum { OPT_LABEL = 256, OPT_ID, OPT_TYPE };

int cmd_enroll(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "id", required_argument, NULL, OPT_ID },
		{ "type", required_argument, NULL, OPT_TYPE },
		CSR_LONG_OPTIONS,
		CA_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct csr_args a;
	struct ca_args ca;
	const char *label = NULL, *type = NULL;
	unsigned char id[64], *req = NULL;
	size_t id_len = 0, len = 0;
	p11e_key key;
	p11e_req *r = NULL;
	p11e_status st;
	int opt, ret, reused = 0;

	csr_args_init(&a);
	ca_args_init(&ca);
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_LABEL: label = optarg; continue;
		case OPT_TYPE: type = optarg; continue;
		case OPT_ID:
			if (tool_hex_decode(optarg, id, sizeof(id), &id_len) != 0)
				return tool_usage_error("enroll",
				                        "--id '%s' is not 1 to 64 bytes of hex",
				                        optarg);
			continue;
		case 'h': fputs(usage_enroll, stdout); return 0;
		}
		ret = ca_option(&ca, "enroll", opt, optarg);
		if (ret == 0)
			ret = csr_option(&a, "enroll", opt, optarg);
		if (ret == 0)
			return tool_bad_option("enroll", argv);
		if (ret != 1)
			return ret;
	}
	if (optind < argc)
		return tool_usage_error("enroll", "unexpected argument '%s'", argv[optind]);
	if (!label)
		return tool_usage_error("enroll", "--label is required");
	if ((ret = ca_args_check(&ca, "enroll")) != 0)
		return ret;
	if ((ca.cmp || ca.est) && (a.out || a.format != P11E_FORMAT_PEM))
		return tool_usage_error("enroll", "--cmp and --est put the certificate onto the "
		                                  "token: no request is written (-o, --der)");
	if (ca.est && id_len)
		return tool_usage_error("enroll", "--id does not go with --est: the key's CKA_ID "
		                                  "is the SHA-1 of its public key");
	if ((ret = csr_args_req(&a, &r)) != 0)
		return ret;
	if (ca.cmp || ca.est) {
		ret = ca_run(t, &ca, "enroll", type, label, id, id_len, r);
		p11e_req_free(r);
		return ret;
	}
	memset(&key, 0, sizeof(key));
	if ((ret = tool_login(t)) != 0)
		goto cleanup;
	st = p11e_enroll(t->ctx, type, label, id, id_len, r, a.format, &key, &reused, &req, &len);
	if (st != P11E_OK) {
		ret = tool_fail(t, st, NULL);
		goto cleanup;
	}
	if (reused && t->verbosity >= 1)
		fprintf(stderr, "p11enroll: note: reusing key '%s' (no certificate yet): %s\n",
		        tool_esc(key.label), tool_esc(key.uri));
	ret = tool_write_output(a.out, req, len);
	if (ret == 0 && a.out && !t->json)
		printf("%s\n", tool_esc(key.uri));
	if (ret == 0 && t->json) {
		json_t *doc = tool_key_json(&key);
		int err = !doc;

		err = err || json_object_set_new(doc, "reused", json_boolean(reused)) != 0;
		err = err || tool_json_set_text(doc, "csr", a.out) != 0;
		ret = tool_json_emit(tool_json_unless(doc, err));
	}
cleanup:
	p11e_free(req);
	p11e_req_free(r);
	p11e_key_clear(&key);
	return ret;
}
