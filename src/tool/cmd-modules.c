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

	if (!o)
		return NULL;
	json_object_set_new(o, "name", m->name ? json_string(m->name) : json_null());
	json_object_set_new(o, "path", m->path ? json_string(m->path) : json_null());
	json_object_set_new(o, "description",
	                    m->description ? json_string(m->description) : json_null());
	json_object_set_new(o, "manufacturer",
	                    m->manufacturer ? json_string(m->manufacturer) : json_null());
	snprintf(ver, sizeof(ver), "%u.%u", m->cryptoki_major, m->cryptoki_minor);
	json_object_set_new(o, "cryptoki_version", m->loaded ? json_string(ver) : json_null());
	snprintf(ver, sizeof(ver), "%u.%u", m->library_major, m->library_minor);
	json_object_set_new(o, "library_version", m->loaded ? json_string(ver) : json_null());
	json_object_set_new(o, "uri", m->uri ? json_string(m->uri) : json_null());
	json_object_set_new(o, "loaded", json_boolean(m->loaded));
	return o;
}

static void module_print(const p11e_module_info *m)
{
	printf("%s: %s\n", m->name ? m->name : "(unregistered)", m->path ? m->path : "?");
	if (!m->loaded) {
		printf("  (failed to initialise; -v tells why)\n");
		return;
	}
	printf("  %-13s %s\n", "description:", m->description ? m->description : "");
	printf("  %-13s %s\n", "manufacturer:", m->manufacturer ? m->manufacturer : "");
	printf("  %-13s cryptoki %u.%u, library %u.%u\n", "versions:", m->cryptoki_major,
	       m->cryptoki_minor, m->library_major, m->library_minor);
	printf("  %-13s %s\n", "uri:", m->uri ? m->uri : "");
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
			json_array_append_new(arr, module_json(&mods[i]));
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
