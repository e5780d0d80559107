/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * server/cycle.h - what one configuration generation runs with
 *
 * The master builds a cycle from a loaded configuration: its listeners,
 * the shared-memory segment, and where each database and route lives in
 * that segment.  Workers inherit it across fork() and only read it; a
 * reload builds a new cycle and never changes an old one.
 */
#ifndef SERVER_CYCLE_H
#define SERVER_CYCLE_H

#include <stdint.h>
#include <sys/types.h>

#include "shm/poold_shm.h"

struct conf;
struct srv_listener;

struct srv_cycle {
	const struct conf *conf; /* borrowed */
	struct srv_listener *ls; /* borrowed: the master's */
	unsigned int nls;
	struct shm_hdr *shm;	      /* borrowed: the mapping, NULL = none */
	uint32_t db_ids[SHM_MAX_DBS]; /* conf database -> segment entry */
	uint32_t route_ids[SHM_MAX_ROUTES]; /* conf route -> segment route id */
	uint32_t generation;
	pid_t master_pid;
};

#endif /* SERVER_CYCLE_H */
