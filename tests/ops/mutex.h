/* SPDX-License-Identifier: MIT */
/* ks_mutex as the harnesses see it (conventions in ops.h). */
#ifndef KSYNC_TESTS_OPS_MUTEX_H
#define KSYNC_TESTS_OPS_MUTEX_H

#include <ksync/mutex.h>

#include "ops.h"

static inline int ops_mutex_init(void *m, unsigned value, unsigned flags)
{
	(void)value;
	ks_mutex_init(m, flags);
	return 0;
}

static inline int ops_mutex_acquire(void *m, void *node, int64_t timeout_ns)
{
	(void)node;
	if (timeout_ns == OPS_TRY)
		return ks_mutex_trylock(m) ? 0 : -ETIMEDOUT;
	if (timeout_ns == OPS_BLOCK) {
		ks_mutex_lock(m);
		return 0;
	}
	return ks_mutex_lock_timeout(m, timeout_ns);
}

static inline int ops_mutex_release(void *m, void *node)
{
	(void)node;
	return ks_mutex_unlock(m);
}

static inline bool ops_mutex_busy(const void *m)
{
	return ks_mutex_is_locked(m);
}

static inline bool ops_mutex_contended(const void *m)
{
	return atomic_load(&((struct ks_mutex *)m)->state) == KS_MUTEX_CONTENDED;
}

static inline void *ops_mutex_word(void *m)
{
	return &((struct ks_mutex *)m)->state;
}

static const struct ops ops_mutex __attribute__((unused)) = {
	.name = "mutex",
	.caps = OPS_EXCLUSIVE | OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_mutex),
	.init = ops_mutex_init,
	.acquire = ops_mutex_acquire,
	.release = ops_mutex_release,
	.busy = ops_mutex_busy,
	.contended = ops_mutex_contended,
	.futex_word = ops_mutex_word,
};

#endif /* KSYNC_TESTS_OPS_MUTEX_H */
