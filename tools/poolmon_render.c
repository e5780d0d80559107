// SPDX-License-Identifier: BSD-2-Clause
/*
 * tools/poolmon_render.c - the sections poolmon shows, into a line sink
 *
 * The live view and --once print the same sections: the summary line, the
 * header, the totals, and the database, worker and route tables.  Each
 * section is written as pieces of lines with an attribute into a sink
 * (struct poolmon_sink): the plain-text sink here ignores attributes, the
 * curses sink of poolmon_live.c maps them to video attributes and clips
 * at the screen's edge.
 *
 * A table is built as rows of formatted cells, each with a numeric sort
 * key per column, then sorted by the chosen column: names ascending,
 * numbers descending (largest first, as top does), slot and pid
 * ascending; ties keep the snapshot's order.
 */
#include "tools/poolmon.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"

#define POOLMON_MAXCOLS 16
#define POOLMON_CELL 24
#define POOLMON_LONG_MAX 60 /* widest name or id column */

#define POOLMON_LEFT 1u /* text: left-aligned, sorted ascending */
#define POOLMON_ASC 2u	/* a number sorted ascending */
#define POOLMON_LONG 4u /* the text is the row's long string */

struct poolmon_col {
	const char *title;
	unsigned int width;
	unsigned int flags;
};

struct poolmon_row {
	unsigned int ord;	     /* in the snapshot, for stable ties */
	const char *text;	     /* borrowed: the POOLMON_LONG column */
	double key[POOLMON_MAXCOLS]; /* sort keys of number columns */
	char cell[POOLMON_MAXCOLS][POOLMON_CELL];
};

static const struct poolmon_col poolmon_db_cols[] = {
	{ "DB", 2, POOLMON_LEFT | POOLMON_LONG },
	{ "SIZE", 5, 0 },
	{ "INUSE", 5, 0 },
	{ "IDLE", 5, 0 },
	{ "WAIT", 5, 0 },
	{ "PEAK", 5, 0 },
	{ "MAXWAIT", 8, 0 },
	{ "ACQ AVG", 8, 0 },
	{ "ACQ MAX", 8, 0 },
	{ "TMO/S", 6, 0 },
	{ "LOCKW/S", 7, 0 },
	{ "LOCK AVG", 8, 0 },
	{ "LOCK MAX", 8, 0 },
	{ "BUSY/S", 6, 0 },
	{ "WAL", 7, 0 },
};

static const struct poolmon_col poolmon_worker_cols[] = {
	{ "SLOT", 4, POOLMON_ASC },
	{ "PID", 7, POOLMON_ASC },
	{ "GEN", 4, 0 },
	{ "STATE", 8, POOLMON_LEFT },
	{ "READ", 5, 0 },
	{ "WRITE", 5, 0 },
	{ "IDLE", 5, 0 },
	{ "INFL", 5, 0 },
	{ "REQ/S", 8, 0 },
	{ "SHARE", 6, 0 },
	{ "REQUESTS", 9, 0 },
	{ "EXECUTORS", 9, POOLMON_LEFT | POOLMON_LONG },
};

static const struct poolmon_col poolmon_route_cols[] = {
	{ "ROUTE", 5, POOLMON_LEFT | POOLMON_LONG },
	{ "REQ/S", 8, 0 },
	{ "2XX", 9, 0 },
	{ "3XX", 9, 0 },
	{ "4XX", 9, 0 },
	{ "5XX", 9, 0 },
	{ "P50", 8, 0 },
	{ "P99", 8, 0 },
};

static const struct {
	const char *name;
	const struct poolmon_col *cols;
	unsigned int ncols;
} poolmon_views[POOLMON_VIEW_COUNT] = {
	[POOLMON_VIEW_DB] = { "databases", poolmon_db_cols,
			      ARRAY_SIZE(poolmon_db_cols) },
	[POOLMON_VIEW_WORKER] = { "workers", poolmon_worker_cols,
				  ARRAY_SIZE(poolmon_worker_cols) },
	[POOLMON_VIEW_ROUTE] = { "routes", poolmon_route_cols,
				 ARRAY_SIZE(poolmon_route_cols) },
};

_Static_assert(ARRAY_SIZE(poolmon_db_cols) <= POOLMON_MAXCOLS,
	       "too many columns");

