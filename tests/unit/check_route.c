// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_route.c - routes compiled from a configuration; matching
 *
 * Every case builds the real thing: a small libconfig file written to a
 * fresh temporary directory and read by conf_load() (the file and the
 * directory are removed as soon as it is loaded), one in-memory SQLite
 * connection per database opened with db_open() and given its tables with
 * db_exec(), then srv_routes_build().  The configuration starts with the
 * same five lines every time, so the routes, one a line, start at line
 * TEST_ROUTE_LINE0 and every expected error line is known.
 *
 * Matching is driven by a table of (method, raw path) requests, the path
 * split and decoded by srv_http_path_split() as the server does, each
 * expecting a route index, or -ENOENT, or -EPERM with the exact Allow
 * text.  The compiled parameters are checked field by field, and each
 * problem srv_routes_build() must report is a row of a table, compared as
 * the whole "line: reason" it adds to the error list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "lib/conf.h"
#include "lib/db.h"
#include "lib/util.h"
#include "server/http_parse.h"
#include "server/route.h"
#include "tests/unit/suites.h"

#define TEST_ROUTE_LINE0 6 /* line of the first route of the file */
#define TEST_ROUTE_NDBS 2

/* lines 1-5 of every file; the routes follow, one a line */
static const char test_route_head[] =
	"databases = (\n"
	"  { name = \"main\"; path = \"main.db\"; },\n"
	"  { name = \"aux\"; path = \"aux.db\"; }\n"
	");\n"
	"routes = (\n";

/* the tables of each database, in the order of test_route_head */
static const char *const test_route_schemas[TEST_ROUTE_NDBS] = {
	"CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, price REAL);"
	"CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, hash TEXT);"
	"CREATE TABLE sessions(user_id INTEGER, token TEXT);",
	"CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);",
};

struct test_route_env {
	struct conf conf;
	struct conf_errs errs;
	struct db_conn conns[TEST_ROUTE_NDBS];
	struct srv_routes rs;
	int err; /* of srv_routes_build() */
};

/* "line: reason" of error @i; caller frees */
static char *test_route_errstr(const struct test_route_env *env, unsigned int i)
{
	char *s;

	ck_assert_uint_lt(i, env->errs.n);
	ck_assert_int_ge(asprintf(&s, "%d: %s", env->errs.v[i].line,
				  env->errs.v[i].reason),
			 0);
	return s;
}

/* write the file (routes joined with ",\n"), load it, remove it */
static void test_route_load(struct test_route_env *env,
			    const char *const *routes, unsigned int n)
{
	char dir[] = "/tmp/check_route.XXXXXX", path[64];
	unsigned int i;
	FILE *f;
	int err;

	*env = (struct test_route_env){ 0 };
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/poold.conf", dir);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	fputs(test_route_head, f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%s\n", routes[i], i + 1 < n ? "," : "");
	fputs(");\n", f);
	ck_assert_int_eq(fclose(f), 0);
	err = conf_load(&env->conf, path, &env->errs);
	unlink(path);
	rmdir(dir);
	ck_assert_msg(!err && !env->errs.n, "conf_load: %d: %s", err,
		      env->errs.n ? env->errs.v[0].reason : "");
	ck_assert_uint_eq(env->conf.ndbs, TEST_ROUTE_NDBS);
}

/* open every database in memory, create its tables, build the routes */
static void test_route_compile(struct test_route_env *env)
{
	char msg[512];
	unsigned int i;
	int rc;

	for (i = 0; i < TEST_ROUTE_NDBS; i++) {
		rc = db_open(&env->conns[i], &env->conf.dbs[i],
			     ":memory:", false, msg, sizeof(msg));
		ck_assert_msg(!rc, "db_open: %s", msg);
		rc = db_exec(&env->conns[i], test_route_schemas[i], msg,
			     sizeof(msg));
		ck_assert_msg(!rc, "schema: %s", msg);
	}
	env->err =
		srv_routes_build(&env->rs, &env->conf, env->conns, &env->errs);
}

static void test_route_build(struct test_route_env *env,
			     const char *const *routes, unsigned int n)
{
	test_route_load(env, routes, n);
	test_route_compile(env);
}

/* build and insist that it worked */
static void test_route_build_ok(struct test_route_env *env,
				const char *const *routes, unsigned int n)
{
	char *first = NULL;

	test_route_build(env, routes, n);
	if (env->errs.n)
		first = test_route_errstr(env, 0);
	ck_assert_msg(!env->err && !env->errs.n,
		      "srv_routes_build: %d, %u errors: %s", env->err,
		      env->errs.n, first ? first : "");
	free(first);
	ck_assert_uint_eq(env->rs.n, n);
}

static void test_route_destroy(struct test_route_env *env)
{
	unsigned int i;

	srv_routes_destroy(&env->rs);
	srv_routes_destroy(&env->rs); /* idempotent */
	for (i = 0; i < TEST_ROUTE_NDBS; i++)
		db_close(&env->conns[i]);
	conf_destroy(&env->conf);
	conf_errs_destroy(&env->errs);
}

/* the parameter of @r called @name, which must exist */
static const struct srv_route_param *
test_route_param(const struct srv_route *r, const char *name, int want_slot)
{
	int slot = srv_route_param_slot(r, name, strlen(name));

	ck_assert_msg(slot == want_slot,
		      "%s: parameter \"%s\" in slot %d, not %d", r->name, name,
		      slot, want_slot);
	return &r->params[slot];
}

