/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * shm/shm.h - create, attach and use the shared-memory segment
 *
 * The master creates the segment (shm_create) before it forks, and
 * registers databases and routes in it; workers inherit the mapping and
 * write their own slot, slot_db, slot_route and exec blocks through the
 * accessors and the seqcount helpers here.  Readers (poolmon, /metrics)
 * attach read-only (shm_attach), which validates the header before any
 * offset is trusted.
 *
 * Process and thread rules are those of shm/poold_shm.h: one writer per
 * block, readers never lock.  The write gate is the one lock in the
 * segment: a process-shared robust mutex per database file.
 */
#ifndef SHM_SHM_H
#define SHM_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/poold_shm.h"

struct shm_seg {
	struct shm_hdr *hdr; /* owned mapping */
	size_t size;	     /* mapped bytes */
	bool writable;
	char name[256]; /* the POSIX shm name, "/poold" */
};

/**
 * shm_create - create and initialise the segment
 * @s:           filled on success
 * @name:        POSIX shm name ("/poold")
 * @max_workers: sizes the slot table: 2 * max_workers + 2 slots (+1 retired)
 * @mode:        file mode (0640)
 *
 * Creates with O_CREAT | O_EXCL, sizes with ftruncate, maps MAP_SHARED,
 * initialises every table (gates: PTHREAD_PROCESS_SHARED +
 * PTHREAD_MUTEX_ROBUST), stores the magic last with release semantics.
 * Returns 0, -EEXIST when a segment of that name exists (the caller
 * decides whether it is stale: see shm_unlink_stale), or another negative
 * errno.
 */
int shm_create(struct shm_seg *s, const char *name, uint32_t max_workers,
	       mode_t mode);

/* remove a segment left by a dead master; 0 or a negative errno */
int shm_unlink_stale(const char *name);

/**
 * shm_attach - map an existing segment read-only and validate it
 * @s:     filled on success
 * @name:  POSIX shm name
 * @why:   on failure, one line for people ("no such segment", "permission
 *         denied", "unknown layout version 2.0 (this reader knows 1.x)")
 * @whysz: its size
 *
 * Checks, in order: the mapping holds a header (-EOVERFLOW; -EAGAIN while
 * its size is still 0); the magic (-EAGAIN: not ready yet); the major
 * version (-EPROTO); hdr_size and every stride at least what this reader
 * knows (-EPROTO); every table inside the mapping computed in 64 bits
 * (-EOVERFLOW).  Returns 0 or a negative errno.
 */
int shm_attach(struct shm_seg *s, const char *name, char *why, size_t whysz);

/*
 * shm_attach_rw - the same, mapped read-write: for a process of poold's
 * that must take write gates of a running server (poold -t, the validate
 * child of a reload); it writes nothing else
 */
int shm_attach_rw(struct shm_seg *s, const char *name, char *why, size_t whysz);

/* unmap; unlink the name too when @unlink_name (the master, at exit) */
void shm_detach(struct shm_seg *s, bool unlink_name);

/* entry @i of table @t, located by the stored stride; NULL if out of range */
void *shm_entry(const struct shm_hdr *h, enum shm_table_id t, uint32_t i);

/* the block accessors (NULL when out of range) */
struct shm_listener *shm_listener(const struct shm_hdr *h, uint32_t i);
struct shm_db *shm_db(const struct shm_hdr *h, uint32_t i);
struct shm_gate *shm_gate(const struct shm_hdr *h, uint32_t i);
struct shm_route *shm_route(const struct shm_hdr *h, uint32_t i);
struct shm_slot *shm_slot(const struct shm_hdr *h, uint32_t slot);
struct shm_slot_db *shm_slot_db(const struct shm_hdr *h, uint32_t slot,
				uint32_t db);
struct shm_slot_route *shm_slot_route(const struct shm_hdr *h, uint32_t slot,
				      uint32_t route);
struct shm_exec *shm_exec(const struct shm_hdr *h, uint32_t slot,
			  uint32_t exec);

/* the index of the retired slot (== nslots) */
static inline uint32_t shm_retired_slot(const struct shm_hdr *h)
{
	return h->nslots;
}

/*
 * gcc's ThreadSanitizer ignores fences and says so (-Wtsan); every access
 * the seqcount fences order is itself atomic, so it has nothing to report
 */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif

/* writer side of a block's seqcount (the block's only writer) */
static inline void shm_write_begin(_Atomic uint32_t *seq)
{
	atomic_store_explicit(
		seq, atomic_load_explicit(seq, memory_order_relaxed) + 1,
		memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static inline void shm_write_end(_Atomic uint32_t *seq)
{
	atomic_store_explicit(
		seq, atomic_load_explicit(seq, memory_order_relaxed) + 1,
		memory_order_release);
}

/* single-writer counter updates: a relaxed load and a store */
static inline void shm_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline void shm_max(_Atomic uint64_t *c, uint64_t v)
{
	if (v > atomic_load_explicit(c, memory_order_relaxed))
		atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline void shm_set32(_Atomic uint32_t *g, uint32_t v)
{
	atomic_store_explicit(g, v, memory_order_relaxed);
}

/**
 * shm_db_register - the database entry of a file (master only)
 * @h:    the segment
 * @name: the configuration's name for it
 * @path: its absolute path
 * @dev:  st_dev of the file
 * @ino:  st_ino
 *
 * Entries are keyed by (dev, ino) and never removed, so a database keeps
 * its entry and its gate across reloads.  Returns the index, or -ENOSPC
 * when SHM_MAX_DBS files are registered.
 */
int shm_db_register(struct shm_hdr *h, const char *name, const char *path,
		    uint64_t dev, uint64_t ino);

/*
 * shm_route_register - the index of route id @id ("GET /items/{id}"),
 * added if new (master only); -ENAMETOOLONG when @id does not fit
 * SHM_ROUTE_ID, -ENOSPC when the table is full
 */
int shm_route_register(struct shm_hdr *h, const char *id, bool builtin);

/**
 * shm_gate_lock - take the write gate of database entry @db
 * @h:         the segment
 * @db:        database entry index
 * @timeout_ns: give up after this long (CLOCK_MONOTONIC budget; the wait
 *             itself is pthread_mutex_timedlock on CLOCK_REALTIME)
 * @recovered: set true when the previous owner died holding it
 *             (EOWNERDEAD, made consistent again here)
 *
 * Returns 0 (held), -ETIMEDOUT, or another negative errno.  The same
 * thread must call shm_gate_unlock().
 */
int shm_gate_lock(struct shm_hdr *h, uint32_t db, uint64_t timeout_ns,
		  bool *recovered);

void shm_gate_unlock(struct shm_hdr *h, uint32_t db);

/* take the gate only if it is free: 0 (held), -EBUSY, or -errno */
int shm_gate_trylock(struct shm_hdr *h, uint32_t db, bool *recovered);

/**
 * shm_slot_fold - fold a reaped worker's counters into the retired slot
 * and reset its slot (master only, after waitpid)
 *
 * Runs under the header's hdr_seq, so a reader summing every slot either
 * sees the counters in the old slot or in the retired one, never in both
 * or neither (it retries the whole sum when hdr_seq moved).
 */
void shm_slot_fold(struct shm_hdr *h, uint32_t slot);

/* a reader's consistent copy of a block guarded by @seq; -EAGAIN if the
 * writer kept racing */
int shm_read_block(const _Atomic uint32_t *seq, const void *block, size_t size,
		   void *out);

#endif /* SHM_SHM_H */
