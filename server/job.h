/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/job.h - one request on its way from the loop to an executor
 *
 * The loop thread builds a job from a complete request: the route, every
 * parameter value already found and converted (server/params.h), and the
 * connection's response buffer.  From the moment it is queued until it
 * comes back, the job belongs to the pool and then to one executor: the
 * loop touches only `state` (under the pool's lock, to cancel a job still
 * queued).  Values point into memory the job owns (scratch, the parsed
 * JSON body), never into the connection's input buffer.
 */
#ifndef SERVER_JOB_H
#define SERVER_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/jsonw.h"
#include "lib/list.h"

struct srv_conn;
struct srv_dbpool;
struct srv_route;

enum srv_vtype {
	SRV_V_ABSENT = 0, /* no source had it */
	SRV_V_NULL,
	SRV_V_INT,
	SRV_V_REAL,
	SRV_V_TEXT,
	SRV_V_BLOB,
};

struct srv_value {
	enum srv_vtype t;
	int64_t i;
	double d;
	const char *p; /* borrowed: TEXT/BLOB bytes, owned by the job */
	size_t len;
};

enum srv_job_kind {
	SRV_JOB_REQUEST = 0, /* a route for a connection */
	SRV_JOB_CHECKPOINT,  /* WAL upkeep, from the designated worker */
};

enum srv_job_state {
	SRV_JOB_IDLE = 0,
	SRV_JOB_QUEUED,	 /* in the pool's queue */
	SRV_JOB_RUNNING, /* an executor took it */
	SRV_JOB_DONE,	 /* in the completion list, or answered */
};

#define SRV_JOB_EXTRA_MAX 1024

struct srv_job {
	struct list_head node;	       /* in a pool queue or the completions */
	struct srv_conn *conn;	       /* borrowed: outlives the job */
	struct srv_dbpool *pool;       /* borrowed */
	const struct srv_route *route; /* borrowed */
	enum srv_job_kind kind;
	enum srv_job_state state; /* changed under the pool's lock */
	uint64_t queued_at;	  /* CLOCK_MONOTONIC ns */
	uint64_t deadline; /* acquire_timeout: not taken by then -> 503 */

	struct srv_value *vals; /* owned: one per route parameter */
	char *scratch;		/* owned: decoded and converted bytes */
	size_t scratch_len;
	size_t scratch_cap;
	json_t *body;  /* owned: the parsed JSON body, or NULL */
	int64_t limit; /* paged routes: rows to return */
	int64_t offset;
	bool more; /* paged: rows exist past this page */

	/* the result, written by the executor */
	int status;
	struct jsonw out;	       /* the response body */
	char extra[SRV_JOB_EXTRA_MAX]; /* more header lines (Link, Retry-After) */
	uint64_t wait_ns;	       /* time in the queue */
	uint64_t taken_at;	       /* when an executor took it, 0 = never */
	uint64_t done_at;	       /* when it finished */
};

#endif /* SERVER_JOB_H */
