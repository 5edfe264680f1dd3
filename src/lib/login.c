/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * login.c - everything that sends a PIN to a token: login, token
 * initialisation, C_SetPIN and C_InitPIN.  Each of them checks the token's
 * PIN flags first, so the tool never spends a last try on its own and never
 * retries a PIN the token rejected.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int is_so(p11e_pin_role role)
{
	return role == P11E_PIN_SO || role == P11E_PIN_NEW_SO;
}

p11e_status p11e_pin_guard(p11e_ctx *ctx, p11e_pin_role role)
{
	CK_FLAGS locked = is_so(role) ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED;
	CK_FLAGS final = is_so(role) ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY;
	CK_FLAGS low = is_so(role) ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW;
	const char *who = is_so(role) ? "SO PIN" : "user PIN";
	p11e_status st;

	if (!ctx->have_slot)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no token selected");
	st = p11e__slot_refresh(ctx);
	if (st != P11E_OK)
		return st;
	if (ctx->slot.token_flags & locked)
		return p11e__fail_why(ctx, P11E_ERR_AUTH,
		                      is_so(role) ? P11E_REASON_SO_PIN_LOCKED
		                                  : P11E_REASON_PIN_LOCKED,
		                      "the %s of token '%s' is locked%s", who, ctx->slot.label,
		                      is_so(role) ? ": only the token vendor's tools can recover it"
		                                  : "");
	if ((ctx->slot.token_flags & final) && !ctx->force)
		return p11e__fail_why(ctx, P11E_ERR_AUTH, P11E_REASON_PIN_LAST_TRY,
		                      "the %s of token '%s' has one try left and a wrong PIN would "
		                      "lock it: nothing was sent",
		                      who, ctx->slot.label);
	if ((ctx->slot.token_flags & final) && !ctx->warned_final++)
		p11e__log(ctx, P11E_LOG_WARN, "spending the last %s try of token '%s' (forced)",
		          who, ctx->slot.label);
	else if ((ctx->slot.token_flags & low) && !ctx->warned_low++)
		p11e__log(ctx, P11E_LOG_WARN, "token '%s' reports failed %s tries", ctx->slot.label,
		          who);
	return P11E_OK;
}

/*
 * A PIN the token rejected: say so, and what the token reports now, so the
 * user knows how many tries are at stake before running anything again.
 */
static p11e_status pin_rejected(p11e_ctx *ctx, const char *what, const char *call, CK_RV rv,
                                p11e_pin_role role)
{
	char msg[sizeof(ctx->message)];
	const char *now = "";
	p11e_status st = p11e__fail_rv(ctx, what, call, rv);
	size_t len;

	if (rv != CKR_PIN_INCORRECT && rv != CKR_PIN_LOCKED)
		return st;
	memcpy(msg, ctx->message, sizeof(msg));
	if (p11e__slot_refresh(ctx) == P11E_OK) {
		if (ctx->slot.token_flags & (is_so(role) ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED))
			now = "; the PIN is now locked";
		else if (ctx->slot.token_flags &
		         (is_so(role) ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY))
			now = "; one try is left";
	}
	memcpy(ctx->message, msg, sizeof(msg));
	len = strlen(ctx->message);
	snprintf(ctx->message + len, sizeof(ctx->message) - len, "%s", now);
	/* keep the failing call as the one reported, not the refresh */
	ctx->last_rv = rv;
	ctx->last_call = call;
	return st;
}

p11e_status p11e_login(p11e_ctx *ctx, p11e_pin_role role, const p11e_pin *pin)
{
	char what[96];
	p11e_status st;
	CK_RV rv;

	p11e__clear_error(ctx);
	st = p11e_pin_guard(ctx, role);
	if (st != P11E_OK)
		return st;
	/* no PIN: the token has a PIN pad, where the user types it (PKCS#11 2.40, C_Login) */
	if (!pin && !(ctx->slot.token_flags & CKF_PROTECTED_AUTHENTICATION_PATH))
		return p11e__fail(ctx, P11E_ERR_AUTH,
		                  "no PIN for token '%s', which has no PIN pad (no protected "
		                  "authentication path)",
		                  ctx->slot.label);
	st = p11e__session_open(ctx, 1);
	if (st != P11E_OK)
		return st;
	if (!pin)
		p11e__log(ctx, P11E_LOG_NOTE, "enter the %s on the reader's PIN pad",
		          is_so(role) ? "SO PIN" : "PIN");
	rv = P11_CALL(ctx, C_Login, ctx->session, is_so(role) ? CKU_SO : CKU_USER,
	              pin ? (CK_UTF8CHAR_PTR)pin->data : NULL, pin ? pin->len : 0);
	/* the token's file is written: others may read it again (lock.c) */
	if (!ctx->module_lock_pinned)
		p11e__module_unlock(ctx);
	if (rv == CKR_USER_ALREADY_LOGGED_IN)
		rv = CKR_OK;
	if (rv != CKR_OK) {
		snprintf(what, sizeof(what), "logging in to token '%s' as %s", ctx->slot.label,
		         is_so(role) ? "SO" : "user");
		return pin_rejected(ctx, what, "C_Login", rv, role);
	}
	ctx->logged_in = 1;
	/* for libp11's engine, which logs in by itself (engine.c); an SO login drops it */
	return p11e__pin_keep(ctx, is_so(role) ? NULL : pin);
}

