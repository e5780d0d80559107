// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/worker.c - a worker process: accept, serve, drain, exit
 *
 * Startup after fork(): close the master's descriptors (an inherited
 * epoll fd would be the master's own instance), set the signal
 * dispositions of DESIGN.md (SIGHUP and SIGINT ignored: Ctrl-C reaches the
 * whole process group and the master relays it as SIGTERM), die with the
 * master (PR_SET_PDEATHSIG, then the getppid() check that closes the race
 * with a master that died before the prctl), and build a private epoll
 * loop with a signalfd.
 *
 * Accepting: every listener is registered with EPOLLEXCLUSIVE, so one
 * connection wakes one worker.  The kernel tends to wake the same worker
 * again, so every SRV_WORKER_READD_EVERY accepts the listeners are removed
 * and added back, which puts this worker at the end of the wait queue
 * (nginx does the same).  EPOLL_CTL_MOD is not allowed on an exclusive
 * registration, so pausing (max_connections, EMFILE, drain) is
 * EPOLL_CTL_DEL and resuming is EPOLL_CTL_ADD; meanwhile new connections
 * wait in the kernel backlog for another worker.
 *
 * Draining (SIGTERM): accept what is already queued until EAGAIN, remove
 * the listeners, let busy connections finish (their responses say
 * Connection: close), give idle keep-alive connections a short grace, and
 * exit 0 when no connection is left.  The master bounds the whole drain
 * with drain_timeout_ms.
 */

#include "server/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/log.h"
#include "server/conn.h"
#include "server/cycle.h"
#include "lib/db.h"
#include "server/listen.h"
#include "server/router.h"
#include "server/stats.h"
#include "shm/shm.h"

#define SRV_WORKER_READD_EVERY 16  /* accepts between listener re-adds */
#define SRV_WORKER_ACCEPT_BATCH 64 /* accepts per wake-up at most */
#define SRV_WORKER_EMFILE_PAUSE_MS 100
#define SRV_WORKER_UPKEEP_MS 100 /* checkpoints, slot gauges */

static void srv_worker_on_accept(struct ev_loop *l, int fd, uint32_t events,
				 void *data);
static void srv_worker_set_state(struct srv_worker *w, uint32_t state);

static bool srv_worker_is_full(const struct srv_worker *w)
{
	return w->nconns >= w->conf->limits.max_connections;
}

void srv_worker_pause_accept(struct srv_worker *w)
{
	unsigned int i;

	if (!w->accepting)
		return;
	for (i = 0; i < w->nls; i++)
		ev_del(&w->loop, w->ls[i].fd);
	w->accepting = false;
}

void srv_worker_resume_accept(struct srv_worker *w)
{
	unsigned int i;
	int err;

	if (w->accepting || w->draining || srv_worker_is_full(w) ||
	    timer_is_armed(&w->accept_retry))
		return;
	for (i = 0; i < w->nls; i++) {
		err = ev_add(&w->loop, w->ls[i].fd, EPOLLIN | EPOLLEXCLUSIVE,
			     srv_worker_on_accept, &w->ls[i]);
		if (err)
			pr_warn_errno_ratelimited(err,
						  "could not watch a listener");
	}
	w->accepting = true;
	w->accepts = 0;
}

static void srv_worker_on_accept_retry(struct timer *t)
{
	struct srv_worker *w = container_of(t, struct srv_worker, accept_retry);

	srv_worker_resume_accept(w);
}

/* accept one connection: 1 accepted, 0 queue empty, -1 stop for now */
static int srv_worker_accept_one(struct srv_worker *w,
				 const struct srv_listener *ls)
{
	int fd, err;

	fd = accept4(ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		srv_stats_accept(w);
		err = srv_conn_open(w, fd, ls->status);
		if (err)
			pr_warn_errno_ratelimited(
				err, "could not set up a connection");
		return 1;
	}
	err = -errno;
	switch (err) {
	case -EAGAIN:
		return 0;
	case -EINTR:
	case -ECONNABORTED:
	case -EPROTO:
		return 1; /* that client is gone; try the next */
	case -EMFILE:
	case -ENFILE:
	case -ENOBUFS:
	case -ENOMEM:
		pr_warn_errno_ratelimited(
			err, "accept failed; pausing accepts for %d ms",
			SRV_WORKER_EMFILE_PAUSE_MS);
		srv_worker_pause_accept(w);
		timer_arm(&w->loop.timers, &w->accept_retry,
			  w->loop.now +
				  SRV_WORKER_EMFILE_PAUSE_MS * CLOCK_NS_PER_MS);
		return -1;
	default:
		pr_warn_errno_ratelimited(err, "accept failed");
		return -1;
	}
}

