// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/pidfile.c - pidfile with an flock that says who is alive
 *
 * The file is truncated and rewritten only by the lock holder.  A reader
 * (poold -s) tests the lock with a non-blocking shared flock: if it gets
 * it, nobody holds the exclusive one, so the pid in the file is stale.
 */
#include "server/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static pid_t srv_pidfile_read(int fd)
{
	char buf[32];
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

int srv_pidfile_lock(const char *path, pid_t *owner)
{
	int fd, err;

	*owner = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EEXIST : -errno;
		*owner = srv_pidfile_read(fd);
		close(fd);
		return err;
	}
	return fd;
}

int srv_pidfile_write(int fd, pid_t pid)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (ftruncate(fd, 0) < 0)
		return -errno;
	if (pwrite(fd, buf, (size_t)n, 0) != n)
		return errno ? -errno : -EIO;
	return 0;
}

void srv_pidfile_remove(int fd, const char *path)
{
	if (fd < 0)
		return;
	unlink(path);
	close(fd);
}

pid_t srv_pidfile_running(const char *path)
{
	pid_t pid;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd);
		return -ESRCH;
	}
	err = errno == EWOULDBLOCK ? 0 : -errno;
	pid = srv_pidfile_read(fd);
	close(fd);
	if (err)
		return err;
	return pid > 0 ? pid : -ESRCH;
}
