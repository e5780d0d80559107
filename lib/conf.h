/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/conf.h - the configuration file, parsed into one immutable struct
 *
 * conf_load() reads a libconfig file into a struct conf.  Every value is
 * typed and range-checked, defaults are filled in, and every relative path is
 * resolved once against the directory of the configuration file (made
 * absolute first, so a later chdir("/") by the daemon changes nothing).
 *
 * Errors are collected, not printed: libconfig stops at its first syntax
 * error, every later check (unknown keys, wrong types, out-of-range values,
 * duplicate routes, unknown databases) is reported all at once, each with
 * the file, line and reason.  Checks that need SQLite (statements, schemas)
 * are server/validate.c's and join the same list (conf_errs_add).
 *
 * A loaded struct conf is never modified.  A reload loads a new one and
 * swaps it whole.  No threads, no global state: safe in any process.
 */
#ifndef LIB_CONF_H
#define LIB_CONF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define CONF_DEFAULT_LOCAL "./conf/poold.conf"
#define CONF_DEFAULT_SYSTEM "/etc/poold/poold.conf"

/* log levels, most severe first; a message is written if level <= conf */
enum conf_log_level {
	CONF_LOG_ERR = 0,
	CONF_LOG_WARN,
	CONF_LOG_NOTICE,
	CONF_LOG_INFO,
	CONF_LOG_DEBUG,
};

/* one listening address, already resolved */
struct conf_listen {
	char *spec;		      /* owned: as written, e.g. "[::1]:8080" */
	int line;		      /* where it was written */
	int family;		      /* AF_INET, AF_INET6 or AF_UNIX */
	struct sockaddr_storage addr; /* family, address and port */
	socklen_t addrlen;
	char *path; /* owned: AF_UNIX only, absolute */
};

struct conf_log {
	enum conf_log_level level; /* "error" "warn" "notice" "info" "debug" */
	char *file;		   /* owned: absolute path, "-" = stderr */
	char *access_log;	   /* owned: absolute path, "-", or "" (off) */
	bool redact_query;
};

struct conf_limits {
	uint32_t max_connections; /* per worker */
	uint32_t header_timeout_ms;
	uint32_t body_timeout_ms;
	uint32_t write_timeout_ms;
	uint32_t keepalive_timeout_ms;
	uint32_t max_header_bytes;
	uint64_t max_body_bytes;
	uint64_t max_response_bytes;
};

struct conf_shutdown {
	uint32_t grace_ms;
	uint32_t drain_timeout_ms;
};

/* databases[].pool */
struct conf_pool {
	uint32_t size; /* connections (executor threads) per worker */
	uint32_t acquire_timeout_ms; /* longest wait in the request queue */
	uint32_t max_waiters;	     /* queue bound: beyond it, 503 pool_full */
	uint32_t max_lifetime_s;     /* a connection is reopened after this */
};

/* one entry of databases */
struct conf_db {
	char *name;	    /* owned */
	int line;	    /* of the group */
	char *path;	    /* owned: absolute */
	char *schema;	    /* owned: absolute path, NULL = none */
	int schema_line;    /* of the schema key */
	char *journal_mode; /* owned: "wal" "delete" "truncate" "persist" */
	char *synchronous;  /* owned: "off" "normal" "full" "extra" */
	bool foreign_keys;
	uint32_t cache_size_kb; /* per connection */
	uint32_t busy_timeout_ms;
	uint32_t statement_timeout_ms; /* 0 = no limit */
	uint32_t wal_limit_mb;
	uint32_t checkpoint_interval_ms;
	struct conf_pool pool;
};

/* the status a statement answers when it finds or changes no row */
struct conf_stmt {
	char *sql; /* owned */
	int line;
	int on_empty; /* 0, or 401 403 404 409 422 */
};

enum conf_result {
	CONF_RESULT_MANY = 0, /* a JSON array of row objects */
	CONF_RESULT_ONE,      /* the first row, 404 if none */
	CONF_RESULT_EXEC,     /* {"changes":N,"last_insert_id":M} */
};

enum conf_type {
	CONF_TYPE_ANY = 0, /* bound as it came */
	CONF_TYPE_INT,
	CONF_TYPE_REAL,
	CONF_TYPE_TEXT,
	CONF_TYPE_BOOL,
	CONF_TYPE_BLOB, /* from base64 */
};

