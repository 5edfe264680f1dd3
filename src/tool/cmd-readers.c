/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-readers.c - p11enroll readers: the PC/SC readers, their cards, and the
 * PKCS#11 slot each one backs in the module.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

const char usage_readers[] =
	"Usage: p11enroll [GLOBAL OPTIONS] readers\n"
	"List the card readers pcscd knows: name, whether a card is in it, whether a\n"
	"program has the card open (in use) or holds it exclusively, the card's ATR,\n"
	"and the PKCS#11 slot of the module that the reader backs (matched by the\n"
	"slot description, which OpenSC sets to the reader's name), or 'no slot'.\n"
	"\n"
	"Options:\n"
	"  --help    show this help\n";

void tool_atr_hex(const p11e_reader *r, char *out, size_t size)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->atr_len && at + 4 <= size; i++)
		at += (size_t)snprintf(out + at, 4, "%s%02x", i ? ":" : "", r->atr[i]);
}

static json_t *slot_json(const p11e_slot *s, size_t more)
{
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	err |= json_object_set_new(o, "slot_id", json_integer((json_int_t)s->slot_id));
	err |= json_object_set_new(o, "token_present", json_boolean(s->token_present));
	if (s->token_present) {
		err |= tool_json_set_text(o, "label", s->label);
		err |= tool_json_set_text(o, "serial", s->serial);
		err |= tool_json_set_text(o, "uri", s->uri);
	}
	err |= json_object_set_new(o, "more_slots", json_integer((json_int_t)more));
	return tool_json_unless(o, err);
}

json_t *tool_reader_json(const p11e_reader *r)
{
	char atr[3 * sizeof(r->atr) + 1];
	json_t *o = json_object();
	int err = 0;

	if (!o)
		return NULL;
	tool_atr_hex(r, atr, sizeof(atr));
	err |= tool_json_set_text(o, "name", r->name);
	err |= json_object_set_new(o, "card_present", json_boolean(r->card_present));
	err |= json_object_set_new(o, "in_use", json_boolean(r->in_use));
	err |= json_object_set_new(o, "exclusive", json_boolean(r->exclusive));
	err |= json_object_set_new(o, "mute", json_boolean(r->mute));
	err |= json_object_set_new(o, "atr", r->atr_len ? json_string(atr) : json_null());
	return tool_json_unless(o, err);
}

static json_t *reader_json(const p11e_reader *r, const p11e_slot *slots, size_t nslots)
{
	size_t more = 0;
	long at = p11e_reader_slot(r, slots, nslots, &more);
	json_t *o = tool_reader_json(r);

	if (o && json_object_set_new(o, "slot",
	                             at < 0 ? json_null() : slot_json(&slots[at], more)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void reader_print(const p11e_reader *r, const p11e_slot *slots, size_t nslots)
{
	char atr[3 * sizeof(r->atr) + 1];
	size_t more = 0;
	long at = p11e_reader_slot(r, slots, nslots, &more);

	tool_atr_hex(r, atr, sizeof(atr));
	printf("reader: %s\n", tool_esc(r->name));
	if (!r->card_present)
		printf("  %-13s absent\n", "card:");
	else if (r->mute)
		printf("  %-13s present, mute (no ATR)\n", "card:");
	else
		printf("  %-13s present%s%s\n", "card:", r->exclusive ? ", held exclusively" : "",
		       r->in_use ? ", in use" : "");
	if (r->atr_len)
		printf("  %-13s %s\n", "atr:", atr);
	if (at < 0) {
		printf("  %-13s no slot in the module\n", "slot:");
		return;
	}
	if (slots[at].token_present)
		printf("  %-13s %lu, token '%s' (serial %s)\n", "slot:", slots[at].slot_id,
		       tool_esc(slots[at].label), tool_esc(slots[at].serial));
	else
		printf("  %-13s %lu, no token\n", "slot:", slots[at].slot_id);
	if (more)
		printf("  %-13s %zu more slot%s of this reader\n", "", more, more == 1 ? "" : "s");
	if (slots[at].token_present)
		printf("  %-13s %s\n", "uri:", tool_esc(slots[at].uri));
}

int cmd_readers(struct tool *t, int argc, char **argv)
{
	p11e_reader *readers = NULL;
	p11e_slot *slots = NULL;
	size_t n = 0, nslots = 0;
	p11e_status st;
	int ret = tool_no_options("readers", usage_readers, argc, argv);

	if (ret >= 0)
		return ret;
	tool_no_login(t);
	/* pcscd first: without it there is nothing to match slots to */
	st = p11e_reader_list(t->ctx, &readers, &n);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	if ((ret = tool_load_module(t)) != 0)
		goto done;
	st = p11e_slot_list(t->ctx, &slots, &nslots);
	if (st != P11E_OK) {
		ret = tool_fail(t, st, NULL);
		goto done;
	}
	if (t->json) {
		json_t *arr = json_array();

		for (size_t i = 0; arr && i < n; i++)
			if (json_array_append_new(arr, reader_json(&readers[i], slots, nslots)) !=
			    0) {
				json_decref(arr);
				arr = NULL;
			}
		ret = tool_json_emit(arr);
	} else {
		if (n == 0)
			printf("no card reader (pcscd knows none)\n");
		for (size_t i = 0; i < n; i++)
			reader_print(&readers[i], slots, nslots);
	}
done:
	p11e_slot_list_free(slots, nslots);
	p11e_reader_list_free(readers, n);
	return ret;
}
