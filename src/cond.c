// SPDX-License-Identifier: MIT
/*
 * ks_cond: the wait and the wake. The design is in include/ksync/cond.h and docs/cond.md.
 *
 * Invariants:
 *  - A waiter is counted in nwaiters from before it releases the lock until after it stopped
 *    waiting; a notifier that holds (or took, since) the lock therefore sees it.
 *  - Every wake is preceded by a bump of seq. So a futex return with seq unchanged is spurious
 *    (or a signal handler's EINTR) and the waiter goes back to sleep: returns happen only for
 *    a notify, or the deadline.
 *  - A waiter queued in the kernel read seq before the bump that precedes a wake, so FUTEX_WAKE
 *    of n picks n threads that were really waiting when the notify came.
 *  - The waiter spins a little on seq before sleeping: in a ping-pong the partner's notify
 *    usually arrives within microseconds, and a waiter that sees it while spinning skips two
 *    context switches.
 * Wrap-around: seq is 32 bits and compared with ==; a waiter fooled would need exactly 2^32
 * notifies between reading seq and entering the kernel.
 */
#include "deadline.h"
#include "futex.h"
#include "spin.h"

#include <ksync/cond.h>

void ks_cond_init(struct ks_cond *c, unsigned flags)
{
	atomic_init(&c->seq, 0);
	atomic_init(&c->nwaiters, 0);
	c->flags = flags & KS_SHARED;
}

void ks__cond_wake(struct ks_cond *c, int n)
{
	unsigned flags = c->flags;	/* read before the bump: after it, c may be freed */

	/* release: pairs with the waiter's acquire load of seq that sees the bump */
	atomic_fetch_add_explicit(&c->seq, 1, memory_order_release);
	ks_futex_wake(&c->seq, n, flags);
}

/* The lock was released after reading `seq`; 0 once notified, -ETIMEDOUT at the deadline. */
static int ks_cond_sleep(struct ks_cond *c, uint32_t seq, const struct ks_deadline *d)
{
	if (!d->now && ks_spin_while_eq(&c->seq, seq, KS_SPIN_LIMIT) != seq)
		return 0;
	for (;;) {
		int r = ks_futex_wait(&c->seq, seq, ks_deadline_ts(d), c->flags);

		if (atomic_load_explicit(&c->seq, memory_order_acquire) != seq)
			return 0;	/* notified, even if the deadline passed at the same time */
		if (r == -ETIMEDOUT || (r != 0 && ks_deadline_expired(d)))
			return -ETIMEDOUT;
		/* -EINTR, or a spurious return: seq unchanged, sleep again to the same deadline */
	}
}

/*
 * Register, release the lock (`release` is called with it), sleep, relock (`reacquire`).
 * Registering before the release is what makes a notify after the release impossible to miss.
 */
#define KS_COND_WAIT(c, d, release, reacquire)					\
	({									\
		uint32_t ks__seq;						\
		int ks__r;							\
		/* relaxed, both: the lock's release, next, publishes them to	\
		 * any notifier that takes the lock afterwards */		\
		atomic_fetch_add_explicit(&(c)->nwaiters, 1, memory_order_relaxed); \
		ks__seq = atomic_load_explicit(&(c)->seq, memory_order_relaxed); \
		release;							\
		ks__r = ks_cond_sleep((c), ks__seq, (d));			\
		atomic_fetch_sub_explicit(&(c)->nwaiters, 1, memory_order_relaxed); \
		reacquire;							\
		ks__r;								\
	})

static int ks_cond_wait_mutex_until(struct ks_cond *c, struct ks_mutex *m,
				    const struct ks_deadline *d)
{
	if (!ks_mutex_is_locked(m))
		return -EPERM;
	return KS_COND_WAIT(c, d, ks_mutex_unlock(m), ks_mutex_lock(m));
}

static int ks_cond_wait_rmutex_until(struct ks_cond *c, struct ks_rmutex *r,
				     const struct ks_deadline *d)
{
	int self = ks_self_tid();
	uint32_t depth = r->depth;

	if (!ks__rmutex_owned_by(r, self))
		return -EPERM;
	/* give up every level at once; the owner's stores are published by the unlock */
	r->depth = 1;
	return KS_COND_WAIT(c, d, ks_rmutex_unlock(r),
			    (ks_mutex_lock(&r->lock), ks__rmutex_take(r, self), r->depth = depth));
}

int ks_cond_wait_mutex(struct ks_cond *c, struct ks_mutex *m)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	return ks_cond_wait_mutex_until(c, m, &forever);
}

int ks_cond_wait_rmutex(struct ks_cond *c, struct ks_rmutex *r)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	return ks_cond_wait_rmutex_until(c, r, &forever);
}

int ks_cond_wait_timeout_mutex(struct ks_cond *c, struct ks_mutex *m, int64_t timeout_ns)
{
	struct ks_deadline d;
	int r = ks_deadline_init(&d, timeout_ns);

	return r ? r : ks_cond_wait_mutex_until(c, m, &d);
}

int ks_cond_wait_timeout_rmutex(struct ks_cond *c, struct ks_rmutex *r, int64_t timeout_ns)
{
	struct ks_deadline d;
	int err = ks_deadline_init(&d, timeout_ns);

	return err ? err : ks_cond_wait_rmutex_until(c, r, &d);
}
