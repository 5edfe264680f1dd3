/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-keygen.c - p11enroll keygen
 */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

const char usage_keygen[] =
	"Usage: p11enroll [GLOBAL OPTIONS] keygen --label L [--id HEX] [--type TYPE]\n"
	"Generate a key pair on the token (log in with --pin).  The private key is\n"
	"sensitive and never extractable; the pair gets the label, and the SHA-1 of\n"
	"the public key as CKA_ID unless --id is given.  Prints the key's URI.\n"
	"\n"
	"Options:\n"
	"  --label L      the key label (both halves)\n"
	"  --id HEX       CKA_ID in hex (default: SHA-1 of the public key)\n"
	"  --type TYPE    rsa:2048 (default), rsa:3072, rsa:4096, ec:P-256, ec:P-384,\n"
	"                 ec:P-521\n"
	"  --help         show this help\n";

enum { OPT_LABEL = 256, OPT_ID, OPT_TYPE };

/* Elapsed time on a terminal: generation on a smartcard can take a minute. */
struct ticker {
	pthread_mutex_t lock;
	pthread_cond_t done_cv;
	int done;
	const char *what;
};

static void *tick(void *arg)
{
	struct ticker *tk = arg;
	struct timespec start, until;
	int secs = 0;

	clock_gettime(CLOCK_REALTIME, &start);
	pthread_mutex_lock(&tk->lock);
	while (!tk->done) {
		until = start;
		until.tv_sec += secs + 1;
		if (pthread_cond_timedwait(&tk->done_cv, &tk->lock, &until) != 0 && !tk->done)
			fprintf(stderr, "\r%s... %d s", tk->what, ++secs);
	}
	pthread_mutex_unlock(&tk->lock);
	if (secs)
		fprintf(stderr, "\r%s... done in %d s\n", tk->what, secs);
	return NULL;
}

/* Run keygen, with the ticker when stderr is a terminal. */
static p11e_status keygen_timed(struct tool *t, const char *type, const char *label,
                                const unsigned char *id, size_t id_len, p11e_key *key)
{
	struct ticker tk = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0,
		             "generating the key" };
	pthread_t th;
	int ticking = t->verbosity >= 1 && isatty(STDERR_FILENO) &&
	              pthread_create(&th, NULL, tick, &tk) == 0;
	p11e_status st = p11e_keygen(t->ctx, type, label, id, id_len, key);

	if (ticking) {
		pthread_mutex_lock(&tk.lock);
		tk.done = 1;
		pthread_cond_signal(&tk.done_cv);
		pthread_mutex_unlock(&tk.lock);
		pthread_join(th, NULL);
	}
	return st;
}

int cmd_keygen(struct tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "id", required_argument, NULL, OPT_ID },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *label = NULL, *type = NULL;
	unsigned char id[64];
	size_t id_len = 0;
	p11e_key key;
	p11e_key_type kt;
	unsigned bits;
	const char *curve;
	p11e_status st;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_LABEL: label = optarg; break;
		case OPT_ID:
			if (tool_hex_decode(optarg, id, sizeof(id), &id_len) != 0)
				return tool_usage_error("keygen",
				                        "--id '%s' is not 1 to 64 bytes of hex",
				                        optarg);
			break;
		case OPT_TYPE: type = optarg; break;
		case 'h': fputs(usage_keygen, stdout); return 0;
		default: return tool_bad_option("keygen", argv);
		}
	}
	if (optind < argc)
		return tool_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
	if (!label)
		return tool_usage_error("keygen", "--label is required");
	if (p11e_key_type_parse(t->ctx, type, &kt, &bits, &curve) != P11E_OK)
		return tool_fail(t, P11E_ERR_USAGE, NULL);
	if ((ret = tool_login(t)) != 0)
		return ret;
	st = keygen_timed(t, type, label, id, id_len, &key);
	if (st != P11E_OK)
		return tool_fail(t, st, NULL);
	if (t->json)
		ret = tool_json_emit(tool_key_json(&key));
	else {
		printf("%s\n", tool_esc(key.uri));
		ret = 0;
	}
	p11e_key_clear(&key);
	return ret;
}
