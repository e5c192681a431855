/* SPDX-License-Identifier: MIT */
/* ks_rmutex as the harnesses see it (conventions in ops.h): acquire re-enters for its owner. */
#ifndef KSYNC_TESTS_OPS_RMUTEX_H
#define KSYNC_TESTS_OPS_RMUTEX_H

#include <ksync/rmutex.h>

#include "ops.h"

static inline int ops_rmutex_init(void *r, unsigned value, unsigned flags)
{
	(void)value;
	ks_rmutex_init(r, flags);
	return 0;
}

static inline int ops_rmutex_acquire(void *r, void *node, int64_t timeout_ns)
{
	(void)node;
	if (timeout_ns == OPS_TRY)
		return ks_rmutex_trylock(r) ? 0 : -ETIMEDOUT;
	if (timeout_ns == OPS_BLOCK)
		return ks_rmutex_lock(r);
	return ks_rmutex_lock_timeout(r, timeout_ns);
}

static inline int ops_rmutex_release(void *r, void *node)
{
	(void)node;
	return ks_rmutex_unlock(r);
}

static inline bool ops_rmutex_busy(const void *r)
{
	return ks_mutex_is_locked(&((const struct ks_rmutex *)r)->lock);
}

static inline bool ops_rmutex_contended(const void *r)
{
	return atomic_load(&((struct ks_rmutex *)r)->lock.state) == KS_MUTEX_CONTENDED;
}

static inline void *ops_rmutex_word(void *r)
{
	return &((struct ks_rmutex *)r)->lock.state;
}

static const struct ops ops_rmutex __attribute__((unused)) = {
	.name = "rmutex",
	.caps = OPS_EXCLUSIVE | OPS_RECURSIVE | OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_rmutex),
	.init = ops_rmutex_init,
	.acquire = ops_rmutex_acquire,
	.release = ops_rmutex_release,
	.busy = ops_rmutex_busy,
	.contended = ops_rmutex_contended,
	.futex_word = ops_rmutex_word,
};

#endif /* KSYNC_TESTS_OPS_RMUTEX_H */
