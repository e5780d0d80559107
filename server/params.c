// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/params.c - parameter values from the request, typed
 *
 * One scratch buffer per job holds every decoded byte: path segments,
 * the decoded query and form body, header values, and converted values
 * (numbers written as text, base64 decoded to blobs).  Its size is known
 * before anything is decoded — decoding never lengthens text, and a
 * conversion needs at most SRV_PARAMS_CONV_ROOM bytes more than its input —
 * so it is allocated once and never moves, and values can point into it.
 *
 * JSON bodies are parsed with jansson (JSON_REJECT_DUPLICATES: a key given
 * twice is ambiguous, so 400); the parsed tree stays with the job, and
 * text values point into it.
 */
#include "server/params.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "lib/conf.h"
#include "server/route.h"

#define SRV_PARAMS_CONV_ROOM 64
#define SRV_PARAMS_MAX_KV 256

static char *srv_params_take(struct srv_job *job, size_t n)
{
	char *p;

	if (job->scratch_cap - job->scratch_len < n)
		return NULL;
	p = job->scratch + job->scratch_len;
	job->scratch_len += n;
	return p;
}

static void srv_params_fail(struct srv_params_err *e, int status,
			    const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void srv_params_fail(struct srv_params_err *e, int status,
			    const char *code, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

static size_t srv_params_headers_len(const struct srv_route *r,
				     const struct srv_http_request *req)
{
	size_t n = 0, len;
	unsigned int i;

	for (i = 0; i < r->nparams; i++) {
		if (r->params[i].header &&
		    srv_http_header_find(req, r->params[i].header, &len))
			n += len;
	}
	return n;
}

static void srv_params_text(struct srv_value *v, const char *p, size_t len)
{
	*v = (struct srv_value){ .t = SRV_V_TEXT, .p = p, .len = len };
}

/* the {name} segments of the template */
static int srv_params_path(struct srv_job *job, const struct srv_route *r,
			   const struct srv_http_request *req)
{
	struct srv_http_str segs[SRV_ROUTE_MAX_SEGS];
	unsigned int n, i;
	char *out;

	out = srv_params_take(job, req->path_len);
	if (!out || srv_http_path_split(req->path, req->path_len, out, segs,
					SRV_ROUTE_MAX_SEGS, &n))
		return -EINVAL; /* cannot happen: the path matched already */
	for (i = 0; i < n && i < r->nsegs; i++) {
		if (r->segs[i].param >= 0)
			srv_params_text(&job->vals[r->segs[i].param], segs[i].p,
					segs[i].len);
	}
	return 0;
}

/* a JSON value as a parameter; arrays and objects bind as their text */
static int srv_params_json_value(struct srv_job *job, json_t *j,
				 struct srv_value *v)
{
	size_t room = job->scratch_cap - job->scratch_len, n;

	switch (json_typeof(j)) {
	case JSON_STRING:
		srv_params_text(v, json_string_value(j), json_string_length(j));
		return 0;
	case JSON_INTEGER:
		*v = (struct srv_value){ .t = SRV_V_INT,
					 .i = json_integer_value(j) };
		return 0;
	case JSON_REAL:
		*v = (struct srv_value){ .t = SRV_V_REAL,
					 .d = json_real_value(j) };
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		*v = (struct srv_value){ .t = SRV_V_INT, .i = json_is_true(j) };
		return 0;
	case JSON_NULL:
		*v = (struct srv_value){ .t = SRV_V_NULL };
		return 0;
	default:
		n = json_dumpb(j, job->scratch + job->scratch_len, room,
			       JSON_COMPACT);
		if (!n || n > room)
			return -EINVAL;
		srv_params_text(v, srv_params_take(job, n), n);
		return 0;
	}
}

/* parse a JSON body; *nested = bytes its array/object values will take */
static int srv_params_json_parse(struct srv_job *job, const struct srv_route *r,
				 const char *body, size_t len, size_t *nested,
				 struct srv_params_err *e)
{
	json_error_t jerr;
	unsigned int i;
	json_t *j;

	job->body = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!job->body) {
		srv_params_fail(e, 400, "bad_param", "invalid JSON body: %s",
				jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(job->body)) {
		srv_params_fail(e, 400, "bad_param",
				"the JSON body must be an object");
		return -EINVAL;
	}
	/* nested values bind as their JSON text, which jansson may write
	 * longer than it came (reals get 17 digits) */
	for (*nested = 0, i = 0; i < r->nparams; i++) {
		j = json_object_get(job->body, r->params[i].name);
		if (j && (json_is_array(j) || json_is_object(j)))
			*nested += json_dumpb(j, NULL, 0, JSON_COMPACT);
	}
	return 0;
}

static void srv_params_json(struct srv_job *job, const struct srv_route *r)
{
	unsigned int i;
	json_t *j;

	for (i = 0; i < r->nparams; i++) {
		if (job->vals[i].t || r->params[i].page)
			continue;
		j = json_object_get(job->body, r->params[i].name);
		if (j)
			srv_params_json_value(job, j, &job->vals[i]);
	}
}

/* query strings and form bodies: fill what is still absent */
static int srv_params_form(struct srv_job *job, const struct srv_route *r,
			   const char *s, size_t len, bool query,
			   struct srv_params_err *e)
{
	struct srv_http_kv kv[SRV_PARAMS_MAX_KV];
	unsigned int n, i, k;
	char *out;
	int err;

	out = srv_params_take(job, len);
	err = out ? srv_http_form_decode(s, len, out, kv, SRV_PARAMS_MAX_KV,
					 &n) :
		    -ENOMEM;
	if (err) {
		srv_params_fail(e, 400, "bad_param", "%s",
				err == -E2BIG ? "too many parameters" :
						"malformed percent-encoding");
		return -EINVAL;
	}
	for (i = 0; i < r->nparams; i++) {
		if (job->vals[i].t || (r->params[i].page && !query))
			continue; /* :limit and :offset come from the query */
		for (k = 0; k < n; k++) {
			if (kv[k].key.len == strlen(r->params[i].name) &&
			    !memcmp(kv[k].key.p, r->params[i].name,
				    kv[k].key.len)) {
				srv_params_text(&job->vals[i], kv[k].val.p,
						kv[k].val.len);
				break;
			}
		}
	}
	return 0;
}

static bool srv_params_media_is(const struct srv_http_request *req,
				const char *type)
{
	size_t n = strlen(type), len = req->content_type_len;
	const char *ct = req->content_type;

	if (!ct || len < n || strncasecmp(ct, type, n))
		return false;
	return len == n || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

/* a body must be JSON or a form; a JSON one is parsed here */
static int srv_params_body_check(struct srv_job *job, const struct srv_route *r,
				 const struct srv_http_request *req,
				 const char *body, size_t len, size_t *nested,
				 struct srv_params_err *e)
{
	*nested = 0;
	if (!len ||
	    srv_params_media_is(req, "application/x-www-form-urlencoded"))
		return 0;
	if (srv_params_media_is(req, "application/json"))
		return srv_params_json_parse(job, r, body, len, nested, e);
	srv_params_fail(
		e, 415, "unsupported_media_type",
		"a request body must be application/json or application/x-www-form-urlencoded");
	return -EINVAL;
}

static void srv_params_headers(struct srv_job *job, const struct srv_route *r,
			       const struct srv_http_request *req)
{
	const char *val;
	unsigned int i;
	size_t len;
	char *p;

	for (i = 0; i < r->nparams; i++) {
		if (job->vals[i].t || !r->params[i].header)
			continue;
		val = srv_http_header_find(req, r->params[i].header, &len);
		p = val ? srv_params_take(job, len) : NULL;
		if (p) {
			memcpy(p, val, len);
			srv_params_text(&job->vals[i], p, len);
		}
	}
}

static int srv_params_int_text(const struct srv_value *v, int64_t *out)
{
	char buf[32], *end;

	if (!v->len || v->len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	errno = 0;
	*out = strtoll(buf, &end, 10);
	return errno || *end || isspace((unsigned char)buf[0]) ||
			       buf[0] == '+' ?
		       -EINVAL :
		       0;
}

static int srv_params_real_text(const struct srv_value *v, double *out)
{
	char buf[64], *end;

	if (!v->len || v->len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	*out = strtod(buf, &end);
	return *end || !isfinite(*out) || isspace((unsigned char)buf[0]) ||
			       buf[0] == '+' ?
		       -EINVAL :
		       0;
}

static int srv_params_to_int(struct srv_value *v)
{
	int64_t i;

	if (v->t == SRV_V_INT || v->t == SRV_V_NULL)
		return 0;
	if (v->t == SRV_V_REAL) {
		if (v->d != floor(v->d) || fabs(v->d) > 9007199254740992.0)
			return -EINVAL;
		*v = (struct srv_value){ .t = SRV_V_INT, .i = (int64_t)v->d };
		return 0;
	}
	if (v->t != SRV_V_TEXT || srv_params_int_text(v, &i))
		return -EINVAL;
	*v = (struct srv_value){ .t = SRV_V_INT, .i = i };
	return 0;
}

static int srv_params_to_real(struct srv_value *v)
{
	double d;

	if (v->t == SRV_V_REAL || v->t == SRV_V_NULL)
		return 0;
	if (v->t == SRV_V_INT) {
		*v = (struct srv_value){ .t = SRV_V_REAL, .d = (double)v->i };
		return 0;
	}
	if (v->t != SRV_V_TEXT || srv_params_real_text(v, &d))
		return -EINVAL;
	*v = (struct srv_value){ .t = SRV_V_REAL, .d = d };
	return 0;
}

static int srv_params_to_bool(struct srv_value *v)
{
	static const char *const names[] = { "false", "0", "true", "1" };
	unsigned int k;

	if (v->t == SRV_V_NULL)
		return 0;
	if (v->t == SRV_V_INT)
		return v->i == 0 || v->i == 1 ? 0 : -EINVAL;
	if (v->t != SRV_V_TEXT)
		return -EINVAL;
	for (k = 0; k < 4; k++) {
		if (v->len == strlen(names[k]) &&
		    !strncasecmp(v->p, names[k], v->len)) {
			*v = (struct srv_value){ .t = SRV_V_INT, .i = k >= 2 };
			return 0;
		}
	}
	return -EINVAL;
}

static int srv_params_to_text(struct srv_value *v, char *s, size_t room,
			      size_t *used)
{
	int n;

	if (v->t == SRV_V_TEXT || v->t == SRV_V_NULL)
		return 0;
	if (v->t == SRV_V_INT)
		n = snprintf(s, room, "%" PRId64, v->i);
	else if (v->t == SRV_V_REAL)
		n = snprintf(s, room, "%.17g", v->d);
	else
		return -EINVAL;
	if (n < 0 || (size_t)n >= room)
		return -EINVAL;
	srv_params_text(v, s, (size_t)n);
	*used = (size_t)n;
	return 0;
}

static int srv_params_to_blob(struct srv_value *v, char *s, size_t room,
			      size_t *used)
{
	static const int variants[] = {
		sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_URLSAFE,
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING
	};
	size_t n;
	unsigned int k;

	if (v->t == SRV_V_NULL)
		return 0;
	if (v->t != SRV_V_TEXT)
		return -EINVAL;
	for (k = 0; k < 4; k++) {
		if (!sodium_base642bin((unsigned char *)s, room, v->p, v->len,
				       NULL, &n, NULL, variants[k])) {
			*v = (struct srv_value){ .t = SRV_V_BLOB,
						 .p = s,
						 .len = n };
			*used = n;
			return 0;
		}
	}
	return -EINVAL;
}

int srv_params_convert(struct srv_value *v, int type, char *scratch,
		       size_t room, size_t *used)
{
	*used = 0;
	switch (type) {
	case CONF_TYPE_INT:
		return srv_params_to_int(v);
	case CONF_TYPE_REAL:
		return srv_params_to_real(v);
	case CONF_TYPE_BOOL:
		return srv_params_to_bool(v);
	case CONF_TYPE_TEXT:
		return srv_params_to_text(v, scratch, room, used);
	case CONF_TYPE_BLOB:
		return srv_params_to_blob(v, scratch, room, used);
	default:
		return 0;
	}
}

static const char *const srv_params_type_names[] = {
	[CONF_TYPE_ANY] = "any",   [CONF_TYPE_INT] = "int",
	[CONF_TYPE_REAL] = "real", [CONF_TYPE_TEXT] = "text",
	[CONF_TYPE_BOOL] = "bool", [CONF_TYPE_BLOB] = "blob",
};

/* declared types; then missing parameters, all named at once */
static int srv_params_finish(struct srv_job *job, const struct srv_route *r,
			     struct srv_params_err *e)
{
	size_t used, off = 0, room;
	unsigned int i;
	char missing[400] = "";
	int n;

	for (i = 0; i < r->nparams; i++) {
		struct srv_value *v = &job->vals[i];
		const struct srv_route_param *p = &r->params[i];

		if (!v->t) {
			if (p->optional)
				v->t = SRV_V_NULL;
			else if (!p->from_column && !p->page &&
				 off < sizeof(missing)) {
				n = snprintf(missing + off,
					     sizeof(missing) - off, "%s%s",
					     off ? ", " : "", p->name);
				off += n > 0 ? (size_t)n : 0;
			}
			continue;
		}
		room = job->scratch_cap - job->scratch_len;
		if (srv_params_convert(v, p->type,
				       job->scratch + job->scratch_len, room,
				       &used)) {
			e->status = 400;
			e->code = "bad_param";
			snprintf(e->message, sizeof(e->message),
				 "parameter \"%s\" is not a valid %s", p->name,
				 srv_params_type_names[p->type]);
			return -EINVAL;
		}
		job->scratch_len += used;
	}
	if (!off)
		return 0;
	srv_params_fail(e, 400, "bad_param", "missing parameters: %s", missing);
	return -EINVAL;
}

/* :limit and :offset of a paged route, from the query, clamped */
static int srv_params_page(struct srv_job *job, const struct srv_route *r,
			   struct srv_params_err *e)
{
	const struct conf_route *cr = r->cr;
	struct srv_value *lv, *ov;

	job->limit = cr->page_default;
	job->offset = 0;
	if (!cr->has_page)
		return 0;
	lv = &job->vals[r->limit_slot];
	ov = r->offset_slot >= 0 ? &job->vals[r->offset_slot] : NULL;
	if (lv->t &&
	    (srv_params_to_int(lv) || lv->t != SRV_V_INT || lv->i < 1)) {
		srv_params_fail(e, 400, "bad_param",
				"\"limit\" must be a positive integer");
		return -EINVAL;
	}
	if (ov && ov->t &&
	    (srv_params_to_int(ov) || ov->t != SRV_V_INT || ov->i < 0)) {
		srv_params_fail(e, 400, "bad_param",
				"\"offset\" must be a non-negative integer");
		return -EINVAL;
	}
	if (lv->t)
		job->limit = lv->i < cr->page_max ? lv->i : cr->page_max;
	if (ov && ov->t)
		job->offset = ov->i;
	return 0;
}

int srv_params_collect(struct srv_job *job, const struct srv_route *r,
		       const struct srv_http_request *req, const char *body,
		       size_t body_len, struct srv_params_err *e)
{
	size_t nested, text;
	int err;

	err = srv_params_body_check(job, r, req, body, body_len, &nested, e);
	if (err)
		return err;
	/* decoded text, then room to convert it all (a blob decodes into
	 * as many bytes as its text at most), nested JSON, numbers */
	text = req->path_len + req->query_len + body_len +
	       srv_params_headers_len(r, req);
	job->scratch_cap =
		2 * text + nested + SRV_PARAMS_CONV_ROOM * (r->nparams + 1);
	job->scratch_len = 0;
	job->scratch = malloc(job->scratch_cap);
	job->vals = calloc(r->nparams + 1, sizeof(*job->vals));
	if (!job->scratch || !job->vals)
		return -ENOMEM;
	err = srv_params_path(job, r, req);
	if (!err && job->body)
		srv_params_json(job, r);
	else if (!err && body_len)
		err = srv_params_form(job, r, body, body_len, false, e);
	if (!err && req->query)
		err = srv_params_form(job, r, req->query, req->query_len, true,
				      e);
	if (err)
		return err;
	srv_params_headers(job, r, req);
	err = srv_params_page(job, r, e);
	if (!err)
		err = srv_params_finish(job, r, e);
	return err;
}

void srv_params_release(struct srv_job *job)
{
	free(job->vals);
	job->vals = NULL;
	free(job->scratch);
	job->scratch = NULL;
	job->scratch_len = job->scratch_cap = 0;
	if (job->body)
		json_decref(job->body);
	job->body = NULL;
}
