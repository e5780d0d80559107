/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/builtin.h - the built-in endpoints
 *
 * /healthz (liveness) and /readyz (readiness) are answered by the worker
 * itself, never through a pool.  When status_listen is set they are served
 * only on that address, and that address serves nothing else.
 *
 * Loop thread only.
 */
#ifndef SERVER_BUILTIN_H
#define SERVER_BUILTIN_H

#include <stdbool.h>

#include "server/http_parse.h"

struct srv_conn;

/*
 * srv_builtin_serve - answer the request if its path is a built-in one
 * @segs, @nsegs: the decoded path
 *
 * Returns true if the request was answered (including 404 for a built-in
 * path on the main listener when status_listen is set, and 405).
 */
bool srv_builtin_serve(struct srv_conn *c, const struct srv_http_str *segs,
		       unsigned int nsegs);

#endif /* SERVER_BUILTIN_H */
