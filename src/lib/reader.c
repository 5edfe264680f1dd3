/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reader.c - card readers through pcsc-lite: list them with the state of
 * their cards, wait for a card to come or go, and find the PKCS#11 slot a
 * reader backs.
 *
 * The wait is SCardGetStatusChange on the matching readers plus pcsc-lite's
 * "\\?PnP?\Notification" pseudo-reader, which changes when a reader is
 * plugged in or out: then the list is read again and the new reader joins.
 * Each call blocks for at most a second (WAIT_SLICE_MS): the state passed in
 * is the one last seen, so no event between two calls is lost, and a cancel
 * that came between two calls (SCardCancel cancels only a call that is
 * pending) is seen within that second; one that comes during a call ends it
 * at once.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include "internal.h"
#include "p11enroll-reader.h"

#define WAIT_SLICE_MS 1000
#define PNP_READER "\\\\?PnP?\\Notification"

static p11e_status pcsc_fail(p11e_ctx *ctx, const char *what, LONG rv)
{
	if (rv == SCARD_E_NO_SERVICE || rv == SCARD_E_SERVICE_STOPPED)
		return p11e__fail_why(ctx, P11E_ERR_TOKEN, P11E_REASON_PCSC_NO_SERVICE,
		                      "no PC/SC daemon is running");
	return p11e__fail(ctx, P11E_ERR_TOKEN, "%s: %s (0x%08lX)", what, pcsc_stringify_error(rv),
	                  (unsigned long)rv);
}

static p11e_status establish(p11e_ctx *ctx, SCARDCONTEXT *h)
{
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, h);

	return rv == SCARD_S_SUCCESS ? P11E_OK : pcsc_fail(ctx, "SCardEstablishContext", rv);
}

/*
 * The reader names, as pcsc-lite's multi-string (name\0name\0\0) in *buf
 * (free it), and their number.  No reader is not an error.
 */
static p11e_status list_names(p11e_ctx *ctx, SCARDCONTEXT h, char **buf, size_t *n)
{
	DWORD len = 0;
	LONG rv;

	*buf = NULL;
	*n = 0;
	for (int tries = 0; tries < 5; tries++) {
		rv = SCardListReaders(h, NULL, NULL, &len);
		if (rv == SCARD_E_NO_READERS_AVAILABLE)
			return P11E_OK;
		if (rv != SCARD_S_SUCCESS)
			return pcsc_fail(ctx, "SCardListReaders", rv);
		free(*buf);
		*buf = calloc(1, (size_t)len + 2);
		if (!*buf)
			return p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		rv = SCardListReaders(h, NULL, *buf, &len);
		/* a reader plugged in between the two calls: ask again */
		if (rv == SCARD_E_INSUFFICIENT_BUFFER)
			continue;
		if (rv == SCARD_E_NO_READERS_AVAILABLE) {
			free(*buf);
			*buf = NULL;
			return P11E_OK;
		}
		if (rv != SCARD_S_SUCCESS) {
			free(*buf);
			*buf = NULL;
			return pcsc_fail(ctx, "SCardListReaders", rv);
		}
		for (const char *p = *buf; *p; p += strlen(p) + 1)
			(*n)++;
		return P11E_OK;
	}
	free(*buf);
	*buf = NULL;
	return p11e__fail(ctx, P11E_ERR_TOKEN, "the list of readers keeps changing");
}

static void fill(p11e_reader *r, const SCARD_READERSTATE *s)
{
	DWORD st = s->dwEventState;
	size_t len = s->cbAtr < sizeof(r->atr) ? s->cbAtr : sizeof(r->atr);

	r->state = st & ~(DWORD)0xFFFF0000u; /* the high word is a counter */
	r->card_present = (st & SCARD_STATE_PRESENT) != 0;
	r->exclusive = (st & SCARD_STATE_EXCLUSIVE) != 0;
	r->in_use = (st & SCARD_STATE_INUSE) != 0;
	r->mute = (st & SCARD_STATE_MUTE) != 0;
	r->atr_len = r->card_present ? len : 0;
	memset(r->atr, 0, sizeof(r->atr));
	if (r->atr_len)
		memcpy(r->atr, s->rgbAtr, r->atr_len);
}

