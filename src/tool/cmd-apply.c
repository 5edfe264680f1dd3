/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-apply.c - p11enroll plan and p11enroll apply: a manifest made so.
 *
 * The parent reads the manifest and never loads a module; each token with
 * identities is one job, run by a worker process of its own (fork: one
 * library context, one module load and one login per worker, and a module's
 * state never crosses a fork).  At most -j workers run at once; a token is
 * never in two of them.  A worker reports one JSON line per identity on a
 * pipe; the parent prints them (as they come with --json, as text
 * otherwise), counts, and draws a progress line on a terminal.  An identity
 * a worker did not report (it died) counts as failed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"

/* apply's exit codes (p11enroll(1), EXIT STATUS) */
enum { EXIT_NOTHING = 0, EXIT_CHANGED = 10, EXIT_SOME_FAILED = 11 };
#define MAX_JOBS 64

const char usage_plan[] =
	"Usage: p11enroll [GLOBAL OPTIONS] plan MANIFEST\n"
	"What apply would do for each identity of the manifest (p11enroll-manifest(5)):\n"
	"create, request, import, renew or nothing.  Writes nothing and needs no PIN.\n"
	"With --json, one JSON line per identity, then a summary line.\n"
	"\n"
	"Options:\n"
	"  --help            show this help\n";

const char usage_apply[] =
	"Usage: p11enroll [GLOBAL OPTIONS] apply MANIFEST [-j N] [--audit FILE|syslog]\n"
	"                 [--prometheus FILE]\n"
	"Make the manifest so: create keys and write their requests to the outbox,\n"
	"import certificates found in the inbox, renew inside the renewal window;\n"
	"an identity with cmp or est is enrolled and renewed at that CA instead.\n"
	"Tokens are worked on in parallel; a failure never stops other identities.\n"
	"Exit status: 0 nothing to do, 10 changes made and all succeeded, 11 some failed.\n"
	"\n"
	"Options:\n"
	"  -j, --jobs N        at most N tokens at once (default 1)\n"
	"  --audit FILE|syslog one JSON line per token write, appended to FILE (0600)\n"
	"                      or sent to syslog\n"
	"  --prometheus FILE   the run's result as node_exporter textfile metrics\n"
	"  --help              show this help\n";

enum { OPT_AUDIT = 256, OPT_PROM };

struct job {
	const p11e_manifest_token *tok;
	const p11e_identity **ids;
	size_t n, reported;
	pid_t pid;
	int fd;
	char *buf;
	size_t blen;
};

struct counts {
	size_t total, done, changed, failed, unchanged, planned;
	double start;
	int progress; /* a progress line is drawn on stderr */
	int progress_drawn;
};

static void progress(struct counts *c, int plan)
{
	double secs = apply_now() - c->start;

	if (!c->progress)
		return;
	fprintf(stderr, "\r\033[K%s: %zu/%zu done, %zu failed, %.1f/s", plan ? "plan" : "apply",
	        c->done, c->total, c->failed, secs > 0 ? (double)c->done / secs : 0.0);
	fflush(stderr);
	c->progress_drawn = 1;
}

static void progress_clear(struct counts *c)
{
	if (c->progress_drawn) {
		fputs("\r\033[K", stderr);
		c->progress_drawn = 0;
	}
}

static void event_text(struct tool *t, json_t *ev)
{
	const char *result = apply_str(ev, "result"), *action = apply_str(ev, "action");

	if (t->verbosity < 1 && strcmp(result, "failed") != 0)
		return;
	printf("%s/%s: %s", tool_esc(apply_str(ev, "token")), tool_esc(apply_str(ev, "identity")),
	       *action ? action : "-");
	if (json_object_get(ev, "days_left"))
		printf(" (%lld days left)",
		       (long long)json_integer_value(json_object_get(ev, "days_left")));
	printf(": %s", result);
	if (*apply_str(ev, "csr"))
		printf(", request %s", tool_esc(apply_str(ev, "csr")));
	if (*apply_str(ev, "certificate"))
		printf(", certificate %s", tool_esc(apply_str(ev, "certificate")));
	if (*apply_str(ev, "detail"))
		printf(", %s", tool_esc(apply_str(ev, "detail")));
	if (*apply_str(ev, "error"))
		printf(": %s", tool_esc(apply_str(ev, "error")));
	putchar('\n');
}

