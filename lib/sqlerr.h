/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/sqlerr.h - SQLite result codes: names, and what HTTP says for them
 *
 * poold's own table of every SQLite (extended) result code name, so an
 * error response can carry "sqlite":"SQLITE_CONSTRAINT_UNIQUE" whatever
 * the library version, and the mapping of DESIGN.md's error table from a
 * result code to an HTTP status and an error code.
 *
 * Pure functions over constant tables; safe in any thread.
 */
#ifndef LIB_SQLERR_H
#define LIB_SQLERR_H

#include <stdbool.h>

/*
 * sqlerr_name - "SQLITE_CONSTRAINT_UNIQUE" for an extended result code,
 * "SQLITE_CONSTRAINT" for a primary one, "SQLITE_UNKNOWN" otherwise
 */
const char *sqlerr_name(int code);

struct sqlerr_http {
	int status;	  /* 400, 409, 500, 503 */
	const char *code; /* "constraint", "conflict", "internal",
				 * "lock_timeout", "statement_timeout",
				 * "storage_full", "read_only", "io_error" */
	bool retry;	  /* 503: send Retry-After */
	bool storage;	  /* a storage fault: /readyz turns 503 */
};

/**
 * sqlerr_to_http - DESIGN.md's error table for an extended result code
 * @code: the extended result code of the failure
 * @out:  status, error code and flags
 *
 * NOT NULL, CHECK and datatype constraints -> 400 constraint; UNIQUE,
 * PRIMARY KEY and FOREIGN KEY -> 409 conflict; BUSY and LOCKED (all
 * variants) -> 503 lock_timeout; INTERRUPT -> 503 statement_timeout;
 * FULL -> 503 storage_full; READONLY (all) -> 503 read_only; IOERR (all)
 * and CANTOPEN -> 503 io_error; anything else 500 internal.
 */
void sqlerr_to_http(int code, struct sqlerr_http *out);

#endif /* LIB_SQLERR_H */