void p11e_reader_clear(p11e_reader *reader)
{
	if (!reader)
		return;
	free(reader->name);
	memset(reader, 0, sizeof(*reader));
}

void p11e_reader_list_free(p11e_reader *list, size_t count)
{
	if (!list)
		return;
	for (size_t i = 0; i < count; i++)
		free(list[i].name);
	free(list);
}

p11e_status p11e_reader_list(p11e_ctx *ctx, p11e_reader **list, size_t *count)
{
	SCARDCONTEXT h = 0;
	SCARD_READERSTATE *states = NULL;
	p11e_reader *out = NULL;
	char *names = NULL;
	const char *p;
	size_t n = 0, i;
	p11e_status st;
	LONG rv;

	p11e__clear_error(ctx);
	*list = NULL;
	*count = 0;
	st = establish(ctx, &h);
	if (st != P11E_OK)
		return st;
	st = list_names(ctx, h, &names, &n);
	if (st != P11E_OK || n == 0)
		goto done;
	states = calloc(n, sizeof(*states));
	out = calloc(n, sizeof(*out));
	if (!states || !out) {
		st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
		goto done;
	}
	for (i = 0, p = names; i < n; i++, p += strlen(p) + 1) {
		states[i].szReader = p;
		states[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	/* UNAWARE: every reader's state now, without waiting */
	rv = SCardGetStatusChange(h, 0, states, (DWORD)n);
	if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
		st = pcsc_fail(ctx, "SCardGetStatusChange", rv);
		goto done;
	}
	for (i = 0; i < n; i++) {
		out[i].name = strdup(states[i].szReader);
		if (!out[i].name) {
			st = p11e__fail(ctx, P11E_ERR_FAILED, "out of memory");
			goto done;
		}
		fill(&out[i], &states[i]);
	}
	*list = out;
	*count = n;
	out = NULL;
done:
	p11e_reader_list_free(out, n);
	free(states);
	free(names);
	SCardReleaseContext(h);
	return st;
}

/* Blank padding and a NUL, as the slot description holds it (64 bytes). */
static size_t trimmed_len(const char *s, size_t max)
{
	size_t len = strnlen(s, max);

	while (len > 0 && s[len - 1] == ' ')
		len--;
	return len;
}

long p11e_reader_slot(const p11e_reader *reader, const p11e_slot *slots, size_t count, size_t *more)
{
	long first = -1;
	size_t others = 0;

	if (more)
		*more = 0;
	if (!reader || !reader->name)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const char *d = slots[i].slot_description;
		size_t dlen = trimmed_len(d, sizeof(slots[i].slot_description) - 1);
		/* OpenSC copies the reader's name into the 64 bytes, cut if longer */
		size_t rlen = trimmed_len(reader->name, dlen < 64 ? (size_t)-1 : 64);

		if (dlen == 0 || dlen != rlen || memcmp(d, reader->name, dlen) != 0)
			continue;
		if (first < 0)
			first = (long)i;
		else
			others++;
	}
	if (more)
		*more = others;
	return first;
}

/* --- waiting ----------------------------------------------------------- */

/* A reader being watched: its name and whether it held a card when last seen. */
struct watched {
	char *name;
	int had_card; /* -1: not seen yet */
};

struct waiter {
	p11e_ctx *ctx;
	SCARDCONTEXT h;
	const char *pattern;
	unsigned flags;
	struct watched *w; /* matching readers, in pcscd's order */
	size_t nw;
	SCARD_READERSTATE *states; /* one per watched reader, then the PnP one */
	DWORD pnp_state;
	int first_round;
};

static int matches(const char *pattern, const char *name)
{
	return !pattern || fnmatch(pattern, name, 0) == 0;
}

static void waiter_free(struct waiter *wt)
{
	for (size_t i = 0; i < wt->nw; i++)
		free(wt->w[i].name);
	free(wt->w);
	free(wt->states);
	wt->w = NULL;
	wt->states = NULL;
	wt->nw = 0;
}

