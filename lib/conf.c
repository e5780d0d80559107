// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib/conf.c - the configuration file, parsed and checked in one pass
 *
 * libconfig does the lexing and the syntax; everything after that is ours.
 * Each key is described once, in a table (conf_keys[] and one table per
 * group): its dotted name, where its value goes in its struct (struct conf,
 * or one entry of a list: struct conf_db, struct conf_route, struct
 * conf_stmt), and the function that checks it.  Integer keys share one
 * function driven by the range and default in their descriptor; keys that
 * need more (paths, listen addresses, the user, path templates, statement
 * lists) have a function of their own.
 *
 * A group is walked twice.  First its members in file order: each one is
 * either parsed by its descriptor or reported as an unknown key, so the
 * problems come out sorted by line.  Then its descriptors: every key the
 * file left out gets its default, or is reported missing if it has none.
 * A last pass checks what spans keys (workers against max_workers,
 * status_listen against listen, each route against the databases, the
 * built-in endpoints and the routes before it).
 *
 * databases and routes are lists of groups; each group is walked like the
 * top level, against conf_db_keys[] or conf_route_keys[], with the entry
 * recorded in the context so that every problem inside it ends with the
 * entry it is in: ... in database "main", ... in route "GET /items".
 * Checks that need SQLite (statements that do not prepare, parameters no
 * source can fill) are not made here: the server makes them once it has
 * opened the databases.
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
#include <strings.h>
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
	const char *what;	/* borrowed (static): "database" or "route"
				 * while an entry is checked, else NULL */
	char *name;		/* owned: that entry's name, NULL if none */
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
	size_t off;		    /* of the field in its struct */
	size_t size;		    /* of an integer field */
	long long min, max, def;    /* integer range and default */
	const char *sdef;	    /* borrowed (static): string default */
	const struct conf_key *sub; /* borrowed (static): a group's keys */
	size_t nsub;
	const char *const *words; /* borrowed (static): a choice's words */
	size_t nwords;
	bool icase;    /* the choice ignores case */
	bool required; /* no default: the file must set it */
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
	char *path = NULL;
	int err;

	if (dir && file[0] != '/' && asprintf(&path, "%s/%s", dir, file) < 0)
		return -ENOMEM;
	err = conf_errs_vadd(errs, path ? path : file, line, fmt, ap);
	free(path);
	return err ? err : -EINVAL;
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