/* types = { name = "int"; } */
struct conf_param_type {
	char *name; /* owned: parameter name, no ':' */
	enum conf_type type;
	int line;
};

/* headers = { tenant = "X-Tenant"; } */
struct conf_header_param {
	char *param;  /* owned: parameter name */
	char *header; /* owned: header field name */
	int line;
};

/* one entry of routes */
struct conf_route {
	int line;	       /* of the group */
	char *method;	       /* owned: "GET", "POST", ... as written */
	char *path;	       /* owned: template, "/items/{id}" */
	char *db;	       /* owned: database name */
	unsigned int db_index; /* index of that database in conf->dbs */
	struct conf_stmt *sql; /* owned: nsql >= 1 statements, one transaction */
	unsigned int nsql;
	struct conf_stmt *before; /* owned: read-only statements run first */
	unsigned int nbefore;
	enum conf_result result;
	int status;		       /* of a success, 200 by default */
	unsigned int result_from;      /* 1-based statement; 0 = the last */
	struct conf_param_type *types; /* owned */
	unsigned int ntypes;
	char **optional; /* owned: parameter names that may be NULL */
	unsigned int noptional;
	struct conf_header_param *headers; /* owned */
	unsigned int nheaders;
	bool has_page;
	uint32_t page_default; /* :limit when the query gives none */
	uint32_t page_max;     /* :limit is clamped to this */
};

struct conf {
	char *path; /* owned: absolute path of the file */
	char *dir;  /* owned: its directory, absolute */

	struct conf_listen *listen; /* owned: nlisten entries, >= 1 */
	unsigned int nlisten;
	struct conf_listen *status_listen; /* owned: NULL when not set */

	uint32_t workers; /* as written; 0 = CPUs we may run on */
	uint32_t max_workers;
	int32_t backlog;
	char *pidfile;	/* owned: absolute */
	char *shm_name; /* owned: "/name" */
	char *user;	/* owned: "" = do not change user */
	uid_t uid;	/* of user, when user is not "" */
	gid_t gid;
	uint64_t rlimit_nofile; /* 0 = raise soft limit to hard limit */
	uint32_t worker_timeout_s;
	uint32_t reload_timeout_ms;
	bool debug_functions;

	struct conf_log log;
	struct conf_limits limits;
	struct conf_shutdown shutdown;

	struct conf_db *dbs; /* owned: ndbs databases */
	unsigned int ndbs;
	struct conf_route *routes; /* owned: nroutes routes, in file order */
	unsigned int nroutes;
};

/* one problem found in a configuration file */
struct conf_err {
	char *file;   /* owned */
	int line;     /* 0 when no line applies */
	char *reason; /* owned */
};

struct conf_errs {
	struct conf_err *v; /* owned: n entries */
	unsigned int n;
	unsigned int cap;
};

/**
 * conf_load - read and check a configuration file
 * @c:    filled on success; zeroed and safe for conf_destroy() on failure
 * @path: the file; relative paths in it resolve against its directory
 * @errs: caller-initialised (zeroed) list; every problem is appended
 *
 * Returns 0, -EINVAL when the file has problems (all of them in @errs),
 * or another negative errno (the file cannot be read: also in @errs).
 */
int conf_load(struct conf *c, const char *path, struct conf_errs *errs);

/* Free everything conf_load() built; safe on a zeroed or destroyed conf. */
void conf_destroy(struct conf *c);

/**
 * conf_errs_add - append a problem to @errs
 * @file: the file it is in
 * @line: its line, 0 when none applies
 *
 * Returns 0 or -ENOMEM.
 */
int conf_errs_add(struct conf_errs *errs, const char *file, int line,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* the same with a va_list */
int conf_errs_vadd(struct conf_errs *errs, const char *file, int line,
		   const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* Free the list; safe to call twice. */
void conf_errs_destroy(struct conf_errs *errs);

/*
 * The file poold and poolmon read without -c: CONF_DEFAULT_LOCAL if it
 * exists, else CONF_DEFAULT_SYSTEM.
 */
const char *conf_default_path(void);

/* "info" for CONF_LOG_INFO, and so on */
const char *conf_log_level_name(enum conf_log_level level);

#endif /* LIB_CONF_H */
