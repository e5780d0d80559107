// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib/conf.c - the configuration file, parsed and checked in one pass
 *
 * libconfig does the lexing and the syntax; everything after that is ours.
 * Each key is described once, in a table (conf_keys[] and one table per
 * group): its dotted name, where its value goes in struct conf, and the
 * function that checks it.  Integer keys share one function driven by the
 * range and default in their descriptor; keys that need more (paths,
 * listen addresses, the user) have a function of their own.
 *
 * A group is walked twice.  First its members in file order: each one is
 * either parsed by its descriptor or reported as an unknown key, so the
 * problems come out sorted by line.  Then its descriptors: every key the
 * file left out gets its default.  A last pass checks what spans keys
 * (workers against max_workers, status_listen against listen).
 *
 * A parse function returns 0, -EINVAL after appending a problem to the
 * list (checking goes on: every problem is reported at once), or another
 * negative errno, which stops everything (only -ENOMEM in practice).
 *
 * Relative paths resolve against the directory of the file, made absolute
 * with realpath() first; listen addresses are resolved to socket addresses
 * here too, so that an unresolvable name is a configuration error with a
 * line number rather than a failure to bind later.
 *
 * Integers are CONFIG_TYPE_INT or CONFIG_TYPE_INT64.  libconfig 1.5 keeps
 * a literal above INT_MAX written without the L suffix as a truncated
 * 32-bit int, and nothing in its API shows that happened: the range checks
 * catch most such values, and 64-bit values are written with L.
 */
#include "lib/conf.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libconfig.h>

#include "lib/util.h"

#define CONF_MAX_TIMEOUT_MS 86400000 /* one day */
#define CONF_SHM_NAME_MAX 250

struct conf_ctx {
	struct conf *c;		/* borrowed: being filled */
	struct conf_errs *errs; /* borrowed: problems are appended here */
};

struct conf_key;

/*
 * Check one key and store it in @field.  @s is its setting, or NULL when
 * the file leaves the key out and its default applies.
 */
typedef int conf_key_fn(struct conf_ctx *x, const struct conf_key *k,
			const config_setting_t *s, void *field);

struct conf_key {
	const char *key;	    /* borrowed (static): dotted name */
	conf_key_fn *parse;	    /* borrowed (static) */
	size_t off;		    /* of the field in struct conf */
	size_t size;		    /* of an integer field */
	long long min, max, def;    /* integer range and default */
	const char *sdef;	    /* borrowed (static): string default */
	const struct conf_key *sub; /* borrowed (static): a group's keys */
	size_t nsub;
};

static const char *const conf_level_names[] = {
	[CONF_LOG_ERR] = "error",     [CONF_LOG_WARN] = "warn",
	[CONF_LOG_NOTICE] = "notice", [CONF_LOG_INFO] = "info",
	[CONF_LOG_DEBUG] = "debug",
};

/*
 * Append one problem.  A relative @file (libconfig names an @include as
 * written) is resolved against @dir when @dir is given.  Returns -EINVAL,
 * so that a caller can "return conf_err(...)", or -ENOMEM.
 */
