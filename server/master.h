/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/master.h - the master process: bind, fork workers, supervise
 *
 * The master owns the configuration, the listening sockets and the
 * pidfile.  It handles no request: after forking the workers it only
 * supervises, in an epoll loop over a signalfd and a 100 ms timerfd.  It
 * has no threads.
 */
#ifndef SERVER_MASTER_H
#define SERVER_MASTER_H

#include <stdbool.h>

struct conf;

/* exit statuses of poold (DESIGN.md "Command line") */
#define SRV_EXIT_OK 0
#define SRV_EXIT_CONFIG 1
#define SRV_EXIT_RUNTIME 2

/**
 * srv_master_run - run the server until it is stopped
 * @conf:       the loaded configuration (owned from now on)
 * @foreground: stay in the foreground (-f); else daemonize
 *
 * Returns the process exit status: 0 after a stop, 2 when the server
 * could not start (bind, pidfile, every first-generation worker failed).
 */
int srv_master_run(struct conf *conf, bool foreground);

#endif /* SERVER_MASTER_H */
