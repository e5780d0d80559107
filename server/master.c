// SPDX-License-Identifier: BSD-2-Clause
/*
 * server/master.c - the supervising master
 *
 * Start: open the log, raise RLIMIT_NOFILE, take the pidfile's lock (a
 * second poold stops here, with the running one's pid), bind every
 * listener, daemonize unless -f, write the pid, drop privileges when
 * started as root with `user`, then fork the workers.
 *
 * Supervise: every signal arrives through a signalfd in the epoll loop, so
 * nothing runs in a handler; a 100 ms timerfd drives the deadlines
 * (respawn backoff, shutdown grace, drain timeout).
 *
 * Workers: one slot per worker.  A worker that dies unexpectedly is logged
 * with its exit status or signal and respawned; one that dies within a
 * second of its start counts toward a crash loop, whose respawns back off
 * from 100 ms up to 5 s.  A worker that exits 2 cannot start (bad
 * environment): its generation is not respawned, and when that leaves no
 * worker of the first generation the master exits 2.
 *
 * Stop (SIGTERM/SIGINT): after shutdown.grace_ms the workers get SIGTERM
 * and drain; after drain_timeout_ms what is left gets SIGKILL.  A second
 * SIGTERM/SIGINT or a SIGQUIT is a fast stop (SIGQUIT to the workers).
 * The listeners, unix socket files and the pidfile go last, once every
 * worker has been reaped.
 */

#include "server/master.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/conf.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/util.h"
#include "server/cycle.h"
#include "server/listen.h"
#include "server/pidfile.h"
#include "server/validate.h"
#include "server/worker.h"
#include "shm/shm.h"

#define SRV_MASTER_TICK_MS 100
#define SRV_MASTER_CRASH_WINDOW_NS (1 * CLOCK_NS_PER_S)
#define SRV_MASTER_BACKOFF_MAX_MS 5000
#define SRV_MASTER_HALT_KILL_MS 5000 /* fast stop: SIGKILL after this */

enum srv_master_state {
	SRV_MASTER_RUNNING,
	SRV_MASTER_STOPPING, /* graceful: grace, then drain */
	SRV_MASTER_HALTING,  /* fast: SIGQUIT sent */
};

struct srv_child {
	pid_t pid; /* 0 = free slot */
	uint32_t generation;
	uint64_t started; /* CLOCK_MONOTONIC ns */
	bool retiring;	  /* told to stop (TTOU, stop) */
};

/* one configuration generation: its config, listeners and cycle */
struct srv_gen {
	struct conf *conf;	 /* owned; NULL = no such generation */
	struct srv_cycle cy;	 /* what its workers are forked with */
	struct srv_listener *ls; /* owned array; a descriptor may be shared
				  * with another generation's array */
	unsigned int nls;
	unsigned int target; /* workers wanted */
	uint32_t generation;
	bool fatal; /* a worker of it exited 2 */
};

struct srv_master {
	struct srv_gen cur;  /* serving */
	struct srv_gen old;  /* draining after a reload */
	struct srv_gen next; /* starting: a reload in progress */
	struct shm_seg shm;  /* owned: the segment */
	int pidfd;
	int sfd;
	int tfd;
	struct ev_loop loop;

	struct srv_child *kids; /* owned: nkids slots */
	unsigned int nkids;

	enum srv_master_state state;
	uint64_t term_at; /* when to SIGTERM the workers (stop) */
	bool term_sent;
	uint64_t kill_at; /* when to SIGKILL what is left */
	unsigned int crash_streak;
	uint64_t respawn_at;
	uint64_t reload_deadline; /* the next generation must be ready */
	bool reload_pending;	  /* SIGHUP during a reload: one more */
	int exit_status;
};

static unsigned int srv_master_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	return CPU_COUNT(&set) > 0 ? (unsigned int)CPU_COUNT(&set) : 1;
}

static void srv_master_rlimit(const struct conf *conf)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	want = conf->rlimit_nofile ? (rlim_t)conf->rlimit_nofile : rl.rlim_max;
	if (want > rl.rlim_max && geteuid() != 0) {
		pr_warn("rlimit_nofile %llu is above the hard limit %llu; using %llu",
			(unsigned long long)want,
			(unsigned long long)rl.rlim_max,
			(unsigned long long)rl.rlim_max);
		want = rl.rlim_max;
	}
	rl.rlim_cur = want;
	if (want > rl.rlim_max)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		pr_warn_errno(-errno, "could not set RLIMIT_NOFILE to %llu",
			      (unsigned long long)want);
	else
		pr_info("open file limit %llu", (unsigned long long)want);
}

static unsigned int srv_master_target(const struct conf *conf)
{
	unsigned int n = conf->workers ? conf->workers : srv_master_cpus();

	return n < conf->max_workers ? n : conf->max_workers;
}

static int srv_master_bind(struct srv_master *m)
{
	const struct conf *conf = m->cur.conf;
	unsigned int i;
	int err;

	m->cur.ls = calloc(conf->nlisten + 1, sizeof(*m->cur.ls));
	if (!m->cur.ls)
		return -ENOMEM;
	for (i = 0; i < conf->nlisten; i++) {
		err = srv_listen_open(&m->cur.ls[m->cur.nls], &conf->listen[i],
				      conf->backlog, false);
		if (err)
			return err;
		m->cur.nls++;
	}
	if (conf->status_listen) {
		err = srv_listen_open(&m->cur.ls[m->cur.nls],
				      conf->status_listen, conf->backlog, true);
		if (err)
			return err;
		m->cur.nls++;
	}
	return 0;
}

