/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sigwatch.c - Ctrl-C while the library waits for a card (wait, station).
 *
 * SIGINT and SIGTERM are blocked in every thread and taken by a thread of
 * their own (sigwait; SIGUSR2 tells it the wait is over), which cancels the
 * library's wait (p11e_reader_wait_cancel: SCardCancel, which pcsc-lite
 * allows from another thread, never from a signal handler).  When the wait
 * has returned, the process dies of the very signal, so that a shell or a
 * loop around it sees what it expects (130 for Ctrl-C, 143 for SIGTERM).
 * A signal that comes while no thread watches stays pending (blocked) and
 * is taken by the next watch: the station finishes the card it works on.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

static void *watch(void *arg)
{
	struct tool_sigwatch *w = arg;
	int sig = 0;

	if (sigwait(&w->set, &sig) != 0 || sig == SIGUSR2)
		return NULL; /* SIGUSR2: the wait is over, from tool_sigwatch_stop */
	__atomic_store_n(&w->sig, sig, __ATOMIC_SEQ_CST);
	p11e_reader_wait_cancel(w->ctx);
	return NULL;
}

int tool_sigwatch_start(struct tool_sigwatch *w, p11e_ctx *ctx)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	sigemptyset(&w->set);
	sigaddset(&w->set, SIGINT);
	sigaddset(&w->set, SIGTERM);
	/* how the thread is ended (no pthread_cancel: a thread cancelled in sigwait unwinds) */
	sigaddset(&w->set, SIGUSR2);
	/* before any thread is made (pcsc-lite's included): they inherit the mask */
	if (pthread_sigmask(SIG_BLOCK, &w->set, NULL) != 0 ||
	    pthread_create(&w->th, NULL, watch, w) != 0) {
		fprintf(stderr, "p11enroll: cannot watch for Ctrl-C: %s\n", strerror(errno));
		return P11E_ERR_FAILED;
	}
	w->running = 1;
	return 0;
}

int tool_sigwatch_stop(struct tool_sigwatch *w)
{
	if (w->running) {
		pthread_kill(w->th, SIGUSR2);
		pthread_join(w->th, NULL);
		w->running = 0;
	}
	return __atomic_load_n(&w->sig, __ATOMIC_SEQ_CST);
}

int tool_sigwatch_die(struct tool_sigwatch *w, int sig)
{
	/* die of it, as a program that did not catch it would */
	signal(sig, SIG_DFL);
	pthread_sigmask(SIG_UNBLOCK, &w->set, NULL);
	raise(sig);
	return 128 + sig;
}

void tool_sigwatch_unblock(struct tool_sigwatch *w)
{
	pthread_sigmask(SIG_UNBLOCK, &w->set, NULL);
}
