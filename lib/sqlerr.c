// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib/sqlerr.c - SQLite result codes: names, and what HTTP says for them
 *
 * An extended result code is a primary code (low 8 bits) plus a variant
 * number (bits 8-15).  Names are found by direct index: one table by
 * primary code for the primary names, and for each primary code that has
 * variants, one table by variant number.  Both are written with
 * designated initializers built from the sqlite3.h macros themselves
 * (#c gives the macro's name), so a name can never disagree with its
 * value and -Woverride-init (in -Wextra) rejects two entries on one slot.
 * The list is SQLite 3.40's; a code this table does not know, from a
 * newer library, is "SQLITE_UNKNOWN".
 *
 * The HTTP mapping is a table by primary code, plus the one place where
 * the variant matters: constraint violations that are about identity
 * (UNIQUE, PRIMARY KEY, FOREIGN KEY, rowid) are 409 conflicts, all other
 * constraint violations 400.
 */
#include "lib/sqlerr.h"

#include <stddef.h>

#include <sqlite3.h>

#include "lib/util.h"

#define SQLERR_PRIMARY(c) [c] = #c
#define SQLERR_EXT(c) [(c) >> 8] = #c

static const char *const sqlerr_primary[] = {
	SQLERR_PRIMARY(SQLITE_OK),	 SQLERR_PRIMARY(SQLITE_ERROR),
	SQLERR_PRIMARY(SQLITE_INTERNAL), SQLERR_PRIMARY(SQLITE_PERM),
	SQLERR_PRIMARY(SQLITE_ABORT),	 SQLERR_PRIMARY(SQLITE_BUSY),
	SQLERR_PRIMARY(SQLITE_LOCKED),	 SQLERR_PRIMARY(SQLITE_NOMEM),
	SQLERR_PRIMARY(SQLITE_READONLY), SQLERR_PRIMARY(SQLITE_INTERRUPT),
	SQLERR_PRIMARY(SQLITE_IOERR),	 SQLERR_PRIMARY(SQLITE_CORRUPT),
	SQLERR_PRIMARY(SQLITE_NOTFOUND), SQLERR_PRIMARY(SQLITE_FULL),
	SQLERR_PRIMARY(SQLITE_CANTOPEN), SQLERR_PRIMARY(SQLITE_PROTOCOL),
	SQLERR_PRIMARY(SQLITE_EMPTY),	 SQLERR_PRIMARY(SQLITE_SCHEMA),
	SQLERR_PRIMARY(SQLITE_TOOBIG),	 SQLERR_PRIMARY(SQLITE_CONSTRAINT),
	SQLERR_PRIMARY(SQLITE_MISMATCH), SQLERR_PRIMARY(SQLITE_MISUSE),
	SQLERR_PRIMARY(SQLITE_NOLFS),	 SQLERR_PRIMARY(SQLITE_AUTH),
	SQLERR_PRIMARY(SQLITE_FORMAT),	 SQLERR_PRIMARY(SQLITE_RANGE),
	SQLERR_PRIMARY(SQLITE_NOTADB),	 SQLERR_PRIMARY(SQLITE_NOTICE),
	SQLERR_PRIMARY(SQLITE_WARNING),	 SQLERR_PRIMARY(SQLITE_ROW),
	SQLERR_PRIMARY(SQLITE_DONE),
};

static const char *const sqlerr_ok[] = {
	SQLERR_EXT(SQLITE_OK_LOAD_PERMANENTLY),
	SQLERR_EXT(SQLITE_OK_SYMLINK),
};

static const char *const sqlerr_error[] = {
	SQLERR_EXT(SQLITE_ERROR_MISSING_COLLSEQ),
	SQLERR_EXT(SQLITE_ERROR_RETRY),
	SQLERR_EXT(SQLITE_ERROR_SNAPSHOT),
};

static const char *const sqlerr_abort[] = {
	SQLERR_EXT(SQLITE_ABORT_ROLLBACK),
};

static const char *const sqlerr_busy[] = {
	SQLERR_EXT(SQLITE_BUSY_RECOVERY),
	SQLERR_EXT(SQLITE_BUSY_SNAPSHOT),
	SQLERR_EXT(SQLITE_BUSY_TIMEOUT),
};

static const char *const sqlerr_locked[] = {
	SQLERR_EXT(SQLITE_LOCKED_SHAREDCACHE),
	SQLERR_EXT(SQLITE_LOCKED_VTAB),
};

static const char *const sqlerr_readonly[] = {
	SQLERR_EXT(SQLITE_READONLY_RECOVERY),
	SQLERR_EXT(SQLITE_READONLY_CANTLOCK),
	SQLERR_EXT(SQLITE_READONLY_ROLLBACK),
	SQLERR_EXT(SQLITE_READONLY_DBMOVED),
	SQLERR_EXT(SQLITE_READONLY_CANTINIT),
	SQLERR_EXT(SQLITE_READONLY_DIRECTORY),
};

static const char *const sqlerr_ioerr[] = {
	SQLERR_EXT(SQLITE_IOERR_READ),
	SQLERR_EXT(SQLITE_IOERR_SHORT_READ),
	SQLERR_EXT(SQLITE_IOERR_WRITE),
	SQLERR_EXT(SQLITE_IOERR_FSYNC),
	SQLERR_EXT(SQLITE_IOERR_DIR_FSYNC),
	SQLERR_EXT(SQLITE_IOERR_TRUNCATE),
	SQLERR_EXT(SQLITE_IOERR_FSTAT),
	SQLERR_EXT(SQLITE_IOERR_UNLOCK),
	SQLERR_EXT(SQLITE_IOERR_RDLOCK),
	SQLERR_EXT(SQLITE_IOERR_DELETE),
	SQLERR_EXT(SQLITE_IOERR_BLOCKED),
	SQLERR_EXT(SQLITE_IOERR_NOMEM),
	SQLERR_EXT(SQLITE_IOERR_ACCESS),
	SQLERR_EXT(SQLITE_IOERR_CHECKRESERVEDLOCK),
	SQLERR_EXT(SQLITE_IOERR_LOCK),
	SQLERR_EXT(SQLITE_IOERR_CLOSE),
	SQLERR_EXT(SQLITE_IOERR_DIR_CLOSE),
	SQLERR_EXT(SQLITE_IOERR_SHMOPEN),
	SQLERR_EXT(SQLITE_IOERR_SHMSIZE),
	SQLERR_EXT(SQLITE_IOERR_SHMLOCK),
	SQLERR_EXT(SQLITE_IOERR_SHMMAP),
	SQLERR_EXT(SQLITE_IOERR_SEEK),
	SQLERR_EXT(SQLITE_IOERR_DELETE_NOENT),
	SQLERR_EXT(SQLITE_IOERR_MMAP),
	SQLERR_EXT(SQLITE_IOERR_GETTEMPPATH),
	SQLERR_EXT(SQLITE_IOERR_CONVPATH),
	SQLERR_EXT(SQLITE_IOERR_VNODE),
	SQLERR_EXT(SQLITE_IOERR_AUTH),
	SQLERR_EXT(SQLITE_IOERR_BEGIN_ATOMIC),
	SQLERR_EXT(SQLITE_IOERR_COMMIT_ATOMIC),
	SQLERR_EXT(SQLITE_IOERR_ROLLBACK_ATOMIC),
	SQLERR_EXT(SQLITE_IOERR_DATA),
	SQLERR_EXT(SQLITE_IOERR_CORRUPTFS),
};

static const char *const sqlerr_corrupt[] = {
	SQLERR_EXT(SQLITE_CORRUPT_VTAB),
	SQLERR_EXT(SQLITE_CORRUPT_SEQUENCE),
	SQLERR_EXT(SQLITE_CORRUPT_INDEX),
};

static const char *const sqlerr_cantopen[] = {
	SQLERR_EXT(SQLITE_CANTOPEN_NOTEMPDIR),
	SQLERR_EXT(SQLITE_CANTOPEN_ISDIR),
	SQLERR_EXT(SQLITE_CANTOPEN_FULLPATH),
	SQLERR_EXT(SQLITE_CANTOPEN_CONVPATH),
	SQLERR_EXT(SQLITE_CANTOPEN_DIRTYWAL),
	SQLERR_EXT(SQLITE_CANTOPEN_SYMLINK),
};

static const char *const sqlerr_constraint[] = {
	SQLERR_EXT(SQLITE_CONSTRAINT_CHECK),
	SQLERR_EXT(SQLITE_CONSTRAINT_COMMITHOOK),
	SQLERR_EXT(SQLITE_CONSTRAINT_FOREIGNKEY),
	SQLERR_EXT(SQLITE_CONSTRAINT_FUNCTION),
	SQLERR_EXT(SQLITE_CONSTRAINT_NOTNULL),
	SQLERR_EXT(SQLITE_CONSTRAINT_PRIMARYKEY),
	SQLERR_EXT(SQLITE_CONSTRAINT_TRIGGER),
	SQLERR_EXT(SQLITE_CONSTRAINT_UNIQUE),
	SQLERR_EXT(SQLITE_CONSTRAINT_VTAB),
	SQLERR_EXT(SQLITE_CONSTRAINT_ROWID),
	SQLERR_EXT(SQLITE_CONSTRAINT_PINNED),
	SQLERR_EXT(SQLITE_CONSTRAINT_DATATYPE),
};

static const char *const sqlerr_notice[] = {
	SQLERR_EXT(SQLITE_NOTICE_RECOVER_WAL),
	SQLERR_EXT(SQLITE_NOTICE_RECOVER_ROLLBACK),
};

static const char *const sqlerr_warning[] = {
	SQLERR_EXT(SQLITE_WARNING_AUTOINDEX),
};

static const char *const sqlerr_auth[] = {
	SQLERR_EXT(SQLITE_AUTH_USER),
};

/* the variants of one primary code, indexed by variant number */
struct sqlerr_variants {
	const char *const *names;
	size_t n;
};

#define SQLERR_VARIANTS(c, v) [c] = { v, ARRAY_SIZE(v) }

static const struct sqlerr_variants sqlerr_variants[] = {
	SQLERR_VARIANTS(SQLITE_OK, sqlerr_ok),
	SQLERR_VARIANTS(SQLITE_ERROR, sqlerr_error),
	SQLERR_VARIANTS(SQLITE_ABORT, sqlerr_abort),
	SQLERR_VARIANTS(SQLITE_BUSY, sqlerr_busy),
	SQLERR_VARIANTS(SQLITE_LOCKED, sqlerr_locked),
	SQLERR_VARIANTS(SQLITE_READONLY, sqlerr_readonly),
	SQLERR_VARIANTS(SQLITE_IOERR, sqlerr_ioerr),
	SQLERR_VARIANTS(SQLITE_CORRUPT, sqlerr_corrupt),
	SQLERR_VARIANTS(SQLITE_CANTOPEN, sqlerr_cantopen),
	SQLERR_VARIANTS(SQLITE_CONSTRAINT, sqlerr_constraint),
	SQLERR_VARIANTS(SQLITE_NOTICE, sqlerr_notice),
	SQLERR_VARIANTS(SQLITE_WARNING, sqlerr_warning),
	SQLERR_VARIANTS(SQLITE_AUTH, sqlerr_auth),
};

/**
 * sqlerr_name - the symbolic name of a result code
 * @code: a primary or extended result code
 *
 * Returns "SQLITE_CONSTRAINT_UNIQUE" for an extended code,
 * "SQLITE_CONSTRAINT" for a primary one, "SQLITE_UNKNOWN" for a code
 * SQLite 3.40 does not define.  The string is static.
 */
const char *sqlerr_name(int code)
{
	unsigned int primary = (unsigned int)code & 0xff;
	unsigned int variant = (unsigned int)code >> 8;
	const char *name = NULL;

	if (code < 0 || code > 0xffff || primary >= ARRAY_SIZE(sqlerr_primary))
		return "SQLITE_UNKNOWN";
	if (!variant)
		name = sqlerr_primary[primary];
	else if (primary < ARRAY_SIZE(sqlerr_variants) &&
		 variant < sqlerr_variants[primary].n)
		name = sqlerr_variants[primary].names[variant];
	return name ? name : "SQLITE_UNKNOWN";
}

static const struct sqlerr_http sqlerr_internal = { 500, "internal", false,
						    false };

/* by primary code: status, code, retry, storage; status 0 means internal */
static const struct sqlerr_http sqlerr_by_primary[] = {
	[SQLITE_CONSTRAINT] = { 400, "constraint", false, false },
	[SQLITE_BUSY] = { 503, "lock_timeout", true, false },
	[SQLITE_LOCKED] = { 503, "lock_timeout", true, false },
	[SQLITE_INTERRUPT] = { 503, "statement_timeout", true, false },
	[SQLITE_FULL] = { 503, "storage_full", true, true },
	[SQLITE_READONLY] = { 503, "read_only", true, true },
	[SQLITE_IOERR] = { 503, "io_error", true, true },
	[SQLITE_CANTOPEN] = { 503, "io_error", true, true },
};

/* constraint violations about a row's identity: the request conflicts */
static const int sqlerr_conflicts[] = {
	SQLITE_CONSTRAINT_UNIQUE,
	SQLITE_CONSTRAINT_PRIMARYKEY,
	SQLITE_CONSTRAINT_FOREIGNKEY,
	SQLITE_CONSTRAINT_ROWID,
};

static const struct sqlerr_http sqlerr_conflict = { 409, "conflict", false,
						    false };

static bool sqlerr_is_conflict(int code)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sqlerr_conflicts); i++) {
		if (code == sqlerr_conflicts[i])
			return true;
	}
	return false;
}

/**
 * sqlerr_to_http - DESIGN.md's error table for an extended result code
 * @code: the extended result code of the failure
 * @out:  status, error code and flags
 *
 * NOT NULL, CHECK, datatype and every other constraint -> 400 constraint;
 * UNIQUE, PRIMARY KEY, FOREIGN KEY and rowid -> 409 conflict; BUSY and
 * LOCKED (all variants) -> 503 lock_timeout; INTERRUPT -> 503
 * statement_timeout; FULL -> 503 storage_full; READONLY (all) -> 503
 * read_only; IOERR (all) and CANTOPEN (all) -> 503 io_error; anything
 * else 500 internal.  Every 503 sets retry; the last three set storage.
 */
void sqlerr_to_http(int code, struct sqlerr_http *out)
{
	unsigned int primary = (unsigned int)code & 0xff;

	if (sqlerr_is_conflict(code))
		*out = sqlerr_conflict;
	else if (primary < ARRAY_SIZE(sqlerr_by_primary) &&
		 sqlerr_by_primary[primary].status)
		*out = sqlerr_by_primary[primary];
	else
		*out = sqlerr_internal;
}
