// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/validate.c - validate and apply, in a child process
 *
 * The child does the SQLite work and sends each problem back through a
 * pipe as three NUL-terminated fields (file, line, reason), then exits 0
 * (valid), 1 (problems) or 2 (could not even try).  The parent only reads
 * and waits, so a crash inside SQLite or a schema that never finishes
 * cannot take the master down with it.
 *
 * Every database's transaction stays open until every route has been
 * prepared: statements are checked against the schema as it will be
 * after the commit, and nothing is committed unless everything passed.
 */
#include "server/validate.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/conf.h"
#include "lib/db.h"
#include "server/route.h"
#include "shm/shm.h"

#define SRV_VALIDATE_SCHEMA_MAX (64 * 1024 * 1024)

/* mkdir -p for the directory of @path */
static int srv_validate_mkdirs(const char *path)
{
	char dir[4096], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static char *srv_validate_slurp(const char *path, int *err)
{
	struct stat st;
	char *buf;
	FILE *f;

	f = fopen(path, "re");
	if (!f || fstat(fileno(f), &st) < 0 ||
	    st.st_size > SRV_VALIDATE_SCHEMA_MAX) {
		*err = f ? -EFBIG : -errno;
		if (f)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf && fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
	}
	*err = buf ? 0 : -EIO;
	if (buf)
		buf[st.st_size] = '\0';
	fclose(f);
	return buf;
}

/*
 * The write gates of a running server: taken around each database's
 * transaction, so the server's writers wait on the gate (counted) instead
 * of meeting SQLITE_BUSY while a schema is applied or checked.
 */
struct srv_validate_gates {
	struct shm_seg seg;	   /* writable mapping, or hdr NULL */
	int held[SHM_MAX_DBS + 1]; /* entry of database i, or -1 */
};

static void srv_validate_gates_open(struct srv_validate_gates *g,
				    const struct conf *conf)
{
	char why[256];
	unsigned int i;

	for (i = 0; i <= SHM_MAX_DBS; i++)
		g->held[i] = -1;
	if (shm_attach_rw(&g->seg, conf->shm_name, why, sizeof(why)) < 0)
		g->seg.hdr = NULL; /* no server runs: no writer to keep out */
}

/* take database @i's gate if the segment knows its file; -1 on timeout */
static int srv_validate_gate(struct srv_validate_gates *g, unsigned int i,
			     const struct conf_db *cd)
{
	struct shm_db *d;
	struct stat st;
	uint32_t k, n;

	if (!g->seg.hdr || i >= SHM_MAX_DBS || stat(cd->path, &st) < 0)
		return 0;
	n = atomic_load(&g->seg.hdr->ndbs);
	for (k = 0; k < n; k++) {
		d = shm_db(g->seg.hdr, k);
		if (d && atomic_load(&d->dev) == st.st_dev &&
		    atomic_load(&d->ino) == st.st_ino)
			break;
	}
	if (k == n)
		return 0;
	if (shm_gate_lock(g->seg.hdr, k,
			  (uint64_t)cd->busy_timeout_ms * 1000000ULL, NULL) < 0)
		return -1;
	g->held[i] = (int)k;
	return 0;
}

static void srv_validate_gates_close(struct srv_validate_gates *g)
{
	unsigned int i;

	for (i = 0; i <= SHM_MAX_DBS; i++) {
		if (g->held[i] >= 0)
			shm_gate_unlock(g->seg.hdr, (uint32_t)g->held[i]);
	}
	shm_detach(&g->seg, false);
}

/* open, take the gate, BEGIN IMMEDIATE, schema; problems go to @errs */
static int srv_validate_db(const struct conf *conf, unsigned int i,
			   enum srv_validate_mode mode, struct db_conn *c,
			   struct srv_validate_gates *g, struct conf_errs *errs)
{
	const struct conf_db *cd = &conf->dbs[i];
	const char *path = cd->path;
	char msg[512], *schema;
	int rc, err;

	if (mode == SRV_VALIDATE_TEST && access(path, F_OK) < 0)
		path = ":memory:";
	else if ((err = srv_validate_mkdirs(path)) < 0)
		return conf_errs_add(errs, conf->path, cd->line, "database \"%s\": could not create the directory of \"%s\": %s", cd->name, path, strerror(-err)) ?:
			       -EINVAL;
	/* the gate first: even the reads of opening (the schema, the WAL
	 * index) can make a server's writer wait inside SQLite */
	rc = SQLITE_OK;
	if (srv_validate_gate(g, i, cd) < 0) {
		snprintf(
			msg, sizeof(msg),
			"the write gate stayed taken longer than busy_timeout_ms");
		rc = SQLITE_BUSY;
	}
	if (!rc)
		rc = db_open(c, cd, path, conf->debug_functions, msg,
			     sizeof(msg));
	if (!rc)
		rc = db_exec(c, "BEGIN IMMEDIATE", msg, sizeof(msg));
	if (rc)
		return conf_errs_add(errs, conf->path, cd->line, "database \"%s\" (\"%s\"): %s", cd->name, path, msg) ?:
			       -EINVAL;
	if (!cd->schema)
		return 0;
	schema = srv_validate_slurp(cd->schema, &err);
	if (!schema)
		return conf_errs_add(errs, conf->path, cd->schema_line, "could not read schema \"%s\": %s", cd->schema, strerror(-err)) ?:
			       -EINVAL;
	rc = db_exec_schema(c, schema, msg, sizeof(msg));
	free(schema);
	if (rc)
		return conf_errs_add(errs, conf->path, cd->schema_line, "schema \"%s\" of database \"%s\": %s", cd->schema, cd->name, msg) ?:
			       -EINVAL;
	return 0;
}

int srv_validate_here(const struct conf *conf, enum srv_validate_mode mode,
		      struct conf_errs *errs)
{
	struct srv_validate_gates gates;
	struct srv_routes rs;
	struct db_conn *conns;
	unsigned int i;
	char msg[256];
	int err = 0, bad = 0;

	conns = calloc(conf->ndbs + 1, sizeof(*conns));
	if (!conns)
		return -ENOMEM;
	srv_validate_gates_open(&gates, conf);
	for (i = 0; i < conf->ndbs; i++) {
		err = srv_validate_db(conf, i, mode, &conns[i], &gates, errs);
		if (err == -ENOMEM)
			goto out;
		bad |= err;
	}
	err = bad ? -EINVAL : srv_routes_build(&rs, conf, conns, errs);
	if (!err)
		srv_routes_destroy(&rs);
	for (i = 0; i < conf->ndbs; i++) {
		if (!conns[i].db)
			continue;
		if (db_exec(&conns[i],
			    !err && mode == SRV_VALIDATE_APPLY ? "COMMIT" :
								 "ROLLBACK",
			    msg, sizeof(msg)) &&
		    !err)
			err = conf_errs_add(errs, conf->path, conf->dbs[i].line, "database \"%s\": could not commit: %s",
					    conf->dbs[i].name, msg) ?: -EINVAL;
	}
out:
	for (i = 0; i < conf->ndbs; i++)
		db_close(&conns[i]);
	srv_validate_gates_close(&gates);
	free(conns);
	return err;
}

/* child: run the procedure, send the problems, exit 0/1/2 */
static void srv_validate_child(const struct conf *conf,
			       enum srv_validate_mode mode, int fd)
{
	struct conf_errs errs = { 0 };
	unsigned int i;
	FILE *f;
	int err;

	err = srv_validate_here(conf, mode, &errs);
	f = fdopen(fd, "w");
	for (i = 0; f && i < errs.n; i++)
		fprintf(f, "%s%c%d%c%s%c", errs.v[i].file, 0, errs.v[i].line, 0,
			errs.v[i].reason, 0);
	if (f)
		fclose(f);
	conf_errs_destroy(&errs);
	_exit(!err ? 0 : err == -EINVAL ? 1 : 2);
}

static int srv_validate_read(int fd, struct conf_errs *errs)
{
	char *buf = NULL, *p, *end;
	size_t len = 0;
	FILE *f;
	int err = 0;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	for (;;) {
		char chunk[4096];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		fwrite(chunk, 1, (size_t)n, f);
	}
	fclose(f);
	end = buf + len;
	for (p = buf; p < end && !err;) {
		const char *file = p, *line, *reason;

		line = file + strnlen(file, (size_t)(end - file)) + 1;
		reason =
			line < end ?
				line + strnlen(line, (size_t)(end - line)) + 1 :
				end;
		if (reason >= end)
			break;
		err = conf_errs_add(errs, file, atoi(line), "%s", reason);
		p = (char *)reason + strnlen(reason, (size_t)(end - reason)) +
		    1;
	}
	free(buf);
	return err;
}

int srv_validate(const struct conf *conf, enum srv_validate_mode mode,
		 struct conf_errs *errs)
{
	int fds[2], st, err;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		close(fds[0]);
		srv_validate_child(conf, mode, fds[1]);
	}
	close(fds[1]);
	err = srv_validate_read(fds[0], errs);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (err)
		return err;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
		return -EINVAL;
	if (!errs->n)
		conf_errs_add(errs, conf->path, 0,
			      "the validation process failed (status %d)", st);
	return -EINVAL;
}
