/* SPDX-License-Identifier: MIT */
/* ks_spinlock as the harnesses see it (conventions in ops.h): no timed form, never sleeps. */
#ifndef KSYNC_TESTS_OPS_SPINLOCK_H
#define KSYNC_TESTS_OPS_SPINLOCK_H

#include <ksync/spinlock.h>

#include "ops.h"

static inline int ops_spinlock_init(void *l, unsigned value, unsigned flags)
{
	(void)value;
	ks_spinlock_init(l, flags);
	return 0;
}

static inline int ops_spinlock_acquire(void *l, void *node, int64_t timeout_ns)
{
	(void)node;
	if (timeout_ns != OPS_BLOCK)
		return ks_spinlock_trylock(l) ? 0 : -ETIMEDOUT;
	ks_spinlock_lock(l);
	return 0;
}

static inline int ops_spinlock_release(void *l, void *node)
{
	(void)node;
	return ks_spinlock_unlock(l);
}

static inline bool ops_spinlock_busy(const void *l)
{
	return ks_spinlock_is_locked(l);
}

static const struct ops ops_spinlock __attribute__((unused)) = {
	.name = "spinlock",
	.caps = OPS_EXCLUSIVE | OPS_SHARED,
	.size = sizeof(struct ks_spinlock),
	.init = ops_spinlock_init,
	.acquire = ops_spinlock_acquire,
	.release = ops_spinlock_release,
	.busy = ops_spinlock_busy,
};

#endif /* KSYNC_TESTS_OPS_SPINLOCK_H */
