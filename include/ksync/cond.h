/* SPDX-License-Identifier: MIT */
/*
 * struct ks_cond — Python's threading.Condition, kernel wait_event style: notify(n) ends at most
 * n waits, only waits that began before it, and never a wait for nothing.
 *
 * Waiters join groups. G2 collects the waiters that arrived since the last notify that needed
 * it; a notify signals G1's waiters first and, once every G1 waiter has been signaled, closes
 * G1 and turns G2 into the new G1. So a notify only ever signals waiters that were already
 * waiting when it came. The groups alternate between two slots, each with its own futex word,
 * so a wake-up meant for G1 can never be taken by a G2 waiter, whatever the kernel's queue
 * order (a SCHED_FIFO late-comer included). A signal is a count in G1 that a waiter consumes
 * under the condition's small internal lock; a waiter whose group was closed knows it was
 * signaled from the group generation alone.
 *
 *	word		bit 0 LOCKED, bit 1 CONTENDED (someone sleeps on the internal lock), bit 2
 *			SHARED (KS_SHARED), bits 3..31: waiters not yet signaled (G1's + G2's). A
 *			notify that reads 0 there does nothing at all: no store, no system call.
 *	futex[2]	one sleep word per group slot; bumped by every notify that signals its group
 *	sleepers[2]	threads that may sleep on futex[i] (the notify's wake count)
 *	g1_unsignaled	G1 waiters not yet signaled
 *	g1_signals	signals given to G1 and not yet consumed
 *	g2_size		G2 waiters
 *	g1_gen		G1's generation (64 bits: never wraps); G2 is g1_gen + 1, slot = gen & 1
 *
 * Everything but `word` and `futex` is read and written under the internal lock only. A notify
 * releases that lock and wakes the sleepers it signaled in one FUTEX_WAKE_OP, and both sides'
 * last access to the condition is their release of the lock (glibc bug 13690's pattern). No
 * pointers: the condition works in MAP_SHARED memory. 40 bytes, so it fits in a pthread_cond_t
 * with room to spare. See docs/cond.md.
 *
 * The lock may be a struct ks_mutex *, a struct ks_rmutex *, a struct ks_robust_mutex * or a
 * struct ks_pi_mutex * (chosen by _Generic in C, by overloading in C++); with an rmutex the
 * whole recursion depth is given up while waiting and restored afterwards. Any other lock type
 * waits through ks_cond_wait_lock() with a table of two operations.
 */
#ifndef KSYNC_COND_H
#define KSYNC_COND_H

#include <time.h>

#include <ksync/common.h>
#include <ksync/mutex.h>
#include <ksync/pi_mutex.h>
#include <ksync/rmutex.h>
#include <ksync/robust_mutex.h>

KS_BEGIN_DECLS

struct ks_cond {
	KS_ATOMIC(uint32_t) word;
	KS_ATOMIC(uint32_t) futex[2];
	uint32_t sleepers[2];
	uint32_t g1_unsignaled;
	uint32_t g1_signals;
	uint32_t g2_size;
	uint64_t g1_gen;
};

#define KS_COND_LOCKED		0x1u
#define KS_COND_CONTENDED	0x2u
#define KS_COND_SHARED		0x4u
#define KS_COND_WAITER_ONE	0x8u	/* one waiter not yet signaled, in `word` */

#define KS_COND_INIT { 0, { 0, 0 }, { 0, 0 }, 0, 0, 0, 0 }

void ks_cond_init(struct ks_cond *c, unsigned flags);

/*
 * A lock the condition can wait with: `release` gives it up entirely (every recursion level),
 * saving what `reacquire` needs to take it back as it was, or returns a negative errno (-EPERM:
 * not held by the caller) and changes nothing; `reacquire` takes it back and returns 0, or an
 * error to pass to the waiter with the lock held (a robust mutex's -EOWNERDEAD).
 */
struct ks_cond_lock_ops {
	int (*release)(void *lock, uint64_t *saved);
	int (*reacquire)(void *lock, uint64_t saved);
};

/* The operations of the two lock types the generic front knows, for ks_cond_wait_lock(). */
extern const struct ks_cond_lock_ops ks_cond_mutex_ops;		/* struct ks_mutex */
extern const struct ks_cond_lock_ops ks_cond_rmutex_ops;	/* struct ks_rmutex */

/* ks_cond_wait_lock() flags */
#define KS_COND_CANCELPOINT	0x1u	/* the sleep is a pthread cancellation point */

/*
 * The one wait behind every other: `lock` through `ops`, until a notify or the absolute
 * `abstime` on `clock` (CLOCK_MONOTONIC or CLOCK_REALTIME; NULL: no deadline; a realtime
 * deadline follows changes of the wall clock). 0, -ETIMEDOUT, -EINVAL (clock, tv_nsec, flags),
 * the release's error (nothing changed), or reacquire's error (the lock held). With
 * KS_COND_CANCELPOINT, a pthread_cancel() acts while the thread sleeps here: the waiter leaves
 * the condition consistent (a signal it had already been given goes to another waiter) and
 * holds the lock again before the thread's cleanup handlers run.
 */
int ks_cond_wait_lock(struct ks_cond *c, void *lock, const struct ks_cond_lock_ops *ops,
		      clockid_t clock, const struct timespec *abstime, unsigned flags);

