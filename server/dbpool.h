/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/dbpool.h - a worker's pool of SQLite connections for one database
 *
 * pool.size executor threads, each owning one connection and its prepared
 * statements, take jobs from the database's request queue.  The event loop
 * never calls SQLite: it submits a job (or is told at once that the queue
 * is full), and learns of the result through the worker's completion
 * channel, an eventfd it watches.  A job still queued can be cancelled
 * (its acquire_timeout passed, or its client is gone) so it never costs
 * an executor.
 *
 * Threads: the loop thread calls submit/cancel/start/stop; executors only
 * run jobs.  The queue is guarded by the pool's mutex; the completion list
 * by the channel's.
 */
#ifndef SERVER_DBPOOL_H
#define SERVER_DBPOOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "lib/db.h"
#include "lib/list.h"
#include "shm/poold_shm.h"

struct conf;
struct conf_db;
struct srv_cycle;
struct srv_job;
struct srv_routes;

/* where finished jobs go back to the loop */
struct srv_done {
	pthread_mutex_t lock;
	struct list_head list; /* finished jobs, oldest first */
	int efd;	       /* eventfd the loop watches */
};

enum srv_exec_tx {
	SRV_TX_BEGIN,
	SRV_TX_BEGIN_IMMEDIATE,
	SRV_TX_COMMIT,
	SRV_TX_ROLLBACK,
	SRV_TX_N,
};

struct srv_dbpool;

/* one executor thread and its connection */
struct srv_exec {
	struct srv_dbpool *pool; /* borrowed */
	unsigned int index;
	pthread_t tid;
	bool running;		    /* the thread was created */
	struct db_conn conn;	    /* owned */
	sqlite3_stmt **stmts;	    /* owned: by statement id; NULL for
					 * other databases' routes */
	sqlite3_stmt *tx[SRV_TX_N]; /* owned */
	struct shm_exec *sx;	    /* borrowed: its sub-slot in the segment,
				     * or &own when there is none */
	struct shm_exec own;
	uint64_t busy_seen; /* conn.busy_calls already counted */
};

struct srv_dbpool {
	const struct conf *conf;	 /* borrowed */
	const struct conf_db *cd;	 /* borrowed */
	unsigned int index;		 /* in conf->dbs */
	const struct srv_routes *routes; /* borrowed */
	struct srv_done *done;		 /* borrowed */
	struct shm_hdr *shm;		 /* borrowed: the segment, or NULL */
	uint32_t shm_db;		 /* its entry in the segment */
	unsigned int slot;		 /* the worker's slot */

	/* WAL upkeep: loop thread only */
	uint64_t ckpt_next;   /* CLOCK_MONOTONIC ns of the next one */
	struct srv_job *ckpt; /* owned: the checkpoint job */
	bool ckpt_pending;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* jobs queued, or stopping */
	struct list_head queue;
	unsigned int nqueued;
	unsigned int nidle; /* executors waiting for a job */
	bool stopping;
	unsigned int nstarted; /* executors done starting */
	int start_err;	       /* first failure, 0 if none */
	char start_msg[256];

	struct srv_exec *ex; /* owned: cd->pool.size executors */
	unsigned int nex;
};

int srv_done_init(struct srv_done *d);
void srv_done_destroy(struct srv_done *d);

/* move every finished job to @out (loop thread, after the eventfd fired) */
void srv_done_take(struct srv_done *d, struct list_head *out);

/**
 * srv_dbpool_start - open the pool: start its executors and wait until
 * each has opened its connection and prepared its statements
 * @p:      the pool (zeroed by the caller)
 * @cy:     the cycle (configuration, segment)
 * @index:  the database, in conf->dbs
 * @routes: the compiled routes
 * @done:   the worker's completion channel
 * @slot:   the worker's slot in the segment
 * @exec0:  the first executor sub-slot of this pool in that slot
 *
 * Returns 0, or a negative errno / SQLite failure with p->start_msg set;
 * the pool is then stopped and safe for srv_dbpool_destroy().
 */
int srv_dbpool_start(struct srv_dbpool *p, const struct srv_cycle *cy,
		     unsigned int index, const struct srv_routes *routes,
		     struct srv_done *done, unsigned int slot,
		     unsigned int exec0);

/* stop the executors (after the jobs they hold) and join them; their
 * finished jobs are in the completion list */
void srv_dbpool_stop(struct srv_dbpool *p);

/* stop if needed, then free the pool (after the completions were taken) */
void srv_dbpool_destroy(struct srv_dbpool *p);

/**
 * srv_dbpool_submit - queue a job for an executor
 * Returns the queue depth with it (> 0), or -EAGAIN when max_waiters jobs
 * already wait (pool_full).
 */
int srv_dbpool_submit(struct srv_dbpool *p, struct srv_job *job);

/*
 * srv_dbpool_checkpoint_tick - every checkpoint_interval_ms: when this
 * worker is the designated checkpointer, queue the checkpoint job
 */
void srv_dbpool_checkpoint_tick(struct srv_dbpool *p);

/* take back a job still queued: true if it was (it never ran) */
bool srv_dbpool_cancel(struct srv_dbpool *p, struct srv_job *job);

#endif /* SERVER_DBPOOL_H */
