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
 * keys of features that are not built yet) is reported all at once, each
 * with the file, line and reason.
 *
 * A loaded struct conf is never modified.  A reload loads a new one and
 * swaps it whole.  No threads, no global state: safe in any process.
 */
#ifndef LIB_CONF_H
#define LIB_CONF_H

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