/* ---- matching ------------------------------------------------------------ */

/* the routes of the matching cases, in this order: indexes below */
static const char *const test_route_match_routes[] = {
	/* 0 */
	"{ method = \"GET\"; path = \"/items/{id}\"; db = \"main\"; sql = \"SELECT * FROM items WHERE id = :id\"; result = \"one\"; }",
	/* 1 */
	"{ method = \"GET\"; path = \"/items/new\"; db = \"main\"; sql = \"SELECT 0 AS id\"; }",
	/* 2 */
	"{ method = \"POST\"; path = \"/items\"; db = \"main\"; sql = \"INSERT INTO items(name) VALUES (:name) RETURNING id\"; result = \"one\"; }",
	/* 3 */
	"{ method = \"GET\"; path = \"/items\"; db = \"main\"; sql = \"SELECT * FROM items\"; }",
	/* 4 */
	"{ method = \"DELETE\"; path = \"/items/{id}\"; db = \"main\"; sql = \"DELETE FROM items WHERE id = :id\"; result = \"exec\"; }",
	/* 5 */
	"{ method = \"GET\"; path = \"/\"; db = \"main\"; sql = \"SELECT 1 AS ok\"; }",
	/* 6 */
	"{ method = \"GET\"; path = \"/a%20b\"; db = \"main\"; sql = \"SELECT 2 AS ok\"; }",
	/* 7 */
	"{ method = \"PUT\"; path = \"/u/{a}/x\"; db = \"main\"; sql = \"SELECT :a AS a\"; }",
	/* 8 */
	"{ method = \"PUT\"; path = \"/u/x/{b}\"; db = \"main\"; sql = \"SELECT :b AS b\"; }",
	/* 9 */
	"{ method = \"GET\"; path = \"/p/new\"; db = \"main\"; sql = \"SELECT 3 AS ok\"; }",
	/* 10 */
	"{ method = \"GET\"; path = \"/p/{id}\"; db = \"main\"; sql = \"SELECT :id AS id\"; }",
	/* 11 */
	"{ method = \"GET\"; path = \"/a\"; db = \"main\"; sql = \"SELECT 4 AS ok\"; }",
	/* 12 */
	"{ method = \"PATCH\"; path = \"/a\"; db = \"main\"; sql = \"UPDATE items SET name = :name\"; result = \"exec\"; }",
	/* 13 */
	"{ method = \"GET\"; path = \"/d/{x}/{y}\"; db = \"aux\"; sql = \"SELECT :x AS x, :y AS y\"; }",
	/* 14 */
	"{ method = \"POST\"; path = \"/d/{x}/{y}\"; db = \"aux\"; sql = \"INSERT INTO notes(body) VALUES (:x || :y)\"; result = \"exec\"; }",
	/* 15 */
	"{ method = \"GET\"; path = \"/d/c%2Fd/{y}\"; db = \"aux\"; sql = \"SELECT :y AS y\"; }",
};

struct test_route_match {
	const char *method;
	const char *path;  /* raw, as in the request line */
	int want;	   /* route index, -ENOENT or -EPERM */
	const char *allow; /* for -EPERM */
};

static const struct test_route_match test_route_matches[] = {
	/* a literal beats {id}, whatever the file order (0/1, then 9/10) */
	{ "GET", "/items/new", 1, NULL },
	{ "GET", "/items/5", 0, NULL },
	{ "GET", "/items/%6Eew", 1, NULL }, /* decoded before it is compared */
	{ "GET", "/items/new%20", 0, NULL },
	{ "GET", "/p/new", 9, NULL },
	{ "GET", "/p/7", 10, NULL },
	/* the leftmost differing segment decides, not the number of literals */
	{ "PUT", "/u/x/x", 8, NULL },
	{ "PUT", "/u/y/x", 7, NULL },
	{ "PUT", "/u/x/y", 8, NULL },
	{ "PUT", "/u/y/y", -ENOENT, NULL },
	/* the method picks among routes that fit the path */
	{ "DELETE", "/items/new", 4, NULL },
	{ "DELETE", "/items/5", 4, NULL },
	{ "POST", "/items", 2, NULL },
	{ "GET", "/items", 3, NULL },
	/* HEAD is GET without the body; Allow lists it right after GET */
	{ "HEAD", "/items/5", 0, NULL },
	{ "HEAD", "/items/new", 1, NULL },
	{ "HEAD", "/", 5, NULL },
	{ "POST", "/items/5", -EPERM, "GET, HEAD, DELETE" },
	{ "POST", "/items/new", -EPERM, "GET, HEAD, DELETE" },
	{ "PUT", "/items", -EPERM, "POST, GET, HEAD" },
	{ "HEAD", "/u/x/x", -EPERM, "PUT" },
	{ "DELETE", "/a", -EPERM, "GET, HEAD, PATCH" },
	{ "PATCH", "/a", 12, NULL },
	{ "OPTIONS", "/d/1/2", -EPERM, "GET, HEAD, POST" },
	/* methods are case-sensitive */
	{ "get", "/items", -EPERM, "POST, GET, HEAD" },
	/* "/" has no segment */
	{ "GET", "/", 5, NULL },
	{ "POST", "/", -EPERM, "GET, HEAD" },
	/* a percent-encoded literal of the template matches decoded */
	{ "GET", "/a%20b", 6, NULL },
	{ "GET", "/a%2520b", -ENOENT, NULL },
	{ "GET", "/a%20B", -ENOENT, NULL },
	{ "GET", "/d/c%2Fd/9", 15, NULL },
	{ "GET", "/d/c%2fd/9", 15, NULL },
	{ "GET", "/d/c/d/9", -ENOENT, NULL }, /* %2F is not a separator */
	{ "GET", "/d/cd/9", 13, NULL },
	/* segment counts must agree */
	{ "GET", "/a/", -ENOENT, NULL },
	{ "GET", "//a", -ENOENT, NULL },
	{ "GET", "/items/5/x", -ENOENT, NULL },
	{ "GET", "/items/", 0, NULL }, /* two segments: "" fills {id} */
	{ "GET", "/d/1", -ENOENT, NULL },
	{ "GET", "/d/1/2/3", -ENOENT, NULL },
	{ "GET", "/u", -ENOENT, NULL },
	/* paths are case-sensitive; unknown paths are 404 */
	{ "GET", "/ITEMS", -ENOENT, NULL },
	{ "GET", "/nothing", -ENOENT, NULL },
	{ "GET", "/items%2Fnew", -ENOENT, NULL },
};

