/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-modules.c - p11enroll modules
 */
#include "config.h"

#include <stdio.h>

#include "tool.h"

const char usage_modules[] = "Usage: p11enroll [GLOBAL OPTIONS] modules\n"
			     "List the PKCS#11 module given with --module, or else every module\n"
			     "registered with p11-kit: name, path, description, versions, URI.\n"
			     "\n"
			     "Options:\n"
			     "  --help    show this help\n";

static json_t *module_json(const p11e_module_info *m)
{
	char ver[32];
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	err |= tool_json_set_text(o, "name", m->name);
	err |= tool_json_set_text(o, "path", m->path);
	err |= tool_json_set_text(o, "description", m->description);
	err |= tool_json_set_text(o, "manufacturer", m->manufacturer);
	snprintf(ver, sizeof(ver), "%u.%u", m->cryptoki_major, m->cryptoki_minor);
	err |= json_object_set_new(o, "cryptoki_version",
	                           m->loaded ? json_string(ver) : json_null());
	snprintf(ver, sizeof(ver), "%u.%u", m->library_major, m->library_minor);
	err |= json_object_set_new(o, "library_version",
	                           m->loaded ? json_string(ver) : json_null());
	err |= tool_json_set_text(o, "uri", m->uri);
	err |= json_object_set_new(o, "loaded", json_boolean(m->loaded));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void module_print(const p11e_module_info *m)
{
	printf("%s: %s\n", m->name ? tool_esc(m->name) : "(unregistered)",
	       m->path ? tool_esc(m->path) : "?");
	if (!m->loaded) {
		printf("  (failed to initialise; -v tells why)\n");
		return;
	}
	printf("  %-13s %s\n", "description:", tool_esc(m->description));
	printf("  %-13s %s\n", "manufacturer:", tool_esc(m->manufacturer));
	printf("  %-13s cryptoki %u.%u, library %u.%u\n", "versions:", m->cryptoki_major,
	       m->cryptoki_minor, m->library_major, m->library_minor);
	printf("  %-13s %s\n", "uri:", tool_esc(m->uri));
}

int cmd_modules(struct tool *t, int argc, char **argv)
{
	p11e_module_info *mods = NULL;
	size_t n = 0, i;
	p11e_status st;
	json_t *arr;
	int ret = tool_no_options("modules", usage_modules, argc, argv);

	if (ret >= 0)
		return ret;
	/* without --module: describe the registry, not the proxy */
	tool_no_login(t);
	if (t->module && (ret = tool_load_module(t)) != 0)
		return ret;
	st = p11e_module_list(t->ctx, &mods, &n);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	if (t->json) {
		arr = json_array();
		for (i = 0; arr && i < n; i++)
			if (json_array_append_new(arr, module_json(&mods[i])) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		ret = tool_json_emit(arr);
	} else {
		if (n == 0)
			printf("no PKCS#11 modules are registered with p11-kit\n");
		for (i = 0; i < n; i++)
			module_print(&mods[i]);
		ret = 0;
	}
	p11e_module_list_free(mods, n);
	return ret;
}
