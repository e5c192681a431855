/* SPDX-License-Identifier: MIT */
/*
 * ks_cond as the harnesses see it: its own table (a condition is used with a lock, which is a
 * struct ops of its own). wait's timeout is OPS_BLOCK or >= 0, as in ops.h; the lock is held
 * on entry and again on return.
 */
#ifndef KSYNC_TESTS_OPS_COND_H
#define KSYNC_TESTS_OPS_COND_H

#include <sched.h>

#include <ksync/cond.h>

#include "mutex.h"
#include "rmutex.h"

struct cond_ops {
	const char *name;
	unsigned caps;
	size_t size;
	const struct ops *lock;		/* the kind of lock wait() takes */
	void (*init)(void *c, unsigned flags);
	int (*wait)(void *c, void *lock, int64_t timeout_ns);
	void (*signal_n)(void *c, unsigned n);
	void (*broadcast)(void *c);
	void *(*futex_word)(void *c);
};

static inline void ops_cond_init(void *c, unsigned flags)
{
	ks_cond_init(c, flags);
}

static inline int ops_cond_wait(void *c, void *m, int64_t timeout_ns)
{
	if (timeout_ns == OPS_BLOCK)
		return ks_cond_wait((struct ks_cond *)c, (struct ks_mutex *)m);
	return ks_cond_wait_timeout((struct ks_cond *)c, (struct ks_mutex *)m, timeout_ns);
}

static inline int ops_cond_wait_rmutex(void *c, void *r, int64_t timeout_ns)
{
	if (timeout_ns == OPS_BLOCK)
		return ks_cond_wait((struct ks_cond *)c, (struct ks_rmutex *)r);
	return ks_cond_wait_timeout((struct ks_cond *)c, (struct ks_rmutex *)r, timeout_ns);
}

static inline void ops_cond_signal_n(void *c, unsigned n)
{
	ks_cond_signal_n(c, n);
}

static inline void ops_cond_broadcast(void *c)
{
	ks_cond_broadcast(c);
}

/* One of the two groups' sleep words, by turns (what a stray wake-up would hit). */
static inline void *ops_cond_word(void *c)
{
	return &((struct ks_cond *)c)->futex[ks_now_ns() >> 10 & 1];
}

static const struct cond_ops ops_cond __attribute__((unused)) = {
	.name = "cond",
	.caps = OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_cond),
	.lock = &ops_mutex,
	.init = ops_cond_init,
	.wait = ops_cond_wait,
	.signal_n = ops_cond_signal_n,
	.broadcast = ops_cond_broadcast,
	.futex_word = ops_cond_word,
};

static const struct cond_ops ops_cond_rmutex __attribute__((unused)) = {
	.name = "cond-rmutex",
	.caps = OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_cond),
	.lock = &ops_rmutex,
	.init = ops_cond_init,
	.wait = ops_cond_wait_rmutex,
	.signal_n = ops_cond_signal_n,
	.broadcast = ops_cond_broadcast,
	.futex_word = ops_cond_word,
};

/*
 * A condition used as a one-shot latch, as a struct ops (OPS_LATCH): the waiter waits under the
 * lock for a flag; the releaser sets the flag under the lock and notifies after unlocking, so
 * that the waiter may return and free the object while the notify is still running (what the
 * free-right-after-use harness needs). That is only sound for a waiter already inside its wait:
 * one that found the flag set without waiting could free the condition before the notify even
 * began, so the release first waits for the waiter to be in (holding the lock while `waiting`
 * says so proves it).
 */
struct ops_cond_latch {
	struct ks_cond c;
	struct ks_mutex m;
	atomic_bool set;
	atomic_bool waiting;	/* a waiter is in (or on its way into) the wait */
};

static inline int ops_cond_latch_init(void *obj, unsigned value, unsigned flags)
{
	struct ops_cond_latch *l = obj;

	(void)value;
	ks_cond_init(&l->c, flags);
	ks_mutex_init(&l->m, flags);
	atomic_init(&l->set, false);
	atomic_init(&l->waiting, false);
	return 0;
}

static inline int ops_cond_latch_acquire(void *obj, void *node, int64_t timeout_ns)
{
	struct ops_cond_latch *l = obj;
	int64_t end = ks_now_ns() + (timeout_ns > 0 ? timeout_ns : 0);
	bool set;

	(void)node;
	if (timeout_ns == OPS_TRY)
		return atomic_load(&l->set) ? 0 : -ETIMEDOUT;
	ks_mutex_lock(&l->m);
	atomic_store(&l->waiting, true);
	while (!(set = atomic_load(&l->set))) {
		int64_t left = end - ks_now_ns();

		if (timeout_ns == OPS_BLOCK)
			ks_cond_wait(&l->c, &l->m);
		else if (left > 0)
			ks_cond_wait_timeout(&l->c, &l->m, left);
		else
			break;
	}
	atomic_store(&l->waiting, false);
	ks_mutex_unlock(&l->m);
	return set ? 0 : -ETIMEDOUT;
}

static inline int ops_cond_latch_release(void *obj, void *node)
{
	struct ops_cond_latch *l = obj;

	(void)node;
	for (;;) {
		ks_mutex_lock(&l->m);
		if (atomic_load(&l->waiting))
			break;
		ks_mutex_unlock(&l->m);
		sched_yield();
	}
	atomic_store(&l->set, true);
	ks_mutex_unlock(&l->m);
	/* a notify without the lock: the waiter may free l before it returns */
	ks_cond_signal(&l->c);
	return 0;
}

static inline void ops_cond_latch_reset(void *obj)
{
	atomic_store(&((struct ops_cond_latch *)obj)->set, false);
}

static inline bool ops_cond_latch_busy(const void *obj)
{
	return !atomic_load(&((struct ops_cond_latch *)obj)->set);
}

/* The waiter is inside the wait once it has set `waiting` and the lock is free again. */
static inline bool ops_cond_latch_contended(const void *obj)
{
	struct ops_cond_latch *l = (struct ops_cond_latch *)obj;

	return atomic_load(&l->waiting) && !ks_mutex_is_locked(&l->m);
}

static inline void *ops_cond_latch_word(void *obj)
{
	return ops_cond_word(&((struct ops_cond_latch *)obj)->c);
}

static const struct ops ops_cond_latch __attribute__((unused)) = {
	.name = "cond-latch",
	.caps = OPS_LATCH | OPS_TIMED | OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ops_cond_latch),
	.init = ops_cond_latch_init,
	.acquire = ops_cond_latch_acquire,
	.release = ops_cond_latch_release,
	.reset = ops_cond_latch_reset,
	.busy = ops_cond_latch_busy,
	.contended = ops_cond_latch_contended,
	.futex_word = ops_cond_latch_word,
};

#endif /* KSYNC_TESTS_OPS_COND_H */
