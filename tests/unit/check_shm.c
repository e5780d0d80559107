// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_shm.c - the shared-memory segment: layout and header,
 * read-only attach and its refusals (missing, permission, magic, version,
 * strides, tables outside the mapping), the append-only database and route
 * tables, the robust write gate across a dying process, the fold of a dead
 * slot into the retired one, histogram buckets and the seqcount reader
 *
 * Every test works on a segment name of its own ("/poold-test-PID-N") and
 * unlinks it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "lib/clock.h"
#include "lib/util.h"
#include "shm/shm.h"
#include "tests/unit/suites.h"

/* the segment of the checked fixture */
static char seg_name[64];
static struct shm_seg seg;

static void shm_test_name(char *buf, size_t n)
{
	static unsigned int k;

	snprintf(buf, n, "/poold-test-%d-%u", (int)getpid(), k++);
}

static void shm_test_setup(void)
{
	shm_test_name(seg_name, sizeof(seg_name));
	ck_assert_int_eq(shm_create(&seg, seg_name, 3, 0640), 0);
}

static void shm_test_teardown(void)
{
	shm_detach(&seg, true);
}

/* map segment @name read-write, as a test that forges contents needs */
static struct shm_hdr *shm_test_map_rw(const char *name, size_t *size)
{
	struct stat st;
	void *p;
	int fd;

	fd = shm_open(name, O_RDWR, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	close(fd);
	*size = (size_t)st.st_size;
	return p;
}

/* a fake segment of @size zero bytes, made without shm_create() */
static struct shm_hdr *shm_test_fake(const char *name, size_t size)
{
	size_t mapped;
	int fd;

	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
	if (!size)
		return NULL;
	return shm_test_map_rw(name, &mapped);
}

static void shm_test_attach_fails(const char *name, int err, const char *why)
{
	struct shm_seg r = { .hdr = NULL };
	char msg[256];

	ck_assert_int_eq(shm_attach(&r, name, msg, sizeof(msg)), err);
	ck_assert_ptr_null(r.hdr);
	ck_assert_msg(strstr(msg, why), "why \"%s\" lacks \"%s\"", msg, why);
	ck_assert_msg(strncmp(msg, "segment \"", 9) == 0, "why \"%s\"", msg);
}

START_TEST(test_shm_create_header)
{
	const struct shm_hdr *h = seg.hdr;
	long page = sysconf(_SC_PAGESIZE);

	ck_assert(seg.writable);
	ck_assert_str_eq(seg.name, seg_name);
	ck_assert_uint_eq(atomic_load(&h->magic), SHM_MAGIC);
	ck_assert_uint_eq(h->abi_major, SHM_ABI_MAJOR);
	ck_assert_uint_eq(h->abi_minor, SHM_ABI_MINOR);
	ck_assert_uint_eq(h->hdr_size, 1024);
	ck_assert_uint_eq(h->total_size, seg.size);
	ck_assert_uint_eq(h->total_size % (uint64_t)page, 0);
	ck_assert_uint_eq(h->nslots, 8);
	ck_assert_uint_eq(h->max_workers, 3);
	ck_assert_uint_eq(shm_retired_slot(h), 8);
	ck_assert_int_eq(atomic_load(&h->master_pid), getpid());
	ck_assert_uint_eq(atomic_load(&h->state), SHM_STATE_STARTING);
	ck_assert_int_eq(atomic_load(&h->checkpointer_slot), -1);
	ck_assert_uint_ne(h->start_unix_ns, 0);
	ck_assert_uint_le(h->start_unix_ns, clock_real_ns());
	ck_assert_uint_ne(h->start_mono_ns, 0);
	ck_assert_uint_le(h->start_mono_ns, clock_mono_ns());
	ck_assert_uint_eq(atomic_load(&h->ndbs), 0);
	ck_assert_uint_eq(atomic_load(&h->nlisteners), 0);
	ck_assert_uint_eq(atomic_load(&h->hdr_seq), 0);
}
END_TEST

START_TEST(test_shm_create_directory)
{
	static const struct {
		uint32_t stride, count;
	} want[SHM_T_COUNT] = {
		[SHM_T_LISTENERS] = { 128, SHM_MAX_LISTENERS },
		[SHM_T_DBS] = { 512, SHM_MAX_DBS },
		[SHM_T_GATES] = { 128, SHM_MAX_DBS },
		[SHM_T_ROUTES] = { 136, SHM_MAX_ROUTES },
		[SHM_T_SLOTS] = { 512, 9 },
		[SHM_T_SLOT_DBS] = { 640, 9 * SHM_MAX_DBS },
		[SHM_T_SLOT_ROUTES] = { 320, 9 * SHM_MAX_ROUTES },
		[SHM_T_EXECS] = { 256, 9 * SHM_MAX_EXECS },
	};
	const struct shm_hdr *h = seg.hdr;
	uint64_t end = sizeof(*h);
	const struct shm_table *t;
	int i;

	for (i = 0; i < SHM_T_COUNT; i++) {
		t = &h->tables[i];
		ck_assert_uint_eq(t->offset % SHM_CACHELINE, 0);
		ck_assert_uint_ge(t->offset, end);
		ck_assert_uint_lt(t->offset - end, SHM_CACHELINE);
		ck_assert_uint_eq(t->stride, want[i].stride);
		ck_assert_uint_eq(t->count, want[i].count);
		end = t->offset + (uint64_t)t->count * t->stride;
	}
	for (; i < SHM_T_MAX; i++) {
		ck_assert_uint_eq(h->tables[i].offset, 0);
		ck_assert_uint_eq(h->tables[i].count, 0);
	}
	ck_assert_uint_le(end, h->total_size);
	ck_assert_uint_lt(h->total_size - end, (uint64_t)sysconf(_SC_PAGESIZE));
}
END_TEST

START_TEST(test_shm_create_builtin_routes)
{
	static const char *const ids[] = {
		[SHM_ROUTE_HEALTHZ] = "GET /healthz",
		[SHM_ROUTE_READYZ] = "GET /readyz",
		[SHM_ROUTE_METRICS] = "GET /metrics",
		[SHM_ROUTE_OTHER] = "other",
	};
	struct shm_route *r;
	uint32_t i;

	ck_assert_uint_eq(atomic_load(&seg.hdr->nroutes), SHM_ROUTE_FIRST);
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		r = shm_route(seg.hdr, i);
		ck_assert_str_eq(r->id, ids[i]);
		ck_assert_uint_eq(atomic_load(&r->used), 1);
		ck_assert_uint_eq(atomic_load(&r->builtin), 1);
		ck_assert_uint_eq(atomic_load(&r->seq) % 2, 0);
		ck_assert_int_eq(shm_route_register(seg.hdr, ids[i], true),
				 (int)i);
	}
	ck_assert_uint_eq(atomic_load(&shm_route(seg.hdr, i)->used), 0);
	/* the retired slot's exec entry d accumulates database d */
	for (i = 0; i < SHM_MAX_DBS; i++)
		ck_assert_uint_eq(atomic_load(&shm_exec(seg.hdr, 8, i)->db), i);
}
END_TEST

