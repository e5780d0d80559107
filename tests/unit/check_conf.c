// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_conf.c - conf_load(): values, defaults, paths, errors
 *
 * Every case reads a file of tests/unit/conf/, located from the cwd the
 * unit runner is started in (the repository root).  Error cases compare the
 * whole "file:line: reason" string, the file being the absolute path of the
 * test file, so a wrong line, a wrong file or a reworded message all fail.
 * design_example.conf is DESIGN.md's configuration, verbatim, with a
 * schema.sql next to it: the documented example must load as it is.
 * Cases about relative paths compute what they expect first, then chdir()
 * elsewhere before loading: a path resolved against the cwd instead of the
 * file's directory fails them.  A checked fixture puts the cwd back, so the
 * cases stay independent under CK_FORK=no too.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <check.h>

#include "lib/conf.h"
#include "lib/util.h"
#include "tests/unit/suites.h"

#define TEST_CONF_DIR "tests/unit/conf"

static int test_conf_cwd_fd = -1;

static void test_conf_save_cwd(void)
{
	test_conf_cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(test_conf_cwd_fd, 0);
}

static void test_conf_restore_cwd(void)
{
	ck_assert_int_eq(fchdir(test_conf_cwd_fd), 0);
	close(test_conf_cwd_fd);
	test_conf_cwd_fd = -1;
}

/* absolute path of tests/unit/conf/@name (or of the directory: NULL) */
static char *test_conf_abs(const char *name)
{
	char rel[PATH_MAX];
	char *abs;

	snprintf(rel, sizeof(rel), "%s%s%s", TEST_CONF_DIR, name ? "/" : "",
		 name ? name : "");
	abs = realpath(rel, NULL);
	ck_assert_msg(abs, "realpath(%s): %s", rel, strerror(errno));
	return abs;
}

/* "file:line: reason", as poold -t prints it; caller frees */
static char *test_conf_errstr(const struct conf_err *e)
{
	char *s;

	ck_assert_int_ge(asprintf(&s, "%s:%d: %s", e->file, e->line, e->reason),
			 0);
	return s;
}

static void test_conf_load_ok(struct conf *c, const char *path)
{
	struct conf_errs errs = { 0 };
	char *first = NULL;
	int err;

	err = conf_load(c, path, &errs);
	if (errs.n)
		first = test_conf_errstr(&errs.v[0]);
	ck_assert_msg(err == 0 && errs.n == 0, "%s: err %d, %u errors: %s",
		      path, err, errs.n, first ? first : "");
	free(first);
	conf_errs_destroy(&errs);
}

static void test_conf_assert_zeroed(const struct conf *c)
{
	static const struct conf zero;

	ck_assert(!memcmp(c, &zero, sizeof(zero)));
}

static int test_conf_port(const struct conf_listen *l)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&l->addr;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&l->addr;

	if (l->family == AF_INET)
		return ntohs(in->sin_port);
	ck_assert_int_eq(l->family, AF_INET6);
	return ntohs(in6->sin6_port);
}

static void test_conf_assert_v4(const struct conf_listen *l, const char *ip,
				int port)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&l->addr;
	struct in_addr want;

	ck_assert_int_eq(inet_pton(AF_INET, ip, &want), 1);
	ck_assert_int_eq(l->family, AF_INET);
	ck_assert_int_eq(in->sin_family, AF_INET);
	ck_assert_uint_eq(l->addrlen, sizeof(*in));
	ck_assert_uint_eq(in->sin_addr.s_addr, want.s_addr);
	ck_assert_int_eq(test_conf_port(l), port);
	ck_assert_ptr_null(l->path);
}

static void test_conf_assert_v6(const struct conf_listen *l, const char *ip,
				int port)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&l->addr;
	struct in6_addr want;

	ck_assert_int_eq(inet_pton(AF_INET6, ip, &want), 1);
	ck_assert_int_eq(l->family, AF_INET6);
	ck_assert_int_eq(in6->sin6_family, AF_INET6);
	ck_assert_uint_eq(l->addrlen, sizeof(*in6));
	ck_assert(!memcmp(&in6->sin6_addr, &want, sizeof(want)));
	ck_assert_int_eq(test_conf_port(l), port);
	ck_assert_ptr_null(l->path);
}

static void test_conf_assert_unix(const struct conf_listen *l, const char *path)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&l->addr;

	ck_assert_int_eq(l->family, AF_UNIX);
	ck_assert_int_eq(un->sun_family, AF_UNIX);
	ck_assert_str_eq(un->sun_path, path);
	ck_assert_str_eq(l->path, path);
	ck_assert_uint_eq(l->addrlen, offsetof(struct sockaddr_un, sun_path) +
					      strlen(path) + 1);
}

START_TEST(test_conf_good_sets_every_key)
{
	struct passwd *pw = getpwnam("root");
	char *file = test_conf_abs("good.conf");
	char *dir = test_conf_abs(NULL);
	struct conf c;

	ck_assert_ptr_nonnull(pw);
	test_conf_load_ok(&c, TEST_CONF_DIR "/good.conf");
	ck_assert_str_eq(c.path, file);
	ck_assert_str_eq(c.dir, dir);

	ck_assert_uint_eq(c.nlisten, 3);
	test_conf_assert_v4(&c.listen[0], "127.0.0.1", 18080);
	ck_assert_str_eq(c.listen[0].spec, "127.0.0.1:18080");
	ck_assert_int_eq(c.listen[0].line, 2);
	test_conf_assert_v6(&c.listen[1], "::1", 18081);
	ck_assert_str_eq(c.listen[1].spec, "[::1]:18081");
	test_conf_assert_unix(&c.listen[2], "/tmp/poold-unit.sock");
	ck_assert_str_eq(c.listen[2].spec, "unix:/tmp/poold-unit.sock");
	ck_assert_ptr_nonnull(c.status_listen);
	test_conf_assert_v4(c.status_listen, "127.0.0.1", 18090);
	ck_assert_int_eq(c.status_listen->line, 12);

	ck_assert_uint_eq(c.workers, 3);
	ck_assert_uint_eq(c.max_workers, 16);
	ck_assert_int_eq(c.backlog, 511);
	ck_assert_str_eq(c.pidfile, "/tmp/poold-unit.pid");
	ck_assert_str_eq(c.shm_name, "/poold_unit");
	ck_assert_str_eq(c.user, "root");
	ck_assert_uint_eq(c.uid, pw->pw_uid);
	ck_assert_uint_eq(c.gid, pw->pw_gid);
	ck_assert_uint_eq(c.rlimit_nofile, 4096);
	ck_assert_uint_eq(c.worker_timeout_s, 10);
	ck_assert_uint_eq(c.reload_timeout_ms, 5000);
	ck_assert(c.debug_functions);

	ck_assert_int_eq(c.log.level, CONF_LOG_DEBUG);
	ck_assert_str_eq(c.log.file, "/tmp/poold-unit.log");
	ck_assert_str_eq(c.log.access_log, "-");
	ck_assert(!c.log.redact_query);

	ck_assert_uint_eq(c.limits.max_connections, 500);
	ck_assert_uint_eq(c.limits.header_timeout_ms, 1000);
	ck_assert_uint_eq(c.limits.body_timeout_ms, 2000);
	ck_assert_uint_eq(c.limits.write_timeout_ms, 3000);
	ck_assert_uint_eq(c.limits.keepalive_timeout_ms, 4000);
	ck_assert_uint_eq(c.limits.max_header_bytes, 8192);
	ck_assert_uint_eq(c.limits.max_body_bytes, 0);
	ck_assert_uint_eq(c.limits.max_response_bytes, 1073741824);

	ck_assert_uint_eq(c.shutdown.grace_ms, 250);
	ck_assert_uint_eq(c.shutdown.drain_timeout_ms, 9000);

	conf_destroy(&c);
	test_conf_assert_zeroed(&c);
	free(dir);
	free(file);
}
END_TEST

