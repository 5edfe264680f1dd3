/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-csr.c - p11enroll csr
 */
#include "config.h"

#include <stdio.h>

#include "csr-options.h"

const char usage_csr[] = "Usage: p11enroll [GLOBAL OPTIONS] csr --key URI|LABEL [OPTIONS]\n"
			 "Write a PKCS#10 request for a key on the token, signed by the token and\n"
			 "verified before it is written.\n"
			 "\n"
			 "Options:\n"
			 "  --key URI|LABEL   the private key: its pkcs11: URI or label\n" CSR_USAGE
			 "  --help            show this help\n";

enum { OPT_KEY = 256 };

int cmd_csr(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, OPT_KEY },
		CSR_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct csr_args a;
	const char *keyspec = NULL;
	unsigned char *req = NULL;
	size_t len = 0;
	p11e_key key;
	p11e_req *r = NULL;
	p11e_status st;
	int opt, ret;

	csr_args_init(&a);
	while ((opt = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		if (opt == OPT_KEY) {
			keyspec = optarg;
			continue;
		}
		if (opt == 'h') {
			fputs(usage_csr, stdout);
			return 0;
		}
		ret = csr_option(&a, "csr", opt, optarg);
		if (ret == 0)
			return tool_bad_option("csr", argv);
		if (ret != 1)
			return ret;
	}
	if (optind < argc)
		return tool_usage_error("csr", "unexpected argument '%s'", argv[optind]);
	if (!keyspec)
		return tool_usage_error("csr", "--key is required");
	if ((ret = csr_args_req(&a, &r)) != 0)
		return ret;
	if ((ret = tool_login(t)) != 0) {
		p11e_req_free(r);
		return ret;
	}
	st = p11e_key_find(t->ctx, keyspec, &key);
	if (st == P11E_OK)
		st = p11e_csr_make(t->ctx, &key, r, a.format, &req, &len);
	if (st != P11E_OK)
		ret = tool_fail(t, st, NULL);
	else
		ret = tool_write_output(a.out, req, len);
	p11e_free(req);
	p11e_req_free(r);
	p11e_key_clear(&key);
	return ret;
}
