/* SPDX-License-Identifier: MIT */
/*
 * ks_ring_spsc_try: ksync's SPSC ring through its lock-free try calls, yielding while full or
 * empty, exactly as the ck_ring shims drive Concurrency Kit's ring: the like-for-like comparison
 * (ks_ring_spsc uses the blocking calls, which pay a fence per operation to park on a futex).
 */
#include <sched.h>

#include <ksync/ring.h>

struct ks_ring_try_with_slots {
	struct ks_ring ring;
	void *slot[KB_RING_SLOTS];
};

static inline void ks_ring_try_put(struct ks_ring *r, void *item)
{
	while (!ks_ring_try_push(r, item))
		sched_yield();
}

static inline void *ks_ring_try_get(struct ks_ring *r)
{
	void *item;

	while (!ks_ring_try_pop(r, &item))
		sched_yield();
	return item;
}

#define RING_NAME		"ks_ring_spsc_try"
#define RING_ORIGIN		"ksync"
#define RING_BASELINE		"pthread_monitor"
#define RING_SPSC
#define RING_TYPE		struct ks_ring_try_with_slots
#define RING_INIT(r, n)		ks_ring_init(&(r)->ring, (r)->slot, (n), KS_RING_SPSC)
#define RING_PUT(r, item)	ks_ring_try_put(&(r)->ring, (item))
#define RING_GET(r)		ks_ring_try_get(&(r)->ring)
