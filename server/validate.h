/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/validate.h - the one procedure that validates and applies
 *
 * At start, for `poold -t`, and (later) on reload, in a short-lived child
 * process, so the master itself never opens SQLite: for each database,
 * create its file and directory if missing, BEGIN IMMEDIATE, run its
 * schema; then prepare every route's statements (server/route.h); then
 * COMMIT (start, reload) or ROLLBACK (-t, or any failure).  `-t` on a
 * database file that does not exist works on an in-memory database and
 * creates nothing.
 */
#ifndef SERVER_VALIDATE_H
#define SERVER_VALIDATE_H

struct conf;
struct conf_errs;

enum srv_validate_mode {
	SRV_VALIDATE_APPLY, /* create, apply the schema, COMMIT */
	SRV_VALIDATE_TEST,  /* poold -t: ROLLBACK, create nothing */
};

/**
 * srv_validate - run the procedure in a child process
 * @conf: the loaded configuration
 * @mode: apply or test
 * @errs: every problem, FILE:LINE: reason
 *
 * Returns 0, -EINVAL when there are problems (in @errs), or another
 * negative errno when the child could not run.
 */
int srv_validate(const struct conf *conf, enum srv_validate_mode mode,
		 struct conf_errs *errs);

/* the same, in this process (the child's body; also for unit tests) */
int srv_validate_here(const struct conf *conf, enum srv_validate_mode mode,
		      struct conf_errs *errs);

#endif /* SERVER_VALIDATE_H */
