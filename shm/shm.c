// SPDX-License-Identifier: BSD-2-Clause
/*
 * shm/shm.c - create, attach and use the shared-memory segment
 *
 * The master creates one named POSIX segment with O_CREAT | O_EXCL, sizes
 * it with ftruncate (so it starts zero-filled), maps it MAP_SHARED and
 * closes the descriptor: the mapping is all that is needed, and workers
 * inherit it across fork().  The layout is computed once here: the header,
 * then every table at an offset aligned to SHM_CACHELINE, each described
 * in the header's directory by {offset, count, stride}.  The header is
 * filled while nobody can read it yet, and the magic is stored last with
 * release semantics: a reader that sees the magic (acquire) sees the rest.
 *
 * Readers (poolmon, /metrics) attach read-only and validate the header
 * before trusting a single offset: header size, magic, major version,
 * strides, and every table against the mapping, in 64-bit arithmetic.
 *
 * Every block has one writer and a sequence count (odd while an update is
 * in progress).  Readers copy a block word by word with relaxed atomic
 * loads and retry when the count was odd or moved (kernel seqcount,
 * PostgreSQL st_changecount), so no reader ever takes a lock and the copy
 * is race-free under C11 (Boehm's seqlock recipe).  Text fields are
 * written with word-sized atomic stores for the same reason.
 *
 * A dead worker's counters are folded into the retired slot (the one after
 * the worker slots) under the header's hdr_seq, then its blocks are
 * zeroed, so sums over every slot never go backwards.  The retired slot
 * has one exec entry per database index, which accumulates the executors
 * of that database.
 *
 * The only lock is the write gate: one PTHREAD_PROCESS_SHARED +
 * PTHREAD_MUTEX_ROBUST mutex per database file; a holder that died is
 * recovered with pthread_mutex_consistent().
 */
#include "shm/shm.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#endif

#include "lib/clock.h"
#include "lib/util.h"

#define SHM_READ_TRIES 100 /* shm_read_block() gives up after this many */
#define SHM_GATE_SLICE_NS (250 * CLOCK_NS_PER_MS) /* see shm_gate_wait() */

/* the retired slot keeps one exec entry per database index */
_Static_assert(SHM_MAX_EXECS >= SHM_MAX_DBS, "retired exec entries");
/* text fields are written word by word (shm_store_text) */
_Static_assert(offsetof(struct shm_db, name) % 8 == 0, "shm_db name");
_Static_assert(sizeof(((struct shm_db *)0)->name) % 8 == 0, "shm_db name");
_Static_assert(offsetof(struct shm_db, path) % 8 == 0, "shm_db path");
_Static_assert(SHM_TEXT % 8 == 0, "shm_db path");
_Static_assert(offsetof(struct shm_route, id) % 8 == 0, "shm_route id");
_Static_assert(SHM_ROUTE_ID % 8 == 0, "shm_route id");
/* blocks are copied and zeroed in 8-byte words */
_Static_assert(sizeof(struct shm_slot) % 8 == 0 &&
		       sizeof(struct shm_slot_db) % 8 == 0 &&
		       sizeof(struct shm_slot_route) % 8 == 0 &&
		       sizeof(struct shm_exec) % 8 == 0,
	       "blocks are whole words");

/* the entry size of each table, as this program knows it */
static const uint32_t shm_strides[SHM_T_COUNT] = {
	[SHM_T_LISTENERS] = sizeof(struct shm_listener),
	[SHM_T_DBS] = sizeof(struct shm_db),
	[SHM_T_GATES] = sizeof(struct shm_gate),
	[SHM_T_ROUTES] = sizeof(struct shm_route),
	[SHM_T_SLOTS] = sizeof(struct shm_slot),
	[SHM_T_SLOT_DBS] = sizeof(struct shm_slot_db),
	[SHM_T_SLOT_ROUTES] = sizeof(struct shm_slot_route),
	[SHM_T_EXECS] = sizeof(struct shm_exec),
};

/* entries per slot of the tables indexed by (slot, i); 0 for the others */
static const uint32_t shm_per_slot[SHM_T_COUNT] = {
	[SHM_T_SLOTS] = 1,
	[SHM_T_SLOT_DBS] = SHM_MAX_DBS,
	[SHM_T_SLOT_ROUTES] = SHM_MAX_ROUTES,
	[SHM_T_EXECS] = SHM_MAX_EXECS,
};

static const uint32_t shm_fixed_count[SHM_T_COUNT] = {
	[SHM_T_LISTENERS] = SHM_MAX_LISTENERS,
	[SHM_T_DBS] = SHM_MAX_DBS,
	[SHM_T_GATES] = SHM_MAX_DBS,
	[SHM_T_ROUTES] = SHM_MAX_ROUTES,
};