/* split @path as the server does and match it */
static const struct srv_route *test_route_match(const struct srv_routes *rs,
						const char *method,
						const char *path, char *allow,
						size_t allowsz, int *err)
{
	struct srv_http_str segs[SRV_ROUTE_MAX_SEGS];
	const struct srv_route *r;
	size_t len = strlen(path);
	unsigned int n;
	char *out;

	out = malloc(len);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(srv_http_path_split(path, len, out, segs,
					     SRV_ROUTE_MAX_SEGS, &n),
			 0);
	memset(allow, 'x', allowsz);
	r = srv_routes_match(rs, method, strlen(method), segs, n, allow,
			     allowsz, err);
	free(out);
	return r;
}

START_TEST(test_route_matches_requests)
{
	const struct test_route_match *m = &test_route_matches[_i];
	struct test_route_env env;
	const struct srv_route *r;
	char allow[128];
	int err = 1;

	test_route_build_ok(&env, test_route_match_routes,
			    ARRAY_SIZE(test_route_match_routes));
	r = test_route_match(&env.rs, m->method, m->path, allow, sizeof(allow),
			     &err);
	if (m->want >= 0) {
		ck_assert_msg(r && err == 0,
			      "%s %s: no route (%d), allow \"%s\"", m->method,
			      m->path, err, allow);
		ck_assert_msg(r == &env.rs.v[m->want],
			      "%s %s: route %u (%s), not %d", m->method,
			      m->path, r->index, r->name, m->want);
		ck_assert_uint_eq(r->index, (unsigned int)m->want);
	} else {
		ck_assert_msg(!r && err == m->want, "%s %s: err %d, route %s",
			      m->method, m->path, err, r ? r->name : "none");
	}
	if (m->want == -EPERM)
		ck_assert_str_eq(allow, m->allow);
	test_route_destroy(&env);
}
END_TEST

/* one route file in both orders: the literal wins either way */
START_TEST(test_route_literal_wins_in_any_order)
{
	static const char *const orders[2][2] = {
		{ "{ method = \"GET\"; path = \"/x/{id}/z\"; db = \"main\"; sql = \"SELECT :id AS id\"; }",
		  "{ method = \"GET\"; path = \"/x/y/{z}\"; db = \"main\"; sql = \"SELECT :z AS z\"; }" },
		{ "{ method = \"GET\"; path = \"/x/y/{z}\"; db = \"main\"; sql = \"SELECT :z AS z\"; }",
		  "{ method = \"GET\"; path = \"/x/{id}/z\"; db = \"main\"; sql = \"SELECT :id AS id\"; }" },
	};
	struct test_route_env env;
	const struct srv_route *r;
	unsigned int k;
	char allow[64];
	int err;

	for (k = 0; k < 2; k++) {
		test_route_build_ok(&env, orders[k], 2);
		r = test_route_match(&env.rs, "GET", "/x/y/z", allow,
				     sizeof(allow), &err);
		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(r->name, "GET /x/y/{z}");
		r = test_route_match(&env.rs, "HEAD", "/x/q/z", allow,
				     sizeof(allow), &err);
		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(r->name, "GET /x/{id}/z");
		test_route_destroy(&env);
	}
}
END_TEST

/*
 * conf_load() refuses "/a/" (an empty segment), so the template is put in
 * the loaded configuration by hand: srv_routes_build() must still split it
 * as the request path is split, into "a" and "".
 */
