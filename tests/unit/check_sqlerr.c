// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_sqlerr.c - result code names and the HTTP mapping
 *
 * The name table here is written independently of lib/sqlerr.c, from the
 * sqlite3.h macros: each code must give its macro's name, and a sweep over
 * every 16-bit code must find exactly these names and no others, each
 * once.  The mapping is checked row by row against DESIGN.md's error
 * table, by invariants over every code, and finally against real
 * constraint violations in an in-memory database.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sqlite3.h>

#include "lib/sqlerr.h"
#include "lib/util.h"
#include "tests/unit/suites.h"

struct test_sqlerr_name {
	int code;
	const char *name;
};

#define N(c)          \
	{             \
		c, #c \
	}

/* every result code of SQLite 3.40's sqlite3.h */
static const struct test_sqlerr_name test_sqlerr_names[] = {
	N(SQLITE_OK),
	N(SQLITE_ERROR),
	N(SQLITE_INTERNAL),
	N(SQLITE_PERM),
	N(SQLITE_ABORT),
	N(SQLITE_BUSY),
	N(SQLITE_LOCKED),
	N(SQLITE_NOMEM),
	N(SQLITE_READONLY),
	N(SQLITE_INTERRUPT),
	N(SQLITE_IOERR),
	N(SQLITE_CORRUPT),
	N(SQLITE_NOTFOUND),
	N(SQLITE_FULL),
	N(SQLITE_CANTOPEN),
	N(SQLITE_PROTOCOL),
	N(SQLITE_EMPTY),
	N(SQLITE_SCHEMA),
	N(SQLITE_TOOBIG),
	N(SQLITE_CONSTRAINT),
	N(SQLITE_MISMATCH),
	N(SQLITE_MISUSE),
	N(SQLITE_NOLFS),
	N(SQLITE_AUTH),
	N(SQLITE_FORMAT),
	N(SQLITE_RANGE),
	N(SQLITE_NOTADB),
	N(SQLITE_NOTICE),
	N(SQLITE_WARNING),
	N(SQLITE_ROW),
	N(SQLITE_DONE),
	N(SQLITE_ERROR_MISSING_COLLSEQ),
	N(SQLITE_ERROR_RETRY),
	N(SQLITE_ERROR_SNAPSHOT),
	N(SQLITE_IOERR_READ),
	N(SQLITE_IOERR_SHORT_READ),
	N(SQLITE_IOERR_WRITE),
	N(SQLITE_IOERR_FSYNC),
	N(SQLITE_IOERR_DIR_FSYNC),
	N(SQLITE_IOERR_TRUNCATE),
	N(SQLITE_IOERR_FSTAT),
	N(SQLITE_IOERR_UNLOCK),
	N(SQLITE_IOERR_RDLOCK),
	N(SQLITE_IOERR_DELETE),
	N(SQLITE_IOERR_BLOCKED),
	N(SQLITE_IOERR_NOMEM),
	N(SQLITE_IOERR_ACCESS),
	N(SQLITE_IOERR_CHECKRESERVEDLOCK),
	N(SQLITE_IOERR_LOCK),
	N(SQLITE_IOERR_CLOSE),
	N(SQLITE_IOERR_DIR_CLOSE),
	N(SQLITE_IOERR_SHMOPEN),
	N(SQLITE_IOERR_SHMSIZE),
	N(SQLITE_IOERR_SHMLOCK),
	N(SQLITE_IOERR_SHMMAP),
	N(SQLITE_IOERR_SEEK),
	N(SQLITE_IOERR_DELETE_NOENT),
	N(SQLITE_IOERR_MMAP),
	N(SQLITE_IOERR_GETTEMPPATH),
	N(SQLITE_IOERR_CONVPATH),
	N(SQLITE_IOERR_VNODE),
	N(SQLITE_IOERR_AUTH),
	N(SQLITE_IOERR_BEGIN_ATOMIC),
	N(SQLITE_IOERR_COMMIT_ATOMIC),
	N(SQLITE_IOERR_ROLLBACK_ATOMIC),
	N(SQLITE_IOERR_DATA),
	N(SQLITE_IOERR_CORRUPTFS),
	N(SQLITE_LOCKED_SHAREDCACHE),
	N(SQLITE_LOCKED_VTAB),
	N(SQLITE_BUSY_RECOVERY),
	N(SQLITE_BUSY_SNAPSHOT),
	N(SQLITE_BUSY_TIMEOUT),
	N(SQLITE_CANTOPEN_NOTEMPDIR),
	N(SQLITE_CANTOPEN_ISDIR),
	N(SQLITE_CANTOPEN_FULLPATH),
	N(SQLITE_CANTOPEN_CONVPATH),
	N(SQLITE_CANTOPEN_DIRTYWAL),
	N(SQLITE_CANTOPEN_SYMLINK),
	N(SQLITE_CORRUPT_VTAB),
	N(SQLITE_CORRUPT_SEQUENCE),
	N(SQLITE_CORRUPT_INDEX),
	N(SQLITE_READONLY_RECOVERY),
	N(SQLITE_READONLY_CANTLOCK),
	N(SQLITE_READONLY_ROLLBACK),
	N(SQLITE_READONLY_DBMOVED),
	N(SQLITE_READONLY_CANTINIT),
	N(SQLITE_READONLY_DIRECTORY),
	N(SQLITE_ABORT_ROLLBACK),
	N(SQLITE_CONSTRAINT_CHECK),
	N(SQLITE_CONSTRAINT_COMMITHOOK),
	N(SQLITE_CONSTRAINT_FOREIGNKEY),
	N(SQLITE_CONSTRAINT_FUNCTION),
	N(SQLITE_CONSTRAINT_NOTNULL),
	N(SQLITE_CONSTRAINT_PRIMARYKEY),
	N(SQLITE_CONSTRAINT_TRIGGER),
	N(SQLITE_CONSTRAINT_UNIQUE),
	N(SQLITE_CONSTRAINT_VTAB),
	N(SQLITE_CONSTRAINT_ROWID),
	N(SQLITE_CONSTRAINT_PINNED),
	N(SQLITE_CONSTRAINT_DATATYPE),
	N(SQLITE_NOTICE_RECOVER_WAL),
	N(SQLITE_NOTICE_RECOVER_ROLLBACK),
	N(SQLITE_WARNING_AUTOINDEX),
	N(SQLITE_AUTH_USER),
	N(SQLITE_OK_LOAD_PERMANENTLY),
	N(SQLITE_OK_SYMLINK),
};

