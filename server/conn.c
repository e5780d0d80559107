// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/conn.c - the life of one client connection
 *
 * States (server/conn.h): HEAD -> BODY -> WRITE -> IDLE -> HEAD ... and
 * LINGER before a close that follows a response.  The input buffer holds
 * the current request (head, then its decoded body) followed by whatever
 * the client pipelined; after a response the request's bytes are dropped
 * and the next head, if any, is parsed at once, so pipelined requests are
 * answered in order without waiting for another read.
 *
 * A chunked body is decoded in place: decoded bytes are appended right
 * after the head, the chunk framing disappears, and the bytes after the
 * final chunk are moved down behind the body.
 *
 * One timer per connection carries the deadline of whatever it waits for
 * (head, body, write progress, keep-alive, lingering close); re-arming it
 * is O(log n) in the worker's heap.
 *
 * The input buffer starts small and grows by doubling, bounded by
 * max_header_bytes + max_body_bytes; after a large request it shrinks
 * back, so ten thousand idle keep-alive connections stay cheap.
 */
#define pr_fmt(fmt) "conn: " fmt

#include "server/conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "server/params.h"
#include "server/router.h"
#include "server/stats.h"
#include "shm/poold_shm.h"
#include "server/worker.h"

#define SRV_CONN_IN_MIN 4096	   /* initial and shrunk input buffer */
#define SRV_CONN_BODY_MIN 512	   /* initial response body buffer */
#define SRV_CONN_CHUNK_SLACK 16384 /* framing in flight for chunked bodies */
#define SRV_CONN_LINGER_MS 2000 /* lingering close: read and drop this long */
#define SRV_CONN_DRAIN_IDLE_MS 1000 /* idle grace when the worker drains */

static void srv_conn_on_io(struct ev_loop *l, int fd, uint32_t events,
			   void *data);
static void srv_conn_on_timer(struct timer *t);
static void srv_conn_process(struct srv_conn *c);

static uint64_t srv_conn_ms(const struct srv_conn *c, uint32_t ms)
{
	return c->w->loop.now + (uint64_t)ms * CLOCK_NS_PER_MS;
}

static void srv_conn_arm(struct srv_conn *c, uint64_t deadline)
{
	/* -ENOMEM leaves the timer idle: the connection then has no
	 * deadline, so refuse to keep it */
	if (timer_arm(&c->w->loop.timers, &c->timer, deadline) < 0)
		srv_conn_abort(c);
}

static int srv_conn_want(struct srv_conn *c, uint32_t events)
{
	return ev_mod(&c->w->loop, c->fd, events);
}

/* every state change goes through here: the worker counts them */
static void srv_conn_set_state(struct srv_conn *c, enum srv_conn_state to)
{
	c->w->nstate[c->state]--;
	c->w->nstate[to]++;
	c->state = to;
}

int srv_conn_open(struct srv_worker *w, int fd, bool status_only)
{
	struct srv_conn *c;
	int one = 1, err;

	c = calloc(1, sizeof(*c));
	if (!c) {
		err = -ENOMEM;
		goto err_close;
	}
	c->in = malloc(SRV_CONN_IN_MIN);
	if (!c->in) {
		err = -ENOMEM;
		goto err_free;
	}
	c->in_cap = SRV_CONN_IN_MIN;
	c->w = w;
	c->fd = fd;
	c->status_only = status_only;
	c->state = SRV_CONN_HEAD;
	w->nstate[SRV_CONN_HEAD]++;
	c->req_start = w->loop.now;
	c->route_id = SHM_ROUTE_OTHER;
	srv_http_parser_init(&c->parser);
	timer_init(&c->timer, srv_conn_on_timer);
	/* a response is one writev: do not let Nagle hold its tail */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	err = ev_add(&w->loop, fd, EPOLLIN, srv_conn_on_io, c);
	if (err)
		goto err_free_in;
	list_add_tail(&c->node, &w->conns);
	w->nconns++;
	c->deadline = srv_conn_ms(c, w->conf->limits.header_timeout_ms);
	srv_conn_arm(c, c->deadline);
	if (w->draining)
		srv_conn_drain(c);
	return 0;

err_free_in:
	free(c->in);
err_free:
	free(c);
err_close:
	close(fd);
	return err;
}

