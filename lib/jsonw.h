/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/jsonw.h - the streaming JSON writer
 *
 * Renders values straight into a growable buffer, with commas and nesting
 * tracked here so callers just emit values in order: an executor renders
 * result rows directly into the response body, with no intermediate tree.
 *
 * Strings are escaped per RFC 8259; valid UTF-8 passes through as is and
 * every invalid byte sequence becomes U+FFFD, so the output is always
 * valid UTF-8 JSON.  Doubles are written with the fewest digits that read
 * back to the same value; infinities and NaN become null.  Blobs become
 * base64 strings (RFC 4648, with padding).
 *
 * The buffer has a ceiling (max_response_bytes): once rendering would pass
 * it, or memory runs out, the writer stops growing, sets an error and
 * ignores further output, so callers check once at the end.
 *
 * A writer belongs to one thread at a time.
 */
#ifndef LIB_JSONW_H
#define LIB_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 32

struct jsonw {
	char *buf; /* owned: grows with realloc */
	size_t len;
	size_t cap;
	size_t max;	     /* len never exceeds this */
	int err;	     /* 0, -E2BIG (max passed) or -ENOMEM */
	unsigned int depth;  /* open arrays/objects */
	uint64_t need_comma; /* bit d: the container at depth d has a value */
	bool after_key;	     /* a key was written; its value comes next */
};

/**
 * jsonw_init - start writing into @buf
 * @o:   the writer
 * @buf: an existing malloc'd buffer to reuse (owned from now on), or NULL
 * @cap: its size
 * @max: the most bytes the output may have
 */
void jsonw_init(struct jsonw *o, char *buf, size_t cap, size_t max);

/* forget the output but keep the buffer, for the next response */
void jsonw_reset(struct jsonw *o);

/* give the buffer back to the caller (who frees it); the writer is empty */
char *jsonw_release(struct jsonw *o, size_t *len, size_t *cap);

void jsonw_destroy(struct jsonw *o);

void jsonw_begin_object(struct jsonw *o);
void jsonw_end_object(struct jsonw *o);
void jsonw_begin_array(struct jsonw *o);
void jsonw_end_array(struct jsonw *o);

/* an object key; the next call writes its value */
void jsonw_key(struct jsonw *o, const char *k, size_t len);

void jsonw_string(struct jsonw *o, const char *s, size_t len);
void jsonw_int(struct jsonw *o, int64_t v);
void jsonw_double(struct jsonw *o, double v);
void jsonw_bool(struct jsonw *o, bool v);
void jsonw_null(struct jsonw *o);
void jsonw_base64(struct jsonw *o, const void *data, size_t len);

/* already-valid JSON text, inserted as one value */
void jsonw_raw(struct jsonw *o, const char *s, size_t len);

/* bytes appended with no JSON structure (a trailing "\n") */
void jsonw_append(struct jsonw *o, const char *s, size_t len);

#endif /* LIB_JSONW_H */
