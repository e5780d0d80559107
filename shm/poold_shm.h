/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shm/poold_shm.h - the shared-memory segment: an ABI between poold
 * (writer) and poolmon and /metrics (readers)
 *
 * Layout: a header, then tables, each found through the header's table
 * directory {offset, count, stride}.  Readers locate entries by the stored
 * stride, never by sizeof, refuse an unknown magic or major version, and
 * bound-check every table against the mapping.  A minor version only
 * appends fields into reserved space.
 *
 * Only fixed-width fields (plus the pthread_mutex_t of each write gate, in
 * a table of its own).  Counters are 64-bit, monotonic, C11 atomics;
 * gauges are 32-bit.  Durations use CLOCK_MONOTONIC ns, timestamps
 * CLOCK_REALTIME ns.
 *
 * One writer per block: a worker's loop thread writes its slot, its
 * slot_db entries and its slot_route entries; each executor thread writes
 * only its exec entry; the master writes the header, the listener, db and
 * route tables, and a slot only after reaping its worker (folding its
 * counters into the retired slot).  Every block carries its own sequence
 * count: odd while an update is in progress; readers copy, retry if the
 * count was odd or changed, and sum.  No reader ever takes a lock.
 *
 * The slot array has nslots = 2 * max_workers + 2 worker slots (two
 * generations overlap during a reload) followed by one more, the retired
 * slot: the counters of reaped workers, so that a sum over every slot
 * never goes backwards.
 */
#ifndef SHM_POOLD_SHM_H
#define SHM_POOLD_SHM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_MAGIC UINT64_C(0x4d4853444c4f4f50) /* "POOLDSHM" little-endian */
#define SHM_ABI_MAJOR 1
#define SHM_ABI_MINOR 0
#define SHM_CACHELINE 128

#define SHM_MAX_LISTENERS 16
#define SHM_MAX_DBS 16
#define SHM_MAX_ROUTES 256 /* route ids, append-only across reloads */
#define SHM_MAX_EXECS 64   /* executor sub-slots per worker slot */
#define SHM_HIST 32	   /* log2 histogram buckets, see shm_hist_bucket */
#define SHM_TEXT 256
#define SHM_ROUTE_ID 120 /* "METHOD /template" */

/* built-in endpoints have route ids of their own, first in the table */
#define SHM_ROUTE_HEALTHZ 0
#define SHM_ROUTE_READYZ 1
#define SHM_ROUTE_METRICS 2
#define SHM_ROUTE_OTHER 3 /* no route matched (404, 405, 400 ...) */
#define SHM_ROUTE_FIRST 4 /* configured routes start here */

_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
	       "shared-memory atomics must be lock-free (address-free)");

enum shm_table_id {
	SHM_T_LISTENERS,
	SHM_T_DBS,
	SHM_T_GATES,
	SHM_T_ROUTES,
	SHM_T_SLOTS,	   /* nslots + 1 (the retired slot) */
	SHM_T_SLOT_DBS,	   /* (nslots + 1) * SHM_MAX_DBS */
	SHM_T_SLOT_ROUTES, /* (nslots + 1) * SHM_MAX_ROUTES */
	SHM_T_EXECS,	   /* (nslots + 1) * SHM_MAX_EXECS */
	SHM_T_COUNT,
	SHM_T_MAX = 16, /* room in the directory */
};

struct shm_table {
	uint64_t offset; /* from the start of the segment */
	uint32_t count;
	uint32_t stride; /* bytes from one entry to the next */
};

enum shm_state {
	SHM_STATE_STARTING = 0,
	SHM_STATE_RUNNING,
	SHM_STATE_RELOADING,
	SHM_STATE_STOPPING,
};

enum shm_reload_result {
	SHM_RELOAD_NONE = 0,
	SHM_RELOAD_OK,
	SHM_RELOAD_FAILED,
};