/* move to the dead list; memory is freed before the loop sleeps */
static void srv_conn_close(struct srv_conn *c)
{
	struct srv_worker *w = c->w;

	if (c->state == SRV_CONN_CLOSED)
		return;
	/* an executor may be running its job: then free it on return */
	if (c->state == SRV_CONN_BUSY && !srv_router_cancel(c))
		c->zombie = true;
	ev_del(&w->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	timer_cancel(&w->loop.timers, &c->timer);
	list_del_init(&c->node);
	if (!c->zombie)
		list_add_tail(&c->node, &w->dead);
	w->nstate[c->state]--;
	c->state = SRV_CONN_CLOSED;
	w->nconns--;
	srv_worker_resume_accept(w);
}

void srv_conn_abort(struct srv_conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/* the client is gone or misbehaving: drop what is queued now */
	if (c->fd >= 0)
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	srv_conn_close(c);
}

void srv_conn_free(struct srv_conn *c)
{
	srv_params_release(&c->job);
	jsonw_destroy(&c->job.out);
	free(c->in);
	free(c->body);
	free(c);
}

/*
 * Close after a response without sending RST: shut our write side (FIN
 * after the response), then read and drop what the client still sends
 * until it closes too or SRV_CONN_LINGER_MS pass.
 */
static void srv_conn_linger(struct srv_conn *c)
{
	if (c->peer_eof || shutdown(c->fd, SHUT_WR) < 0) {
		srv_conn_close(c);
		return;
	}
	srv_conn_set_state(c, SRV_CONN_LINGER);
	if (srv_conn_want(c, EPOLLIN) < 0) {
		srv_conn_close(c);
		return;
	}
	srv_conn_arm(c, srv_conn_ms(c, SRV_CONN_LINGER_MS));
}

static void srv_conn_linger_read(struct srv_conn *c)
{
	char sink[4096];
	ssize_t n;

	n = read(c->fd, sink, sizeof(sink));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		srv_conn_close(c);
}

void srv_conn_drain(struct srv_conn *c)
{
	/* busy connections finish their request and then close (their
	 * response says Connection: close); idle ones get a short grace */
	if (c->state == SRV_CONN_IDLE ||
	    (c->state == SRV_CONN_HEAD && !c->in_len))
		srv_conn_arm(c, srv_conn_ms(c, SRV_CONN_DRAIN_IDLE_MS));
}

static size_t srv_conn_in_limit(const struct srv_conn *c)
{
	const struct conf_limits *lim = &c->w->conf->limits;

	return lim->max_header_bytes + lim->max_body_bytes +
	       SRV_CONN_CHUNK_SLACK;
}

/* make room to read; -ENOSPC when the buffer is at its bound and full */
static int srv_conn_room(struct srv_conn *c)
{
	size_t cap = c->in_cap, limit = srv_conn_in_limit(c);
	char *p;

	if (c->in_len < c->in_cap)
		return 0;
	if (cap >= limit)
		return -ENOSPC;
	cap = cap * 2 < limit ? cap * 2 : limit;
	p = realloc(c->in, cap);
	if (!p)
		return -ENOMEM;
	c->in = p;
	c->in_cap = cap;
	return 0;
}

/* read what the socket has: 1 got bytes or EOF, 0 nothing, <0 closed */
static int srv_conn_fill(struct srv_conn *c)
{
	ssize_t n;
	int err;

	err = srv_conn_room(c);
	if (err == -ENOSPC)
		return 0; /* full of pipelined requests: answer some first */
	if (err) {
		srv_conn_abort(c);
		return err;
	}
	n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n > 0) {
		c->in_len += (size_t)n;
		srv_stats_bytes(c->w, (uint64_t)n, 0);
		return 1;
	}
	if (n == 0) {
		c->peer_eof = true;
		return 1;
	}
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	srv_conn_abort(c); /* ECONNRESET and friends */
	return -1;
}