static int conf_err_vadd(struct conf_errs *errs, const char *dir,
			 const char *file, int line, const char *fmt,
			 va_list ap)
{
	struct conf_err *e;
	unsigned int cap;
	int n;

	if (errs->n == errs->cap) {
		cap = errs->cap ? errs->cap * 2 : 8;
		e = reallocarray(errs->v, cap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		errs->v = e;
		errs->cap = cap;
	}
	e = &errs->v[errs->n];
	if (dir && file[0] != '/')
		n = asprintf(&e->file, "%s/%s", dir, file);
	else
		n = asprintf(&e->file, "%s", file);
	if (n < 0)
		return -ENOMEM;
	if (vasprintf(&e->reason, fmt, ap) < 0) {
		free(e->file);
		return -ENOMEM;
	}
	e->line = line;
	errs->n++;
	return -EINVAL;
}

static int conf_err_at(struct conf_ctx *x, const char *file, int line,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int conf_err_at(struct conf_ctx *x, const char *file, int line,
		       const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = conf_err_vadd(x->errs, x->c->dir, file, line, fmt, ap);
	va_end(ap);
	return err;
}

static int conf_err(struct conf_ctx *x, const config_setting_t *s,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A problem with setting @s (NULL: no setting, the file as a whole). */
static int conf_err(struct conf_ctx *x, const config_setting_t *s,
		    const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	int line = s ? config_setting_source_line(s) : 0;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = conf_err_vadd(x->errs, x->c->dir, file ? file : x->c->path, line,
			    fmt, ap);
	va_end(ap);
	return err;
}

static int conf_set_string(char **field, const char *v)
{
	char *p = strdup(v);

	if (!p)
		return -ENOMEM;
	free(*field);
	*field = p;
	return 0;
}

/* @p made absolute against the directory of the configuration file */
static int conf_resolve(struct conf_ctx *x, const char *p, char **out)
{
	const char *dir = x->c->dir;
	const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
	char *r;

	if (p[0] == '/')
		return conf_set_string(out, p);
	if (asprintf(&r, "%s%s%s", dir, sep, p) < 0)
		return -ENOMEM;
	free(*out);
	*out = r;
	return 0;
}

/* The string in @s, or the key's default when @s is NULL. */
static int conf_string(struct conf_ctx *x, const struct conf_key *k,
		       const config_setting_t *s, const char **out)
{
	if (!s) {
		*out = k->sdef;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_err(x, s, "\"%s\" must be a string", k->key);
	*out = config_setting_get_string(s);
	return 0;
}

static int conf_parse_int(struct conf_ctx *x, const struct conf_key *k,
			  const config_setting_t *s, void *field)
{
	long long v = k->def;
	uint64_t u64;
	uint32_t u32;
	int type;

	if (s) {
		type = config_setting_type(s);
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			return conf_err(x, s, "\"%s\" must be an integer",
					k->key);
		v = config_setting_get_int64(s);
		if (v < k->min || v > k->max)
			return conf_err(x, s,
					"\"%s\" must be between %lld and %lld",
					k->key, k->min, k->max);
	}
	/* every range is non-negative: the bits are the same when signed */
	if (k->size == sizeof(u64)) {
		u64 = (uint64_t)v;
		memcpy(field, &u64, sizeof(u64));
	} else {
		assert(k->size == sizeof(u32));
		u32 = (uint32_t)v;
		memcpy(field, &u32, sizeof(u32));
	}
	return 0;
}

static int conf_parse_bool(struct conf_ctx *x, const struct conf_key *k,
			   const config_setting_t *s, void *field)
{
	bool *b = field;

	if (!s) {
		*b = k->def;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return conf_err(x, s, "\"%s\" must be a boolean", k->key);
	*b = config_setting_get_bool(s);
	return 0;
}

static int conf_parse_level(struct conf_ctx *x, const struct conf_key *k,
			    const config_setting_t *s, void *field)
{
	enum conf_log_level *level = field;
	const char *v = NULL;
	size_t i;
	int err;

	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	for (i = 0; i < ARRAY_SIZE(conf_level_names); i++) {
		if (!strcmp(v, conf_level_names[i])) {
			*level = (enum conf_log_level)i;
			return 0;
		}
	}
	return conf_err(
		x, s,
		"\"%s\" must be one of \"error\", \"warn\", \"notice\", \"info\", \"debug\"",
		k->key);
}

/* pidfile: never empty, resolved */
static int conf_parse_pidfile(struct conf_ctx *x, const struct conf_key *k,
			      const config_setting_t *s, void *field)
{
	const char *v = NULL;
	int err;

	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	if (!v[0])
		return conf_err(x, s, "\"%s\" must not be empty", k->key);
	return conf_resolve(x, v, field);
}

/* log.file, log.access_log: "-" (stderr) and "" (off) are kept as is */
static int conf_parse_log_path(struct conf_ctx *x, const struct conf_key *k,
			       const config_setting_t *s, void *field)
{
	const char *v = NULL;
	int err;

	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	if (!v[0] || !strcmp(v, "-"))
		return conf_set_string(field, v);
	return conf_resolve(x, v, field);
}

static int conf_parse_shm_name(struct conf_ctx *x, const struct conf_key *k,
			       const config_setting_t *s, void *field)
{
	const char *v = NULL;
	size_t len;
	int err;

	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	if (v[0] != '/' || strchr(v + 1, '/'))
		return conf_err(
			x, s,
			"\"%s\" must start with \"/\" and contain no other \"/\"",
			k->key);
	len = strlen(v);
	if (len < 2 || len > CONF_SHM_NAME_MAX)
		return conf_err(x, s,
				"\"%s\" must be between 2 and %d bytes long",
				k->key, CONF_SHM_NAME_MAX);
	return conf_set_string(field, v);
}

static int conf_parse_user(struct conf_ctx *x, const struct conf_key *k,
			   const config_setting_t *s, void *field)
{
	struct passwd pw, *res;
	char buf[4096];
	const char *v = NULL;
	int err;

	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	if (v[0]) {
		err = getpwnam_r(v, &pw, buf, sizeof(buf), &res);
		if (err)
			return conf_err(x, s,
					"could not look up user \"%s\": %s", v,
					strerror(err));
		if (!res)
			return conf_err(x, s, "unknown user \"%s\"", v);
		x->c->uid = pw.pw_uid;
		x->c->gid = pw.pw_gid;
	}
	return conf_set_string(field, v);
}

static int conf_parse_unsupported(struct conf_ctx *x, const struct conf_key *k,
				  const config_setting_t *s, void *field)
{
	if (!s)
		return 0;
	return conf_err(x, s, "\"%s\" is not supported yet", k->key);
}

/* -1 for AF_UNIX */
static int conf_listen_port(const struct conf_listen *l)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&l->addr;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&l->addr;

	if (l->family == AF_INET)
		return ntohs(in->sin_port);
	if (l->family == AF_INET6)
		return ntohs(in6->sin6_port);
	return -1;
}

/*
 * Whether @a and @b name the same socket.  Addresses that failed to parse
 * (addrlen 0) match nothing, and neither does port 0: two ephemeral
 * listeners are two different sockets.
 */
static bool conf_listen_is_same(const struct conf_listen *a,
				const struct conf_listen *b)
{
	return a->addrlen && a->addrlen == b->addrlen &&
	       !memcmp(&a->addr, &b->addr, a->addrlen) &&
	       conf_listen_port(a) != 0;
}

static void conf_listen_set_port(struct conf_listen *l, int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->addr;

	if (l->family == AF_INET)
		in->sin_port = htons((uint16_t)port);
	else
		in6->sin6_port = htons((uint16_t)port);
}

static void conf_listen_set(struct conf_listen *l, int family, const void *a,
			    int port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->addr;

	memset(&l->addr, 0, sizeof(l->addr));
	l->family = family;
	if (family == AF_INET) {
		in->sin_family = AF_INET;
		memcpy(&in->sin_addr, a, sizeof(in->sin_addr));
		l->addrlen = sizeof(*in);
	} else {
		in6->sin6_family = AF_INET6;
		memcpy(&in6->sin6_addr, a, sizeof(in6->sin6_addr));
		l->addrlen = sizeof(*in6);
	}
	conf_listen_set_port(l, port);
}

static int conf_listen_unix(struct conf_ctx *x, const config_setting_t *s,
			    struct conf_listen *l, const char *p)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&l->addr;
	size_t len;
	int err;

	if (!p[0])
		return conf_err(x, s,
				"invalid listen address \"%s\": empty path",
				l->spec);
	err = conf_resolve(x, p, &l->path);
	if (err)
		return err;
	len = strlen(l->path);
	if (len >= sizeof(un->sun_path))
		return conf_err(
			x, s,
			"invalid listen address \"%s\": path longer than %zu bytes",
			l->spec, sizeof(un->sun_path) - 1);
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, l->path, len + 1);
	l->family = AF_UNIX;
	l->addrlen =
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

/* decimal 0..65535; NULL, or why not */
static const char *conf_port_parse(const char *p, int *port)
{
	int v = 0;

	if (!*p)
		return "missing port";
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return "port must be a number between 0 and 65535";
		v = v * 10 + (*p - '0');
		if (v > 65535)
			return "port must be a number between 0 and 65535";
	}
	*port = v;
	return NULL;
}

/*
 * Split "host:port" or "[v6]:port" into @host and @port; NULL, or why
 * @spec is not an address.
 */
static const char *conf_addr_split(const char *spec, char *host, size_t size,
				   bool *v6, int *port)
{
	const char *h = spec, *end;
	size_t hlen;

	*v6 = spec[0] == '[';
	if (*v6) {
		h = spec + 1;
		end = strchr(h, ']');
		if (!end)
			return "missing \"]\"";
		if (end[1] != ':')
			return end[1] ? "junk after \"]\"" : "missing port";
	} else {
		end = strrchr(spec, ':');
		if (!end)
			return "missing port";
		if (memchr(spec, ':', (size_t)(end - spec)))
			return "an IPv6 address must be in brackets";
	}
	hlen = (size_t)(end - h);
	if (!hlen)
		return "empty host";
	if (hlen >= size)
		return "host name too long";
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return conf_port_parse(end + (*v6 ? 2 : 1), port);
}

/* a host name: the first IPv4 or IPv6 address getaddrinfo() gives */
static int conf_listen_lookup(struct conf_ctx *x, const config_setting_t *s,
			      struct conf_listen *l, const char *host, int port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int rc, e;

	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		e = errno;
		return conf_err(x, s, "could not resolve \"%s\": %s", host,
				rc == EAI_SYSTEM ? strerror(e) :
						   gai_strerror(rc));
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    ai->ai_addrlen <= sizeof(l->addr))
			break;
	}
	if (ai) {
		memcpy(&l->addr, ai->ai_addr, ai->ai_addrlen);
		l->addrlen = ai->ai_addrlen;
		l->family = ai->ai_family;
		conf_listen_set_port(l, port);
	}
	freeaddrinfo(res);
	if (!ai)
		return conf_err(
			x, s,
			"could not resolve \"%s\": no IPv4 or IPv6 address",
			host);
	return 0;
}

