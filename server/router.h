/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/router.h - from a complete request to its answer
 *
 * Built-in endpoints first, then the configured routes: 404 when no route
 * has the path, 405 with Allow when none has the method, then the
 * parameters (400/415 without touching a pool), then the database's pool:
 * 503 pool_full at once when its queue is full, else the job waits there
 * and the answer comes back through srv_router_complete().
 *
 * Loop thread only.
 */
#ifndef SERVER_ROUTER_H
#define SERVER_ROUTER_H

#include <stdbool.h>

struct srv_conn;
struct srv_job;

/* answer, or hand to a pool, the connection's complete current request */
void srv_router_dispatch(struct srv_conn *c);

/* a job came back from its executor: answer its request */
void srv_router_complete(struct srv_job *job);

/* the job waited acquire_timeout_ms: take it back, answer 503 */
void srv_router_acquire_timeout(struct srv_conn *c);

/* the client is gone: take the job back if no executor has it yet;
 * true if it was taken back (the connection may then be freed) */
bool srv_router_cancel(struct srv_conn *c);

#endif /* SERVER_ROUTER_H */