/* One identity's line from a worker. */
static void handle_event(struct tool *t, struct counts *c, const char *line, int plan)
{
	json_t *ev = json_loads(line, 0, NULL);
	const char *result = ev ? apply_str(ev, "result") : "failed";

	c->done++;
	if (strcmp(result, "ok") == 0)
		c->changed++;
	else if (strcmp(result, "unchanged") == 0)
		c->unchanged++;
	else if (strcmp(result, "planned") == 0)
		c->planned++;
	else
		c->failed++;
	progress_clear(c);
	if (t->json)
		printf("%s\n", line);
	else if (ev)
		event_text(t, ev);
	fflush(stdout);
	progress(c, plan);
	json_decref(ev);
}

/* The identities a worker never reported, as failed. */
static void unreported(struct tool *t, struct counts *c, struct job *j, int status, int plan)
{
	char why[160];

	if (WIFSIGNALED(status))
		snprintf(why, sizeof(why), "the worker for this token was killed by signal %d",
		         WTERMSIG(status));
	else
		snprintf(why, sizeof(why), "the worker for this token ended (exit %d) first",
		         WEXITSTATUS(status));
	for (; j->reported < j->n; j->reported++) {
		json_t *ev = json_object();
		char *line;

		json_object_set_new(ev, "event", json_string("identity"));
		tool_json_set_text(ev, "token", j->tok->name);
		tool_json_set_text(ev, "identity", j->ids[j->reported]->name);
		tool_json_set_text(ev, "label", j->ids[j->reported]->label);
		json_object_set_new(ev, "result", json_string("failed"));
		json_object_set_new(ev, "error", json_string(why));
		line = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
		handle_event(t, c, line ? line : "{}", plan);
		free(line);
	}
}

