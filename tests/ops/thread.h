/* SPDX-License-Identifier: MIT */
/*
 * ks_thread as the harnesses see it: its own table. join's timeout is OPS_BLOCK or >= 0, as in
 * ops.h (OPS_BLOCK: ks_thread_join, else ks_thread_join_timeout).
 */
#ifndef KSYNC_TESTS_OPS_THREAD_H
#define KSYNC_TESTS_OPS_THREAD_H

#include <ksync/thread.h>

#include "ops.h"

struct thread_ops {
	const char *name;
	unsigned caps;
	size_t size;		/* of the thread object; zeroed before start */
	int (*start)(void *t, void *(*fn)(void *), void *arg);
	int (*join)(void *t, int64_t timeout_ns, void **ret);
	bool (*is_alive)(const void *t);
};

static inline int ops_thread_start(void *t, void *(*fn)(void *), void *arg)
{
	return ks_thread_start(t, fn, arg);
}

static inline int ops_thread_join(void *t, int64_t timeout_ns, void **ret)
{
	if (timeout_ns == OPS_BLOCK)
		return ks_thread_join(t, ret);
	return ks_thread_join_timeout(t, ret, timeout_ns);
}

static inline bool ops_thread_is_alive(const void *t)
{
	return ks_thread_is_alive(t);
}

static const struct thread_ops ops_thread __attribute__((unused)) = {
	.name = "thread",
	.caps = OPS_TIMED | OPS_SLEEPS,
	.size = sizeof(struct ks_thread),
	.start = ops_thread_start,
	.join = ops_thread_join,
	.is_alive = ops_thread_is_alive,
};

#endif /* KSYNC_TESTS_OPS_THREAD_H */
