/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-util.h - what the fuzz targets share: the input as a C string or as
 * a file, a private scratch directory, a silent log.  Header-only so that
 * each target stays one translation unit plus the library sources.
 */
#ifndef P11ENROLL_FUZZ_UTIL_H
#define P11ENROLL_FUZZ_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input up to its first NUL, as the command line would pass it; abort on OOM. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static char fuzz_dir_path[64];

/* The directory holds only the files the target wrote: no subdirectories. */
static inline void fuzz_dir_remove(void)
{
	DIR *d = opendir(fuzz_dir_path);
	struct dirent *e;
	char path[sizeof(fuzz_dir_path) + 256];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir_path, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(fuzz_dir_path);
}

/* A private directory under /tmp for this process, removed at exit. */
static inline const char *fuzz_dir(void)
{
	if (fuzz_dir_path[0])
		return fuzz_dir_path;
	snprintf(fuzz_dir_path, sizeof(fuzz_dir_path), "/tmp/p11e-fuzz-XXXXXX");
	if (!mkdtemp(fuzz_dir_path))
		abort();
	atexit(fuzz_dir_remove);
	return fuzz_dir_path;
}

/* Replace dir/name with buf (mode 0600); the path stays valid until exit. */
static inline void fuzz_write(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = buf;

	if (fd < 0)
		abort();
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w <= 0)
			abort();
		p += w;
		len -= (size_t)w;
	}
	close(fd);
}

static inline char *fuzz_path(const char *name)
{
	char *path = malloc(strlen(fuzz_dir()) + strlen(name) + 2);

	if (!path)
		abort();
	sprintf(path, "%s/%s", fuzz_dir(), name);
	return path;
}

/*
 * OpenSSL's config reader follows ".include PATH" to any file or directory:
 * the fuzzer could point it at /dev/zero or a terminal and hang.  The
 * directive is matched on the text after line continuations are joined, so
 * look for it with every backslash and line break taken out.
 */
static inline int fuzz_has_include(const uint8_t *data, size_t size)
{
	static const char dir[] = ".include";
	size_t m = 0;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\\' || data[i] == '\r' || data[i] == '\n')
			continue;
		m = data[i] == (uint8_t)dir[m] ? m + 1 : data[i] == '.' ? 1 : 0;
		if (m == sizeof(dir) - 1)
			return 1;
	}
	return 0;
}

/* The library logs warnings and notes; the fuzzer's log is for findings. */
static inline void fuzz_log(void *data, p11e_log_level level, const char *msg)
{
	(void)data;
	(void)level;
	if (!msg)
		abort();
}

/* The context a target keeps for its whole run, logging nowhere. */
static inline p11e_ctx *fuzz_ctx(void)
{
	p11e_ctx *ctx = p11e_ctx_new();

	if (!ctx)
		abort();
	p11e_ctx_set_log(ctx, fuzz_log, NULL);
	return ctx;
}

/* A refusal must say what was wrong. */
static inline void fuzz_check_message(const p11e_ctx *ctx)
{
	const char *m = p11e_error_message(ctx);

	if (!m || !m[0] || !memchr(m, '\0', 512))
		abort();
}

/*
 * What p11e__req_prepare gave: a request and a digest we offer, or no
 * request and a message; with need_subject, a subject with something in it.
 */
static inline void fuzz_check_req(const p11e_ctx *ctx, p11e_status st, X509_REQ *req,
                                  const char *md, int need_subject)
{
	if (st == P11E_OK) {
		if (!req || !md ||
		    (strcmp(md, "SHA256") && strcmp(md, "SHA384") && strcmp(md, "SHA512")))
			abort();
		if (need_subject && X509_NAME_entry_count(X509_REQ_get_subject_name(req)) <= 0)
			abort();
		X509_REQ_free(req);
	} else {
		if (req)
			abort();
		fuzz_check_message(ctx);
	}
}

#endif
