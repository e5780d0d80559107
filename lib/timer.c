// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib/timer.c - binary min-heap of intrusive timers
 *
 * The heap is an array of timer pointers ordered by deadline; each timer
 * keeps its own index, updated on every move, so a timer can be removed or
 * re-armed from anywhere in O(log n).  Re-arming (the common case: a
 * keep-alive connection pushing its deadline forward) sifts in place
 * instead of removing and inserting.
 */
#include "lib/timer.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "lib/clock.h"

void timer_init(struct timer *t, timer_fn *fn)
{
	t->deadline = 0;
	t->idx = TIMER_IDLE;
	t->fn = fn;
}

int timer_heap_init(struct timer_heap *h)
{
	h->cap = 64;
	h->n = 0;
	h->v = calloc(h->cap, sizeof(*h->v));
	return h->v ? 0 : -ENOMEM;
}

void timer_heap_destroy(struct timer_heap *h)
{
	uint32_t i;

	for (i = 0; i < h->n; i++)
		h->v[i]->idx = TIMER_IDLE;
	free(h->v);
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
}

static void timer_heap_place(struct timer_heap *h, struct timer *t, uint32_t i)
{
	h->v[i] = t;
	t->idx = i;
}

static void timer_heap_up(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->v[i];
	uint32_t parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (h->v[parent]->deadline <= t->deadline)
			break;
		timer_heap_place(h, h->v[parent], i);
		i = parent;
	}
	timer_heap_place(h, t, i);
}

static void timer_heap_down(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->v[i];
	uint32_t child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= h->n)
			break;
		if (child + 1 < h->n &&
		    h->v[child + 1]->deadline < h->v[child]->deadline)
			child++;
		if (t->deadline <= h->v[child]->deadline)
			break;
		timer_heap_place(h, h->v[child], i);
		i = child;
	}
	timer_heap_place(h, t, i);
}

static int timer_heap_grow(struct timer_heap *h)
{
	struct timer **v;
	uint32_t cap = h->cap ? h->cap * 2 : 64;

	v = realloc(h->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	h->cap = cap;
	return 0;
}

int timer_arm(struct timer_heap *h, struct timer *t, uint64_t deadline)
{
	uint64_t old = t->deadline;

	t->deadline = deadline;
	if (timer_is_armed(t)) {
		if (deadline < old)
			timer_heap_up(h, t->idx);
		else
			timer_heap_down(h, t->idx);
		return 0;
	}
	if (h->n == h->cap && timer_heap_grow(h) < 0)
		return -ENOMEM;
	timer_heap_place(h, t, h->n++);
	timer_heap_up(h, t->idx);
	return 0;
}

void timer_cancel(struct timer_heap *h, struct timer *t)
{
	uint32_t i = t->idx;
	struct timer *last;

	if (!timer_is_armed(t))
		return;
	t->idx = TIMER_IDLE;
	last = h->v[--h->n];
	if (i == h->n)
		return;
	timer_heap_place(h, last, i);
	if (i > 0 && h->v[(i - 1) / 2]->deadline > last->deadline)
		timer_heap_up(h, i);
	else
		timer_heap_down(h, i);
}

unsigned int timer_heap_run(struct timer_heap *h, uint64_t now)
{
	unsigned int fired = 0;
	struct timer *t;

	while ((t = timer_heap_peek(h)) && t->deadline <= now) {
		timer_cancel(h, t);
		fired++;
		t->fn(t);
	}
	return fired;
}

int timer_heap_timeout_ms(const struct timer_heap *h, uint64_t now)
{
	const struct timer *t = timer_heap_peek(h);
	uint64_t ms;

	if (!t)
		return -1;
	if (t->deadline <= now)
		return 0;
	ms = (t->deadline - now + CLOCK_NS_PER_MS - 1) / CLOCK_NS_PER_MS;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}
