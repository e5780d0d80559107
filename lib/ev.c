// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib/ev.c - epoll event loop with an fd-indexed table and a timer heap
 *
 * Each registration stores (fd, generation) in the epoll data.  When a
 * callback closes a descriptor and the number is reused at once (accept
 * in the same batch), an event still pending for the old registration
 * carries the old generation and is dropped instead of reaching the new
 * owner.
 */
#include "lib/ev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/util.h"

#define EV_BATCH 256

int ev_loop_init(struct ev_loop *l)
{
	int err;

	*l = (struct ev_loop){ .epfd = -1 };
	err = timer_heap_init(&l->timers);
	if (err)
		return err;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		err = -errno;
		goto err_timers;
	}
	l->now = clock_mono_ns();
	return 0;

err_timers:
	timer_heap_destroy(&l->timers);
	return err;
}

void ev_loop_destroy(struct ev_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->fds);
	timer_heap_destroy(&l->timers);
	*l = (struct ev_loop){ .epfd = -1 };
}

static int ev_reserve(struct ev_loop *l, int fd)
{
	unsigned int n = l->nfds ? l->nfds : 256;
	struct ev_fd *fds;

	if ((unsigned int)fd < l->nfds)
		return 0;
	while (n <= (unsigned int)fd)
		n *= 2;
	fds = realloc(l->fds, n * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	memset(fds + l->nfds, 0, (n - l->nfds) * sizeof(*fds));
	l->fds = fds;
	l->nfds = n;
	return 0;
}

static uint64_t ev_key(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

int ev_add(struct ev_loop *l, int fd, uint32_t events, ev_fn *fn, void *data)
{
	struct epoll_event ev = { .events = events };
	struct ev_fd *e;
	int err;

	if (fd < 0)
		return -EBADF;
	err = ev_reserve(l, fd);
	if (err)
		return err;
	e = &l->fds[fd];
	ev.data.u64 = ev_key(fd, ++l->gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	*e = (struct ev_fd){
		.fn = fn, .data = data, .events = events, .gen = l->gen
	};
	return 0;
}

bool ev_is_watched(const struct ev_loop *l, int fd)
{
	return fd >= 0 && (unsigned int)fd < l->nfds && l->fds[fd].fn;
}

int ev_mod(struct ev_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	struct ev_fd *e;

	if (!ev_is_watched(l, fd))
		return -ENOENT;
	e = &l->fds[fd];
	if (e->events == events)
		return 0;
	ev.data.u64 = ev_key(fd, e->gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	e->events = events;
	return 0;
}

int ev_del(struct ev_loop *l, int fd)
{
	int err = 0;

	if (!ev_is_watched(l, fd))
		return -ENOENT;
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
		err = -errno;
	l->fds[fd].fn = NULL;
	l->fds[fd].data = NULL;
	return err;
}

void ev_stop(struct ev_loop *l)
{
	l->stop = true;
}

static void ev_dispatch(struct ev_loop *l, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct ev_fd *e;

	if (!ev_is_watched(l, fd))
		return;
	e = &l->fds[fd];
	if (e->gen != gen)
		return; /* stale: the fd was closed and reused this batch */
	e->fn(l, fd, ev->events, e->data);
}

int ev_run(struct ev_loop *l)
{
	struct epoll_event evs[EV_BATCH];
	int i, n, timeout;

	l->stop = false;
	while (!l->stop) {
		if (l->before_sleep)
			l->before_sleep(l, l->before_sleep_data);
		if (l->stop)
			break;
		l->now = clock_mono_ns();
		timeout = timer_heap_timeout_ms(&l->timers, l->now);
		n = epoll_wait(l->epfd, evs, ARRAY_SIZE(evs), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->now = clock_mono_ns();
		for (i = 0; i < n; i++)
			ev_dispatch(l, &evs[i]);
		timer_heap_run(&l->timers, l->now);
	}
	return 0;
}
