/* SPDX-License-Identifier: MIT */
/*
 * ck_ring: Concurrency Kit's MPMC ring. It never blocks, so a full or empty ring is waited out
 * by retrying, with sched_yield() between tries (spinning alone would starve the other side
 * whenever threads outnumber CPUs).
 */
#include <ck_ring.h>
#include <sched.h>

struct ck_ring_with_buffer {
	struct ck_ring ring;
	struct ck_ring_buffer buffer[KB_RING_SLOTS];
};

static inline void ck_ring_put(struct ck_ring_with_buffer *r, void *item)
{
	while (!ck_ring_enqueue_mpmc(&r->ring, r->buffer, item))
		sched_yield();
}

static inline void *ck_ring_get(struct ck_ring_with_buffer *r)
{
	void *item;

	while (!ck_ring_dequeue_mpmc(&r->ring, r->buffer, &item))
		sched_yield();
	return item;
}

#define RING_NAME		"ck_ring"
#define RING_ORIGIN		"ck"
#define RING_TYPE		struct ck_ring_with_buffer
#define RING_INIT(r, n)		ck_ring_init(&(r)->ring, (n))
#define RING_PUT(r, item)	ck_ring_put((r), (item))
#define RING_GET(r)		ck_ring_get(r)
