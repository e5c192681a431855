/* SPDX-License-Identifier: MIT */
/*
 * ks_mcs_lock as the harnesses see it (conventions in ops.h): each thread brings its own queue
 * node, no timed form, never sleeps.
 */
#ifndef KSYNC_TESTS_OPS_MCS_H
#define KSYNC_TESTS_OPS_MCS_H

#include <ksync/mcs.h>

#include "ops.h"

static inline int ops_mcs_init(void *l, unsigned value, unsigned flags)
{
	(void)value;
	ks_mcs_init(l, flags);
	return 0;
}

static inline int ops_mcs_acquire(void *l, void *node, int64_t timeout_ns)
{
	if (timeout_ns != OPS_BLOCK)
		return ks_mcs_trylock(l, node) ? 0 : -ETIMEDOUT;
	ks_mcs_lock(l, node);
	return 0;
}

static inline int ops_mcs_release(void *l, void *node)
{
	return ks_mcs_unlock(l, node);
}

static inline bool ops_mcs_busy(const void *l)
{
	return ks_mcs_is_locked(l);
}

static const struct ops ops_mcs __attribute__((unused)) = {
	.name = "mcs",
	.caps = OPS_EXCLUSIVE | OPS_SHARED,
	.size = sizeof(struct ks_mcs),
	.node_size = sizeof(struct ks_mcs_node),
	.init = ops_mcs_init,
	.acquire = ops_mcs_acquire,
	.release = ops_mcs_release,
	.busy = ops_mcs_busy,
};

#endif /* KSYNC_TESTS_OPS_MCS_H */
