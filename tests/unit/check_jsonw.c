// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_json.c - the JSON writer, checked by reading back
 *
 * Each row of the value table is rendered three times in one document -
 * as an array element, as an object member's value and, for strings, as
 * an object key - and the document is parsed back with jansson.  Strings
 * must come back byte for byte (invalid UTF-8 as the exact U+FFFD
 * substitution), integers equal, doubles bit for bit (except infinities
 * and NaN, which must be null), blobs as the exact base64 text that
 * decodes to the input.  Rows that give a text also compare the rendering
 * byte for byte.  The other cases cover commas and nesting, the depth
 * limit, the size ceiling at every possible max, and buffer hand-over.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include <jansson.h>

#include "lib/jsonw.h"
#include "lib/util.h"
#include "tests/unit/suites.h"

#define TEST_JSON_MAX (1u << 20)
#define R "\xef\xbf\xbd" /* U+FFFD */

enum test_json_kind {
	TEST_JSON_STR,
	TEST_JSON_DBL,
	TEST_JSON_INT,
	TEST_JSON_BLOB,
};

struct test_json_case {
	const char *name;
	enum test_json_kind kind;
	const char *in; /* string or blob bytes */
	size_t in_len;
	const char *out; /* string: decoded value; blob: base64 text */
	size_t out_len;
	double d;
	int64_t i;
	const char *text; /* the exact rendering of the value, or NULL */
};

/* one-line row macros: clang-format would spread each over five lines */
/* clang-format off */
/* a string: its bytes, what jansson must decode, and (or NULL) the text */
#define STR(n, s, o, t) \
	{ n, TEST_JSON_STR, s, sizeof(s) - 1, o, sizeof(o) - 1, .text = t }
/* a string that must pass through unchanged */
#define SAME(n, s) STR(n, s, s, "\"" s "\"")
#define DBL(n, v, t) { n, TEST_JSON_DBL, .d = v, .text = t }
#define INT(n, v, t) { n, TEST_JSON_INT, .i = v, .text = t }
#define BLOB(n, b, o) \
	{ n, TEST_JSON_BLOB, b, sizeof(b) - 1, o, sizeof(o) - 1, \
	  .text = "\"" o "\"" }
/* clang-format on */

#define CTL_IN                                                             \
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" \
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
#define CTL_TEXT                                                     \
	"\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007" \
	"\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"                       \
	"\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"   \
	"\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\""

