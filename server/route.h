/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/route.h - routes compiled from the configuration, and matching
 *
 * srv_routes_build() turns each configured route into what the worker
 * needs at request time: the path template as segments, the parameters
 * its statements use (with their declared type, optional flag, header
 * source, and whether an earlier statement's column can fill them), and
 * which statements only read.  It learns all that by preparing every
 * statement on a connection of the route's database, so the same function
 * is the check that `poold -t`, start and reload run in the validating
 * child, and the set-up of every worker.
 *
 * The compiled table is immutable once built: the loop thread matches
 * against it and executor threads read it.
 */
#ifndef SERVER_ROUTE_H
#define SERVER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/conf.h"
#include "server/http_parse.h"

struct db_conn;

#define SRV_ROUTE_MAX_SEGS 32
#define SRV_ROUTE_MAX_PARAMS 64

struct srv_route_seg {
	char *lit; /* owned: literal text, NULL for {name} */
	size_t len;
	int param; /* {name}: its parameter slot */
};

struct srv_route_param {
	char *name; /* owned: without the ':' */
	enum conf_type type;
	bool optional;
	const char *header; /* borrowed from conf: declared header, or NULL */
	bool from_column;   /* an earlier statement may fill it */
	bool page;	    /* :limit / :offset of a paged route */
	bool in_path;	    /* a {name} of the template */
};

struct srv_route_stmt {
	const struct conf_stmt *cs; /* borrowed */
	unsigned int id; /* index among all statements of all routes */
	int *slots;	 /* owned: bind index i (1-based) -> slots[i-1] */
	unsigned int nbind;
	bool readonly;
	unsigned int ncols;
};

struct srv_route {
	const struct conf_route *cr; /* borrowed */
	unsigned int index;
	char *name;		    /* owned: "GET /items/{id}" */
	struct srv_route_seg *segs; /* owned */
	unsigned int nsegs;
	struct srv_route_param *params; /* owned: nparams slots */
	unsigned int nparams;
	struct srv_route_stmt *stmts; /* owned: before statements, then sql */
	unsigned int nbefore;
	unsigned int nsql;
	unsigned int result; /* index in stmts of the result statement */
	bool write;	     /* some sql statement writes */
	int limit_slot;	     /* paged: slot of :limit, else -1 */
	int offset_slot;     /* paged: slot of :offset, or -1 */
};

struct srv_routes {
	struct srv_route *v; /* owned */
	unsigned int n;
	unsigned int nstmts; /* statements of all routes */
};

/**
 * srv_routes_build - compile every route of @conf
 * @rs:    filled; safe for srv_routes_destroy() on failure
 * @conf:  the configuration
 * @conns: one open connection per database of @conf, in its order (the
 *         schema applied), used to prepare and inspect each statement
 * @errs:  every problem, with the file and line of the statement
 *
 * Returns 0, -EINVAL when a route has a problem (all in @errs), or
 * -ENOMEM.
 */
int srv_routes_build(struct srv_routes *rs, const struct conf *conf,
		     struct db_conn *conns, struct conf_errs *errs);

void srv_routes_destroy(struct srv_routes *rs);

/**
 * srv_routes_match - find the route for a method and decoded path
 * @rs:      the table
 * @method:  the request method
 * @mlen:    its length
 * @segs:    the decoded path segments
 * @nsegs:   their number
 * @allow:   on -EPERM, the methods the path allows ("GET, HEAD, POST")
 * @allowsz: its size
 *
 * A literal segment beats a {name} segment at the leftmost place they
 * differ; HEAD matches GET routes.  Returns the route, or NULL with
 * *err = -ENOENT (no route: 404) or -EPERM (405, @allow filled).
 */
const struct srv_route *srv_routes_match(const struct srv_routes *rs,
					 const char *method, size_t mlen,
					 const struct srv_http_str *segs,
					 unsigned int nsegs, char *allow,
					 size_t allowsz, int *err);

/* the slot of parameter @name in @r, or -1 */
int srv_route_param_slot(const struct srv_route *r, const char *name,
			 size_t len);

#endif /* SERVER_ROUTE_H */
