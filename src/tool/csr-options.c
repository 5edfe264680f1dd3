/*
 * csr-options.c - the request options csr and enroll share.
 */
#include "config.h"

#include <string.h>

#include "csr-options.h"

void csr_args_init(struct csr_args *a)
{
	memset(a, 0, sizeof(*a));
	a->opts.san = a->san;
	a->opts.ext = a->ext;
}

int csr_option(struct csr_args *a, const char *cmd, int opt, const char *arg)
{
	switch (opt) {
	case OPT_CONFIG: a->opts.config = arg; return 1;
	case OPT_SUBJECT: a->opts.subject = arg; return 1;
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
	case OPT_DIGEST: a->opts.digest = arg; return 1;
	case OPT_PSS: a->opts.pss = 1; return 1;
	case OPT_PROFILE: a->opts.profile = arg; return 1;
	case OPT_DER: a->opts.der = 1; return 1;
	case 'o':
	case OPT_OUT: a->out = arg; return 1;
	case OPT_BACKEND:
		if (strcmp(arg, "provider") == 0 || strcmp(arg, "engine") == 0) {
			a->opts.engine = strcmp(arg, "engine") == 0;
			return 1;
		}
		return tool_usage_error(cmd, "unknown --backend '%s' (provider or engine)", arg);
	}
	return 0;
}