static const struct test_json_case test_json_cases[] = {
	/* strings that need escaping, or not */
	SAME("empty", ""),
	SAME("ascii", "hello, world"),
	STR("quotes", "say \"hi\"", "say \"hi\"", "\"say \\\"hi\\\"\""),
	STR("backslashes", "a\\b\\\\", "a\\b\\\\", "\"a\\\\b\\\\\\\\\""),
	SAME("slash and DEL pass", "</a>\x7f"),
	STR("control chars", CTL_IN, CTL_IN, CTL_TEXT),
	STR("U+2028", "a\xe2\x80\xa8z", "a\xe2\x80\xa8z", "\"a\\u2028z\""),
	STR("U+2029", "\xe2\x80\xa9", "\xe2\x80\xa9", "\"\\u2029\""),
	/* well-formed UTF-8, at each boundary of Table 3-7 */
	SAME("2-byte", "caf\xc3\xa9"),
	SAME("U+0080", "\xc2\x80"),
	SAME("U+07FF", "\xdf\xbf"),
	SAME("3-byte", "\xe2\x82\xac"),
	SAME("U+0800", "\xe0\xa0\x80"),
	SAME("U+D7FF", "\xed\x9f\xbf"),
	SAME("U+E000", "\xee\x80\x80"),
	SAME("U+FFFF", "\xef\xbf\xbf"),
	SAME("U+2027", "\xe2\x80\xa7"),
	SAME("U+202A", "\xe2\x80\xaa"),
	SAME("4-byte", "\xf0\x9f\x98\x80"),
	SAME("U+10000", "\xf0\x90\x80\x80"),
	SAME("U+10FFFF", "\xf4\x8f\xbf\xbf"),
	/* ill-formed: one U+FFFD per maximal subpart */
	STR("lone continuation", "a\x80z", "a" R "z", "\"a" R "z\""),
	STR("two continuations", "\x80\xbf", R R, NULL),
	STR("overlong C0 80", "\xc0\x80", R R, "\"" R R "\""),
	STR("overlong C1 BF", "\xc1\xbf", R R, NULL),
	STR("overlong E0 80 80", "\xe0\x80\x80", R R R, "\"" R R R "\""),
	STR("overlong E0 9F BF", "\xe0\x9f\xbf", R R R, NULL),
	STR("overlong F0 80 80 80", "\xf0\x80\x80\x80", R R R R, NULL),
	STR("overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf", R R R R, NULL),
	STR("surrogate ED A0 80", "\xed\xa0\x80", R R R, "\"" R R R "\""),
	STR("surrogate ED BF BF", "\xed\xbf\xbf", R R R, NULL),
	STR("above U+10FFFF", "\xf4\x90\x80\x80", R R R R, NULL),
	STR("F5 lead", "\xf5\x80\x80\x80", R R R R, NULL),
	STR("truncated E2 82 at end", "x\xe2\x82", "x" R, "\"x" R "\""),
	STR("truncated E2 82 then q", "\xe2\x82q", R "q", NULL),
	STR("truncated E2 at end", "\xe2", R, NULL),
	STR("truncated F0 9F 98 at end", "\xf0\x9f\x98", R, NULL),
	STR("truncated F0 9F 98 then z", "\xf0\x9f\x98z", R "z", NULL),
	STR("truncated then valid", "\xe2\xe2\x82\xac", R "\xe2\x82\xac", NULL),
	STR("truncated then 2-byte", "\xc3\xc3\xa9", R "\xc3\xa9", NULL),
	STR("E2 82 then a lead", "\xe2\x82\xc3\xa9", R "\xc3\xa9", NULL),
	STR("F0 9F 98 then a lead", "\xf0\x9f\x98\xf0\x9f\x98\x80",
	    R "\xf0\x9f\x98\x80", NULL),
	STR("FF", "\xff", R, "\"" R "\""),
	STR("FE FF", "\xfe\xff", R R, NULL),
	STR("mixed", "a\xff\xc3\xa9\xe2\x80\xa8\x01",
	    "a" R "\xc3\xa9\xe2\x80\xa8\x01",
	    "\"a" R "\xc3\xa9\\u2028\\u0001\""),
	/* doubles */
	DBL("0.1", 0.1, "0.1"),
	DBL("1.0", 1.0, "1"),
	DBL("-1.5", -1.5, "-1.5"),
	DBL("1e20", 1e20, "1e+20"),
	DBL("1e300", 1e300, "1e+300"),
	DBL("-0.0", -0.0, "-0"),
	DBL("5e-324", 5e-324, "4.94065645841247e-324"),
	DBL("DBL_MIN", DBL_MIN, NULL),
	DBL("DBL_MAX", DBL_MAX, "1.7976931348623157e+308"),
	DBL("-DBL_MAX", -DBL_MAX, NULL),
	DBL("1/3", 1.0 / 3.0, "0.3333333333333333"),
	DBL("2/3", 2.0 / 3.0, NULL),
	DBL("123456789012345678", 123456789012345678.0,
	    "1.2345678901234568e+17"),
	DBL("2^53", 9007199254740992.0, "9007199254740992"),
	DBL("INF", INFINITY, "null"),
	DBL("-INF", -INFINITY, "null"),
	DBL("NAN", NAN, "null"),
	/* integers */
	INT("0", 0, "0"),
	INT("-1", -1, "-1"),
	INT("INT64_MIN", INT64_MIN, "-9223372036854775808"),
	INT("INT64_MAX", INT64_MAX, "9223372036854775807"),
	/* blobs */
	BLOB("blob 0", "", ""),
	BLOB("blob 1", "\x00", "AA=="),
	BLOB("blob 2", "\x00\x01", "AAE="),
	BLOB("blob 3", "\x00\x01\x02", "AAEC"),
	BLOB("blob fooba", "fooba", "Zm9vYmE="),
	BLOB("blob foobar", "foobar", "Zm9vYmFy"),
	BLOB("blob binary", "\xff\xfe\x00\x80\x7f\x01\x02\x03\xfb\xef",
	     "//4AgH8BAgP77w=="),
};