static void srv_master_unbind(struct srv_master *m)
{
	unsigned int i;

	for (i = 0; i < m->cur.nls; i++)
		srv_listen_close(&m->cur.ls[i], true);
	free(m->cur.ls);
	m->cur.ls = NULL;
	m->cur.nls = 0;
}

static int srv_master_daemonize(void)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0); /* the pidfile lock stays with the child */
	if (setsid() < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	if (log_fd() != STDERR_FILENO)
		dup2(fd, STDERR_FILENO);
	close(fd);
	return 0;
}

/* started as root with `user`: hand over files, then become that user */
static int srv_master_drop_privileges(struct srv_master *m)
{
	const struct conf *conf = m->cur.conf;
	char shm_path[300];
	unsigned int i;

	if (!conf->user[0])
		return 0;
	if (geteuid() != 0) {
		pr_warn("\"user\" is set but poold does not run as root: ignored");
		return 0;
	}
	if (fchown(m->pidfd, conf->uid, conf->gid) < 0 ||
	    (log_fd() > STDERR_FILENO &&
	     fchown(log_fd(), conf->uid, conf->gid) < 0))
		return -errno;
	snprintf(shm_path, sizeof(shm_path), "/dev/shm%s", conf->shm_name);
	if (chown(shm_path, conf->uid, conf->gid) < 0)
		return -errno;
	for (i = 0; i < m->cur.nls; i++) {
		if (m->cur.ls[i].cl->family == AF_UNIX &&
		    chown(m->cur.ls[i].cl->path, conf->uid, conf->gid) < 0)
			return -errno;
	}
	if (setgroups(0, NULL) < 0 || initgroups(conf->user, conf->gid) < 0 ||
	    setgid(conf->gid) < 0 || setuid(conf->uid) < 0)
		return -errno;
	if (setuid(0) == 0)
		return -EPERM; /* the drop did not stick */
	pr_info("running as user \"%s\" (uid %u, gid %u)", conf->user,
		(unsigned int)conf->uid, (unsigned int)conf->gid);
	return 0;
}

/* workers alive: of generation @gen, or of every one when @gen is 0 */
static unsigned int srv_master_alive_gen(const struct srv_master *m,
					 uint32_t gen, bool count_retiring)
{
	unsigned int i, n = 0;

	for (i = 0; i < m->nkids; i++) {
		if (m->kids[i].pid &&
		    (count_retiring || !m->kids[i].retiring) &&
		    (!gen || m->kids[i].generation == gen))
			n++;
	}
	return n;
}

static unsigned int srv_master_alive(const struct srv_master *m,
				     bool count_retiring)
{
	return srv_master_alive_gen(m, 0, count_retiring);
}

/* the worker in the lowest live slot keeps the WAL files short */
static void srv_master_checkpointer(struct srv_master *m)
{
	unsigned int i;
	int slot = -1;

	for (i = 0; i < m->nkids && slot < 0; i++) {
		if (m->kids[i].pid && !m->kids[i].retiring)
			slot = (int)i;
	}
	atomic_store_explicit(&m->shm.hdr->checkpointer_slot, slot,
			      memory_order_release);
}

/* true if generation @g listens on descriptor @fd */
static bool srv_gen_has_fd(const struct srv_gen *g, int fd)
{
	unsigned int i;

	for (i = 0; g->conf && i < g->nls; i++) {
		if (g->ls[i].fd == fd)
			return true;
	}
	return false;
}

/* the master's descriptors a worker of @g must not keep */
static unsigned int srv_master_foreign_fds(const struct srv_master *m,
					   const struct srv_gen *g, int *fds,
					   unsigned int max)
{
	const struct srv_gen *all[] = { &m->cur, &m->old, &m->next };
	unsigned int n = 0, k, i;

	fds[n++] = m->sfd;
	fds[n++] = m->tfd;
	fds[n++] = m->loop.epfd;
	fds[n++] = m->pidfd;
	for (k = 0; k < ARRAY_SIZE(all); k++) {
		for (i = 0; all[k]->conf && i < all[k]->nls && n < max; i++) {
			if (!srv_gen_has_fd(g, all[k]->ls[i].fd))
				fds[n++] = all[k]->ls[i].fd;
		}
	}
	return n;
}

static int srv_master_spawn(struct srv_master *m, struct srv_gen *g)
{
	int close_fds[4 + 3 * (SHM_MAX_LISTENERS + 1)];
	unsigned int i, nclose;
	pid_t pid;

	for (i = 0; i < m->nkids && m->kids[i].pid; i++)
		;
	if (i == m->nkids)
		return -ENOSPC;
	nclose = srv_master_foreign_fds(m, g, close_fds, ARRAY_SIZE(close_fds));
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		srv_worker_main(&g->cy, i, close_fds, nclose);
	m->kids[i] = (struct srv_child){ .pid = pid,
					 .generation = g->generation,
					 .started = clock_mono_ns() };
	pr_info("started worker %u (pid %d)", i, (int)pid);
	srv_master_checkpointer(m);
	return 0;
}