static int conf_listen_inet(struct conf_ctx *x, const config_setting_t *s,
			    struct conf_listen *l)
{
	struct in6_addr a6;
	struct in_addr a4;
	char host[NI_MAXHOST];
	const char *why;
	int port = 0;
	bool v6;

	why = conf_addr_split(l->spec, host, sizeof(host), &v6, &port);
	if (!why && v6 && inet_pton(AF_INET6, host, &a6) != 1)
		why = "invalid IPv6 address";
	if (why)
		return conf_err(x, s, "invalid listen address \"%s\": %s",
				l->spec, why);
	if (v6) {
		conf_listen_set(l, AF_INET6, &a6, port);
		return 0;
	}
	if (!strcmp(host, "*")) {
		a4.s_addr = htonl(INADDR_ANY);
		conf_listen_set(l, AF_INET, &a4, port);
		return 0;
	}
	if (inet_pton(AF_INET, host, &a4) == 1) {
		conf_listen_set(l, AF_INET, &a4, port);
		return 0;
	}
	return conf_listen_lookup(x, s, l, host, port);
}

/* one address in the listen syntax, from setting @s (NULL: a default) */
static int conf_listen_parse(struct conf_ctx *x, const config_setting_t *s,
			     const char *spec, struct conf_listen *l)
{
	l->spec = strdup(spec);
	if (!l->spec)
		return -ENOMEM;
	l->line = s ? config_setting_source_line(s) : 0;
	if (!strncmp(spec, "unix:", 5))
		return conf_listen_unix(x, s, l, spec + 5);
	return conf_listen_inet(x, s, l);
}