static bool test_json_has_nul(const struct test_json_case *c)
{
	return c->kind == TEST_JSON_STR && memchr(c->in, 0, c->in_len);
}

/* strings are tried as keys too, except with a NUL: jansson refuses those */
static bool test_json_as_key(const struct test_json_case *c)
{
	return c->kind == TEST_JSON_STR && !test_json_has_nul(c);
}

static void test_json_put(struct jsonw *o, const struct test_json_case *c)
{
	switch (c->kind) {
	case TEST_JSON_STR:
		jsonw_string(o, c->in, c->in_len);
		break;
	case TEST_JSON_DBL:
		jsonw_double(o, c->d);
		break;
	case TEST_JSON_INT:
		jsonw_int(o, c->i);
		break;
	case TEST_JSON_BLOB:
		jsonw_base64(o, c->in, c->in_len);
		break;
	}
}

/* [v,{"k":v}] or, for a string without NUL, [v,{"k":v},{v:null}] */
static void test_json_render(struct jsonw *o, const struct test_json_case *c)
{
	jsonw_begin_array(o);
	test_json_put(o, c);
	jsonw_begin_object(o);
	jsonw_key(o, "k", 1);
	test_json_put(o, c);
	jsonw_end_object(o);
	if (test_json_as_key(c)) {
		jsonw_begin_object(o);
		jsonw_key(o, c->in, c->in_len);
		jsonw_null(o);
		jsonw_end_object(o);
	}
	jsonw_end_array(o);
}

static void test_json_check_double(const struct test_json_case *c,
				   const json_t *v)
{
	double got;

	if (isnan(c->d) || isinf(c->d)) {
		ck_assert_msg(json_is_null(v), "%s: not null", c->name);
		return;
	}
	ck_assert_msg(json_is_number(v), "%s: not a number", c->name);
	got = json_number_value(v);
	if (c->d == 0 && signbit(c->d)) {
		/* "-0" reads back as the integer 0 */
		ck_assert(got == 0);
		return;
	}
	ck_assert_msg(memcmp(&got, &c->d, sizeof(got)) == 0,
		      "%s: read back %.17g, not %.17g", c->name, got, c->d);
}

