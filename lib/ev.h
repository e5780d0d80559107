/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/ev.h - the event loop: epoll, an fd-indexed table, and timers
 *
 * Shaped like Redis's ae: register a callback per file descriptor, run
 * until stopped.  Timers come from lib/timer.h and are fired after the
 * I/O events of each iteration; the epoll timeout is the next deadline.
 * A callback may add, change or delete any descriptor, including its own
 * and ones with events still pending in the same batch: stale events are
 * recognised by a per-registration generation and dropped.
 *
 * One loop belongs to one thread.
 */
#ifndef LIB_EV_H
#define LIB_EV_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/timer.h"

struct ev_loop;
typedef void ev_fn(struct ev_loop *loop, int fd, uint32_t events, void *data);
typedef void ev_hook_fn(struct ev_loop *loop, void *data);

struct ev_fd {
	ev_fn *fn;	 /* borrowed; NULL = not registered */
	void *data;	 /* borrowed */
	uint32_t events; /* as given to epoll */
	uint32_t gen;	 /* bumped on every registration */
};

struct ev_loop {
	int epfd;
	struct ev_fd *fds; /* owned: indexed by fd */
	unsigned int nfds; /* capacity of fds */
	uint32_t gen;
	struct timer_heap timers;
	uint64_t now; /* CLOCK_MONOTONIC ns, updated each wake-up */
	bool stop;
	ev_hook_fn *before_sleep; /* borrowed: runs before each wait */
	void *before_sleep_data;  /* borrowed */
};

/* Returns 0 or a negative errno; @l is then safe for ev_loop_destroy(). */
int ev_loop_init(struct ev_loop *l);
void ev_loop_destroy(struct ev_loop *l);

/*
 * ev_add - watch @fd for @events (EPOLLIN, EPOLLOUT, EPOLLEXCLUSIVE, ...)
 * Returns 0 or a negative errno.
 */
int ev_add(struct ev_loop *l, int fd, uint32_t events, ev_fn *fn, void *data);

/* change the events of a registered @fd; 0 or a negative errno */
int ev_mod(struct ev_loop *l, int fd, uint32_t events);

/* stop watching @fd (before closing it); 0 or a negative errno */
int ev_del(struct ev_loop *l, int fd);

/* true if @fd is registered */
bool ev_is_watched(const struct ev_loop *l, int fd);

/*
 * ev_run - dispatch events and timers until ev_stop()
 * Returns 0, or a negative errno if epoll_wait fails.
 */
int ev_run(struct ev_loop *l);

void ev_stop(struct ev_loop *l);

#endif /* LIB_EV_H */
