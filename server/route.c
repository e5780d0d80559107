// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/route.c - compile routes; match a request to one
 *
 * Compiling prepares each statement of a route once, on a connection of
 * its database, and reads back what SQLite knows: the named parameters
 * (only `:name` is accepted; positional `?` has no source to fill it), the
 * result columns (which fill same-named parameters of later statements),
 * and whether the statement only reads.  The statements are finalized
 * again: executors prepare their own, per connection.
 *
 * Matching walks the table (routes are few; a linear scan of segment
 * counts and literals costs less than the request parsing before it).
 * Among the routes whose template fits the path, the one with a literal
 * at the leftmost place where they differ wins, so "/items/new" beats
 * "/items/{id}" whatever their order in the file.
 */
#include "server/route.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "lib/db.h"
#include "lib/util.h"

struct srv_route_ctx {
	const struct conf *conf;
	struct conf_errs *errs;
	struct srv_route *r;
	int err; /* -EINVAL once a problem was reported */
};

static void srv_route_problem(struct srv_route_ctx *x, int line,
			      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void srv_route_problem(struct srv_route_ctx *x, int line,
			      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_errs_add(x->errs, x->conf->path, line, "route \"%s\": %s",
		      x->r->name, msg);
	x->err = -EINVAL;
}

int srv_route_param_slot(const struct srv_route *r, const char *name,
			 size_t len)
{
	unsigned int i;

	for (i = 0; i < r->nparams; i++) {
		if (strlen(r->params[i].name) == len &&
		    !memcmp(r->params[i].name, name, len))
			return (int)i;
	}
	return -1;
}

/* the slot of @name, added if new; -ENOMEM or -E2BIG */
static int srv_route_param_add(struct srv_route *r, const char *name,
			       size_t len)
{
	int slot = srv_route_param_slot(r, name, len);
	struct srv_route_param *p;

	if (slot >= 0)
		return slot;
	if (r->nparams == SRV_ROUTE_MAX_PARAMS)
		return -E2BIG;
	p = &r->params[r->nparams];
	*p = (struct srv_route_param){ 0 };
	p->name = strndup(name, len);
	if (!p->name)
		return -ENOMEM;
	return (int)r->nparams++;
}

/* a literal segment, percent-decoded as request segments are */
static int srv_route_literal(struct srv_route_seg *s, const char *p, size_t len)
{
	struct srv_http_str seg;
	unsigned int n;
	char *raw;
	int err;

	raw = malloc(len + 2);
	s->lit = malloc(len + 1);
	if (!raw || !s->lit) {
		free(raw);
		return -ENOMEM;
	}
	raw[0] = '/';
	memcpy(raw + 1, p, len);
	err = srv_http_path_split(raw, len + 1, s->lit, &seg, 1, &n);
	free(raw);
	if (err)
		return -EINVAL;
	s->len = n ? seg.len : 0;
	s->lit[s->len] = '\0';
	return 0;
}

static int srv_route_template(struct srv_route_ctx *x)
{
	struct srv_route *r = x->r;
	const char *p = r->cr->path + 1, *e;
	struct srv_route_seg *s;
	int slot, err;

	while (*p || (p > r->cr->path + 1 && p[-1] == '/')) {
		if (r->nsegs == SRV_ROUTE_MAX_SEGS)
			return -E2BIG;
		e = strchrnul(p, '/');
		s = &r->segs[r->nsegs++];
		s->param = -1;
		if (*p == '{') {
			slot = srv_route_param_add(r, p + 1,
						   (size_t)(e - p) - 2);
			if (slot < 0)
				return slot;
			r->params[slot].in_path = true;
			s->param = slot;
		} else {
			err = srv_route_literal(s, p, (size_t)(e - p));
			if (err)
				return err;
		}
		if (!*e)
			break;
		p = e + 1;
	}
	return 0;
}

/* record the :name parameters of @st, prepared as @stmt */
static int srv_route_binds(struct srv_route_ctx *x, struct srv_route_stmt *st,
			   sqlite3_stmt *stmt)
{
	const char *name;
	unsigned int i;
	int slot;

	st->nbind = (unsigned int)sqlite3_bind_parameter_count(stmt);
	st->slots = calloc(st->nbind + 1, sizeof(*st->slots));
	if (!st->slots)
		return -ENOMEM;
	for (i = 0; i < st->nbind; i++) {
		name = sqlite3_bind_parameter_name(stmt, (int)i + 1);
		st->slots[i] = -1;
		if (!name || name[0] != ':') {
			srv_route_problem(
				x, st->cs->line,
				"parameter \"%s\" cannot be filled: name parameters as :name",
				name ? name : "?");
			continue;
		}
		slot = srv_route_param_add(x->r, name + 1, strlen(name + 1));
		if (slot < 0)
			return slot;
		st->slots[i] = slot;
	}
	return 0;
}

/* true if a statement before @k has a result column named @name */
static bool srv_route_has_column(sqlite3_stmt **stmts, unsigned int k,
				 const char *name)
{
	unsigned int j;
	int c, n;

	for (j = 0; j < k; j++) {
		n = sqlite3_column_count(stmts[j]);
		for (c = 0; c < n; c++) {
			if (!strcmp(sqlite3_column_name(stmts[j], c), name))
				return true;
		}
	}
	return false;
}

/*
 * A parameter can come from a column only if an earlier statement has
 * that column for the first statement that uses it: a later column cannot
 * fill an earlier use.
 */
static void srv_route_columns(struct srv_route *r, sqlite3_stmt **stmts)
{
	bool seen[SRV_ROUTE_MAX_PARAMS] = { false };
	unsigned int k, i;
	int slot;

	for (k = 0; k < r->nbefore + r->nsql; k++) {
		for (i = 0; i < r->stmts[k].nbind; i++) {
			slot = r->stmts[k].slots[i];
			if (slot < 0 || seen[slot])
				continue;
			seen[slot] = true;
			r->params[slot].from_column = srv_route_has_column(
				stmts, k, r->params[slot].name);
		}
	}
}

/* apply types, optional, headers and page from the configuration */
static void srv_route_decorate(struct srv_route_ctx *x)
{
	const struct conf_route *cr = x->r->cr;
	struct srv_route *r = x->r;
	unsigned int i;
	int slot;

	for (i = 0; i < cr->ntypes; i++) {
		slot = srv_route_param_slot(r, cr->types[i].name,
					    strlen(cr->types[i].name));
		if (slot < 0)
			srv_route_problem(
				x, cr->types[i].line,
				"types names \"%s\", which no statement uses",
				cr->types[i].name);
		else
			r->params[slot].type = cr->types[i].type;
	}
	for (i = 0; i < cr->noptional; i++) {
		slot = srv_route_param_slot(r, cr->optional[i],
					    strlen(cr->optional[i]));
		if (slot < 0)
			srv_route_problem(
				x, cr->line,
				"optional names \"%s\", which no statement uses",
				cr->optional[i]);
		else
			r->params[slot].optional = true;
	}
	for (i = 0; i < cr->nheaders; i++) {
		slot = srv_route_param_slot(r, cr->headers[i].param,
					    strlen(cr->headers[i].param));
		if (slot < 0)
			srv_route_problem(
				x, cr->headers[i].line,
				"headers names \"%s\", which no statement uses",
				cr->headers[i].param);
		else
			r->params[slot].header = cr->headers[i].header;
	}
}

static void srv_route_page(struct srv_route_ctx *x)
{
	struct srv_route *r = x->r;

	r->limit_slot = r->offset_slot = -1;
	if (!r->cr->has_page)
		return;
	r->limit_slot = srv_route_param_slot(r, "limit", 5);
	r->offset_slot = srv_route_param_slot(r, "offset", 6);
	if (r->limit_slot < 0) {
		srv_route_problem(x, r->cr->line,
				  "page is set but no statement uses :limit");
		return;
	}
	r->params[r->limit_slot].page = true;
	if (r->offset_slot >= 0)
		r->params[r->offset_slot].page = true;
}

static void srv_route_check_result(struct srv_route_ctx *x)
{
	struct srv_route *r = x->r;
	const struct srv_route_stmt *st = &r->stmts[r->result];
	unsigned int k;

	if (r->cr->result != CONF_RESULT_EXEC && !st->ncols)
		srv_route_problem(
			x, st->cs->line,
			"result \"%s\" needs a statement that returns rows (SELECT or RETURNING)",
			r->cr->result == CONF_RESULT_ONE ? "one" : "many");
	for (k = 0; k < r->nbefore; k++) {
		if (!r->stmts[k].readonly)
			srv_route_problem(
				x, r->stmts[k].cs->line,
				"a \"before\" statement must only read");
	}
}

/* prepare every statement of the route, learn from them, finalize */
static int srv_route_stmts(struct srv_route_ctx *x, struct db_conn *conn,
			   unsigned int *next_id)
{
	struct srv_route *r = x->r;
	struct srv_route_stmt *st;
	sqlite3_stmt **stmts;
	char msg[512];
	unsigned int k;
	int err = 0;

	stmts = calloc(r->nbefore + r->nsql, sizeof(*stmts));
	if (!stmts)
		return -ENOMEM;
	for (k = 0; k < r->nbefore + r->nsql && !err; k++) {
		st = &r->stmts[k];
		st->cs = k < r->nbefore ? &r->cr->before[k] :
					  &r->cr->sql[k - r->nbefore];
		st->id = (*next_id)++;
		if (db_prepare(conn, st->cs->sql, &stmts[k], msg,
			       sizeof(msg))) {
			srv_route_problem(x, st->cs->line, "%s", msg);
			continue;
		}
		st->readonly = sqlite3_stmt_readonly(stmts[k]);
		st->ncols = (unsigned int)sqlite3_column_count(stmts[k]);
		if (k >= r->nbefore && !st->readonly)
			r->write = true;
		err = srv_route_binds(x, st, stmts[k]);
	}
	if (!err && !x->err)
		srv_route_columns(r, stmts);
	for (k = 0; k < r->nbefore + r->nsql; k++)
		sqlite3_finalize(stmts[k]);
	free(stmts);
	return err;
}

static int srv_route_alloc(struct srv_route *r, const struct conf_route *cr,
			   unsigned int index)
{
	r->cr = cr;
	r->index = index;
	r->nbefore = cr->nbefore;
	r->nsql = cr->nsql;
	r->result = cr->nbefore +
		    (cr->result_from ? cr->result_from - 1 : cr->nsql - 1);
	if (asprintf(&r->name, "%s %s", cr->method, cr->path) < 0) {
		r->name = NULL;
		return -ENOMEM;
	}
	r->segs = calloc(SRV_ROUTE_MAX_SEGS, sizeof(*r->segs));
	r->params = calloc(SRV_ROUTE_MAX_PARAMS, sizeof(*r->params));
	r->stmts = calloc(cr->nbefore + cr->nsql, sizeof(*r->stmts));
	if (!r->segs || !r->params || !r->stmts)
		return -ENOMEM;
	return 0;
}

static int srv_route_build(struct srv_route_ctx *x, struct db_conn *conn,
			   unsigned int *next_id)
{
	int err;

	err = srv_route_template(x);
	if (err == -EINVAL) {
		srv_route_problem(x, x->r->cr->line,
				  "the path has a malformed percent-encoding");
		return 0;
	}
	if (err == -E2BIG) {
		srv_route_problem(x, x->r->cr->line,
				  "too many path segments or parameters");
		return 0;
	}
	if (!err)
		err = srv_route_stmts(x, conn, next_id);
	if (err == -E2BIG) {
		srv_route_problem(x, x->r->cr->line, "too many parameters");
		return 0;
	}
	if (err || x->err)
		return err;
	srv_route_decorate(x);
	srv_route_page(x);
	srv_route_check_result(x);
	return 0;
}

int srv_routes_build(struct srv_routes *rs, const struct conf *conf,
		     struct db_conn *conns, struct conf_errs *errs)
{
	struct srv_route_ctx x = { .conf = conf, .errs = errs };
	unsigned int i;
	int err = 0, bad = 0;

	*rs = (struct srv_routes){ 0 };
	if (!conf->nroutes)
		return 0;
	rs->v = calloc(conf->nroutes, sizeof(*rs->v));
	if (!rs->v)
		return -ENOMEM;
	rs->n = conf->nroutes;
	for (i = 0; i < conf->nroutes && !err; i++) {
		x.r = &rs->v[i];
		x.err = 0;
		err = srv_route_alloc(x.r, &conf->routes[i], i);
		if (!err)
			err = srv_route_build(&x,
					      &conns[conf->routes[i].db_index],
					      &rs->nstmts);
		bad |= x.err;
	}
	if (!err && bad)
		err = -EINVAL;
	if (err)
		srv_routes_destroy(rs);
	return err;
}

void srv_routes_destroy(struct srv_routes *rs)
{
	struct srv_route *r;
	unsigned int i, k;

	for (i = 0; i < rs->n; i++) {
		r = &rs->v[i];
		for (k = 0; r->segs && k < r->nsegs; k++)
			free(r->segs[k].lit);
		for (k = 0; r->params && k < r->nparams; k++)
			free(r->params[k].name);
		for (k = 0; r->stmts && k < r->nbefore + r->nsql; k++)
			free(r->stmts[k].slots);
		free(r->segs);
		free(r->params);
		free(r->stmts);
		free(r->name);
	}
	free(rs->v);
	*rs = (struct srv_routes){ 0 };
}

static bool srv_route_fits(const struct srv_route *r,
			   const struct srv_http_str *segs, unsigned int nsegs)
{
	unsigned int i;

	if (r->nsegs != nsegs)
		return false;
	for (i = 0; i < nsegs; i++) {
		if (r->segs[i].lit &&
		    (r->segs[i].len != segs[i].len ||
		     memcmp(r->segs[i].lit, segs[i].p, segs[i].len)))
			return false;
	}
	return true;
}

/* true if @a is more specific than @b: a literal where b has {name} */
static bool srv_route_beats(const struct srv_route *a,
			    const struct srv_route *b)
{
	unsigned int i;

	for (i = 0; i < a->nsegs; i++) {
		if (!a->segs[i].lit != !b->segs[i].lit)
			return a->segs[i].lit != NULL;
	}
	return false;
}

static bool srv_route_method_is(const struct srv_route *r, const char *m,
				size_t len)
{
	const char *rm = r->cr->method;

	if (strlen(rm) == len && !memcmp(rm, m, len))
		return true;
	/* HEAD is GET without the body */
	return len == 4 && !memcmp(m, "HEAD", 4) && !strcmp(rm, "GET");
}

/* add @m to the comma-separated list @allow unless it is there */
static void srv_route_allow(char *allow, size_t size, const char *m)
{
	size_t n = strlen(allow), len = strlen(m);
	const char *p = allow;

	while (*p) {
		if (!strncmp(p, m, len) && (p[len] == ',' || !p[len]))
			return;
		p = strchrnul(p, ',');
		p += *p ? 2 : 0; /* ", " */
	}
	snprintf(allow + n, size - n, "%s%s", n ? ", " : "", m);
}

const struct srv_route *srv_routes_match(const struct srv_routes *rs,
					 const char *method, size_t mlen,
					 const struct srv_http_str *segs,
					 unsigned int nsegs, char *allow,
					 size_t allowsz, int *err)
{
	const struct srv_route *best = NULL, *r;
	bool path_seen = false;
	unsigned int i;

	allow[0] = '\0';
	for (i = 0; i < rs->n; i++) {
		r = &rs->v[i];
		if (!srv_route_fits(r, segs, nsegs))
			continue;
		path_seen = true;
		srv_route_allow(allow, allowsz, r->cr->method);
		if (!strcmp(r->cr->method, "GET"))
			srv_route_allow(allow, allowsz, "HEAD");
		if (srv_route_method_is(r, method, mlen) &&
		    (!best || srv_route_beats(r, best)))
			best = r;
	}
	*err = best ? 0 : path_seen ? -EPERM : -ENOENT;
	return best;
}