static const char *const shm_builtin_routes[] = {
	[SHM_ROUTE_HEALTHZ] = "GET /healthz",
	[SHM_ROUTE_READYZ] = "GET /readyz",
	[SHM_ROUTE_METRICS] = "GET /metrics",
	[SHM_ROUTE_OTHER] = "other",
};

_Static_assert(ARRAY_SIZE(shm_builtin_routes) == SHM_ROUTE_FIRST,
	       "every built-in route has an id");

/* round @x up to @a, a power of two */
static uint64_t shm_align(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/*
 * shm_layout - the table directory for @nslots worker slots (+1 retired)
 *
 * Fills @tab[0..SHM_T_COUNT) and the segment size, rounded up to the page
 * size.  Returns 0, or -EINVAL when a count does not fit 32 bits.
 */
static int shm_layout(struct shm_table *tab, uint32_t nslots, uint64_t *total)
{
	uint64_t off = sizeof(struct shm_hdr);
	uint64_t count;
	int t;

	for (t = 0; t < SHM_T_COUNT; t++) {
		count = shm_fixed_count[t] +
			((uint64_t)nslots + 1) * shm_per_slot[t];
		if (count > UINT32_MAX)
			return -EINVAL;
		off = shm_align(off, SHM_CACHELINE);
		tab[t] = (struct shm_table){ .offset = off,
					     .count = (uint32_t)count,
					     .stride = shm_strides[t] };
		off += count * shm_strides[t];
	}
	*total = shm_align(off, (uint64_t)sysconf(_SC_PAGESIZE));
	return 0;
}

/*
 * shm_store_text - copy @src, truncated and NUL-terminated, into the text
 * field @dst of @size bytes with word-sized relaxed atomic stores, so that
 * a reader copying the block concurrently never races with it
 */
static void shm_store_text(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);
	uint64_t w;
	size_t i;

	assert((uintptr_t)dst % 8 == 0 && size % 8 == 0);
	for (i = 0; i < size; i += 8) {
		w = 0;
		if (i < n)
			memcpy(&w, src + i, MIN(sizeof(w), n - i));
		__atomic_store_n((uint64_t *)(dst + i), w, __ATOMIC_RELAXED);
	}
}

static int shm_init_gates(struct shm_hdr *h)
{
	pthread_mutexattr_t attr;
	uint32_t i;
	int err;

	err = pthread_mutexattr_init(&attr);
	if (err)
		return -err;
	err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (!err)
		err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	for (i = 0; !err && i < SHM_MAX_DBS; i++)
		err = pthread_mutex_init(&shm_gate(h, i)->mutex, &attr);
	pthread_mutexattr_destroy(&attr);
	return -err;
}

/* everything but the magic; nobody can read the segment yet */
static int shm_init_hdr(struct shm_hdr *h, const struct shm_table *tab,
			uint32_t max_workers, uint64_t total)
{
	uint32_t i;
	int err;

	h->abi_major = SHM_ABI_MAJOR;
	h->abi_minor = SHM_ABI_MINOR;
	h->hdr_size = sizeof(*h);
	h->total_size = total;
	memcpy(h->tables, tab, SHM_T_COUNT * sizeof(*tab));
	h->nslots = 2 * max_workers + 2;
	h->max_workers = max_workers;
	atomic_store_explicit(&h->master_pid, getpid(), memory_order_relaxed);
	atomic_store_explicit(&h->state, SHM_STATE_STARTING,
			      memory_order_relaxed);
	h->start_unix_ns = clock_real_ns();
	h->start_mono_ns = clock_mono_ns();
	atomic_store_explicit(&h->checkpointer_slot, -1, memory_order_relaxed);

	for (i = 0; i < SHM_ROUTE_FIRST; i++) {
		err = shm_route_register(h, shm_builtin_routes[i], true);
		if (err < 0)
			return err;
		assert(err == (int)i);
	}
	/* retired exec entry d accumulates the executors of database d */
	for (i = 0; i < SHM_MAX_DBS; i++)
		atomic_store_explicit(&shm_exec(h, h->nslots, i)->db, i,
				      memory_order_relaxed);
	return shm_init_gates(h);
}

/**
 * shm_create - create and initialise the segment
 * @s:           filled on success
 * @name:        POSIX shm name ("/poold")
 * @max_workers: sizes the slot table: 2 * max_workers + 2 slots (+1 retired)
 * @mode:        file mode (0640), set exactly whatever the umask
 *
 * Returns 0, -EEXIST when a segment of that name exists, -EINVAL when
 * @max_workers is too large to lay out, -ENAMETOOLONG, or another negative
 * errno.  On failure nothing is left mapped and the name is unlinked.
 */
