/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-list.c - p11enroll list
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "tool.h"

const char usage_list[] =
	"Usage: p11enroll [GLOBAL OPTIONS] list\n"
	"List the token's keys and certificates, how they pair up by id, their\n"
	"attributes and expiry.  Logs in (--pin): private keys are private objects.\n"
	"\n"
	"Options:\n"
	"  --help    show this help\n";

static void iso(long long t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, len, "?");
}

static const char *class_name(p11e_obj_class c)
{
	return c == P11E_OBJ_PRIVATE_KEY  ? "private-key"
	       : c == P11E_OBJ_PUBLIC_KEY ? "public-key"
	                                  : "certificate";
}

/* The id (hex) of the private key a certificate belongs to, or NULL. */
static json_t *key_id_of(const p11e_object *o)
{
	char hex[2 * sizeof(o->id) + 1] = "";

	if (!o->paired)
		return json_null();
	for (size_t i = 0; i < o->id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", o->id[i]);
	return json_string(hex);
}

/*
 * A private key that may also decrypt: CKA_DECRYPT as the token reports it,
 * on a token whose quirk file declares that (key_may_decrypt).
 */
static json_t *decrypt_json(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static json_t *object_json(const p11e_object *o, long long now)
{
	char nb[32], na[32];
	long days;
	json_t *j;
	int err = 0;

	if (o->cls != P11E_OBJ_CERTIFICATE) {
		j = tool_key_json(&o->key);
		if (!j)
			return NULL;
		err |= json_object_set_new(j, "class", json_string(class_name(o->cls)));
		err |= tool_json_set_text(j, "label", o->label);
		err |= tool_json_set_text(j, "uri", o->uri ? o->uri : "");
		err |= json_object_set_new(j, "has_certificate", json_boolean(o->paired));
		if (o->cls == P11E_OBJ_PRIVATE_KEY)
			err |= json_object_set_new(j, "decrypt", decrypt_json(o->key.decrypt));
		goto done;
	}
	j = json_object();
	if (!j)
		return NULL;
	iso(o->not_before, nb, sizeof(nb));
	iso(o->not_after, na, sizeof(na));
	p11e_cert_state_of(o, now, 30, 5, &days);
	err |= json_object_set_new(j, "class", json_string("certificate"));
	err |= tool_json_set_text(j, "label", o->label);
	err |= json_object_set_new(j, "id", json_string(""));
	err |= tool_json_set_text(j, "uri", o->uri ? o->uri : "");
	err |= tool_json_set_text(j, "subject", o->subject ? o->subject : "");
	err |= tool_json_set_text(j, "issuer", o->issuer ? o->issuer : "");
	err |= tool_json_set_text(j, "serial", o->serial ? o->serial : "");
	err |= json_object_set_new(j, "not_before", json_string(nb));
	err |= json_object_set_new(j, "not_after", json_string(na));
	err |= json_object_set_new(j, "days_left", json_integer(days));
	err |= json_object_set_new(j, "authority", json_boolean(o->authority));
	err |= json_object_set_new(j, "key_id", key_id_of(o));
done:
	return tool_json_unless(j, err);
}

static void object_print(const p11e_object *o, long long now, const char *quirk_file)
{
	char na[32];
	long days;

	if (o->cls == P11E_OBJ_CERTIFICATE) {
		iso(o->not_after, na, sizeof(na));
		p11e_cert_state_of(o, now, 30, 5, &days);
		printf("certificate '%s'%s%s\n", tool_esc(o->label), o->authority ? " (CA)" : "",
		       o->authority || o->paired ? "" : " (no key on the token)");
		printf("  %-13s %s\n", "subject:", o->subject ? tool_esc(o->subject) : "?");
		printf("  %-13s %s\n", "issuer:", o->issuer ? tool_esc(o->issuer) : "?");
		printf("  %-13s %s (%ld days left)\n", "not after:", na, days);
	} else {
		printf("%s '%s'%s\n", o->cls == P11E_OBJ_PRIVATE_KEY ? "private key" : "public key",
		       tool_esc(o->label),
		       o->cls == P11E_OBJ_PRIVATE_KEY && !o->paired ? " (no certificate yet)" : "");
		if (o->key.type == P11E_KEY_EC)
			printf("  %-13s ec:%s\n",
			       "type:", o->key.curve[0] ? tool_esc(o->key.curve) : "?");
		else if (o->key.type == P11E_KEY_RSA)
			printf("  %-13s rsa:%u\n", "type:", o->key.bits);
		else
			printf("  %-13s other (neither RSA nor EC)\n", "type:");
		if (o->cls == P11E_OBJ_PRIVATE_KEY && o->key.decrypt == 1)
			printf("  %-13s yes (CKA_DECRYPT; tokens/%s)\n",
			       "may decrypt:", quirk_file ? quirk_file : "?");
	}
	printf("  %-13s %s\n", "uri:", tool_esc(o->uri));
}

/* id hex in JSON for every object, as DESIGN.md's list schema asks; 0 or -1 */
static int set_id(json_t *j, const p11e_object *o)
{
	char hex[2 * sizeof(o->id) + 1] = "";

	for (size_t i = 0; i < o->id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", o->id[i]);
	return json_object_set_new(j, "id", json_string(hex));
}

int cmd_list(struct tool *t, int argc, char **argv)
{
	p11e_object *objs = NULL;
	size_t n = 0;
	long long now = (long long)time(NULL);
	const char *quirk_file = NULL;
	p11e_status st;
	json_t *arr;
	int ret = tool_no_options("list", usage_list, argc, argv);

	if (ret >= 0)
		return ret;
	if ((ret = tool_login(t)) != 0)
		return ret;
	st = p11e_list(t->ctx, P11E_LIST_KEYS, &objs, &n);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	if (t->json) {
		arr = json_array();
		for (size_t i = 0; arr && i < n; i++) {
			json_t *j = object_json(&objs[i], now);

			j = tool_json_unless(j, j && set_id(j, &objs[i]) != 0);
			if (json_array_append_new(arr, j) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		ret = tool_json_emit(arr);
	} else {
		if (!n)
			printf("token '%s' holds no keys or certificates\n",
			       tool_esc(p11e_token_selected(t->ctx)->label));
		if (p11e_token_quirks(t->ctx, p11e_token_selected(t->ctx), &quirk_file) != P11E_OK)
			quirk_file = NULL;
		for (size_t i = 0; i < n; i++)
			object_print(&objs[i], now, quirk_file);
		ret = 0;
	}
	p11e_list_free(objs, n);
	return ret;
}