int p11e_token_pinpad(const p11e_ctx *ctx)
{
	return ctx->have_slot && (ctx->slot.token_flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
}

p11e_status p11e_logout(p11e_ctx *ctx)
{
	CK_RV rv;

	if (!ctx->have_session || !ctx->logged_in)
		return P11E_OK;
	rv = P11_CALL(ctx, C_Logout, ctx->session);
	ctx->logged_in = 0;
	p11e__pin_keep(ctx, NULL);
	if (rv != CKR_OK && rv != CKR_USER_NOT_LOGGED_IN)
		return p11e__fail_rv(ctx, "logging out", "C_Logout", rv);
	return P11E_OK;
}

/*
 * The logout after a PIN was set: the PIN is set whatever C_Logout says, so
 * a failure here is a warning, not a failed command (the token logs out when
 * the session closes).
 */
static void logout_after(p11e_ctx *ctx, const char *what)
{
	if (p11e_logout(ctx) == P11E_OK)
		return;
	p11e__log(ctx, P11E_LOG_WARN,
	          "%s, but logging out failed (%s): the session is closed "
	          "instead",
	          what, p11e_rv_name(ctx->last_rv));
	p11e__clear_error(ctx);
}

static p11e_status check_new_pin(p11e_ctx *ctx, const p11e_pin *pin)
{
	unsigned long min = ctx->slot.min_pin_len, max = ctx->slot.max_pin_len;
	char name[48];

	if (ctx->slot.label[0])
		snprintf(name, sizeof(name), "token '%s'", ctx->slot.label);
	else
		snprintf(name, sizeof(name), "the token in slot %lu", ctx->slot.slot_id);

	if (min != P11E_UNAVAILABLE && min && pin->len < min)
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "the new PIN is %zu characters; %s needs at least %lu", pin->len,
		                  name, min);
	if (max != P11E_UNAVAILABLE && max && pin->len > max)
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "the new PIN is %zu characters; %s takes at most %lu", pin->len,
		                  name, max);
	return P11E_OK;
}

/* C_InitPIN as SO on the selected token, then log out. */
static p11e_status init_user_pin(p11e_ctx *ctx, const p11e_pin *so_pin, const p11e_pin *new_pin)
{
	p11e_status st;
	CK_RV rv;

	st = p11e_login(ctx, P11E_PIN_SO, so_pin);
	if (st != P11E_OK)
		return st;
	rv = P11_CALL(ctx, C_InitPIN, ctx->session, (CK_UTF8CHAR_PTR)new_pin->data, new_pin->len);
	if (rv != CKR_OK) {
		st = p11e__fail_rv(ctx, "setting the user PIN", "C_InitPIN", rv);
		p11e__session_close(ctx);
		return st;
	}
	logout_after(ctx, "the user PIN is set");
	p11e__session_close(ctx);
	return P11E_OK;
}

/*
 * After C_InitToken some modules (SoftHSMv2) move the token to a new slot
 * id.  Find it again: the same slot if it now holds the label, else the one
 * initialised token with that label in a slot that was not there before.
 */