/* the columns of view @v: how many, and the title of one */
unsigned int poolmon_view_ncols(enum poolmon_view v)
{
	return poolmon_views[v].ncols;
}

const char *poolmon_view_col(enum poolmon_view v, unsigned int col)
{
	return col < poolmon_views[v].ncols ? poolmon_views[v].cols[col].title :
					      "";
}

/* "databases", "workers", "routes" */
const char *poolmon_view_name(enum poolmon_view v)
{
	return poolmon_views[v].name;
}

/* printf into the sink; a piece longer than 511 bytes is cut */
void poolmon_putf(struct poolmon_sink *k, enum poolmon_attr a, const char *fmt,
		  ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	k->put(k, a, buf);
}

/* "%.1f" without a trailing ".0": 12, 0.3, 2.5 */
static const char *poolmon_fmt_num(char *buf, size_t size, double v)
{
	size_t n;

	if (v >= 9999.5) {
		snprintf(buf, size, "%.0f", v);
		return buf;
	}
	snprintf(buf, size, "%.1f", v);
	n = strlen(buf);
	if (n > 2 && !strcmp(buf + n - 2, ".0"))
		buf[n - 2] = '\0';
	return buf;
}

/* a duration: 0, 850us, 12.5ms, 1.25s */
static const char *poolmon_fmt_dur(char *buf, size_t size, double s)
{
	if (s <= 0)
		snprintf(buf, size, "0");
	else if (s < 1e-3)
		snprintf(buf, size, "%.0fus", s * 1e6);
	else if (s < 1)
		snprintf(buf, size, "%.1fms", s * 1e3);
	else
		snprintf(buf, size, "%.2fs", s);
	return buf;
}

/* a count that fits 9 columns: 123456789, then 1234.5M */
static const char *poolmon_fmt_count(char *buf, size_t size, uint64_t n)
{
	if (n < 1000000000)
		snprintf(buf, size, "%llu", (unsigned long long)n);
	else
		snprintf(buf, size, "%.1fM", (double)n / 1e6);
	return buf;
}

static const char *poolmon_fmt_bytes(char *buf, size_t size, uint64_t n)
{
	static const char units[] = "KMGTP";
	double v = (double)n;
	unsigned int u = 0;

	if (n < 1024) {
		snprintf(buf, size, "%lluB", (unsigned long long)n);
		return buf;
	}
	while ((v /= 1024) >= 1024 && u < sizeof(units) - 2)
		u++;
	snprintf(buf, size, "%.1f%c", v, units[u]);
	return buf;
}

/* 42s, 5m12s, 2h03m, 3d04h */
static const char *poolmon_fmt_uptime(char *buf, size_t size, uint64_t ns)
{
	unsigned long long s = ns / 1000000000;

	if (s < 60)
		snprintf(buf, size, "%llus", s);
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lluh%02llum", s / 3600, s / 60 % 60);
	else
		snprintf(buf, size, "%llud%02lluh", s / 86400, s / 3600 % 24);
	return buf;
}

/**
 * poolmon_render_summary - the one line that says whether the pools keep up
 *
 * pool IN_USE/SIZE idle N busy N waiting N maxwait S | lock waits N/s
 * busy N | lq QUEUE/BACKLOG
 */
void poolmon_render_summary(struct poolmon_sink *k,
			    const struct poolmon_model *m)
{
	char lw[32], busy[32];

	poolmon_putf(
		k, POOLMON_A_SUMMARY,
		"pool %u/%u idle %u busy %u waiting %u maxwait %.2fs | lock waits %s/s busy %s | lq %u/%u",
		m->pool_in_use, m->pool_size, m->pool_idle, m->pool_in_use,
		m->pool_waiters, m->maxwait_s,
		poolmon_fmt_num(lw, sizeof(lw), m->gate_waits_ps),
		poolmon_fmt_num(busy, sizeof(busy), m->busy_ps), m->lq,
		m->backlog);
	k->end(k);
}

