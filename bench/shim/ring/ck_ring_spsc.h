/* SPDX-License-Identifier: MIT */
/*
 * ck_ring_spsc: Concurrency Kit's ring with its single-producer single-consumer operations,
 * yielding while full or empty (ck_ring has no blocking calls) — the peer of ks_ring_spsc_try.
 */
#include <ck_ring.h>
#include <sched.h>

struct ck_ring_spsc_with_buffer {
	struct ck_ring ring;
	struct ck_ring_buffer buffer[KB_RING_SLOTS];
};

static inline void ck_ring_spsc_put(struct ck_ring_spsc_with_buffer *r, void *item)
{
	while (!ck_ring_enqueue_spsc(&r->ring, r->buffer, item))
		sched_yield();
}

static inline void *ck_ring_spsc_get(struct ck_ring_spsc_with_buffer *r)
{
	void *item;

	while (!ck_ring_dequeue_spsc(&r->ring, r->buffer, &item))
		sched_yield();
	return item;
}

#define RING_NAME		"ck_ring_spsc"
#define RING_ORIGIN		"ck"
#define RING_SPSC
#define RING_TYPE		struct ck_ring_spsc_with_buffer
#define RING_INIT(r, n)		ck_ring_init(&(r)->ring, (n))
#define RING_PUT(r, item)	ck_ring_spsc_put((r), (item))
#define RING_GET(r)		ck_ring_spsc_get(r)
