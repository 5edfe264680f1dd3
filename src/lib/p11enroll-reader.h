/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * p11enroll-reader.h - card readers through pcsc-lite (since 1.1): list them,
 * wait for a card, match a reader to the PKCS#11 slot it backs.  A separate
 * header so that a program that never sees a reader needs none of it; it
 * includes p11enroll.h.
 */
#ifndef P11ENROLL_READER_H
#define P11ENROLL_READER_H

#include "p11enroll.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- card readers (pcsc-lite) ---------------------------------------- */

/* A PC/SC reader and the card in it, as pcscd reports them. */
typedef struct p11e_reader {
	char *name;
	unsigned long state; /* SCARD_STATE_* bits of pcsc-lite's reader state */
	int card_present;
	int exclusive; /* a program holds the card exclusively */
	int in_use;    /* a program has the card open (shared) */
	int mute;      /* a card is there but did not answer (no ATR) */
	unsigned char atr[36];
	size_t atr_len;
} p11e_reader;

/*
 * Every reader pcscd knows, with its card's state and ATR.  No pcscd is
 * P11E_ERR_TOKEN with P11E_REASON_PCSC_NO_SERVICE.  A context needs no
 * module for it.
 */
p11e_status p11e_reader_list(p11e_ctx *ctx, p11e_reader **list, size_t *count);
void p11e_reader_list_free(p11e_reader *list, size_t count);
/* Release what p11e_reader_wait wrote into a reader (its name). */
void p11e_reader_clear(p11e_reader *reader);

/*
 * The slot of slots (p11e_slot_list of a module) that reader backs, matched
 * the way OpenSC names its slots: the slot description is the reader's name
 * (cut to 64 bytes).  The index of the first such slot, or -1 when none
 * matches; *more (if not NULL) is set to the number of further matching slots
 * (OpenSC gives a card with several PINs one slot each).
 */
long p11e_reader_slot(const p11e_reader *reader, const p11e_slot *slots, size_t count,
                      size_t *more);

typedef enum p11e_wait_flags {
	/* wait for a card to leave a reader instead of arriving */
	P11E_WAIT_REMOVED = 1u << 0,
	/*
	 * only a change after the call started counts: a card already in a
	 * reader (with P11E_WAIT_REMOVED: no card in any reader) does not
	 */
	P11E_WAIT_NEXT = 1u << 1,
} p11e_wait_flags;

/*
 * Block until a card arrives in a reader whose name matches pattern (an
 * fnmatch(3) glob; NULL: any reader), readers plugged in while waiting
 * included (pcsc-lite's \\?PnP?\Notification).  A card already there
 * counts at once unless P11E_WAIT_NEXT.  With P11E_WAIT_REMOVED: until a
 * card leaves a matching reader; if no matching reader holds a card at the
 * start, that counts at once (reader->name NULL) unless P11E_WAIT_NEXT.
 * timeout_ms < 0: no limit; when it passes, P11E_ERR_TIMEOUT.  The reader
 * and its state after the event are written to *reader (clear with
 * p11e_reader_clear).  p11e_reader_wait_cancel makes it return
 * P11E_ERR_FAILED with P11E_REASON_WAIT_CANCELLED.
 */
p11e_status p11e_reader_wait(p11e_ctx *ctx, const char *pattern, unsigned flags, long timeout_ms,
                             p11e_reader *reader);
/*
 * From another thread (not from a signal handler: it talks to pcscd): end
 * a p11e_reader_wait running on ctx at once (SCardCancel), or the next one
 * to start.
 */
void p11e_reader_wait_cancel(p11e_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* P11ENROLL_READER_H */
