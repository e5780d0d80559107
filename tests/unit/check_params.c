// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_params.c - request parameters: sources, kinds, types
 *
 * srv_params_convert() is checked against a table of every declared type
 * and many input values, each input copied into a buffer of exactly its
 * length (and the scratch given exactly the room the header promises), so
 * that AddressSanitizer catches any read or write past either.
 *
 * srv_params_collect() runs on routes compiled for real, as the server
 * compiles them: a libconfig file in a temporary directory, conf_load(),
 * in-memory databases with db_open(), srv_routes_build().  Each request is
 * a literal text parsed by srv_http_parse_head(), its body in a buffer of
 * its own length.  Both buffers are freed before the values are looked
 * at: values must point into memory the job owns (server/job.h), and
 * AddressSanitizer reports any that still point into the request.  Every
 * case ends with srv_params_release(), twice, so a leak or a double free
 * shows under SAN=asan.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "lib/conf.h"
#include "lib/db.h"
#include "lib/util.h"
#include "server/http_parse.h"
#include "server/job.h"
#include "server/params.h"
#include "server/route.h"
#include "tests/unit/suites.h"

#define TEST_PARAMS_NDBS 1
#define TEST_PARAMS_MAX_HEAD 8192
#define TEST_PARAMS_CONV_ROOM 64 /* server/params.h: 64 + the value's length */

/* ---- srv_params_convert -------------------------------------------------- */

/* a value as the table spells it: s/len for TEXT and BLOB */
struct test_params_v {
	enum srv_vtype t;
	int64_t i;
	double d;
	const char *s;
	size_t len;
};

struct test_params_conv {
	int type; /* enum conf_type */
	struct test_params_v in;
	int err; /* 0 or -EINVAL */
	struct test_params_v out;
};

#define VN                      \
	{                       \
		.t = SRV_V_NULL \
	}
#define VI(x)                            \
	{                                \
		.t = SRV_V_INT, .i = (x) \
	}
#define VR(x)                             \
	{                                 \
		.t = SRV_V_REAL, .d = (x) \
	}
#define VT(x)                                                   \
	{                                                       \
		.t = SRV_V_TEXT, .s = (x), .len = sizeof(x) - 1 \
	}
#define VB(x)                                                   \
	{                                                       \
		.t = SRV_V_BLOB, .s = (x), .len = sizeof(x) - 1 \
	}
#define OK(type_, in_, out_)                          \
	{                                             \
		.type = type_, .in = in_, .out = out_ \
	}
#define BAD(type_, in_)                                  \
	{                                                \
		.type = type_, .in = in_, .err = -EINVAL \
	}

/* the bytes of base64 "AAEC/w==" */
#define TEST_PARAMS_BLOB "\x00\x01\x02\xff"

