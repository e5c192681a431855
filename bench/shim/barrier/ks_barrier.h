/* SPDX-License-Identifier: MIT */
/* ks_barrier: ksync's barrier (spin, then futex). */
#include <ksync/barrier.h>

#define BARRIER_NAME		"ks_barrier"
#define BARRIER_ORIGIN		"ksync"
#define BARRIER_BASELINE	"pthread_barrier"
#define BARRIER_TYPE		struct ks_barrier
#define BARRIER_INIT(b, n)	ks_barrier_init((b), (n), NULL, NULL, 0)
#define BARRIER_WAIT(b, self, n)	ks_barrier_wait(b)
