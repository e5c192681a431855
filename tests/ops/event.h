/* SPDX-License-Identifier: MIT */
/* ks_event as the harnesses see it (conventions in ops.h): acquire waits, release sets. */
#ifndef KSYNC_TESTS_OPS_EVENT_H
#define KSYNC_TESTS_OPS_EVENT_H

#include <ksync/event.h>

#include "ops.h"

static inline int ops_event_init(void *e, unsigned value, unsigned flags)
{
	(void)value;
	ks_event_init(e, flags);
	return 0;
}

static inline int ops_event_acquire(void *e, void *node, int64_t timeout_ns)
{
	(void)node;
	if (timeout_ns == OPS_TRY)
		return ks_event_is_set(e) ? 0 : -ETIMEDOUT;
	if (timeout_ns == OPS_BLOCK) {
		ks_event_wait(e);
		return 0;
	}
	return ks_event_wait_timeout(e, timeout_ns);
}

static inline int ops_event_release(void *e, void *node)
{
	(void)node;
	ks_event_set(e);
	return 0;
}

static inline void ops_event_reset(void *e)
{
	ks_event_clear(e);
}

static inline bool ops_event_busy(const void *e)
{
	return !ks_event_is_set(e);
}

static inline bool ops_event_contended(const void *e)
{
	return atomic_load(&((struct ks_event *)e)->word) & KS_EVENT_WAITERS;
}

static inline void *ops_event_word(void *e)
{
	return &((struct ks_event *)e)->word;
}

static const struct ops ops_event __attribute__((unused)) = {
	.name = "event",
	.caps = OPS_LATCH | OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_event),
	.init = ops_event_init,
	.acquire = ops_event_acquire,
	.release = ops_event_release,
	.reset = ops_event_reset,
	.busy = ops_event_busy,
	.contended = ops_event_contended,
	.futex_word = ops_event_word,
};

#endif /* KSYNC_TESTS_OPS_EVENT_H */