int shm_create(struct shm_seg *s, const char *name, uint32_t max_workers,
	       mode_t mode)
{
	struct shm_table tab[SHM_T_COUNT];
	uint64_t total;
	void *p;
	int fd, err;

	*s = (struct shm_seg){ .hdr = NULL };
	if (strlen(name) >= sizeof(s->name))
		return -ENAMETOOLONG;
	if (max_workers > (UINT32_MAX - 3) / 2)
		return -EINVAL;
	err = shm_layout(tab, 2 * max_workers + 2, &total);
	if (err)
		return err;
	if (total > SIZE_MAX || total > (uint64_t)INT64_MAX)
		return -EINVAL;

	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0 || ftruncate(fd, (off_t)total) < 0) {
		err = -errno;
		goto err_unlink;
	}
	p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto err_unlink;
	}
	close(fd);
	fd = -1;

	err = shm_init_hdr(p, tab, max_workers, total);
	if (err)
		goto err_unmap;
	atomic_store_explicit(&((struct shm_hdr *)p)->magic, SHM_MAGIC,
			      memory_order_release);

	s->hdr = p;
	s->size = total;
	s->writable = true;
	strcpy(s->name, name);
	return 0;

err_unmap:
	munmap(p, total);
err_unlink:
	if (fd >= 0)
		close(fd);
	shm_unlink(name);
	return err;
}

/*
 * shm_unlink_stale - remove a segment left by a dead master
 *
 * Returns 0, also when there was none, or a negative errno.
 */