START_TEST(test_route_trailing_slash_template)
{
	static const char *const routes[] = {
		"{ method = \"GET\"; path = \"/a/b\"; db = \"main\"; sql = \"SELECT 1 AS one\"; }",
		"{ method = \"GET\"; path = \"/a\"; db = \"main\"; sql = \"SELECT 2 AS two\"; }",
	};
	struct test_route_env env;
	const struct srv_route *r;
	char allow[64];
	int err;

	test_route_load(&env, routes, ARRAY_SIZE(routes));
	free(env.conf.routes[0].path);
	env.conf.routes[0].path = strdup("/a/");
	ck_assert_ptr_nonnull(env.conf.routes[0].path);
	test_route_compile(&env);
	ck_assert_int_eq(env.err, 0);
	ck_assert_uint_eq(env.rs.v[0].nsegs, 2);
	ck_assert_str_eq(env.rs.v[0].segs[0].lit, "a");
	ck_assert_str_eq(env.rs.v[0].segs[1].lit, "");
	ck_assert_uint_eq(env.rs.v[0].segs[1].len, 0);
	ck_assert_uint_eq(env.rs.v[1].nsegs, 1);

	r = test_route_match(&env.rs, "GET", "/a/", allow, sizeof(allow), &err);
	ck_assert_ptr_eq(r, &env.rs.v[0]);
	r = test_route_match(&env.rs, "GET", "/a", allow, sizeof(allow), &err);
	ck_assert_ptr_eq(r, &env.rs.v[1]);
	r = test_route_match(&env.rs, "GET", "/a/b", allow, sizeof(allow),
			     &err);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(err, -ENOENT);
	r = test_route_match(&env.rs, "GET", "/a//", allow, sizeof(allow),
			     &err);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(err, -ENOENT);
	test_route_destroy(&env);
}
END_TEST

START_TEST(test_route_template_segments)
{
	static const char *const routes[] = {
		"{ method = \"GET\"; path = \"/\"; db = \"main\"; sql = \"SELECT 1 AS one\"; }",
		"{ method = \"PATCH\"; path = \"/t/{tenant}/items/{item_id}/a%2Fb;v=1\"; db = \"main\"; sql = \"SELECT :item_id AS i, :tenant AS t\"; }",
	};
	const struct srv_route *r;
	struct test_route_env env;

	test_route_build_ok(&env, routes, ARRAY_SIZE(routes));
	r = &env.rs.v[0];
	ck_assert_str_eq(r->name, "GET /");
	ck_assert_uint_eq(r->nsegs, 0);
	ck_assert_uint_eq(r->nparams, 0);

	r = &env.rs.v[1];
	ck_assert_str_eq(r->name,
			 "PATCH /t/{tenant}/items/{item_id}/a%2Fb;v=1");
	ck_assert_uint_eq(r->index, 1);
	ck_assert_uint_eq(r->nsegs, 5);
	ck_assert_str_eq(r->segs[0].lit, "t");
	ck_assert_ptr_null(r->segs[1].lit);
	ck_assert_int_eq(r->segs[1].param, 0);
	ck_assert_str_eq(r->segs[2].lit, "items");
	ck_assert_int_eq(r->segs[2].param, -1);
	ck_assert_ptr_null(r->segs[3].lit);
	ck_assert_int_eq(r->segs[3].param, 1);
	ck_assert_str_eq(r->segs[4].lit, "a/b;v=1");
	ck_assert_uint_eq(r->segs[4].len, 7);
	/* the template orders the slots, not the statement */
	ck_assert(test_route_param(r, "tenant", 0)->in_path);
	ck_assert(test_route_param(r, "item_id", 1)->in_path);
	ck_assert_uint_eq(r->nparams, 2);
	ck_assert_uint_eq(r->stmts[0].nbind, 2);
	ck_assert_int_eq(r->stmts[0].slots[0], 1);
	ck_assert_int_eq(r->stmts[0].slots[1], 0);
	test_route_destroy(&env);
}
END_TEST

/* ---- compiled parameters ------------------------------------------------- */

static const char *const test_route_param_routes[] = {
	"{ method = \"GET\"; path = \"/first\"; db = \"aux\"; sql = ( \"SELECT body FROM notes WHERE id = :id\", \"SELECT :body AS b\" ); }",
	"{ method = \"POST\"; path = \"/t/{tenant}/x/{id}\"; db = \"main\"; "
	"before = \"SELECT :pw AS hash\"; "
	"sql = ( \"SELECT id AS user_id FROM users WHERE name = :name AND hash = :hash\", "
	"\"INSERT INTO sessions(user_id, token) VALUES (:user_id, :token) RETURNING token\", "
	"\"UPDATE items SET name = :tenant WHERE id = :id AND :later IS NULL\", "
	"\"SELECT 1 AS later, :token AS t2\" ); "
	"result = \"one\"; result_from = 2; "
	"types = { id = \"int\"; pw = \"text\"; later = \"bool\"; }; "
	"optional = [ \"later\" ]; headers = { token = \"X-Token\"; }; }",
	"{ method = \"GET\"; path = \"/logs\"; db = \"main\"; sql = \"SELECT * FROM items WHERE :q IS NULL OR name = :q LIMIT :limit OFFSET :offset\"; page = { default = 10; max = 20; }; optional = [ \"q\" ]; }",
	"{ method = \"GET\"; path = \"/top\"; db = \"main\"; sql = ( \"SELECT 1 AS n\", \"SELECT * FROM items LIMIT :limit\" ); page = { }; }",
	"{ method = \"DELETE\"; path = \"/items/{id}\"; db = \"main\"; sql = \"DELETE FROM items WHERE id = :id\"; result = \"exec\"; }",
	"{ method = \"GET\"; path = \"/plain\"; db = \"main\"; sql = \"SELECT :limit AS l, :offset AS o\"; }",
};

