// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/builtin.c - dispatch a request: built-in endpoints, else 404
 *
 * The path is split and percent-decoded exactly as routes will be
 * (server/http_parse.h), so "/health%7Az" is "/healthz" and "%2F" inside
 * a segment never matches a separator.  Built-ins answer GET and HEAD;
 * other methods get 405 with Allow.
 */
#include "server/builtin.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/util.h"
#include "server/conn.h"
#include "server/http_parse.h"
#include "server/worker.h"

#define SRV_BUILTIN_MAX_SEGS 32

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

/* which built-in a one-segment path names; -EBADMSG for a bad escape */
static int srv_builtin_find(const struct srv_http_request *req)
{
	struct srv_http_str segs[SRV_BUILTIN_MAX_SEGS];
	char out[64];
	unsigned int n, i;
	int err;

	if (req->path_len > sizeof(out) || req->path[0] != '/')
		return SRV_BUILTIN_NONE;
	err = srv_http_path_split(req->path, req->path_len, out, segs,
				  ARRAY_SIZE(segs), &n);
	if (err == -EBADMSG)
		return err;
	if (err || n != 1)
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

static void srv_builtin_serve(struct srv_conn *c, enum srv_builtin_id id)
{
	if (c->req.method != SRV_HTTP_GET && c->req.method != SRV_HTTP_HEAD) {
		srv_conn_error(c, 405, NULL, "method not allowed",
			       "Allow: GET, HEAD\r\n", false);
		return;
	}
	if (id == SRV_BUILTIN_HEALTHZ) {
		srv_builtin_json(c, 200, "{\"ok\":true}\n");
	} else if (srv_worker_is_draining(c->w)) {
		srv_conn_error(c, 503, "stopping", "the server is stopping",
			       "Retry-After: 1\r\n", false);
	} else {
		srv_builtin_json(c, 200, "{\"ready\":true}\n");
	}
}

void srv_builtin_dispatch(struct srv_conn *c)
{
	bool status_only = c->w->conf->status_listen != NULL;
	int id = srv_builtin_find(&c->req);

	if (id < 0) {
		srv_conn_error(c, 400, "bad_request",
			       "malformed percent-encoding in the path", NULL,
			       false);
		return;
	}
	/* with status_listen set, built-ins live there and only there */
	if (id != SRV_BUILTIN_NONE && c->status_only == status_only) {
		srv_builtin_serve(c, (enum srv_builtin_id)id);
		return;
	}
	srv_conn_error(c, 404, NULL, "no route for this path", NULL, false);
}