/* entry @i of listen: a string, not the same as an earlier entry */
static int conf_listen_entry(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *e, unsigned int i)
{
	struct conf *c = x->c;
	const char *spec = k->sdef;
	unsigned int j;
	int err;

	if (e && config_setting_type(e) != CONFIG_TYPE_STRING)
		return conf_err(x, e, "\"%s\" entries must be strings", k->key);
	if (e)
		spec = config_setting_get_string(e);
	err = conf_listen_parse(x, e, spec, &c->listen[i]);
	if (err)
		return err;
	for (j = 0; j < i; j++) {
		if (conf_listen_is_same(&c->listen[i], &c->listen[j]))
			return conf_err(x, e, "duplicate listen address \"%s\"",
					spec);
	}
	return 0;
}

/* listen: one string, or an array or list of them */
static int conf_parse_listen(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *s, void *field)
{
	struct conf *c = x->c;
	const config_setting_t *e = s;
	int i, n = 1, err, ret = 0;

	if (s && (config_setting_is_array(s) || config_setting_is_list(s)))
		n = config_setting_length(s);
	else if (s && config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_err(x, s,
				"\"%s\" must be a string or a list of strings",
				k->key);
	if (n == 0)
		return conf_err(x, s, "\"%s\" must have at least one address",
				k->key);

	c->listen = calloc((size_t)n, sizeof(*c->listen));
	if (!c->listen)
		return -ENOMEM;
	c->nlisten = (unsigned int)n;
	for (i = 0; i < n; i++) {
		if (s && config_setting_is_aggregate(s))
			e = config_setting_get_elem(s, (unsigned int)i);
		err = conf_listen_entry(x, k, e, (unsigned int)i);
		if (err && err != -EINVAL)
			return err;
		if (err)
			ret = err;
	}
	return ret;
}

/* status_listen: "" = not set, else one address */
static int conf_parse_status_listen(struct conf_ctx *x,
				    const struct conf_key *k,
				    const config_setting_t *s, void *field)
{
	struct conf_listen **l = field;
	const char *v = NULL;
	int err;

	err = conf_string(x, k, s, &v);
	if (err || !v[0])
		return err;
	*l = calloc(1, sizeof(**l));
	if (!*l)
		return -ENOMEM;
	return conf_listen_parse(x, s, v, *l);
}

static int conf_parse_group(struct conf_ctx *x, const struct conf_key *k,
			    const config_setting_t *s, void *field);

#define CONF_FIELD(f)                    \
	.off = offsetof(struct conf, f), \
	.size = sizeof(((struct conf *)NULL)->f)
#define CONF_INT(k, f, lo, hi, d)                                            \
	{                                                                    \
		.key = k, .parse = conf_parse_int, CONF_FIELD(f), .min = lo, \
		.max = hi, .def = d                                          \
	}
#define CONF_BOOL(k, f, d)                                                  \
	{                                                                   \
		.key = k, .parse = conf_parse_bool, CONF_FIELD(f), .def = d \
	}
#define CONF_STR(k, f, fn, d)                                   \
	{                                                       \
		.key = k, .parse = fn, CONF_FIELD(f), .sdef = d \
	}
#define CONF_GROUP(k, t)                                       \
	{                                                      \
		.key = k, .parse = conf_parse_group, .sub = t, \
		.nsub = ARRAY_SIZE(t)                          \
	}
#define CONF_UNSUPPORTED(k)                               \
	{                                                 \
		.key = k, .parse = conf_parse_unsupported \
	}

static const struct conf_key conf_log_keys[] = {
	CONF_STR("log.level", log.level, conf_parse_level, "info"),
	CONF_STR("log.file", log.file, conf_parse_log_path, "-"),
	CONF_STR("log.access_log", log.access_log, conf_parse_log_path, ""),
	CONF_BOOL("log.redact_query", log.redact_query, true),
};

static const struct conf_key conf_limits_keys[] = {
	CONF_INT("limits.max_connections", limits.max_connections, 1, 1000000,
		 10000),
	CONF_INT("limits.header_timeout_ms", limits.header_timeout_ms, 1,
		 CONF_MAX_TIMEOUT_MS, 10000),
	CONF_INT("limits.body_timeout_ms", limits.body_timeout_ms, 1,
		 CONF_MAX_TIMEOUT_MS, 30000),
	CONF_INT("limits.write_timeout_ms", limits.write_timeout_ms, 1,
		 CONF_MAX_TIMEOUT_MS, 30000),
	CONF_INT("limits.keepalive_timeout_ms", limits.keepalive_timeout_ms, 1,
		 CONF_MAX_TIMEOUT_MS, 60000),
	CONF_INT("limits.max_header_bytes", limits.max_header_bytes, 1024,
		 1048576, 16384),
	CONF_INT("limits.max_body_bytes", limits.max_body_bytes, 0, 1073741824,
		 1048576),
	CONF_INT("limits.max_response_bytes", limits.max_response_bytes, 1024,
		 1073741824, 16777216),
};

static const struct conf_key conf_shutdown_keys[] = {
	CONF_INT("shutdown.grace_ms", shutdown.grace_ms, 0, 3600000, 0),
	CONF_INT("shutdown.drain_timeout_ms", shutdown.drain_timeout_ms, 0,
		 CONF_MAX_TIMEOUT_MS, 30000),
};

static const struct conf_key conf_keys[] = {
	CONF_STR("listen", listen, conf_parse_listen, "127.0.0.1:8080"),
	CONF_INT("workers", workers, 0, 1024, 0),
	CONF_INT("max_workers", max_workers, 1, 1024, 64),
	CONF_INT("backlog", backlog, 1, 1048576, 1024),
	CONF_STR("pidfile", pidfile, conf_parse_pidfile, "poold.pid"),
	CONF_STR("shm_name", shm_name, conf_parse_shm_name, "/poold"),
	CONF_STR("user", user, conf_parse_user, ""),
	CONF_INT("rlimit_nofile", rlimit_nofile, 0, 1073741824, 0),
	CONF_INT("worker_timeout_s", worker_timeout_s, 1, 86400, 30),
	CONF_INT("reload_timeout_ms", reload_timeout_ms, 100, 3600000, 30000),
	CONF_STR("status_listen", status_listen, conf_parse_status_listen, ""),
	CONF_BOOL("debug_functions", debug_functions, false),
	CONF_GROUP("log", conf_log_keys),
	CONF_GROUP("limits", conf_limits_keys),
	CONF_GROUP("shutdown", conf_shutdown_keys),
	CONF_UNSUPPORTED("databases"),
	CONF_UNSUPPORTED("routes"),
};

/* "level" for "log.level" */
static const char *conf_key_leaf(const struct conf_key *k)
{
	const char *dot = strrchr(k->key, '.');

	return dot ? dot + 1 : k->key;
}

static const struct conf_key *conf_key_find(const struct conf_key *keys,
					    size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(conf_key_leaf(&keys[i]), name))
			return &keys[i];
	}
	return NULL;
}

