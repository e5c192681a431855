/* SPDX-License-Identifier: MIT */
/* ks_ring_spsc: ksync's single-producer single-consumer ring (Lamport, cached indices). */
#include <ksync/ring.h>

struct ks_ring_with_slots {
	struct ks_ring ring;
	void *slot[KB_RING_SLOTS];
};

#define RING_NAME		"ks_ring_spsc"
#define RING_ORIGIN		"ksync"
#define RING_BASELINE		"pthread_monitor"
#define RING_SPSC
#define RING_TYPE		struct ks_ring_with_slots
#define RING_INIT(r, n)		ks_ring_init(&(r)->ring, (r)->slot, (n), KS_RING_SPSC)
#define RING_PUT(r, item)	ks_ring_push(&(r)->ring, (item))
#define RING_GET(r)		ks_ring_pop(&(r)->ring)