START_TEST(test_shm_create_mode_and_exclusive)
{
	struct shm_seg again = { .hdr = NULL };
	struct stat st;
	char name[64];
	int fd;

	ck_assert_int_eq(shm_create(&again, seg_name, 1, 0640), -EEXIST);
	ck_assert_ptr_null(again.hdr);
	fd = shm_open(seg_name, O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);

	/* exactly @mode, whatever the umask */
	shm_test_name(name, sizeof(name));
	umask(077);
	ck_assert_int_eq(shm_create(&again, name, 1, 0640), 0);
	fd = shm_open(name, O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_uint_eq(again.hdr->nslots, 4);
	shm_detach(&again, true);
	shm_detach(&again, true); /* idempotent */
	ck_assert_int_eq(shm_attach(&again, name, NULL, 0), -ENOENT);
}
END_TEST

START_TEST(test_shm_unlink_stale)
{
	struct shm_seg s = { .hdr = NULL };
	char name[64];

	shm_test_name(name, sizeof(name));
	ck_assert_int_eq(shm_unlink_stale(name), 0);
	ck_assert_int_eq(shm_create(&s, name, 1, 0600), 0);
	shm_detach(&s, false); /* a dead master leaves its name behind */
	ck_assert_int_eq(shm_create(&s, name, 1, 0600), -EEXIST);
	ck_assert_int_eq(shm_unlink_stale(name), 0);
	ck_assert_int_eq(shm_create(&s, name, 1, 0600), 0);
	shm_detach(&s, true);
	ck_assert_int_eq(shm_unlink_stale(name), 0);
}
END_TEST

START_TEST(test_shm_attach_read_only)
{
	struct shm_seg r = { .hdr = NULL };
	char why[256] = "untouched";
	const struct shm_hdr *h;
	uint32_t i;

	ck_assert_int_eq(shm_db_register(seg.hdr, "main", "/x/main.db", 1, 2),
			 0);
	ck_assert_int_eq(shm_attach(&r, seg_name, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	h = r.hdr;
	ck_assert(!r.writable);
	ck_assert_ptr_ne(h, seg.hdr);
	ck_assert_uint_eq(r.size, seg.size);
	ck_assert_str_eq(r.name, seg_name);
	ck_assert_uint_eq(h->nslots, 8);
	ck_assert_mem_eq(h->tables, seg.hdr->tables, sizeof(h->tables));
	for (i = 0; i < SHM_ROUTE_FIRST; i++)
		ck_assert_str_eq(shm_route(h, i)->id,
				 shm_route(seg.hdr, i)->id);
	ck_assert_str_eq(shm_route(h, SHM_ROUTE_OTHER)->id, "other");
	ck_assert_uint_eq(atomic_load(&h->ndbs), 1);
	ck_assert_str_eq(shm_db(h, 0)->path, "/x/main.db");

	/* the writer's updates show through the reader's mapping */
	shm_add(&shm_slot(seg.hdr, 2)->accepts, 42);
	ck_assert_uint_eq(atomic_load(&shm_slot(h, 2)->accepts), 42);
	shm_detach(&r, false);
	shm_detach(&r, false);
	ck_assert_ptr_null(r.hdr);
}
END_TEST

START_TEST(test_shm_attach_missing)
{
	struct shm_seg r = { .hdr = NULL };
	char name[64], want[128], why[256];

	shm_test_name(name, sizeof(name));
	ck_assert_int_eq(shm_attach(&r, name, why, sizeof(why)), -ENOENT);
	snprintf(want, sizeof(want),
		 "segment \"%s\": no such segment (is poold running?)", name);
	ck_assert_str_eq(why, want);
	ck_assert_ptr_null(r.hdr);
	/* a short buffer is truncated, never overrun */
	ck_assert_int_eq(shm_attach(&r, name, why, 8), -ENOENT);
	ck_assert_str_eq(why, "segment");
}
END_TEST

START_TEST(test_shm_attach_permission)
{
	struct shm_seg s = { .hdr = NULL };
	char name[64], want[160];
	pid_t pid;
	int st;

	shm_test_name(name, sizeof(name));
	snprintf(
		want, sizeof(want),
		"segment \"%s\": permission denied (poolmon needs the group of the segment)",
		name);
	/* root reads everything: try as nobody, in a child */
	ck_assert_int_eq(shm_create(&s, name, 1, geteuid() ? 0000 : 0600), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct shm_seg r = { .hdr = NULL };
		char why[256];

		if (geteuid() == 0 &&
		    (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
			_exit(3);
		if (shm_attach(&r, name, why, sizeof(why)) != -EACCES)
			_exit(1);
		_exit(strcmp(why, want) ? 2 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	shm_detach(&s, true);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

START_TEST(test_shm_attach_fake_bad_magic)
{
	char name[64];
	struct shm_hdr *h;

	shm_test_name(name, sizeof(name));
	h = shm_test_fake(name, 1 << 20);
	atomic_store(&h->magic, UINT64_C(0x0123456789abcdef));
	h->abi_major = SHM_ABI_MAJOR;
	munmap(h, 1 << 20);
	shm_test_attach_fails(name, -EAGAIN, "\": not initialised yet");
	shm_unlink(name);
}
END_TEST

START_TEST(test_shm_attach_fake_major_2)
{
	char name[64];
	struct shm_hdr *h;

	shm_test_name(name, sizeof(name));
	h = shm_test_fake(name, 1 << 20);
	h->abi_major = 2;
	h->abi_minor = 0;
	atomic_store(&h->magic, SHM_MAGIC);
	munmap(h, 1 << 20);
	shm_test_attach_fails(
		name, -EPROTO,
		"\": unknown layout version 2.0 (this poolmon reads 1.x)");
	shm_unlink(name);
}
END_TEST

START_TEST(test_shm_attach_fake_short)
{
	char name[64];
	struct shm_hdr *h;

	/* smaller than the header */
	shm_test_name(name, sizeof(name));
	h = shm_test_fake(name, 512);
	atomic_store(&h->magic, SHM_MAGIC);
	h->abi_major = SHM_ABI_MAJOR;
	munmap(h, 512);
	shm_test_attach_fails(name, -EOVERFLOW, "truncated or corrupt");
	shm_unlink(name);

	/* created but not sized yet */
	shm_test_name(name, sizeof(name));
	shm_test_fake(name, 0);
	shm_test_attach_fails(name, -EAGAIN, "not initialised yet");
	shm_unlink(name);
}
END_TEST

/* forged variants of a real segment: what shm_attach() must say */
static const struct shm_test_forge {
	int what;
	int err;
	const char *why;
} shm_test_forges[] = {
	{ 0, 0, "" }, /* untouched */
	{ 1, 0, "" }, /* a newer minor version */
	{ 2, -EAGAIN, "not initialised yet" },
	{ 3, -EPROTO, "unknown layout version 3.1 (this poolmon reads 1.x)" },
	{ 4, -EPROTO, "(table 4 stride 256, this poolmon reads 512)" },
	{ 5, -EPROTO, "(header of 512 bytes, this poolmon reads 1024)" },
	{ 6, -EOVERFLOW, "truncated or corrupt (table 7 outside the mapping)" },
	{ 7, -EOVERFLOW, "truncated or corrupt (table 6 outside the mapping)" },
	{ 8, -EOVERFLOW, "truncated or corrupt (table 1 outside the mapping)" },
	{ 9, -EOVERFLOW, "truncated or corrupt (table 0 overlaps the header)" },
	{ 10, -EOVERFLOW,
	  "truncated or corrupt (table 4 too small for the slots)" },
	{ 11, -EOVERFLOW, "truncated or corrupt (" },
	{ 12, -EOVERFLOW, "truncated or corrupt (table 3 misaligned)" },
	{ 13, 0, "" }, /* a bigger stride: a newer minor's entries */
};

static void shm_test_forge_hdr(struct shm_hdr *h, int what)
{
	switch (what) {
	case 1:
		h->abi_minor = SHM_ABI_MINOR + 5;
		break;
	case 2:
		atomic_store(&h->magic, 0);
		break;
	case 3:
		h->abi_major = 3;
		h->abi_minor = 1;
		break;
	case 4:
		h->tables[SHM_T_SLOTS].stride = 256;
		break;
	case 5:
		h->hdr_size = 512;
		break;
	case 6:
		h->tables[SHM_T_EXECS].offset = h->total_size;
		break;
	case 7:
		h->tables[SHM_T_SLOT_ROUTES].count = UINT32_MAX;
		break;
	case 8:
		h->tables[SHM_T_DBS].offset = UINT64_MAX - 64;
		break;
	case 9:
		h->tables[SHM_T_LISTENERS].offset = 0; /* over the header */
		break;
	case 10:
		h->nslots = 1000; /* more slots than the tables hold */
		break;
	case 11:
		h->total_size *= 2;
		break;
	case 12:
		h->tables[SHM_T_ROUTES].offset += 4; /* misaligned */
		break;
	case 13:
		h->tables[SHM_T_ROUTES].stride = 144;
		break;
	}
}

START_TEST(test_shm_attach_forged)
{
	const struct shm_test_forge *f = &shm_test_forges[_i];
	struct shm_seg r = { .hdr = NULL };
	char why[256];
	struct shm_hdr *h;
	size_t size;
	int err;

	h = shm_test_map_rw(seg_name, &size);
	shm_test_forge_hdr(h, f->what);
	munmap(h, size);
	err = shm_attach(&r, seg_name, why, sizeof(why));
	ck_assert_msg(err == f->err, "case %d: %d (%s)", f->what, err, why);
	ck_assert_msg(strstr(why, f->why), "case %d: \"%s\"", f->what, why);
	ck_assert(err ? !r.hdr : r.hdr != NULL);
	shm_detach(&r, false);
}
END_TEST

START_TEST(test_shm_accessors_bounds)
{
	const struct shm_hdr *h = seg.hdr;
	char *base = (char *)h;

	ck_assert_ptr_nonnull(shm_slot(h, 8));
	ck_assert_ptr_null(shm_slot(h, 9));
	ck_assert_ptr_null(shm_listener(h, SHM_MAX_LISTENERS));
	ck_assert_ptr_null(shm_db(h, SHM_MAX_DBS));
	ck_assert_ptr_null(shm_gate(h, SHM_MAX_DBS));
	ck_assert_ptr_null(shm_route(h, SHM_MAX_ROUTES));
	ck_assert_ptr_null(shm_slot_db(h, 9, 0));
	ck_assert_ptr_null(shm_slot_db(h, 0, SHM_MAX_DBS));
	ck_assert_ptr_null(shm_slot_route(h, 0, SHM_MAX_ROUTES));
	ck_assert_ptr_null(shm_slot_route(h, UINT32_MAX, 0));
	ck_assert_ptr_null(shm_exec(h, 0, SHM_MAX_EXECS));
	ck_assert_ptr_null(shm_exec(h, 9, 0));
	ck_assert_ptr_null(shm_entry(h, SHM_T_MAX, 0));
	ck_assert_ptr_null(shm_entry(h, SHM_T_COUNT, 0));

	/* flat index slot * per-slot + i, by the stored stride */
	ck_assert_ptr_eq((char *)shm_slot_db(h, 3, 5),
			 base + h->tables[SHM_T_SLOT_DBS].offset +
				 (3 * SHM_MAX_DBS + 5) * 640);
	ck_assert_ptr_eq((char *)shm_slot_route(h, 8, 255),
			 base + h->tables[SHM_T_SLOT_ROUTES].offset +
				 (8 * SHM_MAX_ROUTES + 255) * 320);
	ck_assert_ptr_eq((char *)shm_exec(h, 2, 7),
			 base + h->tables[SHM_T_EXECS].offset +
				 (2 * SHM_MAX_EXECS + 7) * 256);
	ck_assert_ptr_eq(shm_slot(h, 1), shm_entry(h, SHM_T_SLOTS, 1));
}
END_TEST

START_TEST(test_shm_db_register)
{
	struct shm_hdr *h = seg.hdr;
	char long_path[600], name[32];
	struct shm_db *d;
	int i;

	ck_assert_int_eq(shm_db_register(h, "main", "/srv/main.db", 8, 100), 0);
	ck_assert_int_eq(shm_db_register(h, "logs", "/srv/logs.db", 8, 101), 1);
	/* the same file under another name and path: the same entry */
	ck_assert_int_eq(shm_db_register(h, "alias", "/srv/link.db", 8, 100),
			 0);
	/* same inode number on another device: another file */
	ck_assert_int_eq(shm_db_register(h, "other", "/mnt/main.db", 9, 100),
			 2);
	ck_assert_uint_eq(atomic_load(&h->ndbs), 3);

	d = shm_db(h, 1);
	ck_assert_str_eq(d->name, "logs");
	ck_assert_str_eq(d->path, "/srv/logs.db");
	ck_assert_uint_eq(atomic_load(&d->dev), 8);
	ck_assert_uint_eq(atomic_load(&d->ino), 101);
	ck_assert_uint_eq(atomic_load(&d->gate), 1);
	ck_assert_uint_eq(atomic_load(&d->seq), 2);
	ck_assert_str_eq(shm_db(h, 0)->name, "main");

	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	ck_assert_int_eq(shm_db_register(h, long_path, long_path, 1, 1), 3);
	d = shm_db(h, 3);
	ck_assert_uint_eq(strlen(d->path), sizeof(d->path) - 1);
	ck_assert_uint_eq(strlen(d->name), sizeof(d->name) - 1);

	for (i = 4; i < SHM_MAX_DBS; i++) {
		snprintf(name, sizeof(name), "db%d", i);
		ck_assert_int_eq(shm_db_register(h, name, "/p", 2, (uint64_t)i),
				 i);
		ck_assert_uint_eq(atomic_load(&shm_db(h, (uint32_t)i)->gate),
				  (uint32_t)i);
	}
	ck_assert_int_eq(shm_db_register(h, "full", "/p", 3, 1), -ENOSPC);
	/* a known file is still found when the table is full */
	ck_assert_int_eq(shm_db_register(h, "main", "/srv/main.db", 8, 100), 0);
	ck_assert_uint_eq(atomic_load(&h->ndbs), SHM_MAX_DBS);
}
END_TEST

START_TEST(test_shm_route_register)
{
	struct shm_hdr *h = seg.hdr;
	char id[SHM_ROUTE_ID + 8];
	int i;

	ck_assert_int_eq(shm_route_register(h, "GET /items/{id}", false),
			 SHM_ROUTE_FIRST);
	ck_assert_int_eq(shm_route_register(h, "POST /items", false),
			 SHM_ROUTE_FIRST + 1);
	ck_assert_int_eq(shm_route_register(h, "GET /items/{id}", false),
			 SHM_ROUTE_FIRST);
	ck_assert_uint_eq(atomic_load(&h->nroutes), SHM_ROUTE_FIRST + 2);
	ck_assert_uint_eq(atomic_load(&shm_route(h, SHM_ROUTE_FIRST)->builtin),
			  0);
	ck_assert_uint_eq(atomic_load(&shm_route(h, SHM_ROUTE_FIRST)->used), 1);

	/* a reload: known ids keep their index and take the new generation */
	atomic_store(&h->generation, 7);
	ck_assert_int_eq(shm_route_register(h, "POST /items", false),
			 SHM_ROUTE_FIRST + 1);
	ck_assert_uint_eq(
		atomic_load(&shm_route(h, SHM_ROUTE_FIRST + 1)->generation), 7);
	ck_assert_uint_eq(
		atomic_load(&shm_route(h, SHM_ROUTE_FIRST)->generation), 0);
	ck_assert_int_eq(shm_route_register(h, "DELETE /items/{id}", false),
			 SHM_ROUTE_FIRST + 2);

	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	ck_assert_int_eq(shm_route_register(h, id, false), -ENAMETOOLONG);
	id[SHM_ROUTE_ID - 1] = '\0'; /* the longest that fits */
	ck_assert_int_eq(shm_route_register(h, id, false), SHM_ROUTE_FIRST + 3);
	ck_assert_str_eq(shm_route(h, SHM_ROUTE_FIRST + 3)->id, id);

	for (i = SHM_ROUTE_FIRST + 4; i < SHM_MAX_ROUTES; i++) {
		snprintf(id, sizeof(id), "GET /r%d", i);
		ck_assert_int_eq(shm_route_register(h, id, false), i);
	}
	ck_assert_int_eq(shm_route_register(h, "GET /one-more", false),
			 -ENOSPC);
	ck_assert_int_eq(shm_route_register(h, "other", true), SHM_ROUTE_OTHER);
}
END_TEST

START_TEST(test_shm_gate_lock_unlock)
{
	struct shm_hdr *h = seg.hdr;
	bool rec = true;
	struct shm_db *d;

	ck_assert_int_eq(shm_gate_lock(h, 0, CLOCK_NS_PER_S, &rec), -EINVAL);
	ck_assert_int_eq(shm_db_register(h, "a", "/a.db", 1, 1), 0);
	ck_assert_int_eq(shm_db_register(h, "b", "/b.db", 1, 2), 1);
	d = shm_db(h, 0);

	ck_assert_int_eq(shm_gate_lock(h, 0, CLOCK_NS_PER_S, &rec), 0);
	ck_assert(!rec);
	ck_assert_int_eq(atomic_load(&d->gate_owner_pid), getpid());
	ck_assert_uint_ne(atomic_load(&d->gate_locked_mono_ns), 0);
	ck_assert_uint_le(atomic_load(&d->gate_locked_mono_ns),
			  clock_mono_ns());
	/* gates are per database */
	ck_assert_int_eq(shm_gate_lock(h, 1, 0, NULL), 0);
	shm_gate_unlock(h, 1);
	shm_gate_unlock(h, 0);
	ck_assert_int_eq(atomic_load(&d->gate_owner_pid), 0);
	ck_assert_uint_eq(atomic_load(&d->gate_locked_mono_ns), 0);

	/* a zero budget is a try-lock */
	ck_assert_int_eq(shm_gate_lock(h, 0, 0, &rec), 0);
	shm_gate_unlock(h, 0);
}
END_TEST

START_TEST(test_shm_gate_owner_dies)
{
	struct shm_hdr *h = seg.hdr;
	int up[2], down[2], st;
	uint64_t t0, dt;
	struct shm_db *d;
	bool rec = true;
	pid_t pid;
	char c;

	ck_assert_int_eq(shm_db_register(h, "a", "/a.db", 1, 1), 0);
	d = shm_db(h, 0);
	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (shm_gate_lock(h, 0, CLOCK_NS_PER_S, NULL))
			_exit(1);
		if (write(up[1], "L", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(2);
		_exit(0); /* dies holding the gate */
	}
	ck_assert_int_eq(read(up[0], &c, 1), 1);
	ck_assert_int_eq(atomic_load(&d->gate_owner_pid), pid);
	ck_assert_uint_ne(atomic_load(&d->gate_locked_mono_ns), 0);

	t0 = clock_mono_ns();
	ck_assert_int_eq(shm_gate_lock(h, 0, 100 * CLOCK_NS_PER_MS, &rec),
			 -ETIMEDOUT);
	dt = clock_mono_ns() - t0;
	ck_assert(!rec);
	ck_assert_uint_ge(dt, 100 * CLOCK_NS_PER_MS);
	ck_assert_uint_lt(dt, 2 * CLOCK_NS_PER_S);

	ck_assert_int_eq(write(down[1], "X", 1), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);

	ck_assert_int_eq(shm_gate_lock(h, 0, CLOCK_NS_PER_S, &rec), 0);
	ck_assert(rec);
	ck_assert_int_eq(atomic_load(&d->gate_owner_pid), getpid());
	ck_assert_uint_ne(atomic_load(&d->gate_locked_mono_ns), 0);
	shm_gate_unlock(h, 0);
	ck_assert_int_eq(atomic_load(&d->gate_owner_pid), 0);
	ck_assert_uint_eq(atomic_load(&d->gate_locked_mono_ns), 0);

	/* consistent again: a normal lock from now on */
	ck_assert_int_eq(shm_gate_lock(h, 0, CLOCK_NS_PER_S, &rec), 0);
	ck_assert(!rec);
	shm_gate_unlock(h, 0);
}
END_TEST

/* a worker's activity in @slot: @k scales the counters, @max the maxima */
static void shm_test_fill(struct shm_hdr *h, uint32_t slot, uint64_t k,
			  uint64_t max)
{
	struct shm_slot *s = shm_slot(h, slot);
	struct shm_slot_db *sd = shm_slot_db(h, slot, 1);
	struct shm_slot_route *sr = shm_slot_route(h, slot, SHM_ROUTE_FIRST);
	struct shm_exec *e0 = shm_exec(h, slot, 0);
	struct shm_exec *e1 = shm_exec(h, slot, 1);

	shm_write_begin(&s->seq);
	atomic_store(&s->pid, 4242);
	shm_set32(&s->conns_reading, 5);
	shm_add(&s->accepts, 10 * k);
	shm_add(&s->requests[1], 7 * k);
	shm_add(&s->requests[4], 2 * k);
	shm_add(&s->bytes_in, 100 * k);
	shm_add(&s->bytes_out, 200 * k);
	shm_add(&s->latency_ns_sum, 5000 * k);
	shm_add(&s->latency_hist[3], 4 * k);
	shm_write_end(&s->seq);

	shm_write_begin(&sd->seq);
	shm_set32(&sd->pool_size, 4);
	shm_set32(&sd->in_use, 2);
	shm_add(&sd->acquires, 9 * k);
	shm_add(&sd->acquire_wait_ns_sum, 900 * k);
	shm_max(&sd->acquire_wait_ns_max, max);
	shm_add(&sd->acquire_timeouts, k);
	shm_add(&sd->pool_full, 2 * k);
	shm_add(&sd->acquire_hist[0], 9 * k);
	shm_add(&sd->hold_hist[5], 9 * k);
	shm_write_end(&sd->seq);

	shm_write_begin(&sr->seq);
	shm_add(&sr->requests[1], 6 * k);
	shm_add(&sr->latency_ns_sum, 600 * k);
	shm_add(&sr->latency_hist[2], 6 * k);
	shm_write_end(&sr->seq);

	shm_write_begin(&e0->seq); /* an executor of database 1 */
	shm_set32(&e0->db, 1);
	shm_set32(&e0->state, SHM_EXEC_QUERY);
	atomic_store(&e0->busy_since_mono_ns, 77);
	shm_add(&e0->jobs, 5 * k);
	shm_add(&e0->gate_waits, 2 * k);
	shm_add(&e0->gate_wait_ns_sum, 50 * k);
	shm_max(&e0->gate_wait_ns_max, max);
	shm_max(&e0->gate_hold_ns_max, max + 1);
	shm_add(&e0->errors, k);
	shm_add(&e0->gate_recoveries, k);
	shm_write_end(&e0->seq);

	shm_write_begin(&e1->seq); /* an executor of database 0 */
	shm_set32(&e1->db, 0);
	shm_add(&e1->jobs, 3 * k);
	shm_write_end(&e1->seq);
}

/* every byte of a block after its seq is 0 */
static bool shm_test_is_zero(const void *block, size_t size)
{
	const unsigned char *p = block;
	size_t i;

	for (i = 4; i < size; i++) {
		if (p[i])
			return false;
	}
	return true;
}

START_TEST(test_shm_slot_fold_moves_counters)
{
	struct shm_hdr *h = seg.hdr;
	const uint32_t ret = shm_retired_slot(h);
	struct shm_slot *r = shm_slot(h, ret);
	struct shm_slot_db *rd = shm_slot_db(h, ret, 1);
	struct shm_slot_route *rr = shm_slot_route(h, ret, SHM_ROUTE_FIRST);
	struct shm_exec *re1 = shm_exec(h, ret, 1), *re0 = shm_exec(h, ret, 0);
	uint32_t seq3 = 0, hseq = atomic_load(&h->hdr_seq);

	shm_test_fill(h, 3, 1, 300);
	seq3 = atomic_load(&shm_slot(h, 3)->seq);
	shm_slot_fold(h, 3);
	ck_assert_uint_eq(atomic_load(&h->hdr_seq), hseq + 2);

	ck_assert_uint_eq(atomic_load(&r->accepts), 10);
	ck_assert_uint_eq(atomic_load(&r->requests[1]), 7);
	ck_assert_uint_eq(atomic_load(&r->requests[4]), 2);
	ck_assert_uint_eq(atomic_load(&r->bytes_out), 200);
	ck_assert_uint_eq(atomic_load(&r->latency_hist[3]), 4);
	ck_assert_int_eq(atomic_load(&r->pid), 0); /* gauges are not folded */
	ck_assert_uint_eq(atomic_load(&r->conns_reading), 0);
	ck_assert_uint_eq(atomic_load(&rd->acquires), 9);
	ck_assert_uint_eq(atomic_load(&rd->acquire_wait_ns_max), 300);
	ck_assert_uint_eq(atomic_load(&rd->pool_full), 2);
	ck_assert_uint_eq(atomic_load(&rd->hold_hist[5]), 9);
	ck_assert_uint_eq(atomic_load(&rd->pool_size), 0);
	ck_assert_uint_eq(atomic_load(&rr->requests[1]), 6);
	ck_assert_uint_eq(atomic_load(&rr->latency_hist[2]), 6);
	ck_assert_uint_eq(atomic_load(&re1->jobs), 5);
	ck_assert_uint_eq(atomic_load(&re1->gate_wait_ns_max), 300);
	ck_assert_uint_eq(atomic_load(&re1->gate_hold_ns_max), 301);
	ck_assert_uint_eq(atomic_load(&re1->gate_recoveries), 1);
	ck_assert_uint_eq(atomic_load(&re1->db), 1);
	ck_assert_uint_eq(atomic_load(&re1->busy_since_mono_ns), 0);
	ck_assert_uint_eq(atomic_load(&re0->jobs), 3);
	ck_assert_uint_eq(atomic_load(&re0->db), 0);

	/* the dead slot is zeroed, its seqcounts kept counting up */
	ck_assert_uint_eq(atomic_load(&shm_slot(h, 3)->seq), seq3 + 2);
	ck_assert(shm_test_is_zero(shm_slot(h, 3), sizeof(struct shm_slot)));
	ck_assert(shm_test_is_zero(shm_slot_db(h, 3, 1),
				   sizeof(struct shm_slot_db)));
	ck_assert(shm_test_is_zero(shm_slot_route(h, 3, SHM_ROUTE_FIRST),
				   sizeof(struct shm_slot_route)));
	ck_assert(shm_test_is_zero(shm_exec(h, 3, 0), sizeof(struct shm_exec)));
	ck_assert_uint_eq(atomic_load(&shm_exec(h, 3, 0)->seq) % 2, 0);
	ck_assert_uint_eq(atomic_load(&r->seq) % 2, 0);
}
END_TEST

/* a second dead worker: its counters add up, maxima take the max */
START_TEST(test_shm_slot_fold_adds_up)
{
	struct shm_hdr *h = seg.hdr;
	const uint32_t ret = shm_retired_slot(h);
	struct shm_slot *r = shm_slot(h, ret);
	struct shm_slot_db *rd = shm_slot_db(h, ret, 1);
	struct shm_slot_route *rr = shm_slot_route(h, ret, SHM_ROUTE_FIRST);
	struct shm_exec *re1 = shm_exec(h, ret, 1), *re0 = shm_exec(h, ret, 0);
	uint32_t hseq = atomic_load(&h->hdr_seq);

	shm_test_fill(h, 3, 1, 300);
	shm_slot_fold(h, 3);
	shm_test_fill(h, 5, 2, 100);
	shm_max(&shm_exec(h, 5, 0)->gate_wait_ns_max, 900);
	shm_slot_fold(h, 5);
	ck_assert_uint_eq(atomic_load(&h->hdr_seq), hseq + 4);
	ck_assert_uint_eq(atomic_load(&r->accepts), 30);
	ck_assert_uint_eq(atomic_load(&r->latency_ns_sum), 15000);
	ck_assert_uint_eq(atomic_load(&rd->acquire_wait_ns_sum), 2700);
	ck_assert_uint_eq(atomic_load(&rd->acquire_wait_ns_max), 300);
	ck_assert_uint_eq(atomic_load(&rr->latency_ns_sum), 1800);
	ck_assert_uint_eq(atomic_load(&re1->jobs), 15);
	ck_assert_uint_eq(atomic_load(&re1->gate_wait_ns_max), 900);
	ck_assert_uint_eq(atomic_load(&re1->gate_hold_ns_max), 301);
	ck_assert_uint_eq(atomic_load(&re1->errors), 3);
	ck_assert_uint_eq(atomic_load(&re0->jobs), 9);
	ck_assert(shm_test_is_zero(shm_slot(h, 5), sizeof(struct shm_slot)));

	/* a slot folded twice adds nothing more */
	shm_slot_fold(h, 5);
	ck_assert_uint_eq(atomic_load(&r->accepts), 30);
	ck_assert_uint_eq(atomic_load(&re1->jobs), 15);
}
END_TEST

static const struct {
	uint64_t ns;
	unsigned int bucket;
} shm_test_buckets[] = {
	{ 0, 0 },
	{ 999, 0 },
	{ 1000, 1 },
	{ 1999, 1 },
	{ 2000, 2 },
	{ 3999, 2 },
	{ 4000, 3 },
	{ 1000000, 10 },
	{ 1000000000, 20 },
	{ UINT64_C(1) << 40, SHM_HIST - 1 },
	{ UINT64_MAX, SHM_HIST - 1 },
};

START_TEST(test_shm_hist_bucket)
{
	ck_assert_uint_eq(shm_hist_bucket(shm_test_buckets[_i].ns),
			  shm_test_buckets[_i].bucket);
}
END_TEST

START_TEST(test_shm_read_block)
{
	struct shm_slot *s = shm_slot(seg.hdr, 1);
	struct shm_slot copy;

	shm_test_fill(seg.hdr, 1, 3, 10);
	memset(&copy, 0xa5, sizeof(copy));
	ck_assert_int_eq(shm_read_block(&s->seq, s, sizeof(*s), &copy), 0);
	ck_assert_mem_eq(&copy, s, sizeof(copy));
	ck_assert_uint_eq(atomic_load(&copy.accepts), 30);

	shm_write_begin(&s->seq); /* a writer in the middle of an update */
	ck_assert_int_eq(shm_read_block(&s->seq, s, sizeof(*s), &copy),
			 -EAGAIN);
	shm_write_end(&s->seq);
	ck_assert_int_eq(shm_read_block(&s->seq, s, sizeof(*s), &copy), 0);
	ck_assert_uint_eq(atomic_load(&copy.seq) % 2, 0);
}
END_TEST

#define SHM_TEST_WRITES 100000

static void *shm_test_writer(void *arg)
{
	struct shm_slot *s = arg;
	int i;

	for (i = 0; i < SHM_TEST_WRITES; i++) {
		shm_write_begin(&s->seq);
		shm_add(&s->accepts, 1);
		shm_add(&s->bytes_in, 3);
		shm_write_end(&s->seq);
	}
	return NULL;
}

/* a reader racing the writer only ever sees whole updates */
START_TEST(test_shm_read_block_concurrent)
{
	struct shm_slot *s = shm_slot(seg.hdr, 0);
	struct shm_slot copy;
	unsigned int good = 0;
	uint64_t a, last = 0;
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, shm_test_writer, s), 0);
	do {
		if (shm_read_block(&s->seq, s, sizeof(*s), &copy))
			continue;
		a = atomic_load(&copy.accepts);
		ck_assert_uint_eq(atomic_load(&copy.bytes_in), 3 * a);
		ck_assert_uint_ge(a, last);
		last = a;
		good++;
	} while (last < SHM_TEST_WRITES);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_gt(good, 0);
}
END_TEST

Suite *shm_suite(void)
{
	Suite *s = suite_create("shm");
	TCase *tc;

	tc = tcase_create("create");
	tcase_add_checked_fixture(tc, shm_test_setup, shm_test_teardown);
	tcase_add_test(tc, test_shm_create_header);
	tcase_add_test(tc, test_shm_create_directory);
	tcase_add_test(tc, test_shm_create_builtin_routes);
	tcase_add_test(tc, test_shm_create_mode_and_exclusive);
	tcase_add_test(tc, test_shm_unlink_stale);
	tcase_add_test(tc, test_shm_accessors_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("attach");
	tcase_add_checked_fixture(tc, shm_test_setup, shm_test_teardown);
	tcase_add_test(tc, test_shm_attach_read_only);
	tcase_add_test(tc, test_shm_attach_missing);
	tcase_add_test(tc, test_shm_attach_permission);
	tcase_add_test(tc, test_shm_attach_fake_bad_magic);
	tcase_add_test(tc, test_shm_attach_fake_major_2);
	tcase_add_test(tc, test_shm_attach_fake_short);
	tcase_add_loop_test(tc, test_shm_attach_forged, 0,
			    ARRAY_SIZE(shm_test_forges));
	suite_add_tcase(s, tc);

	tc = tcase_create("tables");
	tcase_add_checked_fixture(tc, shm_test_setup, shm_test_teardown);
	tcase_add_test(tc, test_shm_db_register);
	tcase_add_test(tc, test_shm_route_register);
	suite_add_tcase(s, tc);

	tc = tcase_create("gate");
	tcase_add_checked_fixture(tc, shm_test_setup, shm_test_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_shm_gate_lock_unlock);
	tcase_add_test(tc, test_shm_gate_owner_dies);
	suite_add_tcase(s, tc);

	tc = tcase_create("counters");
	tcase_add_checked_fixture(tc, shm_test_setup, shm_test_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_shm_slot_fold_moves_counters);
	tcase_add_test(tc, test_shm_slot_fold_adds_up);
	tcase_add_loop_test(tc, test_shm_hist_bucket, 0,
			    ARRAY_SIZE(shm_test_buckets));
	tcase_add_test(tc, test_shm_read_block);
	tcase_add_test(tc, test_shm_read_block_concurrent);
	suite_add_tcase(s, tc);
	return s;
}