/* "@dir/@name", for paths resolved against the directory of the file */
static void test_conf_in_dir(char *buf, size_t size, const char *dir,
			     const char *name)
{
	ck_assert_int_lt(snprintf(buf, size, "%s/%s", dir, name), (int)size);
}

static void test_conf_assert_stmt(const struct conf_stmt *st, const char *sql,
				  int line, int on_empty)
{
	ck_assert_str_eq(st->sql, sql);
	ck_assert_int_eq(st->line, line);
	ck_assert_int_eq(st->on_empty, on_empty);
}

static void test_conf_assert_pool_defaults(const struct conf_db *d)
{
	ck_assert_uint_eq(d->pool.size, 4);
	ck_assert_uint_eq(d->pool.acquire_timeout_ms, 2000);
	ck_assert_uint_eq(d->pool.max_waiters, 1024);
	ck_assert_uint_eq(d->pool.max_lifetime_s, 1800);
}

/* every key of @d but name, path, schema and pool at its default */
static void test_conf_assert_db_defaults(const struct conf_db *d)
{
	ck_assert_str_eq(d->journal_mode, "wal");
	ck_assert_str_eq(d->synchronous, "normal");
	ck_assert(d->foreign_keys);
	ck_assert_uint_eq(d->cache_size_kb, 2048);
	ck_assert_uint_eq(d->busy_timeout_ms, 5000);
	ck_assert_uint_eq(d->statement_timeout_ms, 5000);
	ck_assert_uint_eq(d->wal_limit_mb, 64);
	ck_assert_uint_eq(d->checkpoint_interval_ms, 1000);
}

START_TEST(test_conf_db_defaults)
{
	char *dir = test_conf_abs(NULL);
	char path[PATH_MAX];
	const struct conf_db *d;
	struct conf c;

	test_conf_in_dir(path, sizeof(path), dir, "data/main.db");
	test_conf_load_ok(&c, TEST_CONF_DIR "/db_defaults.conf");
	ck_assert_uint_eq(c.ndbs, 1);
	ck_assert_ptr_null(c.routes);
	ck_assert_uint_eq(c.nroutes, 0);
	d = &c.dbs[0];
	ck_assert_str_eq(d->name, "main");
	ck_assert_int_eq(d->line, 2);
	ck_assert_str_eq(d->path, path);
	ck_assert_ptr_null(d->schema);
	ck_assert_int_eq(d->schema_line, 0);
	test_conf_assert_db_defaults(d);
	test_conf_assert_pool_defaults(d);
	conf_destroy(&c);
	test_conf_assert_zeroed(&c);
	free(dir);
}
END_TEST

START_TEST(test_conf_dbs_set_every_key)
{
	char *dir = test_conf_abs(NULL);
	char schema[PATH_MAX], logs[PATH_MAX], archive[PATH_MAX];
	const struct conf_db *d;
	struct conf c;

	test_conf_in_dir(schema, sizeof(schema), dir, "schema.sql");
	test_conf_in_dir(logs, sizeof(logs), dir, "logs.db");
	test_conf_in_dir(archive, sizeof(archive), dir, "../archive.db");
	test_conf_load_ok(&c, TEST_CONF_DIR "/dbs.conf");
	ck_assert_uint_eq(c.ndbs, 3);
	ck_assert_uint_eq(c.nroutes, 0); /* routes = ( ); */

	d = &c.dbs[0];
	ck_assert_str_eq(d->name, "main");
	ck_assert_int_eq(d->line, 3);
	ck_assert_str_eq(d->path, "/tmp/poold-unit-main.db");
	ck_assert_str_eq(d->schema, schema);
	ck_assert_int_eq(d->schema_line, 6);
	ck_assert_str_eq(d->journal_mode, "delete");
	ck_assert_str_eq(d->synchronous, "full");
	ck_assert(!d->foreign_keys);
	ck_assert_uint_eq(d->cache_size_kb, 0);
	ck_assert_uint_eq(d->busy_timeout_ms, 3600000);
	ck_assert_uint_eq(d->statement_timeout_ms, 0);
	ck_assert_uint_eq(d->wal_limit_mb, 65536);
	ck_assert_uint_eq(d->checkpoint_interval_ms, 10);
	ck_assert_uint_eq(d->pool.size, 256);
	ck_assert_uint_eq(d->pool.acquire_timeout_ms, 1);
	ck_assert_uint_eq(d->pool.max_waiters, 0);
	ck_assert_uint_eq(d->pool.max_lifetime_s, 604800);

	d = &c.dbs[1];
	ck_assert_str_eq(d->name, "_logs2");
	ck_assert_int_eq(d->line, 17);
	ck_assert_str_eq(d->path, logs);
	ck_assert_ptr_null(d->schema); /* "" = none */
	ck_assert_int_eq(d->schema_line, 17);
	ck_assert_str_eq(d->journal_mode, "truncate");
	ck_assert_str_eq(d->synchronous, "off");
	test_conf_assert_pool_defaults(d);

	d = &c.dbs[2];
	ck_assert_str_eq(d->name, "Archive");
	ck_assert_int_eq(d->line, 18);
	ck_assert_str_eq(d->path, archive);
	ck_assert_str_eq(d->schema, "/dev/null");
	ck_assert_int_eq(d->schema_line, 19);
	ck_assert_str_eq(d->journal_mode, "persist");
	ck_assert_str_eq(d->synchronous, "extra");
	ck_assert(d->foreign_keys);
	ck_assert_uint_eq(d->pool.size, 1);
	ck_assert_uint_eq(d->pool.acquire_timeout_ms, 2000);
	conf_destroy(&c);
	free(dir);
}
END_TEST

/* the routes of routes.conf that take every default */
static void test_conf_assert_route_simple(const struct conf_route *r,
					  const char *method, const char *path,
					  int line)
{
	ck_assert_str_eq(r->method, method);
	ck_assert_str_eq(r->path, path);
	ck_assert_int_eq(r->line, line);
	ck_assert_str_eq(r->db, "main");
	ck_assert_uint_eq(r->db_index, 0);
	ck_assert_uint_eq(r->nsql, 1);
	ck_assert_ptr_null(r->before);
	ck_assert_uint_eq(r->nbefore, 0);
	ck_assert_uint_eq(r->result_from, 0);
	ck_assert_uint_eq(r->noptional, 0);
	ck_assert_uint_eq(r->nheaders, 0);
	ck_assert(!r->has_page);
}