/* fork workers until the target is met, unless backing off */
static void srv_master_fill(struct srv_master *m)
{
	int err;

	if (m->state != SRV_MASTER_RUNNING || m->cur.fatal ||
	    clock_mono_ns() < m->respawn_at)
		return;
	while (srv_master_alive_gen(m, m->cur.generation, false) <
	       m->cur.target) {
		err = srv_master_spawn(m, &m->cur);
		if (err) {
			pr_err_errno(err, "could not start a worker");
			m->respawn_at =
				clock_mono_ns() +
				SRV_MASTER_BACKOFF_MAX_MS * CLOCK_NS_PER_MS;
			return;
		}
	}
}

static void srv_master_signal_gen(struct srv_master *m, uint32_t gen, int sig)
{
	unsigned int i;

	for (i = 0; i < m->nkids; i++) {
		if (m->kids[i].pid && m->kids[i].generation == gen)
			kill(m->kids[i].pid, sig);
	}
}

static void srv_master_signal_all(struct srv_master *m, int sig)
{
	unsigned int i;

	for (i = 0; i < m->nkids; i++) {
		if (m->kids[i].pid)
			kill(m->kids[i].pid, sig);
	}
}

static void srv_master_log_exit(const struct srv_master *m, unsigned int i,
				pid_t pid, int st, bool expected)
{
	int lvl = expected ? LOG_LEVEL_INFO : LOG_LEVEL_ERR;

	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && expected)
		pr_level(lvl, "worker %u (pid %d) exited", i, (int)pid);
	else if (WIFEXITED(st))
		pr_level(lvl, "worker %u (pid %d) exited with status %d", i,
			 (int)pid, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		pr_level(lvl, "worker %u (pid %d) was killed by signal %d (%s)",
			 i, (int)pid, WTERMSIG(st), strsignal(WTERMSIG(st)));
}

/* a worker died while it should have been serving: respawn, with backoff */
static void srv_master_crashed(struct srv_master *m, struct srv_child *k,
			       int st)
{
	uint64_t now = clock_mono_ns(), delay_ms;

	if (m->next.conf && k->generation == m->next.generation) {
		m->next.fatal = true; /* the reload fails: the old one serves */
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == SRV_WORKER_EXIT_FATAL) {
		if (!m->cur.fatal)
			pr_err("a worker of generation %u cannot start (exit status 2): not respawning it",
			       (unsigned int)k->generation);
		m->cur.fatal = true;
		return;
	}
	atomic_fetch_add(&m->shm.hdr->worker_restarts, 1);
	if (now - k->started < SRV_MASTER_CRASH_WINDOW_NS)
		m->crash_streak++;
	else
		m->crash_streak = 0;
	delay_ms = 0;
	if (m->crash_streak) {
		delay_ms = 100ULL << MIN(m->crash_streak - 1, 6U);
		delay_ms = MIN(delay_ms, (uint64_t)SRV_MASTER_BACKOFF_MAX_MS);
		pr_warn("workers are crashing at start; next respawn in %llu ms",
			(unsigned long long)delay_ms);
	}
	m->respawn_at = now + delay_ms * CLOCK_NS_PER_MS;
}

static int srv_master_register(struct srv_master *m);
static void srv_master_register_listeners(struct srv_master *m);

/* close what generation @g alone had open, and forget it */
static void srv_gen_destroy(struct srv_master *m, struct srv_gen *g)
{
	const struct srv_gen *all[] = { &m->cur, &m->old, &m->next };
	unsigned int i, k;
	bool shared;

	for (i = 0; g->conf && i < g->nls; i++) {
		for (shared = false, k = 0; k < ARRAY_SIZE(all); k++)
			shared |= all[k] != g &&
				  srv_gen_has_fd(all[k], g->ls[i].fd);
		if (!shared)
			srv_listen_close(&g->ls[i], true);
	}
	free(g->ls);
	if (g->conf) {
		conf_destroy(g->conf);
		free(g->conf);
	}
	*g = (struct srv_gen){ 0 };
}

static void srv_master_reload_result(struct srv_master *m, bool ok,
				     const char *msg)
{
	struct shm_hdr *h = m->shm.hdr;

	shm_write_begin(&h->hdr_seq);
	atomic_fetch_add(&h->reloads, 1);
	atomic_store(&h->reload_unix_ns, clock_real_ns());
	atomic_store(&h->reload_result, ok ? SHM_RELOAD_OK : SHM_RELOAD_FAILED);
	snprintf(h->reload_msg, sizeof(h->reload_msg), "%s", msg);
	shm_write_end(&h->hdr_seq);
	atomic_store(&h->state, SHM_STATE_RUNNING);
	if (ok)
		pr_notice("reload: generation %u serves", m->cur.generation);
	else
		pr_err("reload failed, generation %u keeps serving: %s",
		       m->cur.generation, msg);
}

/* the keys a reload cannot change: the name of the first that differs */
static const char *srv_master_restart_key(const struct conf *a,
					  const struct conf *b)
{
	unsigned int i, k;

	if (strcmp(a->shm_name, b->shm_name))
		return "shm_name";
	if (strcmp(a->user, b->user))
		return "user";
	if (strcmp(a->pidfile, b->pidfile))
		return "pidfile";
	if (a->max_workers != b->max_workers)
		return "max_workers";
	for (i = 0; i < b->ndbs; i++) {
		for (k = 0; k < a->ndbs; k++) {
			if (!strcmp(a->dbs[k].path, b->dbs[i].path) &&
			    strcmp(a->dbs[k].journal_mode,
				   b->dbs[i].journal_mode))
				return "databases.journal_mode";
		}
	}
	return NULL;
}