START_TEST(test_sqlerr_name_of_every_code)
{
	const struct test_sqlerr_name *t = &test_sqlerr_names[_i];

	ck_assert_str_eq(sqlerr_name(t->code), t->name);
}
END_TEST

static int test_sqlerr_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* every 16-bit code: exactly the names above, each once, all SQLITE_ */
START_TEST(test_sqlerr_names_unique_and_complete)
{
	const char *found[ARRAY_SIZE(test_sqlerr_names) + 1];
	size_t n = 0, i;
	const char *s;
	int code;

	for (code = 0; code <= 0xffff; code++) {
		s = sqlerr_name(code);
		ck_assert_ptr_nonnull(s);
		ck_assert_msg(!strncmp(s, "SQLITE_", 7), "%d: %s", code, s);
		if (!strcmp(s, "SQLITE_UNKNOWN"))
			continue;
		ck_assert_msg(n < ARRAY_SIZE(test_sqlerr_names), "%d: %s", code,
			      s);
		found[n++] = s;
	}
	ck_assert_uint_eq(n, ARRAY_SIZE(test_sqlerr_names));
	qsort(found, n, sizeof(found[0]), test_sqlerr_strcmp);
	for (i = 1; i < n; i++)
		ck_assert_str_ne(found[i - 1], found[i]);
}
END_TEST