static int conf_key_parse(struct conf_ctx *x, const struct conf_key *k,
			  const config_setting_t *s)
{
	return k->parse(x, k, s, (char *)x->c + k->off);
}

/*
 * Check the members of @group (NULL: absent) against @keys, then give
 * every absent key its default.  @prefix names the group in messages.
 * Returns 0 or a fatal negative errno; problems are only appended.
 */
static int conf_check_keys(struct conf_ctx *x, const struct conf_key *keys,
			   size_t n, const config_setting_t *group,
			   const char *prefix)
{
	const config_setting_t *s;
	const struct conf_key *k;
	int i, len, err;
	size_t j;

	len = group ? config_setting_length(group) : 0;
	for (i = 0; i < len; i++) {
		s = config_setting_get_elem(group, (unsigned int)i);
		k = conf_key_find(keys, n, config_setting_name(s));
		if (k)
			err = conf_key_parse(x, k, s);
		else
			err = conf_err(x, s, "unknown key \"%s%s%s\"",
				       prefix ? prefix : "", prefix ? "." : "",
				       config_setting_name(s));
		if (err && err != -EINVAL)
			return err;
	}
	for (j = 0; j < n; j++) {
		if (group &&
		    config_setting_get_member(group, conf_key_leaf(&keys[j])))
			continue;
		err = conf_key_parse(x, &keys[j], NULL);
		if (err && err != -EINVAL)
			return err;
	}
	return 0;
}

