// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/router.c - dispatch a request; answer it when its job returns
 *
 * Everything that can be decided without SQLite is decided here, on the
 * loop thread, before a request takes a place in a pool's queue: the
 * route, the method, every parameter.  A job owns the connection's
 * response buffer while it is away (the executor renders into it) and
 * gives it back with the result, so a response body is never copied.
 *
 * Bounded waits: a job not taken by an executor within acquire_timeout_ms
 * is taken back and answered 503 pool_timeout; a queue already holding
 * max_waiters jobs answers 503 pool_full at once.  Both carry Retry-After.
 */
#include "server/router.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/jsonw.h"
#include "lib/log.h"
#include "server/builtin.h"
#include "server/conn.h"
#include "server/cycle.h"
#include "server/dbpool.h"
#include "server/params.h"
#include "server/route.h"
#include "server/stats.h"
#include "server/worker.h"

#define SRV_ROUTER_STACK_PATH 2048

/* the job hands the response buffer back to the connection */
static size_t srv_router_take_body(struct srv_conn *c, struct srv_job *job)
{
	size_t len = 0, cap = 0;
	char *buf;

	buf = jsonw_release(&job->out, &len, &cap);
	if (buf) {
		free(c->body);
		c->body = buf;
		c->body_cap = cap;
	}
	return len;
}

static void srv_router_give_body(struct srv_conn *c, struct srv_job *job)
{
	jsonw_init(&job->out, c->body, c->body_cap,
		   c->w->conf->limits.max_response_bytes);
	c->body = NULL;
	c->body_cap = 0;
}

static void srv_router_route(struct srv_conn *c, const struct srv_route *r)
{
	struct srv_worker *w = c->w;
	struct srv_job *job = &c->job;
	struct srv_params_err e = { 0 };
	int err, depth;

	*job = (struct srv_job){ .conn = c,
				 .route = r,
				 .pool = &w->pools[r->cr->db_index] };
	c->route_id = w->cy->route_ids[r->index];
	list_init(&job->node);
	err = srv_params_collect(job, r, &c->req, c->in + c->head_len,
				 c->body_len, &e);
	if (err) {
		srv_params_release(job);
		if (err == -ENOMEM)
			srv_conn_error(c, 500, "internal", "out of memory",
				       NULL, false);
		else
			srv_conn_error(c, e.status, e.code, e.message, NULL,
				       false);
		return;
	}
	job->queued_at = w->loop.now;
	job->deadline = job->queued_at +
			(uint64_t)job->pool->cd->pool.acquire_timeout_ms *
				CLOCK_NS_PER_MS;
	srv_router_give_body(c, job);
	depth = srv_dbpool_submit(job->pool, job);
	if (depth < 0) {
		srv_stats_pool_full(w, job->pool->index);
		srv_router_take_body(c, job);
		srv_params_release(job);
		srv_conn_error(
			c, 503, "pool_full",
			"too many requests wait for this database; retry",
			"Retry-After: 1\r\n", false);
		return;
	}
	srv_stats_queue_depth(w, job->pool->index, (unsigned int)depth);
	srv_conn_wait_job(c, job->deadline);
}

static void srv_router_match(struct srv_conn *c,
			     const struct srv_http_str *segs, unsigned int n)
{
	const struct srv_http_request *req = &c->req;
	const struct srv_route *r;
	char allow[128], extra[160];
	int err;

	r = srv_routes_match(&c->w->routes, req->method_str, req->method_len,
			     segs, n, allow, sizeof(allow), &err);
	if (err == -EPERM) {
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		srv_conn_error(c, 405, NULL, "method not allowed", extra,
			       false);
	} else if (!r) {
		srv_conn_error(c, 404, NULL, "no route for this path", NULL,
			       false);
	} else {
		srv_router_route(c, r);
	}
}

void srv_router_dispatch(struct srv_conn *c)
{
	struct srv_http_str segs[SRV_ROUTE_MAX_SEGS];
	size_t len = c->req.path_len;
	char stack[SRV_ROUTER_STACK_PATH], *out = stack;
	unsigned int n = 0;
	int err;

	if (len > sizeof(stack) && !(out = malloc(len))) {
		srv_conn_error(c, 500, "internal", "out of memory", NULL,
			       false);
		return;
	}
	err = srv_http_path_split(c->req.path, len, out, segs,
				  SRV_ROUTE_MAX_SEGS, &n);
	if (err == -EBADMSG)
		srv_conn_error(c, 400, "bad_request",
			       "malformed percent-encoding in the path", NULL,
			       false);
	else if (err || (!srv_builtin_serve(c, segs, n) && c->status_only))
		srv_conn_error(c, 404, NULL, "no route for this path", NULL,
			       false);
	else if (c->state != SRV_CONN_WRITE)
		srv_router_match(c, segs, n);
	if (out != stack)
		free(out);
}

/* append the raw query without its limit/offset pairs */
static void srv_router_query_rest(FILE *f, const char *q, size_t len)
{
	const char *p = q, *end = q + len, *amp;
	size_t n;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		n = (size_t)((amp ? amp : end) - p);
		if (n && strncmp(p, "limit=", 6) && strncmp(p, "offset=", 7) &&
		    !(n == 5 && !strncmp(p, "limit", 5)) &&
		    !(n == 6 && !strncmp(p, "offset", 6)))
			fprintf(f, "%.*s&", (int)n, p);
		p += n + 1;
	}
}

/* the Link header of a page with more rows after it, or NULL */
static char *srv_router_link(const struct srv_conn *c,
			     const struct srv_job *job)
{
	const struct srv_http_request *req = &c->req;
	char *s = NULL;
	size_t len;
	FILE *f;

	f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	fprintf(f, "%sLink: <%.*s?", job->extra, (int)req->path_len, req->path);
	if (req->query)
		srv_router_query_rest(f, req->query, req->query_len);
	fprintf(f, "limit=%" PRId64 "&offset=%" PRId64 ">; rel=\"next\"\r\n",
		job->limit, job->offset + job->limit);
	fclose(f);
	return s;
}

void srv_router_complete(struct srv_job *job)
{
	struct srv_conn *c = job->conn;
	struct srv_http_resp r = { .status = job->status,
				   .content_type = "application/json",
				   .extra = job->extra };
	char *link = NULL;
	size_t len;

	job->state = SRV_JOB_DONE;
	if (job->taken_at)
		srv_stats_job(c->w, job);
	else
		srv_stats_acquire_timeout(c->w, job->pool->index);
	if (srv_conn_is_zombie(c)) {
		srv_conn_free(c);
		return;
	}
	len = srv_router_take_body(c, job);
	if (job->more && (link = srv_router_link(c, job)))
		r.extra = link;
	srv_conn_respond_body(c, &r, len, false);
	free(link);
	srv_params_release(job);
	srv_conn_send(c);
}

bool srv_router_cancel(struct srv_conn *c)
{
	struct srv_job *job = &c->job;

	if (!srv_dbpool_cancel(job->pool, job))
		return false;
	srv_router_take_body(c, job);
	srv_params_release(job);
	return true;
}

void srv_router_acquire_timeout(struct srv_conn *c)
{
	if (!srv_router_cancel(c))
		return; /* an executor has it: statement_timeout bounds it */
	srv_stats_acquire_timeout(c->w, c->job.pool->index);
	srv_conn_error(
		c, 503, "pool_timeout",
		"no database connection became free within acquire_timeout_ms",
		"Retry-After: 1\r\n", false);
	srv_conn_send(c);
}
