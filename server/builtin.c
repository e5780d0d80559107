// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/builtin.c - /healthz, /readyz and /metrics
 *
 * The path arrives split and percent-decoded exactly as for routes
 * (server/http_parse.h), so "/health%7A" is "/healthz" and "%2F" inside a
 * segment never matches a separator.  Built-ins answer GET and HEAD; other
 * methods get 405 with Allow.
 */
#include "server/builtin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/util.h"
#include "server/conn.h"
#include "server/cycle.h"
#include "server/worker.h"
#include "shm/poold_shm.h"
#include "shm/shm.h"
#include "shm/snapshot.h"

enum srv_builtin_id {
	SRV_BUILTIN_NONE = 0,
	SRV_BUILTIN_HEALTHZ,
	SRV_BUILTIN_READYZ,
	SRV_BUILTIN_METRICS,
};

static const struct {
	const char *name;
	enum srv_builtin_id id;
} srv_builtins[] = {
	{ "healthz", SRV_BUILTIN_HEALTHZ },
	{ "readyz", SRV_BUILTIN_READYZ },
	{ "metrics", SRV_BUILTIN_METRICS },
};

static const uint32_t srv_builtin_route_ids[] = {
	[SRV_BUILTIN_HEALTHZ] = SHM_ROUTE_HEALTHZ,
	[SRV_BUILTIN_READYZ] = SHM_ROUTE_READYZ,
	[SRV_BUILTIN_METRICS] = SHM_ROUTE_METRICS,
};

static enum srv_builtin_id srv_builtin_find(const struct srv_http_str *segs,
					    unsigned int nsegs)
{
	unsigned int i;

	if (nsegs != 1)
		return SRV_BUILTIN_NONE;
	for (i = 0; i < ARRAY_SIZE(srv_builtins); i++) {
		if (segs[0].len == strlen(srv_builtins[i].name) &&
		    !memcmp(segs[0].p, srv_builtins[i].name, segs[0].len))
			return srv_builtins[i].id;
	}
	return SRV_BUILTIN_NONE;
}

static void srv_builtin_json(struct srv_conn *c, int status, const char *body)
{
	struct srv_http_resp r = { .status = status,
				   .content_type = "application/json" };

	srv_conn_respond(c, &r, body, strlen(body), false);
}

/*
 * Not ready: stopping (the master's state, so the whole shutdown grace
 * says 503), or a database unusable: its last statements failed with a
 * storage error, or its write gate is held longer than busy_timeout.
 * Decided from the segment, never by queueing on a pool.
 */
static const char *srv_builtin_unready(struct srv_conn *c, char *why,
				       size_t size)
{
	const struct srv_cycle *cy = c->w->cy;
	const struct conf *conf = c->w->conf;
	uint64_t since, now = c->w->loop.now;
	struct shm_db *d;
	unsigned int i;

	if (srv_worker_is_draining(c->w) ||
	    (cy->shm && atomic_load(&cy->shm->state) == SHM_STATE_STOPPING))
		return "the server is stopping";
	for (i = 0; cy->shm && i < conf->ndbs; i++) {
		d = shm_db(cy->shm, cy->db_ids[i]);
		if (!d)
			continue;
		since = atomic_load(&d->gate_locked_mono_ns);
		if (atomic_load(&d->storage_fault))
			snprintf(why, size,
				 "database \"%s\" failed with a storage error",
				 conf->dbs[i].name);
		else if (since && now > since &&
			 now - since >
				 conf->dbs[i].busy_timeout_ms * CLOCK_NS_PER_MS)
			snprintf(
				why, size,
				"the write gate of database \"%s\" is held longer than busy_timeout_ms",
				conf->dbs[i].name);
		else
			continue;
		return why;
	}
	return NULL;
}

static void srv_builtin_readyz(struct srv_conn *c)
{
	const char *why;
	char buf[256];

	why = srv_builtin_unready(c, buf, sizeof(buf));
	if (why)
		srv_conn_error(c, 503, "not_ready", why, "Retry-After: 1\r\n",
			       false);
	else
		srv_builtin_json(c, 200, "{\"ready\":true}\n");
}

/* the Prometheus text, summed over every worker from the segment */
static void srv_builtin_metrics(struct srv_conn *c)
{
	struct srv_http_resp r = {
		.status = 200,
		.content_type = "text/plain; version=0.0.4; charset=utf-8"
	};
	struct srv_worker *w = c->w;
	char *text = NULL;
	size_t len = 0;

	if (!w->cy->shm ||
	    (!w->snap && !(w->snap = malloc(sizeof(*w->snap)))) ||
	    shm_snap_take(w->cy->shm, w->snap) < 0 ||
	    shm_metrics_write(w->snap, &text, &len) < 0) {
		srv_conn_error(c, 503, "unavailable",
			       "the metrics could not be read; retry",
			       "Retry-After: 1\r\n", false);
		return;
	}
	srv_conn_respond(c, &r, text, len, false);
	free(text);
}

bool srv_builtin_serve(struct srv_conn *c, const struct srv_http_str *segs,
		       unsigned int nsegs)
{
	enum srv_builtin_id id = srv_builtin_find(segs, nsegs);
	bool status_listen = c->w->conf->status_listen != NULL;

	if (id == SRV_BUILTIN_NONE)
		return false;
	c->route_id = srv_builtin_route_ids[id];
	if (c->status_only != status_listen) {
		/* with status_listen set, built-ins live there only */
		srv_conn_error(c, 404, NULL, "no route for this path", NULL,
			       false);
	} else if (c->req.method != SRV_HTTP_GET &&
		   c->req.method != SRV_HTTP_HEAD) {
		srv_conn_error(c, 405, NULL, "method not allowed",
			       "Allow: GET, HEAD\r\n", false);
	} else if (id == SRV_BUILTIN_HEALTHZ) {
		srv_builtin_json(c, 200, "{\"ok\":true}\n");
	} else if (id == SRV_BUILTIN_READYZ) {
		srv_builtin_readyz(c);
	} else {
		srv_builtin_metrics(c);
	}
	return true;
}