START_TEST(test_route_params_in_order_of_first_use)
{
	const struct srv_route_param *p;
	const struct srv_route *r;
	struct test_route_env env;

	test_route_build_ok(&env, test_route_param_routes,
			    ARRAY_SIZE(test_route_param_routes));
	r = &env.rs.v[1];
	ck_assert_uint_eq(r->nparams, 8);
	ck_assert(test_route_param(r, "tenant", 0)->in_path);
	ck_assert(test_route_param(r, "id", 1)->in_path);
	ck_assert(!test_route_param(r, "pw", 2)->in_path);
	test_route_param(r, "name", 3);
	test_route_param(r, "hash", 4);
	test_route_param(r, "user_id", 5);
	test_route_param(r, "token", 6);
	test_route_param(r, "later", 7);
	ck_assert_int_eq(srv_route_param_slot(r, "nope", 4), -1);
	ck_assert_int_eq(srv_route_param_slot(r, "tenan", 5), -1);
	ck_assert_int_eq(srv_route_param_slot(r, "tenant", 5), -1);

	/* statements: before first, then sql; binds in statement order */
	ck_assert_uint_eq(r->nbefore, 1);
	ck_assert_uint_eq(r->nsql, 4);
	ck_assert_uint_eq(r->stmts[0].nbind, 1);
	ck_assert_int_eq(r->stmts[0].slots[0], 2);
	ck_assert_uint_eq(r->stmts[1].nbind, 2);
	ck_assert_int_eq(r->stmts[1].slots[0], 3);
	ck_assert_int_eq(r->stmts[1].slots[1], 4);
	ck_assert_uint_eq(r->stmts[2].nbind, 2);
	ck_assert_int_eq(r->stmts[2].slots[0], 5);
	ck_assert_int_eq(r->stmts[2].slots[1], 6);
	ck_assert_uint_eq(r->stmts[3].nbind, 3);
	ck_assert_int_eq(r->stmts[3].slots[0], 0);
	ck_assert_int_eq(r->stmts[3].slots[1], 1);
	ck_assert_int_eq(r->stmts[3].slots[2], 7);
	ck_assert_uint_eq(r->stmts[4].nbind, 1);
	ck_assert_int_eq(r->stmts[4].slots[0], 6);
	ck_assert_ptr_eq(r->stmts[0].cs, &r->cr->before[0]);
	ck_assert_ptr_eq(r->stmts[1].cs, &r->cr->sql[0]);
	ck_assert_ptr_eq(r->stmts[4].cs, &r->cr->sql[3]);

	/* ids count the statements of every route, in file order */
	ck_assert_uint_eq(env.rs.v[0].stmts[0].id, 0);
	ck_assert_uint_eq(env.rs.v[0].stmts[1].id, 1);
	ck_assert_uint_eq(r->stmts[0].id, 2);
	ck_assert_uint_eq(r->stmts[4].id, 6);
	ck_assert_uint_eq(env.rs.v[5].stmts[0].id, 11);
	ck_assert_uint_eq(env.rs.nstmts, 12);

	/* readonly and result columns */
	ck_assert(r->stmts[0].readonly);
	ck_assert(r->stmts[1].readonly);
	ck_assert(!r->stmts[2].readonly);
	ck_assert(!r->stmts[3].readonly);
	ck_assert(r->stmts[4].readonly);
	ck_assert_uint_eq(r->stmts[0].ncols, 1);
	ck_assert_uint_eq(r->stmts[2].ncols, 1);
	ck_assert_uint_eq(r->stmts[3].ncols, 0);
	ck_assert_uint_eq(r->stmts[4].ncols, 2);

	p = &r->params[2];
	ck_assert(!p->from_column && !p->page && !p->optional);
	test_route_destroy(&env);
}
END_TEST

START_TEST(test_route_params_from_earlier_columns)
{
	const struct srv_route *r;
	struct test_route_env env;

	test_route_build_ok(&env, test_route_param_routes,
			    ARRAY_SIZE(test_route_param_routes));
	r = &env.rs.v[1];
	/* a column of the before statement fills a sql statement */
	ck_assert(test_route_param(r, "hash", 4)->from_column);
	/* a column of an earlier sql statement */
	ck_assert(test_route_param(r, "user_id", 5)->from_column);
	/* a column of a later statement does not count */
	ck_assert(!test_route_param(r, "later", 7)->from_column);
	/* nor a column of the statement itself */
	ck_assert(!test_route_param(r, "pw", 2)->from_column);
	ck_assert(!test_route_param(r, "name", 3)->from_column);
	/* "id" of the path is not a column before it is used */
	ck_assert(!test_route_param(r, "id", 1)->from_column);
	ck_assert(!test_route_param(r, "tenant", 0)->from_column);

	/* :body is filled by the first statement's column "body" */
	r = &env.rs.v[0];
	ck_assert(!test_route_param(r, "id", 0)->from_column);
	ck_assert(test_route_param(r, "body", 1)->from_column);
	test_route_destroy(&env);
}
END_TEST

/*
 * :token is used by statement 2, where no earlier statement returns a
 * column "token", and again by statement 4, after statement 2's RETURNING
 * token.  Statement 2 can only get it from the request, so it must not be
 * marked as one an earlier column fills: params.c would then not report it
 * missing, and statement 2 would run with NULL.
 */
START_TEST(test_route_params_column_must_precede_every_use)
{
	const struct srv_route *r;
	struct test_route_env env;

	test_route_build_ok(&env, test_route_param_routes,
			    ARRAY_SIZE(test_route_param_routes));
	r = &env.rs.v[1];
	ck_assert_msg(
		!test_route_param(r, "token", 6)->from_column,
		"\":token\" is needed by a statement before any column \"token\", yet it is marked from_column");
	test_route_destroy(&env);
}
END_TEST

