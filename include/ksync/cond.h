/* SPDX-License-Identifier: MIT */
/*
 * struct ks_cond — Python's threading.Condition, kernel wait_event style, on a sequence word.
 *
 *	seq		the futex word; every signal/broadcast bumps it (by 1, wrapping)
 *	nwaiters	threads between "registered" (before they release the lock) and "left"
 *
 * A waiter registers, reads seq, releases the lock, and sleeps only while seq still holds what
 * it read: a notify that comes after the release changes seq first, so it is never lost (the
 * kernel re-reads seq under its own lock before queueing the waiter). A notifier that sees no
 * registered waiter does nothing at all: no store, no system call. It reads nwaiters before its
 * bump of seq, because after the bump a waiter may return and free the condition (glibc bug
 * 13690's pattern); from then on it uses the object's address only. See docs/cond.md.
 *
 * The lock may be a struct ks_mutex * or a struct ks_rmutex * (chosen by _Generic). With an
 * rmutex the whole recursion depth is given up while waiting and restored afterwards.
 */
#ifndef KSYNC_COND_H
#define KSYNC_COND_H

#include <ksync/common.h>
#include <ksync/mutex.h>
#include <ksync/rmutex.h>

struct ks_cond {
	_Atomic uint32_t seq;
	_Atomic uint32_t nwaiters;
	uint32_t flags;
};

#define KS_COND_INIT { .seq = 0, .nwaiters = 0, .flags = 0 }

void ks_cond_init(struct ks_cond *c, unsigned flags);

int ks_cond_wait_mutex(struct ks_cond *c, struct ks_mutex *m);
int ks_cond_wait_rmutex(struct ks_cond *c, struct ks_rmutex *r);
int ks_cond_wait_timeout_mutex(struct ks_cond *c, struct ks_mutex *m, int64_t timeout_ns);
int ks_cond_wait_timeout_rmutex(struct ks_cond *c, struct ks_rmutex *r, int64_t timeout_ns);
void ks__cond_wake(struct ks_cond *c, int n);

/* 0; -EPERM if the lock is not held (an rmutex: not owned by the caller). */
#define ks_cond_wait(c, lock)							\
	_Generic((lock),							\
		struct ks_mutex *: ks_cond_wait_mutex,				\
		struct ks_rmutex *: ks_cond_wait_rmutex)((c), (lock))

/* 0 or -ETIMEDOUT, the lock held again either way; -EPERM, -EINVAL as above. */
#define ks_cond_wait_timeout(c, lock, timeout_ns)				\
	_Generic((lock),							\
		struct ks_mutex *: ks_cond_wait_timeout_mutex,			\
		struct ks_rmutex *: ks_cond_wait_timeout_rmutex)((c), (lock), (timeout_ns))

/* Wakes up to n waiters (0: none). Lock held or not. */
static inline void ks_cond_signal_n(struct ks_cond *c, unsigned n)
{
	/* relaxed: a waiter that matters registered before releasing the lock the notifier
	 * took since (or is concurrent, and may be ordered after this notify) */
	if (atomic_load_explicit(&c->nwaiters, memory_order_relaxed) && n)
		ks__cond_wake(c, n > INT32_MAX ? INT32_MAX : (int)n);
}

static inline void ks_cond_signal(struct ks_cond *c)
{
	ks_cond_signal_n(c, 1);
}

static inline void ks_cond_broadcast(struct ks_cond *c)
{
	ks_cond_signal_n(c, INT32_MAX);
}

/* now + timeout_ns on CLOCK_MONOTONIC, saturating; a negative timeout counts as 0. */
static inline int64_t ks__deadline_ns(int64_t timeout_ns)
{
	int64_t now = ks_now_ns();

	if (timeout_ns < 0)
		return now;
	return timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
}

/*
 * The kernel's wait_event / Python's wait_for: waits until expr is true, re-evaluating it (with
 * the lock held) after every wake-up. 0, or the wait's error (-EPERM) rather than a hang.
 */
#define ks_cond_wait_event(c, lock, expr)					\
	({									\
		int ks__err = 0;						\
		while (!(expr)) {						\
			ks__err = ks_cond_wait((c), (lock));			\
			if (ks__err)						\
				break;						\
		}								\
		ks__err;							\
	})

/*
 * As above with one deadline, fixed before the first evaluation: true if expr became true,
 * false if the deadline passed first. The last evaluation decides, as in Python.
 */
#define ks_cond_wait_event_timeout(c, lock, expr, timeout_ns)			\
	({									\
		int64_t ks__end = ks__deadline_ns(timeout_ns);			\
		bool ks__ok;							\
		while (!(ks__ok = (expr))) {					\
			int64_t ks__left = ks__end - ks_now_ns();		\
			if (ks__left <= 0 ||					\
			    ks_cond_wait_timeout((c), (lock), ks__left) == -EPERM) \
				break;						\
		}								\
		ks__ok;								\
	})

#endif /* KSYNC_COND_H */