struct shm_hdr {
	_Atomic uint64_t magic; /* SHM_MAGIC, stored last (release) */
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t hdr_size;   /* sizeof(struct shm_hdr) of the writer */
	uint64_t total_size; /* of the whole segment */
	struct shm_table tables[SHM_T_MAX];
	uint32_t nslots; /* worker slots; the retired one follows */
	uint32_t max_workers;
	_Atomic int32_t master_pid; /* 0 once the master has exited */
	_Atomic uint32_t state;	    /* enum shm_state */
	uint64_t start_unix_ns;
	uint64_t start_mono_ns;
	_Atomic uint64_t generation; /* bumped by each successful reload */
	_Atomic uint32_t workers_expected;
	_Atomic int32_t checkpointer_slot; /* -1 = none */
	_Atomic uint32_t nlisteners;	   /* entries in use */
	_Atomic uint32_t ndbs;
	_Atomic uint32_t nroutes;
	_Atomic uint32_t hdr_seq; /* brackets the fields below and a fold */
	_Atomic uint64_t worker_restarts; /* unexpected deaths respawned */
	_Atomic uint64_t reloads;	  /* attempts */
	_Atomic uint64_t reload_unix_ns;  /* of the last attempt */
	_Atomic uint32_t reload_result;	  /* enum shm_reload_result */
	uint32_t reserved0;
	char reload_msg[SHM_TEXT]; /* why the last reload failed, or "" */
	uint8_t reserved[392];	   /* room for minor versions */
};

struct shm_listener {
	_Atomic uint32_t seq;
	_Atomic uint32_t port;	    /* the port actually bound; 0 for unix */
	_Atomic uint32_t backlog;   /* effective: min(backlog, somaxconn) */
	_Atomic uint32_t queue;	    /* accept-queue depth, sampled */
	_Atomic uint32_t queue_max; /* largest sample seen */
	_Atomic uint32_t status;    /* 1 = the status_listen address */
	_Atomic uint32_t open;	    /* 0 once the configuration dropped it */
	uint32_t reserved0;
	char name[96]; /* "127.0.0.1:8080", "unix:/path" */
};

/* one per database file, keyed by (dev, ino); append-only */
struct shm_db {
	_Atomic uint32_t seq;
	_Atomic uint32_t gate; /* index in the gate table */
	_Atomic uint64_t dev;
	_Atomic uint64_t ino;
	_Atomic uint64_t wal_bytes;   /* gauge, by the checkpointer */
	_Atomic uint64_t checkpoints; /* PASSIVE */
	_Atomic uint64_t checkpoints_truncate;
	_Atomic uint64_t commits; /* every write transaction committed */
	_Atomic uint64_t gate_locked_mono_ns; /* held since; 0 = free */
	_Atomic int32_t gate_owner_pid;
	_Atomic uint32_t storage_fault; /* last statements failed: storage */
	char name[64];
	char path[SHM_TEXT];
	uint8_t reserved[120];
};

/* the write gate: one robust, process-shared mutex per database file */
struct shm_gate {
	pthread_mutex_t mutex;
	uint8_t pad[SHM_CACHELINE - sizeof(pthread_mutex_t)];
};

struct shm_route {
	_Atomic uint32_t seq;
	_Atomic uint32_t used; /* 1 once the id is assigned */
	_Atomic uint32_t builtin;
	_Atomic uint32_t generation; /* last generation that had it */
	char id[SHM_ROUTE_ID];	     /* "GET /items/{id}" */
};

enum shm_slot_state {
	SHM_SLOT_FREE = 0,
	SHM_SLOT_STARTING,
	SHM_SLOT_READY,
	SHM_SLOT_DRAINING,
};

/* a worker, written by its loop thread */
struct shm_slot {
	_Atomic uint32_t seq;
	_Atomic int32_t pid; /* 0 = free */
	_Atomic uint32_t generation;
	_Atomic uint32_t state; /* enum shm_slot_state */
	_Atomic uint64_t start_unix_ns;
	_Atomic uint64_t heartbeat_mono_ns;
	_Atomic uint32_t conns_reading;
	_Atomic uint32_t conns_writing;
	_Atomic uint32_t conns_idle; /* keep-alive, between requests */
	_Atomic uint32_t inflight;   /* requests read and not yet answered */
	_Atomic uint32_t nexecs;     /* exec sub-slots in use */
	uint32_t reserved0;
	_Atomic uint64_t accepts;
	_Atomic uint64_t requests[5]; /* by status class 1xx..5xx */
	_Atomic uint64_t bytes_in;
	_Atomic uint64_t bytes_out;
	_Atomic uint64_t latency_ns_sum;
	_Atomic uint64_t latency_hist[SHM_HIST];
	uint8_t reserved[128];
};

