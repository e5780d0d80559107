/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/util.h - small macros used everywhere; no functions, no state */
#ifndef LIB_UTIL_H
#define LIB_UTIL_H

#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#endif /* LIB_UTIL_H */
