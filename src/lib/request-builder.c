/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * request-builder.c - p11e_req, what a request says and how it is signed,
 * built with setters.  Opaque so that 1.x can add to it without breaking a
 * program built against 1.0; it copies every string, so a caller may build
 * it from temporary buffers.  What it holds is checked where it is used
 * (request.c), where there is a context to say what is wrong.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

p11e_req *p11e_req_new(void)
{
	return calloc(1, sizeof(p11e_req));
}

static void list_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void p11e_req_free(p11e_req *req)
{
	if (!req)
		return;
	free(req->config);
	free(req->subject);
	list_free(req->san, req->nsan);
	list_free(req->ext, req->next);
	free(req->digest);
	free(req->profile);
	free(req);
}

const p11e_req *p11e__req_or_empty(const p11e_req *o)
{
	static const p11e_req empty;

	return o ? o : &empty;
}

static p11e_status set_string(p11e_req *req, char **field, const char *value)
{
	char *copy = NULL;

	if (!req)
		return P11E_ERR_USAGE;
	if (value && !(copy = strdup(value)))
		return P11E_ERR_FAILED;
	free(*field);
	*field = copy;
	return P11E_OK;
}

/* Append a copy of value to the NULL-terminated *list of *n entries. */
static p11e_status list_add(p11e_req *req, char ***list, size_t *n, const char *value)
{
	char **grown, *copy;

	if (!req || !value)
		return P11E_ERR_USAGE;
	copy = strdup(value);
	grown = copy ? realloc(*list, (*n + 2) * sizeof(**list)) : NULL;
	if (!grown) {
		free(copy);
		return P11E_ERR_FAILED;
	}
	grown[(*n)++] = copy;
	grown[*n] = NULL;
	*list = grown;
	return P11E_OK;
}

p11e_status p11e_req_set_config(p11e_req *req, const char *path)
{
	return set_string(req, req ? &req->config : NULL, path);
}

p11e_status p11e_req_set_subject(p11e_req *req, const char *subject)
{
	return set_string(req, req ? &req->subject : NULL, subject);
}

p11e_status p11e_req_add_san(p11e_req *req, const char *san)
{
	return list_add(req, req ? &req->san : NULL, req ? &req->nsan : NULL, san);
}

p11e_status p11e_req_add_ext(p11e_req *req, const char *ext)
{
	return list_add(req, req ? &req->ext : NULL, req ? &req->next : NULL, ext);
}

p11e_status p11e_req_set_digest(p11e_req *req, const char *digest)
{
	return set_string(req, req ? &req->digest : NULL, digest);
}

p11e_status p11e_req_set_profile(p11e_req *req, const char *profile)
{
	return set_string(req, req ? &req->profile : NULL, profile);
}

p11e_status p11e_req_set_flags(p11e_req *req, unsigned flags)
{
	if (!req || (flags & ~(unsigned)(P11E_REQ_PSS | P11E_REQ_ALLOW_WEAK)))
		return P11E_ERR_USAGE;
	req->flags = flags;
	return P11E_OK;
}

p11e_status p11e_req_set_backend(p11e_req *req, p11e_backend backend)
{
	if (!req || (backend != P11E_BACKEND_PROVIDER && backend != P11E_BACKEND_ENGINE))
		return P11E_ERR_USAGE;
	req->backend = backend;
	return P11E_OK;
}