static const struct test_params_conv test_params_convs[] = {
	/* int */
	OK(CONF_TYPE_INT, VI(42), VI(42)),
	OK(CONF_TYPE_INT, VI(-7), VI(-7)),
	OK(CONF_TYPE_INT, VR(2.0), VI(2)),
	OK(CONF_TYPE_INT, VR(-3.0), VI(-3)),
	BAD(CONF_TYPE_INT, VR(1.5)),
	BAD(CONF_TYPE_INT, VR(1e300)),
	OK(CONF_TYPE_INT, VT("42"), VI(42)),
	OK(CONF_TYPE_INT, VT("-7"), VI(-7)),
	OK(CONF_TYPE_INT, VT("0"), VI(0)),
	OK(CONF_TYPE_INT, VT("2"), VI(2)),
	OK(CONF_TYPE_INT, VT("9223372036854775807"), VI(INT64_MAX)),
	OK(CONF_TYPE_INT, VT("-9223372036854775808"), VI(INT64_MIN)),
	BAD(CONF_TYPE_INT, VT("9223372036854775808")),
	BAD(CONF_TYPE_INT, VT("-9223372036854775809")),
	BAD(CONF_TYPE_INT, VT("4x")),
	BAD(CONF_TYPE_INT, VT(" 1")),
	BAD(CONF_TYPE_INT, VT("1 ")),
	BAD(CONF_TYPE_INT, VT("\t1")),
	BAD(CONF_TYPE_INT, VT("\n1")),
	BAD(CONF_TYPE_INT, VT("+1")),
	BAD(CONF_TYPE_INT, VT("-")),
	BAD(CONF_TYPE_INT, VT("1.5")),
	BAD(CONF_TYPE_INT, VT("0x10")),
	BAD(CONF_TYPE_INT, VT("")),
	BAD(CONF_TYPE_INT, VT("true")),
	BAD(CONF_TYPE_INT, VT("FALSE")),
	BAD(CONF_TYPE_INT, VT("AAEC/w==")),
	BAD(CONF_TYPE_INT, VT("AAEC_w")),
	BAD(CONF_TYPE_INT, VT("!!")),
	BAD(CONF_TYPE_INT, VT("1234567890123456789012345678901234567890")),
	OK(CONF_TYPE_INT, VN, VN),

	/* real */
	OK(CONF_TYPE_REAL, VI(42), VR(42.0)),
	OK(CONF_TYPE_REAL, VI(-7), VR(-7.0)),
	OK(CONF_TYPE_REAL, VR(1.5), VR(1.5)),
	OK(CONF_TYPE_REAL, VT("42"), VR(42.0)),
	OK(CONF_TYPE_REAL, VT("-7"), VR(-7.0)),
	OK(CONF_TYPE_REAL, VT("1.5"), VR(1.5)),
	OK(CONF_TYPE_REAL, VT("-0.25e2"), VR(-25.0)),
	OK(CONF_TYPE_REAL, VT("0"), VR(0.0)),
	OK(CONF_TYPE_REAL, VT("2"), VR(2.0)),
	OK(CONF_TYPE_REAL, VT("9223372036854775808"),
	   VR(9223372036854775808.0)),
	BAD(CONF_TYPE_REAL, VT("4x")),
	BAD(CONF_TYPE_REAL, VT(" 1")),
	BAD(CONF_TYPE_REAL, VT("\t1.5")),
	BAD(CONF_TYPE_REAL, VT("1.5 ")),
	BAD(CONF_TYPE_REAL, VT("")),
	BAD(CONF_TYPE_REAL, VT("true")),
	BAD(CONF_TYPE_REAL, VT("FALSE")),
	BAD(CONF_TYPE_REAL, VT("nan")),
	BAD(CONF_TYPE_REAL, VT("inf")),
	BAD(CONF_TYPE_REAL, VT("-Infinity")),
	BAD(CONF_TYPE_REAL, VT("1e999")),
	BAD(CONF_TYPE_REAL, VT("AAEC/w==")),
	BAD(CONF_TYPE_REAL, VT("AAEC_w")),
	BAD(CONF_TYPE_REAL, VT("!!")),
	OK(CONF_TYPE_REAL, VN, VN),

	/* text */
	OK(CONF_TYPE_TEXT, VI(42), VT("42")),
	OK(CONF_TYPE_TEXT, VI(-7), VT("-7")),
	OK(CONF_TYPE_TEXT, VI(INT64_MIN), VT("-9223372036854775808")),
	OK(CONF_TYPE_TEXT, VR(1.5), VT("1.5")),
	OK(CONF_TYPE_TEXT, VR(-2.0), VT("-2")),
	OK(CONF_TYPE_TEXT, VT("42"), VT("42")),
	OK(CONF_TYPE_TEXT, VT("4x"), VT("4x")),
	OK(CONF_TYPE_TEXT, VT(" 1"), VT(" 1")),
	OK(CONF_TYPE_TEXT, VT("+1"), VT("+1")),
	OK(CONF_TYPE_TEXT, VT(""), VT("")),
	OK(CONF_TYPE_TEXT, VT("true"), VT("true")),
	OK(CONF_TYPE_TEXT, VT("AAEC/w=="), VT("AAEC/w==")),
	OK(CONF_TYPE_TEXT, VT("!!"), VT("!!")),
	OK(CONF_TYPE_TEXT, VN, VN),

	/* bool */
	OK(CONF_TYPE_BOOL, VI(0), VI(0)),
	OK(CONF_TYPE_BOOL, VI(1), VI(1)),
	BAD(CONF_TYPE_BOOL, VI(2)),
	BAD(CONF_TYPE_BOOL, VI(-7)),
	BAD(CONF_TYPE_BOOL, VI(42)),
	BAD(CONF_TYPE_BOOL, VR(1.5)),
	OK(CONF_TYPE_BOOL, VT("true"), VI(1)),
	OK(CONF_TYPE_BOOL, VT("TRUE"), VI(1)),
	OK(CONF_TYPE_BOOL, VT("false"), VI(0)),
	OK(CONF_TYPE_BOOL, VT("FALSE"), VI(0)),
	OK(CONF_TYPE_BOOL, VT("0"), VI(0)),
	OK(CONF_TYPE_BOOL, VT("1"), VI(1)),
	BAD(CONF_TYPE_BOOL, VT("2")),
	BAD(CONF_TYPE_BOOL, VT("42")),
	BAD(CONF_TYPE_BOOL, VT("-7")),
	BAD(CONF_TYPE_BOOL, VT("4x")),
	BAD(CONF_TYPE_BOOL, VT(" 1")),
	BAD(CONF_TYPE_BOOL, VT("+1")),
	BAD(CONF_TYPE_BOOL, VT("1.5")),
	BAD(CONF_TYPE_BOOL, VT("")),
	BAD(CONF_TYPE_BOOL, VT("tru")),
	BAD(CONF_TYPE_BOOL, VT("truex")),
	BAD(CONF_TYPE_BOOL, VT("yes")),
	BAD(CONF_TYPE_BOOL, VT("AAEC/w==")),
	BAD(CONF_TYPE_BOOL, VT("!!")),
	OK(CONF_TYPE_BOOL, VN, VN),

	/* blob, from any base64 variant */
	OK(CONF_TYPE_BLOB, VT("AAEC/w=="), VB(TEST_PARAMS_BLOB)),
	OK(CONF_TYPE_BLOB, VT("AAEC/w"), VB(TEST_PARAMS_BLOB)),
	OK(CONF_TYPE_BLOB, VT("AAEC_w"), VB(TEST_PARAMS_BLOB)),
	OK(CONF_TYPE_BLOB, VT("AAEC_w=="), VB(TEST_PARAMS_BLOB)),
	OK(CONF_TYPE_BLOB, VT("true"), VB("\xb6\xbb\x9e")),
	OK(CONF_TYPE_BLOB, VT(""), VB("")),
	BAD(CONF_TYPE_BLOB, VT("!!")),
	BAD(CONF_TYPE_BLOB, VT("42")),
	BAD(CONF_TYPE_BLOB, VT("-7")),
	BAD(CONF_TYPE_BLOB, VT("4x")),
	BAD(CONF_TYPE_BLOB, VT(" 1")),
	BAD(CONF_TYPE_BLOB, VT("+1")),
	BAD(CONF_TYPE_BLOB, VT("1.5")),
	BAD(CONF_TYPE_BLOB, VT("0")),
	BAD(CONF_TYPE_BLOB, VT("FALSE")),
	BAD(CONF_TYPE_BLOB, VT("AAEC/w=")),
	BAD(CONF_TYPE_BLOB, VT("AAEC/w==x")),
	BAD(CONF_TYPE_BLOB, VI(42)),
	BAD(CONF_TYPE_BLOB, VR(1.5)),
	OK(CONF_TYPE_BLOB, VN, VN),

	/* any: bound as it came */
	OK(CONF_TYPE_ANY, VI(42), VI(42)),
	OK(CONF_TYPE_ANY, VR(1.5), VR(1.5)),
	OK(CONF_TYPE_ANY, VT("4x"), VT("4x")),
	OK(CONF_TYPE_ANY, VT(""), VT("")),
	OK(CONF_TYPE_ANY, VT("AAEC/w=="), VT("AAEC/w==")),
	OK(CONF_TYPE_ANY, VN, VN),
};

static const char *test_params_vtype_name(enum srv_vtype t)
{
	static const char *const names[] = { "ABSENT", "NULL", "INT",
					     "REAL",   "TEXT", "BLOB" };

	return (unsigned int)t < ARRAY_SIZE(names) ? names[t] : "?";
}

/* @v holds what @want says; a TEXT or BLOB compared byte for byte */
static void test_params_ck_value(const struct srv_value *v,
				 const struct test_params_v *want,
				 const char *what)
{
	ck_assert_msg(v->t == want->t, "%s: type %s, not %s", what,
		      test_params_vtype_name(v->t),
		      test_params_vtype_name(want->t));
	switch (want->t) {
	case SRV_V_INT:
		ck_assert_msg(v->i == want->i, "%s: %" PRId64 ", not %" PRId64,
			      what, v->i, want->i);
		break;
	case SRV_V_REAL:
		ck_assert_msg(v->d == want->d, "%s: %.17g, not %.17g", what,
			      v->d, want->d);
		break;
	case SRV_V_TEXT:
	case SRV_V_BLOB:
		ck_assert_msg(v->len == want->len &&
				      (!v->len ||
				       !memcmp(v->p, want->s, v->len)),
			      "%s: \"%.*s\" (%zu bytes), not \"%s\"", what,
			      (int)v->len, v->p ? v->p : "", v->len, want->s);
		break;
	default:
		break;
	}
}

static const char *const test_params_type_names[] = {
	[CONF_TYPE_ANY] = "any",   [CONF_TYPE_INT] = "int",
	[CONF_TYPE_REAL] = "real", [CONF_TYPE_TEXT] = "text",
	[CONF_TYPE_BOOL] = "bool", [CONF_TYPE_BLOB] = "blob",
};

