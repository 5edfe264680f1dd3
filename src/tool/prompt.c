/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * prompt.c - the tool's PIN callback: a no-echo prompt on the controlling
 * terminal.  The library asks for a PIN through it when no source was given
 * (p11e_ctx_set_pin_callback), and itself asks twice for a new PIN and
 * compares; it never opens a terminal of its own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tool.h"

static const char *prompt_name(p11e_pin_role role)
{
	switch (role) {
	case P11E_PIN_USER: return "User PIN";
	case P11E_PIN_SO: return "SO PIN";
	case P11E_PIN_NEW_USER: return "New user PIN";
	case P11E_PIN_NEW_SO: return "New SO PIN";
	}
	return "PIN";
}

/*
 * One line from fd into buf, a byte at a time (the terminal is in canonical
 * mode): the length, -1 on a read error, -2 if it does not fit.
 */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= size)
			return -2;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (int)n;
}

/*
 * While echo is off: a signal that ends the process puts the terminal back
 * first, or the shell it returns to echoes nothing.  The handler restores
 * the settings and raises the signal again with its default action, so the
 * exit status is still "killed by SIGINT".
 */
static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_FATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))
static volatile sig_atomic_t saved_fd = -1;
static struct termios saved_termios;

static void restore_and_reraise(int sig)
{
	int saved_errno = errno;

	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSAFLUSH, &saved_termios);
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved_errno;
}

static void catch_fatal(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_and_reraise;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_FATAL; i++)
		sigaddset(&sa.sa_mask, fatal_signals[i]);
	for (size_t i = 0; i < N_FATAL; i++) {
		sigaction(fatal_signals[i], NULL, &old[i]);
		/* a signal the caller ignores (nohup) stays ignored */
		if (old[i].sa_handler != SIG_IGN)
			sigaction(fatal_signals[i], &sa, NULL);
	}
}

static void release_fatal(const struct sigaction *old)
{
	for (size_t i = 0; i < N_FATAL; i++)
		sigaction(fatal_signals[i], &old[i], NULL);
}

int tool_pin_prompt(void *data, p11e_pin_role role, const char *token_label, const char *token_uri,
                    unsigned flags, char *buf, size_t size)
{
	struct termios old, quiet;
	struct sigaction old_actions[N_FATAL];
	char prompt[128];
	int restore = 0, n;
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	(void)data;
	(void)token_uri;
	if (tty < 0 || !isatty(tty)) {
		if (tty >= 0)
			close(tty);
		return P11E_PIN_ANSWER_UNAVAILABLE;
	}
	if (flags & P11E_PIN_FLAG_CONFIRM)
		snprintf(prompt, sizeof(prompt), "Repeat it: ");
	else
		snprintf(prompt, sizeof(prompt), "%s for '%s': ", prompt_name(role),
		         token_label ? tool_esc(token_label) : "the token");
	if (tcgetattr(tty, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		saved_termios = old;
		saved_fd = tty;
		catch_fatal(old_actions);
		restore = tcsetattr(tty, TCSAFLUSH, &quiet) == 0;
		if (!restore) {
			release_fatal(old_actions);
			saved_fd = -1;
		}
	}
	if (write(tty, prompt, strlen(prompt)) < 0) {
		/* nothing to do: the read below still works */
	}
	n = read_line(tty, buf, size);
	if (restore) {
		tcsetattr(tty, TCSAFLUSH, &old);
		release_fatal(old_actions);
		saved_fd = -1;
	}
	if (write(tty, "\n", 1) < 0) {
		/* cosmetic only */
	}
	close(tty);
	return n < 0 ? P11E_PIN_ANSWER_FAILED : n;
}
