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
 * The lock may be a struct ks_mutex * or a struct ks_rmutex * (chosen by _Generic in C, by
 * overloading in C++). With an rmutex the whole recursion depth is given up while waiting and
 * restored afterwards.
 */
#ifndef KSYNC_COND_H
#define KSYNC_COND_H

#include <ksync/common.h>
#include <ksync/mutex.h>
#include <ksync/rmutex.h>

KS_BEGIN_DECLS

struct ks_cond {
	KS_ATOMIC(uint32_t) seq;
	KS_ATOMIC(uint32_t) nwaiters;
	uint32_t flags;
};

#define KS_COND_INIT { 0, 0, 0 }

void ks_cond_init(struct ks_cond *c, unsigned flags);

int ks_cond_wait_mutex(struct ks_cond *c, struct ks_mutex *m);
int ks_cond_wait_rmutex(struct ks_cond *c, struct ks_rmutex *r);
int ks_cond_wait_timeout_mutex(struct ks_cond *c, struct ks_mutex *m, int64_t timeout_ns);
int ks_cond_wait_timeout_rmutex(struct ks_cond *c, struct ks_rmutex *r, int64_t timeout_ns);
void ks__cond_wake(struct ks_cond *c, int n);

#ifndef __cplusplus
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
#endif

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

/*
 * ks_cond_wait_event_timeout()'s deadline: now + timeout_ns on CLOCK_MONOTONIC, saturating, in
 * *end; 0, or -EINVAL for a negative timeout.
 */
static inline int ks__cond_event_deadline(int64_t timeout_ns, int64_t *end)
{
	int64_t now = ks_now_ns();

	*end = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
	return timeout_ns < 0 ? -EINVAL : 0;
}

/*
 * What a wait inside ks_cond_wait_event_timeout() leaves to do: a timed-out wait still has the
 * predicate evaluated once more (the last evaluation decides), so -ETIMEDOUT means go on; any
 * other error ends the loop.
 */
static inline int ks__cond_event_waited(int err)
{
	return err == -ETIMEDOUT ? 0 : err;
}

#ifndef __cplusplus
/*
 * The kernel's wait_event / Python's wait_for: waits until expr is true, re-evaluating it (with
 * the lock held) after every wake-up. 0, or the wait's error (-EPERM) rather than a hang.
 */
#define ks_cond_wait_event(c, lock, expr)					\
	__extension__ ({							\
		int ks__err = 0;						\
		while (!ks__err && !(expr))					\
			ks__err = ks_cond_wait((c), (lock));			\
		ks__err;							\
	})

/*
 * As above with one deadline, fixed before the first evaluation: 0 if expr became true,
 * -ETIMEDOUT if the deadline passed first (the last evaluation decides, as in Python), -EPERM
 * if the lock is not held; -EINVAL for a negative timeout, expr not evaluated. 0 ns evaluates
 * expr once.
 */
#define ks_cond_wait_event_timeout(c, lock, expr, timeout_ns)			\
	__extension__ ({							\
		int64_t ks__end, ks__left;					\
		int ks__err = ks__cond_event_deadline((timeout_ns), &ks__end);	\
		while (!ks__err && !(expr)) {					\
			ks__left = ks__end - ks_now_ns();			\
			ks__err = ks__left <= 0 ? -ETIMEDOUT :			\
				  ks__cond_event_waited(			\
					ks_cond_wait_timeout((c), (lock), ks__left)); \
		}								\
		ks__err;							\
	})
#endif

KS_END_DECLS

#ifdef __cplusplus
/*
 * C++: overloads instead of _Generic, and the predicate as a lambda instead of a statement
 * expression; the same calls and results as in C.
 */
static inline int ks_cond_wait(struct ks_cond *c, struct ks_mutex *m)
{
	return ks_cond_wait_mutex(c, m);
}

static inline int ks_cond_wait(struct ks_cond *c, struct ks_rmutex *r)
{
	return ks_cond_wait_rmutex(c, r);
}

static inline int ks_cond_wait_timeout(struct ks_cond *c, struct ks_mutex *m, int64_t timeout_ns)
{
	return ks_cond_wait_timeout_mutex(c, m, timeout_ns);
}

static inline int ks_cond_wait_timeout(struct ks_cond *c, struct ks_rmutex *r, int64_t timeout_ns)
{
	return ks_cond_wait_timeout_rmutex(c, r, timeout_ns);
}

template <class Lock, class Pred>
static inline int ks__cond_wait_event(struct ks_cond *c, Lock *lock, Pred pred)
{
	int err = 0;

	while (!err && !pred())
		err = ks_cond_wait(c, lock);
	return err;
}

template <class Lock, class Pred>
static inline int ks__cond_wait_event_timeout(struct ks_cond *c, Lock *lock, Pred pred,
					      int64_t timeout_ns)
{
	int64_t end, left;
	int err = ks__cond_event_deadline(timeout_ns, &end);

	while (!err && !pred()) {
		left = end - ks_now_ns();
		err = left <= 0 ? -ETIMEDOUT
				: ks__cond_event_waited(ks_cond_wait_timeout(c, lock, left));
	}
	return err;
}

#define ks_cond_wait_event(c, lock, expr)					\
	ks__cond_wait_event((c), (lock), [&]() -> bool { return (expr); })
#define ks_cond_wait_event_timeout(c, lock, expr, timeout_ns)			\
	ks__cond_wait_event_timeout((c), (lock), [&]() -> bool { return (expr); }, (timeout_ns))
#endif /* __cplusplus */

#endif /* KSYNC_COND_H */