START_TEST(test_params_convert_table)
{
	const struct test_params_conv *c = &test_params_convs[_i];
	struct srv_value v = { .t = c->in.t, .i = c->in.i, .d = c->in.d };
	size_t room = TEST_PARAMS_CONV_ROOM + c->in.len, used = 12345;
	char what[160], *in = NULL, *scratch;
	int err;

	snprintf(what, sizeof(what), "%s from %s \"%s\"",
		 test_params_type_names[c->type],
		 test_params_vtype_name(c->in.t), c->in.s ? c->in.s : "");
	/* exactly the bytes of the value and of the room, no NUL after */
	if (c->in.s) {
		in = malloc(c->in.len ? c->in.len : 1);
		ck_assert_ptr_nonnull(in);
		memcpy(in, c->in.s, c->in.len);
		v.p = in;
		v.len = c->in.len;
	}
	scratch = malloc(room);
	ck_assert_ptr_nonnull(scratch);

	err = srv_params_convert(&v, c->type, scratch, room, &used);
	ck_assert_msg(err == c->err, "%s: returned %d, not %d (got %s)", what,
		      err, c->err, test_params_vtype_name(v.t));
	if (!err) {
		test_params_ck_value(&v, &c->out, what);
		ck_assert_uint_le(used, room);
		if (v.t == SRV_V_TEXT && c->in.t != SRV_V_TEXT) {
			/* a number written as text goes in the scratch */
			ck_assert_ptr_eq(v.p, scratch);
			ck_assert_uint_eq(used, v.len);
		} else if (v.t == SRV_V_BLOB) {
			ck_assert_ptr_eq(v.p, scratch);
			ck_assert_uint_eq(used, v.len);
		} else {
			ck_assert_uint_eq(used, 0);
		}
		if (c->in.t == SRV_V_TEXT && v.t == SRV_V_TEXT)
			ck_assert_ptr_eq(v.p, in); /* left where it was */
	}
	free(scratch);
	free(in);
}
END_TEST

/* ---- compiled routes ----------------------------------------------------- */

static const char test_params_head[] =
	"databases = (\n"
	"  { name = \"main\"; path = \"main.db\"; }\n"
	");\n"
	"routes = (\n";

static const char test_params_schema[] =
	"CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT);";

/* the routes of every collect case; TEST_PARAMS_R_* index them */
enum {
	TEST_PARAMS_R_SOURCES,
	TEST_PARAMS_R_JSON,
	TEST_PARAMS_R_REQUIRED,
	TEST_PARAMS_R_COLUMN,
	TEST_PARAMS_R_PAGE_GET,
	TEST_PARAMS_R_PAGE_POST,
	TEST_PARAMS_R_TYPES,
	TEST_PARAMS_R_TOP,
	TEST_PARAMS_R_PATH_INT,
};

static const char *const test_params_routes[] = {
	[TEST_PARAMS_R_SOURCES] =
		"{ method = \"POST\"; path = \"/s/{p}\"; db = \"main\"; "
		"sql = \"SELECT :p AS p, :j AS j, :f AS f, :q AS q, :h AS h\"; "
		"optional = [ \"j\", \"f\", \"q\", \"h\" ]; "
		"headers = { p = \"X-P\"; j = \"X-J\"; f = \"X-F\"; q = \"X-Q\"; h = \"X-H\"; }; }",
	[TEST_PARAMS_R_JSON] =
		"{ method = \"POST\"; path = \"/j\"; db = \"main\"; "
		"sql = \"SELECT :s AS s, :i AS i, :r AS r, :t AS t, :fa AS fa, :n AS n, :arr AS arr, :obj AS obj, :u AS u\"; "
		"optional = [ \"s\", \"i\", \"r\", \"t\", \"fa\", \"n\", \"arr\", \"obj\", \"u\" ]; }",
	[TEST_PARAMS_R_REQUIRED] =
		"{ method = \"POST\"; path = \"/req\"; db = \"main\"; "
		"sql = \"SELECT :a AS a, :c AS c, :b AS b\"; optional = [ \"c\" ]; }",
	[TEST_PARAMS_R_COLUMN] =
		"{ method = \"POST\"; path = \"/fc\"; db = \"main\"; "
		"sql = ( \"SELECT 1 AS uid\", \"SELECT :uid AS u, :x AS x\" ); }",
	[TEST_PARAMS_R_PAGE_GET] =
		"{ method = \"GET\"; path = \"/pg\"; db = \"main\"; "
		"sql = \"SELECT * FROM items WHERE :n IS NULL OR name = :n LIMIT :limit OFFSET :offset\"; "
		"page = { default = 10; max = 20; }; optional = [ \"n\" ]; }",
	[TEST_PARAMS_R_PAGE_POST] =
		"{ method = \"POST\"; path = \"/pg\"; db = \"main\"; "
		"sql = \"SELECT * FROM items WHERE :n IS NULL OR name = :n LIMIT :limit OFFSET :offset\"; "
		"page = { default = 10; max = 20; }; optional = [ \"n\" ]; }",
	[TEST_PARAMS_R_TYPES] =
		"{ method = \"POST\"; path = \"/ty\"; db = \"main\"; "
		"sql = \"SELECT :i AS i, :r AS r, :b AS b, :t AS t, :bl AS bl\"; "
		"types = { i = \"int\"; r = \"real\"; b = \"bool\"; t = \"text\"; bl = \"blob\"; }; "
		"optional = [ \"i\", \"r\", \"b\", \"t\", \"bl\" ]; headers = { bl = \"X-Blob\"; }; }",
	[TEST_PARAMS_R_TOP] =
		"{ method = \"GET\"; path = \"/top\"; db = \"main\"; "
		"sql = \"SELECT * FROM items LIMIT :limit\"; page = { default = 3; max = 5; }; }",
	[TEST_PARAMS_R_PATH_INT] =
		"{ method = \"GET\"; path = \"/hdr/{id}\"; db = \"main\"; "
		"sql = \"SELECT :id AS id\"; types = { id = \"int\"; }; }",
};

struct test_params_env {
	struct conf conf;
	struct conf_errs errs;
	struct db_conn conns[TEST_PARAMS_NDBS];
	struct srv_routes rs;
	struct srv_job job;
	struct srv_params_err e;
	const struct srv_route *r; /* of the last collect */
};

static void test_params_env_init(struct test_params_env *env)
{
	char dir[] = "/tmp/check_params.XXXXXX", path[64], msg[512];
	unsigned int i;
	FILE *f;
	int err;

	*env = (struct test_params_env){ 0 };
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/poold.conf", dir);
	f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	fputs(test_params_head, f);
	for (i = 0; i < ARRAY_SIZE(test_params_routes); i++)
		fprintf(f, "%s%s\n", test_params_routes[i],
			i + 1 < ARRAY_SIZE(test_params_routes) ? "," : "");
	fputs(");\n", f);
	ck_assert_int_eq(fclose(f), 0);
	err = conf_load(&env->conf, path, &env->errs);
	unlink(path);
	rmdir(dir);
	ck_assert_msg(!err && !env->errs.n, "conf_load: %d: %s", err,
		      env->errs.n ? env->errs.v[0].reason : "");

	err = db_open(&env->conns[0], &env->conf.dbs[0], ":memory:", false, msg,
		      sizeof(msg));
	ck_assert_msg(!err, "db_open: %s", msg);
	err = db_exec(&env->conns[0], test_params_schema, msg, sizeof(msg));
	ck_assert_msg(!err, "schema: %s", msg);
	err = srv_routes_build(&env->rs, &env->conf, env->conns, &env->errs);
	ck_assert_msg(!err && !env->errs.n, "srv_routes_build: %d: %s", err,
		      env->errs.n ? env->errs.v[0].reason : "");
	ck_assert_uint_eq(env->rs.n, ARRAY_SIZE(test_params_routes));
}