/* load, check and validate the file again; the message says why not */
static struct conf *srv_master_reload_conf(struct srv_master *m, char *msg,
					   size_t size)
{
	struct conf_errs errs = { 0 };
	struct conf *c = calloc(1, sizeof(*c));
	const char *key;
	int err;

	if (!c) {
		snprintf(msg, size, "out of memory");
		return NULL;
	}
	err = conf_load(c, m->cur.conf->path, &errs);
	if (!err && (key = srv_master_restart_key(m->cur.conf, c))) {
		snprintf(msg, size, "\"%s\" changed: restart required", key);
		err = -EINVAL;
	} else if (!err) {
		err = srv_validate(c, SRV_VALIDATE_APPLY, &errs);
	}
	if (errs.n)
		snprintf(msg, size, "%s:%d: %s", errs.v[0].file, errs.v[0].line,
			 errs.v[0].reason);
	else if (err && err != -EINVAL)
		snprintf(msg, size, "%s", strerror(-err));
	conf_errs_destroy(&errs);
	if (!err)
		return c;
	conf_destroy(c);
	free(c);
	return NULL;
}

/* listeners of the new generation: the open ones kept, new ones opened */
static int srv_gen_bind(struct srv_master *m, struct srv_gen *g)
{
	const struct conf_listen *want;
	unsigned int i, k, n;
	int err;

	n = g->conf->nlisten + (g->conf->status_listen ? 1 : 0);
	g->ls = calloc(n + 1, sizeof(*g->ls));
	if (!g->ls)
		return -ENOMEM;
	for (i = 0; i < n; i++, g->nls++) {
		want = i < g->conf->nlisten ? &g->conf->listen[i] :
					      g->conf->status_listen;
		for (k = 0; k < m->cur.nls; k++) {
			const struct conf_listen *have = m->cur.ls[k].cl;

			if (have->addrlen == want->addrlen &&
			    !memcmp(&have->addr, &want->addr, want->addrlen) &&
			    m->cur.ls[k].port &&
			    m->cur.ls[k].status == (i >= g->conf->nlisten))
				break;
		}
		if (k < m->cur.nls) {
			g->ls[i] = m->cur.ls[k];
			g->ls[i].cl = want;
			continue;
		}
		err = srv_listen_open(&g->ls[i], want, g->conf->backlog,
				      i >= g->conf->nlisten);
		if (err)
			return err;
	}
	return 0;
}

/* a new generation: listeners, segment entries, workers */
static int srv_master_reload_start(struct srv_master *m, struct conf *c,
				   char *msg, size_t size)
{
	struct srv_gen *g = &m->next;
	struct srv_gen saved = m->cur;
	unsigned int i;
	int err;

	*g = (struct srv_gen){ .conf = c,
			       .generation = m->cur.generation + 1,
			       .target = srv_master_target(c) };
	err = srv_gen_bind(m, g);
	if (!err) {
		/* srv_master_register() fills the current cycle: borrow it */
		g->cy = (struct srv_cycle){ .conf = c,
					    .ls = g->ls,
					    .nls = g->nls,
					    .shm = m->shm.hdr,
					    .generation = g->generation,
					    .master_pid = getpid() };
		m->cur = *g;
		err = srv_master_register(m);
		*g = m->cur;
		m->cur = saved;
	}
	for (i = 0; !err && i < g->target; i++)
		err = srv_master_spawn(m, g);
	if (err) {
		snprintf(msg, size, "could not start generation %u: %s",
			 g->generation, strerror(-err));
		return err;
	}
	m->reload_deadline = clock_mono_ns() +
			     (uint64_t)c->reload_timeout_ms * CLOCK_NS_PER_MS;
	atomic_store(&m->shm.hdr->state, SHM_STATE_RELOADING);
	pr_notice("reload: generation %u starting %u workers", g->generation,
		  g->target);
	return 0;
}

/* SIGHUP: a new generation from the file, or nothing changes */
static void srv_master_reload(struct srv_master *m)
{
	struct conf *c;
	char msg[SHM_TEXT] = "";

	if (m->state != SRV_MASTER_RUNNING)
		return;
	if (m->next.conf || m->old.conf) {
		m->reload_pending = true; /* coalesced: one more after this */
		return;
	}
	m->reload_pending = false;
	pr_notice("reload requested");
	c = srv_master_reload_conf(m, msg, sizeof(msg));
	if (!c) {
		srv_master_reload_result(m, false, msg);
		return;
	}
	if (srv_master_reload_start(m, c, msg, sizeof(msg))) {
		srv_master_signal_gen(m, m->next.generation, SIGKILL);
		srv_gen_destroy(m, &m->next);
		srv_master_reload_result(m, false, msg);
	}
}

/* every worker of the next generation says READY in its slot */
static bool srv_master_next_ready(const struct srv_master *m)
{
	struct shm_slot *sl;
	unsigned int i, ready = 0;

	for (i = 0; i < m->nkids; i++) {
		if (!m->kids[i].pid ||
		    m->kids[i].generation != m->next.generation)
			continue;
		sl = shm_slot(m->shm.hdr, i);
		if (sl && atomic_load(&sl->state) == SHM_SLOT_READY)
			ready++;
	}
	return ready >= m->next.target;
}

