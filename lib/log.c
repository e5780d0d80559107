// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib/log.c - the error log
 *
 * A line is formatted into a stack buffer and written with one write(2)
 * on an O_APPEND descriptor: the kernel appends it whole, so lines of the
 * master, of every worker and of every executor thread never interleave
 * (lines are cut at LOG_LINE_MAX, far below the pipe atomicity limit for
 * stderr too).
 *
 * Reopening (SIGUSR1, after logrotate moved the file) opens the path anew
 * and dup2()s it onto the descriptor in use, so a thread writing at that
 * moment writes to either the old or the new file, never to a closed fd.
 */
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"

#define LOG_LINE_MAX 2048

int log_level = LOG_LEVEL_INFO;

static int log_out_fd = STDERR_FILENO; /* -1 = off */
static char log_path[4096] = "-";
static char log_role[64] = "poold";

static const char *const log_names[] = {
	[LOG_LEVEL_ERR] = "error",     [LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

const char *log_level_name(int level)
{
	if (level < 0 || level > LOG_LEVEL_DEBUG)
		return "?";
	return log_names[level];
}

void log_set_role(const char *role)
{
	snprintf(log_role, sizeof(log_role), "%s", role);
}

int log_fd(void)
{
	return log_out_fd;
}

bool log_ratelimit_ok(uint64_t *last)
{
	uint64_t now = clock_mono_ns();
	uint64_t prev = __atomic_load_n(last, __ATOMIC_RELAXED);

	if (prev && now - prev < CLOCK_NS_PER_S)
		return false;
	return __atomic_compare_exchange_n(last, &prev, now, false,
					   __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* "2026-11-24T03:56:24.123Z" */
static size_t log_stamp(char *buf, size_t size)
{
	uint64_t ns = clock_real_ns();
	time_t sec = (time_t)(ns / CLOCK_NS_PER_S);
	struct tm tm;
	size_t n;

	gmtime_r(&sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, size - n, ".%03uZ",
			      (unsigned int)(ns % CLOCK_NS_PER_S / 1000000));
	return n;
}

void log_write(int level, int err, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t n, room = sizeof(line) - 1; /* keep one byte for '\n' */
	va_list ap;
	int r;

	if (log_out_fd < 0)
		return;
	n = log_stamp(line, room);
	r = snprintf(line + n, room - n, " %s [%d] %s: ", log_level_name(level),
		     (int)getpid(), log_role);
	n += r > 0 ? (size_t)r : 0;
	if (n < room) {
		va_start(ap, fmt);
		r = vsnprintf(line + n, room - n, fmt, ap);
		va_end(ap);
		n += r > 0 ? (size_t)r : 0;
	}
	if (err && n < room) {
		r = snprintf(line + n, room - n, ": %s", strerror(-err));
		n += r > 0 ? (size_t)r : 0;
	}
	if (n >= room) /* truncated: the last byte written was the NUL */
		n = room - 1;
	line[n++] = '\n';
	/* best effort: a log that cannot be written must not stop serving */
	if (write(log_out_fd, line, n) < 0)
		return;
}

static int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	return fd < 0 ? -errno : fd;
}

int log_open(const char *path)
{
	int fd;

	if (!strcmp(path, "-")) {
		if (log_out_fd > STDERR_FILENO)
			close(log_out_fd);
		log_out_fd = STDERR_FILENO;
	} else if (!path[0]) {
		if (log_out_fd > STDERR_FILENO)
			close(log_out_fd);
		log_out_fd = -1;
	} else {
		fd = log_open_file(path);
		if (fd < 0)
			return fd;
		if (log_out_fd > STDERR_FILENO)
			close(log_out_fd);
		log_out_fd = fd;
	}
	snprintf(log_path, sizeof(log_path), "%s", path);
	return 0;
}

int log_reopen(void)
{
	int fd, err = 0;

	if (!log_path[0] || !strcmp(log_path, "-") || log_out_fd < 0)
		return 0;
	fd = log_open_file(log_path);
	if (fd < 0)
		return fd;
	/* atomically replace what log_out_fd refers to; CLOEXEC is kept off
	 * the duplicate by dup3 */
	if (dup3(fd, log_out_fd, O_CLOEXEC) < 0)
		err = -errno;
	close(fd);
	return err;
}