/*
 * Read the reader list again: the watched readers that are still there keep
 * what was seen of them (and their last state, so that pcscd reports only
 * changes); a new one starts unseen.
 */
static p11e_status rebuild(struct waiter *wt)
{
	struct watched *w = NULL;
	SCARD_READERSTATE *states = NULL;
	char *names = NULL;
	const char *p;
	size_t n = 0, nw = 0;
	p11e_status st = list_names(wt->ctx, wt->h, &names, &n);

	if (st != P11E_OK)
		return st;
	w = calloc(n + 1, sizeof(*w));
	states = calloc(n + 1, sizeof(*states));
	if (!w || !states) {
		st = p11e__fail(wt->ctx, P11E_ERR_FAILED, "out of memory");
		goto fail;
	}
	for (p = names; n && *p; p += strlen(p) + 1) {
		size_t old;

		if (!matches(wt->pattern, p))
			continue;
		w[nw].name = strdup(p);
		if (!w[nw].name) {
			st = p11e__fail(wt->ctx, P11E_ERR_FAILED, "out of memory");
			goto fail;
		}
		w[nw].had_card = -1;
		states[nw].dwCurrentState = SCARD_STATE_UNAWARE;
		for (old = 0; old < wt->nw; old++)
			if (strcmp(wt->w[old].name, p) == 0) {
				w[nw].had_card = wt->w[old].had_card;
				states[nw].dwCurrentState =
					wt->states[old].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
				break;
			}
		states[nw].szReader = w[nw].name;
		nw++;
	}
	states[nw].szReader = PNP_READER;
	states[nw].dwCurrentState = wt->pnp_state;
	waiter_free(wt);
	wt->w = w;
	wt->states = states;
	wt->nw = nw;
	free(names);
	return P11E_OK;
fail:
	for (size_t i = 0; w && i < nw; i++)
		free(w[i].name);
	free(w);
	free(states);
	free(names);
	return st;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static p11e_status found(struct waiter *wt, size_t i, p11e_reader *reader)
{
	reader->name = strdup(wt->w[i].name);
	if (!reader->name)
		return p11e__fail(wt->ctx, P11E_ERR_FAILED, "out of memory");
	fill(reader, &wt->states[i]);
	return P11E_OK;
}

/*
 * After a SCardGetStatusChange: 1 (and *reader filled) if the event waited
 * for happened, 0 if not, -1 on failure.
 */
static int look(struct waiter *wt, p11e_reader *reader, p11e_status *st)
{
	int removed = (wt->flags & P11E_WAIT_REMOVED) != 0;
	int next = (wt->flags & P11E_WAIT_NEXT) != 0;
	int any_card = 0;

	for (size_t i = 0; i < wt->nw; i++) {
		DWORD ev = wt->states[i].dwEventState;
		int now, before = wt->w[i].had_card;

		if (ev & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE))
			continue; /* gone since the list was read */
		now = (ev & SCARD_STATE_PRESENT) != 0;
		any_card |= now;
		wt->w[i].had_card = now;
		if (!removed && now &&
		    (before == 0 || (before < 0 && (!wt->first_round || !next)))) {
			*st = found(wt, i, reader);
			return *st == P11E_OK ? 1 : -1;
		}
		if (removed && !now && before == 1) {
			*st = found(wt, i, reader);
			return *st == P11E_OK ? 1 : -1;
		}
	}
	if (removed && wt->first_round && !next && !any_card) {
		*st = P11E_OK; /* no card in any matching reader: nothing to wait for */
		return 1;
	}
	return 0;
}