START_TEST(test_sqlerr_name_literals)
{
	ck_assert_str_eq(sqlerr_name(0), "SQLITE_OK");
	ck_assert_str_eq(sqlerr_name(5), "SQLITE_BUSY");
	ck_assert_str_eq(sqlerr_name(19), "SQLITE_CONSTRAINT");
	ck_assert_str_eq(sqlerr_name(2067), "SQLITE_CONSTRAINT_UNIQUE");
	ck_assert_str_eq(sqlerr_name(1555), "SQLITE_CONSTRAINT_PRIMARYKEY");
	ck_assert_str_eq(sqlerr_name(3091), "SQLITE_CONSTRAINT_DATATYPE");
	ck_assert_str_eq(sqlerr_name(8458), "SQLITE_IOERR_CORRUPTFS");
	ck_assert_str_eq(sqlerr_name(517), "SQLITE_BUSY_SNAPSHOT");
	ck_assert_str_eq(sqlerr_name(101), "SQLITE_DONE");
	ck_assert_str_eq(sqlerr_name(256), "SQLITE_OK_LOAD_PERMANENTLY");
	/* holes, the future and garbage */
	ck_assert_str_eq(sqlerr_name(29), "SQLITE_UNKNOWN");
	ck_assert_str_eq(sqlerr_name(99), "SQLITE_UNKNOWN");
	ck_assert_str_eq(sqlerr_name(102), "SQLITE_UNKNOWN");
	ck_assert_str_eq(sqlerr_name(260), "SQLITE_UNKNOWN"); /* ABORT | 1 */
	ck_assert_str_eq(sqlerr_name(SQLITE_CONSTRAINT | (13 << 8)),
			 "SQLITE_UNKNOWN");
	ck_assert_str_eq(sqlerr_name(SQLITE_IOERR | (34 << 8)),
			 "SQLITE_UNKNOWN");
	ck_assert_str_eq(sqlerr_name(SQLITE_ROW | (1 << 8)), "SQLITE_UNKNOWN");
	ck_assert_str_eq(sqlerr_name(-1), "SQLITE_UNKNOWN");
	ck_assert_str_eq(sqlerr_name(0x10000 | SQLITE_BUSY), "SQLITE_UNKNOWN");
	ck_assert_str_eq(sqlerr_name(0x7fffffff), "SQLITE_UNKNOWN");
}
END_TEST

struct test_sqlerr_map {
	int code;
	int status;
	const char *err;
	bool retry;
	bool storage;
};

