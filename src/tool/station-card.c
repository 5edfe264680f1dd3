/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * station-card.c - one card of p11enroll station, in a worker process of
 * its own: the module is loaded afresh for each card (a new card, a new
 * slot list; SoftHSM offers its next blank token only to a new load), the
 * card's token is found, initialised when it is blank and the recipe says
 * so, logged in to, and the recipe's identities are made on it by apply's
 * per-identity work (apply-token.c), kept as events.
 *
 * A card is all or nothing: when one of its identities fails, the keys made
 * for the others in this run are destroyed again and their requests taken
 * out of the outbox, so that a failed card holds what it held before (a
 * blank card the station initialised stays initialised, with no key: the
 * next run on it finds it so and goes on).  One JSON line goes to fd.
 */
#include "config.h"

#include <errno.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"

/* The recipe's label for card number n ("%n": n, "%%": %); 32 bytes at most. */
static int make_label(const char *tpl, unsigned n, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = tpl; *p; p++) {
		char num[16];
		const char *add = num;

		if (*p == '%' && p[1] == 'n')
			snprintf(num, sizeof(num), "%u", n), p++;
		else if (*p == '%' && p[1] == '%')
			add = "%", p++;
		else
			num[0] = *p, num[1] = '\0';
		if (o + strlen(add) >= size)
			return -1;
		memcpy(out + o, add, strlen(add));
		o += strlen(add);
	}
	out[o] = '\0';
	return 0;
}

/* Choose the card's token on ctx (module loaded); *msg: a failure of ours. */
static p11e_status select_card_token(p11e_ctx *ctx, const p11e_station *stn, const p11e_reader *r,
                                     const char **msg)
{
	p11e_slot *slots = NULL;
	size_t n = 0, more = 0;
	long at;
	p11e_status st;

	switch (stn->token) {
	case P11E_STATION_TOKEN_BLANK: return p11e_token_select_for_init(ctx, NULL, -1, NULL);
	case P11E_STATION_TOKEN_URI: return p11e_token_select_for_init(ctx, stn->uri, -1, NULL);
	case P11E_STATION_TOKEN_READER: break;
	}
	if ((st = p11e_slot_list(ctx, &slots, &n)) != P11E_OK)
		return st;
	at = r->name ? p11e_reader_slot(r, slots, n, &more) : -1;
	if (at < 0) {
		*msg = "no slot of the module names the card's reader: give the module that "
		       "serves it, or choose the token in the recipe (token = URI or blank)";
		st = P11E_ERR_NOT_FOUND;
	} else if (!slots[at].token_present) {
		*msg = "the card's reader has no token in the module: is the card one the "
		       "module knows?";
		st = P11E_ERR_TOKEN;
	} else {
		st = p11e_token_select_for_init(ctx, NULL, (long)slots[at].slot_id, NULL);
	}
	p11e_slot_list_free(slots, n);
	return st;
}

/* Initialise a blank token, then log in: the card's token, ready for its identities. */
static p11e_status prepare(const struct station_run *sr, p11e_ctx *ctx, unsigned card, json_t *doc,
                           const char **msg)
{
	const p11e_station *stn = sr->station;
	const p11e_slot *s;
	char label[33];
	p11e_status st;

	if ((st = select_card_token(ctx, stn, sr->reader, msg)) != P11E_OK)
		return st;
	s = p11e_token_selected(ctx);
	if (!(s->token_flags & CKF_TOKEN_INITIALIZED)) {
		if (!stn->init) {
			*msg = "the card's token is blank and the recipe initialises no token: add "
			       "init = yes and a label to its [station]";
			return P11E_ERR_TOKEN;
		}
		if (make_label(stn->label, card, label, sizeof(label)) != 0) {
			*msg = "the recipe's label for this card is longer than 32 bytes: shorten "
			       "it";
			return P11E_ERR_INPUT;
		}
		if ((st = p11e_init_token_check(ctx, label, 0)) != P11E_OK ||
		    (st = p11e_init_token(ctx, label, sr->so_pin, sr->pin, 0)) != P11E_OK)
			return st;
		json_object_set_new(doc, "initialised", json_true());
		s = p11e_token_selected(ctx);
	}
	tool_json_set_text(doc, "token", s->label);
	tool_json_set_text(doc, "serial", s->serial);
	tool_json_set_text(doc, "token_uri", s->uri);
	if ((st = p11e_pin_guard(ctx, P11E_PIN_USER)) != P11E_OK)
		return st;
	return p11e_login(ctx, P11E_PIN_USER, sr->pin);
}

