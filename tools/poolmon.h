/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tools/poolmon.h - the parts of poolmon shared by its files
 *
 * poolmon.c:        command line, the segment (attach, re-attach,
 *                   snapshots), signals, the --once/--json/--prometheus
 *                   loops
 * poolmon_model.c:  the figures of one interval, from two snapshots
 * poolmon_render.c: the summary, header, totals and the three tables, into
 *                   a line sink (plain text or curses)
 * poolmon_json.c:   one --json document
 * poolmon_live.c:   the curses live view
 *
 * One process, one thread.  The only globals are the signal flags.
 */
#ifndef TOOLS_POOLMON_H
#define TOOLS_POOLMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "shm/shm.h"
#include "shm/snapshot.h"

#define POOLMON_INTERVAL_MS 1000
#define POOLMON_INTERVAL_MIN_MS 50
#define POOLMON_WHY 320

/* set by the handlers (SIGINT, SIGTERM, SIGHUP / SIGWINCH); the loop acts */
extern volatile sig_atomic_t poolmon_sig_quit;
extern volatile sig_atomic_t poolmon_sig_winch;

/* the segment, followed across restarts of the server */
struct poolmon_src {
	char name[256]; /* POSIX shm name, "/poold" */
	struct shm_seg seg;
	bool attached;
	int32_t master_pid;    /* of the attached segment */
	ino_t ino;	       /* of /dev/shm/NAME when attached */
	char why[POOLMON_WHY]; /* why no snapshot: one line for people */
	struct shm_snap *prev; /* owned: the older snapshot */
	struct shm_snap *cur;  /* owned: the newer */
	struct shm_snap *next; /* owned: the one being taken */
	bool have_prev;	       /* prev and cur are of the same master */
	bool have_cur;
};

/* per database, per interval */
struct poolmon_db_row {
	const struct shm_snap_db *d; /* borrowed */
	double timeouts_ps;	     /* acquire timeouts per second */
	double gate_waits_ps;
	double gate_wait_avg_s; /* of the interval's waits, 0 = none */
	double acquire_wait_avg_s;
	double busy_ps; /* SQLITE_BUSY events of every kind */
};

/* per live worker, per interval */
struct poolmon_worker_row {
	const struct shm_snap_slot *s; /* borrowed */
	uint64_t requests;	       /* since it started */
	double req_ps;
	double share; /* of the workers' requests in the interval */
};

/* per route id, per interval */
struct poolmon_route_row {
	const struct shm_snap_route *r; /* borrowed */
	uint32_t index;
	double req_ps;
	double p50_s; /* of the interval's requests, 0 = none */
	double p99_s;
};

/* what every output shows: one snapshot and the rates since the one before */
struct poolmon_model {
	const struct shm_snap *s; /* borrowed: the newer snapshot */
	double dt_s;		  /* 0 without an older one: rates are 0 */
	double req_ps;
	double p50_s;
	double p99_s;
	double e4_ps;
	double e5_ps;
	/* the summary line: pools summed over databases */
	uint32_t pool_size;
	uint32_t pool_in_use;
	uint32_t pool_idle;
	uint32_t pool_waiters;
	double maxwait_s; /* the largest */
	double gate_waits_ps;
	double busy_ps;
	uint32_t lq; /* accept queues of the TCP listeners */
	uint32_t backlog;

	struct poolmon_db_row dbs[SHM_MAX_DBS];
	unsigned int ndbs;
	struct poolmon_worker_row workers[SHM_SNAP_MAX_SLOTS];
	unsigned int nworkers;
	struct poolmon_route_row routes[SHM_MAX_ROUTES];
	unsigned int nroutes;
};

enum poolmon_view {
	POOLMON_VIEW_DB = 0,
	POOLMON_VIEW_WORKER,
	POOLMON_VIEW_ROUTE,
	POOLMON_VIEW_COUNT,
};

/* how a piece of a line is shown (curses attributes; plain text ignores) */
enum poolmon_attr {
	POOLMON_A_NORMAL = 0,
	POOLMON_A_SUMMARY,
	POOLMON_A_TITLE,
	POOLMON_A_HEAD,
	POOLMON_A_SORT, /* the sorted column's title */
	POOLMON_A_ALERT,
};

struct poolmon_sink;
typedef void poolmon_put_fn(struct poolmon_sink *k, enum poolmon_attr a,
			    const char *text);
typedef void poolmon_end_fn(struct poolmon_sink *k);

/* where lines go: put() appends to the current line, end() finishes it */
struct poolmon_sink {
	poolmon_put_fn *put;
	poolmon_end_fn *end;
	void *ctx; /* borrowed: the sink's own state */
};

/* poolmon.c */
int poolmon_src_init(struct poolmon_src *src, const char *name);
void poolmon_src_destroy(struct poolmon_src *src);
int poolmon_src_tick(struct poolmon_src *src);
int poolmon_wait(const sigset_t *waitmask, int fd, long long deadline_ms);
long long poolmon_now_ms(void);

/* poolmon_model.c */
void poolmon_model_build(struct poolmon_model *m, const struct shm_snap *prev,
			 const struct shm_snap *cur);
const char *poolmon_state_name(uint32_t state);
const char *poolmon_slot_state_name(uint32_t state);
double poolmon_finite_s(double v);

/* poolmon_render.c */
void poolmon_putf(struct poolmon_sink *k, enum poolmon_attr a, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));
void poolmon_render_summary(struct poolmon_sink *k,
			    const struct poolmon_model *m);
void poolmon_render_header(struct poolmon_sink *k,
			   const struct poolmon_model *m);
void poolmon_render_totals(struct poolmon_sink *k,
			   const struct poolmon_model *m);
void poolmon_render_table(struct poolmon_sink *k, const struct poolmon_model *m,
			  enum poolmon_view v, unsigned int sort,
			  unsigned int max_rows);
unsigned int poolmon_view_ncols(enum poolmon_view v);
const char *poolmon_view_col(enum poolmon_view v, unsigned int col);
const char *poolmon_view_name(enum poolmon_view v);
int poolmon_text_print(FILE *f, const struct poolmon_model *m);

/* poolmon_json.c */
int poolmon_json_print(FILE *f, const struct poolmon_model *m);

/* poolmon_live.c */
int poolmon_live_run(struct poolmon_src *src, unsigned int interval_ms,
		     const sigset_t *waitmask);

#endif /* TOOLS_POOLMON_H */