/* "12:03:04 ok", "12:03:04 failed: why", "never" */
static void poolmon_put_reload(struct poolmon_sink *k, const struct shm_snap *s)
{
	time_t t = (time_t)(s->reload_unix_ns / 1000000000);
	char when[32];
	struct tm tm;

	if (s->reload_result == SHM_RELOAD_NONE || !s->reload_unix_ns) {
		k->put(k, POOLMON_A_NORMAL, "last reload never");
		return;
	}
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (s->reload_result == SHM_RELOAD_OK)
		poolmon_putf(k, POOLMON_A_NORMAL, "last reload %s ok", when);
	else
		poolmon_putf(k, POOLMON_A_ALERT, "last reload %s failed: %.*s",
			     when, SHM_TEXT, s->reload_msg);
}

/* master, uptime, generation, state, workers, listen queue, last reload */
void poolmon_render_header(struct poolmon_sink *k,
			   const struct poolmon_model *m)
{
	const struct shm_snap *s = m->s;
	char up[32];

	poolmon_putf(
		k, POOLMON_A_NORMAL,
		"master %d  up %s  generation %llu  %s  workers %u/%u  lq %u/%u  restarts %llu  ",
		(int)s->master_pid,
		poolmon_fmt_uptime(up, sizeof(up), s->uptime_ns),
		(unsigned long long)s->generation, poolmon_state_name(s->state),
		s->workers_alive, s->workers_expected, m->lq, m->backlog,
		(unsigned long long)s->worker_restarts);
	poolmon_put_reload(k, s);
	k->end(k);
}

/* req/s, p50/p99, 4xx/s, 5xx/s, connections by state, in flight */
void poolmon_render_totals(struct poolmon_sink *k,
			   const struct poolmon_model *m)
{
	char rps[32], p50[32], p99[32], e4[32], e5[32];
	const struct shm_snap *s = m->s;

	poolmon_putf(
		k, POOLMON_A_NORMAL,
		"req/s %s  p50 %s  p99 %s  4xx/s %s  5xx/s %s  conns r/w/i %u/%u/%u  inflight %u",
		poolmon_fmt_num(rps, sizeof(rps), m->req_ps),
		poolmon_fmt_dur(p50, sizeof(p50), m->p50_s),
		poolmon_fmt_dur(p99, sizeof(p99), m->p99_s),
		poolmon_fmt_num(e4, sizeof(e4), m->e4_ps),
		poolmon_fmt_num(e5, sizeof(e5), m->e5_ps), s->conns_reading,
		s->conns_writing, s->conns_idle, s->inflight);
	k->end(k);
}

/* cell @c of @r: @text, sorted by @key */
static void poolmon_cell(struct poolmon_row *r, unsigned int c, double key,
			 const char *text)
{
	r->key[c] = key;
	snprintf(r->cell[c], POOLMON_CELL, "%s", text);
}

static void poolmon_cell_u(struct poolmon_row *r, unsigned int c, uint64_t v)
{
	char b[POOLMON_CELL];

	poolmon_cell(r, c, (double)v, poolmon_fmt_count(b, sizeof(b), v));
}

static void poolmon_cell_rate(struct poolmon_row *r, unsigned int c, double v)
{
	char b[POOLMON_CELL];

	poolmon_cell(r, c, v, poolmon_fmt_num(b, sizeof(b), v));
}

static void poolmon_cell_dur(struct poolmon_row *r, unsigned int c, double s)
{
	char b[POOLMON_CELL];

	poolmon_cell(r, c, s, poolmon_fmt_dur(b, sizeof(b), s));
}

static void poolmon_row_db(struct poolmon_row *r,
			   const struct poolmon_db_row *x)
{
	const struct shm_snap_db *d = x->d;
	char b[POOLMON_CELL];

	r->text = d->name;
	poolmon_cell_u(r, 1, d->pool_size);
	poolmon_cell_u(r, 2, d->in_use);
	poolmon_cell_u(r, 3, d->idle);
	poolmon_cell_u(r, 4, d->waiters);
	poolmon_cell_u(r, 5, d->peak_waiters);
	poolmon_cell_dur(r, 6, (double)d->maxwait_ns / 1e9);
	poolmon_cell_dur(r, 7, x->acquire_wait_avg_s);
	poolmon_cell_dur(r, 8, (double)d->acquire_wait_ns_max / 1e9);
	poolmon_cell_rate(r, 9, x->timeouts_ps);
	poolmon_cell_rate(r, 10, x->gate_waits_ps);
	poolmon_cell_dur(r, 11, x->gate_wait_avg_s);
	poolmon_cell_dur(r, 12, (double)d->gate_wait_ns_max / 1e9);
	poolmon_cell_rate(r, 13, x->busy_ps);
	poolmon_cell(r, 14, (double)d->wal_bytes,
		     poolmon_fmt_bytes(b, sizeof(b), d->wal_bytes));
}

