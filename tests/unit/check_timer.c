// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_timer.c - the timer heap: order, cancel, re-arm, and
 * the heap invariant after thousands of random operations
 */
#include <stdlib.h>

#include <check.h>

#include "lib/timer.h"
#include "lib/util.h"
#include "tests/unit/suites.h"

static unsigned int fired_n;
static uint64_t fired_at[64];

static void on_fire(struct timer *t)
{
	if (fired_n < ARRAY_SIZE(fired_at))
		fired_at[fired_n] = t->deadline;
	fired_n++;
}

static void check_invariant(const struct timer_heap *h)
{
	uint32_t i;

	for (i = 0; i < h->n; i++) {
		ck_assert_uint_eq(h->v[i]->idx, i);
		if (i)
			ck_assert_uint_le(h->v[(i - 1) / 2]->deadline,
					  h->v[i]->deadline);
	}
}

START_TEST(test_timer_fires_in_order)
{
	static const uint64_t d[] = { 50, 10, 40, 30, 20, 60 };
	struct timer t[ARRAY_SIZE(d)];
	struct timer_heap h;
	unsigned int i;

	ck_assert_int_eq(timer_heap_init(&h), 0);
	for (i = 0; i < ARRAY_SIZE(d); i++) {
		timer_init(&t[i], on_fire);
		ck_assert_int_eq(timer_arm(&h, &t[i], d[i]), 0);
	}
	fired_n = 0;
	ck_assert_uint_eq(timer_heap_run(&h, 35), 3);
	ck_assert_uint_eq(fired_at[0], 10);
	ck_assert_uint_eq(fired_at[1], 20);
	ck_assert_uint_eq(fired_at[2], 30);
	ck_assert(!timer_is_armed(&t[1]));
	ck_assert(timer_is_armed(&t[0]));
	ck_assert_uint_eq(timer_heap_peek(&h)->deadline, 40);
	timer_heap_destroy(&h);
}
END_TEST

START_TEST(test_timer_cancel_and_rearm)
{
	struct timer a, b, c;
	struct timer_heap h;

	ck_assert_int_eq(timer_heap_init(&h), 0);
	timer_init(&a, on_fire);
	timer_init(&b, on_fire);
	timer_init(&c, on_fire);
	timer_arm(&h, &a, 100);
	timer_arm(&h, &b, 200);
	timer_arm(&h, &c, 300);
	timer_cancel(&h, &a);
	timer_cancel(&h, &a); /* twice is harmless */
	ck_assert_uint_eq(h.n, 2);
	ck_assert_ptr_eq(timer_heap_peek(&h), &b);
	timer_arm(&h, &c, 50); /* earlier */
	ck_assert_ptr_eq(timer_heap_peek(&h), &c);
	timer_arm(&h, &c, 500); /* later */
	ck_assert_ptr_eq(timer_heap_peek(&h), &b);
	check_invariant(&h);
	fired_n = 0;
	timer_heap_run(&h, 1000);
	ck_assert_uint_eq(fired_n, 2);
	ck_assert_uint_eq(h.n, 0);
	timer_heap_destroy(&h);
}
END_TEST

START_TEST(test_timer_timeout_ms)
{
	struct timer_heap h;
	struct timer a;

	ck_assert_int_eq(timer_heap_init(&h), 0);
	ck_assert_int_eq(timer_heap_timeout_ms(&h, 0), -1);
	timer_init(&a, on_fire);
	timer_arm(&h, &a, 2500000);			   /* 2.5 ms */
	ck_assert_int_eq(timer_heap_timeout_ms(&h, 0), 3); /* rounded up */
	ck_assert_int_eq(timer_heap_timeout_ms(&h, 2500000), 0);
	ck_assert_int_eq(timer_heap_timeout_ms(&h, 9000000), 0);
	timer_heap_destroy(&h);
	ck_assert(!timer_is_armed(&a));
}
END_TEST

START_TEST(test_timer_random_ops)
{
	enum { N = 2000 };
	static struct timer t[N];
	struct timer_heap h;
	uint64_t last = 0;
	unsigned int i, k;

	srand(42);
	ck_assert_int_eq(timer_heap_init(&h), 0);
	for (i = 0; i < N; i++)
		timer_init(&t[i], on_fire);
	for (k = 0; k < 20000; k++) {
		i = (unsigned int)rand() % N;
		if (rand() % 3)
			ck_assert_int_eq(timer_arm(&h, &t[i],
						   (uint64_t)(rand() % 100000)),
					 0);
		else
			timer_cancel(&h, &t[i]);
		if (k % 1000 == 0)
			check_invariant(&h);
	}
	check_invariant(&h);
	/* popping everything yields non-decreasing deadlines */
	while (h.n) {
		struct timer *top = timer_heap_peek(&h);

		ck_assert_uint_ge(top->deadline, last);
		last = top->deadline;
		timer_cancel(&h, top);
	}
	timer_heap_destroy(&h);
}
END_TEST

Suite *timer_suite(void)
{
	Suite *s = suite_create("timer");
	TCase *tc = tcase_create("heap");

	tcase_add_test(tc, test_timer_fires_in_order);
	tcase_add_test(tc, test_timer_cancel_and_rearm);
	tcase_add_test(tc, test_timer_timeout_ms);
	tcase_add_test(tc, test_timer_random_ops);
	suite_add_tcase(s, tc);
	return s;
}