static void test_params_env_destroy(struct test_params_env *env)
{
	srv_params_release(&env->job);
	srv_params_release(&env->job); /* safe twice */
	ck_assert_ptr_null(env->job.vals);
	ck_assert_ptr_null(env->job.scratch);
	ck_assert_ptr_null(env->job.body);
	srv_routes_destroy(&env->rs);
	db_close(&env->conns[0]);
	conf_destroy(&env->conf);
	conf_errs_destroy(&env->errs);
}

/*
 * Parse "@line HTTP/1.1" with @headers (each ending in CRLF, or NULL) and
 * @body (or NULL: none, no Content-Length), then collect the parameters of
 * route @ri.  The request and the body are freed before this returns.
 */
static int test_params_collect(struct test_params_env *env, unsigned int ri,
			       const char *line, const char *headers,
			       const char *body)
{
	struct srv_http_request req;
	struct srv_http_parser p;
	size_t blen = body ? strlen(body) : 0;
	char *head, *bbuf;
	int n, status = 0, err;
	ssize_t got;

	if (body)
		n = asprintf(
			&head,
			"%s HTTP/1.1\r\nHost: test\r\n%sContent-Length: %zu\r\n\r\n",
			line, headers ? headers : "", blen);
	else
		n = asprintf(&head, "%s HTTP/1.1\r\nHost: test\r\n%s\r\n", line,
			     headers ? headers : "");
	ck_assert_int_gt(n, 0);
	srv_http_parser_init(&p);
	got = srv_http_parse_head(&p, head, (size_t)n, TEST_PARAMS_MAX_HEAD,
				  &req, &status);
	ck_assert_msg(got == n, "%s: parse_head %zd (status %d)", line, got,
		      status);
	bbuf = malloc(blen ? blen : 1);
	ck_assert_ptr_nonnull(bbuf);
	if (blen)
		memcpy(bbuf, body, blen);

	ck_assert_uint_lt(ri, env->rs.n);
	env->r = &env->rs.v[ri];
	env->e = (struct srv_params_err){ 0 };
	err = srv_params_collect(&env->job, env->r, &req, bbuf, blen, &env->e);
	/* poison, then free: values must not point into the request */
	memset(head, '#', (size_t)n);
	memset(bbuf, '#', blen);
	free(head);
	free(bbuf);
	return err;
}

/* the value of parameter @name of the last collect */
static const struct srv_value *test_params_val(struct test_params_env *env,
					       const char *name)
{
	int slot = srv_route_param_slot(env->r, name, strlen(name));

	ck_assert_msg(slot >= 0, "%s has no parameter \"%s\"", env->r->name,
		      name);
	ck_assert_ptr_nonnull(env->job.vals);
	return &env->job.vals[slot];
}

static void test_params_ck(struct test_params_env *env, const char *name,
			   struct test_params_v want)
{
	test_params_ck_value(test_params_val(env, name), &want, name);
}

/* the value is a JSON text equal (as JSON) to @json */
static void test_params_ck_json(struct test_params_env *env, const char *name,
				const char *json)
{
	const struct srv_value *v = test_params_val(env, name);
	json_t *got, *want;

	ck_assert_msg(v->t == SRV_V_TEXT, "%s: type %s", name,
		      test_params_vtype_name(v->t));
	got = json_loadb(v->p, v->len, 0, NULL);
	want = json_loads(json, 0, NULL);
	ck_assert_msg(got && want && json_equal(got, want), "%s: %.*s, not %s",
		      name, (int)v->len, v->p, json);
	json_decref(got);
	json_decref(want);
}

static void test_params_ck_ok(struct test_params_env *env, int err)
{
	ck_assert_msg(!err, "%s: %d: %d %s: %s", env->r->name, err,
		      env->e.status, env->e.code ? env->e.code : "",
		      env->e.message);
}

/* ---- sources, in order --------------------------------------------------- */

#define TEST_PARAMS_JSON "Content-Type: application/json\r\n"
#define TEST_PARAMS_FORM "Content-Type: application/x-www-form-urlencoded\r\n"
#define TEST_PARAMS_ALL_HEADERS \
	"X-P: hdr\r\nX-J: hdr\r\nX-F: hdr\r\nX-Q: hdr\r\nX-H: hdr\r\n"

struct test_params_source {
	const char *line;
	const char *headers;
	const char *body;
	const char *p, *j, *f, *q, *h; /* NULL: SRV_V_NULL (optional) */
};

static const struct test_params_source test_params_sources[] = {
	/* path > JSON body > query > header */
	{ "POST /s/path?p=query&j=query&f=query&q=query",
	  TEST_PARAMS_JSON TEST_PARAMS_ALL_HEADERS,
	  "{\"p\":\"json\",\"j\":\"json\"}", "path", "json", "query", "query",
	  "hdr" },
	/* path > form body > query > header */
	{ "POST /s/path?p=query&j=query&q=query",
	  TEST_PARAMS_FORM TEST_PARAMS_ALL_HEADERS, "p=form&j=form&f=form",
	  "path", "form", "form", "query", "hdr" },
	/* the body and the query fill nothing they do not name */
	{ "POST /s/path?x=query", TEST_PARAMS_JSON "X-Q: hdr\r\n",
	  "{\"x\":\"json\"}", "path", NULL, NULL, "hdr", NULL },
	/* a header's name is case-insensitive; its value is trimmed */
	{ "POST /s/%70ath", "x-h:   spaced out  \r\nX-J: j\r\n", NULL, "path",
	  "j", NULL, NULL, "spaced out" },
	/* nothing but the path */
	{ "POST /s/only", NULL, NULL, "only", NULL, NULL, NULL, NULL },
	/* an empty path segment is a value too */
	{ "POST /s/?p=query", NULL, NULL, "", NULL, NULL, NULL, NULL },
	/* the first header of a name counts */
	{ "POST /s/a", "X-H: one\r\nX-H: two\r\n", NULL, "a", NULL, NULL, NULL,
	  "one" },
};