static int srv_conn_body_room(struct srv_conn *c, size_t len)
{
	size_t cap = c->body_cap ? c->body_cap : SRV_CONN_BODY_MIN;
	char *p;

	if (len <= c->body_cap)
		return 0;
	while (cap < len)
		cap *= 2;
	p = realloc(c->body, cap);
	if (!p)
		return -ENOMEM;
	c->body = p;
	c->body_cap = cap;
	return 0;
}

/* see server/conn.h */
void srv_conn_respond_body(struct srv_conn *c, struct srv_http_resp *r,
			   size_t len, bool close)
{
	size_t hlen;

	r->keep_alive = c->req.keep_alive && !close && !c->peer_eof &&
			!srv_worker_is_draining(c->w);
	r->content_length = len;
	r->head_only = c->req.method == SRV_HTTP_HEAD;
	hlen = srv_http_head(r, c->head);
	c->keep_alive = r->keep_alive;
	srv_stats_request(c->w, c->route_id, r->status,
			  c->w->loop.now - c->req_start);
	c->iov[0] = (struct iovec){ .iov_base = c->head, .iov_len = hlen };
	c->iov[1] = (struct iovec){ .iov_base = c->body, .iov_len = len };
	c->iovcnt = len && !r->head_only ? 2 : 1;
	c->iovpos = 0;
	srv_conn_set_state(c, SRV_CONN_WRITE);
	srv_conn_arm(c, srv_conn_ms(c, c->w->conf->limits.write_timeout_ms));
}

/* see server/conn.h */
void srv_conn_respond(struct srv_conn *c, struct srv_http_resp *r,
		      const void *body, size_t len, bool close)
{
	if (srv_conn_body_room(c, len) < 0) {
		srv_conn_abort(c);
		return;
	}
	if (len)
		memcpy(c->body, body, len);
	srv_conn_respond_body(c, r, len, close);
}

/* see server/conn.h */
void srv_conn_error(struct srv_conn *c, int status, const char *code,
		    const char *message, const char *extra, bool close)
{
	struct srv_http_resp r = { .status = status,
				   .content_type = "application/json",
				   .extra = extra };
	char body[512];
	size_t len;

	len = srv_http_error_body(body, sizeof(body),
				  code ? code : srv_http_error_code(status),
				  message);
	srv_conn_respond(c, &r, body, len, close);
}

/* a request the parser or the body reader rejected: answer, then close */
static void srv_conn_reject(struct srv_conn *c, int status)
{
	static const char *const msgs[][2] = {
		{ "400", "malformed request" },
		{ "408", "the request did not arrive in time" },
		{ "413", "request body too large" },
		{ "417", "unsupported expectation" },
		{ "431", "request head too large" },
		{ "501", "unsupported transfer coding" },
		{ "505", "unsupported HTTP version" },
	};
	const char *msg = "malformed request";
	char st[8];
	unsigned int i;

	snprintf(st, sizeof(st), "%d", status);
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		if (!strcmp(msgs[i][0], st))
			msg = msgs[i][1];
	}
	/* the request may be only partly parsed: answer it as HTTP/1.1
	 * without keep-alive, never as HEAD */
	c->req.keep_alive = false;
	c->req.method = SRV_HTTP_OTHER;
	srv_conn_error(c, status, NULL, msg, NULL, true);
}

/* send what is queued: 1 all sent, 0 must wait for EPOLLOUT, -1 closed */
static int srv_conn_flush(struct srv_conn *c)
{
	struct msghdr mh = { 0 };
	ssize_t n;
	size_t k;

	while (c->iovpos < c->iovcnt) {
		mh.msg_iov = c->iov + c->iovpos;
		mh.msg_iovlen = c->iovcnt - c->iovpos;
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n > 0)
			srv_stats_bytes(c->w, 0, (uint64_t)n);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return srv_conn_want(c, EPOLLOUT) < 0 ? -1 : 0;
			srv_conn_abort(c);
			return -1;
		}
		while (c->iovpos < c->iovcnt) {
			k = c->iovpos;
			if ((size_t)n < c->iov[k].iov_len) {
				c->iov[k].iov_base =
					(char *)c->iov[k].iov_base + n;
				c->iov[k].iov_len -= (size_t)n;
				break;
			}
			n -= (ssize_t)c->iov[k].iov_len;
			c->iovpos++;
		}
		/* progress: the write timeout restarts */
		srv_conn_arm(
			c, srv_conn_ms(c, c->w->conf->limits.write_timeout_ms));
	}
	return 1;
}

