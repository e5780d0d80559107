/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/pidfile.h - the pidfile, and liveness decided by its flock
 *
 * A pid alone proves nothing (pids are reused): a master is running if and
 * only if some process holds the exclusive flock on the pidfile.  The
 * master takes the lock before it daemonizes (so "already running" reaches
 * the terminal) and keeps the descriptor open for its whole life; the
 * lock follows the open file description across fork().
 */
#ifndef SERVER_PIDFILE_H
#define SERVER_PIDFILE_H

#include <sys/types.h>

/**
 * srv_pidfile_lock - open @path and take its lock without blocking
 * @path:  the pidfile
 * @owner: on -EEXIST, the pid written in the file (0 if unreadable)
 *
 * Returns the descriptor (>= 0), -EEXIST when another process holds the
 * lock, or another negative errno.
 */
int srv_pidfile_lock(const char *path, pid_t *owner);

/* write our pid into the locked pidfile; 0 or a negative errno */
int srv_pidfile_write(int fd, pid_t pid);

/* unlink the file, then drop the lock (close) */
void srv_pidfile_remove(int fd, const char *path);

/**
 * srv_pidfile_running - the pid of the running master, from @path
 *
 * Returns the pid (> 0) when the file's lock is held, -ESRCH when no
 * master runs (no file, or nobody holds the lock), or another negative
 * errno.
 */
pid_t srv_pidfile_running(const char *path);

#endif /* SERVER_PIDFILE_H */