static p11e_status find_initialised(p11e_ctx *ctx, const char *label, const CK_SLOT_ID *old,
                                    size_t nold)
{
	p11e_slot *slots = NULL;
	size_t n = 0, i, j, hits = 0, at = 0;
	p11e_status st;

	st = p11e_slot_list(ctx, &slots, &n);
	if (st != P11E_OK)
		return st;
	for (i = 0; i < n; i++) {
		int was_there = 0;

		if (!slots[i].token_present || !(slots[i].token_flags & CKF_TOKEN_INITIALIZED) ||
		    strcmp(slots[i].label, label) != 0)
			continue;
		if (slots[i].slot_id == ctx->slot.slot_id) {
			hits = 1;
			at = i;
			break;
		}
		for (j = 0; j < nold; j++)
			was_there |= old[j] == slots[i].slot_id;
		if (!was_there && hits++ == 0)
			at = i;
	}
	if (hits == 1) {
		p11e__slot_clear(&ctx->slot);
		ctx->slot = slots[at];
		slots[at].uri = NULL;
		st = P11E_OK;
	} else {
		st = p11e__fail(ctx, P11E_ERR_TOKEN,
		                "token '%s' cannot be found again after C_InitToken", label);
	}
	p11e_slot_list_free(slots, n);
	return st;
}

/*
 * An init-token cut short after C_InitToken: the token has the label but no
 * user PIN.  Running init-token again finishes it (C_InitPIN only) rather
 * than erasing it or initialising a second token with the same label.
 */
int p11e__init_unfinished(const p11e_ctx *ctx, const char *label, int reinit)
{
	return !reinit && (ctx->slot.token_flags & CKF_TOKEN_INITIALIZED) &&
	       !(ctx->slot.token_flags & CKF_USER_PIN_INITIALIZED) &&
	       strcmp(ctx->slot.label, label) == 0;
}

/* After C_InitToken succeeded, a failure must say what is done and what is not. */
static void half_done(p11e_ctx *ctx, const char *label)
{
	size_t len = strlen(ctx->message);

	snprintf(ctx->message + len, sizeof(ctx->message) - len,
	         "; token '%s' is initialised but its user PIN may not be set: run the same "
	         "init-token again to finish",
	         label);
}

p11e_status p11e_init_token_check(p11e_ctx *ctx, const char *label, unsigned flags)
{
	int reinit = (flags & P11E_INIT_REINIT) != 0;
	unsigned char padded[32];
	p11e_status st;

	P11E__FLAGS_CHECK(ctx, "p11e_init_token", flags, P11E_INIT_REINIT);
	if (!ctx->have_slot)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no token selected");
	if (!label || !*label)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_LABEL_MISSING,
		                      "the token label is empty");
	if (p11e__pad(padded, sizeof(padded), label) != 0)
		return p11e__fail(ctx, P11E_ERR_USAGE,
		                  "the label '%s' is %zu bytes; a token label holds at most 32",
		                  label, strlen(label));
	st = p11e__slot_refresh(ctx);
	if (st != P11E_OK)
		return st;
	if (!(ctx->slot.token_flags & CKF_TOKEN_INITIALIZED) ||
	    p11e__init_unfinished(ctx, label, reinit))
		return P11E_OK;
	if (!reinit)
		return p11e__fail_why(ctx, P11E_ERR_USAGE, P11E_REASON_TOKEN_INITIALIZED,
		                      "token '%s' in slot %lu is already initialised and "
		                      "initialising "
		                      "it again erases every key and certificate on it",
		                      ctx->slot.label, ctx->slot.slot_id);
	return p11e_pin_guard(ctx, P11E_PIN_SO);
}

static p11e_status init_token(p11e_ctx *ctx, const char *label, const p11e_pin *so_pin,
                              const p11e_pin *user_pin, unsigned flags);

p11e_status p11e_init_token(p11e_ctx *ctx, const char *label, const p11e_pin *so_pin,
                            const p11e_pin *user_pin, unsigned flags)
{
	p11e_status st;

	/* C_InitToken and C_InitPIN write the token's file: the module lock stays */
	ctx->module_lock_pinned = 1;
	st = init_token(ctx, label, so_pin, user_pin, flags);
	ctx->module_lock_pinned = 0;
	p11e__module_unlock(ctx);
	return st;
}

