/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * files.c - output files and hex arguments.
 */
#include "config.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

/*
 * The mode the file at path gets: an existing file's own (replacing a
 * certificate keeps whatever its owner chose), else what open(2) would
 * give a new one, 0666 less the umask.  mkstemp's file is 0600.
 */
static mode_t output_mode(const char *path)
{
	struct stat sb;
	mode_t mask;

	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
		return sb.st_mode & 07777;
	mask = umask(077); /* the only way to read it; the tool has one thread */
	umask(mask);
	return 0666 & ~mask;
}

int tool_write_output(const char *path, const unsigned char *data, size_t len)
{
	char tmp[4096];
	int fd;

	if (!path || strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
			fprintf(stderr, "p11enroll: writing to stdout failed\n");
			return P11E_ERR_FAILED;
		}
		return 0;
	}
	/* never a half-written file under the final name */
	snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "p11enroll: cannot write %s: %s: check the directory\n", path,
		        strerror(errno));
		return P11E_ERR_INPUT;
	}
	if (fchmod(fd, output_mode(path)) != 0 || write(fd, data, len) != (ssize_t)len ||
	    fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "p11enroll: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return P11E_ERR_INPUT;
	}
	return 0;
}

int tool_hex_decode(const char *hex, unsigned char *out, size_t max, size_t *len)
{
	long n = 0;
	unsigned char *buf = OPENSSL_hexstr2buf(hex, &n);

	if (!buf || n <= 0 || (size_t)n > max) {
		OPENSSL_free(buf);
		return -1;
	}
	memcpy(out, buf, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(buf);
	return 0;
}