/* DESIGN.md, "Routes and parameters": the rows that come from SQLite */
static const struct test_sqlerr_map test_sqlerr_maps[] = {
	/* NOT NULL, CHECK or datatype constraint violated: 400 constraint */
	{ SQLITE_CONSTRAINT_NOTNULL, 400, "constraint", false, false },
	{ SQLITE_CONSTRAINT_CHECK, 400, "constraint", false, false },
	{ SQLITE_CONSTRAINT_DATATYPE, 400, "constraint", false, false },
	{ SQLITE_CONSTRAINT, 400, "constraint", false, false },
	{ SQLITE_CONSTRAINT_TRIGGER, 400, "constraint", false, false },
	{ SQLITE_CONSTRAINT_FUNCTION, 400, "constraint", false, false },
	{ SQLITE_CONSTRAINT_COMMITHOOK, 400, "constraint", false, false },
	{ SQLITE_CONSTRAINT_VTAB, 400, "constraint", false, false },
	{ SQLITE_CONSTRAINT_PINNED, 400, "constraint", false, false },
	/* UNIQUE, PRIMARY KEY or FOREIGN KEY violated: 409 conflict */
	{ SQLITE_CONSTRAINT_UNIQUE, 409, "conflict", false, false },
	{ SQLITE_CONSTRAINT_PRIMARYKEY, 409, "conflict", false, false },
	{ SQLITE_CONSTRAINT_FOREIGNKEY, 409, "conflict", false, false },
	{ SQLITE_CONSTRAINT_ROWID, 409, "conflict", false, false },
	/* other SQLite error: 500 internal */
	{ SQLITE_ERROR, 500, "internal", false, false },
	{ SQLITE_ERROR_RETRY, 500, "internal", false, false },
	{ SQLITE_INTERNAL, 500, "internal", false, false },
	{ SQLITE_NOMEM, 500, "internal", false, false },
	{ SQLITE_CORRUPT, 500, "internal", false, false },
	{ SQLITE_CORRUPT_INDEX, 500, "internal", false, false },
	{ SQLITE_SCHEMA, 500, "internal", false, false },
	{ SQLITE_TOOBIG, 500, "internal", false, false },
	{ SQLITE_MISMATCH, 500, "internal", false, false },
	{ SQLITE_MISUSE, 500, "internal", false, false },
	{ SQLITE_RANGE, 500, "internal", false, false },
	{ SQLITE_AUTH, 500, "internal", false, false },
	{ SQLITE_NOTADB, 500, "internal", false, false },
	{ SQLITE_ABORT_ROLLBACK, 500, "internal", false, false },
	{ 0x7fffffff, 500, "internal", false, false },
	{ -1, 500, "internal", false, false },
	/* SQLite lock not acquired within busy_timeout: 503 lock_timeout */
	{ SQLITE_BUSY, 503, "lock_timeout", true, false },
	{ SQLITE_BUSY_RECOVERY, 503, "lock_timeout", true, false },
	{ SQLITE_BUSY_SNAPSHOT, 503, "lock_timeout", true, false },
	{ SQLITE_BUSY_TIMEOUT, 503, "lock_timeout", true, false },
	{ SQLITE_LOCKED, 503, "lock_timeout", true, false },
	{ SQLITE_LOCKED_SHAREDCACHE, 503, "lock_timeout", true, false },
	{ SQLITE_LOCKED_VTAB, 503, "lock_timeout", true, false },
	/* statement_timeout exceeded: 503 statement_timeout */
	{ SQLITE_INTERRUPT, 503, "statement_timeout", true, false },
	/* disk full / read-only / I/O error: 503 storage_full ... */
	{ SQLITE_FULL, 503, "storage_full", true, true },
	{ SQLITE_READONLY, 503, "read_only", true, true },
	{ SQLITE_READONLY_DBMOVED, 503, "read_only", true, true },
	{ SQLITE_READONLY_DIRECTORY, 503, "read_only", true, true },
	{ SQLITE_IOERR, 503, "io_error", true, true },
	{ SQLITE_IOERR_WRITE, 503, "io_error", true, true },
	{ SQLITE_IOERR_FSYNC, 503, "io_error", true, true },
	{ SQLITE_IOERR_CORRUPTFS, 503, "io_error", true, true },
	{ SQLITE_CANTOPEN, 503, "io_error", true, true },
	{ SQLITE_CANTOPEN_ISDIR, 503, "io_error", true, true },
};

static void test_sqlerr_check_map(int code, int status, const char *err)
{
	struct sqlerr_http h;

	sqlerr_to_http(code, &h);
	ck_assert_msg(h.status == status, "%s (%d): status %d, want %d",
		      sqlerr_name(code), code, h.status, status);
	ck_assert_str_eq(h.code, err);
}

START_TEST(test_sqlerr_design_table)
{
	const struct test_sqlerr_map *t = &test_sqlerr_maps[_i];
	struct sqlerr_http h;

	test_sqlerr_check_map(t->code, t->status, t->err);
	sqlerr_to_http(t->code, &h);
	ck_assert_int_eq(h.retry, t->retry);
	ck_assert_int_eq(h.storage, t->storage);
}
END_TEST

/* over every 16-bit code: retry iff 503; storage only for the three */
START_TEST(test_sqlerr_map_invariants)
{
	struct sqlerr_http h;
	int code;

	for (code = 0; code <= 0xffff; code++) {
		sqlerr_to_http(code, &h);
		ck_assert_ptr_nonnull(h.code);
		ck_assert_int_eq(h.retry, h.status == 503);
		ck_assert(h.status == 400 || h.status == 409 ||
			  h.status == 500 || h.status == 503);
		if (h.storage)
			ck_assert(!strcmp(h.code, "storage_full") ||
				  !strcmp(h.code, "read_only") ||
				  !strcmp(h.code, "io_error"));
		if ((code & 0xff) == SQLITE_CONSTRAINT)
			ck_assert(h.status == 400 || h.status == 409);
		else
			ck_assert(h.status != 400 && h.status != 409);
	}
}
END_TEST

struct test_sqlerr_violation {
	const char *sql;
	const char *name;
	int status;
	const char *err;
};