START_TEST(test_conf_routes_simple)
{
	const struct conf_route *r;
	struct conf c;

	test_conf_load_ok(&c, TEST_CONF_DIR "/routes.conf");
	ck_assert_uint_eq(c.ndbs, 2);
	ck_assert_uint_eq(c.nroutes, 7);

	r = &c.routes[0];
	test_conf_assert_route_simple(r, "GET", "/", 8);
	test_conf_assert_stmt(&r->sql[0], "SELECT 1 AS ok", 8, 0);
	ck_assert_int_eq(r->result, CONF_RESULT_MANY);
	ck_assert_int_eq(r->status, 200);
	ck_assert_uint_eq(r->ntypes, 0);

	r = &c.routes[1];
	test_conf_assert_route_simple(r, "GET", "/items/{id}", 9);
	test_conf_assert_stmt(&r->sql[0], "SELECT * FROM items WHERE id = :id",
			      10, 0);
	ck_assert_int_eq(r->result, CONF_RESULT_ONE);
	ck_assert_uint_eq(r->ntypes, 1);
	ck_assert_str_eq(r->types[0].name, "id");
	ck_assert_int_eq(r->types[0].type, CONF_TYPE_INT);
	ck_assert_int_eq(r->types[0].line, 11);

	/* a literal segment where another route has a parameter: no clash */
	r = &c.routes[2];
	test_conf_assert_route_simple(r, "GET", "/items/new", 12);

	/* the template of route 1, with another method */
	r = &c.routes[3];
	test_conf_assert_route_simple(r, "DELETE", "/items/{item}", 13);
	test_conf_assert_stmt(&r->sql[0], "DELETE FROM items WHERE id = :item",
			      14, 0);
	ck_assert_int_eq(r->result, CONF_RESULT_EXEC);
	ck_assert_int_eq(r->status, 202);
	conf_destroy(&c);
}
END_TEST

START_TEST(test_conf_routes_every_key)
{
	static const struct {
		const char *name;
		enum conf_type type;
	} types[] = {
		{ "name", CONF_TYPE_TEXT },	{ "password", CONF_TYPE_TEXT },
		{ "now", CONF_TYPE_REAL },	{ "avatar", CONF_TYPE_BLOB },
		{ "remember", CONF_TYPE_BOOL },
	};
	const struct conf_route *r;
	struct conf c;
	size_t i;

	test_conf_load_ok(&c, TEST_CONF_DIR "/routes.conf");
	r = &c.routes[4];
	ck_assert_str_eq(r->method, "POST");
	ck_assert_str_eq(r->path, "/sessions");
	ck_assert_int_eq(r->line, 15);
	ck_assert_str_eq(r->db, "auth");
	ck_assert_uint_eq(r->db_index, 1);
	ck_assert_uint_eq(r->nbefore, 1);
	test_conf_assert_stmt(&r->before[0], "SELECT pwhash(:password) AS hash",
			      16, 0);
	ck_assert_uint_eq(r->nsql, 3);
	test_conf_assert_stmt(
		&r->sql[0],
		"SELECT id AS user_id FROM users WHERE name = :name AND pwverify(:password, hash)",
		17, 401);
	test_conf_assert_stmt(
		&r->sql[1],
		"INSERT INTO sessions(user_id, token) VALUES (:user_id, token()) RETURNING token",
		19, 0);
	test_conf_assert_stmt(
		&r->sql[2], "UPDATE users SET seen = :now WHERE id = :user_id",
		21, 422);
	ck_assert_int_eq(r->result, CONF_RESULT_ONE);
	ck_assert_int_eq(r->status, 201);
	ck_assert_uint_eq(r->result_from, 2);

	ck_assert_uint_eq(r->ntypes, ARRAY_SIZE(types));
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		ck_assert_str_eq(r->types[i].name, types[i].name);
		ck_assert_int_eq(r->types[i].type, types[i].type);
		ck_assert_int_eq(r->types[i].line, 23);
	}
	ck_assert_uint_eq(r->noptional, 2);
	ck_assert_str_eq(r->optional[0], "now");
	ck_assert_str_eq(r->optional[1], "avatar");
	ck_assert_uint_eq(r->nheaders, 2);
	ck_assert_str_eq(r->headers[0].param, "tenant");
	ck_assert_str_eq(r->headers[0].header, "X-Tenant");
	ck_assert_int_eq(r->headers[0].line, 25);
	ck_assert_str_eq(r->headers[1].param, "agent");
	ck_assert_str_eq(r->headers[1].header, "User-Agent");
	ck_assert(!r->has_page);
	conf_destroy(&c);
}
END_TEST

START_TEST(test_conf_routes_lists_and_pages)
{
	const struct conf_route *r;
	struct conf c;

	test_conf_load_ok(&c, TEST_CONF_DIR "/routes.conf");
	r = &c.routes[5];
	ck_assert_str_eq(r->method, "PATCH");
	ck_assert_str_eq(r->path, "/t/{tenant}/items/{item_id}/a%2Fb;v=1");
	ck_assert_uint_eq(r->db_index, 1);
	ck_assert_uint_eq(r->nbefore, 1);
	test_conf_assert_stmt(&r->before[0], "SELECT 1", 27, 0);
	ck_assert_uint_eq(r->nsql, 2); /* an array of strings */
	test_conf_assert_stmt(&r->sql[0],
			      "UPDATE a SET b = 1 WHERE t = :tenant", 28, 0);
	test_conf_assert_stmt(&r->sql[1],
			      "UPDATE c SET d = 2 WHERE i = :item_id", 28, 0);
	ck_assert_uint_eq(r->noptional, 1); /* a list */
	ck_assert_str_eq(r->optional[0], "q");
	ck_assert(r->has_page); /* page = { }: the defaults */
	ck_assert_uint_eq(r->page_default, 50);
	ck_assert_uint_eq(r->page_max, 500);

	r = &c.routes[6];
	ck_assert_str_eq(r->path, "/logs");
	ck_assert_int_eq(r->line, 31);
	ck_assert_uint_eq(r->nsql, 1); /* a list of one group */
	test_conf_assert_stmt(&r->sql[0],
			      "SELECT * FROM logs LIMIT :limit OFFSET :offset",
			      32, 404);
	ck_assert(r->has_page);
	ck_assert_uint_eq(r->page_default, 10);
	ck_assert_uint_eq(r->page_max, 10);
	conf_destroy(&c);
}
END_TEST

