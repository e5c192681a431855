/* SPDX-License-Identifier: MIT */
/*
 * ks_barrier as the harnesses see it: its own table. wait's timeout is OPS_BLOCK or >= 0, as in
 * ops.h; it returns the arrival index, -EPIPE or -ETIMEDOUT.
 */
#ifndef KSYNC_TESTS_OPS_BARRIER_H
#define KSYNC_TESTS_OPS_BARRIER_H

#include <ksync/barrier.h>

#include "ops.h"

struct barrier_ops {
	const char *name;
	unsigned caps;
	size_t size;
	int (*init)(void *b, unsigned parties, int (*action)(void *), void *arg, unsigned flags);
	int (*wait)(void *b, int64_t timeout_ns);
	void (*abort)(void *b);
	void (*reset)(void *b);
	bool (*broken)(const void *b);
	void *(*futex_word)(void *b);
};

static inline int ops_barrier_init(void *b, unsigned parties, int (*action)(void *), void *arg,
				   unsigned flags)
{
	return ks_barrier_init(b, parties, action, arg, flags);
}

static inline int ops_barrier_wait(void *b, int64_t timeout_ns)
{
	if (timeout_ns == OPS_BLOCK)
		return ks_barrier_wait(b);
	return ks_barrier_wait_timeout(b, timeout_ns);
}

static inline void ops_barrier_abort(void *b)
{
	ks_barrier_abort(b);
}

static inline void ops_barrier_reset(void *b)
{
	ks_barrier_reset(b);
}

static inline bool ops_barrier_broken(const void *b)
{
	return ks_barrier_broken(b);
}

static inline void *ops_barrier_word(void *b)
{
	return &((struct ks_barrier *)b)->core.seq;
}

/* Until n parties wait at the barrier (a test's way to know they have all arrived). */
static inline void ops_barrier_until_waiting(struct ks_barrier *b, unsigned n)
{
	while (ks_barrier_n_waiting(b) < n)
		tap_sleep_ms(1);
}

static const struct barrier_ops ops_barrier __attribute__((unused)) = {
	.name = "barrier",
	.caps = OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_barrier),
	.init = ops_barrier_init,
	.wait = ops_barrier_wait,
	.abort = ops_barrier_abort,
	.reset = ops_barrier_reset,
	.broken = ops_barrier_broken,
	.futex_word = ops_barrier_word,
};

#endif /* KSYNC_TESTS_OPS_BARRIER_H */
