/* SPDX-License-Identifier: MIT */
/* ks_ring: ksync's lock-free MPMC ring (Vyukov), with its blocking push and pop. */
#include <ksync/ring.h>

struct ks_ring_with_cells {
	struct ks_ring ring;
	struct ks_ring_cell cell[KB_RING_SLOTS];
};

#define RING_NAME		"ks_ring"
#define RING_ORIGIN		"ksync"
#define RING_BASELINE		"pthread_monitor"
#define RING_TYPE		struct ks_ring_with_cells
#define RING_INIT(r, n)		ks_ring_init(&(r)->ring, (r)->cell, (n), KS_RING_MPMC)
#define RING_PUT(r, item)	ks_ring_push(&(r)->ring, (item))
#define RING_GET(r)		ks_ring_pop(&(r)->ring)
