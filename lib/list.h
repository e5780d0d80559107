/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lib/list.h - intrusive circular doubly-linked lists, as in the kernel
 *
 * Embed a struct list_head in the element, link it into a head, and get
 * the element back with list_entry().  All operations are O(1) and never
 * allocate.  Not thread-safe: a list belongs to one thread.
 */
#ifndef LIB_LIST_H
#define LIB_LIST_H

#include <stdbool.h>

#include "lib/util.h"

struct list_head {
	struct list_head *next; /* borrowed */
	struct list_head *prev; /* borrowed */
};

static inline void list_init(struct list_head *h)
{
	h->next = h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

/* unlink @n and leave it pointing to itself (list_empty(n) is true) */
static inline void list_del_init(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

#define list_for_each_safe(pos, tmp, head)                       \
	for (pos = (head)->next, tmp = pos->next; pos != (head); \
	     pos = tmp, tmp = pos->next)

#endif /* LIB_LIST_H */