/* The keys this card got in this run go again, and their requests: all or nothing. */
static void undo(p11e_ctx *ctx, json_t *events)
{
	for (size_t i = 0; i < json_array_size(events); i++) {
		json_t *ev = json_array_get(events, i);
		const char *result = json_string_value(json_object_get(ev, "result"));
		const char *action = json_string_value(json_object_get(ev, "action"));
		const char *uri = json_string_value(json_object_get(ev, "key_uri"));
		const char *csr = json_string_value(json_object_get(ev, "csr"));
		p11e_key key;
		size_t ncerts = 0;
		int ok;

		if (!result || strcmp(result, "ok") != 0 || !action ||
		    strcmp(action, "create") != 0 || !uri)
			continue;
		memset(&key, 0, sizeof(key));
		ok = p11e_retire_plan(ctx, uri, P11E_RETIRE_FORCE, &key, &ncerts) == P11E_OK &&
		     p11e_retire(ctx, &key, P11E_RETIRE_FORCE) == P11E_OK;
		p11e_key_clear(&key);
		if (ok && csr && unlink(csr) != 0 && errno != ENOENT)
			ok = 0;
		json_object_set_new(ev, "result", json_string(ok ? "undone" : "failed"));
		if (!ok)
			tool_json_set_text(ev, "error", p11e_error_message(ctx));
	}
}

int station_card(const struct station_run *sr, unsigned card, double inserted, int fd)
{
	p11e_manifest_token tok;
	json_t *doc = json_object(), *events = json_array();
	const char *msg = NULL, *result = "failed";
	struct tool t;
	p11e_ctx *ctx;
	p11e_status st;
	char atr[3 * sizeof(sr->reader->atr) + 1];
	char *line;
	int ret = P11E_ERR_FAILED;

	memset(&t, 0, sizeof(t));
	memset(&tok, 0, sizeof(tok));
	t.verbosity = sr->apply.verbosity;
	if (!doc || !events || !(ctx = t.ctx = p11e_ctx_new())) {
		json_decref(doc);
		json_decref(events);
		return P11E_ERR_FAILED;
	}
	p11e_ctx_set_log(ctx, tool_log, &t);
	p11e_ctx_set_flags(ctx, sr->apply.force ? P11E_CTX_FORCE_LAST_PIN_TRY : 0);
	json_object_set_new(doc, "event", json_string("card"));
	json_object_set_new(doc, "card", json_integer(card));
	tool_json_set_text(doc, "reader", sr->reader->name);
	tool_atr_hex(sr->reader, atr, sizeof(atr));
	json_object_set_new(doc, "atr", sr->reader->atr_len ? json_string(atr) : json_null());
	json_object_set_new(doc, "initialised", json_false());
	/* from the card's arrival to the first PKCS#11 call (C_GetFunctionList) */
	json_object_set_new(doc, "first_call_seconds", json_real(apply_now() - inserted));
	st = p11e_module_load(ctx, sr->station->module ? sr->station->module : sr->apply.module);
	if (st == P11E_OK)
		st = prepare(sr, ctx, card, doc, &msg);
	if (st == P11E_OK) {
		const p11e_slot *s = p11e_token_selected(ctx);

		tok.name = s->label;
		tok.uri = s->uri;
		apply_identities(&sr->apply, &tok, ctx, st, sr->ids, sr->n, -1, events);
		result = "ok";
		for (size_t i = 0; i < json_array_size(events); i++) {
			const char *r = json_string_value(
				json_object_get(json_array_get(events, i), "result"));

			if (!r || strcmp(r, "failed") == 0)
				result = "failed";
		}
		if (strcmp(result, "ok") != 0) {
			undo(ctx, events);
			msg = "an identity failed: the keys made on this card were removed again";
		}
		json_object_set(doc, "identities", events);
	} else {
		tool_json_set_text(doc, "error", msg ? msg : p11e_error_message(ctx));
		if (!msg && p11e_error_reason(ctx) != P11E_REASON_NONE)
			json_object_set_new(doc, "reason",
			                    json_string(p11e_reason_name(p11e_error_reason(ctx))));
		json_object_set_new(doc, "identities", json_array());
	}
	if (msg && st == P11E_OK)
		tool_json_set_text(doc, "error", msg);
	json_object_set_new(doc, "result", json_string(result));
	json_object_set_new(doc, "seconds", json_real(apply_now() - inserted));
	if ((line = json_dumps(doc, JSON_COMPACT))) {
		size_t len = strlen(line);

		if (write(fd, line, len) == (ssize_t)len && write(fd, "\n", 1) == 1)
			ret = strcmp(result, "ok") == 0 ? 0 : 1;
		free(line);
	}
	json_decref(events);
	json_decref(doc);
	p11e_ctx_free(ctx);
	return ret;
}