START_TEST(test_route_params_decorated)
{
	const struct srv_route_param *p;
	const struct srv_route *r;
	struct test_route_env env;

	test_route_build_ok(&env, test_route_param_routes,
			    ARRAY_SIZE(test_route_param_routes));
	r = &env.rs.v[1];
	p = test_route_param(r, "id", 1);
	ck_assert_int_eq(p->type, CONF_TYPE_INT);
	ck_assert(!p->optional);
	ck_assert_ptr_null(p->header);
	p = test_route_param(r, "pw", 2);
	ck_assert_int_eq(p->type, CONF_TYPE_TEXT);
	p = test_route_param(r, "later", 7);
	ck_assert_int_eq(p->type, CONF_TYPE_BOOL);
	ck_assert(p->optional);
	p = test_route_param(r, "token", 6);
	ck_assert_int_eq(p->type, CONF_TYPE_ANY);
	ck_assert(!p->optional);
	ck_assert_str_eq(p->header, "X-Token");
	ck_assert_ptr_eq(p->header, r->cr->headers[0].header);
	p = test_route_param(r, "name", 3);
	ck_assert_int_eq(p->type, CONF_TYPE_ANY);
	ck_assert(!p->optional && !p->page && !p->in_path);
	ck_assert_ptr_null(p->header);
	/* not paged */
	ck_assert_int_eq(r->limit_slot, -1);
	ck_assert_int_eq(r->offset_slot, -1);
	test_route_destroy(&env);
}
END_TEST

START_TEST(test_route_params_page)
{
	const struct srv_route *r;
	struct test_route_env env;

	test_route_build_ok(&env, test_route_param_routes,
			    ARRAY_SIZE(test_route_param_routes));
	r = &env.rs.v[2];
	ck_assert_uint_eq(r->nparams, 3);
	ck_assert(!test_route_param(r, "q", 0)->page);
	ck_assert(test_route_param(r, "q", 0)->optional);
	ck_assert(test_route_param(r, "limit", 1)->page);
	ck_assert(test_route_param(r, "offset", 2)->page);
	ck_assert_int_eq(r->limit_slot, 1);
	ck_assert_int_eq(r->offset_slot, 2);
	ck_assert_uint_eq(r->cr->page_default, 10);
	ck_assert_uint_eq(r->cr->page_max, 20);

	/* :limit alone: no offset slot */
	r = &env.rs.v[3];
	ck_assert(test_route_param(r, "limit", 0)->page);
	ck_assert_int_eq(r->limit_slot, 0);
	ck_assert_int_eq(r->offset_slot, -1);

	/* :limit and :offset of a route without page are plain parameters */
	r = &env.rs.v[5];
	ck_assert(!test_route_param(r, "limit", 0)->page);
	ck_assert(!test_route_param(r, "offset", 1)->page);
	ck_assert_int_eq(r->limit_slot, -1);
	ck_assert_int_eq(r->offset_slot, -1);
	test_route_destroy(&env);
}
END_TEST

START_TEST(test_route_write_and_result)
{
	static const char *const routes[] = {
		"{ method = \"GET\"; path = \"/r\"; db = \"main\"; before = \"SELECT 1 AS x\"; sql = ( \"SELECT :x AS y\", \"SELECT * FROM items\" ); }",
		"{ method = \"POST\"; path = \"/w\"; db = \"main\"; sql = ( \"SELECT 1 AS x\", \"INSERT INTO items(name) VALUES (:x)\", \"SELECT 2 AS z\" ); result = \"one\"; result_from = 1; }",
		"{ method = \"POST\"; path = \"/w2\"; db = \"main\"; before = ( \"SELECT 1 AS a\", \"SELECT 2 AS b\" ); sql = ( \"UPDATE items SET name = :a RETURNING id\", \"SELECT :b AS b\" ); result_from = 2; }",
		"{ method = \"POST\"; path = \"/e\"; db = \"aux\"; sql = \"DELETE FROM notes\"; result = \"exec\"; }",
		"{ method = \"GET\"; path = \"/cte\"; db = \"main\"; sql = \"WITH t(n) AS (SELECT 1) SELECT n FROM t\"; }",
		"{ method = \"POST\"; path = \"/ret\"; db = \"main\"; sql = \"INSERT INTO items(name) VALUES ('a') RETURNING id, name\"; result = \"one\"; }",
	};
	struct test_route_env env;
	const struct srv_route *r;

	test_route_build_ok(&env, routes, ARRAY_SIZE(routes));
	r = &env.rs.v[0];
	ck_assert(!r->write);
	ck_assert_uint_eq(r->result, 2); /* the last: after 1 before */
	ck_assert(test_route_param(r, "x", 0)->from_column);
	r = &env.rs.v[1];
	ck_assert(r->write);
	ck_assert_uint_eq(r->result, 0);
	ck_assert(test_route_param(r, "x", 0)->from_column);
	r = &env.rs.v[2];
	ck_assert(r->write);
	ck_assert_uint_eq(r->nbefore, 2);
	ck_assert_uint_eq(r->result, 3); /* result_from = 2, after 2 before */
	ck_assert(test_route_param(r, "a", 0)->from_column);
	ck_assert(test_route_param(r, "b", 1)->from_column);
	r = &env.rs.v[3];
	ck_assert(r->write);
	ck_assert_uint_eq(r->result, 0);
	ck_assert_uint_eq(r->stmts[0].ncols, 0);
	r = &env.rs.v[4];
	ck_assert(!r->write);
	r = &env.rs.v[5];
	ck_assert(r->write);
	ck_assert_uint_eq(r->stmts[0].ncols, 2);
	test_route_destroy(&env);
}
END_TEST

