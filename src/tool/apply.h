/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * apply.h - what plan/apply (cmd-apply.c), the per-token worker
 * (apply-token.c) and the audit log (apply-audit.c) share.
 */
#ifndef P11ENROLL_APPLY_H
#define P11ENROLL_APPLY_H

#include "tool.h"

struct apply_run {
	int plan;           /* 1: look, never write */
	int verbosity;      /* the tool's */
	int force;          /* --force: a token's last PIN try may be spent */
	const char *module; /* global --module: a token's own module wins */
	int audit_fd;       /* --audit FILE, opened O_APPEND; -1 if none */
	int audit_syslog;   /* --audit syslog */
	const char *host;   /* for the audit log */
};

/*
 * apply-token.c: plan or apply the n identities of one token, in a worker
 * process of its own (one context, one token, never two workers on it);
 * one JSON line per identity written to fd.  Returns the worker's exit code.
 */
int apply_token(const struct apply_run *run, const p11e_manifest_token *tok,
                const p11e_identity *const *ids, size_t n, int fd);
/*
 * The same for the token selected (and logged in to) on ctx, which the
 * caller made: st is how that went (not P11E_OK: each identity fails with
 * the context's error).  With events, the identities' JSON objects are
 * appended to that array instead of written to fd (the station's card).
 * 0, or the status that failed the token.
 */
int apply_identities(const struct apply_run *run, const p11e_manifest_token *tok, p11e_ctx *ctx,
                     p11e_status st, const p11e_identity *const *ids, size_t n, int fd,
                     json_t *events);

/* What station (cmd-station.c) gives the worker of a card (station-card.c). */
struct station_run {
	struct apply_run apply;
	const p11e_station *station;
	const p11e_identity *const *ids;
	size_t n;
	const p11e_pin *pin;    /* the user PIN (new, when a blank token is initialised) */
	const p11e_pin *so_pin; /* the SO PIN, or NULL (no init) */
	const p11e_reader *reader;
};
/*
 * station-card.c: provision the card that came at monotonic time inserted
 * (apply_now) into sr->reader: one JSON line to fd.  0 ok, 1 failed.
 */
int station_card(const struct station_run *sr, unsigned card, double inserted, int fd);

/*
 * apply-ca.c: enrol label (old_key NULL) or renew old_key at the identity's
 * CA (id->cmp or id->est), the certificate onto the token; *why: a message
 * instead of the context's, or NULL.
 */
p11e_status apply_ca(p11e_ctx *ctx, const p11e_identity *id, const char *label, const char *old_key,
                     const p11e_req *req, int *reused, p11e_import_result *res, const char **why);

/* apply-audit.c: one JSON line for a write to a token (doc is released). */
void apply_audit(const struct apply_run *run, json_t *doc);
/* Open --audit's file (O_APPEND, 0600): fd, or -1 after printing why. */
int apply_audit_open(const char *path);
/* monotonic seconds, for durations */
double apply_now(void);
/* o[key] as a string, "" if it is none */
const char *apply_str(json_t *o, const char *key);
/* "2026-12-03T10:00:00Z" for now */
void apply_time_iso(char *buf, size_t len);

#endif