/* the response went out: drop the request, then keep-alive or close */
static void srv_conn_done(struct srv_conn *c)
{
	size_t used = c->head_len + c->body_len;
	char *p;

	if (!c->keep_alive) {
		srv_conn_linger(c);
		return;
	}
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	c->head_len = c->body_len = 0;
	c->sent_continue = false;
	srv_http_parser_init(&c->parser);
	if (c->in_cap > SRV_CONN_IN_MIN && c->in_len <= SRV_CONN_IN_MIN) {
		p = realloc(c->in, SRV_CONN_IN_MIN);
		if (p) {
			c->in = p;
			c->in_cap = SRV_CONN_IN_MIN;
		}
	}
	srv_conn_set_state(c, SRV_CONN_IDLE);
	if (srv_conn_want(c, EPOLLIN) < 0) {
		srv_conn_close(c);
		return;
	}
	srv_conn_arm(c,
		     srv_conn_ms(c, c->w->conf->limits.keepalive_timeout_ms));
	if (srv_worker_is_draining(c->w))
		srv_conn_drain(c);
}

static void srv_conn_send_continue(struct srv_conn *c)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";

	c->sent_continue = true;
	/* tiny and first on the socket: it fits; if not, the client sends
	 * its body anyway after its own timeout */
	if (send(c->fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN)
		pr_debug("could not send 100 Continue: %s", strerror(errno));
}

/* a complete head was parsed: decide how its body is read */
static int srv_conn_start_body(struct srv_conn *c)
{
	const struct conf_limits *lim = &c->w->conf->limits;
	const struct srv_http_request *req = &c->req;

	c->body_len = 0;
	if (req->chunked) {
		srv_http_chunked_init(&c->chunked, lim->max_body_bytes);
	} else if (!req->has_content_length || !req->content_length) {
		return 0;
	} else if (req->content_length > lim->max_body_bytes) {
		srv_conn_reject(c, 413);
		return -1;
	}
	srv_conn_set_state(c, SRV_CONN_BODY);
	c->deadline = srv_conn_ms(c, lim->body_timeout_ms);
	srv_conn_arm(c, c->deadline);
	if (req->expect_continue && req->minor_version == 1)
		srv_conn_send_continue(c);
	return 0;
}

/* decode what arrived of a chunked body: 1 complete, 0 wait, -1 rejected */
static int srv_conn_read_chunked(struct srv_conn *c)
{
	size_t start = c->head_len + c->body_len;
	size_t raw = c->in_len - start, len = raw;
	ssize_t r;

	r = srv_http_chunked_decode(&c->chunked, c->in + start, &len);
	if (r == -EAGAIN) {
		c->body_len += len;
		c->in_len = c->head_len + c->body_len;
		return 0;
	}
	if (r < 0) {
		srv_conn_reject(c, r == -EMSGSIZE ? 413 : 400);
		return -1;
	}
	/* the bytes after the body belong to the next request */
	memmove(c->in + start + len, c->in + start + raw - (size_t)r,
		(size_t)r);
	c->body_len += len;
	c->in_len = c->head_len + c->body_len + (size_t)r;
	return 1;
}

/* 1 the body is complete, 0 wait for more, -1 the request was rejected */
static int srv_conn_read_body(struct srv_conn *c)
{
	if (c->req.chunked)
		return srv_conn_read_chunked(c);
	if (c->in_len - c->head_len < c->req.content_length)
		return 0;
	c->body_len = c->req.content_length;
	return 1;
}