static void srv_master_retire_cur(struct srv_master *m)
{
	unsigned int i;

	for (i = 0; i < m->nkids; i++) {
		if (m->kids[i].pid &&
		    m->kids[i].generation == m->cur.generation) {
			m->kids[i].retiring = true;
			kill(m->kids[i].pid, SIGTERM);
		}
	}
	m->old = m->cur;
	m->cur = m->next;
	m->next = (struct srv_gen){ 0 };
}

/* on every tick and reap: advance a reload, retire a drained generation */
static void srv_master_reload_step(struct srv_master *m)
{
	if (m->next.conf && m->next.fatal) {
		srv_master_signal_gen(m, m->next.generation, SIGKILL);
		srv_gen_destroy(m, &m->next);
		srv_master_reload_result(
			m, false,
			"a worker of the new generation could not start");
	} else if (m->next.conf && srv_master_next_ready(m)) {
		srv_master_retire_cur(m);
		atomic_store(&m->shm.hdr->generation, m->cur.generation);
		atomic_store(&m->shm.hdr->workers_expected, m->cur.target);
		srv_master_register_listeners(m);
		srv_master_reload_result(m, true, "");
		srv_master_checkpointer(m);
	} else if (m->next.conf && clock_mono_ns() > m->reload_deadline) {
		srv_master_signal_gen(m, m->next.generation, SIGKILL);
		srv_gen_destroy(m, &m->next);
		srv_master_reload_result(
			m, false,
			"the new generation was not ready within reload_timeout_ms");
	}
	if (m->old.conf && !srv_master_alive_gen(m, m->old.generation, true))
		srv_gen_destroy(m, &m->old);
	if (m->reload_pending && !m->next.conf && !m->old.conf)
		srv_master_reload(m);
}

static void srv_master_reap(struct srv_master *m)
{
	struct srv_child *k;
	unsigned int i;
	bool expected;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < m->nkids && m->kids[i].pid != pid; i++)
			;
		if (i == m->nkids)
			continue; /* the validate child of a later issue, say */
		k = &m->kids[i];
		expected = k->retiring || m->state != SRV_MASTER_RUNNING;
		srv_master_log_exit(m, i, pid, st, expected);
		if (!expected)
			srv_master_crashed(m, k, st);
		k->pid = 0;
		/* its counters join the retired totals; the slot is free */
		shm_slot_fold(m->shm.hdr, i);
		srv_master_checkpointer(m);
	}
	srv_master_reload_step(m);
	if (m->state == SRV_MASTER_RUNNING && m->cur.fatal &&
	    m->cur.generation == 1 && !srv_master_alive(m, true)) {
		pr_err("no worker of the first generation could start; exiting");
		m->exit_status = 2;
		m->state = SRV_MASTER_HALTING;
	}
	if (m->state != SRV_MASTER_RUNNING && !srv_master_alive(m, true))
		ev_stop(&m->loop);
	else
		srv_master_fill(m);
}

static void srv_master_stop(struct srv_master *m, int sig)
{
	uint64_t now = clock_mono_ns();

	if (m->state == SRV_MASTER_RUNNING && sig != SIGQUIT) {
		pr_notice("graceful stop (signal %d): draining workers", sig);
		m->state = SRV_MASTER_STOPPING;
		atomic_store(&m->shm.hdr->state, SHM_STATE_STOPPING);
		m->term_at =
			now + m->cur.conf->shutdown.grace_ms * CLOCK_NS_PER_MS;
		return;
	}
	if (m->state == SRV_MASTER_HALTING)
		return;
	pr_notice("fast stop (signal %d)", sig);
	m->state = SRV_MASTER_HALTING;
	atomic_store(&m->shm.hdr->state, SHM_STATE_STOPPING);
	srv_master_signal_all(m, SIGQUIT);
	m->kill_at = now + SRV_MASTER_HALT_KILL_MS * CLOCK_NS_PER_MS;
}

/* SIGTTIN / SIGTTOU: one worker more or fewer, within 1..max_workers */
static void srv_master_resize(struct srv_master *m, int delta)
{
	unsigned int i;

	if (m->state != SRV_MASTER_RUNNING)
		return;
	if ((delta > 0 && m->cur.target >= m->cur.conf->max_workers) ||
	    (delta < 0 && m->cur.target <= 1)) {
		pr_notice("worker count stays at %u (limits 1..%u)",
			  m->cur.target,
			  (unsigned int)m->cur.conf->max_workers);
		return;
	}
	m->cur.target += delta;
	atomic_store(&m->shm.hdr->workers_expected, m->cur.target);
	pr_notice("worker count is now %u", m->cur.target);
	if (delta > 0) {
		srv_master_fill(m);
		return;
	}
	for (i = m->nkids; i-- > 0;) {
		if (m->kids[i].pid && !m->kids[i].retiring) {
			m->kids[i].retiring = true;
			kill(m->kids[i].pid, SIGTERM);
			return;
		}
	}
}

static void srv_master_reopen(struct srv_master *m)
{
	int err = log_reopen();

	if (err)
		pr_err_errno(err, "could not reopen the log");
	else
		pr_info("log reopened");
	srv_master_signal_all(m, SIGUSR1);
}