/* ---- problems ------------------------------------------------------------ */

/* the route before the bad one, at TEST_ROUTE_LINE0 */
static const char test_route_good[] =
	"{ method = \"GET\"; path = \"/good\"; db = \"main\"; sql = \"SELECT * FROM items WHERE id = :id\"; }";

struct test_route_problem {
	const char *route; /* one line, at TEST_ROUTE_LINE0 + 1 */
	const char *reason;
};

#define TEST_ROUTE_REFUSED \
	"statement refused: ATTACH, DETACH, PRAGMA, transaction and savepoint statements are not allowed in routes"
#define TEST_ROUTE_NEEDS_ROWS \
	"needs a statement that returns rows (SELECT or RETURNING)"

static const struct test_route_problem test_route_problems[] = {
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT * FROM items WHERE id = ?\"; }",
	  "route \"GET /p\": parameter \"?\" cannot be filled: name parameters as :name" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT * FROM items WHERE id = ?1\"; }",
	  "route \"GET /p\": parameter \"?1\" cannot be filled: name parameters as :name" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT * FROM items WHERE id = $id\"; }",
	  "route \"GET /p\": parameter \"$id\" cannot be filled: name parameters as :name" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT * FROM items WHERE id = @id\"; }",
	  "route \"GET /p\": parameter \"@id\" cannot be filled: name parameters as :name" },
	{ "{ method = \"GET\"; path = \"/p/{id}\"; db = \"main\"; sql = \"SELECT * FROM items WHERE id = :id\"; types = { id = \"int\"; nope = \"text\"; }; }",
	  "route \"GET /p/{id}\": types names \"nope\", which no statement uses" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT :a AS a\"; optional = [ \"a\", \"nope\" ]; }",
	  "route \"GET /p\": optional names \"nope\", which no statement uses" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT :a AS a\"; headers = { nope = \"X-Nope\"; }; }",
	  "route \"GET /p\": headers names \"nope\", which no statement uses" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT * FROM items\"; page = { }; }",
	  "route \"GET /p\": page is set but no statement uses :limit" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT * FROM items LIMIT -1 OFFSET :offset\"; page = { default = 5; }; }",
	  "route \"GET /p\": page is set but no statement uses :limit" },
	{ "{ method = \"PUT\"; path = \"/p\"; db = \"main\"; sql = \"UPDATE items SET name = 'x'\"; result = \"one\"; }",
	  "route \"PUT /p\": result \"one\" " TEST_ROUTE_NEEDS_ROWS },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; sql = \"INSERT INTO items(name) VALUES ('x')\"; }",
	  "route \"POST /p\": result \"many\" " TEST_ROUTE_NEEDS_ROWS },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; sql = ( \"UPDATE items SET name = 'x'\", \"SELECT 1 AS one\" ); result = \"one\"; result_from = 1; }",
	  "route \"POST /p\": result \"one\" " TEST_ROUTE_NEEDS_ROWS },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; before = \"INSERT INTO items(name) VALUES ('x')\"; sql = \"SELECT 1 AS one\"; }",
	  "route \"POST /p\": a \"before\" statement must only read" },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; before = ( \"SELECT 1 AS a\", \"UPDATE items SET name = :a RETURNING id\" ); sql = \"SELECT :id AS id\"; }",
	  "route \"POST /p\": a \"before\" statement must only read" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT * FROM nope\"; }",
	  "route \"GET /p\": could not prepare: no such table: nope" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT * FROM notes\"; }",
	  "route \"GET /p\": could not prepare: no such table: notes" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"aux\"; sql = \"SELECT * FROM items\"; }",
	  "route \"GET /p\": could not prepare: no such table: items" },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELEKT 1\"; }",
	  "route \"GET /p\": could not prepare: near \"SELEKT\": syntax error" },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; sql = \"ATTACH 'x.db' AS x\"; result = \"exec\"; }",
	  "route \"POST /p\": " TEST_ROUTE_REFUSED },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; sql = \"DETACH x\"; result = \"exec\"; }",
	  "route \"POST /p\": " TEST_ROUTE_REFUSED },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"PRAGMA user_version\"; }",
	  "route \"GET /p\": " TEST_ROUTE_REFUSED },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; sql = \"PRAGMA journal_mode = delete\"; }",
	  "route \"POST /p\": " TEST_ROUTE_REFUSED },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; sql = ( \"BEGIN\", \"SELECT 1 AS one\" ); }",
	  "route \"POST /p\": " TEST_ROUTE_REFUSED },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; sql = ( \"SELECT 1 AS one\", \"COMMIT\" ); result_from = 1; }",
	  "route \"POST /p\": " TEST_ROUTE_REFUSED },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; sql = ( \"SAVEPOINT s\", \"SELECT 1 AS one\" ); }",
	  "route \"POST /p\": " TEST_ROUTE_REFUSED },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; before = \"ROLLBACK\"; sql = \"SELECT 1 AS one\"; }",
	  "route \"POST /p\": " TEST_ROUTE_REFUSED },
	{ "{ method = \"GET\"; path = \"/p\"; db = \"main\"; sql = \"SELECT 1 AS a; SELECT 2 AS b\"; }",
	  "route \"GET /p\": one statement per entry: text after the first statement (\" SELECT 2 AS b\")" },
	{ "{ method = \"POST\"; path = \"/p\"; db = \"main\"; sql = \"DELETE FROM items; DELETE FROM users\"; result = \"exec\"; }",
	  "route \"POST /p\": one statement per entry: text after the first statement (\" DELETE FROM users\")" },
};