START_TEST(test_params_sources_in_order)
{
	const struct test_params_source *t = &test_params_sources[_i];
	const char *const want[5] = { t->p, t->j, t->f, t->q, t->h };
	static const char *const names[5] = { "p", "j", "f", "q", "h" };
	struct test_params_env env;
	const struct srv_value *v;
	unsigned int k;
	int err;

	test_params_env_init(&env);
	err = test_params_collect(&env, TEST_PARAMS_R_SOURCES, t->line,
				  t->headers, t->body);
	test_params_ck_ok(&env, err);
	for (k = 0; k < 5; k++) {
		v = test_params_val(&env, names[k]);
		if (!want[k]) {
			ck_assert_msg(v->t == SRV_V_NULL, "%s: %s, not NULL",
				      names[k], test_params_vtype_name(v->t));
			continue;
		}
		ck_assert_msg(v->t == SRV_V_TEXT && v->len == strlen(want[k]) &&
				      !memcmp(v->p, want[k], v->len),
			      "%s: %s \"%.*s\", not \"%s\"", names[k],
			      test_params_vtype_name(v->t), (int)v->len,
			      v->p ? v->p : "", want[k]);
	}
	test_params_env_destroy(&env);
}
END_TEST

/* ---- JSON bodies --------------------------------------------------------- */

START_TEST(test_params_json_kinds)
{
	struct test_params_env env;
	int err;

	test_params_env_init(&env);
	err = test_params_collect(
		&env, TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON,
		"{ \"s\": \"a\\\"b\\u00e9\\n\", \"i\": 42, \"r\": 1.5, \"t\": true, \"fa\": false,"
		" \"n\": null, \"arr\": [1, \"a\", {\"k\": null}],"
		" \"obj\": {\"x\": [true], \"y\": 2.5}, \"extra\": 1 }");
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "s", (struct test_params_v)VT("a\"b\xc3\xa9\n"));
	test_params_ck(&env, "i", (struct test_params_v)VI(42));
	test_params_ck(&env, "r", (struct test_params_v)VR(1.5));
	test_params_ck(&env, "t", (struct test_params_v)VI(1));
	test_params_ck(&env, "fa", (struct test_params_v)VI(0));
	test_params_ck(&env, "n", (struct test_params_v)VN);
	/* nested values bind as their compact JSON text */
	test_params_ck(&env, "arr",
		       (struct test_params_v)VT("[1,\"a\",{\"k\":null}]"));
	test_params_ck(&env, "obj",
		       (struct test_params_v)VT("{\"x\":[true],\"y\":2.5}"));
	test_params_ck(&env, "u", (struct test_params_v)VN); /* optional */
	test_params_env_destroy(&env);
}
END_TEST

START_TEST(test_params_json_extremes)
{
	struct test_params_env env;
	int err;

	test_params_env_init(&env);
	err = test_params_collect(
		&env, TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON,
		"{\"i\":-9223372036854775808,\"r\":-0.0,\"s\":\"\",\"arr\":[],\"obj\":{}}");
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "i", (struct test_params_v)VI(INT64_MIN));
	test_params_ck(&env, "r", (struct test_params_v)VR(-0.0));
	test_params_ck(&env, "s", (struct test_params_v)VT(""));
	test_params_ck(&env, "arr", (struct test_params_v)VT("[]"));
	test_params_ck(&env, "obj", (struct test_params_v)VT("{}"));
	test_params_env_destroy(&env);
}
END_TEST

/*
 * A nested value is re-serialised, and jansson writes a real with 17
 * significant digits: "[0.1]" comes back as "[0.10000000000000001]".  The
 * text can be longer than the body it came from, so the scratch (sized
 * from the body) must not be where it runs out.
 */
START_TEST(test_params_json_nested_reals)
{
	struct test_params_env env;
	char body[1024], want[1024];
	size_t n, w;
	int k, err;

	n = (size_t)snprintf(body, sizeof(body), "{\"arr\":[");
	w = (size_t)snprintf(want, sizeof(want), "[");
	for (k = 0; k < 100; k++) {
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s0.1",
				      k ? "," : "");
		w += (size_t)snprintf(want + w, sizeof(want) - w, "%s0.1",
				      k ? "," : "");
	}
	snprintf(body + n, sizeof(body) - n, "]}");
	snprintf(want + w, sizeof(want) - w, "]");

	test_params_env_init(&env);
	err = test_params_collect(&env, TEST_PARAMS_R_JSON, "POST /j",
				  TEST_PARAMS_JSON, body);
	test_params_ck_ok(&env, err);
	test_params_ck_json(&env, "arr", want);
	test_params_env_destroy(&env);
}
END_TEST

static const char *const test_params_json_types[] = {
	"application/json",
	"application/json; charset=utf-8",
	"application/json;charset=utf-8",
	"Application/JSON",
	"application/json ; charset=utf-8",
};

START_TEST(test_params_json_media_types)
{
	struct test_params_env env;
	char headers[128];
	int err;

	snprintf(headers, sizeof(headers), "Content-Type: %s\r\n",
		 test_params_json_types[_i]);
	test_params_env_init(&env);
	err = test_params_collect(&env, TEST_PARAMS_R_JSON, "POST /j", headers,
				  "{\"s\":\"v\"}");
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "s", (struct test_params_v)VT("v"));
	test_params_env_destroy(&env);
}
END_TEST

/* no body: a Content-Type of any kind is not looked at */
START_TEST(test_params_empty_body_any_type)
{
	struct test_params_env env;
	int err;

	test_params_env_init(&env);
	err = test_params_collect(&env, TEST_PARAMS_R_JSON, "POST /j?s=q",
				  "Content-Type: text/plain\r\n", "");
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "s", (struct test_params_v)VT("q"));
	test_params_ck(&env, "i", (struct test_params_v)VN);
	test_params_env_destroy(&env);
}
END_TEST

/* ---- refusals ------------------------------------------------------------ */

struct test_params_refusal {
	unsigned int route;
	const char *line;
	const char *headers;
	const char *body;
	int status;
	const char *code;
	const char *message; /* the whole message, or its start with "*" */
};

#define TEST_PARAMS_415                \
	415, "unsupported_media_type", \
		"a request body must be application/json or application/x-www-form-urlencoded"
#define TEST_PARAMS_BAD_JSON 400, "bad_param", "invalid JSON body: *"
#define TEST_PARAMS_NOT_OBJECT \
	400, "bad_param", "the JSON body must be an object"
#define TEST_PARAMS_BAD_PCT 400, "bad_param", "malformed percent-encoding"
#define TEST_PARAMS_BAD_LIMIT \
	400, "bad_param", "\"limit\" must be a positive integer"
#define TEST_PARAMS_BAD_OFFSET \
	400, "bad_param", "\"offset\" must be a non-negative integer"

