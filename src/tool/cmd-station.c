/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-station.c - p11enroll station: a provisioning station, card after card.
 *
 * For each card: wait for it, let a worker process provision it
 * (station-card.c: a fresh module load, the card's token, the recipe's
 * identities, all or nothing), print one result line (a JSON line with
 * --json), tell the operator to take the card out, wait until it is out,
 * next.  A card that fails is reported and the loop goes on.  The parent
 * never loads a module: it reads the recipe and the PINs once (an fd: or a
 * prompt cannot be read again for every card) and talks to pcscd.
 *
 * Ctrl-C (SIGINT) or SIGTERM while waiting for a card ends the station at
 * once; during a card it is held until the card is done (the worker blocks
 * it too), then the station ends: a card is never cut off half-made.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apply.h"

/* station's exit codes (p11enroll(1), EXIT STATUS), as apply's */
enum { EXIT_ALL_OK = 0, EXIT_SOME_FAILED = 11 };
#define MAX_CARDS 1000000

const char usage_station[] =
	"Usage: p11enroll [GLOBAL OPTIONS] station --recipe FILE [--reader NAME|GLOB]\n"
	"                 [--count N]\n"
	"A provisioning station: for each card put into a reader, find its token,\n"
	"initialise it if it is blank and the recipe says so, make the recipe's\n"
	"identities on it (requests to the outbox, certificates from the inbox),\n"
	"print one result line, and wait until the card is taken out; then the next.\n"
	"A card that fails is reported, keeps no key of this run, and the loop goes on.\n"
	"Exit status: 0 every card succeeded, 11 some failed.\n"
	"\n"
	"Options:\n"
	"  --recipe FILE        the recipe (p11enroll-manifest(5) with a [station])\n"
	"  --reader NAME|GLOB   only cards in readers whose name matches (fnmatch glob)\n"
	"  --count N            stop after N cards (default: until Ctrl-C)\n"
	"  --help               show this help\n"
	"\n"
	"Ctrl-C while waiting for a card ends the station (exit status 130); during a\n"
	"card, the card is finished first.\n";

enum { OPT_RECIPE = 256, OPT_READER, OPT_COUNT };

struct tally {
	unsigned done, ok, failed;
	char last[160]; /* the last card's result, for the operator */
};

/* The card's line as text: "card N: ok|FAILED, token 'L' (serial S): what was done". */
static void card_text(json_t *doc)
{
	json_t *ids = json_object_get(doc, "identities");
	int failed = strcmp(apply_str(doc, "result"), "ok") != 0;

	printf("card %lld: %s", (long long)json_integer_value(json_object_get(doc, "card")),
	       failed ? "FAILED" : "ok");
	if (*apply_str(doc, "token"))
		printf(", token '%s' (serial %s)%s", tool_esc(apply_str(doc, "token")),
		       tool_esc(apply_str(doc, "serial")),
		       json_is_true(json_object_get(doc, "initialised")) ? ", initialised" : "");
	for (size_t i = 0; i < json_array_size(ids); i++) {
		json_t *ev = json_array_get(ids, i);

		printf("%s %s: %s %s", i ? ";" : ":", tool_esc(apply_str(ev, "identity")),
		       *apply_str(ev, "action") ? apply_str(ev, "action") : "-",
		       apply_str(ev, "result"));
		if (*apply_str(ev, "csr") && strcmp(apply_str(ev, "result"), "ok") == 0)
			printf(", request %s", tool_esc(apply_str(ev, "csr")));
		if (*apply_str(ev, "certificate"))
			printf(", certificate %s", tool_esc(apply_str(ev, "certificate")));
		if (*apply_str(ev, "error"))
			printf(" (%s)", tool_esc(apply_str(ev, "error")));
	}
	if (*apply_str(doc, "error"))
		printf(": %s", tool_esc(apply_str(doc, "error")));
	putchar('\n');
	fflush(stdout);
}

/* Run the card's worker and print its line; 0 the card is ok. */
static int one_card(struct tool *t, const struct station_run *sr, unsigned card, double inserted,
                    struct tally *ty)
{
	char *buf = NULL, chunk[4096];
	size_t blen = 0;
	int p[2], status = 0, ok = 0;
	json_t *doc = NULL;
	pid_t pid;
	ssize_t r;

	if (pipe(p) != 0)
		return -1;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int rc;