int shm_unlink_stale(const char *name)
{
	if (shm_unlink(name) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* "segment "NAME": " + the reason, into @why when there is room */
__attribute__((format(printf, 4, 5))) static void
shm_why(char *why, size_t whysz, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!why || !whysz)
		return;
	n = snprintf(why, whysz, "segment \"%s\": ", name);
	if (n < 0 || (size_t)n >= whysz)
		return;
	va_start(ap, fmt);
	vsnprintf(why + n, whysz - (size_t)n, fmt, ap);
	va_end(ap);
}

/* shm_attach() steps 2-4: magic, major version, header size and strides */
static int shm_check_version(const struct shm_hdr *h, const char *name,
			     char *why, size_t whysz)
{
	int t;

	if (atomic_load_explicit(&h->magic, memory_order_acquire) !=
	    SHM_MAGIC) {
		shm_why(why, whysz, name, "not initialised yet");
		return -EAGAIN;
	}
	if (h->abi_major != SHM_ABI_MAJOR) {
		shm_why(why, whysz, name,
			"unknown layout version %u.%u (this poolmon reads %u.x)",
			h->abi_major, h->abi_minor, SHM_ABI_MAJOR);
		return -EPROTO;
	}
	if (h->hdr_size < sizeof(*h)) {
		shm_why(why, whysz, name,
			"incompatible layout %u.%u (header of %u bytes, this poolmon reads %zu)",
			h->abi_major, h->abi_minor, h->hdr_size, sizeof(*h));
		return -EPROTO;
	}
	for (t = 0; t < SHM_T_COUNT; t++) {
		if (h->tables[t].stride >= shm_strides[t])
			continue;
		shm_why(why, whysz, name,
			"incompatible layout %u.%u (table %d stride %u, this poolmon reads %u)",
			h->abi_major, h->abi_minor, t, h->tables[t].stride,
			shm_strides[t]);
		return -EPROTO;
	}
	return 0;
}

/*
 * shm_check_table - what is wrong with table @t in a mapping of @size
 * bytes, or NULL: it must lie inside the mapping after the header, be
 * word-aligned, and hold every entry the accessors can ask for
 */
static const char *shm_check_table(const struct shm_hdr *h, int t,
				   uint64_t size)
{
	const struct shm_table *tab = &h->tables[t];
	uint64_t need = shm_fixed_count[t] +
			((uint64_t)h->nslots + 1) * shm_per_slot[t];

	if (tab->offset > size ||
	    (uint64_t)tab->count * tab->stride > size - tab->offset)
		return "outside the mapping";
	if (tab->offset < h->hdr_size)
		return "overlaps the header";
	if (tab->offset % 8 || tab->stride % 8)
		return "misaligned";
	if (tab->count < need)
		return "too small for the slots";
	return NULL;
}

/* shm_attach() step 5: the header and every table inside the mapping */
static int shm_check_tables(const struct shm_hdr *h, uint64_t size,
			    const char *name, char *why, size_t whysz)
{
	const char *bad;
	int t;

	if (h->hdr_size > size || h->total_size > size) {
		shm_why(why, whysz, name,
			"truncated or corrupt (%llu of %llu bytes mapped)",
			(unsigned long long)size,
			(unsigned long long)h->total_size);
		return -EOVERFLOW;
	}
	for (t = 0; t < SHM_T_COUNT; t++) {
		bad = shm_check_table(h, t, size);
		if (!bad)
			continue;
		shm_why(why, whysz, name, "truncated or corrupt (table %d %s)",
			t, bad);
		return -EOVERFLOW;
	}
	return 0;
}

/* map @fd read-only; step 1 of shm_attach(): the mapping holds a header */
static int shm_map(struct shm_seg *s, int fd, bool rw, char *why, size_t whysz)
{
	struct stat st;
	void *p;
	int err;

	if (fstat(fd, &st) < 0) {
		err = -errno;
		shm_why(why, whysz, s->name, "could not stat: %s",
			strerror(-err));
		return err;
	}
	if (st.st_size == 0) { /* created, not sized yet */
		shm_why(why, whysz, s->name, "not initialised yet");
		return -EAGAIN;
	}
	if ((uint64_t)st.st_size < sizeof(struct shm_hdr) ||
	    (uint64_t)st.st_size > SIZE_MAX) {
		shm_why(why, whysz, s->name,
			"truncated or corrupt (%lld bytes, no room for the header)",
			(long long)st.st_size);
		return -EOVERFLOW;
	}
	p = mmap(NULL, (size_t)st.st_size,
		 rw ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		shm_why(why, whysz, s->name, "could not map: %s",
			strerror(-err));
		return err;
	}
	s->hdr = p;
	s->size = (size_t)st.st_size;
	s->writable = rw;
	return 0;
}

/**
 * shm_attach - map an existing segment read-only and validate it
 * @s:     filled on success
 * @name:  POSIX shm name
 * @why:   on failure, one line for people, starting with the segment name
 * @whysz: its size
 *
 * Checks, in order: the mapping holds a header (-EOVERFLOW; a segment of
 * size 0, created but not sized yet, is -EAGAIN); the magic (-EAGAIN: not
 * ready yet); the major version (-EPROTO); hdr_size and every stride at
 * least what this reader knows (-EPROTO); every table inside the mapping,
 * computed in 64 bits (-EOVERFLOW).  Returns 0 or a negative errno;
 * -ENOENT and -EACCES come from shm_open().
 */
static int shm_attach_mode(struct shm_seg *s, const char *name, bool rw,
			   char *why, size_t whysz)
{
	int fd, err;

	*s = (struct shm_seg){ .hdr = NULL };
	if (why && whysz)
		why[0] = '\0';
	if (strlen(name) >= sizeof(s->name)) {
		shm_why(why, whysz, name, "name too long");
		return -ENAMETOOLONG;
	}
	strcpy(s->name, name);

	fd = shm_open(name, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			shm_why(why, whysz, name,
				"no such segment (is poold running?)");
		else if (err == -EACCES)
			shm_why(why, whysz, name,
				"permission denied (poolmon needs the group of the segment)");
		else
			shm_why(why, whysz, name, "could not open: %s",
				strerror(-err));
		return err;
	}
	err = shm_map(s, fd, rw, why, whysz);
	close(fd);
	if (err)
		goto err_reset;

	err = shm_check_version(s->hdr, name, why, whysz);
	if (!err)
		err = shm_check_tables(s->hdr, s->size, name, why, whysz);
	if (err)
		goto err_unmap;
	return 0;

err_unmap:
	munmap(s->hdr, s->size);
err_reset:
	*s = (struct shm_seg){ .hdr = NULL };
	return err;
}

int shm_attach(struct shm_seg *s, const char *name, char *why, size_t whysz)
{
	return shm_attach_mode(s, name, false, why, whysz);
}

int shm_attach_rw(struct shm_seg *s, const char *name, char *why, size_t whysz)
{
	return shm_attach_mode(s, name, true, why, whysz);
}

/**
 * shm_detach - unmap the segment; unlink its name too when @unlink_name
 * @s:           a segment from shm_create() or shm_attach(); safe to pass
 *               again, or after a failed create or attach
 * @unlink_name: the master, at exit: the name goes, after master_pid is
 *               set to 0 for readers that still have it mapped
 */
void shm_detach(struct shm_seg *s, bool unlink_name)
{
	struct shm_hdr *h = s->hdr;

	if (!h)
		return;
	if (unlink_name && s->writable &&
	    atomic_load_explicit(&h->master_pid, memory_order_relaxed) ==
		    getpid())
		atomic_store_explicit(&h->master_pid, 0, memory_order_release);
	munmap(h, s->size);
	if (unlink_name)
		shm_unlink(s->name);
	*s = (struct shm_seg){ .hdr = NULL };
}

/**
 * shm_entry - entry @i of table @t, located by the stored stride
 *
 * Returns NULL when @t or @i is out of range.  The header must have been
 * validated (shm_create() or shm_attach()).
 */
void *shm_entry(const struct shm_hdr *h, enum shm_table_id t, uint32_t i)
{
	const struct shm_table *tab;

	if ((unsigned int)t >= SHM_T_MAX)
		return NULL;
	tab = &h->tables[t];
	if (i >= tab->count)
		return NULL;
	return (char *)h + tab->offset + (uint64_t)i * tab->stride;
}

/* entry @i of @slot in a table indexed by (slot, i) */
static void *shm_slot_entry(const struct shm_hdr *h, enum shm_table_id t,
			    uint32_t slot, uint32_t i)
{
	uint64_t flat = (uint64_t)slot * shm_per_slot[t] + i;

	if (slot > h->nslots || i >= shm_per_slot[t] || flat > UINT32_MAX)
		return NULL;
	return shm_entry(h, t, (uint32_t)flat);
}

struct shm_listener *shm_listener(const struct shm_hdr *h, uint32_t i)
{
	return shm_entry(h, SHM_T_LISTENERS, i);
}

struct shm_db *shm_db(const struct shm_hdr *h, uint32_t i)
{
	return shm_entry(h, SHM_T_DBS, i);
}

struct shm_gate *shm_gate(const struct shm_hdr *h, uint32_t i)
{
	return shm_entry(h, SHM_T_GATES, i);
}

struct shm_route *shm_route(const struct shm_hdr *h, uint32_t i)
{
	return shm_entry(h, SHM_T_ROUTES, i);
}

struct shm_slot *shm_slot(const struct shm_hdr *h, uint32_t slot)
{
	return shm_slot_entry(h, SHM_T_SLOTS, slot, 0);
}

struct shm_slot_db *shm_slot_db(const struct shm_hdr *h, uint32_t slot,
				uint32_t db)
{
	return shm_slot_entry(h, SHM_T_SLOT_DBS, slot, db);
}

struct shm_slot_route *shm_slot_route(const struct shm_hdr *h, uint32_t slot,
				      uint32_t route)
{
	return shm_slot_entry(h, SHM_T_SLOT_ROUTES, slot, route);
}

struct shm_exec *shm_exec(const struct shm_hdr *h, uint32_t slot, uint32_t exec)
{
	return shm_slot_entry(h, SHM_T_EXECS, slot, exec);
}

/**
 * shm_db_register - the database entry of a file (master only)
 * @h:    the segment (writable)
 * @name: the configuration's name for it (truncated to fit)
 * @path: its absolute path (truncated to fit)
 * @dev:  st_dev of the file
 * @ino:  st_ino
 *
 * Entries are keyed by (dev, ino) and never removed; entry i uses gate i.
 * The entry is written under its seq, then published by ndbs (release).
 * Returns the index, or -ENOSPC when SHM_MAX_DBS files are registered.
 */
int shm_db_register(struct shm_hdr *h, const char *name, const char *path,
		    uint64_t dev, uint64_t ino)
{
	uint32_t n = atomic_load_explicit(&h->ndbs, memory_order_relaxed);
	struct shm_db *d;
	uint32_t i;

	for (i = 0; i < n; i++) {
		d = shm_db(h, i);
		if (atomic_load_explicit(&d->dev, memory_order_relaxed) ==
			    dev &&
		    atomic_load_explicit(&d->ino, memory_order_relaxed) == ino)
			return (int)i;
	}
	d = shm_db(h, n);
	if (n >= SHM_MAX_DBS || !d || !shm_gate(h, n))
		return -ENOSPC;

	shm_write_begin(&d->seq);
	atomic_store_explicit(&d->gate, n, memory_order_relaxed);
	atomic_store_explicit(&d->dev, dev, memory_order_relaxed);
	atomic_store_explicit(&d->ino, ino, memory_order_relaxed);
	shm_store_text(d->name, sizeof(d->name), name);
	shm_store_text(d->path, sizeof(d->path), path);
	shm_write_end(&d->seq);
	atomic_store_explicit(&h->ndbs, n + 1, memory_order_release);
	return (int)n;
}

/*
 * shm_route_register - the index of route id @id ("GET /items/{id}"),
 * added if new (master only)
 *
 * Entries are never removed; the entry's generation is set to the
 * header's current one, so readers can tell the routes of the running
 * configuration.  Returns the index, -ENAMETOOLONG when @id does not fit
 * SHM_ROUTE_ID (two ids must never share a truncated entry), or -ENOSPC
 * when the table is full.
 */
int shm_route_register(struct shm_hdr *h, const char *id, bool builtin)
{
	uint32_t n = atomic_load_explicit(&h->nroutes, memory_order_relaxed);
	uint32_t gen = (uint32_t)atomic_load_explicit(&h->generation,
						      memory_order_relaxed);
	struct shm_route *r;
	uint32_t i;

	if (strlen(id) >= SHM_ROUTE_ID)
		return -ENAMETOOLONG;
	for (i = 0; i < n; i++) {
		r = shm_route(h, i);
		if (strcmp(r->id, id) != 0)
			continue;
		if (atomic_load_explicit(&r->generation,
					 memory_order_relaxed) != gen) {
			shm_write_begin(&r->seq);
			atomic_store_explicit(&r->generation, gen,
					      memory_order_relaxed);
			shm_write_end(&r->seq);
		}
		return (int)i;
	}
	r = shm_route(h, n);
	if (!r)
		return -ENOSPC;

	shm_write_begin(&r->seq);
	shm_store_text(r->id, sizeof(r->id), id);
	atomic_store_explicit(&r->builtin, builtin, memory_order_relaxed);
	atomic_store_explicit(&r->generation, gen, memory_order_relaxed);
	atomic_store_explicit(&r->used, 1, memory_order_relaxed);
	shm_write_end(&r->seq);
	atomic_store_explicit(&h->nroutes, n + 1, memory_order_release);
	return (int)n;
}

/*
 * shm_gate_wait - one pthread_mutex_timedlock() towards the monotonic
 * deadline @end_mono
 *
 * The mutex takes a CLOCK_REALTIME deadline (the one ThreadSanitizer
 * understands), which a clock step can move; waiting in slices of at most
 * SHM_GATE_SLICE_NS and re-checking the monotonic clock keeps the budget
 * exact whatever the wall clock does.  Returns pthread's code.
 */
static int shm_gate_wait(pthread_mutex_t *m, uint64_t end_mono)
{
	uint64_t now = clock_mono_ns();
	uint64_t left = end_mono > now ? end_mono - now : 0;
	uint64_t abs = clock_real_ns() + MIN(left, SHM_GATE_SLICE_NS);
	struct timespec ts = {
		.tv_sec = (time_t)(abs / CLOCK_NS_PER_S),
		.tv_nsec = (long)(abs % CLOCK_NS_PER_S),
	};

	return pthread_mutex_timedlock(m, &ts);
}

/* the gate of registered database entry @db, or NULL */
static struct shm_gate *shm_gate_of(struct shm_hdr *h, uint32_t db,
				    struct shm_db **d)
{
	if (db >= atomic_load_explicit(&h->ndbs, memory_order_acquire))
		return NULL;
	*d = shm_db(h, db);
	if (!*d)
		return NULL;
	return shm_gate(h, atomic_load_explicit(&(*d)->gate,
						memory_order_relaxed));
}

/*
 * shm_tsan_owner_dead - ThreadSanitizer's pthread_mutex_timedlock()
 * interceptor records the lock only on 0, not on EOWNERDEAD (its lock and
 * trylock interceptors record both): annotate the lock we do hold, or our
 * unlock looks like the unlock of an unlocked mutex
 */
static void shm_tsan_owner_dead(pthread_mutex_t *m)
{
#ifdef __SANITIZE_THREAD__
	__tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
	__tsan_mutex_post_lock(m, __tsan_mutex_try_lock, 0);
#else
	(void)m;
#endif
}

/**
 * shm_gate_lock - take the write gate of database entry @db
 * @h:          the segment (writable)
 * @db:         a registered database entry index
 * @timeout_ns: give up after this long (CLOCK_MONOTONIC budget)
 * @recovered:  if not NULL, set true when the previous owner died holding
 *              the gate (EOWNERDEAD, made consistent again here)
 *
 * On success records the owner's pid and since when it is held in the
 * database entry.  Returns 0 (held), -ETIMEDOUT, -ENOTRECOVERABLE, -EINVAL
 * for an unregistered @db, or another negative errno.  The same thread
 * must call shm_gate_unlock().
 */
int shm_gate_lock(struct shm_hdr *h, uint32_t db, uint64_t timeout_ns,
		  bool *recovered)
{
	uint64_t end = clock_mono_ns();
	struct shm_db *d = NULL;
	struct shm_gate *g;
	uint64_t now;
	int rc;

	if (recovered)
		*recovered = false;
	g = shm_gate_of(h, db, &d);
	if (!g)
		return -EINVAL;
	end = timeout_ns > UINT64_MAX - end ? UINT64_MAX : end + timeout_ns;
	do {
		rc = shm_gate_wait(&g->mutex, end);
	} while (rc == ETIMEDOUT && clock_mono_ns() < end);

	if (rc == EOWNERDEAD) {
		shm_tsan_owner_dead(&g->mutex);
		rc = pthread_mutex_consistent(&g->mutex);
		if (rc) {
			pthread_mutex_unlock(&g->mutex);
			return -rc;
		}
		if (recovered)
			*recovered = true;
	} else if (rc) {
		return -rc;
	}
	now = clock_mono_ns();
	atomic_store_explicit(&d->gate_locked_mono_ns, now ? now : 1,
			      memory_order_relaxed);
	atomic_store_explicit(&d->gate_owner_pid, getpid(),
			      memory_order_relaxed);
	return 0;
}

/* release the write gate of @db, taken by this thread with shm_gate_lock() */
void shm_gate_unlock(struct shm_hdr *h, uint32_t db)
{
	struct shm_db *d = NULL;
	struct shm_gate *g;
	int rc;

	g = shm_gate_of(h, db, &d);
	if (!g)
		return;
	atomic_store_explicit(&d->gate_owner_pid, 0, memory_order_relaxed);
	atomic_store_explicit(&d->gate_locked_mono_ns, 0, memory_order_relaxed);
	rc = pthread_mutex_unlock(&g->mutex);
	assert(rc == 0);
	(void)rc;
}

/* @dst[i] += @src[i] for @n counters */
static void shm_fold_add(_Atomic uint64_t *dst, _Atomic uint64_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		shm_add(&dst[i],
			atomic_load_explicit(&src[i], memory_order_relaxed));
}

static void shm_fold_max(_Atomic uint64_t *dst, _Atomic uint64_t *src)
{
	shm_max(dst, atomic_load_explicit(src, memory_order_relaxed));
}

/*
 * shm_zero_block - reset a block of @size bytes that starts with its
 * seq, under that seq (which keeps counting up)
 */
static void shm_zero_block(_Atomic uint32_t *seq, size_t size)
{
	char *p = (char *)seq;
	size_t i;

	assert((uintptr_t)p % 8 == 0 && size % 8 == 0);
	shm_write_begin(seq);
	__atomic_store_n((uint32_t *)(p + 4), 0, __ATOMIC_RELAXED);
	for (i = 8; i < size; i += 8)
		__atomic_store_n((uint64_t *)(p + i), 0, __ATOMIC_RELAXED);
	shm_write_end(seq);
}

static void shm_fold_slot_own(struct shm_slot *r, struct shm_slot *d)
{
	shm_write_begin(&r->seq);
	shm_fold_add(&r->accepts, &d->accepts, 1);
	shm_fold_add(r->requests, d->requests, ARRAY_SIZE(d->requests));
	shm_fold_add(&r->bytes_in, &d->bytes_in, 1);
	shm_fold_add(&r->bytes_out, &d->bytes_out, 1);
	shm_fold_add(&r->latency_ns_sum, &d->latency_ns_sum, 1);
	shm_fold_add(r->latency_hist, d->latency_hist, SHM_HIST);
	shm_write_end(&r->seq);
	shm_zero_block(&d->seq, sizeof(*d));
}

/* the counters only: pool_size ... oldest_waiter are the dead pool's gauges */
static void shm_fold_slot_db(struct shm_slot_db *r, struct shm_slot_db *d)
{
	shm_write_begin(&r->seq);
	shm_fold_add(&r->acquires, &d->acquires, 1);
	shm_fold_add(&r->acquire_wait_ns_sum, &d->acquire_wait_ns_sum, 1);
	shm_fold_max(&r->acquire_wait_ns_max, &d->acquire_wait_ns_max);
	shm_fold_add(&r->acquire_timeouts, &d->acquire_timeouts, 1);
	shm_fold_add(&r->pool_full, &d->pool_full, 1);
	shm_fold_add(r->acquire_hist, d->acquire_hist, SHM_HIST);
	shm_fold_add(r->hold_hist, d->hold_hist, SHM_HIST);
	shm_write_end(&r->seq);
	shm_zero_block(&d->seq, sizeof(*d));
}

static void shm_fold_slot_route(struct shm_slot_route *r,
				struct shm_slot_route *d)
{
	shm_write_begin(&r->seq);
	shm_fold_add(r->requests, d->requests, ARRAY_SIZE(d->requests));
	shm_fold_add(&r->latency_ns_sum, &d->latency_ns_sum, 1);
	shm_fold_add(r->latency_hist, d->latency_hist, SHM_HIST);
	shm_write_end(&r->seq);
	shm_zero_block(&d->seq, sizeof(*d));
}

/* jobs ... gate_recoveries; db, state and busy_since describe the thread */
static void shm_fold_exec(struct shm_exec *r, struct shm_exec *d)
{
	shm_write_begin(&r->seq);
	shm_fold_add(&r->jobs, &d->jobs, 1);
	shm_fold_add(&r->gate_waits, &d->gate_waits, 1);
	shm_fold_add(&r->gate_wait_ns_sum, &d->gate_wait_ns_sum, 1);
	shm_fold_max(&r->gate_wait_ns_max, &d->gate_wait_ns_max);
	shm_fold_add(&r->gate_hold_ns_sum, &d->gate_hold_ns_sum, 1);
	shm_fold_max(&r->gate_hold_ns_max, &d->gate_hold_ns_max);
	shm_fold_add(&r->lock_timeouts, &d->lock_timeouts, 1);
	shm_fold_add(&r->busy_handler_calls, &d->busy_handler_calls, 1);
	shm_fold_add(&r->busy_immediate, &d->busy_immediate, 1);
	shm_fold_add(&r->busy_snapshot, &d->busy_snapshot, 1);
	shm_fold_add(&r->statement_timeouts, &d->statement_timeouts, 1);
	shm_fold_add(&r->errors, &d->errors, 1);
	shm_fold_add(&r->conns_opened, &d->conns_opened, 1);
	shm_fold_add(&r->gate_recoveries, &d->gate_recoveries, 1);
	shm_write_end(&r->seq);
	shm_zero_block(&d->seq, sizeof(*d));
}

/**
 * shm_slot_fold - fold a reaped worker's counters into the retired slot
 * and reset its slot (master only, after waitpid)
 * @h:    the segment (writable)
 * @slot: a worker slot, < nslots
 *
 * Counters are added and *_max fields take the maximum; gauges are
 * dropped.  Exec entry e of @slot goes to the retired exec entry of its
 * database.  Every block written keeps its own seqcount, and the whole
 * fold runs under hdr_seq, so a reader summing every slot sees the
 * counters either in the old slot or in the retired one.
 */
void shm_slot_fold(struct shm_hdr *h, uint32_t slot)
{
	const uint32_t ret = shm_retired_slot(h);
	struct shm_exec *e;
	uint32_t i, db;

	assert(slot < ret);
	if (slot >= ret)
		return;
	shm_write_begin(&h->hdr_seq);
	shm_fold_slot_own(shm_slot(h, ret), shm_slot(h, slot));
	for (i = 0; i < SHM_MAX_DBS; i++)
		shm_fold_slot_db(shm_slot_db(h, ret, i),
				 shm_slot_db(h, slot, i));
	for (i = 0; i < SHM_MAX_ROUTES; i++)
		shm_fold_slot_route(shm_slot_route(h, ret, i),
				    shm_slot_route(h, slot, i));
	for (i = 0; i < SHM_MAX_EXECS; i++) {
		e = shm_exec(h, slot, i);
		db = atomic_load_explicit(&e->db, memory_order_relaxed);
		shm_fold_exec(shm_exec(h, ret, db < SHM_MAX_DBS ? db : 0), e);
	}
	shm_write_end(&h->hdr_seq);
}

/**
 * shm_read_block - a reader's consistent copy of a block
 * @seq:   the block's sequence count
 * @block: the block, 8-byte aligned
 * @size:  its size, a multiple of 8
 * @out:   the copy
 *
 * Returns 0 with a copy taken while @seq was even and unchanged, or
 * -EAGAIN when the writer kept racing for SHM_READ_TRIES attempts (@out
 * then holds an inconsistent copy; do not use it).
 */
int shm_read_block(const _Atomic uint32_t *seq, const void *block, size_t size,
		   void *out)
{
	const uint64_t *src = block;
	uint32_t s0, s1;
	uint64_t w;
	size_t i;
	int tries;

	assert((uintptr_t)block % 8 == 0 && size % 8 == 0);
	for (tries = 0; tries < SHM_READ_TRIES; tries++) {
		s0 = atomic_load_explicit(seq, memory_order_acquire);
		if (s0 & 1)
			continue;
		for (i = 0; i < size / 8; i++) {
			w = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
			memcpy((char *)out + i * 8, &w, sizeof(w));
		}
		atomic_thread_fence(memory_order_acquire);
		s1 = atomic_load_explicit(seq, memory_order_relaxed);
		if (s0 == s1)
			return 0;
	}
	return -EAGAIN;
}

int shm_gate_trylock(struct shm_hdr *h, uint32_t db, bool *recovered)
{
	int err = shm_gate_lock(h, db, 0, recovered);

	return err == -ETIMEDOUT ? -EBUSY : err;
}
