/* SPDX-License-Identifier: MIT */
/* ck_centralized: Concurrency Kit's centralized sense-reversing barrier; it spins, never sleeps. */
#include <ck_barrier.h>

#define BARRIER_NAME		"ck_centralized"
#define BARRIER_ORIGIN		"ck"
#define BARRIER_TYPE		ck_barrier_centralized_t
#define BARRIER_SELF_TYPE	ck_barrier_centralized_state_t
#define BARRIER_INIT(b, n)	(*(b) = (ck_barrier_centralized_t)CK_BARRIER_CENTRALIZED_INITIALIZER)
#define BARRIER_WAIT(b, self, n)	ck_barrier_centralized((b), (self), (n))
