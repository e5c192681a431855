/* SPDX-License-Identifier: MIT */
/*
 * ks_ring as the harnesses see it: its own table, one per kind (MPMC, SPSC). push and pop take
 * the item by address (read by push, written by pop), so that both are tap_wait_item_fn calls;
 * their timeout follows ops.h: OPS_BLOCK the blocking call, OPS_TRY the bare lock-free try
 * (which neither sleeps nor wakes), >= 0 the timed call (0: try once, and wake).
 */
#ifndef KSYNC_TESTS_OPS_RING_H
#define KSYNC_TESTS_OPS_RING_H

#include <ksync/ring.h>

#include "ops.h"

enum {
	OPS_RING_SINGLE = 1u << 16,	/* one producer and one consumer at a time (SPSC) */
};

struct ring_ops {
	const char *name;
	unsigned caps;
	unsigned kind;			/* KS_RING_MPMC or KS_RING_SPSC */
	/* storage of ks_ring_storage_size(capacity, kind) bytes; flags: 0 or KS_SHARED */
	int (*init)(void *r, void *storage, size_t capacity, unsigned flags);
	int (*push)(void *r, void **item, int64_t timeout_ns);
	int (*pop)(void *r, void **item, int64_t timeout_ns);
	size_t (*count)(const void *r);
};

static inline int ops_ring_mpmc_init(void *r, void *storage, size_t capacity, unsigned flags)
{
	return ks_ring_init(r, storage, capacity, flags | KS_RING_MPMC);
}

static inline int ops_ring_spsc_init(void *r, void *storage, size_t capacity, unsigned flags)
{
	return ks_ring_init(r, storage, capacity, flags | KS_RING_SPSC);
}

static inline int ops_ring_push(void *r, void **item, int64_t timeout_ns)
{
	if (timeout_ns == OPS_TRY)
		return ks_ring_try_push(r, *item) ? 0 : -ETIMEDOUT;
	if (timeout_ns == OPS_BLOCK) {
		ks_ring_push(r, *item);
		return 0;
	}
	return ks_ring_push_timeout(r, *item, timeout_ns);
}

static inline int ops_ring_pop(void *r, void **item, int64_t timeout_ns)
{
	if (timeout_ns == OPS_TRY)
		return ks_ring_try_pop(r, item) ? 0 : -ETIMEDOUT;
	if (timeout_ns == OPS_BLOCK) {
		*item = ks_ring_pop(r);
		return 0;
	}
	return ks_ring_pop_timeout(r, item, timeout_ns);
}

static inline size_t ops_ring_count(const void *r)
{
	return ks_ring_count(r);
}

static const struct ring_ops ops_ring_mpmc __attribute__((unused)) = {
	.name = "ring-mpmc",
	.caps = OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.kind = KS_RING_MPMC,
	.init = ops_ring_mpmc_init,
	.push = ops_ring_push,
	.pop = ops_ring_pop,
	.count = ops_ring_count,
};

static const struct ring_ops ops_ring_spsc __attribute__((unused)) = {
	.name = "ring-spsc",
	.caps = OPS_TIMED | OPS_SLEEPS | OPS_SHARED | OPS_RING_SINGLE,
	.kind = KS_RING_SPSC,
	.init = ops_ring_spsc_init,
	.push = ops_ring_push,
	.pop = ops_ring_pop,
	.count = ops_ring_count,
};

#endif /* KSYNC_TESTS_OPS_RING_H */