static const struct test_params_refusal test_params_refusals[] = {
	/* JSON bodies */
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON, "{\"s\":1,\"s\":2}",
	  TEST_PARAMS_BAD_JSON },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON,
	  "{\"u\":1,\"s\":\"a\",\"u\":1}", TEST_PARAMS_BAD_JSON },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON, "{",
	  TEST_PARAMS_BAD_JSON },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON, "{\"s\":}",
	  TEST_PARAMS_BAD_JSON },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON, "{\"s\":1} x",
	  TEST_PARAMS_BAD_JSON },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON, "s=1",
	  TEST_PARAMS_BAD_JSON },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON,
	  "{\"s\":\"\\u0000\"}", TEST_PARAMS_BAD_JSON },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON,
	  "{\"i\":9223372036854775808}", TEST_PARAMS_BAD_JSON },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON, "[1]",
	  TEST_PARAMS_NOT_OBJECT },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON, "42",
	  TEST_PARAMS_BAD_JSON }, /* not an array or object */
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON, "\"s\"",
	  TEST_PARAMS_BAD_JSON }, /* not an array or object */
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_JSON, "null",
	  TEST_PARAMS_BAD_JSON }, /* not an array or object */
	/* other media types with a body */
	{ TEST_PARAMS_R_JSON, "POST /j", "Content-Type: text/plain\r\n", "s=1",
	  TEST_PARAMS_415 },
	{ TEST_PARAMS_R_JSON, "POST /j", NULL, "{\"s\":1}", TEST_PARAMS_415 },
	{ TEST_PARAMS_R_JSON, "POST /j", "Content-Type: application/jsonx\r\n",
	  "{\"s\":1}", TEST_PARAMS_415 },
	{ TEST_PARAMS_R_JSON, "POST /j", "Content-Type: application/\r\n",
	  "{\"s\":1}", TEST_PARAMS_415 },
	{ TEST_PARAMS_R_JSON, "POST /j",
	  "Content-Type: multipart/form-data; boundary=x\r\n", "--x--",
	  TEST_PARAMS_415 },
	{ TEST_PARAMS_R_SOURCES, "POST /s/p", "Content-Type: text/json\r\n",
	  "{}", TEST_PARAMS_415 },
	/* percent-encoding of forms and queries */
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_FORM, "s=%zz",
	  TEST_PARAMS_BAD_PCT },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_FORM, "s=a%2",
	  TEST_PARAMS_BAD_PCT },
	{ TEST_PARAMS_R_JSON, "POST /j", TEST_PARAMS_FORM, "s=%00",
	  TEST_PARAMS_BAD_PCT },
	{ TEST_PARAMS_R_JSON, "POST /j?s=%zz", NULL, NULL,
	  TEST_PARAMS_BAD_PCT },
	{ TEST_PARAMS_R_JSON, "POST /j?x=%00", NULL, NULL,
	  TEST_PARAMS_BAD_PCT },
	/* missing, all named, in order of first use */
	{ TEST_PARAMS_R_REQUIRED, "POST /req", NULL, NULL, 400, "bad_param",
	  "missing parameters: a, b" },
	{ TEST_PARAMS_R_REQUIRED, "POST /req?b=1&c=2", NULL, NULL, 400,
	  "bad_param", "missing parameters: a" },
	{ TEST_PARAMS_R_REQUIRED, "POST /req", TEST_PARAMS_JSON,
	  "{\"a\":1,\"c\":2}", 400, "bad_param", "missing parameters: b" },
	{ TEST_PARAMS_R_COLUMN, "POST /fc", NULL, NULL, 400, "bad_param",
	  "missing parameters: x" },
	/* declared types */
	{ TEST_PARAMS_R_TYPES, "POST /ty?i=4x", NULL, NULL, 400, "bad_param",
	  "parameter \"i\" is not a valid int" },
	{ TEST_PARAMS_R_TYPES, "POST /ty?i=+1", NULL, NULL, 400, "bad_param",
	  "parameter \"i\" is not a valid int" },
	{ TEST_PARAMS_R_TYPES, "POST /ty", TEST_PARAMS_JSON, "{\"i\":1.5}", 400,
	  "bad_param", "parameter \"i\" is not a valid int" },
	{ TEST_PARAMS_R_TYPES, "POST /ty", TEST_PARAMS_JSON, "{\"i\":[1]}", 400,
	  "bad_param", "parameter \"i\" is not a valid int" },
	{ TEST_PARAMS_R_TYPES, "POST /ty?r=abc", NULL, NULL, 400, "bad_param",
	  "parameter \"r\" is not a valid real" },
	{ TEST_PARAMS_R_TYPES, "POST /ty?b=2", NULL, NULL, 400, "bad_param",
	  "parameter \"b\" is not a valid bool" },
	{ TEST_PARAMS_R_TYPES, "POST /ty", TEST_PARAMS_JSON, "{\"b\":2}", 400,
	  "bad_param", "parameter \"b\" is not a valid bool" },
	{ TEST_PARAMS_R_TYPES, "POST /ty?bl=!!", NULL, NULL, 400, "bad_param",
	  "parameter \"bl\" is not a valid blob" },
	{ TEST_PARAMS_R_TYPES, "POST /ty", TEST_PARAMS_JSON, "{\"bl\":5}", 400,
	  "bad_param", "parameter \"bl\" is not a valid blob" },
	{ TEST_PARAMS_R_PATH_INT, "GET /hdr/x", NULL, NULL, 400, "bad_param",
	  "parameter \"id\" is not a valid int" },
	/* page: limit and offset from the query */
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=0", NULL, NULL,
	  TEST_PARAMS_BAD_LIMIT },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=-1", NULL, NULL,
	  TEST_PARAMS_BAD_LIMIT },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=x", NULL, NULL,
	  TEST_PARAMS_BAD_LIMIT },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=", NULL, NULL,
	  TEST_PARAMS_BAD_LIMIT },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=1.5", NULL, NULL,
	  TEST_PARAMS_BAD_LIMIT },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=+5", NULL, NULL,
	  TEST_PARAMS_BAD_LIMIT },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=99999999999999999999", NULL,
	  NULL, TEST_PARAMS_BAD_LIMIT },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?offset=-1", NULL, NULL,
	  TEST_PARAMS_BAD_OFFSET },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=5&offset=x", NULL, NULL,
	  TEST_PARAMS_BAD_OFFSET },
	{ TEST_PARAMS_R_PAGE_POST, "POST /pg?limit=0", TEST_PARAMS_JSON,
	  "{\"limit\":5}", TEST_PARAMS_BAD_LIMIT },
};

START_TEST(test_params_refuses)
{
	const struct test_params_refusal *t = &test_params_refusals[_i];
	struct test_params_env env;
	size_t n;
	int err;

	test_params_env_init(&env);
	err = test_params_collect(&env, t->route, t->line, t->headers, t->body);
	ck_assert_msg(err == -EINVAL, "%s: returned %d, not -EINVAL", t->line,
		      err);
	ck_assert_int_eq(env.e.status, t->status);
	ck_assert_ptr_nonnull(env.e.code);
	ck_assert_str_eq(env.e.code, t->code);
	n = strlen(t->message);
	if (n && t->message[n - 1] == '*')
		ck_assert_msg(!strncmp(env.e.message, t->message, n - 1) &&
				      strlen(env.e.message) > n - 1,
			      "message \"%s\" does not start \"%.*s\"",
			      env.e.message, (int)n - 1, t->message);
	else
		ck_assert_str_eq(env.e.message, t->message);
	test_params_env_destroy(&env);
}
END_TEST

