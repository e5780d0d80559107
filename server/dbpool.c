// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/dbpool.c - executor threads and the request queue
 *
 * The queue is a list under the pool's mutex; executors sleep on its
 * condition variable and, once awake, keep taking jobs without sleeping
 * while any wait, so a burst costs one wake-up per executor rather than one
 * per request.  Finished jobs go to the worker's completion list; only the
 * push that finds the list empty writes the eventfd, so a batch of results
 * costs the loop one wake-up too.
 *
 * max_waiters bounds the jobs that wait for an executor: a job that an
 * idle executor will take at once does not count as waiting.
 *
 * Connections are reopened (and their statements prepared again) after
 * max_lifetime_s, between jobs.  The pool is the only place a connection is
 * taken and given back, so none can leak on an error path.
 */
#define pr_fmt(fmt) "pool: " fmt

#include "server/dbpool.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "server/exec.h"
#include "server/job.h"
#include "server/cycle.h"
#include "server/route.h"
#include "shm/shm.h"

int srv_done_init(struct srv_done *d)
{
	int err;

	list_init(&d->list);
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->efd < 0)
		return -errno;
	err = pthread_mutex_init(&d->lock, NULL);
	if (err) {
		close(d->efd);
		d->efd = -1;
		return -err;
	}
	return 0;
}

void srv_done_destroy(struct srv_done *d)
{
	if (d->efd < 0)
		return;
	close(d->efd);
	d->efd = -1;
	pthread_mutex_destroy(&d->lock);
}

