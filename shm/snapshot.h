/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shm/snapshot.h - one consistent reading of the whole segment, summed
 *
 * The one reader library poolmon and /metrics share: copy every block
 * under its seqcount, retry the whole sum when the header's hdr_seq moved
 * (a worker's counters were being folded into the retired slot), and sum
 * per route, per database and overall.  Two snapshots give rates;
 * histograms give quantiles.  Never writes to the segment, never locks.
 *
 * A snapshot is a plain struct of the caller's; no allocation.
 */
#ifndef SHM_SNAPSHOT_H
#define SHM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/poold_shm.h"

#define SHM_SNAP_MAX_SLOTS 258 /* 2 * 128 + 2 live slots shown at most */

/* counters that are summed: requests by class, latency */
struct shm_snap_req {
	uint64_t requests[5]; /* 1xx .. 5xx */
	uint64_t latency_ns_sum;
	uint64_t latency_hist[SHM_HIST];
};

struct shm_snap_listener {
	char name[96];
	uint32_t port;
	uint32_t backlog;
	uint32_t queue;
	uint32_t queue_max;
	bool status;
	bool open;
};

/* one database: its table entry, its pools summed over live workers, and
 * its executors' counters summed over every slot (retired included) */
struct shm_snap_db {
	char name[64];
	char path[SHM_TEXT];
	uint64_t wal_bytes;
	uint64_t checkpoints;
	uint64_t checkpoints_truncate;
	uint64_t commits;
	uint64_t gate_held_ns; /* how long the gate is held now, 0 = free */
	int32_t gate_owner_pid;
	bool storage_fault;
	/* gauges, live workers */
	uint32_t pool_size;
	uint32_t in_use;
	uint32_t idle;
	uint32_t waiters;
	uint32_t peak_waiters; /* the largest of the workers' peaks */
	uint64_t maxwait_ns;   /* age of the oldest waiter now, 0 = none */
	/* counters, every slot */
	uint64_t acquires;
	uint64_t acquire_wait_ns_sum;
	uint64_t acquire_wait_ns_max;
	uint64_t acquire_timeouts;
	uint64_t pool_full;
	uint64_t acquire_hist[SHM_HIST];
	uint64_t hold_hist[SHM_HIST];
	uint64_t jobs;
	uint64_t gate_waits;
	uint64_t gate_wait_ns_sum;
	uint64_t gate_wait_ns_max;
	uint64_t gate_hold_ns_sum;
	uint64_t gate_hold_ns_max;
	uint64_t lock_timeouts;
	uint64_t busy_handler_calls;
	uint64_t busy_immediate;
	uint64_t busy_snapshot;
	uint64_t statement_timeouts;
	uint64_t errors;
	uint64_t conns_opened;
	uint64_t gate_recoveries;
};

struct shm_snap_route {
	char id[SHM_ROUTE_ID]; /* "GET /items/{id}" */
	bool builtin;
	uint32_t generation;
	struct shm_snap_req req; /* every slot, retired included */
};

/* one live worker */
struct shm_snap_slot {
	uint32_t index;
	int32_t pid;
	uint32_t generation;
	uint32_t state; /* enum shm_slot_state */
	uint64_t start_unix_ns;
	uint64_t heartbeat_age_ns;
	uint32_t conns_reading;
	uint32_t conns_writing;
	uint32_t conns_idle;
	uint32_t inflight;
	uint64_t accepts;
	uint64_t bytes_in;
	uint64_t bytes_out;
	struct shm_snap_req req;
	char execs[SHM_MAX_EXECS + 1]; /* state letters, NUL-terminated */
};

struct shm_snap {
	uint64_t taken_mono_ns; /* the reader's clock, for rates */
	uint16_t abi_major;
	uint16_t abi_minor;
	int32_t master_pid;
	uint32_t state; /* enum shm_state */
	uint64_t start_unix_ns;
	uint64_t uptime_ns;
	uint64_t generation;
	uint32_t workers_expected;
	uint32_t workers_alive;
	int32_t checkpointer_slot;
	uint64_t worker_restarts;
	uint64_t reloads;
	uint64_t reload_unix_ns;
	uint32_t reload_result; /* enum shm_reload_result */
	char reload_msg[SHM_TEXT];

	struct shm_snap_listener listeners[SHM_MAX_LISTENERS];
	uint32_t nlisteners;
	struct shm_snap_db dbs[SHM_MAX_DBS];
	uint32_t ndbs;
	struct shm_snap_route routes[SHM_MAX_ROUTES];
	uint32_t nroutes;
	struct shm_snap_slot slots[SHM_SNAP_MAX_SLOTS];
	uint32_t nslots; /* live workers listed */

	struct shm_snap_req total; /* every route and built-in */
	uint64_t accepts;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint32_t conns_reading;
	uint32_t conns_writing;
	uint32_t conns_idle;
	uint32_t inflight;
};

/**
 * shm_snap_take - read the segment into @out
 * @h:   an attached segment (read-only is enough)
 * @out: the snapshot
 *
 * Returns 0, or -EAGAIN when the writers kept racing through every retry
 * (the caller tries again at its next interval).
 */
int shm_snap_take(const struct shm_hdr *h, struct shm_snap *out);

/*
 * shm_hist_quantile - the @q quantile (0..1) of a log2 histogram, in
 * seconds: the upper bound of the bucket holding it (0 when empty)
 */
double shm_hist_quantile(const uint64_t hist[SHM_HIST], double q);

/* the upper bound of histogram bucket @b in seconds (+Inf for the last) */
double shm_hist_le(unsigned int b);

/* per second, from two snapshots of the same counter */
double shm_rate(uint64_t before, uint64_t after, uint64_t dt_ns);

/**
 * shm_metrics_write - the Prometheus text exposition (0.0.4) of @s
 * @s:   a snapshot
 * @buf: output
 * @len: its length
 *
 * Names carry the poold_ prefix, counters end in _total, durations are
 * _seconds histograms.  Labels: route, class (1xx..5xx), db, generation.
 * The output passes `promtool check metrics`.  Returns 0 or -ENOMEM;
 * the caller frees *@buf.
 */
int shm_metrics_write(const struct shm_snap *s, char **buf, size_t *len);

#endif /* SHM_SNAPSHOT_H */