/* DESIGN.md's configuration, verbatim: the demo must load as it is */
START_TEST(test_conf_design_example)
{
	char *dir = test_conf_abs(NULL);
	char path[PATH_MAX], schema[PATH_MAX];
	const struct conf_route *r;
	const struct conf_db *d;
	struct conf c;

	test_conf_in_dir(path, sizeof(path), dir, "../var/poold.db");
	test_conf_in_dir(schema, sizeof(schema), dir, "schema.sql");
	test_conf_load_ok(&c, TEST_CONF_DIR "/design_example.conf");
	ck_assert_uint_eq(c.ndbs, 1);
	d = &c.dbs[0];
	ck_assert_str_eq(d->name, "main");
	ck_assert_str_eq(d->path, path);
	ck_assert_str_eq(d->schema, schema);
	test_conf_assert_db_defaults(d);
	test_conf_assert_pool_defaults(d);

	ck_assert_uint_eq(c.nroutes, 4);
	r = &c.routes[0];
	ck_assert_str_eq(r->path, "/items/{id}");
	ck_assert_int_eq(r->result, CONF_RESULT_ONE);
	ck_assert_uint_eq(r->ntypes, 1);
	ck_assert_int_eq(r->types[0].type, CONF_TYPE_INT);
	r = &c.routes[1];
	ck_assert(r->has_page);
	ck_assert_uint_eq(r->page_default, 50);
	ck_assert_uint_eq(r->page_max, 500);
	r = &c.routes[2];
	ck_assert_str_eq(r->method, "POST");
	ck_assert_int_eq(r->status, 201);
	r = &c.routes[3];
	ck_assert_str_eq(r->path, "/orders");
	ck_assert_uint_eq(r->nsql, 2);
	ck_assert_int_eq(r->sql[0].on_empty, 409);
	ck_assert_int_eq(r->sql[1].on_empty, 0);
	ck_assert_uint_eq(r->db_index, 0);
	conf_destroy(&c);
	free(dir);
}
END_TEST

START_TEST(test_conf_db_paths_resolve_against_file_dir)
{
	char *file = test_conf_abs("dbs.conf");
	char *dir = test_conf_abs(NULL);
	char schema[PATH_MAX], logs[PATH_MAX];
	struct conf c;

	test_conf_in_dir(schema, sizeof(schema), dir, "schema.sql");
	test_conf_in_dir(logs, sizeof(logs), dir, "logs.db");
	ck_assert_int_eq(chdir("/"), 0);
	test_conf_load_ok(&c, file);
	ck_assert_str_eq(c.dbs[0].schema, schema);
	ck_assert_str_eq(c.dbs[1].path, logs);
	conf_destroy(&c);
	free(dir);
	free(file);
}
END_TEST

START_TEST(test_conf_empty_gives_defaults)
{
	char *dir = test_conf_abs(NULL);
	char pidfile[PATH_MAX];
	struct conf c;

	snprintf(pidfile, sizeof(pidfile), "%s/poold.pid", dir);
	test_conf_load_ok(&c, TEST_CONF_DIR "/empty.conf");

	ck_assert_uint_eq(c.nlisten, 1);
	test_conf_assert_v4(&c.listen[0], "127.0.0.1", 8080);
	ck_assert_str_eq(c.listen[0].spec, "127.0.0.1:8080");
	ck_assert_int_eq(c.listen[0].line, 0);
	ck_assert_ptr_null(c.status_listen);
	ck_assert_uint_eq(c.workers, 0);
	ck_assert_uint_eq(c.max_workers, 64);
	ck_assert_int_eq(c.backlog, 1024);
	ck_assert_str_eq(c.pidfile, pidfile);
	ck_assert_str_eq(c.shm_name, "/poold");
	ck_assert_str_eq(c.user, "");
	ck_assert_uint_eq(c.rlimit_nofile, 0);
	ck_assert_uint_eq(c.worker_timeout_s, 30);
	ck_assert_uint_eq(c.reload_timeout_ms, 30000);
	ck_assert(!c.debug_functions);

	ck_assert_int_eq(c.log.level, CONF_LOG_INFO);
	ck_assert_str_eq(c.log.file, "-");
	ck_assert_str_eq(c.log.access_log, "");
	ck_assert(c.log.redact_query);

	ck_assert_uint_eq(c.limits.max_connections, 10000);
	ck_assert_uint_eq(c.limits.header_timeout_ms, 10000);
	ck_assert_uint_eq(c.limits.body_timeout_ms, 30000);
	ck_assert_uint_eq(c.limits.write_timeout_ms, 30000);
	ck_assert_uint_eq(c.limits.keepalive_timeout_ms, 60000);
	ck_assert_uint_eq(c.limits.max_header_bytes, 16384);
	ck_assert_uint_eq(c.limits.max_body_bytes, 1048576);
	ck_assert_uint_eq(c.limits.max_response_bytes, 16777216);

	ck_assert_uint_eq(c.shutdown.grace_ms, 0);
	ck_assert_uint_eq(c.shutdown.drain_timeout_ms, 30000);

	ck_assert_ptr_null(c.dbs);
	ck_assert_uint_eq(c.ndbs, 0);
	ck_assert_ptr_null(c.routes);
	ck_assert_uint_eq(c.nroutes, 0);

	conf_destroy(&c);
	free(dir);
}
END_TEST

/* where to chdir() before loading, and how to name paths.conf from there */
static const struct {
	const char *cwd;  /* relative to the repository root */
	const char *path; /* NULL: the absolute path */
} test_conf_cwds[] = {
	{ ".", TEST_CONF_DIR "/paths.conf" },
	{ "/", NULL },
	{ "tests/unit", "conf/paths.conf" },
	{ TEST_CONF_DIR, "paths.conf" },
	{ TEST_CONF_DIR "/..", "../unit/conf/paths.conf" },
};

START_TEST(test_conf_paths_resolve_against_file_dir)
{
	char *file = test_conf_abs("paths.conf");
	char *dir = test_conf_abs(NULL);
	char pidfile[PATH_MAX], logfile[PATH_MAX], sock[PATH_MAX];
	const char *path = test_conf_cwds[_i].path;
	struct conf c;

	snprintf(pidfile, sizeof(pidfile), "%s/run/poold.pid", dir);
	snprintf(logfile, sizeof(logfile), "%s/logs/error.log", dir);
	snprintf(sock, sizeof(sock), "%s/sock/poold.sock", dir);
	ck_assert_int_eq(chdir(test_conf_cwds[_i].cwd), 0);

	test_conf_load_ok(&c, path ? path : file);
	ck_assert_str_eq(c.path, file);
	ck_assert_str_eq(c.dir, dir);
	ck_assert_str_eq(c.pidfile, pidfile);
	ck_assert_str_eq(c.log.file, logfile);
	ck_assert_str_eq(c.log.access_log, "/var/log/poold/access.log");
	ck_assert_uint_eq(c.nlisten, 1);
	ck_assert_str_eq(c.listen[0].spec, "unix:sock/poold.sock");
	test_conf_assert_unix(&c.listen[0], sock);

	conf_destroy(&c);
	free(dir);
	free(file);
}
END_TEST

START_TEST(test_conf_paths_absolute_and_std_kept)
{
	char *file = test_conf_abs("paths_std.conf");
	struct conf c;

	ck_assert_int_eq(chdir("/tmp"), 0);
	test_conf_load_ok(&c, file);
	ck_assert_str_eq(c.pidfile, "/run/poold/poold.pid");
	ck_assert_str_eq(c.log.file, "");
	ck_assert_str_eq(c.log.access_log, "-");
	test_conf_assert_unix(&c.listen[0], "/run/poold/poold.sock");
	conf_destroy(&c);
	free(file);
}
END_TEST

