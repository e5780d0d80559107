/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/stats.h - a worker's accounting, written into its slot
 *
 * The loop thread is the only writer of its slot, its slot_db and its
 * slot_route blocks (executors write their own exec blocks, in exec.c).
 * Counters are bumped where things happen; gauges (connections by state,
 * pool use and queue depth) are published every upkeep tick.  Without a
 * segment every call is a no-op.
 *
 * Loop thread only.
 */
#ifndef SERVER_STATS_H
#define SERVER_STATS_H

#include <stdint.h>

struct srv_job;
struct srv_worker;

/*
 * Built with -DPOOLD_NO_ACCOUNTING (make ACCT=0), every update compiles
 * away: that build exists to measure what accounting costs per request
 * (tests/bench/accounting-cost.sh).
 */
#ifdef POOLD_NO_ACCOUNTING
#define SRV_ACCOUNTING 0
#else
#define SRV_ACCOUNTING 1
#endif

/* a response went out for a request of segment route @route */
void srv_stats_request(struct srv_worker *w, uint32_t route, int status,
		       uint64_t latency_ns);

/* a job came back from its pool (acquire wait, connection hold time) */
void srv_stats_job(struct srv_worker *w, const struct srv_job *job);

/* a job of pool @db was refused: full queue, or acquire_timeout passed */
void srv_stats_pool_full(struct srv_worker *w, unsigned int db);
void srv_stats_acquire_timeout(struct srv_worker *w, unsigned int db);

/* the queue of pool @db holds @depth jobs after a submit */
void srv_stats_queue_depth(struct srv_worker *w, unsigned int db,
			   unsigned int depth);

void srv_stats_accept(struct srv_worker *w);
void srv_stats_bytes(struct srv_worker *w, uint64_t in, uint64_t out);

/* gauges: connections by state, in-flight requests, pools */
void srv_stats_publish(struct srv_worker *w);

#endif /* SERVER_STATS_H */
