/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * csr-options.c - the request options csr, enroll and renew share, and the
 * library's request (p11e_req) made from them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "csr-options.h"

void csr_args_init(struct csr_args *a)
{
	memset(a, 0, sizeof(*a));
	a->backend = P11E_BACKEND_PROVIDER;
	a->format = P11E_FORMAT_PEM;
}

int csr_option(struct csr_args *a, const char *cmd, int opt, const char *arg)
{
	switch (opt) {
	case OPT_CONFIG: a->config = arg; return 1;
	case OPT_SUBJECT: a->subject = arg; return 1;
	case OPT_SAN:
		if (a->nsan == CSR_MAX_LIST)
			return tool_usage_error(cmd, "more than %d --san options", CSR_MAX_LIST);
		a->san[a->nsan++] = arg;
		return 1;
	case OPT_EXT:
		if (a->next == CSR_MAX_LIST)
			return tool_usage_error(cmd, "more than %d --ext options", CSR_MAX_LIST);
		a->ext[a->next++] = arg;
		return 1;
	case OPT_DIGEST: a->digest = arg; return 1;
	case OPT_PSS: a->flags |= P11E_REQ_PSS; return 1;
	case OPT_ALLOW_WEAK: a->flags |= P11E_REQ_ALLOW_WEAK; return 1;
	case OPT_PROFILE: a->profile = arg; return 1;
	case OPT_DER: a->format = P11E_FORMAT_DER; return 1;
	case 'o':
	case OPT_OUT: a->out = arg; return 1;
	case OPT_BACKEND:
		if (strcmp(arg, "provider") == 0 || strcmp(arg, "engine") == 0) {
			a->backend = strcmp(arg, "engine") == 0 ? P11E_BACKEND_ENGINE
			                                        : P11E_BACKEND_PROVIDER;
			return 1;
		}
		return tool_usage_error(cmd, "unknown --backend '%s' (provider or engine)", arg);
	}
	return 0;
}

int csr_args_req(const struct csr_args *a, p11e_req **out)
{
	p11e_req *req = p11e_req_new();
	p11e_status st = req ? P11E_OK : P11E_ERR_FAILED;

	if (st == P11E_OK)
		st = p11e_req_set_config(req, a->config);
	if (st == P11E_OK)
		st = p11e_req_set_subject(req, a->subject);
	for (size_t i = 0; st == P11E_OK && i < a->nsan; i++)
		st = p11e_req_add_san(req, a->san[i]);
	for (size_t i = 0; st == P11E_OK && i < a->next; i++)
		st = p11e_req_add_ext(req, a->ext[i]);
	if (st == P11E_OK)
		st = p11e_req_set_digest(req, a->digest);
	if (st == P11E_OK)
		st = p11e_req_set_profile(req, a->profile);
	if (st == P11E_OK)
		st = p11e_req_set_flags(req, a->flags);
	if (st == P11E_OK)
		st = p11e_req_set_backend(req, a->backend);
	if (st != P11E_OK) {
		/* only memory can fail here: every value is checked where it is used */
		p11e_req_free(req);
		fprintf(stderr, "p11enroll: out of memory\n");
		return P11E_ERR_FAILED;
	}
	*out = req;
	return 0;
}
