/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/conn.h - one client connection and its request/response cycle
 *
 * A connection reads a request head (server/http_parse.h), then its body
 * (Content-Length or chunked), dispatches it, and writes the response with
 * one writev.  Pipelined requests wait in the input buffer and are
 * answered in order.  Every wait has a deadline: the head
 * (header_timeout_ms, from its first byte or from accept), the body
 * (body_timeout_ms), an unread response (write_timeout_ms) and an idle
 * keep-alive connection (keepalive_timeout_ms).
 *
 * A connection is closed without RST after a response: the write side is
 * shut down and what the client still sends is read and dropped briefly
 * (lingering close).  A connection closed inside a callback is unlinked
 * and freed before the loop next sleeps.
 *
 * Loop thread only.
 */
#ifndef SERVER_CONN_H
#define SERVER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "lib/list.h"
#include "lib/timer.h"
#include "server/http.h"
#include "server/http_parse.h"
#include "server/job.h"

struct srv_worker;

enum srv_conn_state {
	SRV_CONN_HEAD,	 /* reading a request head */
	SRV_CONN_BODY,	 /* reading its body */
	SRV_CONN_BUSY,	 /* its job is with a database pool */
	SRV_CONN_WRITE,	 /* sending a response */
	SRV_CONN_IDLE,	 /* keep-alive, waiting for the next request */
	SRV_CONN_LINGER, /* write side shut, draining input, then close */
	SRV_CONN_CLOSED, /* on the worker's dead list */
};

struct srv_conn {
	struct srv_worker *w;  /* borrowed */
	struct list_head node; /* in w->conns or w->dead */
	int fd;
	enum srv_conn_state state;
	bool status_only;   /* accepted on status_listen */
	bool keep_alive;    /* of the response being written */
	bool sent_continue; /* 100 Continue sent for this request */
	bool peer_eof;	    /* the client shut its write side */
	bool zombie;	    /* closed while an executor runs its job:
			     * freed when the job comes back */

	char *in; /* owned: received bytes */
	size_t in_len;
	size_t in_cap;
	struct srv_http_parser parser;
	struct srv_http_request req;
	size_t head_len; /* of the current request, once parsed */
	struct srv_http_chunked chunked;
	size_t body_len;   /* decoded body bytes after the head */
	uint64_t deadline; /* of the current head or body */

	char head[SRV_HTTP_HEAD_MAX]; /* response head */
	char *body;		      /* owned: response body */
	size_t body_cap;
	struct iovec iov[2];
	unsigned int iovcnt; /* entries of iov in use */
	unsigned int iovpos; /* the first not completely sent */

	struct timer timer;
	uint64_t req_start; /* first byte of the current request */
	uint32_t route_id;  /* segment route id it is counted under */
	struct srv_job job; /* the request sent to a pool */
};

/**
 * srv_conn_open - take over an accepted socket
 * @w:           the worker
 * @fd:          non-blocking, close-on-exec socket (owned from now on)
 * @status_only: accepted on the status listener
 *
 * Returns 0, or a negative errno (the socket is then closed).
 */
int srv_conn_open(struct srv_worker *w, int fd, bool status_only);

/**
 * srv_conn_respond - queue the response to the current request
 * @c:     the connection, whose request is complete
 * @r:     status, content type and extra header lines; keep_alive,
 *         content_length and head_only are filled in here
 * @body:  copied into the connection's body buffer
 * @len:   its length
 * @close: close after this response whatever the request asked
 */
void srv_conn_respond(struct srv_conn *c, struct srv_http_resp *r,
		      const void *body, size_t len, bool close);

/* the same, with @len bytes already in c->body (not copied) */
void srv_conn_respond_body(struct srv_conn *c, struct srv_http_resp *r,
			   size_t len, bool close);

/* send a response queued outside the request path, then go on */
void srv_conn_send(struct srv_conn *c);

/* the request went to a pool: wait (no input) until @deadline */
void srv_conn_wait_job(struct srv_conn *c, uint64_t deadline);

static inline bool srv_conn_is_zombie(const struct srv_conn *c)
{
	return c->zombie;
}

/**
 * srv_conn_error - answer the current request with DESIGN.md's JSON error
 * @c:       the connection
 * @status:  HTTP status
 * @code:    the error code ("not_found"); NULL = the status's own
 * @message: for people
 * @extra:   more header lines ("Allow: GET\r\n") or NULL
 * @close:   close the connection after the response
 */
void srv_conn_error(struct srv_conn *c, int status, const char *code,
		    const char *message, const char *extra, bool close);

/* the worker starts draining: idle connections get a short grace */
void srv_conn_drain(struct srv_conn *c);

/* close at once (SIGQUIT, write timeout); the connection is freed later */
void srv_conn_abort(struct srv_conn *c);

/* free a connection from the dead list */
void srv_conn_free(struct srv_conn *c);

#endif /* SERVER_CONN_H */