static int start_job(struct tool *t, const struct apply_run *run, struct job *j)
{
	int p[2];

	/* close-on-exec: a hook the worker runs must not hold the pipe open */
	if (pipe(p) != 0)
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	fflush(NULL);
	j->pid = fork();
	if (j->pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (j->pid == 0) {
		int rc;

		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		rc = apply_token(run, j->tok, j->ids, j->n, p[1]);
		close(p[1]);
		fflush(NULL);
		_exit(rc);
	}
	close(p[1]);
	j->fd = p[0];
	return 0;
}

/* Read what the worker wrote; 1 at its end. */
static int read_job(struct tool *t, struct counts *c, struct job *j, int plan)
{
	char chunk[4096], *nl;
	ssize_t r = read(j->fd, chunk, sizeof(chunk));
	char *grown;

	if (r < 0 && errno == EINTR)
		return 0;
	if (r <= 0)
		return 1;
	if (!(grown = realloc(j->buf, j->blen + (size_t)r + 1)))
		return 1;
	j->buf = grown;
	memcpy(j->buf + j->blen, chunk, (size_t)r);
	j->blen += (size_t)r;
	j->buf[j->blen] = '\0';
	while ((nl = memchr(j->buf, '\n', j->blen))) {
		size_t used = (size_t)(nl - j->buf) + 1;

		*nl = '\0';
		if (j->reported < j->n) {
			j->reported++;
			handle_event(t, c, j->buf, plan);
		}
		memmove(j->buf, nl + 1, j->blen - used);
		j->blen -= used;
	}
	return 0;
}

static void finish_job(struct tool *t, struct counts *c, struct job *j, int plan)
{
	int status = 0;

	close(j->fd);
	j->fd = -1;
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	j->pid = 0;
	unreported(t, c, j, status, plan);
	free(j->buf);
	j->buf = NULL;
}

/* Every job, at most jobs at once. */
static void run_jobs(struct tool *t, const struct apply_run *run, struct job *js, size_t njobs,
                     unsigned jobs, struct counts *c)
{
	struct pollfd pfd[MAX_JOBS];
	size_t which[MAX_JOBS], next = 0, running = 0;

	for (;;) {
		while (next < njobs && running < jobs) {
			if (start_job(t, run, &js[next]) != 0) {
				unreported(t, c, &js[next], 1 << 8, run->plan);
				next++;
				continue;
			}
			next++;
			running++;
		}
		if (running == 0)
			break;
		running = 0;
		for (size_t i = 0; i < next; i++) {
			if (js[i].pid <= 0 || js[i].fd < 0)
				continue;
			pfd[running].fd = js[i].fd;
			pfd[running].events = POLLIN;
			which[running++] = i;
		}
		if (poll(pfd, running, -1) < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < running; k++) {
			struct job *j = &js[which[k]];

			if (pfd[k].revents && read_job(t, c, j, run->plan)) {
				finish_job(t, c, j, run->plan);
				running--;
			}
		}
	}
}

static void prometheus(const char *path, const struct counts *c, int rc)
{
	char text[2048];
	int n;

	n = snprintf(text, sizeof(text),
	             "# HELP p11enroll_apply_last_run_timestamp_seconds When the last apply "
	             "ended.\n"
	             "# TYPE p11enroll_apply_last_run_timestamp_seconds gauge\n"
	             "p11enroll_apply_last_run_timestamp_seconds %lld\n"
	             "# HELP p11enroll_apply_last_exit_code Exit status of the last apply "
	             "(0 nothing to do, 10 changed, 11 some failed).\n"
	             "# TYPE p11enroll_apply_last_exit_code gauge\n"
	             "p11enroll_apply_last_exit_code %d\n"
	             "# HELP p11enroll_apply_last_success 1 if no identity failed in the last "
	             "apply.\n"
	             "# TYPE p11enroll_apply_last_success gauge\n"
	             "p11enroll_apply_last_success %d\n"
	             "# HELP p11enroll_apply_identities Identities of the last apply by result.\n"
	             "# TYPE p11enroll_apply_identities gauge\n"
	             "p11enroll_apply_identities{result=\"changed\"} %zu\n"
	             "p11enroll_apply_identities{result=\"failed\"} %zu\n"
	             "p11enroll_apply_identities{result=\"unchanged\"} %zu\n"
	             "# HELP p11enroll_apply_duration_seconds How long the last apply took.\n"
	             "# TYPE p11enroll_apply_duration_seconds gauge\n"
	             "p11enroll_apply_duration_seconds %.3f\n",
	             (long long)time(NULL), rc, c->failed == 0, c->changed, c->failed, c->unchanged,
	             apply_now() - c->start);
	if (n > 0 && (size_t)n < sizeof(text))
		tool_write_output(path, (const unsigned char *)text, (size_t)n);
}

static int parse_jobs(const char *s, unsigned *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || !*s || v < 1 || v > MAX_JOBS)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int run_manifest(struct tool *t, int plan, const char *path, unsigned jobs,
                        const char *audit, const char *prom)
{
	struct apply_run run = { .plan = plan,
		                 .verbosity = t->verbosity,
		                 .force = t->force,
		                 .module = t->module,
		                 .audit_fd = -1 };
	const p11e_manifest_token *toks;
	const p11e_identity *ids;
	size_t ntoks, nids, njobs = 0;
	struct counts c;
	struct job *js = NULL;
	p11e_manifest *m = NULL;
	char host[256] = "";
	p11e_status st;
	int ret;

	st = p11e_manifest_read(t->ctx, path, &m);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	toks = p11e_manifest_tokens(m, &ntoks);
	ids = p11e_manifest_identities(m, &nids);
	if (audit && strcmp(audit, "syslog") == 0) {
		run.audit_syslog = 1;
	} else if (audit && (run.audit_fd = apply_audit_open(audit)) < 0) {
		p11e_manifest_free(m);
		return P11E_ERR_INPUT;
	}
	gethostname(host, sizeof(host) - 1);
	run.host = host;
	/* one job per token with identities, its identities in the file's order */
	js = calloc(ntoks + 1, sizeof(*js));
	for (size_t i = 0; js && i < ntoks; i++) {
		struct job *j = &js[njobs];

		j->tok = &toks[i];
		j->fd = -1;
		if (!(j->ids = calloc(nids, sizeof(*j->ids)))) {
			njobs++;
			break;
		}
		for (size_t k = 0; k < nids; k++)
			if (strcmp(ids[k].token, toks[i].name) == 0)
				j->ids[j->n++] = &ids[k];
		njobs++;
	}
	memset(&c, 0, sizeof(c));
	c.total = nids;
	c.start = apply_now();
	c.progress = isatty(STDERR_FILENO) && t->verbosity >= 1;
	if (!js) {
		fprintf(stderr, "p11enroll: out of memory\n");
		ret = P11E_ERR_FAILED;
		goto done;
	}
	run_jobs(t, &run, js, njobs, jobs, &c);
	progress_clear(&c);
	if (plan)
		ret = c.failed ? EXIT_SOME_FAILED : 0;
	else
		ret = c.failed ? EXIT_SOME_FAILED : c.changed ? EXIT_CHANGED : EXIT_NOTHING;
	if (t->json) {
		json_t *sum = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:i}", "event",
		                        "summary", "identities", (json_int_t)c.total, "changed",
		                        (json_int_t)c.changed, "planned", (json_int_t)c.planned,
		                        "unchanged", (json_int_t)c.unchanged, "failed",
		                        (json_int_t)c.failed, "seconds", apply_now() - c.start,
		                        "exit", ret);
		char *line = sum ? json_dumps(sum, JSON_COMPACT) : NULL;

		if (line)
			printf("%s\n", line);
		free(line);
		json_decref(sum);
	} else if (t->verbosity >= 1) {
		printf("%s: %zu identities: %zu %s, %zu unchanged, %zu failed (%.1f s)\n",
		       plan ? "plan" : "apply", c.total, plan ? c.planned : c.changed,
		       plan ? "to change" : "changed", c.unchanged, c.failed,
		       apply_now() - c.start);
	}
	if (prom && !plan)
		prometheus(prom, &c, ret);
