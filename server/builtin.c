// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/builtin.c - /healthz and /readyz
 *
 * The path arrives split and percent-decoded exactly as for routes
 * (server/http_parse.h), so "/health%7A" is "/healthz" and "%2F" inside a
 * segment never matches a separator.  Built-ins answer GET and HEAD; other
 * methods get 405 with Allow.
 */
#include "server/builtin.h"

#include <string.h>

#include "lib/conf.h"
#include "lib/util.h"
#include "server/conn.h"
#include "server/worker.h"
#include "shm/poold_shm.h"

enum srv_builtin_id {
	SRV_BUILTIN_NONE = 0,
	SRV_BUILTIN_HEALTHZ,
	SRV_BUILTIN_READYZ,
};

static const struct {
	const char *name;
	enum srv_builtin_id id;
} srv_builtins[] = {
	{ "healthz", SRV_BUILTIN_HEALTHZ },
	{ "readyz", SRV_BUILTIN_READYZ },
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

bool srv_builtin_serve(struct srv_conn *c, const struct srv_http_str *segs,
		       unsigned int nsegs)
{
	enum srv_builtin_id id = srv_builtin_find(segs, nsegs);
	bool status_listen = c->w->conf->status_listen != NULL;

	if (id == SRV_BUILTIN_NONE)
		return false;
	c->route_id = id == SRV_BUILTIN_HEALTHZ ? SHM_ROUTE_HEALTHZ :
						  SHM_ROUTE_READYZ;
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
	} else if (srv_worker_is_draining(c->w)) {
		srv_conn_error(c, 503, "stopping", "the server is stopping",
			       "Retry-After: 1\r\n", false);
	} else {
		srv_builtin_json(c, 200, "{\"ready\":true}\n");
	}
	return true;
}
