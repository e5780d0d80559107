/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/log.h - the error log: pr_err() ... pr_debug()
 *
 * Each line is "TIME LEVEL [PID] ROLE: message\n", written with a single
 * write(2) to an O_APPEND descriptor, so lines of the master and of every
 * worker never interleave.  The level is checked before the arguments are
 * evaluated.  A file may define pr_fmt(fmt) before its includes to prefix
 * every message, as in the kernel.
 *
 * The log configuration (level, fd, role) is process-global, set by the
 * main thread; log_write() itself is safe from any thread.  Never call it
 * from a signal handler.
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

extern int log_level; /* messages above this level are dropped */

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

#define log_enabled(lvl) ((lvl) <= log_level)

#define pr_level(lvl, fmt, ...)                                        \
	do {                                                           \
		if (log_enabled(lvl))                                  \
			log_write(lvl, 0, pr_fmt(fmt), ##__VA_ARGS__); \
	} while (0)

#define pr_err(fmt, ...) pr_level(LOG_LEVEL_ERR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) pr_level(LOG_LEVEL_WARN, fmt, ##__VA_ARGS__)
#define pr_notice(fmt, ...) pr_level(LOG_LEVEL_NOTICE, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) pr_level(LOG_LEVEL_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) pr_level(LOG_LEVEL_DEBUG, fmt, ##__VA_ARGS__)

/* @err is a negative errno; ": strerror(-err)" is appended */
#define pr_errno(lvl, err, fmt, ...)                                     \
	do {                                                             \
		if (log_enabled(lvl))                                    \
			log_write(lvl, err, pr_fmt(fmt), ##__VA_ARGS__); \
	} while (0)
#define pr_err_errno(err, fmt, ...) \
	pr_errno(LOG_LEVEL_ERR, err, fmt, ##__VA_ARGS__)
#define pr_warn_errno(err, fmt, ...) \
	pr_errno(LOG_LEVEL_WARN, err, fmt, ##__VA_ARGS__)

/* at most one message a second from this call site (hot paths) */
#define pr_level_ratelimited(lvl, err, fmt, ...)                         \
	do {                                                             \
		static uint64_t log_rl_last_;                            \
		if (log_enabled(lvl) && log_ratelimit_ok(&log_rl_last_)) \
			log_write(lvl, err, pr_fmt(fmt), ##__VA_ARGS__); \
	} while (0)
#define pr_warn_ratelimited(fmt, ...) \
	pr_level_ratelimited(LOG_LEVEL_WARN, 0, fmt, ##__VA_ARGS__)
#define pr_warn_errno_ratelimited(err, fmt, ...) \
	pr_level_ratelimited(LOG_LEVEL_WARN, err, fmt, ##__VA_ARGS__)

/* only the first time this call site runs */
#define pr_level_once(lvl, fmt, ...)                                   \
	do {                                                           \
		static bool log_once_done_;                            \
		if (log_enabled(lvl) && !log_once_done_) {             \
			log_once_done_ = true;                         \
			log_write(lvl, 0, pr_fmt(fmt), ##__VA_ARGS__); \
		}                                                      \
	} while (0)
#define pr_warn_once(fmt, ...) pr_level_once(LOG_LEVEL_WARN, fmt, ##__VA_ARGS__)

/**
 * log_write - format and write one line (use the pr_* macros instead)
 * @level: its level, which names it in the line
 * @err:   0, or a negative errno whose text is appended
 */
void log_write(int level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* true at most once a second per @last (a call site's own timestamp) */
bool log_ratelimit_ok(uint64_t *last);

/*
 * log_open - send the log to @path: "-" is stderr, "" turns it off,
 * anything else is opened O_APPEND (created 0640).  Returns 0 or a
 * negative errno (the previous destination stays).
 */
int log_open(const char *path);

/* reopen the current file (SIGUSR1, after log rotation); 0 or -errno */
int log_reopen(void);

/* the file descriptor lines go to, -1 when off; for chown and dup2 */
int log_fd(void);

/* the role in every line: "master", "worker 3", "poold -t" ... */
void log_set_role(const char *role);

/* the level name used in lines and in the configuration */
const char *log_level_name(int level);

#endif /* LIB_LOG_H */