/* 1 a head is parsed, 0 wait for more, -1 rejected */
static int srv_conn_read_head(struct srv_conn *c)
{
	const struct conf_limits *lim = &c->w->conf->limits;
	ssize_t r;
	int status = 400;

	if (!c->in_len)
		return 0;
	if (c->state == SRV_CONN_IDLE) {
		/* first byte of the next request: its head has a deadline */
		srv_conn_set_state(c, SRV_CONN_HEAD);
		c->req_start = c->w->loop.now;
		c->route_id = SHM_ROUTE_OTHER;
		c->deadline = srv_conn_ms(c, lim->header_timeout_ms);
		srv_conn_arm(c, c->deadline);
	}
	r = srv_http_parse_head(&c->parser, c->in, c->in_len,
				lim->max_header_bytes, &c->req, &status);
	if (r == -EAGAIN)
		return 0;
	if (r < 0) {
		srv_conn_reject(c, status);
		return -1;
	}
	c->head_len = (size_t)r;
	return srv_conn_start_body(c) < 0 ? -1 : 1;
}

/*
 * Advance the current request as far as the buffered bytes allow: parse,
 * read the body, dispatch, write; then go on with pipelined requests.
 */
static void srv_conn_process(struct srv_conn *c)
{
	int r;

	for (;;) {
		if (c->state == SRV_CONN_HEAD || c->state == SRV_CONN_IDLE) {
			r = srv_conn_read_head(c);
			if (r > 0 && c->state == SRV_CONN_BODY)
				r = srv_conn_read_body(c);
		} else if (c->state == SRV_CONN_BODY) {
			r = srv_conn_read_body(c);
		} else {
			return;
		}
		if (r == 0) {
			if (c->peer_eof) /* the request can never complete */
				srv_conn_close(c);
			return;
		}
		if (r > 0)
			srv_router_dispatch(c);
		if (c->state != SRV_CONN_WRITE)
			return; /* closed, or answered later */
		if (srv_conn_flush(c) <= 0)
			return;
		srv_conn_done(c);
	}
}

/* see server/conn.h */
void srv_conn_send(struct srv_conn *c)
{
	if (c->state != SRV_CONN_WRITE || srv_conn_flush(c) <= 0)
		return;
	srv_conn_done(c);
	srv_conn_process(c);
}

/* see server/conn.h */
void srv_conn_wait_job(struct srv_conn *c, uint64_t deadline)
{
	srv_conn_set_state(c, SRV_CONN_BUSY);
	/* no input while the job is away (pipelined requests wait in the
	 * kernel); a reset or error still arrives (EPOLLHUP, EPOLLERR) */
	if (srv_conn_want(c, 0) < 0)
		srv_conn_close(c);
	else
		srv_conn_arm(c, deadline);
}

static void srv_conn_on_io(struct ev_loop *l, int fd, uint32_t events,
			   void *data)
{
	struct srv_conn *c = data;

	switch (c->state) {
	case SRV_CONN_LINGER:
		srv_conn_linger_read(c);
		return;
	case SRV_CONN_WRITE:
		if (events & (EPOLLERR | EPOLLHUP)) {
			srv_conn_abort(c);
			return;
		}
		if (srv_conn_flush(c) <= 0)
			return;
		srv_conn_done(c);
		break;
	case SRV_CONN_CLOSED:
		return;
	case SRV_CONN_BUSY:
		/* the client is gone: a queued job costs no executor */
		if (events & (EPOLLHUP | EPOLLERR))
			srv_conn_abort(c);
		return;
	default:
		if (srv_conn_fill(c) < 0)
			return;
		break;
	}
	srv_conn_process(c);
}

static void srv_conn_on_timer(struct timer *t)
{
	struct srv_conn *c = container_of(t, struct srv_conn, timer);

	switch (c->state) {
	case SRV_CONN_HEAD:
		if (c->in_len) { /* a partial head: tell the client */
			srv_conn_reject(c, 408);
			if (srv_conn_flush(c) > 0)
				srv_conn_done(c);
			return;
		}
		srv_conn_close(c); /* nothing was sent: nothing to answer */
		return;
	case SRV_CONN_BODY:
		srv_conn_reject(c, 408);
		if (srv_conn_flush(c) > 0)
			srv_conn_done(c);
		return;
	case SRV_CONN_WRITE:
		pr_debug("client did not read its response in time: closing");
		srv_conn_abort(c);
		return;
	case SRV_CONN_BUSY:
		srv_router_acquire_timeout(c);
		return;
	default:
		srv_conn_close(c); /* idle keep-alive or lingering close */
		return;
	}
}