static p11e_status wait_loop(struct waiter *wt, long timeout_ms, p11e_reader *reader)
{
	long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	p11e_status st = rebuild(wt);

	wt->first_round = 1;
	while (st == P11E_OK) {
		long slice = WAIT_SLICE_MS;
		int hit;
		LONG rv;

		if (__atomic_load_n(&wt->ctx->wait_cancel, __ATOMIC_SEQ_CST))
			return p11e__fail_why(wt->ctx, P11E_ERR_FAILED, P11E_REASON_WAIT_CANCELLED,
			                      "waiting for a card was cancelled");
		if (wt->first_round) {
			slice = 0; /* the state now, for a card that is there already */
		} else if (timeout_ms >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return p11e__fail_why(wt->ctx, P11E_ERR_TIMEOUT,
				                      P11E_REASON_WAIT_TIMEOUT,
				                      "no card %s %s within %ld.%03ld s",
				                      (wt->flags & P11E_WAIT_REMOVED) ? "left"
				                                                      : "came into",
				                      wt->pattern ? "a matching reader"
				                                  : "any reader",
				                      timeout_ms / 1000, timeout_ms % 1000);
			if (left < slice)
				slice = (long)left;
		}
		rv = SCardGetStatusChange(wt->h, (DWORD)slice, wt->states, (DWORD)(wt->nw + 1));
		if (rv == SCARD_E_CANCELLED)
			continue; /* the flag above says so */
		if (rv == SCARD_E_TIMEOUT && !wt->first_round)
			continue;
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT && rv != SCARD_E_UNKNOWN_READER)
			return pcsc_fail(wt->ctx, "SCardGetStatusChange", rv);
		hit = look(wt, reader, &st);
		if (hit)
			return hit > 0 ? P11E_OK : st;
		if (wt->first_round)
			p11e__log(wt->ctx, P11E_LOG_INFO,
			          "waiting for a card to %s: %zu matching reader%s",
			          (wt->flags & P11E_WAIT_REMOVED) ? "leave" : "come", wt->nw,
			          wt->nw == 1 ? "" : "s");
		wt->first_round = 0;
		wt->pnp_state = wt->states[wt->nw].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		for (size_t i = 0; i < wt->nw; i++)
			wt->states[i].dwCurrentState =
				wt->states[i].dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
		/* a reader came or went (or one vanished under us): read the list again */
		if (rv == SCARD_E_UNKNOWN_READER ||
		    (wt->states[wt->nw].dwEventState & SCARD_STATE_CHANGED)) {
			st = rebuild(wt);
			if (st == P11E_OK)
				p11e__log(wt->ctx, P11E_LOG_INFO,
				          "the readers changed: %zu matching reader%s", wt->nw,
				          wt->nw == 1 ? "" : "s");
		}
		for (size_t i = 0; st == P11E_OK && i < wt->nw; i++)
			if (wt->w[i].had_card < 0) {
				/* a new reader: its state at once, and a card in it is news */
				wt->w[i].had_card = 0;
			}
	}
	return st;
}

p11e_status p11e_reader_wait(p11e_ctx *ctx, const char *pattern, unsigned flags, long timeout_ms,
                             p11e_reader *reader)
{
	struct waiter wt;
	p11e_status st;

	p11e__clear_error(ctx);
	P11E__FLAGS_CHECK(ctx, "p11e_reader_wait", flags, P11E_WAIT_REMOVED | P11E_WAIT_NEXT);
	memset(reader, 0, sizeof(*reader));
	memset(&wt, 0, sizeof(wt));
	wt.ctx = ctx;
	wt.pattern = pattern;
	wt.flags = flags;
	wt.pnp_state = SCARD_STATE_UNAWARE;
	st = establish(ctx, &wt.h);
	if (st != P11E_OK)
		return st;
	__atomic_store_n(&ctx->pcsc_context, (long)wt.h, __ATOMIC_SEQ_CST);
	__atomic_store_n(&ctx->pcsc_waiting, 1, __ATOMIC_SEQ_CST);
	st = wait_loop(&wt, timeout_ms, reader);
	__atomic_store_n(&ctx->pcsc_waiting, 0, __ATOMIC_SEQ_CST);
	waiter_free(&wt);
	SCardReleaseContext(wt.h);
	if (st != P11E_OK)
		p11e_reader_clear(reader);
	return st;
}

void p11e_reader_wait_cancel(p11e_ctx *ctx)
{
	__atomic_store_n(&ctx->wait_cancel, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ctx->pcsc_waiting, __ATOMIC_SEQ_CST))
		SCardCancel((SCARDCONTEXT)__atomic_load_n(&ctx->pcsc_context, __ATOMIC_SEQ_CST));
}