/* ---- required, optional, columns ----------------------------------------- */

START_TEST(test_params_optional_and_null)
{
	struct test_params_env env;
	int err;

	test_params_env_init(&env);
	/* optional and absent: NULL */
	err = test_params_collect(&env, TEST_PARAMS_R_REQUIRED,
				  "POST /req?a=1&b=2", NULL, NULL);
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "a", (struct test_params_v)VT("1"));
	test_params_ck(&env, "b", (struct test_params_v)VT("2"));
	test_params_ck(&env, "c", (struct test_params_v)VN);
	srv_params_release(&env.job);

	/* a JSON null is given, not missing */
	err = test_params_collect(&env, TEST_PARAMS_R_REQUIRED, "POST /req",
				  TEST_PARAMS_JSON, "{\"a\":null,\"b\":null}");
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "a", (struct test_params_v)VN);
	test_params_ck(&env, "b", (struct test_params_v)VN);
	srv_params_release(&env.job);

	/* an empty query value is given too */
	err = test_params_collect(&env, TEST_PARAMS_R_REQUIRED,
				  "POST /req?a=&b", NULL, NULL);
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "a", (struct test_params_v)VT(""));
	test_params_ck(&env, "b", (struct test_params_v)VT(""));
	test_params_env_destroy(&env);
}
END_TEST

/* an earlier statement's column fills :uid: not missing, left absent */
START_TEST(test_params_from_column_not_missing)
{
	struct test_params_env env;
	int err;

	test_params_env_init(&env);
	err = test_params_collect(&env, TEST_PARAMS_R_COLUMN, "POST /fc?x=1",
				  NULL, NULL);
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "uid",
		       (struct test_params_v){ .t = SRV_V_ABSENT });
	test_params_ck(&env, "x", (struct test_params_v)VT("1"));
	srv_params_release(&env.job);

	/* the request may still give it */
	err = test_params_collect(&env, TEST_PARAMS_R_COLUMN,
				  "POST /fc?x=1&uid=7", NULL, NULL);
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "uid", (struct test_params_v)VT("7"));
	test_params_env_destroy(&env);
}
END_TEST

/* ---- page ---------------------------------------------------------------- */

struct test_params_page {
	unsigned int route;
	const char *line;
	const char *headers;
	const char *body;
	int64_t limit, offset;
	const char *n; /* :n, NULL: SRV_V_NULL (optional) */
};

static const struct test_params_page test_params_pages[] = {
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg", NULL, NULL, 10, 0, NULL },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=5", NULL, NULL, 5, 0, NULL },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=5&offset=3&n=b", NULL, NULL, 5,
	  3, "b" },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?offset=7", NULL, NULL, 10, 7, NULL },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?offset=0", NULL, NULL, 10, 0, NULL },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=1", NULL, NULL, 1, 0, NULL },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=20", NULL, NULL, 20, 0, NULL },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=21", NULL, NULL, 20, 0, NULL },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=9223372036854775807", NULL,
	  NULL, 20, 0, NULL },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?limit=%35&offset=%34%32", NULL, NULL,
	  5, 42, NULL },
	{ TEST_PARAMS_R_PAGE_GET, "GET /pg?offset=9223372036854775807", NULL,
	  NULL, 10, INT64_MAX, NULL },
	/* body parameters never fill :limit or :offset */
	{ TEST_PARAMS_R_PAGE_POST, "POST /pg", TEST_PARAMS_JSON,
	  "{\"limit\":1,\"offset\":7,\"n\":\"a\"}", 10, 0, "a" },
	{ TEST_PARAMS_R_PAGE_POST, "POST /pg", TEST_PARAMS_JSON,
	  "{\"limit\":0,\"offset\":-1}", 10, 0, NULL },
	{ TEST_PARAMS_R_PAGE_POST, "POST /pg", TEST_PARAMS_FORM,
	  "limit=1&offset=7&n=a", 10, 0, "a" },
	{ TEST_PARAMS_R_PAGE_POST, "POST /pg?limit=3&offset=2",
	  TEST_PARAMS_JSON, "{\"limit\":1,\"offset\":7,\"n\":\"a\"}", 3, 2,
	  "a" },
	{ TEST_PARAMS_R_PAGE_POST, "POST /pg?limit=3&offset=2",
	  TEST_PARAMS_FORM, "limit=1&offset=7", 3, 2, NULL },
	/* no :offset in the route: the query's offset is ignored */
	{ TEST_PARAMS_R_TOP, "GET /top", NULL, NULL, 3, 0, NULL },
	{ TEST_PARAMS_R_TOP, "GET /top?limit=9&offset=4", NULL, NULL, 5, 0,
	  NULL },
};

START_TEST(test_params_page_limit_offset)
{
	const struct test_params_page *t = &test_params_pages[_i];
	struct test_params_env env;
	const struct srv_value *v;
	int err;

	test_params_env_init(&env);
	err = test_params_collect(&env, t->route, t->line, t->headers, t->body);
	test_params_ck_ok(&env, err);
	ck_assert_msg(env.job.limit == t->limit && env.job.offset == t->offset,
		      "%s: limit %" PRId64 " offset %" PRId64 ", not %" PRId64
		      " %" PRId64,
		      t->line, env.job.limit, env.job.offset, t->limit,
		      t->offset);
	if (t->route != TEST_PARAMS_R_TOP) {
		v = test_params_val(&env, "n");
		if (t->n)
			ck_assert(v->t == SRV_V_TEXT && v->len == 1 &&
				  v->p[0] == t->n[0]);
		else
			ck_assert_int_eq(v->t, SRV_V_NULL);
	}
	test_params_env_destroy(&env);
}
END_TEST

/* ---- decoding and types through collect ---------------------------------- */

START_TEST(test_params_query_and_form_decoding)
{
	struct test_params_env env;
	int err;

	test_params_env_init(&env);
	err = test_params_collect(
		&env, TEST_PARAMS_R_JSON,
		"POST /j?s=a+b%21%2B&u=%E2%82%AC&%69=k&&i=first&i=second&r",
		NULL, NULL);
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "s", (struct test_params_v)VT("a b!+"));
	test_params_ck(&env, "u", (struct test_params_v)VT("\xe2\x82\xac"));
	test_params_ck(&env, "i", (struct test_params_v)VT("k"));
	test_params_ck(&env, "r", (struct test_params_v)VT(""));
	srv_params_release(&env.job);

	err = test_params_collect(&env, TEST_PARAMS_R_JSON, "POST /j?t=q",
				  TEST_PARAMS_FORM,
				  "s=x+y%2Fz&u=1%262&fa=%3D&t=form&t=again");
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "s", (struct test_params_v)VT("x y/z"));
	test_params_ck(&env, "u", (struct test_params_v)VT("1&2"));
	test_params_ck(&env, "fa", (struct test_params_v)VT("="));
	test_params_ck(&env, "t", (struct test_params_v)VT("form"));
	test_params_env_destroy(&env);
}
END_TEST

