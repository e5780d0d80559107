/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/builtin.h - the built-in endpoints and request dispatch
 *
 * /healthz (liveness) and /readyz (readiness) are answered by the worker
 * itself.  When status_listen is set they are served only on that
 * address, and that address serves nothing else.  Any other path is
 * answered 404 until routes exist.
 *
 * Loop thread only.
 */
#ifndef SERVER_BUILTIN_H
#define SERVER_BUILTIN_H

struct srv_conn;

/* answer the connection's complete current request */
void srv_builtin_dispatch(struct srv_conn *c);

#endif /* SERVER_BUILTIN_H */
