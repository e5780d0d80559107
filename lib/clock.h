/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/clock.h - monotonic and wall-clock time in nanoseconds
 *
 * Durations, deadlines and ages use CLOCK_MONOTONIC; timestamps meant for
 * people (logs, Date headers, the segment's start times) use CLOCK_REALTIME.
 * Safe in any thread and process.
 */
#ifndef LIB_CLOCK_H
#define LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_MS UINT64_C(1000000)
#define CLOCK_NS_PER_S UINT64_C(1000000000)

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC, for durations and deadlines */
static inline uint64_t clock_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CLOCK_REALTIME, for timestamps */
static inline uint64_t clock_real_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

#endif /* LIB_CLOCK_H */