START_TEST(test_conf_include_resolves_against_file_dir)
{
	char *file = test_conf_abs("include.conf");
	struct conf c;

	ck_assert_int_eq(chdir("/"), 0);
	test_conf_load_ok(&c, file);
	ck_assert_uint_eq(c.workers, 2);
	ck_assert_uint_eq(c.max_workers, 8);
	conf_destroy(&c);
	free(file);
}
END_TEST

START_TEST(test_conf_include_error_names_included_file)
{
	char *file = test_conf_abs("err_include.conf");
	char *part = test_conf_abs("err_include_part.inc");
	struct conf_errs errs = { 0 };
	char want[PATH_MAX + 64];
	struct conf c;
	char *got;

	snprintf(want, sizeof(want), "%s:2: unknown key \"bogus\"", part);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(conf_load(&c, file, &errs), -EINVAL);
	ck_assert_uint_eq(errs.n, 1);
	got = test_conf_errstr(&errs.v[0]);
	ck_assert_str_eq(got, want);
	free(got);
	conf_errs_destroy(&errs);
	free(part);
	free(file);
}
END_TEST

/* accepted listen forms; family 0: either loopback (localhost) */
static const struct {
	const char *file;
	int family;
	const char *addr; /* IP literal, or the AF_UNIX path */
	int port;
} test_conf_listens[] = {
	{ "listen_v4.conf", AF_INET, "127.0.0.1", 8081 },
	{ "listen_v6.conf", AF_INET6, "::1", 0 },
	{ "listen_unix.conf", AF_UNIX, "/tmp/poold-unit.sock", 0 },
	{ "listen_any.conf", AF_INET, "0.0.0.0", 80 },
	{ "listen_localhost.conf", 0, NULL, 80 },
};

START_TEST(test_conf_listen_forms)
{
	char path[PATH_MAX];
	struct conf c;
	const struct conf_listen *l;

	snprintf(path, sizeof(path), "%s/%s", TEST_CONF_DIR,
		 test_conf_listens[_i].file);
	test_conf_load_ok(&c, path);
	ck_assert_uint_eq(c.nlisten, 1);
	l = &c.listen[0];
	ck_assert_int_eq(l->line, 1);
	switch (test_conf_listens[_i].family) {
	case AF_INET:
		test_conf_assert_v4(l, test_conf_listens[_i].addr,
				    test_conf_listens[_i].port);
		break;
	case AF_INET6:
		test_conf_assert_v6(l, test_conf_listens[_i].addr,
				    test_conf_listens[_i].port);
		break;
	case AF_UNIX:
		test_conf_assert_unix(l, test_conf_listens[_i].addr);
		break;
	default:
		if (l->family == AF_INET)
			test_conf_assert_v4(l, "127.0.0.1", 80);
		else
			test_conf_assert_v6(l, "::1", 80);
	}
	conf_destroy(&c);
}
END_TEST

START_TEST(test_conf_listen_ephemeral_ports_are_not_duplicates)
{
	struct conf c;

	test_conf_load_ok(&c, TEST_CONF_DIR "/listen_ephemeral.conf");
	ck_assert_uint_eq(c.nlisten, 2);
	test_conf_assert_v4(&c.listen[0], "127.0.0.1", 0);
	test_conf_assert_v4(&c.listen[1], "127.0.0.1", 0);
	test_conf_assert_v4(c.status_listen, "127.0.0.1", 0);
	conf_destroy(&c);
}
END_TEST

#define TEST_CONF_LONG_SOCK                                         \
	"unix:/tmp/"                                                \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock"

