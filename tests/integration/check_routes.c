// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/check_routes.c - SQL routes over real SQLite files
 *
 * Every result shape and error code, parameter sources and types, a
 * statement list that fails halfway (checked with the sqlite3 command),
 * injection strings, bursts against small pools, statement timeouts,
 * a client that leaves while queued, and poold -t on route problems.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "tests/integration/harness.h"
#include "tests/integration/suites.h"

static struct h_server srv;
static char db[160];

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE, qty INTEGER NOT NULL CHECK (qty >= 0));\n"
	"CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY,"
	" item_id INTEGER NOT NULL REFERENCES items(id), note TEXT NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS marks (id INTEGER PRIMARY KEY, tag TEXT,"
	" s INTEGER);\n"
	"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	" WHERE i < 5) INSERT OR IGNORE INTO items(id, name, qty)"
	" SELECT i, 'item ' || i, 10 FROM n;\n";

#define DB_CONF(pool, extra)                                   \
	"debug_functions = true;\n"                            \
	"databases = ( { name = \"main\"; path = \"test.db\";" \
	" schema = \"schema.sql\"; " extra " pool = { " pool " }; } );\n"

static const char routes[] =
	"routes = (\n"
	"{ method = \"GET\"; path = \"/items/{id}\"; db = \"main\";\n"
	"  sql = \"SELECT id, name, qty FROM items WHERE id = :id\";\n"
	"  result = \"one\"; types = { id = \"int\"; }; },\n"
	"{ method = \"GET\"; path = \"/items\"; db = \"main\";\n"
	"  sql = \"SELECT id, name FROM items ORDER BY id LIMIT :limit OFFSET :offset\";\n"
	"  result = \"many\"; page = { default = 2; max = 3; }; },\n"
	"{ method = \"POST\"; path = \"/items\"; db = \"main\";\n"
	"  sql = \"INSERT INTO items(name, qty) VALUES (:name, :qty) RETURNING id, name, qty\";\n"
	"  result = \"one\"; status = 201; types = { qty = \"int\"; }; },\n"
	"{ method = \"DELETE\"; path = \"/items/{id}\"; db = \"main\";\n"
	"  sql = ( { sql = \"DELETE FROM items WHERE id = :id\"; on_empty = 404; } );\n"
	"  result = \"exec\"; },\n"
	"{ method = \"POST\"; path = \"/move\"; db = \"main\";\n"
	"  sql = ( \"UPDATE items SET qty = qty - :n WHERE id = :from\",\n"
	"          \"UPDATE items SET qty = qty + :n WHERE id = :to\",\n"
	"          \"INSERT INTO notes(item_id, note) VALUES (:to, :note) RETURNING id\" );\n"
	"  result = \"one\"; optional = [ \"note\" ]; },\n"
	"{ method = \"POST\"; path = \"/take\"; db = \"main\";\n"
	"  sql = ( { sql = \"UPDATE items SET qty = qty - :n WHERE id = :id AND qty >= :n RETURNING qty AS left\"; on_empty = 409; },\n"
	"          \"INSERT INTO notes(item_id, note) VALUES (:id, 'took') RETURNING id, :left AS left\" );\n"
	"  result = \"one\"; status = 201; },\n"
	"{ method = \"GET\"; path = \"/slow/{ms}\"; db = \"main\";\n"
	"  sql = \"SELECT sleep_ms(:ms) AS slept\"; result = \"one\"; },\n"
	"{ method = \"POST\"; path = \"/mark\"; db = \"main\";\n"
	"  sql = \"INSERT INTO marks(tag, s) VALUES (:tag, sleep_ms(:ms)) RETURNING id\";\n"
	"  result = \"one\"; },\n"
	"{ method = \"POST\"; path = \"/echo/{p}\"; db = \"main\";\n"
	"  sql = \"SELECT :p AS p, :j AS j, :q AS q, :h AS h, :t AS t\";\n"
	"  result = \"one\"; optional = [ \"j\", \"q\", \"h\", \"t\" ];\n"
	"  headers = { h = \"X-H\"; }; },\n"
	"{ method = \"POST\"; path = \"/typed\"; db = \"main\";\n"
	"  sql = \"SELECT :i AS i, :r AS r, :b AS b, :x AS x, :bl AS bl, typeof(:bl) AS blt\";\n"
	"  result = \"one\"; optional = [ \"i\", \"r\", \"b\", \"x\", \"bl\" ];\n"
	"  types = { i = \"int\"; r = \"real\"; b = \"bool\"; x = \"text\"; bl = \"blob\"; }; },\n"
	"{ method = \"GET\"; path = \"/before/{id}\"; db = \"main\";\n"
	"  before = ( \"SELECT name AS nm FROM items WHERE id = :id\" );\n"
	"  sql = \"SELECT upper(:nm) AS got\"; result = \"one\"; },\n"
	"{ method = \"POST\"; path = \"/rf\"; db = \"main\";\n"
	"  sql = ( \"INSERT INTO marks(tag) VALUES (:tag) RETURNING id AS first\",\n"
	"          \"SELECT count(*) AS n FROM marks\" );\n"
	"  result = \"one\"; result_from = 1; },\n"
	"{ method = \"GET\"; path = \"/all\"; db = \"main\";\n"
	"  sql = \"SELECT * FROM items\"; result = \"many\"; },\n"
	"{ method = \"POST\"; path = \"/temp\"; db = \"main\";\n"
	"  sql = \"CREATE TEMP TABLE IF NOT EXISTS mine (x)\"; result = \"exec\"; },\n"
	"{ method = \"GET\"; path = \"/temp\"; db = \"main\";\n"
	"  sql = \"SELECT count(*) AS n FROM temp.sqlite_master\"; result = \"one\"; }\n"
	");\n";

