/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/exec.h - run one job on an executor's connection
 *
 * Executor threads only.  The job's values are bound, its statements run
 * as one transaction (BEGIN IMMEDIATE for a route that writes), the result
 * rendered as JSON into the job's buffer, and any failure turned into
 * DESIGN.md's error answer.
 */
#ifndef SERVER_EXEC_H
#define SERVER_EXEC_H

struct srv_exec;
struct srv_job;

void srv_exec_run(struct srv_exec *ex, struct srv_job *job);

/*
 * srv_exec_checkpoint - WAL upkeep for the executor's database: a PASSIVE
 * checkpoint, or TRUNCATE under the write gate once the WAL passes
 * wal_limit_mb; the WAL size and the counts go to the segment
 */
void srv_exec_checkpoint(struct srv_exec *ex);

/* a job taken after its acquire_timeout: answered 503 pool_timeout */
void srv_exec_expired(struct srv_job *job);

/* answer @job with a JSON error (503s get Retry-After) */
void srv_exec_fail(struct srv_job *job, int status, const char *code,
		   const char *message);

#endif /* SERVER_EXEC_H */
