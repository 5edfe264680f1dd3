/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-pin-source.c - libFuzzer target for PIN source specs
 * (p11e__pin_from_source): pass:, env:, file:, fd:, stdin and whatever is
 * not one of them.  OK must give a PIN of sane length; a refusal must say
 * why; the PIN is freed (and wiped) either way.
 *
 * The specs reach the environment, the filesystem and descriptors, so the
 * harness keeps them on ground it prepared: file: names are looked up in a
 * private directory of small PIN files (a '/' in the name skips the input),
 * stdin is one of those files, rewound before every input, and fd:N is only
 * let through for fd 0 or a descriptor that is closed; the fuzzer's own
 * output descriptors could block a read.
 *
 * Built by 'make fuzz' (Makefile.am) with the library sources; seeds in
 * tests/fuzz/corpus/fuzz-pin-source/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-util.h"

#define PIN_MAX 256 /* pin.c's limit for what is read from a file or descriptor */

static p11e_ctx *ctx;

static void put_file(const char *name, const char *text, size_t len, mode_t mode)
{
	char *path = fuzz_path(name);

	fuzz_write(path, text, len);
	if (chmod(path, mode) != 0)
		abort();
	free(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char longline[PIN_MAX + 40];
	char *stdin_path;
	int fd;

	(void)argc;
	(void)argv;
	ctx = fuzz_ctx();

	memset(longline, '7', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\n';
	put_file("pin", "123456\n", 7, 0600);
	put_file("crlf", "87654321\r\nsecond line\n", 22, 0600);
	put_file("noeol", "4242", 4, 0600);
	put_file("empty", "", 0, 0600);
	put_file("blank", "\n123456\n", 8, 0600);
	put_file("long", longline, sizeof(longline), 0600);
	put_file("shared", "123456\n", 7, 0644); /* the group/others warning */
	put_file("stdin", "112233\nsecond\n", 14, 0600);

	/* stdin is a file we rewind: never the fuzzer's terminal or pipe */
	stdin_path = fuzz_path("stdin");
	fd = open(stdin_path, O_RDONLY);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		abort();
	if (fd != STDIN_FILENO)
		close(fd);
	free(stdin_path);

	setenv("P11E_FUZZ_PIN", "24680", 1);
	setenv("P11E_FUZZ_EMPTY", "", 1);
	setenv("P11E_FUZZ_LONG", longline, 1);
	return 0;
}

/*
 * The descriptor pin.c would read for "fd:...", or -1 if it refuses the
 * number before reading; the same parse as pin.c's.
 */
static long fd_of(const char *spec)
{
	char *end = NULL;
	long fd;

	errno = 0;
	fd = strtol(spec + 3, &end, 10);
	if (!spec[3] || *end || errno || fd < 0 || fd > 65535)
		return -1;
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fuzz_cstr(data, size), *call = NULL;
	/* not NULL: p11e__pin_from_source must set it, to a PIN or to NULL */
	p11e_pin *pin = (p11e_pin *)&pin;
	size_t from_file = 0;
	p11e_status st;

	if (strncmp(spec, "file:", 5) == 0 && spec[5]) {
		if (strchr(spec + 5, '/'))
			goto skip;
		call = malloc(strlen(fuzz_dir()) + strlen(spec) + 2);
		if (!call)
			abort();
		sprintf(call, "file:%s/%s", fuzz_dir(), spec + 5);
		from_file = 1;
	} else if (strncmp(spec, "fd:", 3) == 0) {
		long fd = fd_of(spec);

		if (fd > 0 && fcntl((int)fd, F_GETFD) != -1)
			goto skip; /* an open descriptor that is not ours */
		from_file = fd >= 0;
	} else if (strcmp(spec, "stdin") == 0) {
		from_file = 1;
	}
	if (lseek(STDIN_FILENO, 0, SEEK_SET) != 0)
		abort();

	p11e__clear_error(ctx);
	st = p11e__pin_from_source(ctx, call ? call : spec, &pin);
	if (st == P11E_OK) {
		if (!pin || !pin->data || pin->len == 0 || strlen(pin->data) != pin->len ||
		    p11e_pin_length(pin) != pin->len)
			abort();
		/* what was read from a file or descriptor is one line, bounded */
		if (from_file && (pin->len > PIN_MAX || memchr(pin->data, '\n', pin->len)))
			abort();
		if (strncmp(spec, "pass:", 5) == 0 && strcmp(pin->data, spec + 5) != 0)
			abort();
	} else {
		if (pin)
			abort();
		fuzz_check_message(ctx);
		if (st != P11E_ERR_INPUT && st != P11E_ERR_USAGE && st != P11E_ERR_FAILED)
			abort();
	}
	p11e_pin_free(pin);
skip:
	free(call);
	free(spec);
	return 0;
}