static const char test_sqlerr_schema[] =
	"PRAGMA foreign_keys = ON;"
	"CREATE TABLE p (id INTEGER PRIMARY KEY, email TEXT UNIQUE,"
	" name TEXT NOT NULL, qty INTEGER CHECK (qty >= 0));"
	"CREATE TABLE c (id INTEGER PRIMARY KEY,"
	" pid INTEGER REFERENCES p(id));"
	"CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;"
	"CREATE TABLE s (n INTEGER) STRICT;"
	"CREATE TABLE g (x INTEGER);"
	"CREATE TRIGGER g_no BEFORE INSERT ON g WHEN new.x < 0"
	" BEGIN SELECT RAISE(ABORT, 'negative'); END;"
	"INSERT INTO p VALUES (1, 'a@example.com', 'a', 1);"
	"INSERT INTO t VALUES ('k', 1);";

static const struct test_sqlerr_violation test_sqlerr_violations[] = {
	{ "INSERT INTO p VALUES (2, 'a@example.com', 'b', 1)",
	  "SQLITE_CONSTRAINT_UNIQUE", 409, "conflict" },
	{ "INSERT INTO p VALUES (1, 'b@example.com', 'b', 1)",
	  "SQLITE_CONSTRAINT_PRIMARYKEY", 409, "conflict" },
	{ "INSERT INTO t VALUES ('k', 2)", "SQLITE_CONSTRAINT_PRIMARYKEY", 409,
	  "conflict" },
	{ "INSERT INTO c (pid) VALUES (42)", "SQLITE_CONSTRAINT_FOREIGNKEY",
	  409, "conflict" },
	{ "INSERT INTO p VALUES (3, 'c@example.com', NULL, 1)",
	  "SQLITE_CONSTRAINT_NOTNULL", 400, "constraint" },
	{ "INSERT INTO p VALUES (4, 'd@example.com', 'd', -1)",
	  "SQLITE_CONSTRAINT_CHECK", 400, "constraint" },
	{ "INSERT INTO s VALUES ('not a number')", "SQLITE_CONSTRAINT_DATATYPE",
	  400, "constraint" },
	{ "INSERT INTO g VALUES (-1)", "SQLITE_CONSTRAINT_TRIGGER", 400,
	  "constraint" },
	{ "SELECT * FROM nosuchtable", "SQLITE_ERROR", 500, "internal" },
};

START_TEST(test_sqlerr_real_violations)
{
	const struct test_sqlerr_violation *t = &test_sqlerr_violations[_i];
	sqlite3 *db;
	int rc, code;

	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	rc = sqlite3_exec(db, test_sqlerr_schema, NULL, NULL, NULL);
	ck_assert_msg(rc == SQLITE_OK, "schema: %s", sqlite3_errmsg(db));
	rc = sqlite3_exec(db, t->sql, NULL, NULL, NULL);
	ck_assert_int_ne(rc, SQLITE_OK);
	code = sqlite3_extended_errcode(db);
	ck_assert_msg(!strcmp(sqlerr_name(code), t->name), "%s: %s (%d): %s",
		      t->sql, sqlerr_name(code), code, sqlite3_errmsg(db));
	test_sqlerr_check_map(code, t->status, t->err);
	sqlite3_close(db);
}
END_TEST

Suite *sqlerr_suite(void)
{
	Suite *s = suite_create("sqlerr");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_loop_test(tc, test_sqlerr_name_of_every_code, 0,
			    ARRAY_SIZE(test_sqlerr_names));
	tcase_add_test(tc, test_sqlerr_names_unique_and_complete);
	tcase_add_test(tc, test_sqlerr_name_literals);
	suite_add_tcase(s, tc);

	tc = tcase_create("http");
	tcase_add_loop_test(tc, test_sqlerr_design_table, 0,
			    ARRAY_SIZE(test_sqlerr_maps));
	tcase_add_test(tc, test_sqlerr_map_invariants);
	tcase_add_loop_test(tc, test_sqlerr_real_violations, 0,
			    ARRAY_SIZE(test_sqlerr_violations));
	suite_add_tcase(s, tc);
	return s;
}
