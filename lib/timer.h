/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/timer.h - a binary min-heap of deadlines
 *
 * Timers are intrusive: the owner embeds a struct timer (a connection has
 * one) and the heap stores pointers to them, each timer remembering its
 * index, so add, remove and re-arm are O(log n) and finding the next
 * deadline is O(1).  Nothing ever scans all connections.
 *
 * One heap belongs to one thread (a worker's event loop).
 */
#ifndef LIB_TIMER_H
#define LIB_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct timer;
typedef void timer_fn(struct timer *t);

struct timer {
	uint64_t deadline; /* CLOCK_MONOTONIC ns */
	uint32_t idx;	   /* position in the heap; TIMER_IDLE when not armed */
	timer_fn *fn;	   /* borrowed: called when the deadline passes */
};

#define TIMER_IDLE UINT32_MAX

struct timer_heap {
	struct timer **v; /* owned array of borrowed timers */
	uint32_t n;
	uint32_t cap;
};

void timer_init(struct timer *t, timer_fn *fn);

static inline bool timer_is_armed(const struct timer *t)
{
	return t->idx != TIMER_IDLE;
}

int timer_heap_init(struct timer_heap *h);
void timer_heap_destroy(struct timer_heap *h);

/**
 * timer_arm - (re)arm @t to fire at @deadline
 *
 * Moves an armed timer, inserts an idle one.  Returns 0 or -ENOMEM (the
 * timer is then left idle).
 */
int timer_arm(struct timer_heap *h, struct timer *t, uint64_t deadline);

/* disarm @t if it is armed */
void timer_cancel(struct timer_heap *h, struct timer *t);

/* the earliest armed timer, or NULL */
static inline struct timer *timer_heap_peek(const struct timer_heap *h)
{
	return h->n ? h->v[0] : NULL;
}

/*
 * timer_heap_run - fire every timer whose deadline is <= @now, earliest
 * first; each is disarmed before its function runs, which may re-arm it.
 * Returns the number fired.
 */
unsigned int timer_heap_run(struct timer_heap *h, uint64_t now);

/* ms until the earliest deadline (rounded up), -1 when none: for epoll */
int timer_heap_timeout_ms(const struct timer_heap *h, uint64_t now);

#endif /* LIB_TIMER_H */