START_TEST(test_params_types_applied)
{
	struct test_params_env env;
	int err;

	test_params_env_init(&env);
	err = test_params_collect(&env, TEST_PARAMS_R_TYPES,
				  "POST /ty?i=42&r=1.5&b=TRUE&t=x&bl=AAEC_w",
				  NULL, NULL);
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "i", (struct test_params_v)VI(42));
	test_params_ck(&env, "r", (struct test_params_v)VR(1.5));
	test_params_ck(&env, "b", (struct test_params_v)VI(1));
	test_params_ck(&env, "t", (struct test_params_v)VT("x"));
	test_params_ck(&env, "bl", (struct test_params_v)VB(TEST_PARAMS_BLOB));
	srv_params_release(&env.job);

	err = test_params_collect(
		&env, TEST_PARAMS_R_TYPES, "POST /ty", TEST_PARAMS_JSON,
		"{\"i\":\"-7\",\"r\":2,\"b\":false,\"t\":12,\"bl\":\"AAEC/w==\"}");
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "i", (struct test_params_v)VI(-7));
	test_params_ck(&env, "r", (struct test_params_v)VR(2.0));
	test_params_ck(&env, "b", (struct test_params_v)VI(0));
	test_params_ck(&env, "t", (struct test_params_v)VT("12"));
	test_params_ck(&env, "bl", (struct test_params_v)VB(TEST_PARAMS_BLOB));
	srv_params_release(&env.job);

	/* JSON null stays NULL whatever the type */
	err = test_params_collect(&env, TEST_PARAMS_R_TYPES, "POST /ty",
				  TEST_PARAMS_JSON,
				  "{\"i\":null,\"b\":null,\"bl\":null}");
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "i", (struct test_params_v)VN);
	test_params_ck(&env, "b", (struct test_params_v)VN);
	test_params_ck(&env, "bl", (struct test_params_v)VN);
	srv_params_release(&env.job);

	/* a typed path parameter */
	err = test_params_collect(&env, TEST_PARAMS_R_PATH_INT, "GET /hdr/12",
				  NULL, NULL);
	test_params_ck_ok(&env, err);
	test_params_ck(&env, "id", (struct test_params_v)VI(12));
	test_params_env_destroy(&env);
}
END_TEST

/*
 * A blob is decoded into the scratch while its base64 text, decoded from
 * the query, a form body, the path or a header, is still there: the blob
 * needs three quarters of the text's length again.  Sources of 800 base64
 * characters (600 bytes) must convert like short ones.
 */
enum test_params_blob_where {
	TEST_PARAMS_IN_QUERY,
	TEST_PARAMS_IN_FORM,
	TEST_PARAMS_IN_JSON,
	TEST_PARAMS_IN_HEADER,
};

START_TEST(test_params_long_blobs)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char b64[1024], line[1100], body[1100], headers[1100];
	const char *hp = NULL, *bp = NULL;
	struct test_params_env env;
	const struct srv_value *v;
	unsigned char raw[600];
	size_t i, o = 0;
	uint32_t w;
	int err;

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 7 + 3);
	for (i = 0; i < sizeof(raw); i += 3) {
		w = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    raw[i + 2];
		b64[o++] = abc[w >> 18 & 63];
		b64[o++] = abc[w >> 12 & 63];
		b64[o++] = abc[w >> 6 & 63];
		b64[o++] = abc[w & 63];
	}
	b64[o] = '\0';
	ck_assert_uint_eq(o, 800);
	snprintf(line, sizeof(line), "POST /ty");
	switch (_i) {
	case TEST_PARAMS_IN_QUERY:
		snprintf(line, sizeof(line), "POST /ty?bl=%s", b64);
		break;
	case TEST_PARAMS_IN_FORM:
		hp = TEST_PARAMS_FORM;
		snprintf(body, sizeof(body), "bl=%s", b64);
		bp = body;
		break;
	case TEST_PARAMS_IN_JSON:
		hp = TEST_PARAMS_JSON;
		snprintf(body, sizeof(body), "{\"bl\":\"%s\"}", b64);
		bp = body;
		break;
	default:
		snprintf(headers, sizeof(headers), "X-Blob: %s\r\n", b64);
		hp = headers;
		break;
	}

	test_params_env_init(&env);
	err = test_params_collect(&env, TEST_PARAMS_R_TYPES, line, hp, bp);
	test_params_ck_ok(&env, err);
	v = test_params_val(&env, "bl");
	ck_assert_int_eq(v->t, SRV_V_BLOB);
	ck_assert_uint_eq(v->len, sizeof(raw));
	ck_assert(!memcmp(v->p, raw, sizeof(raw)));
	test_params_env_destroy(&env);
}
END_TEST

/* release is safe on a job collect never touched, and after a refusal */
START_TEST(test_params_release_is_idempotent)
{
	struct test_params_env env;
	struct srv_job job = { 0 };

	srv_params_release(&job);
	srv_params_release(&job);
	ck_assert_ptr_null(job.vals);

	test_params_env_init(&env);
	ck_assert_int_eq(test_params_collect(&env, TEST_PARAMS_R_JSON,
					     "POST /j", TEST_PARAMS_JSON,
					     "[1]"),
			 -EINVAL);
	test_params_env_destroy(&env);
}
END_TEST

Suite *params_suite(void)
{
	Suite *s = suite_create("params");
	TCase *tc;

	tc = tcase_create("convert");
	tcase_add_loop_test(tc, test_params_convert_table, 0,
			    ARRAY_SIZE(test_params_convs));
	suite_add_tcase(s, tc);

	tc = tcase_create("collect");
	tcase_add_loop_test(tc, test_params_sources_in_order, 0,
			    ARRAY_SIZE(test_params_sources));
	tcase_add_test(tc, test_params_json_kinds);
	tcase_add_test(tc, test_params_json_extremes);
	tcase_add_test(tc, test_params_json_nested_reals);
	tcase_add_loop_test(tc, test_params_json_media_types, 0,
			    ARRAY_SIZE(test_params_json_types));
	tcase_add_test(tc, test_params_empty_body_any_type);
	tcase_add_loop_test(tc, test_params_refuses, 0,
			    ARRAY_SIZE(test_params_refusals));
	tcase_add_test(tc, test_params_optional_and_null);
	tcase_add_test(tc, test_params_from_column_not_missing);
	tcase_add_loop_test(tc, test_params_page_limit_offset, 0,
			    ARRAY_SIZE(test_params_pages));
	tcase_add_test(tc, test_params_query_and_form_decoding);
	tcase_add_test(tc, test_params_types_applied);
	tcase_add_loop_test(tc, test_params_long_blobs, TEST_PARAMS_IN_QUERY,
			    TEST_PARAMS_IN_HEADER + 1);
	tcase_add_test(tc, test_params_release_is_idempotent);
	suite_add_tcase(s, tc);
	return s;
}