static int conf_err_plain(struct conf_ctx *x, const config_setting_t *s,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A problem with setting @s (NULL: no setting, the file as a whole),
 * with the reason exactly as given.
 */
static int conf_err_plain(struct conf_ctx *x, const config_setting_t *s,
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

static int conf_err(struct conf_ctx *x, const config_setting_t *s,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * A problem with setting @s.  Inside an entry of databases or routes the
 * reason ends with the entry: `in database "main"`, `in route "GET /x"`,
 * or `in a route` when the entry has no usable name.
 */
static int conf_err(struct conf_ctx *x, const config_setting_t *s,
		    const char *fmt, ...)
{
	char *reason;
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vasprintf(&reason, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if (!x->what)
		err = conf_err_plain(x, s, "%s", reason);
	else if (x->name)
		err = conf_err_plain(x, s, "%s in %s \"%s\"", reason, x->what,
				     x->name);
	else
		err = conf_err_plain(x, s, "%s in a %s", reason, x->what);
	free(reason);
	return err;
}

/* required key @key is absent from entry @e */
static int conf_err_missing(struct conf_ctx *x, const config_setting_t *e,
			    const char *key)
{
	const char *what = x->what ? x->what : "configuration";

	if (x->name)
		return conf_err_plain(x, e, "%s \"%s\" is missing \"%s\"", what,
				      x->name, key);
	return conf_err_plain(x, e, "%s is missing \"%s\"", what, key);
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

/* 0 if @path opens for reading and is not a directory, else -errno */
static int conf_readable(const char *path)
{
	struct stat st;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (S_ISDIR(st.st_mode))
		err = -EISDIR;
	close(fd);
	return err;
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

static bool conf_is_int(const config_setting_t *s)
{
	int type = config_setting_type(s);

	return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
}

static int conf_parse_int(struct conf_ctx *x, const struct conf_key *k,
			  const config_setting_t *s, void *field)
{
	long long v = k->def;
	uint64_t u64;
	uint32_t u32;

	if (s) {
		if (!conf_is_int(s))
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

/* pidfile, databases[].path: never empty, resolved */
static int conf_parse_path(struct conf_ctx *x, const struct conf_key *k,
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
static int conf_parse_databases(struct conf_ctx *x, const struct conf_key *k,
				const config_setting_t *s, void *field);
static int conf_parse_routes(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *s, void *field);

#define CONF_FIELD_IN(t, f) \
	.off = offsetof(t, f), .size = sizeof(((t *)NULL)->f)
#define CONF_FIELD(f) CONF_FIELD_IN(struct conf, f)
#define CONF_INT_IN(t, k, f, lo, hi, d)                                 \
	{                                                               \
		.key = k, .parse = conf_parse_int, CONF_FIELD_IN(t, f), \
		.min = lo, .max = hi, .def = d                          \
	}
#define CONF_INT(k, f, lo, hi, d) CONF_INT_IN(struct conf, k, f, lo, hi, d)
#define CONF_BOOL_IN(t, k, f, d)                                         \
	{                                                                \
		.key = k, .parse = conf_parse_bool, CONF_FIELD_IN(t, f), \
		.def = d                                                 \
	}
#define CONF_BOOL(k, f, d) CONF_BOOL_IN(struct conf, k, f, d)
#define CONF_STR(k, f, fn, d)                                   \
	{                                                       \
		.key = k, .parse = fn, CONF_FIELD(f), .sdef = d \
	}
#define CONF_GROUP(k, t)                                       \
	{                                                      \
		.key = k, .parse = conf_parse_group, .sub = t, \
		.nsub = ARRAY_SIZE(t)                          \
	}
#define CONF_KEY_IN(t, k, f, fn)                           \
	{                                                  \
		.key = k, .parse = fn, CONF_FIELD_IN(t, f) \
	}
#define CONF_REQUIRED_IN(t, k, f, fn)                                        \
	{                                                                    \
		.key = k, .parse = fn, CONF_FIELD_IN(t, f), .required = true \
	}
#define CONF_WORD_IN(t, k, f, fn, w, d, ic)                             \
	{                                                               \
		.key = k, .parse = fn, CONF_FIELD_IN(t, f), .words = w, \
		.nwords = ARRAY_SIZE(w), .sdef = d, .icase = ic         \
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
	CONF_STR("pidfile", pidfile, conf_parse_path, "poold.pid"),
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
	CONF_KEY_IN(struct conf, "databases", dbs, conf_parse_databases),
	CONF_KEY_IN(struct conf, "routes", routes, conf_parse_routes),
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

/* @base: the struct that the offsets of @k count from */
static int conf_key_parse(struct conf_ctx *x, const struct conf_key *k,
			  const config_setting_t *s, void *base)
{
	return k->parse(x, k, s, (char *)base + k->off);
}

/*
 * Check the members of @group (NULL: absent) against @keys, then give
 * every absent key its default, or report it missing if it is required.
 * @prefix names the group in messages; @base is the struct the fields are
 * in.  Returns 0 or a fatal negative errno; problems are only appended.
 */
static int conf_check_keys(struct conf_ctx *x, const struct conf_key *keys,
			   size_t n, const config_setting_t *group,
			   const char *prefix, void *base)
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
			err = conf_key_parse(x, k, s, base);
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
		if (keys[j].required)
			err = conf_err_missing(x, group,
					       conf_key_leaf(&keys[j]));
		else
			err = conf_key_parse(x, &keys[j], NULL, base);
		if (err && err != -EINVAL)
			return err;
	}
	return 0;
}

/*
 * A group key has no field of its own (its offset is 0): @field is the
 * struct its members' offsets count from.
 */
static int conf_parse_group(struct conf_ctx *x, const struct conf_key *k,
			    const config_setting_t *s, void *field)
{
	if (s && !config_setting_is_group(s))
		return conf_err(x, s, "\"%s\" must be a group", k->key);
	return conf_check_keys(x, k->sub, k->nsub, s, k->key, field);
}

/* one checker of an entry of a list or group: @v is the array, @i its index */
typedef int conf_elem_fn(struct conf_ctx *x, const struct conf_key *k,
			 const config_setting_t *e, void *v, unsigned int i);

/* Check the first @n members of @s with @fn; every one, whatever fails. */
static int conf_elems(struct conf_ctx *x, const struct conf_key *k,
		      const config_setting_t *s, void *v, unsigned int n,
		      conf_elem_fn *fn)
{
	unsigned int i;
	int err, ret = 0;

	for (i = 0; i < n; i++) {
		err = fn(x, k, config_setting_get_elem(s, i), v, i);
		if (err && err != -EINVAL)
			return err;
		if (err)
			ret = err;
	}
	return ret;
}

/* Leave the entry conf_err() was naming. */
static void conf_entry_end(struct conf_ctx *x)
{
	free(x->name);
	x->name = NULL;
	x->what = NULL;
}

static bool conf_is_alpha(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool conf_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool conf_is_hex(char ch)
{
	return conf_is_digit(ch) || (ch >= 'A' && ch <= 'F') ||
	       (ch >= 'a' && ch <= 'f');
}

/* [A-Za-z_][A-Za-z0-9_]*, @n bytes: database and parameter names */
static bool conf_is_ident_n(const char *p, size_t n)
{
	size_t i;

	if (!n || conf_is_digit(p[0]))
		return false;
	for (i = 0; i < n; i++) {
		if (!conf_is_alpha(p[i]) && !conf_is_digit(p[i]) && p[i] != '_')
			return false;
	}
	return true;
}

static bool conf_is_ident(const char *p)
{
	return conf_is_ident_n(p, strlen(p));
}

/* an HTTP token (RFC 9110 5.6.2): a header field name */
static bool conf_is_token(const char *p)
{
	if (!*p)
		return false;
	for (; *p; p++) {
		if (!conf_is_alpha(*p) && !conf_is_digit(*p) &&
		    !strchr("!#$%&'*+-.^_`|~", *p))
			return false;
	}
	return true;
}

/* "\"a\", \"b\", \"c\"" into @buf, cut short if it does not fit */
static void conf_words_join(const char *const *words, size_t n, char *buf,
			    size_t size)
{
	size_t i, len = 0;
	int w;

	buf[0] = '\0';
	for (i = 0; i < n && len < size; i++) {
		w = snprintf(buf + len, size - len, "%s\"%s\"", i ? ", " : "",
			     words[i]);
		if (w < 0)
			return;
		len += (size_t)w;
	}
}

/*
 * The index in @idx of the word in string setting @s among @words.  The
 * key is named @key in messages, or @key.@sub when @sub is given.
 */
static int conf_choice(struct conf_ctx *x, const config_setting_t *s,
		       const char *key, const char *sub,
		       const char *const *words, size_t n, bool icase,
		       size_t *idx)
{
	const char *dot = sub ? "." : "";
	char list[256];
	const char *v;
	size_t i;

	if (!sub)
		sub = "";
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_err(x, s, "\"%s%s%s\" must be a string", key, dot,
				sub);
	v = config_setting_get_string(s);
	for (i = 0; i < n; i++) {
		if (icase ? !strcasecmp(v, words[i]) : !strcmp(v, words[i])) {
			*idx = i;
			return 0;
		}
	}
	conf_words_join(words, n, list, sizeof(list));
	return conf_err(x, s, "\"%s%s%s\" must be one of %s", key, dot, sub,
			list);
}

/* a string chosen among k->words, stored as the word is in the table */
static int conf_parse_word(struct conf_ctx *x, const struct conf_key *k,
			   const config_setting_t *s, void *field)
{
	size_t i;
	int err;

	if (!s)
		return conf_set_string(field, k->sdef);
	err = conf_choice(x, s, k->key, NULL, k->words, k->nwords, k->icase,
			  &i);
	if (err)
		return err;
	return conf_set_string(field, k->words[i]);
}

/* a string, stored as written */
static int conf_parse_text(struct conf_ctx *x, const struct conf_key *k,
			   const config_setting_t *s, void *field)
{
	const char *v = NULL;
	int err;

	if (!s)
		return 0; /* required: never called without a setting */
	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	return conf_set_string(field, v);
}

/* ---- statements: sql and before ---- */

static const int conf_on_empty_codes[] = { 401, 403, 404, 409, 422 };

/*
 * The text of one statement, from string setting @s, and its line.  For a
 * string in a list libconfig records the line of the token after it (it
 * looks ahead for adjacent strings to join): the line of its "," or ")".
 */
static int conf_stmt_text(struct conf_ctx *x, const struct conf_key *k,
			  const config_setting_t *s, struct conf_stmt *st)
{
	const char *v = NULL;
	int err;

	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	if (!v[strspn(v, " \t\n\r\f\v")])
		return conf_err(x, s, "\"%s\" must not be empty", k->key);
	st->line = config_setting_source_line(s);
	return conf_set_string(&st->sql, v);
}

/* sql inside { sql = "..."; on_empty = 409; } */
static int conf_parse_stmt_sql(struct conf_ctx *x, const struct conf_key *k,
			       const config_setting_t *s, void *field)
{
	if (!s)
		return 0; /* conf_stmt_entry() reports it missing */
	return conf_stmt_text(x, k, s,
			      container_of(field, struct conf_stmt, sql));
}

static int conf_parse_on_empty(struct conf_ctx *x, const struct conf_key *k,
			       const config_setting_t *s, void *field)
{
	int *status = field;
	long long v;
	size_t i;

	if (!s)
		return 0; /* 0: the statement may find nothing */
	if (!conf_is_int(s))
		return conf_err(x, s, "\"%s\" must be an integer", k->key);
	v = config_setting_get_int64(s);
	for (i = 0; i < ARRAY_SIZE(conf_on_empty_codes); i++) {
		if (v == conf_on_empty_codes[i]) {
			*status = (int)v;
			return 0;
		}
	}
	return conf_err(x, s, "\"%s\" must be one of 401, 403, 404, 409, 422",
			k->key);
}

static const struct conf_key conf_stmt_keys[] = {
	CONF_KEY_IN(struct conf_stmt, "sql", sql, conf_parse_stmt_sql),
	CONF_KEY_IN(struct conf_stmt, "on_empty", on_empty,
		    conf_parse_on_empty),
};

/* entry @e of a statement list: a string or a group */
static int conf_stmt_entry(struct conf_ctx *x, const struct conf_key *k,
			   const config_setting_t *e, void *v, unsigned int i)
{
	struct conf_stmt *st = (struct conf_stmt *)v + i;
	int err;

	if (config_setting_type(e) == CONFIG_TYPE_STRING)
		return conf_stmt_text(x, k, e, st);
	if (!config_setting_is_group(e))
		return conf_err(x, e,
				"\"%s\" entries must be strings or groups",
				k->key);
	err = conf_check_keys(x, conf_stmt_keys, ARRAY_SIZE(conf_stmt_keys), e,
			      NULL, st);
	if (err)
		return err;
	if (!config_setting_get_member(e, "sql"))
		return conf_err(x, e, "statement is missing \"sql\"");
	return 0;
}

/* one statement, or a list or array of them, into @v and @nv */
static int conf_stmts(struct conf_ctx *x, const struct conf_key *k,
		      const config_setting_t *s, struct conf_stmt **v,
		      unsigned int *nv)
{
	bool one = config_setting_type(s) == CONFIG_TYPE_STRING;
	int n = 1;

	if (!one && !config_setting_is_array(s) && !config_setting_is_list(s))
		return conf_err(
			x, s, "\"%s\" must be a string or a list of statements",
			k->key);
	if (!one)
		n = config_setting_length(s);
	if (n <= 0)
		return conf_err(x, s, "\"%s\" must have at least one statement",
				k->key);
	*v = calloc((size_t)n, sizeof(**v));
	if (!*v)
		return -ENOMEM;
	*nv = (unsigned int)n;
	if (one)
		return conf_stmt_entry(x, k, s, *v, 0);
	return conf_elems(x, k, s, *v, *nv, conf_stmt_entry);
}

/* routes[].sql: the statements of the transaction; required */
static int conf_parse_sql(struct conf_ctx *x, const struct conf_key *k,
			  const config_setting_t *s, void *field)
{
	struct conf_route *r = container_of(field, struct conf_route, sql);

	if (!s)
		return 0;
	return conf_stmts(x, k, s, &r->sql, &r->nsql);
}

/* routes[].before: read-only statements run first; optional */
static int conf_parse_before(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *s, void *field)
{
	struct conf_route *r = container_of(field, struct conf_route, before);

	if (!s)
		return 0;
	return conf_stmts(x, k, s, &r->before, &r->nbefore);
}

/* ---- routes ---- */

static const char *const conf_result_names[] = {
	[CONF_RESULT_MANY] = "many",
	[CONF_RESULT_ONE] = "one",
	[CONF_RESULT_EXEC] = "exec",
};

/* in the order of enum conf_type, from CONF_TYPE_INT */
static const char *const conf_type_names[] = { "int", "real", "text", "bool",
					       "blob" };

static const char *const conf_builtin_paths[] = { "/healthz", "/readyz",
						  "/metrics" };

/* routes[].method: upper-case letters, stored as written */
static int conf_parse_method(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *s, void *field)
{
	const char *v = NULL, *p;
	int err;

	if (!s)
		return 0;
	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	for (p = v; *p >= 'A' && *p <= 'Z'; p++)
		;
	if (!v[0] || *p)
		return conf_err(
			x, s,
			"\"%s\" must be upper-case letters, such as \"GET\"",
			k->key);
	return conf_set_string(field, v);
}

/* RFC 3986 pchar, "%" aside: a byte a literal segment may hold as it is */
static bool conf_is_pchar(char ch)
{
	return conf_is_alpha(ch) || conf_is_digit(ch) ||
	       (ch && strchr("-._~!$&'()*+,;=:@", ch));
}

/* a literal segment of @len bytes: pchar, with "%" only as in "%2F" */
static bool conf_is_literal(const char *seg, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (seg[i] != '%') {
			if (!conf_is_pchar(seg[i]))
				return false;
			continue;
		}
		if (i + 2 >= len || !conf_is_hex(seg[i + 1]) ||
		    !conf_is_hex(seg[i + 2]))
			return false;
		i += 2;
	}
	return true;
}

/* segment @seg (@len bytes) of template @tmpl: literal text or "{name}" */
static int conf_tmpl_segment(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *s, const char *tmpl,
			     const char *seg, size_t len)
{
	if (!len)
		return conf_err(x, s, "\"%s\" has an empty segment", k->key);
	if (seg[0] != '{') {
		if (conf_is_literal(seg, len))
			return 0;
		return conf_err(x, s, "\"%s\" has an invalid segment \"%.*s\"",
				k->key, (int)len, seg);
	}
	if (len < 3 || seg[len - 1] != '}' ||
	    !conf_is_ident_n(seg + 1, len - 2))
		return conf_err(
			x, s,
			"\"%s\" has an invalid parameter segment \"%.*s\"",
			k->key, (int)len, seg);
	/* an earlier "{name}" is a whole segment: literals hold no "{" */
	if (memmem(tmpl, (size_t)(seg - tmpl), seg, len))
		return conf_err(x, s, "\"%s\" names parameter \"%.*s\" twice",
				k->key, (int)len - 2, seg + 1);
	return 0;
}

/*
 * routes[].path: a template, "/" or "/seg/seg..." where a segment is
 * literal text or "{name}", and a name appears once.
 */
static int conf_parse_tmpl(struct conf_ctx *x, const struct conf_key *k,
			   const config_setting_t *s, void *field)
{
	const char *v = NULL, *seg, *end;
	int err;

	if (!s)
		return 0;
	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	if (v[0] != '/')
		return conf_err(x, s, "\"%s\" must start with \"/\"", k->key);
	if (strpbrk(v, "?#"))
		return conf_err(x, s, "\"%s\" must not contain \"?\" or \"#\"",
				k->key);
	for (seg = v + 1; strcmp(v, "/"); seg = end + 1) {
		end = strchrnul(seg, '/');
		err = conf_tmpl_segment(x, k, s, v, seg, (size_t)(end - seg));
		if (err)
			return err;
		if (!*end)
			break;
	}
	return conf_set_string(field, v);
}

/* the same template once every "{name}" is read as the same wildcard */
static bool conf_tmpl_same(const char *a, const char *b)
{
	while (*a && *a == *b) {
		if (*a == '{') {
			a = strchr(a, '}');
			b = strchr(b, '}');
		}
		a++;
		b++;
	}
	return !*a && !*b;
}

static int conf_parse_result(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *s, void *field)
{
	enum conf_result *result = field;
	size_t i;
	int err;

	if (!s) {
		*result = CONF_RESULT_MANY;
		return 0;
	}
	err = conf_choice(x, s, k->key, NULL, k->words, k->nwords, k->icase,
			  &i);
	if (err)
		return err;
	*result = (enum conf_result)i;
	return 0;
}

/* only the type here: conf_route_result_from() checks it against nsql */
static int conf_parse_result_from(struct conf_ctx *x, const struct conf_key *k,
				  const config_setting_t *s, void *field)
{
	if (s && !conf_is_int(s))
		return conf_err(x, s, "\"%s\" must be an integer", k->key);
	return 0;
}

/* member @i of types: parameter = "int" | "real" | ... */
static int conf_type_entry(struct conf_ctx *x, const struct conf_key *k,
			   const config_setting_t *m, void *v, unsigned int i)
{
	struct conf_param_type *t = (struct conf_param_type *)v + i;
	const char *name = config_setting_name(m);
	size_t w;
	int err;

	t->line = config_setting_source_line(m);
	if (!conf_is_ident(name))
		return conf_err(x, m,
				"\"%s\" has an invalid parameter name \"%s\"",
				k->key, name);
	err = conf_choice(x, m, k->key, name, conf_type_names,
			  ARRAY_SIZE(conf_type_names), false, &w);
	if (err)
		return err;
	t->type = (enum conf_type)(CONF_TYPE_INT + (int)w);
	return conf_set_string(&t->name, name);
}

/* a group whose members are entries of one kind (types, headers) */
static int conf_group_entries(struct conf_ctx *x, const struct conf_key *k,
			      const config_setting_t *s, void **v,
			      unsigned int *nv, size_t size, conf_elem_fn *fn)
{
	int n;

	if (!s)
		return 0;
	if (!config_setting_is_group(s))
		return conf_err(x, s, "\"%s\" must be a group", k->key);
	n = config_setting_length(s);
	if (n <= 0)
		return 0;
	*v = calloc((size_t)n, size);
	if (!*v)
		return -ENOMEM;
	*nv = (unsigned int)n;
	return conf_elems(x, k, s, *v, *nv, fn);
}

/*
 * routes[].types, a group.  libconfig refuses a group that names a member
 * twice ("duplicate setting name"), so a parameter has one type.
 */
static int conf_parse_types(struct conf_ctx *x, const struct conf_key *k,
			    const config_setting_t *s, void *field)
{
	struct conf_route *r = container_of(field, struct conf_route, types);

	return conf_group_entries(x, k, s, (void **)&r->types, &r->ntypes,
				  sizeof(*r->types), conf_type_entry);
}

/* member @i of headers: parameter = "Header-Name" */
static int conf_header_entry(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *m, void *v, unsigned int i)
{
	struct conf_header_param *h = (struct conf_header_param *)v + i;
	const char *name = config_setting_name(m);
	const char *header;

	h->line = config_setting_source_line(m);
	if (!conf_is_ident(name))
		return conf_err(x, m,
				"\"%s\" has an invalid parameter name \"%s\"",
				k->key, name);
	if (config_setting_type(m) != CONFIG_TYPE_STRING)
		return conf_err(x, m, "\"%s.%s\" must be a string", k->key,
				name);
	header = config_setting_get_string(m);
	if (!conf_is_token(header))
		return conf_err(x, m, "\"%s.%s\" must be an HTTP header name",
				k->key, name);
	if (conf_set_string(&h->param, name) ||
	    conf_set_string(&h->header, header))
		return -ENOMEM;
	return 0;
}

/* routes[].headers, a group: one parameter per member, as for types */
static int conf_parse_headers(struct conf_ctx *x, const struct conf_key *k,
			      const config_setting_t *s, void *field)
{
	struct conf_route *r = container_of(field, struct conf_route, headers);

	return conf_group_entries(x, k, s, (void **)&r->headers, &r->nheaders,
				  sizeof(*r->headers), conf_header_entry);
}

/* entry @i of optional: a parameter name not listed before */
static int conf_optional_entry(struct conf_ctx *x, const struct conf_key *k,
			       const config_setting_t *e, void *v,
			       unsigned int i)
{
	char **names = v;
	const char *name;
	unsigned int j;

	if (config_setting_type(e) != CONFIG_TYPE_STRING)
		return conf_err(x, e, "\"%s\" entries must be strings", k->key);
	name = config_setting_get_string(e);
	if (!conf_is_ident(name))
		return conf_err(x, e,
				"\"%s\" has an invalid parameter name \"%s\"",
				k->key, name);
	for (j = 0; j < i; j++) {
		if (names[j] && !strcmp(names[j], name))
			return conf_err(x, e, "\"%s\" names \"%s\" twice",
					k->key, name);
	}
	return conf_set_string(&names[i], name);
}

/* routes[].optional: an array or list of parameter names */
static int conf_parse_optional(struct conf_ctx *x, const struct conf_key *k,
			       const config_setting_t *s, void *field)
{
	struct conf_route *r = container_of(field, struct conf_route, optional);
	int n;

	if (!s)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return conf_err(x, s,
				"\"%s\" must be a list of parameter names",
				k->key);
	n = config_setting_length(s);
	if (n <= 0)
		return 0;
	r->optional = calloc((size_t)n, sizeof(*r->optional));
	if (!r->optional)
		return -ENOMEM;
	r->noptional = (unsigned int)n;
	return conf_elems(x, k, s, r->optional, r->noptional,
			  conf_optional_entry);
}

/* routes[].page, a group: @field is the route (a group's offset is 0) */
static int conf_parse_page(struct conf_ctx *x, const struct conf_key *k,
			   const config_setting_t *s, void *field)
{
	struct conf_route *r = field;
	const config_setting_t *d;
	int err;

	err = conf_parse_group(x, k, s, field);
	if (err || !s)
		return err;
	r->has_page = true;
	/* 0: that value failed its own check, already reported */
	if (!r->page_default || !r->page_max || r->page_default <= r->page_max)
		return 0;
	d = config_setting_get_member(s, "default");
	return conf_err(x, d ? d : s,
			"\"page.default\" must not exceed \"page.max\" (%u)",
			r->page_max);
}

#define CONF_ROUTE_INT(k, f, lo, hi, d) \
	CONF_INT_IN(struct conf_route, k, f, lo, hi, d)

static const struct conf_key conf_page_keys[] = {
	CONF_ROUTE_INT("page.default", page_default, 1, 1000000, 50),
	CONF_ROUTE_INT("page.max", page_max, 1, 1000000, 500),
};

static const struct conf_key conf_route_keys[] = {
	CONF_REQUIRED_IN(struct conf_route, "method", method,
			 conf_parse_method),
	CONF_REQUIRED_IN(struct conf_route, "path", path, conf_parse_tmpl),
	CONF_REQUIRED_IN(struct conf_route, "db", db, conf_parse_text),
	CONF_REQUIRED_IN(struct conf_route, "sql", sql, conf_parse_sql),
	CONF_KEY_IN(struct conf_route, "before", before, conf_parse_before),
	CONF_WORD_IN(struct conf_route, "result", result, conf_parse_result,
		     conf_result_names, "many", false),
	CONF_ROUTE_INT("status", status, 200, 299, 200),
	CONF_KEY_IN(struct conf_route, "result_from", result_from,
		    conf_parse_result_from),
	CONF_KEY_IN(struct conf_route, "types", types, conf_parse_types),
	CONF_KEY_IN(struct conf_route, "optional", optional,
		    conf_parse_optional),
	CONF_KEY_IN(struct conf_route, "headers", headers, conf_parse_headers),
	{ .key = "page",
	  .parse = conf_parse_page,
	  .sub = conf_page_keys,
	  .nsub = ARRAY_SIZE(conf_page_keys) },
};

/* "GET /x" as written, or NULL when method or path is not a string */
static int conf_route_name(const config_setting_t *e, char **out)
{
	const char *method, *path;

	*out = NULL;
	if (!config_setting_lookup_string(e, "method", &method) ||
	    !config_setting_lookup_string(e, "path", &path))
		return 0;
	if (asprintf(out, "%s %s", method, path) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* result_from: 1..nsql; left out, it is 0 (the last statement) */
static int conf_route_result_from(struct conf_ctx *x, const config_setting_t *e,
				  struct conf_route *r)
{
	const config_setting_t *s = config_setting_get_member(e, "result_from");
	long long v;

	if (!s || !conf_is_int(s) || !r->nsql)
		return 0;
	v = config_setting_get_int64(s);
	if (v < 1 || v > r->nsql)
		return conf_err(x, s,
				"\"result_from\" must be between 1 and %u",
				r->nsql);
	r->result_from = (unsigned int)v;
	return 0;
}

/* entry @i of routes; what spans routes is checked by conf_check_routes() */
static int conf_route_entry(struct conf_ctx *x, const struct conf_key *k,
			    const config_setting_t *e, void *v, unsigned int i)
{
	struct conf_route *r = (struct conf_route *)v + i;
	int err;

	if (!config_setting_is_group(e))
		return conf_err(x, e, "\"%s\" entries must be groups", k->key);
	r->line = config_setting_source_line(e);
	err = conf_route_name(e, &x->name);
	if (err)
		return err;
	x->what = "route";
	err = conf_check_keys(x, conf_route_keys, ARRAY_SIZE(conf_route_keys),
			      e, NULL, r);
	if (!err)
		err = conf_route_result_from(x, e, r);
	conf_entry_end(x);
	return err;
}

/* databases, routes: a list of groups (an empty array will do too) */
static int conf_list_len(struct conf_ctx *x, const struct conf_key *k,
			 const config_setting_t *s, unsigned int *n)
{
	if (!config_setting_is_list(s) && !config_setting_is_array(s))
		return conf_err(x, s, "\"%s\" must be a list of groups",
				k->key);
	*n = (unsigned int)config_setting_length(s);
	return 0;
}

/* a list of groups, each an entry of one kind (databases, routes) */
static int conf_list_entries(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *s, void **v,
			     unsigned int *nv, size_t size, conf_elem_fn *fn)
{
	unsigned int n = 0;
	int err;

	if (!s)
		return 0;
	err = conf_list_len(x, k, s, &n);
	if (err || !n)
		return err;
	*v = calloc(n, size);
	if (!*v)
		return -ENOMEM;
	*nv = n;
	return conf_elems(x, k, s, *v, n, fn);
}

static int conf_parse_routes(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *s, void *field)
{
	struct conf *c = x->c;

	return conf_list_entries(x, k, s, (void **)&c->routes, &c->nroutes,
				 sizeof(*c->routes), conf_route_entry);
}

/* ---- databases ---- */

static const char *const conf_journal_names[] = { "wal", "delete", "truncate",
						  "persist" };
static const char *const conf_sync_names[] = { "off", "normal", "full",
					       "extra" };

/* databases[].name: [A-Za-z_][A-Za-z0-9_]* */
static int conf_parse_db_name(struct conf_ctx *x, const struct conf_key *k,
			      const config_setting_t *s, void *field)
{
	const char *v = NULL;
	int err;

	if (!s)
		return 0;
	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	if (!conf_is_ident(v))
		return conf_err(
			x, s,
			"\"%s\" must be letters, digits and \"_\", not starting with a digit",
			k->key);
	return conf_set_string(field, v);
}

/* databases[].schema: "" = none, else resolved; the file must be readable */
static int conf_parse_schema(struct conf_ctx *x, const struct conf_key *k,
			     const config_setting_t *s, void *field)
{
	struct conf_db *d = container_of(field, struct conf_db, schema);
	const char *v = NULL;
	int err;

	if (!s)
		return 0;
	err = conf_string(x, k, s, &v);
	if (err)
		return err;
	d->schema_line = config_setting_source_line(s);
	if (!v[0])
		return 0;
	err = conf_resolve(x, v, &d->schema);
	if (err)
		return err;
	err = conf_readable(d->schema);
	if (err)
		return conf_err_plain(x, s, "could not read schema \"%s\": %s",
				      v, strerror(-err));
	return 0;
}

#define CONF_DB_INT(k, f, lo, hi, d) \
	CONF_INT_IN(struct conf_db, k, f, lo, hi, d)

static const struct conf_key conf_pool_keys[] = {
	CONF_DB_INT("pool.size", pool.size, 1, 256, 4),
	CONF_DB_INT("pool.acquire_timeout_ms", pool.acquire_timeout_ms, 1,
		    3600000, 2000),
	CONF_DB_INT("pool.max_waiters", pool.max_waiters, 0, 1000000, 1024),
	CONF_DB_INT("pool.max_lifetime_s", pool.max_lifetime_s, 1, 604800,
		    1800),
};

static const struct conf_key conf_db_keys[] = {
	CONF_REQUIRED_IN(struct conf_db, "name", name, conf_parse_db_name),
	CONF_REQUIRED_IN(struct conf_db, "path", path, conf_parse_path),
	CONF_KEY_IN(struct conf_db, "schema", schema, conf_parse_schema),
	CONF_WORD_IN(struct conf_db, "journal_mode", journal_mode,
		     conf_parse_word, conf_journal_names, "wal", true),
	CONF_WORD_IN(struct conf_db, "synchronous", synchronous,
		     conf_parse_word, conf_sync_names, "normal", true),
	CONF_BOOL_IN(struct conf_db, "foreign_keys", foreign_keys, true),
	CONF_DB_INT("cache_size_kb", cache_size_kb, 0, 1048576, 2048),
	CONF_DB_INT("busy_timeout_ms", busy_timeout_ms, 0, 3600000, 5000),
	CONF_DB_INT("statement_timeout_ms", statement_timeout_ms, 0, 3600000,
		    5000),
	CONF_DB_INT("wal_limit_mb", wal_limit_mb, 1, 65536, 64),
	CONF_DB_INT("checkpoint_interval_ms", checkpoint_interval_ms, 10,
		    3600000, 1000),
	CONF_GROUP("pool", conf_pool_keys),
};

/* index of the database called @name among the first @n, or -1 */
static int conf_db_find(const struct conf_db *dbs, unsigned int n,
			const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (dbs[i].name && !strcmp(dbs[i].name, name))
			return (int)i;
	}
	return -1;
}

/*
 * Whether two resolved paths name one file: the same text, or, when both
 * exist, the same inode (a symlink or "./" spelling of the same file).
 */
static bool conf_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* database @i against the ones before it: names and files are unique */
static int conf_db_dup(struct conf_ctx *x, const config_setting_t *e,
		       const struct conf_db *dbs, unsigned int i)
{
	const struct conf_db *d = &dbs[i];
	const char *path = NULL;
	unsigned int j;
	int first, err = 0;

	first = d->name ? conf_db_find(dbs, i, d->name) : -1;
	if (first >= 0)
		err = conf_err(
			x, e,
			"duplicate database name \"%s\" (first at line %d)",
			d->name, dbs[first].line);
	if (err && err != -EINVAL)
		return err;
	for (j = 0; d->path && j < i; j++) {
		if (!dbs[j].path || !conf_same_file(d->path, dbs[j].path))
			continue;
		config_setting_lookup_string(e, "path", &path);
		return conf_err(
			x, e,
			"duplicate database path \"%s\" (first at line %d)",
			path, dbs[j].line);
	}
	return err;
}

/* entry @i of databases */
static int conf_db_entry(struct conf_ctx *x, const struct conf_key *k,
			 const config_setting_t *e, void *v, unsigned int i)
{
	struct conf_db *d = (struct conf_db *)v + i;
	const char *name = NULL;
	int err;

	if (!config_setting_is_group(e))
		return conf_err(x, e, "\"%s\" entries must be groups", k->key);
	d->line = config_setting_source_line(e);
	if (config_setting_lookup_string(e, "name", &name)) {
		x->name = strdup(name);
		if (!x->name)
			return -ENOMEM;
	}
	x->what = "database";
	err = conf_check_keys(x, conf_db_keys, ARRAY_SIZE(conf_db_keys), e,
			      NULL, d);
	conf_entry_end(x);
	if (err)
		return err;
	return conf_db_dup(x, e, v, i);
}

static int conf_parse_databases(struct conf_ctx *x, const struct conf_key *k,
				const config_setting_t *s, void *field)
{
	struct conf *c = x->c;

	return conf_list_entries(x, k, s, (void **)&c->dbs, &c->ndbs,
				 sizeof(*c->dbs), conf_db_entry);
}

static int conf_check_workers(struct conf_ctx *x, const config_setting_t *root)
{
	struct conf *c = x->c;

	if (!c->max_workers || c->workers <= c->max_workers)
		return 0;
	return conf_err(x, config_setting_get_member(root, "workers"),
			"\"workers\" must not exceed \"max_workers\" (%u)",
			c->max_workers);
}

static int conf_check_status_listen(struct conf_ctx *x,
				    const config_setting_t *root)
{
	struct conf *c = x->c;
	const config_setting_t *s;
	unsigned int i;

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

/* route @i names a database that exists: set its db_index */
static int conf_route_db(struct conf_ctx *x, const config_setting_t *e,
			 unsigned int i)
{
	struct conf_route *r = &x->c->routes[i];
	const config_setting_t *s = config_setting_get_member(e, "db");
	char *name;
	int db, err;

	if (!r->db)
		return 0;
	db = conf_db_find(x->c->dbs, x->c->ndbs, r->db);
	if (db >= 0) {
		r->db_index = (unsigned int)db;
		return 0;
	}
	err = conf_route_name(e, &name);
	if (err)
		return err;
	if (name)
		err = conf_err(x, s,
			       "route \"%s\" names unknown database \"%s\"",
			       name, r->db);
	else
		err = conf_err(x, s, "route names unknown database \"%s\"",
			       r->db);
	free(name);
	return err;
}

/* route @i takes no built-in path and no route before it */
static int conf_route_clash(struct conf_ctx *x, const config_setting_t *e,
			    unsigned int i)
{
	const struct conf_route *r = &x->c->routes[i], *q;
	unsigned int j;
	size_t b;

	if (!r->method || !r->path)
		return 0;
	for (b = 0; b < ARRAY_SIZE(conf_builtin_paths); b++) {
		if (!strcmp(r->path, conf_builtin_paths[b]))
			return conf_err(
				x, config_setting_get_member(e, "path"),
				"path \"%s\" is reserved for a built-in endpoint",
				r->path);
	}
	for (j = 0; j < i; j++) {
		q = &x->c->routes[j];
		if (q->method && q->path && !strcmp(q->method, r->method) &&
		    conf_tmpl_same(q->path, r->path))
			return conf_err(
				x, e,
				"duplicate route \"%s %s\" (first at line %d)",
				r->method, r->path, q->line);
	}
	return 0;
}

/* every route against the databases, the built-ins and the routes before */
static int conf_check_routes(struct conf_ctx *x, const config_setting_t *root)
{
	const config_setting_t *list =
		config_setting_get_member(root, "routes");
	const config_setting_t *e;
	unsigned int i;
	int err;

	for (i = 0; i < x->c->nroutes; i++) {
		e = config_setting_get_elem(list, i);
		err = conf_route_db(x, e, i);
		if (!err || err == -EINVAL)
			err = conf_route_clash(x, e, i);
		if (err && err != -EINVAL)
			return err;
	}
	return 0;
}

/* what spans keys; only values that passed their own checks are compared */
static int conf_check_cross(struct conf_ctx *x, const config_setting_t *root)
{
	int err;

	err = conf_check_workers(x, root);
	if (!err || err == -EINVAL)
		err = conf_check_status_listen(x, root);
	if (!err || err == -EINVAL)
		err = conf_check_routes(x, root);
	return err;
}

/*
 * Check that @path can be opened as a file, then set c->path and c->dir.
 * A failure is the one problem reported, at line 0 of @path as given.
 */
static int conf_open(struct conf_ctx *x, const char *path)
{
	struct conf *c = x->c;
	char *slash;
	int err;

	err = conf_readable(path);
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
	err = conf_check_keys(x, conf_keys, ARRAY_SIZE(conf_keys), root, NULL,
			      x->c);
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

static void conf_db_destroy(struct conf_db *d)
{
	free(d->name);
	free(d->path);
	free(d->schema);
	free(d->journal_mode);
	free(d->synchronous);
	*d = (struct conf_db){ 0 };
}

static void conf_stmts_free(struct conf_stmt *v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		free(v[i].sql);
	free(v);
}

static void conf_route_destroy(struct conf_route *r)
{
	unsigned int i;

	free(r->method);
	free(r->path);
	free(r->db);
	conf_stmts_free(r->sql, r->nsql);
	conf_stmts_free(r->before, r->nbefore);
	for (i = 0; i < r->ntypes; i++)
		free(r->types[i].name);
	free(r->types);
	for (i = 0; i < r->noptional; i++)
		free(r->optional[i]);
	free(r->optional);
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].param);
		free(r->headers[i].header);
	}
	free(r->headers);
	*r = (struct conf_route){ 0 };
}

/**
 * conf_destroy - free everything conf_load() built
 * @c: a loaded, zeroed or already destroyed conf; left zeroed
 */
void conf_destroy(struct conf *c)
{
	unsigned int i;

	for (i = 0; i < c->nroutes; i++)
		conf_route_destroy(&c->routes[i]);
	free(c->routes);
	for (i = 0; i < c->ndbs; i++)
		conf_db_destroy(&c->dbs[i]);
	free(c->dbs);
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