/* files with exactly one problem, its line, and its reason */
static const struct {
	const char *file;
	int line;
	const char *reason;
} test_conf_errors[] = {
	{ "err_unknown_key.conf", 3, "unknown key \"colour\"" },
	{ "err_unknown_group_key.conf", 4, "unknown key \"log.colour\"" },
	{ "err_int_type.conf", 2, "\"workers\" must be an integer" },
	{ "err_float_type.conf", 2, "\"backlog\" must be an integer" },
	{ "err_string_type.conf", 2, "\"log.level\" must be a string" },
	{ "err_bool_type.conf", 2, "\"debug_functions\" must be a boolean" },
	{ "err_range.conf", 2, "\"workers\" must be between 0 and 1024" },
	{ "err_range_negative.conf", 2,
	  "\"backlog\" must be between 1 and 1048576" },
	{ "err_range_group.conf", 3,
	  "\"limits.max_header_bytes\" must be between 1024 and 1048576" },
	{ "err_range_int64.conf", 2,
	  "\"rlimit_nofile\" must be between 0 and 1073741824" },
	{ "err_workers_max.conf", 3,
	  "\"workers\" must not exceed \"max_workers\" (4)" },
	{ "err_level.conf", 2,
	  "\"log.level\" must be one of \"error\", \"warn\", \"notice\", \"info\", \"debug\"" },
	{ "err_not_group.conf", 2, "\"limits\" must be a group" },
	{ "err_group_type.conf", 2, "\"shutdown\" must be a group" },
	{ "err_user.conf", 2, "unknown user \"no_such_user_poold\"" },
	{ "err_pidfile_empty.conf", 2, "\"pidfile\" must not be empty" },
	{ "err_shm_slash.conf", 2,
	  "\"shm_name\" must start with \"/\" and contain no other \"/\"" },
	{ "err_shm_noslash.conf", 2,
	  "\"shm_name\" must start with \"/\" and contain no other \"/\"" },
	{ "err_shm_short.conf", 2,
	  "\"shm_name\" must be between 2 and 250 bytes long" },
	{ "err_listen_empty.conf", 2,
	  "\"listen\" must have at least one address" },
	{ "err_listen_type.conf", 2,
	  "\"listen\" must be a string or a list of strings" },
	{ "err_listen_entry_type.conf", 2,
	  "\"listen\" entries must be strings" },
	{ "err_listen_dup.conf", 2,
	  "duplicate listen address \"127.0.0.1:9000\"" },
	{ "err_status_dup.conf", 3,
	  "\"status_listen\" address \"127.0.0.1:9001\" is also a \"listen\" address" },
	{ "err_status_bad.conf", 2,
	  "invalid listen address \"127.0.0.1\": missing port" },
	{ "err_listen_bad_port.conf", 2,
	  "invalid listen address \"127.0.0.1:70000\": port must be a number between 0 and 65535" },
	{ "err_listen_no_port.conf", 2,
	  "invalid listen address \"127.0.0.1\": missing port" },
	{ "err_listen_garbage.conf", 2,
	  "invalid listen address \"garbage\": missing port" },
	{ "err_listen_port_junk.conf", 2,
	  "invalid listen address \"127.0.0.1:http\": port must be a number between 0 and 65535" },
	{ "err_listen_empty_host.conf", 2,
	  "invalid listen address \":80\": empty host" },
	{ "err_listen_v6_brackets.conf", 2,
	  "invalid listen address \"::1:80\": an IPv6 address must be in brackets" },
	{ "err_listen_v6_open.conf", 2,
	  "invalid listen address \"[::1:80\": missing \"]\"" },
	{ "err_listen_v6_bad.conf", 2,
	  "invalid listen address \"[::g]:80\": invalid IPv6 address" },
	{ "err_listen_unix_empty.conf", 2,
	  "invalid listen address \"unix:\": empty path" },
	{ "err_listen_unix_long.conf", 2,
	  "invalid listen address \"" TEST_CONF_LONG_SOCK
	  "\": path longer than 107 bytes" },
	{ "err_db_type.conf", 2, "\"databases\" must be a list of groups" },
	{ "err_db_entry_type.conf", 2, "\"databases\" entries must be groups" },
	{ "err_db_no_name.conf", 3, "database is missing \"name\"" },
	{ "err_db_no_path.conf", 4, "database \"logs\" is missing \"path\"" },
	{ "err_db_name.conf", 2,
	  "\"name\" must be letters, digits and \"_\", not starting with a digit in database \"1st\"" },
	{ "err_db_name_type.conf", 3,
	  "\"name\" must be a string in a database" },
	{ "err_db_path_empty.conf", 2,
	  "\"path\" must not be empty in database \"main\"" },
	{ "err_db_dup_name.conf", 4,
	  "duplicate database name \"main\" (first at line 3)" },
	{ "err_db_dup_path.conf", 4,
	  "duplicate database path \"main.db\" (first at line 3)" },
	{ "err_db_dup_file.conf", 4,
	  "duplicate database path \"./schema.sql\" (first at line 3)" },
	{ "err_db_unknown_key.conf", 3,
	  "unknown key \"foo\" in database \"main\"" },
	{ "err_db_pool_unknown_key.conf", 3,
	  "unknown key \"pool.foo\" in database \"main\"" },
	{ "err_db_pool_range.conf", 3,
	  "\"pool.size\" must be between 1 and 256 in database \"main\"" },
	{ "err_db_pool_type.conf", 3,
	  "\"pool\" must be a group in database \"main\"" },
	{ "err_db_range.conf", 3,
	  "\"cache_size_kb\" must be between 0 and 1048576 in database \"main\"" },
	{ "err_db_checkpoint_range.conf", 3,
	  "\"checkpoint_interval_ms\" must be between 10 and 3600000 in database \"main\"" },
	{ "err_db_journal.conf", 3,
	  "\"journal_mode\" must be one of \"wal\", \"delete\", \"truncate\", \"persist\" in database \"main\"" },
	{ "err_db_sync.conf", 3,
	  "\"synchronous\" must be a string in database \"main\"" },
	{ "err_db_fk.conf", 3,
	  "\"foreign_keys\" must be a boolean in database \"main\"" },
	{ "err_db_schema_missing.conf", 3,
	  "could not read schema \"no-such-schema.sql\": No such file or directory" },
	{ "err_db_schema_dir.conf", 3,
	  "could not read schema \".\": Is a directory" },
	{ "err_route_type.conf", 3, "\"routes\" must be a list of groups" },
	{ "err_route_entry_type.conf", 3, "\"routes\" entries must be groups" },
	{ "err_route_no_sql.conf", 4, "route \"GET /x\" is missing \"sql\"" },
	{ "err_route_no_method.conf", 4, "route is missing \"method\"" },
	{ "err_route_no_db.conf", 4, "route \"GET /x\" is missing \"db\"" },
	{ "err_route_no_path.conf", 4, "route is missing \"path\"" },
	{ "err_route_unknown_key.conf", 5,
	  "unknown key \"foo\" in route \"GET /x\"" },
	{ "err_route_method.conf", 5,
	  "\"method\" must be upper-case letters, such as \"GET\" in route \"get /x\"" },
	{ "err_route_method_type.conf", 5,
	  "\"method\" must be a string in a route" },
	{ "err_route_path_slash.conf", 5,
	  "\"path\" must start with \"/\" in route \"GET x\"" },
	{ "err_route_path_empty.conf", 5,
	  "\"path\" has an empty segment in route \"GET /a//b\"" },
	{ "err_route_path_trailing.conf", 5,
	  "\"path\" has an empty segment in route \"GET /a/\"" },
	{ "err_route_path_query.conf", 5,
	  "\"path\" must not contain \"?\" or \"#\" in route \"GET /a?b=1\"" },
	{ "err_route_path_char.conf", 5,
	  "\"path\" has an invalid segment \"b c\" in route \"GET /a/b c\"" },
	{ "err_route_path_pct.conf", 5,
	  "\"path\" has an invalid segment \"a%2\" in route \"GET /a%2\"" },
	{ "err_route_path_brace.conf", 5,
	  "\"path\" has an invalid segment \"x{id}\" in route \"GET /items/x{id}\"" },
	{ "err_route_path_param.conf", 5,
	  "\"path\" has an invalid parameter segment \"{item-id}\" in route \"GET /items/{item-id}\"" },
	{ "err_route_path_param_twice.conf", 5,
	  "\"path\" names parameter \"id\" twice in route \"GET /a/{id}/b/{id}\"" },
	{ "err_route_reserved.conf", 5,
	  "path \"/healthz\" is reserved for a built-in endpoint" },
	{ "err_route_dup.conf", 7,
	  "duplicate route \"GET /items/{n}\" (first at line 4)" },
	{ "err_route_unknown_db.conf", 5,
	  "route \"GET /x\" names unknown database \"foo\"" },
	{ "err_route_db_type.conf", 5,
	  "\"db\" must be a string in route \"GET /x\"" },
	{ "err_route_sql_type.conf", 5,
	  "\"sql\" must be a string or a list of statements in route \"GET /x\"" },
	{ "err_route_sql_none.conf", 5,
	  "\"sql\" must have at least one statement in route \"GET /x\"" },
	{ "err_route_sql_blank.conf", 6,
	  "\"sql\" must not be empty in route \"GET /x\"" },
	{ "err_route_sql_entry_type.conf", 6,
	  "\"sql\" entries must be strings or groups in route \"GET /x\"" },
	{ "err_route_on_empty.conf", 6,
	  "\"on_empty\" must be one of 401, 403, 404, 409, 422 in route \"POST /x\"" },
	{ "err_route_on_empty_type.conf", 6,
	  "\"on_empty\" must be an integer in route \"POST /x\"" },
	{ "err_route_stmt_no_sql.conf", 6,
	  "statement is missing \"sql\" in route \"POST /x\"" },
	{ "err_route_stmt_unknown_key.conf", 6,
	  "unknown key \"when\" in route \"POST /x\"" },
	{ "err_route_before_type.conf", 5,
	  "\"before\" must be a string or a list of statements in route \"POST /x\"" },
	{ "err_route_before_blank.conf", 5,
	  "\"before\" must not be empty in route \"POST /x\"" },
	{ "err_route_result.conf", 5,
	  "\"result\" must be one of \"many\", \"one\", \"exec\" in route \"GET /x\"" },
	{ "err_route_status.conf", 5,
	  "\"status\" must be between 200 and 299 in route \"GET /x\"" },
	{ "err_route_result_from.conf", 6,
	  "\"result_from\" must be between 1 and 2 in route \"POST /x\"" },
	{ "err_route_result_from_zero.conf", 5,
	  "\"result_from\" must be between 1 and 1 in route \"POST /x\"" },
	{ "err_route_result_from_type.conf", 5,
	  "\"result_from\" must be an integer in route \"POST /x\"" },
	{ "err_route_types_type.conf", 5,
	  "\"types\" must be a group in route \"GET /x\"" },
	{ "err_route_type_name.conf", 6,
	  "\"types.id\" must be one of \"int\", \"real\", \"text\", \"bool\", \"blob\" in route \"GET /x\"" },
	{ "err_route_type_param.conf", 5,
	  "\"types\" has an invalid parameter name \"item-id\" in route \"GET /x\"" },
	{ "err_route_types_dup.conf", 5, "duplicate setting name" },
	{ "err_route_optional_type.conf", 5,
	  "\"optional\" must be a list of parameter names in route \"GET /x\"" },
	{ "err_route_optional_entry.conf", 6,
	  "\"optional\" entries must be strings in route \"GET /x\"" },
	{ "err_route_optional_name.conf", 5,
	  "\"optional\" has an invalid parameter name \":q\" in route \"GET /x\"" },
	{ "err_route_optional_dup.conf", 6,
	  "\"optional\" names \"q\" twice in route \"GET /x\"" },
	{ "err_route_headers_type.conf", 5,
	  "\"headers\" must be a group in route \"GET /x\"" },
	{ "err_route_header_name.conf", 5,
	  "\"headers.tenant\" must be an HTTP header name in route \"GET /x\"" },
	{ "err_route_header_type.conf", 5,
	  "\"headers.tenant\" must be a string in route \"GET /x\"" },
	{ "err_route_header_param.conf", 5,
	  "\"headers\" has an invalid parameter name \"x-tenant\" in route \"GET /x\"" },
	{ "err_route_headers_dup.conf", 5, "duplicate setting name" },
	{ "err_route_page_type.conf", 5,
	  "\"page\" must be a group in route \"GET /x\"" },
	{ "err_route_page_range.conf", 5,
	  "\"page.default\" must be between 1 and 1000000 in route \"GET /x\"" },
	{ "err_route_page_order.conf", 6,
	  "\"page.default\" must not exceed \"page.max\" (20) in route \"GET /x\"" },
	{ "err_route_page_unknown_key.conf", 5,
	  "unknown key \"page.size\" in route \"GET /x\"" },
};

