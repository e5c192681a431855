/* SPDX-License-Identifier: MIT */
/*
 * ks_sem as the harnesses see it (conventions in ops.h): acquire is down, release is up; the
 * bounded table makes a BoundedSemaphore (KS_BOUNDED) of the same calls.
 */
#ifndef KSYNC_TESTS_OPS_SEM_H
#define KSYNC_TESTS_OPS_SEM_H

#include <ksync/sem.h>

#include "ops.h"

static inline int ops_sem_init(void *s, unsigned value, unsigned flags)
{
	return ks_sem_init(s, value, flags);
}

static inline int ops_bounded_sem_init(void *s, unsigned value, unsigned flags)
{
	return ks_sem_init(s, value, flags | KS_BOUNDED);
}

static inline int ops_sem_acquire(void *s, void *node, int64_t timeout_ns)
{
	(void)node;
	if (timeout_ns == OPS_TRY)
		return ks_sem_trydown(s) ? 0 : -ETIMEDOUT;
	if (timeout_ns == OPS_BLOCK) {
		ks_sem_down(s);
		return 0;
	}
	return ks_sem_down_timeout(s, timeout_ns);
}

static inline int ops_sem_release(void *s, void *node)
{
	(void)node;
	return ks_sem_up(s);
}

static inline unsigned ops_sem_value(const void *s)
{
	return ks_sem_value(s);
}

static inline bool ops_sem_busy(const void *s)
{
	return ks_sem_value(s) == 0;
}

static inline bool ops_sem_contended(const void *s)
{
	return atomic_load(&((struct ks_sem *)s)->word) >> KS_SEM_WAITER_SHIFT;
}

static inline void *ops_sem_word(void *s)
{
	return ks__sem_futex(s);
}

static const struct ops ops_sem __attribute__((unused)) = {
	.name = "sem",
	.caps = OPS_TOKENS | OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_sem),
	.init = ops_sem_init,
	.acquire = ops_sem_acquire,
	.release = ops_sem_release,
	.value = ops_sem_value,
	.busy = ops_sem_busy,
	.contended = ops_sem_contended,
	.futex_word = ops_sem_word,
};

static const struct ops ops_bounded_sem __attribute__((unused)) = {
	.name = "bounded-sem",
	.caps = OPS_TOKENS | OPS_BOUNDED | OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_sem),
	.init = ops_bounded_sem_init,
	.acquire = ops_sem_acquire,
	.release = ops_sem_release,
	.value = ops_sem_value,
	.busy = ops_sem_busy,
	.contended = ops_sem_contended,
	.futex_word = ops_sem_word,
};

#endif /* KSYNC_TESTS_OPS_SEM_H */