static void poolmon_row_worker(struct poolmon_row *r,
			       const struct poolmon_worker_row *x)
{
	const struct shm_snap_slot *s = x->s;
	char b[POOLMON_CELL];

	poolmon_cell_u(r, 0, s->index);
	poolmon_cell_u(r, 1, (uint64_t)(s->pid > 0 ? s->pid : 0));
	poolmon_cell_u(r, 2, s->generation);
	poolmon_cell(r, 3, 0, poolmon_slot_state_name(s->state));
	poolmon_cell_u(r, 4, s->conns_reading);
	poolmon_cell_u(r, 5, s->conns_writing);
	poolmon_cell_u(r, 6, s->conns_idle);
	poolmon_cell_u(r, 7, s->inflight);
	poolmon_cell_rate(r, 8, x->req_ps);
	snprintf(b, sizeof(b), "%.1f%%", x->share * 100);
	poolmon_cell(r, 9, x->share, b);
	poolmon_cell_u(r, 10, x->requests);
	r->text = s->execs;
}

static void poolmon_row_route(struct poolmon_row *r,
			      const struct poolmon_route_row *x)
{
	unsigned int i;

	r->text = x->r->id;
	poolmon_cell_rate(r, 1, x->req_ps);
	for (i = 1; i < 5; i++)
		poolmon_cell_u(r, 1 + i, x->r->req.requests[i]);
	poolmon_cell_dur(r, 6, x->p50_s);
	poolmon_cell_dur(r, 7, x->p99_s);
}

/* the rows of view @v, in the snapshot's order; how many */
static unsigned int poolmon_rows(const struct poolmon_model *m,
				 enum poolmon_view v, struct poolmon_row *rows)
{
	unsigned int i, n = 0;

	switch (v) {
	case POOLMON_VIEW_DB:
		for (n = 0; n < m->ndbs; n++)
			poolmon_row_db(&rows[n], &m->dbs[n]);
		break;
	case POOLMON_VIEW_WORKER:
		for (n = 0; n < m->nworkers; n++)
			poolmon_row_worker(&rows[n], &m->workers[n]);
		break;
	default:
		for (n = 0; n < m->nroutes; n++)
			poolmon_row_route(&rows[n], &m->routes[n]);
		break;
	}
	for (i = 0; i < n; i++)
		rows[i].ord = i;
	return n;
}

struct poolmon_sort {
	const struct poolmon_col *col;
	unsigned int c;
};

static int poolmon_row_cmp(const void *a, const void *b, void *arg)
{
	const struct poolmon_row *x = a, *y = b;
	const struct poolmon_sort *s = arg;
	unsigned int c = s->c;
	int d = 0;

	if (s->col->flags & POOLMON_LONG)
		d = strcmp(x->text, y->text);
	else if (s->col->flags & POOLMON_LEFT)
		d = strcmp(x->cell[c], y->cell[c]);
	else if (x->key[c] != y->key[c])
		d = x->key[c] < y->key[c] ? 1 : -1;
	if (s->col->flags & POOLMON_ASC)
		d = -d;
	if (!d)
		d = x->ord < y->ord ? -1 : x->ord > y->ord;
	return d;
}

/* the width of column @c over its title and every row */
static unsigned int poolmon_col_width(const struct poolmon_col *col,
				      const struct poolmon_row *rows,
				      unsigned int n)
{
	unsigned int w = col->width, i, len;

	if (!(col->flags & POOLMON_LONG))
		return w;
	if (strlen(col->title) > w)
		w = (unsigned int)strlen(col->title);
	for (i = 0; i < n; i++) {
		len = (unsigned int)strlen(rows[i].text);
		if (len > w)
			w = len;
	}
	return MIN(w, POOLMON_LONG_MAX);
}

