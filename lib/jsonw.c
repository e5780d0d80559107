// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib/jsonw.c - the streaming JSON writer
 *
 * Output goes straight into one growable buffer.  Structure is two small
 * pieces of state: a bit per open container ("this container already
 * holds a value, so the next one needs a comma") and an after_key flag
 * ("the next value follows a key's colon").  Every value-writing call goes
 * through jsonw_sep(), which emits the comma when needed.
 *
 * Errors are sticky: jsonw_reserve() is the single gate for every byte, and
 * once it has failed (the ceiling would be passed, memory ran out, or the
 * caller nested too deeply or closed too much) it refuses everything, so
 * the buffer always holds a prefix of the document and len <= max.  The
 * caller checks err once, at the end.
 *
 * Strings are copied in runs of bytes that need no change; only the bytes
 * that must be escaped, and invalid UTF-8, interrupt a run.  Validation
 * follows the Unicode Standard's table of well-formed byte sequences
 * (Table 3-7): each lead byte admits a range for its first continuation
 * byte (this rules out overlongs, surrogates and code points above
 * U+10FFFF) and 80..BF for the rest.  An invalid sequence is replaced by
 * one U+FFFD per maximal subpart - the longest prefix of a well-formed
 * sequence, or a single byte - as the W3C/WHATWG decoders do.  U+2028
 * and U+2029 are escaped too, because JavaScript before ES2019 does not
 * accept them raw in string literals.
 *
 * Doubles use the shortest of %.15g, %.16g and %.17g that strtod() reads
 * back exactly (%.17g always does).
 */
#include "lib/jsonw.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/util.h"

#define JSON_MIN_CAP 256

static const char json_replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
static const char json_hex[] = "0123456789abcdef";

/*
 * What follows the backslash for an ASCII byte that must be escaped:
 * 'u' for the \u00XX form, 0 for a byte that passes as is.
 */
static const char json_esc[128] = {
	[0x00 ... 0x07] = 'u', [0x08] = 'b',	      [0x09] = 't',
	[0x0a] = 'n',	       [0x0b] = 'u',	      [0x0c] = 'f',
	[0x0d] = 'r',	       [0x0e ... 0x1f] = 'u', ['"'] = '"',
	['\\'] = '\\',
};

/* a lead byte: how many continuation bytes, and the first one's range */
struct json_utf8_lead {
	unsigned char need;
	unsigned char lo;
	unsigned char hi;
};

/* Unicode Table 3-7; need == 0 marks a byte that cannot start a sequence */
static const struct json_utf8_lead json_utf8_leads[256] = {
	[0xc2 ... 0xdf] = { 1, 0x80, 0xbf },
	[0xe0] = { 2, 0xa0, 0xbf }, /* no overlongs */
	[0xe1 ... 0xec] = { 2, 0x80, 0xbf },
	[0xed] = { 2, 0x80, 0x9f }, /* no surrogates */
	[0xee ... 0xef] = { 2, 0x80, 0xbf },
	[0xf0] = { 3, 0x90, 0xbf }, /* no overlongs */
	[0xf1 ... 0xf3] = { 3, 0x80, 0xbf },
	[0xf4] = { 3, 0x80, 0x8f }, /* nothing above U+10FFFF */
};

/**
 * jsonw_init - start writing into @buf
 * @o:   the writer
 * @buf: an existing malloc'd buffer to reuse (owned from now on), or NULL
 * @cap: its size
 * @max: the most bytes the output may have
 */
void jsonw_init(struct jsonw *o, char *buf, size_t cap, size_t max)
{
	*o = (struct jsonw){
		.buf = buf,
		.cap = buf ? cap : 0,
		.max = max,
	};
}

/**
 * jsonw_reset - forget the output but keep the buffer
 * @o: the writer; its error and nesting state are cleared too
 */
void jsonw_reset(struct jsonw *o)
{
	o->len = 0;
	o->err = 0;
	o->depth = 0;
	o->need_comma = 0;
	o->after_key = false;
}

/**
 * jsonw_release - hand the buffer to the caller
 * @o:   the writer; left empty (no buffer) and ready for reuse
 * @len: if not NULL, the output length
 * @cap: if not NULL, the buffer size
 *
 * Returns the buffer, which the caller frees, or NULL if none was needed.
 */
char *jsonw_release(struct jsonw *o, size_t *len, size_t *cap)
{
	char *buf = o->buf;

	if (len)
		*len = o->len;
	if (cap)
		*cap = o->cap;
	jsonw_reset(o);
	o->buf = NULL;
	o->cap = 0;
	return buf;
}

/**
 * jsonw_destroy - free the buffer
 * @o: the writer; left empty, so destroying twice is safe
 */
void jsonw_destroy(struct jsonw *o)
{
	free(o->buf);
	o->buf = NULL;
	o->cap = 0;
	jsonw_reset(o);
}

/* the new capacity for @need bytes: doubling, capped at max */
static size_t jsonw_grow_cap(const struct jsonw *o, size_t need)
{
	size_t cap = o->cap ? o->cap : JSON_MIN_CAP;

	while (cap < need && cap < o->max)
		cap = cap > o->max / 2 ? o->max : cap * 2;
	return MIN(cap, o->max);
}

/* room for @n more bytes at buf + len, or false with err set */
static bool jsonw_reserve(struct jsonw *o, size_t n)
{
	size_t cap;
	char *p;

	if (o->err)
		return false;
	if (n > o->max - o->len) {
		o->err = -E2BIG;
		return false;
	}
	if (o->len + n <= o->cap)
		return true;
	cap = jsonw_grow_cap(o, o->len + n);
	p = realloc(o->buf, cap);
	if (!p) {
		o->err = -ENOMEM;
		return false;
	}
	o->buf = p;
	o->cap = cap;
	return true;
}

static void jsonw_put(struct jsonw *o, const void *s, size_t n)
{
	if (!n || !jsonw_reserve(o, n))
		return;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void jsonw_putc(struct jsonw *o, char c)
{
	jsonw_put(o, &c, 1);
}

/* before any value or key: the comma, unless a key's colon precedes */
static void jsonw_sep(struct jsonw *o)
{
	uint64_t bit = UINT64_C(1) << o->depth;

	if (o->after_key) {
		o->after_key = false;
		return;
	}
	if (!o->depth)
		return;
	if (o->need_comma & bit)
		jsonw_putc(o, ',');
	o->need_comma |= bit;
}

static void jsonw_open(struct jsonw *o, char c)
{
	if (o->depth >= JSONW_MAX_DEPTH) {
		if (!o->err)
			o->err = -EINVAL;
		return;
	}
	jsonw_sep(o);
	jsonw_putc(o, c);
	o->depth++;
	o->need_comma &= ~(UINT64_C(1) << o->depth);
}

static void jsonw_close(struct jsonw *o, char c)
{
	/* nothing open, or a key still waiting for its value */
	if (!o->depth || o->after_key) {
		if (!o->err)
			o->err = -EINVAL;
		return;
	}
	jsonw_putc(o, c);
	o->need_comma &= ~(UINT64_C(1) << o->depth);
	o->depth--;
}

/**
 * jsonw_begin_object - open an object, as a value
 * @o: the writer; past JSONW_MAX_DEPTH levels err becomes -EINVAL
 */
void jsonw_begin_object(struct jsonw *o)
{
	jsonw_open(o, '{');
}

/**
 * jsonw_end_object - close the innermost object
 * @o: the writer; closing with nothing open sets err to -EINVAL
 */
void jsonw_end_object(struct jsonw *o)
{
	jsonw_close(o, '}');
}

/**
 * jsonw_begin_array - open an array, as a value
 * @o: the writer; past JSONW_MAX_DEPTH levels err becomes -EINVAL
 */
void jsonw_begin_array(struct jsonw *o)
{
	jsonw_open(o, '[');
}

/**
 * jsonw_end_array - close the innermost array
 * @o: the writer; closing with nothing open sets err to -EINVAL
 */
void jsonw_end_array(struct jsonw *o)
{
	jsonw_close(o, ']');
}

/*
 * The length of the UTF-8 sequence at @s (@n bytes left): positive for a
 * well-formed one, minus the length of the maximal subpart for an
 * ill-formed one.
 */
static int json_utf8_seq(const unsigned char *s, size_t n)
{
	const struct json_utf8_lead *l = &json_utf8_leads[s[0]];
	unsigned char lo = l->lo, hi = l->hi;
	int i;

	if (s[0] < 0x80)
		return 1;
	if (!l->need)
		return -1;
	for (i = 1; i <= l->need; i++) {
		if ((size_t)i >= n || s[i] < lo || s[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xbf;
	}
	return i;
}

static bool jsonw_is_line_sep(const unsigned char *s, int n)
{
	/* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR */
	return n == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] & 0xfe) == 0xa8;
}

/* the escaped form of the @n-byte sequence at @s (n < 0: ill-formed) */
static void jsonw_put_escape(struct jsonw *o, const unsigned char *s, int n)
{
	char e[6] = { '\\', 'u', '0', '0' };
	char c;

	if (n < 0) {
		jsonw_put(o, json_replacement, 3);
		return;
	}
	if (n == 3) {
		jsonw_put(o, s[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
		return;
	}
	c = json_esc[s[0]];
	if (c != 'u') {
		e[1] = c;
		jsonw_put(o, e, 2);
		return;
	}
	e[4] = json_hex[s[0] >> 4];
	e[5] = json_hex[s[0] & 0xf];
	jsonw_put(o, e, 6);
}

/* @s escaped, without the quotes */
static void jsonw_put_str_body(struct jsonw *o, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int n;

	while (i < len) {
		if (p[i] < 0x80 && !json_esc[p[i]]) {
			i++;
			continue;
		}
		n = p[i] < 0x80 ? 1 : json_utf8_seq(p + i, len - i);
		if (n > 1 && !jsonw_is_line_sep(p + i, n)) {
			i += n;
			continue;
		}
		jsonw_put(o, p + run, i - run);
		jsonw_put_escape(o, p + i, n);
		i += n < 0 ? -n : n;
		run = i;
	}
	jsonw_put(o, p + run, i - run);
}

static void jsonw_put_str(struct jsonw *o, const char *s, size_t len)
{
	jsonw_putc(o, '"');
	jsonw_put_str_body(o, s, len);
	jsonw_putc(o, '"');
}

/**
 * jsonw_key - write an object key
 * @o:   the writer
 * @k:   the key, escaped like any string (invalid UTF-8 becomes U+FFFD)
 * @len: its length in bytes
 *
 * The next value-writing call writes the key's value.
 */
void jsonw_key(struct jsonw *o, const char *k, size_t len)
{
	jsonw_sep(o);
	jsonw_put_str(o, k, len);
	jsonw_putc(o, ':');
	o->after_key = true;
}

/**
 * jsonw_string - write a string value
 * @o:   the writer
 * @s:   the bytes, expected to be UTF-8; ill-formed parts become U+FFFD
 * @len: their number
 */
void jsonw_string(struct jsonw *o, const char *s, size_t len)
{
	jsonw_sep(o);
	jsonw_put_str(o, s, len);
}

/* a value written as is: numbers, literals, caller-checked JSON */
static void jsonw_put_value(struct jsonw *o, const char *s, size_t len)
{
	jsonw_sep(o);
	jsonw_put(o, s, len);
}

/**
 * jsonw_int - write an integer value
 * @o: the writer
 * @v: the value
 */
void jsonw_int(struct jsonw *o, int64_t v)
{
	char b[24];
	int n;

	n = snprintf(b, sizeof(b), "%" PRId64, v);
	jsonw_put_value(o, b, (size_t)n);
}

/* @v in the fewest of 15, 16 or 17 significant digits that read back */
static size_t jsonw_fmt_double(char *b, size_t size, double v)
{
	int prec, n = 0;
	char *comma;

	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(b, size, "%.*g", prec, v);
		if (strtod(b, NULL) == v)
			break;
	}
	/* a locale with a decimal comma: JSON wants the point */
	comma = strchr(b, ',');
	if (comma)
		*comma = '.';
	return (size_t)n;
}

/**
 * jsonw_double - write a number with the fewest digits that read back
 * @o: the writer
 * @v: the value; infinities and NaN are written as null
 */
void jsonw_double(struct jsonw *o, double v)
{
	char b[32];

	if (isnan(v) || isinf(v)) {
		jsonw_null(o);
		return;
	}
	jsonw_put_value(o, b, jsonw_fmt_double(b, sizeof(b), v));
}

/**
 * jsonw_bool - write true or false
 * @o: the writer
 * @v: the value
 */
void jsonw_bool(struct jsonw *o, bool v)
{
	if (v)
		jsonw_put_value(o, "true", 4);
	else
		jsonw_put_value(o, "false", 5);
}

/**
 * jsonw_null - write null
 * @o: the writer
 */
void jsonw_null(struct jsonw *o)
{
	jsonw_put_value(o, "null", 4);
}

/**
 * jsonw_base64 - write bytes as a base64 string (RFC 4648, padded)
 * @o:    the writer
 * @data: the bytes
 * @len:  their number
 */
void jsonw_base64(struct jsonw *o, const void *data, size_t len)
{
	const int variant = sodium_base64_VARIANT_ORIGINAL;
	size_t groups = len / 3 + (len % 3 != 0);
	size_t n;

	jsonw_sep(o);
	jsonw_putc(o, '"');
	if (groups > (SIZE_MAX - 1) / 4) {
		if (!o->err)
			o->err = -E2BIG;
		return;
	}
	/* the text and the closing quote; the encoder's NUL takes its place */
	n = groups * 4;
	if (len && jsonw_reserve(o, n + 1)) {
		sodium_bin2base64(o->buf + o->len, n + 1, data, len, variant);
		o->len += n;
	}
	jsonw_putc(o, '"');
}

/**
 * jsonw_raw - insert already-valid JSON text as one value
 * @o:   the writer
 * @s:   the text; not checked
 * @len: its length
 */
void jsonw_raw(struct jsonw *o, const char *s, size_t len)
{
	jsonw_put_value(o, s, len);
}

/**
 * jsonw_append - append bytes outside the JSON structure
 * @o:   the writer
 * @s:   the bytes (a trailing "\n", say)
 * @len: their number
 */
void jsonw_append(struct jsonw *o, const char *s, size_t len)
{
	jsonw_put(o, s, len);
}
