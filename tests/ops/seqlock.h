/* SPDX-License-Identifier: MIT */
/*
 * ks_seqlock as the harnesses see it (conventions in ops.h): acquire and release are the
 * writer's lock (a ks_mutex inside, so no timed form), read_begin and read_retry the readers'.
 */
#ifndef KSYNC_TESTS_OPS_SEQLOCK_H
#define KSYNC_TESTS_OPS_SEQLOCK_H

#include <ksync/seqlock.h>

#include "ops.h"

static inline int ops_seqlock_init(void *sl, unsigned value, unsigned flags)
{
	(void)value;
	ks_seqlock_init(sl, flags);
	return 0;
}

static inline int ops_seqlock_acquire(void *sl, void *node, int64_t timeout_ns)
{
	(void)node;
	if (timeout_ns != OPS_BLOCK)
		return ks_seqlock_write_trylock(sl) ? 0 : -ETIMEDOUT;
	ks_seqlock_write_lock(sl);
	return 0;
}

static inline int ops_seqlock_release(void *sl, void *node)
{
	(void)node;
	return ks_seqlock_write_unlock(sl);
}

static inline uint32_t ops_seqlock_read_begin(const void *sl)
{
	return ks_seqlock_read_begin(sl);
}

static inline bool ops_seqlock_read_retry(const void *sl, uint32_t start)
{
	return ks_seqlock_read_retry(sl, start);
}

static inline bool ops_seqlock_busy(const void *sl)
{
	return ks_mutex_is_locked(&((const struct ks_seqlock *)sl)->lock);
}

static const struct ops ops_seqlock __attribute__((unused)) = {
	.name = "seqlock",
	.caps = OPS_EXCLUSIVE | OPS_OPTIMISTIC | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_seqlock),
	.init = ops_seqlock_init,
	.acquire = ops_seqlock_acquire,
	.release = ops_seqlock_release,
	.read_begin = ops_seqlock_read_begin,
	.read_retry = ops_seqlock_read_retry,
	.busy = ops_seqlock_busy,
};

#endif /* KSYNC_TESTS_OPS_SEQLOCK_H */