static void poolmon_put_cell(struct poolmon_sink *k, enum poolmon_attr a,
			     const struct poolmon_col *col, unsigned int w,
			     const char *text, bool last)
{
	char buf[SHM_ROUTE_ID + SHM_MAX_EXECS + 8];

	if (last && (col->flags & POOLMON_LEFT))
		snprintf(buf, sizeof(buf), "%s", text);
	else if (col->flags & POOLMON_LEFT)
		snprintf(buf, sizeof(buf), "%-*.*s ", (int)w, (int)w, text);
	else
		snprintf(buf, sizeof(buf), "%*s%s", (int)w, text,
			 last ? "" : " ");
	k->put(k, a, buf);
}

static void poolmon_put_table(struct poolmon_sink *k, enum poolmon_view v,
			      unsigned int sort, const struct poolmon_row *rows,
			      unsigned int n, unsigned int max_rows)
{
	const struct poolmon_col *cols = poolmon_views[v].cols;
	unsigned int nc = poolmon_views[v].ncols, w[POOLMON_MAXCOLS], c, i;
	const char *text;

	for (c = 0; c < nc; c++)
		w[c] = poolmon_col_width(&cols[c], rows, n);
	for (c = 0; c < nc; c++)
		poolmon_put_cell(k, c == sort ? POOLMON_A_SORT : POOLMON_A_HEAD,
				 &cols[c], w[c], cols[c].title, c == nc - 1);
	k->end(k);
	for (i = 0; i < n && (!max_rows || i < max_rows); i++) {
		for (c = 0; c < nc; c++) {
			text = cols[c].flags & POOLMON_LONG ? rows[i].text :
							      rows[i].cell[c];
			poolmon_put_cell(k, POOLMON_A_NORMAL, &cols[c], w[c],
					 text, c == nc - 1);
		}
		k->end(k);
	}
	if (!n) {
		k->put(k, POOLMON_A_NORMAL, "(none)");
		k->end(k);
	}
}

/**
 * poolmon_render_table - a header line and one line per row of view @v
 * @k:        the sink
 * @m:        the interval
 * @v:        databases, workers or routes
 * @sort:     the column to sort by (0: the view's natural order)
 * @max_rows: at most this many rows (0: all)
 */
void poolmon_render_table(struct poolmon_sink *k, const struct poolmon_model *m,
			  enum poolmon_view v, unsigned int sort,
			  unsigned int max_rows)
{
	struct poolmon_sort s = { .c = sort };
	struct poolmon_row *rows;
	unsigned int n;

	rows = calloc(SHM_SNAP_MAX_SLOTS > SHM_MAX_ROUTES ? SHM_SNAP_MAX_SLOTS :
							    SHM_MAX_ROUTES,
		      sizeof(*rows));
	if (!rows) {
		k->put(k, POOLMON_A_ALERT, "out of memory");
		k->end(k);
		return;
	}
	n = poolmon_rows(m, v, rows);
	if (sort >= poolmon_views[v].ncols)
		sort = s.c = 0;
	s.col = &poolmon_views[v].cols[sort];
	qsort_r(rows, n, sizeof(*rows), poolmon_row_cmp, &s);
	poolmon_put_table(k, v, sort, rows, n, max_rows);
	free(rows);
}

struct poolmon_text {
	FILE *f; /* borrowed */
};

static void poolmon_text_put(struct poolmon_sink *k, enum poolmon_attr a,
			     const char *text)
{
	struct poolmon_text *t = k->ctx;

	fputs(text, t->f);
}

static void poolmon_text_end(struct poolmon_sink *k)
{
	struct poolmon_text *t = k->ctx;

	fputc('\n', t->f);
}

/**
 * poolmon_text_print - every section as plain text (--once)
 * @f: where
 * @m: the interval
 *
 * Returns 0, or -1 when writing failed (errno says why).
 */
int poolmon_text_print(FILE *f, const struct poolmon_model *m)
{
	struct poolmon_text t = { .f = f };
	struct poolmon_sink k = { poolmon_text_put, poolmon_text_end, &t };
	unsigned int v;

	poolmon_render_summary(&k, m);
	poolmon_render_header(&k, m);
	poolmon_render_totals(&k, m);
	for (v = 0; v < POOLMON_VIEW_COUNT; v++) {
		fprintf(f, "\n%s\n", poolmon_views[v].name);
		poolmon_render_table(&k, m, (enum poolmon_view)v, 0, 0);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