static void srv_worker_on_accept(struct ev_loop *l, int fd, uint32_t events,
				 void *data)
{
	struct srv_worker *w = container_of(l, struct srv_worker, loop);
	const struct srv_listener *ls = data;
	int i, r;

	for (i = 0; i < SRV_WORKER_ACCEPT_BATCH; i++) {
		if (srv_worker_is_full(w)) {
			/* the rest waits in the backlog for another worker */
			srv_worker_pause_accept(w);
			return;
		}
		r = srv_worker_accept_one(w, ls);
		if (r <= 0)
			return;
		if (++w->accepts >= SRV_WORKER_READD_EVERY) {
			/* go to the back of the exclusive wait queue */
			srv_worker_pause_accept(w);
			srv_worker_resume_accept(w);
			return;
		}
	}
}

static void srv_worker_drain(struct srv_worker *w)
{
	struct list_head *pos, *tmp;
	unsigned int i;

	if (w->draining)
		return;
	pr_info("draining %u connections", w->nconns);
	/* take what the kernel already queued for us, then stop */
	for (i = 0; i < w->nls && w->accepting; i++) {
		while (!srv_worker_is_full(w) &&
		       srv_worker_accept_one(w, &w->ls[i]) > 0)
			;
	}
	w->draining = true;
	srv_worker_set_state(w, SHM_SLOT_DRAINING);
	srv_worker_pause_accept(w);
	timer_cancel(&w->loop.timers, &w->accept_retry);
	list_for_each_safe(pos, tmp, &w->conns)
		srv_conn_drain(list_entry(pos, struct srv_conn, node));
}

static void srv_worker_halt(struct srv_worker *w)
{
	struct list_head *pos, *tmp;

	pr_info("fast stop: closing %u connections", w->nconns);
	list_for_each_safe(pos, tmp, &w->conns)
		srv_conn_abort(list_entry(pos, struct srv_conn, node));
	/* at once: executors may be inside long statements; SQLite
	 * discards an unfinished transaction on the next open */
	_exit(0);
}

static void srv_worker_on_signal(struct ev_loop *l, int fd, uint32_t events,
				 void *data)
{
	struct srv_worker *w = data;
	struct signalfd_siginfo si;
	int err;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
			srv_worker_drain(w);
			break;
		case SIGQUIT:
			srv_worker_halt(w);
			break;
		case SIGUSR1:
			err = log_reopen();
			if (err)
				pr_err_errno(err, "could not reopen the log");
			break;
		}
	}
}

/* free what was closed this iteration; stop when a drain is complete */
static void srv_worker_before_sleep(struct ev_loop *l, void *data)
{
	struct srv_worker *w = data;
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &w->dead) {
		list_del_init(pos);
		srv_conn_free(list_entry(pos, struct srv_conn, node));
	}
	if (w->slot) /* the watchdog's evidence that the loop turns */
		atomic_store_explicit(&w->slot->heartbeat_mono_ns, l->now,
				      memory_order_relaxed);
	if (w->draining && !w->nconns)
		ev_stop(l);
}

/* signals: blocked and read from a signalfd, or ignored */
static int srv_worker_signals(struct srv_worker *w)
{
	static const int ignored[] = { SIGHUP, SIGINT, SIGTTIN, SIGTTOU,
				       SIGPIPE };
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigset_t set;
	unsigned int i;

	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		sigaction(ignored[i], &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_SETMASK, &set, NULL) < 0)
		return -errno;
	w->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (w->sfd < 0)
		return -errno;
	return ev_add(&w->loop, w->sfd, EPOLLIN, srv_worker_on_signal, w);
}