		close(p[0]);
		rc = station_card(sr, card, inserted, p[1]);
		close(p[1]);
		fflush(NULL);
		_exit(rc);
	}
	close(p[1]);
	for (;;) {
		char *grown;

		r = read(p[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || !(grown = realloc(buf, blen + (size_t)r + 1)))
			break;
		buf = grown;
		memcpy(buf + blen, chunk, (size_t)r);
		blen += (size_t)r;
		buf[blen] = '\0';
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (buf)
		doc = json_loads(buf, 0, NULL);
	if (!doc) {
		/* the worker died before it could say: the card failed */
		char why[120];

		snprintf(why, sizeof(why), "the worker for this card %s %d",
		         WIFSIGNALED(status) ? "was killed by signal" : "ended with exit status",
		         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		doc = json_pack("{s:s, s:i, s:s, s:s, s:[]}", "event", "card", "card", (int)card,
		                "result", "failed", "error", why, "identities");
	}
	free(buf);
	ok = doc && strcmp(apply_str(doc, "result"), "ok") == 0;
	ty->done++;
	ok ? ty->ok++ : ty->failed++;
	snprintf(ty->last, sizeof(ty->last), "card %u %s%s%s", card, ok ? "ok" : "FAILED",
	         *apply_str(doc, "token") ? ", token " : "", tool_esc(apply_str(doc, "token")));
	if (t->json) {
		char *line = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

		if (line)
			printf("%s\n", line);
		free(line);
		fflush(stdout);
	} else if (doc) {
		card_text(doc);
	}
	json_decref(doc);
	return ok ? 0 : 1;
}

/* A glob that matches exactly name (its *, ?, [ and \ escaped). */
static char *exact_glob(const char *name)
{
	char *g = malloc(2 * strlen(name) + 1), *o = g;

	if (!g)
		return NULL;
	for (; *name; name++) {
		if (strchr("*?[\\", *name))
			*o++ = '\\';
		*o++ = *name;
	}
	*o = '\0';
	return g;
}

/* The running count and the last result, for the operator (stderr). */
static void tell(struct tool *t, const struct tally *ty, const char *what)
{
	if (t->verbosity < 1)
		return;
	if (ty->done)
		fprintf(stderr, "station: %u done, %u ok, %u failed; last: %s; %s\n", ty->done,
		        ty->ok, ty->failed, ty->last, what);
	else
		fprintf(stderr, "station: %s\n", what);
	fflush(stderr);
}

/* Wait for the card event on ctx, Ctrl-C watched: 0, -sig on a signal, else the exit code. */
static int wait_card(struct tool *t, const char *pattern, unsigned flags, p11e_reader *r)
{
	struct tool_sigwatch w;
	p11e_status st;
	int ret, sig;

	memset(r, 0, sizeof(*r));
	if ((ret = tool_sigwatch_start(&w, t->ctx)) != 0)
		return ret;
	st = p11e_reader_wait(t->ctx, pattern, flags, -1, r);
	if ((sig = tool_sigwatch_stop(&w))) {
		p11e_reader_clear(r);
		return -sig;
	}
	return st == P11E_OK ? 0 : tool_fail(t, st, NULL);
}

static int read_pins(struct tool *t, const p11e_station *stn, p11e_pin **pin, p11e_pin **so_pin)
{
	const char *src = stn->pin ? stn->pin : t->pin;
	p11e_status st;

	tool_warn_pass(t, src);
	if (stn->init) {
		const char *so = stn->so_pin ? stn->so_pin : t->so_pin;

		tool_warn_pass(t, so);
		if ((st = p11e_pin_read(t->ctx, so, P11E_PIN_SO, so_pin)) != P11E_OK)
			return tool_fail(t, st, stn->so_pin ? "recipe so_pin" : "--so-pin");
	}
	/* a blank card gets this user PIN: a new one, asked for twice */
	st = p11e_pin_read(t->ctx, src, stn->init ? P11E_PIN_NEW_USER : P11E_PIN_USER, pin);
	if (st != P11E_OK)
		return tool_fail(t, st, stn->pin ? "recipe pin" : "--pin");
	return 0;
}

static int run(struct tool *t, const char *recipe, const char *pattern, unsigned count)
{
	struct station_run sr;
	struct tally ty;
	const p11e_identity *ids;
	const p11e_identity **list = NULL;
	p11e_manifest *m = NULL;
	p11e_pin *pin = NULL, *so_pin = NULL;
	p11e_reader *readers = NULL, r;
	size_t nreaders = 0, nids;
	char what[200];
	int ret, sig = 0;
	p11e_status st;

	memset(&ty, 0, sizeof(ty));
	memset(&sr, 0, sizeof(sr));
	if ((st = p11e_recipe_read(t->ctx, recipe, &m)) != P11E_OK)
		return tool_fail(t, st, NULL);
	ids = p11e_manifest_identities(m, &nids);
	if (!(list = calloc(nids, sizeof(*list)))) {
		ret = P11E_ERR_FAILED;
		goto done;
	}
	for (size_t i = 0; i < nids; i++)
		list[i] = &ids[i];
	/* no pcscd is said before any PIN is asked for */
	if ((st = p11e_reader_list(t->ctx, &readers, &nreaders)) != P11E_OK) {
		ret = tool_fail(t, st, NULL);
		goto done;
	}
	p11e_reader_list_free(readers, nreaders);
	sr.station = p11e_manifest_station(m);
	if ((ret = read_pins(t, sr.station, &pin, &so_pin)) != 0)
		goto done;
	sr.apply.verbosity = t->verbosity;
	sr.apply.force = t->force;
	sr.apply.module = t->module;
	sr.apply.audit_fd = -1;
	sr.ids = list;
	sr.n = nids;
	sr.pin = pin;
	sr.so_pin = so_pin;
	sr.reader = &r;
	for (unsigned card = 1; !count || card <= count; card++) {
		char *exact;
		double inserted;

		snprintf(what, sizeof(what), "card %u: insert a card%s%s", card,
		         pattern ? " into " : "", pattern ? tool_esc(pattern) : "");
		tell(t, &ty, what);
		if ((ret = wait_card(t, pattern, 0, &r)) != 0)
			break;
		inserted = apply_now();
		if (one_card(t, &sr, card, inserted, &ty) < 0) {
			fprintf(stderr, "p11enroll: cannot start a worker: %s\n", strerror(errno));
			p11e_reader_clear(&r);
			ret = P11E_ERR_FAILED;
			break;
		}
		snprintf(what, sizeof(what), "card %u: take the card out of '%s'", card,
		         tool_esc(r.name));
		tell(t, &ty, what);
		exact = exact_glob(r.name);
		p11e_reader_clear(&r);
		ret = exact ? wait_card(t, exact, P11E_WAIT_REMOVED, &r) : P11E_ERR_FAILED;
		free(exact);
		p11e_reader_clear(&r);
		if (ret != 0)
			break;
	}
	if (ret < 0) {
		sig = -ret;
		ret = 128 + sig;
	} else if (ret == 0) {
		ret = ty.failed ? EXIT_SOME_FAILED : EXIT_ALL_OK;
	}
	if (t->verbosity >= 1 && ty.done)
		fprintf(stderr, "station: %u cards, %u ok, %u failed\n", ty.done, ty.ok, ty.failed);
done:
	p11e_pin_free(pin);
	p11e_pin_free(so_pin);
	free(list);
	p11e_manifest_free(m);
	if (sig) {
		struct tool_sigwatch w;

		memset(&w, 0, sizeof(w));
		sigemptyset(&w.set);
		sigaddset(&w.set, sig);
		return tool_sigwatch_die(&w, sig);
	}
	return ret;
}

int cmd_station(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "recipe", required_argument, NULL, OPT_RECIPE },
		{ "reader", required_argument, NULL, OPT_READER },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *recipe = NULL, *pattern = NULL;
	unsigned count = 0;
	char *end;
	long v;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_RECIPE: recipe = optarg; break;
		case OPT_READER: pattern = optarg; break;
		case OPT_COUNT:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || !*optarg || v < 1 || v > MAX_CARDS)
				return tool_usage_error("station",
				                        "--count '%s' is not a number from 1 to %d",
				                        optarg, MAX_CARDS);
			count = (unsigned)v;
			break;
		case 'h': fputs(usage_station, stdout); return 0;
		default: return tool_bad_option("station", argv);
		}
	}
	if (optind < argc)
		return tool_usage_error("station", "unexpected argument '%s'", argv[optind]);
	if (!recipe)
		return tool_usage_error("station", "--recipe is required");
	if (pattern && !*pattern)
		return tool_usage_error("station", "--reader is empty");
	return run(t, recipe, pattern, count);
}
