/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-renew.c - p11enroll renew
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ca.h"
#include "csr-options.h"

const char usage_renew[] =
	"Usage: p11enroll [GLOBAL OPTIONS] renew --key URI|LABEL [--type TYPE] [OPTIONS]\n"
	"Generate a new key next to the old one (label.2, label.3, ...; new id) and\n"
	"write a request with the old certificate's subject, subjectAltName,\n"
	"extendedKeyUsage and keyUsage.  The old key and certificate stay until you\n"
	"retire them.  Request options replace what they name.\n"
	"\n"
	"Options:\n"
	"  --key URI|LABEL   the key to renew\n"
	"  --type TYPE       the new key's type (default: the old key's)\n" CSR_USAGE CA_USAGE
	"  --help            show this help\n";

enum { OPT_KEY = 256, OPT_TYPE };

int cmd_renew(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		{ "type", required_argument, NULL, OPT_TYPE },
		CSR_LONG_OPTIONS,
		CA_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct csr_args a;
	struct ca_args ca;
	const char *keyspec = NULL, *type = NULL;
	unsigned char *req = NULL;
	size_t len = 0;
	p11e_key key;
	p11e_req *r = NULL;
	p11e_status st;
	int opt, ret, reused = 0;

	csr_args_init(&a);
	ca_args_init(&ca);
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_KEY: keyspec = optarg; continue;
		case OPT_TYPE: type = optarg; continue;
		case 'h': fputs(usage_renew, stdout); return 0;
		}
		ret = ca_option(&ca, "renew", opt, optarg);
		if (ret == 0)
			ret = csr_option(&a, "renew", opt, optarg);
		if (ret == 0)
			return tool_bad_option("renew", argv);
		if (ret != 1)
			return ret;
	}
	if (optind < argc)
		return tool_usage_error("renew", "unexpected argument '%s'", argv[optind]);
	if (!keyspec)
		return tool_usage_error("renew", "--key is required");
	if ((ret = ca_args_check(&ca, "renew")) != 0)
		return ret;
	if ((ca.cmp || ca.est) && (a.out || a.format != P11E_FORMAT_PEM))
		return tool_usage_error("renew", "--cmp and --est put the certificate onto the "
		                                 "token: no request is written (-o, --der)");
	if ((ret = csr_args_req(&a, &r)) != 0)
		return ret;
	if (ca.cmp || ca.est) {
		ret = ca_run(t, &ca, "renew", type, keyspec, NULL, 0, r);
		p11e_req_free(r);
		return ret;
	}
	if ((ret = tool_login(t)) != 0)
		goto cleanup;
	st = p11e_renew(t->ctx, keyspec, type, r, a.format, &key, &reused, &req, &len);
	if (st != P11E_OK) {
		ret = tool_fail(t, st, NULL);
		goto cleanup;
	}
	if (reused)
		tool_info(t,
		          "p11enroll: note: reusing '%s', made by an earlier renew and still "
		          "without a certificate\n",
		          tool_esc(key.label));
	ret = tool_write_output(a.out, req, len);
	if (ret == 0 && t->json) {
		json_t *doc = tool_key_json(&key);
		int err = !doc;

		err = err || json_object_set_new(doc, "reused", json_boolean(reused)) != 0;
		err = err || tool_json_set_text(doc, "csr", a.out) != 0;
		ret = tool_json_emit(tool_json_unless(doc, err));
	} else if (ret == 0 && a.out) {
		printf("%s\n", tool_esc(key.uri));
	}
	p11e_key_clear(&key);
cleanup:
	p11e_free(req);
	p11e_req_free(r);
	return ret;
}