static int conf_parse_group(struct conf_ctx *x, const struct conf_key *k,
			    const config_setting_t *s, void *field)
{
	if (s && !config_setting_is_group(s))
		return conf_err(x, s, "\"%s\" must be a group", k->key);
	return conf_check_keys(x, k->sub, k->nsub, s, k->key);
}

/* what spans keys; only values that passed their own checks are compared */
static int conf_check_cross(struct conf_ctx *x, const config_setting_t *root)
{
	struct conf *c = x->c;
	const config_setting_t *s;
	unsigned int i;
	int err = 0;

	if (c->max_workers && c->workers > c->max_workers) {
		s = config_setting_get_member(root, "workers");
		err = conf_err(
			x, s,
			"\"workers\" must not exceed \"max_workers\" (%u)",
			c->max_workers);
		if (err != -EINVAL)
			return err;
	}
	if (!c->status_listen)
		return 0;
	for (i = 0; i < c->nlisten; i++) {
		if (conf_listen_is_same(c->status_listen, &c->listen[i])) {
			s = config_setting_get_member(root, "status_listen");
			return conf_err(
				x, s,
				"\"status_listen\" address \"%s\" is also a \"listen\" address",
				c->status_listen->spec);
		}
	}
	return 0;
}

/*
 * Check that @path can be opened as a file, then set c->path and c->dir.
 * A failure is the one problem reported, at line 0 of @path as given.
 */
static int conf_open(struct conf_ctx *x, const char *path)
{
	struct conf *c = x->c;
	struct stat st;
	char *slash;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		err = -errno;
	else if (fstat(fd, &st) < 0)
		err = -errno;
	else if (S_ISDIR(st.st_mode))
		err = -EISDIR;
	if (fd >= 0)
		close(fd);
	if (!err) {
		c->path = realpath(path, NULL);
		if (!c->path)
			err = -errno;
	}
	if (err) {
		if (conf_err_at(x, path, 0,
				"could not open configuration file: %s",
				strerror(-err)) != -EINVAL)
			err = -ENOMEM;
		return err;
	}
	slash = strrchr(c->path, '/');
	c->dir = strndup(c->path,
			 slash == c->path ? 1 : (size_t)(slash - c->path));
	return c->dir ? 0 : -ENOMEM;
}

