/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/worker.h - one worker process: accept, serve, drain
 *
 * A worker is forked by the master with the listening sockets open.  It
 * builds its own epoll loop, signalfd and timers, accepts with
 * EPOLLEXCLUSIVE + accept4, and serves connections until SIGTERM (drain,
 * then exit 0) or SIGQUIT (exit at once).  Exit status 2 means "cannot
 * start": the master stops respawning that generation.
 *
 * Everything here runs on the worker's loop thread.
 */
#ifndef SERVER_WORKER_H
#define SERVER_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/ev.h"
#include "lib/list.h"
#include "lib/timer.h"
#include "server/dbpool.h"
#include "server/route.h"

struct conf;
struct srv_cycle;
struct srv_listener;
struct shm_snap;

#define SRV_WORKER_EXIT_FATAL 2

struct srv_worker {
	const struct srv_cycle *cy; /* borrowed: the generation's cycle */
	const struct conf *conf;    /* borrowed: the generation's config */
	struct srv_listener *ls;    /* borrowed from the master */
	unsigned int nls;
	unsigned int index; /* worker number, for logs */
	uint32_t generation;
	pid_t master_pid;

	struct ev_loop loop;
	int sfd;		/* signalfd: SIGTERM, SIGQUIT, SIGUSR1 */
	struct list_head conns; /* every open connection */
	struct list_head dead;	/* closed, freed before the next wait */
	unsigned int nconns;
	bool accepting;		   /* listeners registered in epoll */
	bool draining;		   /* SIGTERM received */
	unsigned int accepts;	   /* since the listeners were last re-added */
	struct timer accept_retry; /* after EMFILE/ENFILE */
	struct srv_routes routes;  /* owned: compiled at start */
	struct srv_dbpool *pools;  /* owned: one per database */
	unsigned int npools;	   /* started */
	struct srv_done done;	   /* owned: finished jobs come back here */
	struct timer upkeep;	   /* every SRV_WORKER_UPKEEP_MS */
	struct shm_slot *slot;	   /* borrowed: ours in the segment, or NULL */
	unsigned int nstate[8];	   /* connections by enum srv_conn_state */
	struct shm_snap *snap;	   /* owned: for /metrics, made on first use */
};

/**
 * srv_worker_main - run a worker in the child after fork(); never returns
 * @cy:        the cycle (borrowed, inherited across fork)
 * @index:     this worker's slot in the segment and its number in logs
 * @close_fds: descriptors of the master to close (-1 entries ignored)
 * @nclose:    their number
 */
void srv_worker_main(const struct srv_cycle *cy, unsigned int index,
		     const int *close_fds, unsigned int nclose)
	__attribute__((noreturn));

/* stop accepting for a while (EMFILE) or for good (drain) */
void srv_worker_pause_accept(struct srv_worker *w);

/* accept again, unless draining or at max_connections */
void srv_worker_resume_accept(struct srv_worker *w);

static inline bool srv_worker_is_draining(const struct srv_worker *w)
{
	return w->draining;
}

#endif /* SERVER_WORKER_H */