static void srv_master_on_signal(struct ev_loop *l, int fd, uint32_t events,
				 void *data)
{
	struct srv_master *m = data;
	struct signalfd_siginfo si;

	/* standard signals coalesce: read until EAGAIN */
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			srv_master_reap(m);
			break;
		case SIGTERM:
		case SIGINT:
		case SIGQUIT:
			srv_master_stop(m, (int)si.ssi_signo);
			break;
		case SIGHUP:
			srv_master_reload(m);
			break;
		case SIGUSR1:
			srv_master_reopen(m);
			break;
		case SIGTTIN:
			srv_master_resize(m, 1);
			break;
		case SIGTTOU:
			srv_master_resize(m, -1);
			break;
		}
	}
}

/* accept-queue depth of every TCP listener, every tick, into the segment */
static void srv_master_sample_listeners(struct srv_master *m)
{
	struct shm_listener *sl;
	struct tcp_info ti;
	socklen_t len;
	unsigned int i;

	for (i = 0; i < m->cur.nls && i < SHM_MAX_LISTENERS; i++) {
		len = sizeof(ti);
		sl = shm_listener(m->shm.hdr, i);
		if (m->cur.ls[i].cl->family == AF_UNIX || !sl ||
		    getsockopt(m->cur.ls[i].fd, IPPROTO_TCP, TCP_INFO, &ti,
			       &len) < 0)
			continue;
		/* on a listener, unacked is the queue, sacked its bound */
		shm_write_begin(&sl->seq);
		shm_set32(&sl->queue, ti.tcpi_unacked);
		if (ti.tcpi_unacked >
		    atomic_load_explicit(&sl->queue_max, memory_order_relaxed))
			shm_set32(&sl->queue_max, ti.tcpi_unacked);
		shm_set32(&sl->backlog, ti.tcpi_sacked);
		shm_write_end(&sl->seq);
	}
}

/* how long a worker's executor may stay busy before it is replaced */
static uint64_t srv_master_exec_limit(const struct conf *conf)
{
	uint64_t ms = 0;
	unsigned int i;

	for (i = 0; i < conf->ndbs; i++) {
		uint64_t t = conf->dbs[i].statement_timeout_ms +
			     conf->dbs[i].busy_timeout_ms;

		if (t > ms)
			ms = t;
	}
	return (ms + (uint64_t)conf->worker_timeout_s * 1000) * CLOCK_NS_PER_MS;
}

/* the first executor of slot @i busy since before @limit_ns ago, or -1 */
static int srv_master_stuck_exec(const struct srv_master *m, unsigned int i,
				 uint64_t now, uint64_t limit_ns)
{
	struct shm_exec *x;
	uint64_t since;
	unsigned int e;

	for (e = 0; e < SHM_MAX_EXECS; e++) {
		x = shm_exec(m->shm.hdr, i, e);
		since = x ? atomic_load(&x->busy_since_mono_ns) : 0;
		if (since && now > since && now - since > limit_ns)
			return (int)e;
	}
	return -1;
}

/*
 * A worker whose loop stopped turning (no heartbeat for worker_timeout_s)
 * or whose executor is stuck past statement_timeout + busy_timeout +
 * worker_timeout_s is killed; the reaper counts and replaces it.
 */
static void srv_master_watchdog(struct srv_master *m, uint64_t now)
{
	uint64_t hb_limit =
		(uint64_t)m->cur.conf->worker_timeout_s * CLOCK_NS_PER_S;
	uint64_t ex_limit = srv_master_exec_limit(m->cur.conf);
	struct shm_slot *sl;
	unsigned int i;
	uint64_t hb;
	int e;

	for (i = 0; i < m->nkids; i++) {
		if (!m->kids[i].pid || m->kids[i].retiring ||
		    !(sl = shm_slot(m->shm.hdr, i)) ||
		    atomic_load(&sl->state) != SHM_SLOT_READY)
			continue;
		hb = atomic_load(&sl->heartbeat_mono_ns);
		e = srv_master_stuck_exec(m, i, now, ex_limit);
		if (hb && now > hb && now - hb > hb_limit)
			pr_err("worker %u (pid %d): its event loop has stalled for %llu ms; killing it",
			       i, (int)m->kids[i].pid,
			       (unsigned long long)((now - hb) /
						    CLOCK_NS_PER_MS));
		else if (e >= 0)
			pr_err("worker %u (pid %d): executor %d is stuck past its limits; killing it",
			       i, (int)m->kids[i].pid, e);
		else
			continue;
		kill(m->kids[i].pid, SIGKILL);
	}
}

/* requests read and not yet answered, over every live worker */
static unsigned int srv_master_inflight(const struct srv_master *m)
{
	struct shm_slot *sl;
	unsigned int i, n = 0;

	for (i = 0; i < m->nkids; i++) {
		sl = m->kids[i].pid ? shm_slot(m->shm.hdr, i) : NULL;
		if (sl)
			n += atomic_load(&sl->inflight);
	}
	return n;
}

