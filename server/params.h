/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/params.h - find a route's parameters in a request
 *
 * On the loop thread, before a request costs a pool connection: every
 * parameter of the route is looked up in DESIGN.md's order of sources —
 * path segments, the JSON object body, a form body, the query string,
 * declared headers (columns of earlier statements are the executor's) —
 * converted to its declared type, and copied into memory the job owns.
 * A request whose parameters are missing or malformed is answered 400
 * here and never reaches SQLite.
 */
#ifndef SERVER_PARAMS_H
#define SERVER_PARAMS_H

#include <stddef.h>

#include "server/http_parse.h"
#include "server/job.h"

struct srv_route;

/* why a request was refused */
struct srv_params_err {
	int status;	  /* 400 or 415 */
	const char *code; /* "bad_param", "unsupported_media_type" */
	char message[512];
};

/**
 * srv_params_collect - fill @job's values for @r from the request
 * @job:      the job (vals, scratch, body allocated here; freed by
 *            srv_params_release)
 * @r:        the matched route
 * @req:      the parsed request head
 * @body:     the request body (decoded), @body_len bytes
 * @body_len: its length
 * @e:        on failure, the answer
 *
 * Returns 0, -EINVAL (answer @e), or -ENOMEM.
 */
int srv_params_collect(struct srv_job *job, const struct srv_route *r,
		       const struct srv_http_request *req, const char *body,
		       size_t body_len, struct srv_params_err *e);

/* free what srv_params_collect() allocated; safe to call twice */
void srv_params_release(struct srv_job *job);

/*
 * srv_params_convert - convert @v in place to @type (enum conf_type)
 * @scratch: room for a converted text or blob, @room bytes (64 + the
 *           value's length are always enough)
 * Returns 0 or -EINVAL (the value does not convert); *used = bytes taken.
 */
int srv_params_convert(struct srv_value *v, int type, char *scratch,
		       size_t room, size_t *used);

#endif /* SERVER_PARAMS_H */