static void teardown(void)
{
	h_cleanup(&srv);
}

/* boot with the test schema, these pool settings and extra db keys */
static void boot(unsigned int workers, const char *dbconf, const char *more)
{
	char extra[16384], path[160];

	snprintf(extra, sizeof(extra), "%s\n%s\n%s\n", dbconf, routes, more);
	h_setup(&srv, workers, extra);
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(path, schema);
	snprintf(db, sizeof(db), "%s/test.db", srv.dir);
	h_start(&srv);
}

static int post(const char *path, const char *ctype, const char *body,
		struct h_resp *r)
{
	char req[8192];

	snprintf(req, sizeof(req),
		 "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 path, ctype, strlen(body), body);
	return h_req(srv.port, req, r);
}

#define has(r, s) \
	ck_assert_msg(strstr((r)->body, s), "no %s in %s", s, (r)->body)

START_TEST(test_routes_result_shapes)
{
	struct h_resp r;
	char v[256];

	boot(2, DB_CONF("size = 2;", ""), "");
	ck_assert_int_eq(h_get(srv.port, "/items/3", &r), 200);
	ck_assert_str_eq(r.body, "{\"id\":3,\"name\":\"item 3\",\"qty\":10}\n");
	ck_assert_int_eq(h_get(srv.port, "/items/99", &r), 404);
	has(&r, "\"not_found\"");
	ck_assert_int_eq(h_get(srv.port, "/items/abc", &r), 400);
	has(&r, "\"bad_param\"");
	/* many, paged: default 2, Link to the next page */
	ck_assert_int_eq(h_get(srv.port, "/items", &r), 200);
	ck_assert_str_eq(
		r.body,
		"[{\"id\":1,\"name\":\"item 1\"},{\"id\":2,\"name\":\"item 2\"}]\n");
	ck_assert_str_eq(h_header(&r, "Link", v, sizeof(v)),
			 "</items?limit=2&offset=2>; rel=\"next\"");
	ck_assert_int_eq(h_get(srv.port, "/items?limit=100&offset=3&x=1", &r),
			 200);
	ck_assert_str_eq(
		r.body,
		"[{\"id\":4,\"name\":\"item 4\"},{\"id\":5,\"name\":\"item 5\"}]\n");
	ck_assert_ptr_null(h_header(&r, "Link", v, sizeof(v)));
	ck_assert_int_eq(h_get(srv.port, "/items?limit=1&x=y", &r), 200);
	ck_assert_str_eq(h_header(&r, "Link", v, sizeof(v)),
			 "</items?x=y&limit=1&offset=1>; rel=\"next\"");
	ck_assert_int_eq(h_get(srv.port, "/items?limit=-1", &r), 400);
	/* one, from a write; 201 */
	ck_assert_int_eq(post("/items", "application/json",
			      "{\"name\":\"new\",\"qty\":7}", &r),
			 201);
	ck_assert_str_eq(r.body, "{\"id\":6,\"name\":\"new\",\"qty\":7}\n");
	/* exec */
	ck_assert_int_eq(h_req(srv.port,
			       "DELETE /items/6 HTTP/1.1\r\nHost: x\r\n\r\n",
			       &r),
			 200);
	/* last_insert_id is the connection's own: any pool connection */
	ck_assert_ptr_nonnull(
		strstr(r.body, "{\"changes\":1,\"last_insert_id\":"));
	ck_assert_int_eq(h_req(srv.port,
			       "DELETE /items/6 HTTP/1.1\r\nHost: x\r\n\r\n",
			       &r),
			 404);
	/* result_from = 1 */
	ck_assert_int_eq(post("/rf", "application/json", "{\"tag\":\"t\"}", &r),
			 200);
	ck_assert_str_eq(r.body, "{\"first\":1}\n");
	/* many without rows */
	ck_assert_int_eq(h_get(srv.port, "/all?x=1", &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "[{\"id\":1,"));
	h_stop(&srv);
}
END_TEST

START_TEST(test_routes_methods_and_head)
{
	struct h_resp r;
	char v[128];
	int fd;

	boot(1, DB_CONF("size = 1;", ""), "");
	ck_assert_int_eq(h_req(srv.port,
			       "PATCH /items/1 HTTP/1.1\r\nHost: x\r\n\r\n",
			       &r),
			 405);
	ck_assert_str_eq(h_header(&r, "Allow", v, sizeof(v)),
			 "GET, HEAD, DELETE");
	has(&r, "\"method_not_allowed\"");
	ck_assert_int_eq(h_get(srv.port, "/nothing/here", &r), 404);
	fd = h_connect(srv.port);
	h_sends(fd, "HEAD /items/1 HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(h_read_resp_ex(fd, &r, true), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(h_header(&r, "Content-Length", v, sizeof(v)), "34");
	close(fd);
	h_stop(&srv);
}
END_TEST

START_TEST(test_routes_param_sources)
{
	struct h_resp r;

	boot(1, DB_CONF("size = 1;", ""), "");
	/* path beats body beats query; headers last */
	ck_assert_int_eq(
		h_req(srv.port,
		      "POST /echo/pa%2Fth?p=no&q=qu+ery&j=no HTTP/1.1\r\nHost: x\r\n"
		      "X-H: header\r\nContent-Type: application/json\r\n"
		      "Content-Length: 26\r\n\r\n{\"p\":\"no\",\"j\":[1,{\"a\":2}]}",
		      &r),
		200);
	ck_assert_str_eq(
		r.body,
		"{\"p\":\"pa/th\",\"j\":\"[1,{\\\"a\\\":2}]\",\"q\":\"qu ery\",\"h\":\"header\",\"t\":null}\n");
	/* a form body */
	ck_assert_int_eq(post("/echo/x", "application/x-www-form-urlencoded",
			      "j=%C3%A9t%C3%A9&t=a+b", &r),
			 200);
	ck_assert_str_eq(
		r.body,
		"{\"p\":\"x\",\"j\":\"\xc3\xa9t\xc3\xa9\",\"q\":null,\"h\":null,\"t\":\"a b\"}\n");
	/* refused before any SQL */
	ck_assert_int_eq(post("/echo/x", "application/json",
			      "{\"j\":1,\"j\":2}", &r),
			 400);
	has(&r, "\"bad_param\"");
	ck_assert_int_eq(post("/echo/x", "application/json", "[1]", &r), 400);
	ck_assert_int_eq(post("/echo/x", "application/json", "{bad", &r), 400);
	ck_assert_int_eq(post("/echo/x", "text/plain", "hello", &r), 415);
	has(&r, "\"unsupported_media_type\"");
	ck_assert_int_eq(post("/items", "application/json", "{}", &r), 400);
	has(&r, "missing parameters: name, qty");
	h_stop(&srv);
}
END_TEST

START_TEST(test_routes_types)
{
	struct h_resp r;

	boot(1, DB_CONF("size = 1;", ""), "");
	ck_assert_int_eq(
		post("/typed", "application/json",
		     "{\"i\":\"42\",\"r\":3,\"b\":\"true\",\"x\":12.5,\"bl\":\"AAEC/w==\"}",
		     &r),
		200);
	ck_assert_str_eq(
		r.body,
		"{\"i\":42,\"r\":3,\"b\":1,\"x\":\"12.5\",\"bl\":\"AAEC/w==\",\"blt\":\"blob\"}\n");
	ck_assert_int_eq(post("/typed", "application/json",
			      "{\"b\":false,\"i\":7.0}", &r),
			 200);
	ck_assert_str_eq(
		r.body,
		"{\"i\":7,\"r\":null,\"b\":0,\"x\":null,\"bl\":null,\"blt\":\"null\"}\n");
	ck_assert_int_eq(
		post("/typed", "application/json", "{\"i\":\"4x\"}", &r), 400);
	has(&r, "parameter \\\"i\\\" is not a valid int");
	ck_assert_int_eq(post("/typed", "application/json", "{\"i\":1.5}", &r),
			 400);
	ck_assert_int_eq(post("/typed", "application/json", "{\"b\":\"maybe\"}",
			      &r),
			 400);
	ck_assert_int_eq(
		post("/typed", "application/json", "{\"bl\":\"!!\"}", &r), 400);
	ck_assert_int_eq(
		post("/typed", "application/json", "{\"r\":\"nan\"}", &r), 400);
	h_stop(&srv);
}
END_TEST

START_TEST(test_routes_constraints_and_conflicts)
{
	struct h_resp r;

	boot(1, DB_CONF("size = 2;", ""), "");
	ck_assert_int_eq(post("/items", "application/json",
			      "{\"name\":\"item 1\",\"qty\":1}", &r),
			 409);
	has(&r, "\"conflict\"");
	has(&r, "\"sqlite\":\"SQLITE_CONSTRAINT_UNIQUE\"");
	ck_assert_int_eq(post("/items", "application/json",
			      "{\"name\":\"neg\",\"qty\":-1}", &r),
			 400);
	has(&r, "\"constraint\"");
	has(&r, "SQLITE_CONSTRAINT_CHECK");
	ck_assert_int_eq(post("/items", "application/json",
			      "{\"name\":null,\"qty\":1}", &r),
			 400);
	has(&r, "SQLITE_CONSTRAINT_NOTNULL");
	/* on_empty: not enough stock -> 409, nothing written */
	ck_assert_int_eq(post("/take", "application/json",
			      "{\"id\":1,\"n\":11}", &r),
			 409);
	has(&r, "\"conflict\"");
	ck_assert_int_eq(post("/take", "application/json", "{\"id\":1,\"n\":4}",
			      &r),
			 201);
	ck_assert_str_eq(r.body, "{\"id\":1,\"left\":6}\n");
	ck_assert_int_eq(h_sql(db, "SELECT qty FROM items WHERE id = 1"), 6);
	ck_assert_int_eq(h_sql(db, "SELECT count(*) FROM notes"), 1);
	h_stop(&srv);
}
END_TEST

/* a list failing at its third statement leaves nothing of the first two */
START_TEST(test_routes_list_is_atomic)
{
	struct h_resp r;

	boot(1, DB_CONF("size = 1;", ""), "");
	ck_assert_int_eq(post("/move", "application/json",
			      "{\"from\":1,\"to\":2,\"n\":3}", &r),
			 400);
	has(&r, "SQLITE_CONSTRAINT_NOTNULL"); /* note is NULL */
	ck_assert_int_eq(h_sql(db, "SELECT qty FROM items WHERE id = 1"), 10);
	ck_assert_int_eq(h_sql(db, "SELECT qty FROM items WHERE id = 2"), 10);
	ck_assert_int_eq(h_sql(db, "SELECT count(*) FROM notes"), 0);
	ck_assert_int_eq(post("/move", "application/json",
			      "{\"from\":1,\"to\":2,\"n\":3,\"note\":\"ok\"}",
			      &r),
			 200);
	ck_assert_int_eq(h_sql(db, "SELECT qty FROM items WHERE id = 1"), 7);
	ck_assert_int_eq(h_sql(db, "SELECT qty FROM items WHERE id = 2"), 13);
	/* a FOREIGN KEY failure: 409, and again nothing moved */
	ck_assert_int_eq(post("/move", "application/json",
			      "{\"from\":1,\"to\":77,\"n\":3,\"note\":\"x\"}",
			      &r),
			 409);
	has(&r, "SQLITE_CONSTRAINT_FOREIGNKEY");
	ck_assert_int_eq(h_sql(db, "SELECT qty FROM items WHERE id = 1"), 7);
	/* before statements feed later ones by column name */
	ck_assert_int_eq(h_get(srv.port, "/before/2", &r), 200);
	ck_assert_str_eq(r.body, "{\"got\":\"ITEM 2\"}\n");
	h_stop(&srv);
}
END_TEST

START_TEST(test_routes_injection_verbatim)
{
	static const char *const evil[] = {
		"x'); DROP TABLE items; --",
		"\\\" OR 1=1 --",
		"Robert'); DELETE FROM items WHERE ('1'='1",
		":name",
	};
	char body[256], path[64];
	struct h_resp r;
	unsigned int i;

	boot(1, DB_CONF("size = 1;", ""), "");
	for (i = 0; i < 4; i++) {
		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"qty\":1}",
			 evil[i]);
		ck_assert_int_eq(post("/items", "application/json", body, &r),
				 201);
		snprintf(path, sizeof(path), "/items/%u", 6 + i);
		ck_assert_int_eq(h_get(srv.port, path, &r), 200);
		snprintf(body, sizeof(body), "\"name\":\"%s\"", evil[i]);
		has(&r, body);
	}
	ck_assert_int_eq(h_sql(db, "SELECT count(*) FROM items"), 9);
	h_stop(&srv);
}
END_TEST

/* 30 parallel requests on a 50 ms route, 2 workers x pool 4: all 200 */
START_TEST(test_routes_burst_all_served)
{
	struct h_burst_res res[30];
	int i, n;

	boot(2, DB_CONF("size = 4; acquire_timeout_ms = 5000;", ""), "");
	n = h_burst(srv.port, "GET /slow/50 HTTP/1.1\r\nHost: x\r\n\r\n", 30,
		    res, 20000);
	ck_assert_int_eq(n, 30);
	for (i = 0; i < 30; i++) {
		ck_assert_int_eq(res[i].status, 200);
		ck_assert_str_eq(res[i].body, "{\"slept\":50}\n");
	}
	h_stop(&srv);
}
END_TEST

/* 200 parallel with max_waiters 4: 200s and fast 503s, none too late */
START_TEST(test_routes_burst_bounded)
{
	enum { N = 200 };
	static struct h_burst_res res[N];
	int i, n, ok = 0, full = 0;

	boot(2,
	     DB_CONF("size = 2; max_waiters = 4; acquire_timeout_ms = 1000;",
		     ""),
	     "");
	n = h_burst(srv.port, "GET /slow/100 HTTP/1.1\r\nHost: x\r\n\r\n", N,
		    res, 20000);
	ck_assert_int_eq(n, N);
	for (i = 0; i < N; i++) {
		if (res[i].status == 200) {
			ok++;
			continue;
		}
		ck_assert_int_eq(res[i].status, 503);
		ck_assert(res[i].retry_after);
		ck_assert_msg(strstr(res[i].body, "\"pool_full\"") ||
				      strstr(res[i].body, "\"pool_timeout\""),
			      "%s", res[i].body);
		full++;
		/* acquire_timeout 1000 + the route's 100 ms, with slack for
		 * slow machines; a hang would be 20 s */
		ck_assert_int_lt(res[i].ms, 4000);
	}
	ck_assert_int_ge(ok, 4);
	ck_assert_int_gt(full, 0);
	h_stop(&srv);
}
END_TEST

START_TEST(test_routes_timeouts)
{
	struct h_burst_res res[3];
	struct h_resp r;
	int i, n, timeouts = 0;

	boot(1,
	     DB_CONF("size = 1; acquire_timeout_ms = 200;",
		     "statement_timeout_ms = 300;"),
	     "");
	ck_assert_int_eq(h_get(srv.port, "/slow/2000", &r), 503);
	has(&r, "\"statement_timeout\"");
	has(&r, "SQLITE_INTERRUPT");
	ck_assert_ptr_nonnull(h_header(&r, "Retry-After", (char[16]){ 0 }, 16));
	/* one executor busy 250 ms: the others wait 200 ms at most */
	n = h_burst(srv.port, "GET /slow/250 HTTP/1.1\r\nHost: x\r\n\r\n", 3,
		    res, 10000);
	ck_assert_int_eq(n, 3);
	for (i = 0; i < 3; i++) {
		if (res[i].status == 503 &&
		    strstr(res[i].body, "\"pool_timeout\""))
			timeouts++;
	}
	ck_assert_int_ge(timeouts, 1);
	h_stop(&srv);
}
END_TEST

/* a queued request whose client resets costs no executor: never runs */
START_TEST(test_routes_gone_while_queued)
{
	struct h_resp r;
	int a, b, c;

	boot(1, DB_CONF("size = 1; acquire_timeout_ms = 10000;", ""), "");
	a = h_connect(srv.port);
	h_sends(a,
		"POST /mark HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Content-Length: 24\r\n\r\n{\"tag\":\"a\",\"ms\":\"800\"}  ");
	usleep(150000); /* a runs */
	b = h_connect(srv.port);
	h_sends(b,
		"POST /mark HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Content-Length: 22\r\n\r\n{\"tag\":\"b\",\"ms\":\"0\"}  ");
	usleep(150000); /* b waits in the queue */
	{
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(b, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(b); /* RST */
	}
	c = h_connect(srv.port);
	h_sends(c,
		"POST /mark HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Content-Length: 22\r\n\r\n{\"tag\":\"c\",\"ms\":\"0\"}  ");
	ck_assert_int_eq(h_read_resp(a, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(h_read_resp(c, &r), 0);
	ck_assert_int_eq(r.status, 200);
	close(a);
	close(c);
	ck_assert_int_eq(
		h_sql(db, "SELECT count(*) FROM marks WHERE tag = 'a'"), 1);
	ck_assert_int_eq(
		h_sql(db, "SELECT count(*) FROM marks WHERE tag = 'b'"), 0);
	ck_assert_int_eq(
		h_sql(db, "SELECT count(*) FROM marks WHERE tag = 'c'"), 1);
	h_stop(&srv);
}
END_TEST

START_TEST(test_routes_too_large_result)
{
	char body[1200];
	struct h_resp r;

	boot(1, DB_CONF("size = 1;", ""),
	     "limits = { max_response_bytes = 1024; };");
	memset(body, 'a', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memcpy(body, "{\"qty\":1,\"name\":\"", 17);
	memcpy(body + sizeof(body) - 3, "\"}", 2);
	ck_assert_int_eq(post("/items", "application/json", body, &r), 500);
	has(&r, "\"too_large_result\"");
	/* the insert was rolled back with it */
	ck_assert_int_eq(h_sql(db, "SELECT count(*) FROM items"), 5);
	ck_assert_int_eq(h_get(srv.port, "/items/1", &r), 200);
	h_stop(&srv);
}
END_TEST

/* an outside sqlite3 holds the write lock: writes wait, then 503 */
START_TEST(test_routes_lock_timeout)
{
	char cmd[512];
	struct h_resp r;
	long long t0;

	boot(1, DB_CONF("size = 1;", "busy_timeout_ms = 300;"), "");
	snprintf(
		cmd, sizeof(cmd),
		"(echo 'BEGIN IMMEDIATE; UPDATE items SET qty = 1 WHERE id = 5;'; sleep 2; echo 'COMMIT;') | sqlite3 '%s' &",
		db);
	ck_assert_int_eq(system(cmd), 0);
	usleep(500000);
	t0 = h_now_ms();
	ck_assert_int_eq(post("/items", "application/json",
			      "{\"name\":\"w\",\"qty\":1}", &r),
			 503);
	has(&r, "\"lock_timeout\"");
	has(&r, "SQLITE_BUSY");
	ck_assert_int_ge(h_now_ms() - t0, 250);
	/* reads go on meanwhile (WAL) */
	ck_assert_int_eq(h_get(srv.port, "/items/1", &r), 200);
	sleep(2);
	ck_assert_int_eq(post("/items", "application/json",
			      "{\"name\":\"w\",\"qty\":1}", &r),
			 201);
	h_stop(&srv);
}
END_TEST

/* -t reports route problems with file:line; nothing is created */
START_TEST(test_routes_config_test)
{
	static const struct {
		const char *sql;
		const char *want;
	} bad[] = {
		{ "SELECT * FROM nope", "no such table: nope" },
		{ "ATTACH 'x.db' AS x", "statement refused" },
		{ "PRAGMA user_version", "statement refused" },
		{ "BEGIN", "statement refused" },
		{ "SAVEPOINT s", "statement refused" },
		{ "SELECT 1; SELECT 2", "one statement per entry" },
		{ "SELECT ?", "cannot be filled" },
	};
	char conf[4096], cmd[512], out[4096], path[160];
	unsigned int i;

	h_setup(&srv, 1, "");
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(path, schema);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(
			conf, sizeof(conf),
			"databases = ( { name = \"main\"; path = \"never.db\"; schema = \"schema.sql\"; } );\n"
			"routes = (\n{ method = \"GET\"; path = \"/x\"; db = \"main\";\n"
			"  sql = \"%s\"; } );\n",
			bad[i].sql);
		h_write_file(srv.conf, conf);
		snprintf(cmd, sizeof(cmd), "%s -t -c %s 2>&1", h_bin(),
			 srv.conf);
		ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 1);
		snprintf(cmd, sizeof(cmd),
			 "%s:4: route \"GET /x\": ", srv.conf);
		ck_assert_msg(strstr(out, cmd) && strstr(out, bad[i].want),
			      "%s: got %s", bad[i].sql, out);
	}
	snprintf(path, sizeof(path), "%s/never.db", srv.dir);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* a schema that fails */
	snprintf(path, sizeof(path), "%s/schema.sql", srv.dir);
	h_write_file(path,
		     "CREATE TABLE t (x);\nPRAGMA journal_mode = delete;\n");
	snprintf(
		conf, sizeof(conf),
		"databases = ( { name = \"main\"; path = \"never.db\";\n schema = \"schema.sql\"; } );\n");
	h_write_file(srv.conf, conf);
	snprintf(cmd, sizeof(cmd), "%s -t -c %s 2>&1", h_bin(), srv.conf);
	ck_assert_int_eq(h_run(cmd, out, sizeof(out)), 1);
	snprintf(cmd, sizeof(cmd), "%s:2: schema", srv.conf);
	ck_assert_msg(strstr(out, cmd), "got %s", out);
}
END_TEST

/* a connection lives max_lifetime_s, then is reopened between jobs */
START_TEST(test_routes_connection_recycled)
{
	struct h_resp r;
	int i;

	boot(1, DB_CONF("size = 1; max_lifetime_s = 1;", ""), "");
	ck_assert_int_eq(h_req(srv.port,
			       "POST /temp HTTP/1.1\r\nHost: x\r\n\r\n", &r),
			 200);
	ck_assert_int_eq(h_get(srv.port, "/temp", &r), 200);
	ck_assert_str_eq(r.body, "{\"n\":1}\n"); /* the same connection */
	usleep(1200000);
	/* the job after the lifetime still runs on the old connection;
	 * the connection is replaced right after it */
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(h_get(srv.port, "/temp", &r), 200);
	ck_assert_str_eq(r.body, "{\"n\":0}\n"); /* a new connection */
	h_stop(&srv);
}
END_TEST

/* many connections, pipelined requests for different rows: every answer
 * is the one its request asked for, in order */
START_TEST(test_routes_no_crosstalk)
{
	enum { CONNS = 40, EACH = 10 };
	char req[4096], want[64];
	int fds[CONNS], i, k;
	struct h_resp r;

	boot(2, DB_CONF("size = 4;", ""), "");
	for (i = 0; i < CONNS; i++) {
		fds[i] = h_connect(srv.port);
		req[0] = '\0';
		for (k = 0; k < EACH; k++)
			snprintf(req + strlen(req), sizeof(req) - strlen(req),
				 "GET /items/%d HTTP/1.1\r\nHost: x\r\n\r\n",
				 (i + k) % 5 + 1);
		h_sends(fds[i], req);
	}
	for (i = 0; i < CONNS; i++) {
		for (k = 0; k < EACH; k++) {
			ck_assert_int_eq(h_read_resp(fds[i], &r), 0);
			ck_assert_int_eq(r.status, 200);
			snprintf(want, sizeof(want),
				 "{\"id\":%d,\"name\":\"item %d\"",
				 (i + k) % 5 + 1, (i + k) % 5 + 1);
			ck_assert_msg(!strncmp(r.body, want, strlen(want)),
				      "conn %d req %d: %s", i, k, r.body);
		}
		close(fds[i]);
	}
	h_stop(&srv);
}
END_TEST

Suite *routes_suite(void)
{
	Suite *s = suite_create("routes");
	TCase *tc = tcase_create("routes");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_routes_result_shapes);
	tcase_add_test(tc, test_routes_methods_and_head);
	tcase_add_test(tc, test_routes_param_sources);
	tcase_add_test(tc, test_routes_types);
	tcase_add_test(tc, test_routes_constraints_and_conflicts);
	tcase_add_test(tc, test_routes_list_is_atomic);
	tcase_add_test(tc, test_routes_injection_verbatim);
	tcase_add_test(tc, test_routes_burst_all_served);
	tcase_add_test(tc, test_routes_burst_bounded);
	tcase_add_test(tc, test_routes_timeouts);
	tcase_add_test(tc, test_routes_gone_while_queued);
	tcase_add_test(tc, test_routes_too_large_result);
	tcase_add_test(tc, test_routes_lock_timeout);
	tcase_add_test(tc, test_routes_config_test);
	tcase_add_test(tc, test_routes_connection_recycled);
	tcase_add_test(tc, test_routes_no_crosstalk);
	suite_add_tcase(s, tc);
	return s;
}