static void srv_master_on_tick(struct ev_loop *l, int fd, uint32_t events,
			       void *data)
{
	struct srv_master *m = data;
	uint64_t ticks, now = clock_mono_ns();
	unsigned int left;

	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	srv_master_sample_listeners(m);
	if (m->state == SRV_MASTER_RUNNING) {
		srv_master_watchdog(m, now);
		srv_master_reload_step(m);
		srv_master_fill(m);
		return;
	}
	if (m->state == SRV_MASTER_STOPPING && !m->term_sent &&
	    now >= m->term_at) {
		srv_master_signal_all(m, SIGTERM);
		m->term_sent = true;
		m->kill_at = now + m->cur.conf->shutdown.drain_timeout_ms *
					   CLOCK_NS_PER_MS;
	}
	left = srv_master_alive(m, true);
	if (m->kill_at && now >= m->kill_at && left) {
		pr_warn("drain timeout: killing %u workers; %u requests in flight are cut",
			left, srv_master_inflight(m));
		srv_master_signal_all(m, SIGKILL);
		m->kill_at = 0;
	}
	if (!left)
		ev_stop(&m->loop);
}

static int srv_master_signals(struct srv_master *m)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT,  SIGQUIT,
				    SIGHUP,  SIGUSR1, SIGTTIN, SIGTTOU };
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigset_t set;
	unsigned int i;

	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	m->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (m->sfd < 0)
		return -errno;
	return ev_add(&m->loop, m->sfd, EPOLLIN, srv_master_on_signal, m);
}

static int srv_master_timer(struct srv_master *m)
{
	struct itimerspec its = {
		.it_interval = { 0, SRV_MASTER_TICK_MS * 1000000L },
		.it_value = { 0, SRV_MASTER_TICK_MS * 1000000L },
	};

	m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->tfd < 0)
		return -errno;
	if (timerfd_settime(m->tfd, 0, &its, NULL) < 0)
		return -errno;
	return ev_add(&m->loop, m->tfd, EPOLLIN, srv_master_on_tick, m);
}

/* create the databases, apply the schemas, check every route */
static int srv_master_validate(const struct conf *conf)
{
	struct conf_errs errs = { 0 };
	unsigned int i;
	int err;

	if (!conf->ndbs)
		return 0;
	err = srv_validate(conf, SRV_VALIDATE_APPLY, &errs);
	for (i = 0; i < errs.n; i++)
		pr_err("%s:%d: %s", errs.v[i].file, errs.v[i].line,
		       errs.v[i].reason);
	conf_errs_destroy(&errs);
	if (err == -EINVAL)
		return SRV_EXIT_CONFIG;
	if (err) {
		pr_err_errno(err, "could not validate the configuration");
		return SRV_EXIT_RUNTIME;
	}
	pr_info("%u databases ready, %u routes", conf->ndbs, conf->nroutes);
	return 0;
}

/* a segment of that name exists: another live poold's, or stale */
static int srv_master_clear_segment(const char *name)
{
	struct shm_seg old;
	char why[256], comm[64] = "", path[64];
	pid_t pid = 0;
	FILE *f;

	if (shm_attach(&old, name, why, sizeof(why)) == 0) {
		pid = atomic_load(&old.hdr->master_pid);
		shm_detach(&old, false);
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (pid > 0 && pid != getpid() && kill(pid, 0) == 0 &&
	    (f = fopen(path, "re"))) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		if (!strncmp(comm, "poold", 5)) {
			pr_err("segment \"%s\" belongs to a running poold (pid %d)",
			       name, (int)pid);
			return -EBUSY;
		}
	}
	pr_notice("replacing the stale segment \"%s\"", name);
	return shm_unlink_stale(name);
}

/* databases and routes get their entries (stable across reloads) */
static int srv_master_register(struct srv_master *m)
{
	const struct conf *conf = m->cur.conf;
	struct shm_hdr *h = m->shm.hdr;
	struct stat st;
	char id[SHM_ROUTE_ID];
	unsigned int i;
	int idx;

	for (i = 0; i < conf->ndbs; i++) {
		if (stat(conf->dbs[i].path, &st) < 0)
			return -errno;
		idx = shm_db_register(h, conf->dbs[i].name, conf->dbs[i].path,
				      st.st_dev, st.st_ino);
		if (idx < 0)
			return idx;
		m->cur.cy.db_ids[i] = (uint32_t)idx;
	}
	for (i = 0; i < conf->nroutes; i++) {
		snprintf(id, sizeof(id), "%s %s", conf->routes[i].method,
			 conf->routes[i].path);
		idx = shm_route_register(h, id, false);
		if (idx < 0)
			return idx;
		m->cur.cy.route_ids[i] = (uint32_t)idx;
	}
	return 0;
}

static void srv_master_register_listeners(struct srv_master *m)
{
	struct shm_listener *sl;
	unsigned int i;

	for (i = 0; i < m->cur.nls && i < SHM_MAX_LISTENERS; i++) {
		sl = shm_listener(m->shm.hdr, i);
		shm_write_begin(&sl->seq);
		srv_listen_name(&m->cur.ls[i], sl->name, sizeof(sl->name));
		shm_set32(&sl->port, m->cur.ls[i].port);
		shm_set32(&sl->backlog, (uint32_t)m->cur.ls[i].backlog);
		shm_set32(&sl->status, m->cur.ls[i].status);
		shm_set32(&sl->open, 1);
		shm_write_end(&sl->seq);
	}
	atomic_store(&m->shm.hdr->nlisteners, m->cur.nls);
}