START_TEST(test_conf_error_names_file_line_reason)
{
	char *file = test_conf_abs(test_conf_errors[_i].file);
	struct conf_errs errs = { 0 };
	char want[PATH_MAX + 256];
	char path[PATH_MAX];
	struct conf c;
	char *got;

	snprintf(path, sizeof(path), "%s/%s", TEST_CONF_DIR,
		 test_conf_errors[_i].file);
	snprintf(want, sizeof(want), "%s:%d: %s", file,
		 test_conf_errors[_i].line, test_conf_errors[_i].reason);
	ck_assert_int_eq(conf_load(&c, path, &errs), -EINVAL);
	test_conf_assert_zeroed(&c);
	ck_assert_uint_eq(errs.n, 1);
	got = test_conf_errstr(&errs.v[0]);
	ck_assert_str_eq(got, want);
	free(got);
	conf_errs_destroy(&errs);
	free(file);
}
END_TEST

START_TEST(test_conf_listen_unresolvable)
{
	char *file = test_conf_abs("err_listen_resolve.conf");
	struct conf_errs errs = { 0 };
	char want[PATH_MAX + 256];
	struct conf c;
	char *got;

	/* glibc refuses "!" in a host name without asking DNS */
	snprintf(want, sizeof(want), "%s:2: could not resolve \"bad!host\": %s",
		 file, gai_strerror(EAI_NONAME));
	ck_assert_int_eq(conf_load(&c, file, &errs), -EINVAL);
	ck_assert_uint_eq(errs.n, 1);
	got = test_conf_errstr(&errs.v[0]);
	ck_assert_str_eq(got, want);
	free(got);
	conf_errs_destroy(&errs);
	free(file);
}
END_TEST

START_TEST(test_conf_reports_every_problem)
{
	static const struct {
		int line;
		const char *reason;
	} want[] = {
		{ 2, "\"workers\" must be an integer" },
		{ 3, "unknown key \"bogus\"" },
		{ 4,
		  "\"log.level\" must be one of \"error\", \"warn\", \"notice\", \"info\", \"debug\"" },
		{ 5,
		  "\"limits.max_body_bytes\" must be between 0 and 1073741824" },
		{ 6,
		  "\"pool.size\" must be between 1 and 256 in database \"main\"" },
		{ 7, "invalid listen address \"127.0.0.1\": missing port" },
		{ 8, "\"max_workers\" must be between 1 and 1024" },
		{ 9, "route \"GET /x\" names unknown database \"nope\"" },
	};
	char *file = test_conf_abs("err_many.conf");
	struct conf_errs errs = { 0 };
	struct conf c;
	size_t i;

	ck_assert_int_eq(conf_load(&c, TEST_CONF_DIR "/err_many.conf", &errs),
			 -EINVAL);
	test_conf_assert_zeroed(&c);
	ck_assert_uint_eq(errs.n, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		ck_assert_str_eq(errs.v[i].file, file);
		ck_assert_int_eq(errs.v[i].line, want[i].line);
		ck_assert_str_eq(errs.v[i].reason, want[i].reason);
	}
	conf_errs_destroy(&errs);
	conf_errs_destroy(&errs);
	ck_assert_ptr_null(errs.v);
	ck_assert_uint_eq(errs.n, 0);
	free(file);
}
END_TEST

START_TEST(test_conf_route_reports_every_problem)
{
	static const struct {
		int line;
		const char *reason;
	} want[] = {
		{ 5,
		  "\"method\" must be upper-case letters, such as \"GET\" in route \"get /a//b\"" },
		{ 6, "\"path\" has an empty segment in route \"get /a//b\"" },
		{ 7,
		  "\"status\" must be between 200 and 299 in route \"get /a//b\"" },
		{ 8, "unknown key \"colour\" in route \"get /a//b\"" },
		{ 9,
		  "\"on_empty\" must be one of 401, 403, 404, 409, 422 in route \"get /a//b\"" },
		{ 9,
		  "\"sql\" entries must be strings or groups in route \"get /a//b\"" },
		{ 10,
		  "\"result_from\" must be between 1 and 2 in route \"get /a//b\"" },
		{ 12, "route is missing \"method\"" },
		{ 12, "route is missing \"db\"" },
		{ 12, "route is missing \"sql\"" },
		{ 11, "route \"get /a//b\" names unknown database \"nope\"" },
	};
	char *file = test_conf_abs("err_route_many.conf");
	struct conf_errs errs = { 0 };
	struct conf c;
	size_t i;

	ck_assert_int_eq(conf_load(&c, file, &errs), -EINVAL);
	test_conf_assert_zeroed(&c);
	ck_assert_uint_eq(errs.n, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		ck_assert_str_eq(errs.v[i].file, file);
		ck_assert_int_eq(errs.v[i].line, want[i].line);
		ck_assert_str_eq(errs.v[i].reason, want[i].reason);
	}
	conf_errs_destroy(&errs);
	free(file);
}
END_TEST