START_TEST(test_route_reports_problems)
{
	const struct test_route_problem *t = &test_route_problems[_i];
	const char *routes[2] = { test_route_good, t->route };
	struct test_route_env env;
	char *got, *want;

	test_route_build(&env, routes, 2);
	ck_assert_int_eq(env.err, -EINVAL);
	ck_assert_msg(env.errs.n == 1, "%u errors, not 1 (first: %s)",
		      env.errs.n, env.errs.n ? env.errs.v[0].reason : "");
	ck_assert_str_eq(env.errs.v[0].file, env.conf.path);
	got = test_route_errstr(&env, 0);
	ck_assert_int_ge(
		asprintf(&want, "%d: %s", TEST_ROUTE_LINE0 + 1, t->reason), 0);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	/* nothing is left built */
	ck_assert_ptr_null(env.rs.v);
	ck_assert_uint_eq(env.rs.n, 0);
	test_route_destroy(&env);
}
END_TEST

/* these are fine: the checks above must not refuse them */
START_TEST(test_route_accepts_edge_statements)
{
	static const char *const routes[] = {
		"{ method = \"GET\"; path = \"/semi\"; db = \"main\"; sql = \"SELECT 1 AS one;\"; }",
		"{ method = \"GET\"; path = \"/comment\"; db = \"main\"; sql = \"SELECT 1 AS one; -- done\"; }",
		"{ method = \"GET\"; path = \"/block\"; db = \"main\"; sql = \"SELECT 1 AS one /* done */ ;\"; }",
		"{ method = \"POST\"; path = \"/exec\"; db = \"main\"; sql = \"UPDATE items SET name = :name\"; result = \"exec\"; }",
		"{ method = \"GET\"; path = \"/pragma_fn\"; db = \"main\"; sql = \"SELECT name FROM pragma_table_info('items')\"; }",
	};
	struct test_route_env env;

	test_route_build_ok(&env, routes, ARRAY_SIZE(routes));
	ck_assert(env.rs.v[3].write);
	ck_assert(!env.rs.v[4].write);
	test_route_destroy(&env);
}
END_TEST

/* every route is checked, and each problem has its own line */
START_TEST(test_route_reports_every_problem_with_its_line)
{
	static const char *const routes[] = {
		/* 6 */
		"{ method = \"GET\"; path = \"/a\"; db = \"main\"; sql = \"SELECT * FROM nope\"; }",
		/* 7 */ test_route_good,
		/* 8..11 */
		"{ method = \"GET\"; path = \"/b\"; db = \"main\";\n"
		"  types = { a = \"int\";\n"
		"            nope = \"int\"; };\n"
		"  sql = \"SELECT :a AS a\"; }",
		/* 12..13 */
		"{ method = \"POST\"; path = \"/c\"; db = \"main\";\n"
		"  sql = ( \"SELECT 1 AS a\", \"SELECT ? AS b\" ); }",
	};
	struct test_route_env env;
	char *s;

	test_route_build(&env, routes, ARRAY_SIZE(routes));
	ck_assert_int_eq(env.err, -EINVAL);
	ck_assert_uint_eq(env.errs.n, 3);
	s = test_route_errstr(&env, 0);
	ck_assert_str_eq(
		s,
		"6: route \"GET /a\": could not prepare: no such table: nope");
	free(s);
	s = test_route_errstr(&env, 1);
	ck_assert_str_eq(
		s,
		"10: route \"GET /b\": types names \"nope\", which no statement uses");
	free(s);
	s = test_route_errstr(&env, 2);
	ck_assert_str_eq(
		s,
		"13: route \"POST /c\": parameter \"?\" cannot be filled: name parameters as :name");
	free(s);
	ck_assert_ptr_null(env.rs.v);
	test_route_destroy(&env);
}
END_TEST

Suite *route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc;

	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_route_matches_requests, 0,
			    ARRAY_SIZE(test_route_matches));
	tcase_add_test(tc, test_route_literal_wins_in_any_order);
	tcase_add_test(tc, test_route_trailing_slash_template);
	tcase_add_test(tc, test_route_template_segments);
	suite_add_tcase(s, tc);

	tc = tcase_create("params");
	tcase_add_test(tc, test_route_params_in_order_of_first_use);
	tcase_add_test(tc, test_route_params_from_earlier_columns);
	tcase_add_test(tc, test_route_params_column_must_precede_every_use);
	tcase_add_test(tc, test_route_params_decorated);
	tcase_add_test(tc, test_route_params_page);
	tcase_add_test(tc, test_route_write_and_result);
	suite_add_tcase(s, tc);

	tc = tcase_create("problems");
	tcase_add_loop_test(tc, test_route_reports_problems, 0,
			    ARRAY_SIZE(test_route_problems));
	tcase_add_test(tc, test_route_accepts_edge_statements);
	tcase_add_test(tc, test_route_reports_every_problem_with_its_line);
	suite_add_tcase(s, tc);
	return s;
}
