/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * apply-audit.c - the audit log of apply: one JSON line for every write to
 * a token, appended to a file (O_APPEND: the workers' lines never mix, each
 * is one write) or sent to syslog (journald takes it from there).  What goes
 * in is built by the worker from what the library returned: URIs, labels,
 * certificate serials and fingerprints, messages.  No PIN is ever in one of
 * them (the library never puts a PIN into a message).  Also the small
 * helpers apply and station share (time, a JSON field as text).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"

double apply_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *apply_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

void apply_time_iso(char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int apply_audit_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		fprintf(stderr, "p11enroll: cannot open the audit log %s: %s: check the path\n",
		        path, strerror(errno));
	return fd;
}

void apply_audit(const struct apply_run *run, json_t *doc)
{
	char when[32], *line;
	size_t len;

	if (!doc)
		return;
	if (run->audit_fd < 0 && !run->audit_syslog) {
		json_decref(doc);
		return;
	}
	apply_time_iso(when, sizeof(when));
	json_object_set_new(doc, "time", json_string(when));
	json_object_set_new(doc, "host", json_string(run->host ? run->host : ""));
	line = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	if (!line) {
		fprintf(stderr, "p11enroll: out of memory: an audit line is lost\n");
		return;
	}
	if (run->audit_syslog) {
		openlog("p11enroll", LOG_PID, LOG_AUTHPRIV);
		syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s", line);
		closelog();
	}
	if (run->audit_fd >= 0) {
		len = strlen(line);
		line[len] = '\n';
		/* one write per line: O_APPEND keeps lines of several workers whole */
		if (write(run->audit_fd, line, len + 1) != (ssize_t)(len + 1))
			fprintf(stderr, "p11enroll: writing the audit log failed: %s\n",
			        strerror(errno));
		line[len] = '\0';
	}
	free(line);
}