static void srv_worker_finish_jobs(struct list_head *done)
{
	struct list_head *pos, *tmp;
	struct srv_job *job;

	list_for_each_safe(pos, tmp, done) {
		list_del_init(pos);
		job = list_entry(pos, struct srv_job, node);
		if (job->kind == SRV_JOB_CHECKPOINT) {
			job->state = SRV_JOB_DONE;
			job->pool->ckpt_pending = false;
			continue;
		}
		srv_router_complete(job);
	}
}

static void srv_worker_on_done(struct ev_loop *l, int fd, uint32_t events,
			       void *data)
{
	struct srv_worker *w = data;
	struct list_head done;

	srv_done_take(&w->done, &done);
	srv_worker_finish_jobs(&done);
}

/* learn each route's parameters and columns on a connection of our own */
static int srv_worker_routes(struct srv_worker *w)
{
	const struct conf *conf = w->conf;
	struct conf_errs errs = { 0 };
	struct db_conn *conns;
	unsigned int i;
	char msg[256];
	int err = 0;

	conns = calloc(conf->ndbs + 1, sizeof(*conns));
	if (!conns)
		return -ENOMEM;
	for (i = 0; i < conf->ndbs && !err; i++) {
		if (db_open(&conns[i], &conf->dbs[i], conf->dbs[i].path,
			    conf->debug_functions, msg, sizeof(msg))) {
			pr_err("database \"%s\": %s", conf->dbs[i].name, msg);
			err = -EIO;
		}
	}
	if (!err)
		err = srv_routes_build(&w->routes, conf, conns, &errs);
	for (i = 0; i < errs.n; i++)
		pr_err("%s:%d: %s", errs.v[i].file, errs.v[i].line,
		       errs.v[i].reason);
	conf_errs_destroy(&errs);
	for (i = 0; i < conf->ndbs; i++)
		db_close(&conns[i]);
	free(conns);
	return err;
}

static int srv_worker_pools(struct srv_worker *w)
{
	unsigned int i, exec0 = 0;
	int err;

	err = srv_done_init(&w->done);
	if (err)
		return err;
	err = ev_add(&w->loop, w->done.efd, EPOLLIN, srv_worker_on_done, w);
	if (err)
		return err;
	w->pools = calloc(w->conf->ndbs + 1, sizeof(*w->pools));
	if (!w->pools)
		return -ENOMEM;
	for (i = 0; i < w->conf->ndbs; i++) {
		w->npools++;
		err = srv_dbpool_start(&w->pools[i], w->cy, i, &w->routes,
				       &w->done, w->index, exec0);
		exec0 += w->conf->dbs[i].pool.size;
		if (err) {
			pr_err("database \"%s\": could not open the pool: %s",
			       w->conf->dbs[i].name, w->pools[i].start_msg);
			return err;
		}
	}
	return 0;
}

static void srv_worker_set_state(struct srv_worker *w, uint32_t state)
{
	if (!w->slot)
		return;
	shm_write_begin(&w->slot->seq);
	shm_set32(&w->slot->state, state);
	shm_write_end(&w->slot->seq);
}

/* our slot: who we are, since when */
static void srv_worker_slot_init(struct srv_worker *w)
{
	struct shm_slot *sl;

	w->slot = w->cy->shm ? shm_slot(w->cy->shm, w->index) : NULL;
	sl = w->slot;
	if (!sl)
		return;
	shm_write_begin(&sl->seq);
	atomic_store_explicit(&sl->pid, (int32_t)getpid(),
			      memory_order_relaxed);
	shm_set32(&sl->generation, w->generation);
	shm_set32(&sl->state, SHM_SLOT_STARTING);
	atomic_store_explicit(&sl->start_unix_ns, clock_real_ns(),
			      memory_order_relaxed);
	atomic_store_explicit(&sl->heartbeat_mono_ns, clock_mono_ns(),
			      memory_order_relaxed);
	shm_write_end(&sl->seq);
}

/* SRV_WORKER_UPKEEP_MS, or the shortest checkpoint interval if shorter */
static uint64_t srv_worker_upkeep_ns(const struct srv_worker *w)
{
	uint64_t ms = SRV_WORKER_UPKEEP_MS;
	unsigned int i;

	for (i = 0; i < w->conf->ndbs; i++) {
		if (w->conf->dbs[i].checkpoint_interval_ms < ms)
			ms = w->conf->dbs[i].checkpoint_interval_ms;
	}
	return ms * CLOCK_NS_PER_MS;
}