static void srv_done_push(struct srv_done *d, struct srv_job *job)
{
	uint64_t one = 1;
	bool was_empty;

	pthread_mutex_lock(&d->lock);
	was_empty = list_empty(&d->list);
	/* job->state stays RUNNING: only the pool's lock guards it, and the
	 * loop marks it done once it has taken the job back */
	list_add_tail(&job->node, &d->list);
	pthread_mutex_unlock(&d->lock);
	/* the loop drains the whole list per wake-up: one write suffices */
	if (was_empty && write(d->efd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		pr_err_errno(-errno, "could not wake the event loop");
}

void srv_done_take(struct srv_done *d, struct list_head *out)
{
	uint64_t n;

	if (read(d->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_err_errno(-errno, "could not read the completion eventfd");
	pthread_mutex_lock(&d->lock);
	if (!list_empty(&d->list)) {
		/* splice the whole list onto @out */
		out->next = d->list.next;
		out->prev = d->list.prev;
		out->next->prev = out;
		out->prev->next = out;
		list_init(&d->list);
	} else {
		list_init(out);
	}
	pthread_mutex_unlock(&d->lock);
}

static int srv_exec_prepare_tx(struct srv_exec *ex)
{
	static const char *const sql[SRV_TX_N] = {
		[SRV_TX_BEGIN] = "BEGIN",
		[SRV_TX_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
		[SRV_TX_COMMIT] = "COMMIT",
		[SRV_TX_ROLLBACK] = "ROLLBACK",
	};
	unsigned int i;
	int rc;

	for (i = 0; i < SRV_TX_N; i++) {
		rc = sqlite3_prepare_v3(ex->conn.db, sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &ex->tx[i],
					NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static void srv_exec_close(struct srv_exec *ex)
{
	unsigned int i;

	for (i = 0; ex->stmts && i < ex->pool->routes->nstmts; i++) {
		sqlite3_finalize(ex->stmts[i]);
		ex->stmts[i] = NULL;
	}
	for (i = 0; i < SRV_TX_N; i++) {
		sqlite3_finalize(ex->tx[i]);
		ex->tx[i] = NULL;
	}
	db_close(&ex->conn);
}

/* open the connection and prepare every statement of this database */
static int srv_exec_open(struct srv_exec *ex, char *msg, size_t size)
{
	const struct srv_dbpool *p = ex->pool;
	const struct srv_routes *rs = p->routes;
	const struct srv_route *r;
	unsigned int i, k;
	int rc;

	rc = db_open(&ex->conn, p->cd, p->cd->path, p->conf->debug_functions,
		     msg, size);
	if (!rc) {
		ex->conn.state = &ex->sx->state;
		shm_write_begin(&ex->sx->seq);
		shm_add(&ex->sx->conns_opened, 1);
		shm_write_end(&ex->sx->seq);
	}
	if (!rc)
		rc = srv_exec_prepare_tx(ex);
	for (i = 0; i < rs->n && !rc; i++) {
		r = &rs->v[i];
		if (r->cr->db_index != p->index)
			continue;
		for (k = 0; k < r->nbefore + r->nsql && !rc; k++)
			rc = db_prepare(&ex->conn, r->stmts[k].cs->sql,
					&ex->stmts[r->stmts[k].id], msg, size);
	}
	if (rc)
		srv_exec_close(ex);
	/* waits while opening (another connection recovering the WAL index
	 * at start) are not a request meeting a lock: not counted as one */
	ex->busy_seen = ex->conn.busy_calls;
	return rc;
}

/* take the next job, or NULL when the pool stops */
static struct srv_job *srv_exec_next(struct srv_dbpool *p)
{
	struct srv_job *job = NULL;

	pthread_mutex_lock(&p->lock);
	p->nidle++;
	while (list_empty(&p->queue) && !p->stopping)
		pthread_cond_wait(&p->cond, &p->lock);
	p->nidle--;
	if (!list_empty(&p->queue)) {
		job = list_entry(p->queue.next, struct srv_job, node);
		list_del_init(&job->node);
		p->nqueued--;
		job->state = SRV_JOB_RUNNING;
		job->taken_at = clock_mono_ns();
		job->wait_ns = job->taken_at - job->queued_at;
	}
	pthread_mutex_unlock(&p->lock);
	return job;
}

static void srv_exec_recycle(struct srv_exec *ex)
{
	uint64_t life =
		(uint64_t)ex->pool->cd->pool.max_lifetime_s * CLOCK_NS_PER_S;
	char msg[256];

	if (ex->conn.db && clock_mono_ns() - ex->conn.opened < life)
		return;
	srv_exec_close(ex);
	if (srv_exec_open(ex, msg, sizeof(msg)))
		pr_err("database \"%s\": could not reopen a connection: %s",
		       ex->pool->cd->name, msg);
}

static void srv_exec_started(struct srv_dbpool *p, int rc, const char *msg)
{
	pthread_mutex_lock(&p->lock);
	p->nstarted++;
	if (rc && !p->start_err) {
		p->start_err = rc;
		snprintf(p->start_msg, sizeof(p->start_msg), "%s", msg);
	}
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void *srv_exec_main(void *arg)
{
	struct srv_exec *ex = arg;
	struct srv_dbpool *p = ex->pool;
	struct srv_job *job;
	char msg[256] = "";
	sigset_t all;
	int rc;

	/* signals are the loop thread's, through its signalfd */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	rc = srv_exec_open(ex, msg, sizeof(msg));
	srv_exec_started(p, rc, msg);
	if (rc)
		return NULL;
	while ((job = srv_exec_next(p))) {
		if (job->kind == SRV_JOB_CHECKPOINT)
			srv_exec_checkpoint(ex);
		else if (!ex->conn.db)
			srv_exec_fail(
				job, 503, "io_error",
				"the database connection is not available");
		else if (job->taken_at > job->deadline)
			srv_exec_expired(job);
		else
			srv_exec_run(ex, job);
		job->done_at = clock_mono_ns();
		srv_done_push(p->done, job);
		srv_exec_recycle(ex);
	}
	srv_exec_close(ex);
	return NULL;
}

/* each executor writes its own sub-slot of the worker's slot */
static void srv_dbpool_subslots(struct srv_dbpool *p, unsigned int slot,
				unsigned int exec0)
{
	struct shm_exec *sx;
	unsigned int i;

	for (i = 0; i < p->nex; i++) {
		sx = p->shm ? shm_exec(p->shm, slot, exec0 + i) : NULL;
		if (!sx || exec0 + i >= SHM_MAX_EXECS)
			sx = &p->ex[i].own;
		p->ex[i].sx = sx;
		shm_write_begin(&sx->seq);
		shm_set32(&sx->db, p->shm_db);
		shm_set32(&sx->state, SHM_EXEC_IDLE);
		shm_write_end(&sx->seq);
	}
}

static int srv_dbpool_spawn(struct srv_dbpool *p)
{
	unsigned int i;
	int err;

	for (i = 0; i < p->nex; i++) {
		p->ex[i].pool = p;
		p->ex[i].index = i;
		p->ex[i].stmts =
			calloc(p->routes->nstmts + 1, sizeof(*p->ex[i].stmts));
		if (!p->ex[i].stmts)
			return -ENOMEM;
		err = pthread_create(&p->ex[i].tid, NULL, srv_exec_main,
				     &p->ex[i]);
		if (err)
			return -err;
		p->ex[i].running = true;
	}
	return 0;
}

int srv_dbpool_start(struct srv_dbpool *p, const struct srv_cycle *cy,
		     unsigned int index, const struct srv_routes *routes,
		     struct srv_done *done, unsigned int slot,
		     unsigned int exec0)
{
	const struct conf *conf = cy->conf;
	unsigned int created;
	int err;

	p->conf = conf;
	p->shm = cy->shm;
	p->shm_db = cy->db_ids[index];
	p->slot = slot;
	p->ckpt = calloc(1, sizeof(*p->ckpt));
	if (!p->ckpt)
		return -ENOMEM;
	p->ckpt->kind = SRV_JOB_CHECKPOINT;
	p->ckpt->pool = p;
	list_init(&p->ckpt->node);
	p->cd = &conf->dbs[index];
	p->index = index;
	p->routes = routes;
	p->done = done;
	list_init(&p->queue);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->nex = p->cd->pool.size;
	p->ex = calloc(p->nex, sizeof(*p->ex));
	if (p->ex)
		srv_dbpool_subslots(p, slot, exec0);
	err = p->ex ? srv_dbpool_spawn(p) : -ENOMEM;
	for (created = 0; p->ex && created < p->nex && p->ex[created].running;
	     created++)
		;
	pthread_mutex_lock(&p->lock);
	while (p->nstarted < created)
		pthread_cond_wait(&p->cond, &p->lock);
	if (!err && p->start_err)
		err = -EIO;
	pthread_mutex_unlock(&p->lock);
	if (err && !p->start_msg[0])
		snprintf(p->start_msg, sizeof(p->start_msg), "%s",
			 strerror(-err));
	return err;
}

void srv_dbpool_stop(struct srv_dbpool *p)
{
	unsigned int i;

	if (!p->ex)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nex; i++) {
		if (p->ex[i].running)
			pthread_join(p->ex[i].tid, NULL);
		p->ex[i].running = false;
	}
}

void srv_dbpool_destroy(struct srv_dbpool *p)
{
	unsigned int i;

	if (!p->ex)
		return;
	srv_dbpool_stop(p);
	for (i = 0; i < p->nex; i++)
		free(p->ex[i].stmts);
	free(p->ex);
	p->ex = NULL;
	free(p->ckpt);
	p->ckpt = NULL;
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

int srv_dbpool_submit(struct srv_dbpool *p, struct srv_job *job)
{
	int err = 0;

	pthread_mutex_lock(&p->lock);
	/* a job an idle executor takes at once does not wait */
	if (p->nqueued + 1 > p->nidle + p->cd->pool.max_waiters) {
		err = -EAGAIN;
	} else {
		job->state = SRV_JOB_QUEUED;
		list_add_tail(&job->node, &p->queue);
		err = (int)++p->nqueued;
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}

bool srv_dbpool_cancel(struct srv_dbpool *p, struct srv_job *job)
{
	bool queued;

	pthread_mutex_lock(&p->lock);
	queued = job->state == SRV_JOB_QUEUED;
	if (queued) {
		list_del_init(&job->node);
		p->nqueued--;
		job->state = SRV_JOB_DONE;
	}
	pthread_mutex_unlock(&p->lock);
	return queued;
}

void srv_dbpool_checkpoint_tick(struct srv_dbpool *p)
{
	int32_t slot;

	if (!p->shm || p->ckpt_pending)
		return;
	slot = atomic_load_explicit(&p->shm->checkpointer_slot,
				    memory_order_acquire);
	if (slot != (int32_t)p->slot)
		return;
	/* ahead of the requests: a WAL past its limit slows every reader */
	p->ckpt->deadline = UINT64_MAX;
	p->ckpt->queued_at = clock_mono_ns();
	pthread_mutex_lock(&p->lock);
	p->ckpt->state = SRV_JOB_QUEUED;
	list_add_tail(&p->ckpt->node, p->queue.next);
	p->nqueued++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	p->ckpt_pending = true;
}