/* Read the file into @cfg and check it.  Returns 0 or a negative errno. */
static int conf_parse(struct conf_ctx *x, config_t *cfg)
{
	const config_setting_t *root;
	const char *file;
	int err;

	config_set_include_dir(cfg, x->c->dir);
	if (!config_read_file(cfg, x->c->path)) {
		file = config_error_file(cfg);
		err = conf_err_at(x, file ? file : x->c->path,
				  config_error_line(cfg), "%s",
				  config_error_text(cfg));
		if (err == -EINVAL &&
		    config_error_type(cfg) == CONFIG_ERR_FILE_IO)
			err = -EIO;
		return err;
	}
	root = config_root_setting(cfg);
	err = conf_check_keys(x, conf_keys, ARRAY_SIZE(conf_keys), root, NULL);
	if (err)
		return err;
	err = conf_check_cross(x, root);
	return err == -EINVAL ? 0 : err;
}

/**
 * conf_load - read and check a configuration file
 * @c:    filled on success; zeroed and safe for conf_destroy() on failure
 * @path: the file; relative paths in it resolve against its directory
 * @errs: caller-initialised (zeroed) list; every problem is appended
 *
 * Returns 0, -EINVAL when the file has problems (all of them in @errs),
 * or another negative errno (the file cannot be read: also in @errs).
 */
int conf_load(struct conf *c, const char *path, struct conf_errs *errs)
{
	struct conf_ctx x = { .c = c, .errs = errs };
	unsigned int nerr = errs->n;
	config_t cfg;
	int err;

	*c = (struct conf){ 0 };
	err = conf_open(&x, path);
	if (err)
		goto err_destroy;

	config_init(&cfg);
	err = conf_parse(&x, &cfg);
	config_destroy(&cfg);
	if (!err && errs->n != nerr)
		err = -EINVAL;
	if (err)
		goto err_destroy;
	return 0;

err_destroy:
	conf_destroy(c);
	return err;
}

static void conf_listen_destroy(struct conf_listen *l)
{
	free(l->spec);
	free(l->path);
	*l = (struct conf_listen){ 0 };
}

/**
 * conf_destroy - free everything conf_load() built
 * @c: a loaded, zeroed or already destroyed conf; left zeroed
 */
void conf_destroy(struct conf *c)
{
	unsigned int i;

	if (c->status_listen) {
		conf_listen_destroy(c->status_listen);
		free(c->status_listen);
	}
	for (i = 0; i < c->nlisten; i++)
		conf_listen_destroy(&c->listen[i]);
	free(c->listen);
	free(c->pidfile);
	free(c->shm_name);
	free(c->user);
	free(c->log.file);
	free(c->log.access_log);
	free(c->dir);
	free(c->path);
	*c = (struct conf){ 0 };
}

/**
 * conf_errs_destroy - free a list of problems
 * @errs: the list; left zeroed, so calling this twice is safe
 */
void conf_errs_destroy(struct conf_errs *errs)
{
	unsigned int i;

	for (i = 0; i < errs->n; i++) {
		free(errs->v[i].file);
		free(errs->v[i].reason);
	}
	free(errs->v);
	*errs = (struct conf_errs){ 0 };
}

/**
 * conf_default_path - the file poold and poolmon read without -c
 *
 * Returns CONF_DEFAULT_LOCAL if it exists, else CONF_DEFAULT_SYSTEM.
 */
const char *conf_default_path(void)
{
	if (access(CONF_DEFAULT_LOCAL, F_OK) == 0)
		return CONF_DEFAULT_LOCAL;
	return CONF_DEFAULT_SYSTEM;
}

/**
 * conf_log_level_name - the name of a log level as written in the file
 * @level: a level
 *
 * Returns "info" for CONF_LOG_INFO and so on, "?" for no level.
 */
const char *conf_log_level_name(enum conf_log_level level)
{
	if ((unsigned int)level >= ARRAY_SIZE(conf_level_names))
		return "?";
	return conf_level_names[level];
}