static void srv_worker_on_upkeep(struct timer *t)
{
	struct srv_worker *w = container_of(t, struct srv_worker, upkeep);
	uint64_t now = w->loop.now;
	struct srv_dbpool *p;
	unsigned int i;

	for (i = 0; i < w->npools; i++) {
		p = &w->pools[i];
		if (now < p->ckpt_next)
			continue;
		p->ckpt_next = now + (uint64_t)p->cd->checkpoint_interval_ms *
					     CLOCK_NS_PER_MS;
		srv_dbpool_checkpoint_tick(p);
	}
	srv_stats_publish(w);
	timer_arm(&w->loop.timers, &w->upkeep, now + srv_worker_upkeep_ns(w));
}

static int srv_worker_init(struct srv_worker *w)
{
	int err;

	list_init(&w->conns);
	list_init(&w->dead);
	timer_init(&w->accept_retry, srv_worker_on_accept_retry);
	w->done.efd = -1;
	err = ev_loop_init(&w->loop);
	if (err)
		return err;
	srv_worker_slot_init(w);
	err = srv_worker_routes(w);
	if (!err)
		err = srv_worker_pools(w);
	if (err)
		return err;
	timer_init(&w->upkeep, srv_worker_on_upkeep);
	err = timer_arm(&w->loop.timers, &w->upkeep, w->loop.now);
	if (err)
		return err;
	w->loop.before_sleep = srv_worker_before_sleep;
	w->loop.before_sleep_data = w;
	err = srv_worker_signals(w);
	if (err)
		return err;
	srv_worker_resume_accept(w);
	return 0;
}

static void srv_worker_destroy(struct srv_worker *w)
{
	struct list_head *pos, *tmp, done;
	unsigned int i;

	list_for_each_safe(pos, tmp, &w->conns)
		srv_conn_abort(list_entry(pos, struct srv_conn, node));
	/* executors finish what they hold; those jobs' connections are
	 * closed already and are freed as the jobs come back, before the
	 * pools (which own the checkpoint jobs) go */
	for (i = 0; i < w->npools; i++)
		srv_dbpool_stop(&w->pools[i]);
	if (w->done.efd >= 0) {
		srv_done_take(&w->done, &done);
		srv_worker_finish_jobs(&done);
		srv_done_destroy(&w->done);
	}
	for (i = 0; i < w->npools; i++)
		srv_dbpool_destroy(&w->pools[i]);
	free(w->pools);
	srv_worker_before_sleep(&w->loop, w);
	srv_routes_destroy(&w->routes);
	free(w->snap);
	if (w->sfd >= 0)
		close(w->sfd);
	ev_loop_destroy(&w->loop);
}

void srv_worker_main(const struct srv_cycle *cy, unsigned int index,
		     const int *close_fds, unsigned int nclose)
{
	struct srv_worker w = { .cy = cy,
				.conf = cy->conf,
				.ls = cy->ls,
				.nls = cy->nls,
				.index = index,
				.generation = cy->generation,
				.master_pid = cy->master_pid,
				.sfd = -1 };
	char role[32];
	unsigned int i;
	int err;

	snprintf(role, sizeof(role), "worker %u", index);
	log_set_role(role);
	for (i = 0; i < nclose; i++) {
		if (close_fds[i] >= 0)
			close(close_fds[i]);
	}
	/* die with the master; then make sure it did not die already */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != w.master_pid) {
		pr_err("the master is gone; exiting");
		exit(SRV_WORKER_EXIT_FATAL);
	}
	err = srv_worker_init(&w);
	if (err) {
		pr_err_errno(err, "could not start");
		srv_worker_destroy(&w);
		exit(SRV_WORKER_EXIT_FATAL);
	}
	srv_worker_set_state(&w, SHM_SLOT_READY);
	pr_debug("started (generation %u)", (unsigned int)w.generation);
	err = ev_run(&w.loop);
	if (err)
		pr_err_errno(err, "event loop failed");
	srv_worker_destroy(&w);
	pr_debug("exiting");
	exit(err ? 1 : 0);
}