/* a worker's pool for one database, written by its loop thread */
struct shm_slot_db {
	_Atomic uint32_t seq;
	_Atomic uint32_t pool_size;
	_Atomic uint32_t in_use;
	_Atomic uint32_t idle;
	_Atomic uint32_t waiters; /* queue depth */
	_Atomic uint32_t peak_waiters;
	_Atomic uint64_t oldest_waiter_mono_ns; /* 0 = nobody waits */
	_Atomic uint64_t acquires;
	_Atomic uint64_t acquire_wait_ns_sum;
	_Atomic uint64_t acquire_wait_ns_max;
	_Atomic uint64_t acquire_timeouts; /* 503 pool_timeout */
	_Atomic uint64_t pool_full;	   /* 503 pool_full */
	_Atomic uint64_t acquire_hist[SHM_HIST];
	_Atomic uint64_t hold_hist[SHM_HIST]; /* connection hold time */
	uint8_t reserved[56];
};

/* a worker's counts for one route id, written by its loop thread */
struct shm_slot_route {
	_Atomic uint32_t seq;
	uint32_t reserved0;
	_Atomic uint64_t requests[5]; /* by status class */
	_Atomic uint64_t latency_ns_sum;
	_Atomic uint64_t latency_hist[SHM_HIST];
	uint8_t reserved[8];
};

/* executor state letters, like Apache's scoreboard */
#define SHM_EXEC_IDLE '_'
#define SHM_EXEC_ACQUIRE 'A' /* waiting for the write gate */
#define SHM_EXEC_QUERY 'Q'   /* in SQL */
#define SHM_EXEC_LOCK 'L'    /* in the busy handler: a lock held outside */

/* one executor thread, written by that thread only */
struct shm_exec {
	_Atomic uint32_t seq;
	_Atomic uint32_t db;	/* database index (in the slot's order) */
	_Atomic uint32_t state; /* a SHM_EXEC_* letter, 0 = unused */
	uint32_t reserved0;
	_Atomic uint64_t busy_since_mono_ns; /* 0 = idle */
	_Atomic uint64_t jobs;
	_Atomic uint64_t gate_waits;
	_Atomic uint64_t gate_wait_ns_sum;
	_Atomic uint64_t gate_wait_ns_max;
	_Atomic uint64_t gate_hold_ns_sum;
	_Atomic uint64_t gate_hold_ns_max;
	_Atomic uint64_t lock_timeouts; /* 503 lock_timeout */
	_Atomic uint64_t busy_handler_calls;
	_Atomic uint64_t busy_immediate; /* SQLITE_BUSY without the handler */
	_Atomic uint64_t busy_snapshot;	 /* SQLITE_BUSY_SNAPSHOT */
	_Atomic uint64_t statement_timeouts;
	_Atomic uint64_t errors; /* other SQLite errors */
	_Atomic uint64_t conns_opened;
	_Atomic uint64_t gate_recoveries; /* EOWNERDEAD handled */
	/* two cache lines: executors write their neighbours' lines never */
	uint8_t reserved[120];
};

_Static_assert(sizeof(struct shm_hdr) == 1024, "shm_hdr ABI changed");
_Static_assert(offsetof(struct shm_hdr, tables) == 24, "shm_hdr ABI changed");
_Static_assert(sizeof(struct shm_listener) == 128, "shm_listener ABI changed");
_Static_assert(sizeof(struct shm_db) == 512, "shm_db ABI changed");
_Static_assert(sizeof(struct shm_gate) == SHM_CACHELINE,
	       "shm_gate ABI changed");
_Static_assert(sizeof(struct shm_route) == 136, "shm_route ABI changed");
_Static_assert(sizeof(struct shm_slot) == 512, "shm_slot ABI changed");
_Static_assert(sizeof(struct shm_slot_db) == 640, "shm_slot_db ABI changed");
_Static_assert(sizeof(struct shm_slot_route) == 320,
	       "shm_slot_route ABI changed");
_Static_assert(sizeof(struct shm_exec) == 256, "shm_exec ABI changed");
_Static_assert(offsetof(struct shm_slot, seq) == 0, "seq must lead the slot");

/* log2 bucket of a duration: 0 for < 1 us, b for [2^(b-1), 2^b) us */
static inline unsigned int shm_hist_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int b = us ? 64 - (unsigned int)__builtin_clzll(us) : 0;

	return b < SHM_HIST ? b : SHM_HIST - 1;
}

#endif /* SHM_POOLD_SHM_H */