done:
	for (size_t i = 0; js && i < njobs; i++)
		free(js[i].ids);
	free(js);
	if (run.audit_fd >= 0)
		close(run.audit_fd);
	p11e_manifest_free(m);
	return ret;
}

int cmd_plan(struct tool *t, int argc, char **argv)
{
	int ret = tool_help_only("plan", usage_plan, argc, argv);

	if (ret >= 0)
		return ret;
	if (optind + 1 != argc)
		return tool_usage_error("plan", optind < argc ? "one MANIFEST, not more"
		                                              : "the MANIFEST is missing");
	return run_manifest(t, 1, argv[optind], 1, NULL, NULL);
}

int cmd_apply(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "audit", required_argument, NULL, OPT_AUDIT },
		{ "prometheus", required_argument, NULL, OPT_PROM },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *audit = NULL, *prom = NULL;
	unsigned jobs = 1;
	int opt;

	while ((opt = getopt_long(argc, argv, "hj:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			if (parse_jobs(optarg, &jobs) != 0)
				return tool_usage_error("apply",
				                        "-j '%s' is not a number from 1 to %d",
				                        optarg, MAX_JOBS);
			continue;
		case OPT_AUDIT: audit = optarg; continue;
		case OPT_PROM: prom = optarg; continue;
		case 'h': fputs(usage_apply, stdout); return 0;
		}
		return tool_bad_option("apply", argv);
	}
	if (optind + 1 != argc)
		return tool_usage_error("apply", optind < argc ? "one MANIFEST, not more"
		                                               : "the MANIFEST is missing");
	return run_manifest(t, 0, argv[optind], jobs, audit, prom);
}
