/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-wait.c - p11enroll wait: block until a card comes into (or leaves) a
 * reader.
 *
 * Ctrl-C: SIGINT and SIGTERM are blocked in every thread and taken by a
 * thread of their own (sigwait; SIGUSR2 tells it the wait is over), which
 * cancels the library's wait
 * (p11e_reader_wait_cancel: SCardCancel, which pcsc-lite allows from
 * another thread, never from a signal handler).  When the wait has returned,
 * the process dies of the very signal, so that a shell or a loop around it
 * sees what it expects (130 for Ctrl-C, 143 for SIGTERM).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

const char usage_wait[] =
	"Usage: p11enroll [GLOBAL OPTIONS] wait [--reader NAME|GLOB] [--removed] [--next]\n"
	"                 [--timeout SECONDS]\n"
	"Block until a card is in a reader (readers plugged in while waiting too),\n"
	"then print the reader and the card's ATR.  A card that is in a reader\n"
	"already counts at once, unless --next.\n"
	"\n"
	"Options:\n"
	"  --reader NAME|GLOB   only readers whose name matches (fnmatch glob)\n"
	"  --removed            wait until a card leaves a reader instead; at once if\n"
	"                       no matching reader holds a card (unless --next)\n"
	"  --next               only a card inserted (or removed) after the start counts\n"
	"  --timeout SECONDS    give up after SECONDS (exit status 8)\n"
	"  --help               show this help\n"
	"\n"
	"Ctrl-C ends the wait at once: p11enroll dies of SIGINT (exit status 130).\n";

enum { OPT_READER = 256, OPT_REMOVED, OPT_NEXT, OPT_TIMEOUT };

struct sigwatch {
	p11e_ctx *ctx;
	sigset_t set;
	int sig; /* the signal taken, or 0 */
};

static void *watch(void *arg)
{
	struct sigwatch *w = arg;
	int sig = 0;

	if (sigwait(&w->set, &sig) != 0 || sig == SIGUSR2)
		return NULL; /* SIGUSR2: the wait is over, from cmd_wait */
	__atomic_store_n(&w->sig, sig, __ATOMIC_SEQ_CST);
	p11e_reader_wait_cancel(w->ctx);
	return NULL;
}

static int timeout_arg(const char *s, long *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 31 * 24 * 3600.0)
		return -1;
	*ms = (long)(v * 1000 + 0.5);
	return 0;
}

static int print_event(struct tool *t, const p11e_reader *r, int removed)
{
	char atr[3 * sizeof(r->atr) + 1];

	if (t->json) {
		json_t *doc = r->name ? tool_reader_json(r) : json_object();
		int err = !doc;

		if (doc && !r->name)
			err |= json_object_set_new(doc, "name", json_null());
		if (doc)
			err |= json_object_set_new(doc, "event",
			                           json_string(removed ? "removed" : "inserted"));
		return tool_json_emit(tool_json_unless(doc, err));
	}
	if (!r->name) {
		printf("no card in any matching reader\n");
		return 0;
	}
	tool_atr_hex(r, atr, sizeof(atr));
	if (removed)
		printf("card removed from reader '%s'\n", tool_esc(r->name));
	else
		printf("card in reader '%s'\n  %-13s %s\n", tool_esc(r->name), "atr:",
		       r->atr_len ? atr
		       : r->mute  ? "(mute card)"
		                  : "(none)");
	return fflush(stdout) == 0 ? 0 : P11E_ERR_FAILED;
}

int cmd_wait(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reader", required_argument, NULL, OPT_READER },
		{ "removed", no_argument, NULL, OPT_REMOVED },
		{ "next", no_argument, NULL, OPT_NEXT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigwatch w;
	const char *pattern = NULL;
	unsigned flags = 0;
	long timeout = -1;
	p11e_reader r;
	pthread_t th;
	p11e_status st;
	int opt, ret, sig;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_READER: pattern = optarg; break;
		case OPT_REMOVED: flags |= P11E_WAIT_REMOVED; break;
		case OPT_NEXT: flags |= P11E_WAIT_NEXT; break;
		case OPT_TIMEOUT:
			if (timeout_arg(optarg, &timeout) != 0)
				return tool_usage_error("wait",
				                        "--timeout '%s' is not a number of seconds",
				                        optarg);
			break;
		case 'h': fputs(usage_wait, stdout); return 0;
		default: return tool_bad_option("wait", argv);
		}
	}
	if (optind < argc)
		return tool_usage_error("wait", "unexpected argument '%s'", argv[optind]);
	if (pattern && !*pattern)
		return tool_usage_error("wait", "--reader is empty");

	memset(&w, 0, sizeof(w));
	w.ctx = t->ctx;
	sigemptyset(&w.set);
	sigaddset(&w.set, SIGINT);
	sigaddset(&w.set, SIGTERM);
	/* how cmd_wait ends the thread (no pthread_cancel: a thread cancelled in sigwait unwinds)
	 */
	sigaddset(&w.set, SIGUSR2);
	/* before any thread is made (pcsc-lite's included): they inherit the mask */
	if (pthread_sigmask(SIG_BLOCK, &w.set, NULL) != 0 ||
	    pthread_create(&th, NULL, watch, &w) != 0) {
		fprintf(stderr, "p11enroll: cannot watch for Ctrl-C: %s\n", strerror(errno));
		return P11E_ERR_FAILED;
	}
	st = p11e_reader_wait(t->ctx, pattern, flags, timeout, &r);
	pthread_kill(th, SIGUSR2);
	pthread_join(th, NULL);
	sig = __atomic_load_n(&w.sig, __ATOMIC_SEQ_CST);
	if (sig) {
		/* die of it, as a program that did not catch it would */
		p11e_reader_clear(&r);
		signal(sig, SIG_DFL);
		pthread_sigmask(SIG_UNBLOCK, &w.set, NULL);
		raise(sig);
		return 128 + sig;
	}
	pthread_sigmask(SIG_UNBLOCK, &w.set, NULL);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	ret = print_event(t, &r, (flags & P11E_WAIT_REMOVED) != 0);
	p11e_reader_clear(&r);
	return ret;
}