START_TEST(test_conf_syntax_error_reports_line)
{
	char *file = test_conf_abs("err_syntax.conf");
	struct conf_errs errs = { 0 };
	char want[PATH_MAX + 64];
	struct conf c;
	char *got;

	snprintf(want, sizeof(want), "%s:3: syntax error", file);
	ck_assert_int_eq(conf_load(&c, TEST_CONF_DIR "/err_syntax.conf", &errs),
			 -EINVAL);
	test_conf_assert_zeroed(&c);
	ck_assert_uint_eq(errs.n, 1); /* libconfig stops at the first */
	got = test_conf_errstr(&errs.v[0]);
	ck_assert_str_eq(got, want);
	free(got);
	conf_errs_destroy(&errs);
	free(file);
}
END_TEST

START_TEST(test_conf_missing_file_reports_strerror)
{
	const char *path = TEST_CONF_DIR "/does-not-exist.conf";
	struct conf_errs errs = { 0 };
	char want[PATH_MAX + 128];
	struct conf c;
	char *got;

	snprintf(want, sizeof(want),
		 "%s:0: could not open configuration file: %s", path,
		 strerror(ENOENT));
	ck_assert_int_eq(conf_load(&c, path, &errs), -ENOENT);
	test_conf_assert_zeroed(&c);
	ck_assert_uint_eq(errs.n, 1);
	got = test_conf_errstr(&errs.v[0]);
	ck_assert_str_eq(got, want);
	free(got);
	conf_errs_destroy(&errs);
}
END_TEST

START_TEST(test_conf_directory_is_not_a_file)
{
	struct conf_errs errs = { 0 };
	struct conf c;

	ck_assert_int_eq(conf_load(&c, TEST_CONF_DIR, &errs), -EISDIR);
	test_conf_assert_zeroed(&c);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_str_eq(errs.v[0].file, TEST_CONF_DIR);
	ck_assert_int_eq(errs.v[0].line, 0);
	conf_errs_destroy(&errs);
}
END_TEST

START_TEST(test_conf_errors_are_appended)
{
	struct conf_errs errs = { 0 };
	struct conf c;

	ck_assert_int_eq(conf_load(&c, TEST_CONF_DIR "/err_range.conf", &errs),
			 -EINVAL);
	ck_assert_int_eq(conf_load(&c, TEST_CONF_DIR "/err_user.conf", &errs),
			 -EINVAL);
	ck_assert_uint_eq(errs.n, 2);
	ck_assert_str_eq(errs.v[0].reason,
			 "\"workers\" must be between 0 and 1024");
	ck_assert_str_eq(errs.v[1].reason,
			 "unknown user \"no_such_user_poold\"");
	/* a good file after bad ones: success, the list is left as it is */
	test_conf_load_ok(&c, TEST_CONF_DIR "/empty.conf");
	conf_destroy(&c);
	ck_assert_int_eq(conf_load(&c, TEST_CONF_DIR "/empty.conf", &errs), 0);
	ck_assert_uint_eq(errs.n, 2);
	conf_destroy(&c);
	conf_errs_destroy(&errs);
}
END_TEST

START_TEST(test_conf_destroy_is_idempotent)
{
	struct conf c = { 0 };

	conf_destroy(&c);
	test_conf_assert_zeroed(&c);
	test_conf_load_ok(&c, TEST_CONF_DIR "/good.conf");
	conf_destroy(&c);
	test_conf_assert_zeroed(&c);
	conf_destroy(&c);
	test_conf_assert_zeroed(&c);
	test_conf_load_ok(&c, TEST_CONF_DIR "/routes.conf");
	conf_destroy(&c);
	test_conf_assert_zeroed(&c);
	conf_destroy(&c);
	test_conf_assert_zeroed(&c);
}
END_TEST

START_TEST(test_conf_default_path_prefers_local)
{
	char tmpl[] = "/tmp/check_conf.XXXXXX";
	char *dir = mkdtemp(tmpl);
	int fd;

	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_str_eq(conf_default_path(), CONF_DEFAULT_SYSTEM);
	ck_assert_int_eq(mkdir("conf", 0700), 0);
	fd = open(CONF_DEFAULT_LOCAL, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_str_eq(conf_default_path(), CONF_DEFAULT_LOCAL);
	ck_assert_int_eq(unlink(CONF_DEFAULT_LOCAL), 0);
	ck_assert_int_eq(rmdir("conf"), 0);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_conf_log_level_names)
{
	ck_assert_str_eq(conf_log_level_name(CONF_LOG_ERR), "error");
	ck_assert_str_eq(conf_log_level_name(CONF_LOG_WARN), "warn");
	ck_assert_str_eq(conf_log_level_name(CONF_LOG_NOTICE), "notice");
	ck_assert_str_eq(conf_log_level_name(CONF_LOG_INFO), "info");
	ck_assert_str_eq(conf_log_level_name(CONF_LOG_DEBUG), "debug");
	ck_assert_str_eq(conf_log_level_name((enum conf_log_level)99), "?");
	ck_assert_str_eq(conf_log_level_name((enum conf_log_level) - 1), "?");
}
END_TEST

Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc;

	tc = tcase_create("values");
	tcase_add_test(tc, test_conf_good_sets_every_key);
	tcase_add_test(tc, test_conf_empty_gives_defaults);
	tcase_add_test(tc, test_conf_db_defaults);
	tcase_add_test(tc, test_conf_dbs_set_every_key);
	tcase_add_test(tc, test_conf_routes_simple);
	tcase_add_test(tc, test_conf_routes_every_key);
	tcase_add_test(tc, test_conf_routes_lists_and_pages);
	tcase_add_test(tc, test_conf_design_example);
	tcase_add_loop_test(tc, test_conf_listen_forms, 0,
			    ARRAY_SIZE(test_conf_listens));
	tcase_add_test(tc, test_conf_listen_ephemeral_ports_are_not_duplicates);
	tcase_add_test(tc, test_conf_destroy_is_idempotent);
	tcase_add_test(tc, test_conf_log_level_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_checked_fixture(tc, test_conf_save_cwd,
				  test_conf_restore_cwd);
	tcase_add_loop_test(tc, test_conf_paths_resolve_against_file_dir, 0,
			    ARRAY_SIZE(test_conf_cwds));
	tcase_add_test(tc, test_conf_paths_absolute_and_std_kept);
	tcase_add_test(tc, test_conf_db_paths_resolve_against_file_dir);
	tcase_add_test(tc, test_conf_include_resolves_against_file_dir);
	tcase_add_test(tc, test_conf_include_error_names_included_file);
	tcase_add_test(tc, test_conf_default_path_prefers_local);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_conf_error_names_file_line_reason, 0,
			    ARRAY_SIZE(test_conf_errors));
	tcase_add_test(tc, test_conf_listen_unresolvable);
	tcase_add_test(tc, test_conf_reports_every_problem);
	tcase_add_test(tc, test_conf_route_reports_every_problem);
	tcase_add_test(tc, test_conf_syntax_error_reports_line);
	tcase_add_test(tc, test_conf_missing_file_reports_strerror);
	tcase_add_test(tc, test_conf_directory_is_not_a_file);
	tcase_add_test(tc, test_conf_errors_are_appended);
	suite_add_tcase(s, tc);
	return s;
}
