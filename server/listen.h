/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/listen.h - the listening sockets
 *
 * The master opens every listener before it forks; workers inherit them
 * and accept on them.  The master owns them and closes them last.
 */
#ifndef SERVER_LISTEN_H
#define SERVER_LISTEN_H

#include <stdbool.h>
#include <stdint.h>

struct conf_listen;

struct srv_listener {
	int fd;
	bool status;		      /* the status_listen address */
	const struct conf_listen *cl; /* borrowed from the cycle's conf */
	uint16_t port;		      /* the port actually bound */
	int backlog;		      /* effective: min(backlog, somaxconn) */
};

/**
 * srv_listen_open - create, bind and listen
 * @l:       filled on success (l->fd = -1 on failure)
 * @cl:      the address
 * @backlog: the configured backlog
 * @status:  true for the status_listen address
 *
 * Non-blocking, close-on-exec, SO_REUSEADDR; IPV6_V6ONLY for v6; a stale
 * unix socket file (nobody listening) is replaced.  Returns 0 or a negative
 * errno; the reason is logged.
 */
int srv_listen_open(struct srv_listener *l, const struct conf_listen *cl,
		    int backlog, bool status);

/* close the socket; unlink a unix socket's file when @unlink_path */
void srv_listen_close(struct srv_listener *l, bool unlink_path);

/* "127.0.0.1:8080", "[::1]:8080" or "unix:/path" with the bound port */
void srv_listen_name(const struct srv_listener *l, char *buf,
		     unsigned int size);

#endif /* SERVER_LISTEN_H */