static int srv_master_segment(struct srv_master *m)
{
	const struct conf *conf = m->cur.conf;
	int err;

	if (conf->ndbs > SHM_MAX_DBS ||
	    conf->nroutes > SHM_MAX_ROUTES - SHM_ROUTE_FIRST) {
		pr_err("at most %d databases and %d routes", SHM_MAX_DBS,
		       SHM_MAX_ROUTES - SHM_ROUTE_FIRST);
		return SRV_EXIT_CONFIG;
	}
	m->cur.cy = (struct srv_cycle){ .conf = conf,
					.ls = m->cur.ls,
					.nls = m->cur.nls,
					.generation = m->cur.generation,
					.master_pid = getpid() };
	err = shm_create(&m->shm, conf->shm_name, conf->max_workers, 0640);
	if (err == -EEXIST) {
		err = srv_master_clear_segment(conf->shm_name);
		if (err == -EBUSY)
			return SRV_EXIT_RUNTIME;
		if (!err)
			err = shm_create(&m->shm, conf->shm_name,
					 conf->max_workers, 0640);
	}
	if (!err) {
		m->cur.cy.shm = m->shm.hdr;
		atomic_store(&m->shm.hdr->generation, m->cur.generation);
		err = srv_master_register(m);
	}
	if (err) {
		pr_err_errno(
			err,
			"could not set up the shared-memory segment \"%s\"",
			conf->shm_name);
		return SRV_EXIT_RUNTIME;
	}
	srv_master_register_listeners(m);
	return 0;
}

/* everything up to the first fork; 0, or the exit status on failure */
static int srv_master_start(struct srv_master *m, bool foreground)
{
	const struct conf *conf = m->cur.conf;
	pid_t owner;
	int err;

	log_level = (int)conf->log.level;
	err = log_open(conf->log.file);
	if (err) {
		pr_err_errno(err, "could not open log file \"%s\"",
			     conf->log.file);
		return SRV_EXIT_RUNTIME;
	}
	srv_master_rlimit(conf);
	m->pidfd = srv_pidfile_lock(conf->pidfile, &owner);
	if (m->pidfd == -EEXIST) {
		pr_err("poold is already running (pid %d, pidfile \"%s\")",
		       (int)owner, conf->pidfile);
		return SRV_EXIT_RUNTIME;
	}
	if (m->pidfd < 0) {
		pr_err_errno(m->pidfd, "could not open pidfile \"%s\"",
			     conf->pidfile);
		return SRV_EXIT_RUNTIME;
	}
	err = srv_master_validate(conf);
	if (err)
		return err;
	if (srv_master_bind(m) < 0)
		return SRV_EXIT_RUNTIME;
	if (!foreground && (err = srv_master_daemonize()) < 0) {
		pr_err_errno(err, "could not daemonize");
		return SRV_EXIT_RUNTIME;
	}
	err = srv_pidfile_write(m->pidfd, getpid());
	if (err) {
		pr_err_errno(err, "could not write pidfile \"%s\"",
			     conf->pidfile);
		return SRV_EXIT_RUNTIME;
	}
	err = srv_master_segment(m);
	if (err)
		return err;
	err = srv_master_drop_privileges(m);
	if (!err)
		err = ev_loop_init(&m->loop);
	if (!err)
		err = srv_master_signals(m);
	if (!err)
		err = srv_master_timer(m);
	if (err) {
		pr_err_errno(err, "could not start");
		return SRV_EXIT_RUNTIME;
	}
	return 0;
}

static void srv_master_destroy(struct srv_master *m)
{
	srv_gen_destroy(m, &m->next);
	srv_gen_destroy(m, &m->old);
	srv_master_unbind(m);
	if (m->sfd >= 0)
		close(m->sfd);
	if (m->tfd >= 0)
		close(m->tfd);
	ev_loop_destroy(&m->loop);
	if (m->shm.hdr) {
		atomic_store(&m->shm.hdr->master_pid, 0);
		shm_detach(&m->shm, true);
	}
	/* the pidfile goes last: while it is locked, we are running */
	if (m->pidfd >= 0)
		srv_pidfile_remove(m->pidfd, m->cur.conf->pidfile);
	free(m->kids);
	conf_destroy(m->cur.conf);
	free(m->cur.conf);
}

int srv_master_run(struct conf *conf, bool foreground)
{
	struct srv_master m = { .pidfd = -1, .sfd = -1, .tfd = -1 };
	int status;

	log_set_role("master");
	m.loop.epfd = -1;
	m.nkids = 2 * conf->max_workers + 2;
	m.kids = calloc(m.nkids, sizeof(*m.kids));
	m.cur.conf = conf;
	m.cur.generation = 1;
	m.cur.target = srv_master_target(conf);
	status = m.kids ? srv_master_start(&m, foreground) : SRV_EXIT_RUNTIME;
	if (status) {
		srv_master_destroy(&m);
		return status;
	}
	pr_notice("poold started: %u workers, pid %d", m.cur.target,
		  (int)getpid());
	atomic_store(&m.shm.hdr->workers_expected, m.cur.target);
	srv_master_fill(&m);
	atomic_store(&m.shm.hdr->state, SHM_STATE_RUNNING);
	status = ev_run(&m.loop);
	if (status < 0)
		pr_err_errno(status, "event loop failed");
	status = m.exit_status;
	/* logged before the pidfile goes: its removal says "stopped" */
	pr_notice("poold stopped");
	srv_master_destroy(&m);
	return status;
}
