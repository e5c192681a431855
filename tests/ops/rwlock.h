/* SPDX-License-Identifier: MIT */
/*
 * ks_rwlock as the harnesses see it (conventions in ops.h): acquire and release are the writer's
 * calls, acquire_shared and release_shared the readers'.
 */
#ifndef KSYNC_TESTS_OPS_RWLOCK_H
#define KSYNC_TESTS_OPS_RWLOCK_H

#include <ksync/rwlock.h>

#include "ops.h"

static inline int ops_rwlock_init(void *rw, unsigned value, unsigned flags)
{
	(void)value;
	ks_rwlock_init(rw, flags);
	return 0;
}

static inline int ops_rwlock_acquire(void *rw, void *node, int64_t timeout_ns)
{
	(void)node;
	if (timeout_ns == OPS_TRY)
		return ks_rwlock_write_trylock(rw) ? 0 : -ETIMEDOUT;
	if (timeout_ns == OPS_BLOCK) {
		ks_rwlock_write_lock(rw);
		return 0;
	}
	return ks_rwlock_write_lock_timeout(rw, timeout_ns);
}

static inline int ops_rwlock_release(void *rw, void *node)
{
	(void)node;
	return ks_rwlock_write_unlock(rw);
}

static inline int ops_rwlock_acquire_shared(void *rw, int64_t timeout_ns)
{
	if (timeout_ns == OPS_TRY)
		return ks_rwlock_read_trylock(rw) ? 0 : -ETIMEDOUT;
	if (timeout_ns == OPS_BLOCK)
		return ks_rwlock_read_lock(rw);
	return ks_rwlock_read_lock_timeout(rw, timeout_ns);
}

static inline int ops_rwlock_release_shared(void *rw)
{
	return ks_rwlock_read_unlock(rw);
}

static inline int ops_rwlock_downgrade(void *rw)
{
	return ks_rwlock_downgrade(rw);
}

static inline bool ops_rwlock_busy(const void *rw)
{
	return ks_rwlock_is_write_locked(rw);
}

/* A writer has registered: it holds new readers back, and the last reader's unlock wakes it. */
static inline bool ops_rwlock_contended(const void *rw)
{
	return atomic_load(&((struct ks_rwlock *)rw)->state) & KS_RWLOCK_WRITERS_WAITING;
}

static inline void *ops_rwlock_word(void *rw)
{
	return &((struct ks_rwlock *)rw)->state;
}

static const struct ops ops_rwlock __attribute__((unused)) = {
	.name = "rwlock",
	.caps = OPS_EXCLUSIVE | OPS_READERS | OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_rwlock),
	.init = ops_rwlock_init,
	.acquire = ops_rwlock_acquire,
	.release = ops_rwlock_release,
	.acquire_shared = ops_rwlock_acquire_shared,
	.release_shared = ops_rwlock_release_shared,
	.downgrade = ops_rwlock_downgrade,
	.busy = ops_rwlock_busy,
	.contended = ops_rwlock_contended,
	.futex_word = ops_rwlock_word,
};

#endif /* KSYNC_TESTS_OPS_RWLOCK_H */