static void test_json_check_blob(const struct test_json_case *c,
				 const json_t *v)
{
	unsigned char bin[64];
	size_t n;

	ck_assert(json_is_string(v));
	ck_assert_uint_eq(json_string_length(v), c->out_len);
	ck_assert_mem_eq(json_string_value(v), c->out, c->out_len);
	ck_assert_int_eq(sodium_base642bin(bin, sizeof(bin), c->out, c->out_len,
					   NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	ck_assert_uint_eq(n, c->in_len);
	ck_assert_mem_eq(bin, c->in, n);
}

static void test_json_check_value(const struct test_json_case *c,
				  const json_t *v)
{
	ck_assert_ptr_nonnull(v);
	switch (c->kind) {
	case TEST_JSON_STR:
		ck_assert_msg(json_is_string(v), "%s: not a string", c->name);
		ck_assert_uint_eq(json_string_length(v), c->out_len);
		ck_assert_mem_eq(json_string_value(v), c->out, c->out_len);
		break;
	case TEST_JSON_DBL:
		test_json_check_double(c, v);
		break;
	case TEST_JSON_INT:
		ck_assert_msg(json_is_integer(v), "%s: not an integer",
			      c->name);
		ck_assert_int_eq(json_integer_value(v), c->i);
		break;
	case TEST_JSON_BLOB:
		test_json_check_blob(c, v);
		break;
	}
}

static void test_json_check_key(const struct test_json_case *c,
				const json_t *obj)
{
	void *it = json_object_iter((json_t *)obj);

	ck_assert_ptr_nonnull(it);
	ck_assert_uint_eq(json_object_iter_key_len(it), c->out_len);
	ck_assert_mem_eq(json_object_iter_key(it), c->out, c->out_len);
	ck_assert(json_is_null(json_object_iter_value(it)));
}

static void test_json_check_text(const struct test_json_case *c,
				 const struct jsonw *o)
{
	char *want;
	int n;

	if (test_json_as_key(c))
		n = asprintf(&want, "[%s,{\"k\":%s},{%s:null}]", c->text,
			     c->text, c->text);
	else
		n = asprintf(&want, "[%s,{\"k\":%s}]", c->text, c->text);
	ck_assert_int_ge(n, 0);
	ck_assert_msg(o->len == (size_t)n && !memcmp(o->buf, want, o->len),
		      "%s: got %.*s, want %s", c->name, (int)o->len, o->buf,
		      want);
	free(want);
}

START_TEST(test_json_value_reads_back)
{
	const struct test_json_case *c = &test_json_cases[_i];
	size_t want_n = test_json_as_key(c) ? 3 : 2;
	struct jsonw o;
	json_error_t jerr;
	json_t *root;

	jsonw_init(&o, NULL, 0, TEST_JSON_MAX);
	test_json_render(&o, c);
	ck_assert_int_eq(o.err, 0);
	ck_assert_uint_eq(o.depth, 0);
	if (c->text)
		test_json_check_text(c, &o);

	/* jansson refuses \u0000 unless told: only the control-char row */
	root = json_loadb(o.buf, o.len,
			  test_json_has_nul(c) ? JSON_ALLOW_NUL : 0, &jerr);
	ck_assert_msg(root, "%s: %.*s: %s", c->name, (int)o.len, o.buf,
		      jerr.text);
	ck_assert(json_is_array(root));
	ck_assert_uint_eq(json_array_size(root), want_n);
	test_json_check_value(c, json_array_get(root, 0));
	test_json_check_value(c, json_object_get(json_array_get(root, 1), "k"));
	if (want_n == 3)
		test_json_check_key(c, json_array_get(root, 2));
	json_decref(root);
	jsonw_destroy(&o);
}
END_TEST

/* render @o's output as a NUL-terminated string, for ck_assert_str_eq */
static char *test_json_str(const struct jsonw *o)
{
	char *s = strndup(o->buf ? o->buf : "", o->len);

	ck_assert_ptr_nonnull(s);
	return s;
}

static void test_json_nested_doc(struct jsonw *o)
{
	jsonw_begin_object(o);
	jsonw_key(o, "a", 1);
	jsonw_begin_array(o);
	jsonw_int(o, 1);
	jsonw_int(o, 2);
	jsonw_begin_object(o);
	jsonw_key(o, "b", 1);
	jsonw_begin_array(o);
	jsonw_end_array(o);
	jsonw_end_object(o);
	jsonw_begin_array(o);
	jsonw_end_array(o);
	jsonw_begin_array(o);
	jsonw_begin_object(o);
	jsonw_end_object(o);
	jsonw_begin_object(o);
	jsonw_end_object(o);
	jsonw_end_array(o);
	jsonw_end_array(o);
	jsonw_key(o, "c", 1);
	jsonw_begin_object(o);
	jsonw_end_object(o);
	jsonw_key(o, "d", 1);
	jsonw_null(o);
	jsonw_key(o, "e", 1);
	jsonw_bool(o, true);
	jsonw_key(o, "f", 1);
	jsonw_bool(o, false);
	jsonw_key(o, "r", 1);
	jsonw_raw(o, "{\"x\":[1]}", 9);
	jsonw_key(o, "s", 1);
	jsonw_string(o, "t", 1);
	jsonw_end_object(o);
}

#define TEST_JSON_NESTED                                                     \
	"{\"a\":[1,2,{\"b\":[]},[],[{},{}]],\"c\":{},\"d\":null,\"e\":true," \
	"\"f\":false,\"r\":{\"x\":[1]},\"s\":\"t\"}"

START_TEST(test_json_nested_commas)
{
	struct jsonw o;
	json_error_t jerr;
	json_t *root;
	char *s;

	jsonw_init(&o, NULL, 0, TEST_JSON_MAX);
	test_json_nested_doc(&o);
	jsonw_append(&o, "\n", 1);
	ck_assert_int_eq(o.err, 0);
	ck_assert_uint_eq(o.depth, 0);
	s = test_json_str(&o);
	ck_assert_str_eq(s, TEST_JSON_NESTED "\n");
	free(s);
	root = json_loadb(o.buf, o.len, 0, &jerr);
	ck_assert_msg(root, "%s", jerr.text);
	ck_assert_uint_eq(json_object_size(root), 7);
	ck_assert_uint_eq(json_array_size(json_object_get(root, "a")), 5);
	ck_assert(json_is_true(json_object_get(root, "e")));
	json_decref(root);
	jsonw_destroy(&o);
}
END_TEST

START_TEST(test_json_depth_limit)
{
	struct jsonw o;
	json_error_t jerr;
	json_t *root;
	unsigned int i;

	jsonw_init(&o, NULL, 0, TEST_JSON_MAX);
	for (i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_begin_array(&o);
	ck_assert_int_eq(o.err, 0);
	for (i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_end_array(&o);
	ck_assert_int_eq(o.err, 0);
	ck_assert_uint_eq(o.len, 2 * JSONW_MAX_DEPTH);
	root = json_loadb(o.buf, o.len, 0, &jerr);
	ck_assert_msg(root, "%s", jerr.text);
	json_decref(root);

	/* one level more: refused, and everything after it is ignored */
	jsonw_reset(&o);
	for (i = 0; i < JSONW_MAX_DEPTH; i++) {
		jsonw_begin_object(&o);
		jsonw_key(&o, "k", 1);
	}
	ck_assert_int_eq(o.err, 0);
	jsonw_begin_array(&o);
	ck_assert_int_eq(o.err, -EINVAL);
	ck_assert_uint_eq(o.depth, JSONW_MAX_DEPTH);
	jsonw_int(&o, 1);
	ck_assert_uint_eq(o.len, JSONW_MAX_DEPTH * 5);
	jsonw_destroy(&o);
}
END_TEST

START_TEST(test_json_misuse_is_einval)
{
	struct jsonw o;

	jsonw_init(&o, NULL, 0, TEST_JSON_MAX);
	jsonw_end_array(&o);
	ck_assert_int_eq(o.err, -EINVAL);
	ck_assert_uint_eq(o.len, 0);

	/* a key whose value never came */
	jsonw_reset(&o);
	jsonw_begin_object(&o);
	jsonw_key(&o, "k", 1);
	jsonw_end_object(&o);
	ck_assert_int_eq(o.err, -EINVAL);
	jsonw_destroy(&o);
}
END_TEST

/*
 * For every max from 0 to the full length and beyond: either the whole
 * document with err 0, or -E2BIG with a prefix of it no longer than max.
 */
START_TEST(test_json_max_ceiling)
{
	struct jsonw full, o;
	size_t max;

	jsonw_init(&full, NULL, 0, TEST_JSON_MAX);
	test_json_nested_doc(&full);
	jsonw_base64(&full, "\x01\x02\x03\x04", 4);
	jsonw_string(&full, "\xff\xe2\x80\xa8\x01", 5);
	ck_assert_int_eq(full.err, 0);

	for (max = 0; max <= full.len + 2; max++) {
		jsonw_init(&o, NULL, 0, max);
		test_json_nested_doc(&o);
		jsonw_base64(&o, "\x01\x02\x03\x04", 4);
		jsonw_string(&o, "\xff\xe2\x80\xa8\x01", 5);
		ck_assert_uint_le(o.len, max);
		ck_assert_uint_le(o.cap, max);
		ck_assert_int_eq(o.err, max < full.len ? -E2BIG : 0);
		if (o.len)
			ck_assert_mem_eq(o.buf, full.buf, o.len);
		if (max >= full.len)
			ck_assert_uint_eq(o.len, full.len);
		jsonw_destroy(&o);
	}
	jsonw_destroy(&full);
}
END_TEST

START_TEST(test_json_e2big_drops_the_rest)
{
	struct jsonw o;

	jsonw_init(&o, NULL, 0, 8);
	jsonw_begin_array(&o);
	jsonw_string(&o, "abcdefgh", 8); /* 10 bytes: does not fit */
	ck_assert_int_eq(o.err, -E2BIG);
	jsonw_int(&o, 1); /* would fit, but the writer has stopped */
	jsonw_end_array(&o);
	ck_assert_uint_eq(o.len, 2); /* '[', then the string's '"' fitted */
	ck_assert_mem_eq(o.buf, "[\"", 2);
	jsonw_base64(&o, "x", 1);
	ck_assert_int_eq(o.err, -E2BIG);
	jsonw_destroy(&o);
}
END_TEST

START_TEST(test_json_grows_by_doubling)
{
	static const char chunk[] = "0123456789abcdef";
	struct jsonw o;
	size_t prev = 0, i;

	jsonw_init(&o, NULL, 0, 100000);
	jsonw_begin_array(&o);
	for (i = 0; i < 6000; i++) { /* 19 bytes each */
		jsonw_string(&o, chunk, 16);
		if (o.cap != prev) {
			ck_assert(prev == 0 || o.cap == 2 * prev ||
				  o.cap == o.max);
			prev = o.cap;
		}
	}
	jsonw_end_array(&o);
	ck_assert_int_eq(o.err, -E2BIG);
	ck_assert_uint_le(o.len, 100000);
	ck_assert_uint_eq(o.cap, 100000);
	jsonw_destroy(&o);
}
END_TEST

START_TEST(test_json_reset_and_release)
{
	struct jsonw o;
	size_t len, cap;
	char *buf = malloc(64), *got;
	char *s;

	ck_assert_ptr_nonnull(buf);
	jsonw_init(&o, buf, 64, TEST_JSON_MAX);
	jsonw_begin_array(&o);
	jsonw_int(&o, 1);
	jsonw_string(&o, "x", 1);
	jsonw_end_array(&o);
	ck_assert_ptr_eq(o.buf, buf); /* fitted: no realloc */
	s = test_json_str(&o);
	ck_assert_str_eq(s, "[1,\"x\"]");
	free(s);

	/* reset: same buffer, fresh state (no leading comma) */
	jsonw_begin_array(&o); /* left open on purpose */
	jsonw_reset(&o);
	ck_assert_uint_eq(o.len, 0);
	ck_assert_uint_eq(o.depth, 0);
	ck_assert_ptr_eq(o.buf, buf);
	jsonw_begin_object(&o);
	jsonw_key(&o, "a", 1);
	jsonw_bool(&o, true);
	jsonw_end_object(&o);
	s = test_json_str(&o);
	ck_assert_str_eq(s, "{\"a\":true}");
	free(s);

	got = jsonw_release(&o, &len, &cap);
	ck_assert_ptr_eq(got, buf);
	ck_assert_uint_eq(len, 10);
	ck_assert_uint_eq(cap, 64);
	ck_assert_mem_eq(got, "{\"a\":true}", 10);
	ck_assert_ptr_null(o.buf);
	ck_assert_uint_eq(o.len, 0);
	ck_assert_uint_eq(o.cap, 0);
	free(got);

	/* the released writer starts over with a new buffer */
	jsonw_null(&o);
	ck_assert_int_eq(o.err, 0);
	ck_assert_uint_eq(o.len, 4);
	jsonw_destroy(&o);
	ck_assert_ptr_null(o.buf);
	jsonw_destroy(&o); /* twice is safe */
}
END_TEST

Suite *jsonw_suite(void)
{
	Suite *s = suite_create("jsonw");
	TCase *tc;

	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_json_value_reads_back, 0,
			    ARRAY_SIZE(test_json_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("structure");
	tcase_add_test(tc, test_json_nested_commas);
	tcase_add_test(tc, test_json_depth_limit);
	tcase_add_test(tc, test_json_misuse_is_einval);
	suite_add_tcase(s, tc);

	tc = tcase_create("buffer");
	tcase_add_test(tc, test_json_max_ceiling);
	tcase_add_test(tc, test_json_e2big_drops_the_rest);
	tcase_add_test(tc, test_json_grows_by_doubling);
	tcase_add_test(tc, test_json_reset_and_release);
	suite_add_tcase(s, tc);
	return s;
}