static p11e_status init_token(p11e_ctx *ctx, const char *label, const p11e_pin *so_pin,
                              const p11e_pin *user_pin, unsigned flags)
{
	int reinit = (flags & P11E_INIT_REINIT) != 0;
	unsigned char padded[32];
	CK_SLOT_ID *old = NULL;
	p11e_slot *slots = NULL;
	size_t nslots = 0, i;
	p11e_status st;
	CK_RV rv;

	p11e__clear_error(ctx);
	st = p11e_init_token_check(ctx, label, flags);
	if (st != P11E_OK)
		return st;
	p11e__pad(padded, sizeof(padded), label);
	if (user_pin) {
		st = check_new_pin(ctx, user_pin);
		if (st != P11E_OK)
			return st;
	}

	st = p11e_slot_list(ctx, &slots, &nslots);
	if (st != P11E_OK)
		return st;
	old = calloc(nslots ? nslots : 1, sizeof(*old));
	if (!old) {
		p11e_slot_list_free(slots, nslots);
		return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
	}
	for (i = 0; i < nslots; i++)
		old[i] = slots[i].slot_id;
	p11e_slot_list_free(slots, nslots);

	/* C_InitToken fails while any session is open on the token */
	p11e__session_close(ctx);
	if (!p11e__init_unfinished(ctx, label, reinit)) {
		rv = P11_CALL(ctx, C_InitToken, ctx->slot.slot_id, (CK_UTF8CHAR_PTR)so_pin->data,
		              so_pin->len, padded);
		if (rv != CKR_OK) {
			char what[96];

			snprintf(what, sizeof(what), "initialising the token in slot %lu",
			         ctx->slot.slot_id);
			st = pin_rejected(ctx, what, "C_InitToken", rv, P11E_PIN_SO);
			goto cleanup;
		}
		st = find_initialised(ctx, label, old, nslots);
	} else {
		p11e__log(ctx, P11E_LOG_NOTE,
		          "token '%s' was initialised before but has no user PIN: setting it",
		          label);
	}
	if (st == P11E_OK && user_pin)
		st = init_user_pin(ctx, so_pin, user_pin);
	if (st != P11E_OK) {
		half_done(ctx, label);
		goto cleanup;
	}
	/* the job is done: a failed re-read only leaves the description older */
	if (p11e__slot_refresh(ctx) != P11E_OK)
		p11e__clear_error(ctx);
cleanup:
	free(old);
	return st;
}

/* A token to set a new PIN on, and a new PIN it takes. */
static p11e_status new_pin_ready(p11e_ctx *ctx, const p11e_pin *new_pin)
{
	p11e_status st;

	p11e__clear_error(ctx);
	if (!ctx->have_slot)
		return p11e__fail(ctx, P11E_ERR_USAGE, "no token selected");
	st = p11e__slot_refresh(ctx);
	return st == P11E_OK ? check_new_pin(ctx, new_pin) : st;
}

static p11e_status pin_change(p11e_ctx *ctx, const p11e_pin *old_pin, const p11e_pin *new_pin);

/*
 * The PIN functions write the token's file after the login as well: the
 * module lock is held until they are done (lock.c).
 */
p11e_status p11e_pin_change(p11e_ctx *ctx, const p11e_pin *old_pin, const p11e_pin *new_pin)
{
	p11e_status st;

	ctx->module_lock_pinned = 1;
	st = pin_change(ctx, old_pin, new_pin);
	ctx->module_lock_pinned = 0;
	p11e__module_unlock(ctx);
	return st;
}

static p11e_status pin_change(p11e_ctx *ctx, const p11e_pin *old_pin, const p11e_pin *new_pin)
{
	p11e_status st;
	CK_RV rv;

	st = new_pin_ready(ctx, new_pin);
	if (st == P11E_OK)
		st = p11e_login(ctx, P11E_PIN_USER, old_pin);
	if (st != P11E_OK)
		return st;
	rv = P11_CALL(ctx, C_SetPIN, ctx->session, (CK_UTF8CHAR_PTR)old_pin->data, old_pin->len,
	              (CK_UTF8CHAR_PTR)new_pin->data, new_pin->len);
	if (rv != CKR_OK) {
		st = pin_rejected(ctx, "changing the user PIN", "C_SetPIN", rv, P11E_PIN_USER);
		p11e__session_close(ctx);
		return st;
	}
	logout_after(ctx, "the user PIN is changed");
	p11e__session_close(ctx);
	return P11E_OK;
}

p11e_status p11e_pin_init(p11e_ctx *ctx, const p11e_pin *so_pin, const p11e_pin *new_pin)
{
	p11e_status st = new_pin_ready(ctx, new_pin);

	ctx->module_lock_pinned = 1;
	if (st == P11E_OK)
		st = init_user_pin(ctx, so_pin, new_pin);
	/* the PIN is set: a failed re-read only leaves the description older */
	if (st == P11E_OK && p11e__slot_refresh(ctx) != P11E_OK)
		p11e__clear_error(ctx);
	ctx->module_lock_pinned = 0;
	p11e__module_unlock(ctx);
	return st;
}