int ks_cond_wait_mutex(struct ks_cond *c, struct ks_mutex *m);
int ks_cond_wait_rmutex(struct ks_cond *c, struct ks_rmutex *r);
int ks_cond_wait_timeout_mutex(struct ks_cond *c, struct ks_mutex *m, int64_t timeout_ns);
int ks_cond_wait_timeout_rmutex(struct ks_cond *c, struct ks_rmutex *r, int64_t timeout_ns);
int ks_cond_wait_until_mutex(struct ks_cond *c, struct ks_mutex *m, clockid_t clock,
			     const struct timespec *abstime);
int ks_cond_wait_until_rmutex(struct ks_cond *c, struct ks_rmutex *r, clockid_t clock,
			      const struct timespec *abstime);
void ks__cond_notify(struct ks_cond *c, uint32_t n);

#ifndef __cplusplus
/* 0; -EPERM if the lock is not held (an rmutex: not owned by the caller). */
#define ks_cond_wait(c, lock)							\
	_Generic((lock),							\
		struct ks_mutex *: ks_cond_wait_mutex,				\
		struct ks_rmutex *: ks_cond_wait_rmutex,			\
		struct ks_robust_mutex *: ks_cond_wait_robust_mutex,		\
		struct ks_pi_mutex *: ks_cond_wait_pi_mutex)((c), (lock))

/* 0 or -ETIMEDOUT, the lock held again either way; -EPERM, -EINVAL as above. */
#define ks_cond_wait_timeout(c, lock, timeout_ns)				\
	_Generic((lock),							\
		struct ks_mutex *: ks_cond_wait_timeout_mutex,			\
		struct ks_rmutex *: ks_cond_wait_timeout_rmutex,		\
		struct ks_robust_mutex *: ks_cond_wait_timeout_robust_mutex,	\
		struct ks_pi_mutex *: ks_cond_wait_timeout_pi_mutex)((c), (lock), (timeout_ns))

/*
 * As ks_cond_wait_timeout() with an absolute deadline on CLOCK_MONOTONIC or CLOCK_REALTIME
 * (NULL: none); -EINVAL for another clock or a tv_nsec outside [0, 1 s).
 */
#define ks_cond_wait_until(c, lock, clock, abstime)				\
	_Generic((lock),							\
		struct ks_mutex *: ks_cond_wait_until_mutex,			\
		struct ks_rmutex *: ks_cond_wait_until_rmutex,			\
		struct ks_robust_mutex *: ks_cond_wait_until_robust_mutex,	\
		struct ks_pi_mutex *: ks_cond_wait_until_pi_mutex)((c), (lock), (clock), (abstime))
#endif

/*
 * Signals up to n waiters (0: none), those that have waited longest first; each ends one wait.
 * Lock held or not.
 */
static inline void ks_cond_signal_n(struct ks_cond *c, unsigned n)
{
	/* relaxed: a waiter counts itself before it releases the lock, so a notifier that holds
	 * the lock (or took it since) sees it; one that does not races with it anyway */
	if (n && atomic_load_explicit(&c->word, memory_order_relaxed) >= KS_COND_WAITER_ONE)
		ks__cond_notify(c, n);
}

static inline void ks_cond_signal(struct ks_cond *c)
{
	ks_cond_signal_n(c, 1);
}

static inline void ks_cond_broadcast(struct ks_cond *c)
{
	ks_cond_signal_n(c, UINT32_MAX);
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

static inline int ks_cond_wait_until(struct ks_cond *c, struct ks_mutex *m, clockid_t clock,
				     const struct timespec *abstime)
{
	return ks_cond_wait_until_mutex(c, m, clock, abstime);
}

static inline int ks_cond_wait_until(struct ks_cond *c, struct ks_rmutex *r, clockid_t clock,
				     const struct timespec *abstime)
{
	return ks_cond_wait_until_rmutex(c, r, clock, abstime);
}

static inline int ks_cond_wait(struct ks_cond *c, struct ks_robust_mutex *m)
{
	return ks_cond_wait_robust_mutex(c, m);
}

static inline int ks_cond_wait_timeout(struct ks_cond *c, struct ks_robust_mutex *m,
				       int64_t timeout_ns)
{
	return ks_cond_wait_timeout_robust_mutex(c, m, timeout_ns);
}

static inline int ks_cond_wait_until(struct ks_cond *c, struct ks_robust_mutex *m,
				     clockid_t clock, const struct timespec *abstime)
{
	return ks_cond_wait_until_robust_mutex(c, m, clock, abstime);
}

static inline int ks_cond_wait(struct ks_cond *c, struct ks_pi_mutex *m)
{
	return ks_cond_wait_pi_mutex(c, m);
}

static inline int ks_cond_wait_timeout(struct ks_cond *c, struct ks_pi_mutex *m,
				       int64_t timeout_ns)
{
	return ks_cond_wait_timeout_pi_mutex(c, m, timeout_ns);
}

static inline int ks_cond_wait_until(struct ks_cond *c, struct ks_pi_mutex *m, clockid_t clock,
				     const struct timespec *abstime)
{
	return ks_cond_wait_until_pi_mutex(c, m, clock, abstime);
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
