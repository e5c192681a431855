// SPDX-License-Identifier: MIT
/*
 * ks_pi_mutex slow paths: the kernel does the waiting (include/ksync/pi_mutex.h,
 * docs/pi_mutex.md). User space only takes a free word, spots a relock by the owner, and
 * translates what FUTEX_LOCK_PI says:
 *
 *	0		the kernel made us the owner (it wrote our tid into the word)
 *	-ETIMEDOUT	the deadline passed
 *	-EAGAIN		the word changed under the kernel, or the owner is exiting: look again
 *	-EDEADLK	we own it (the kernel checks too)
 *	-ESRCH		the tid in the word names no live thread: its owner died holding it, and
 *			nothing will ever release it (the kernel's robust list would have marked it,
 *			but this lock is not robust); -ENOTRECOVERABLE rather than a hang
 *
 * There is no spinning here: the kernel's rt_mutex spins on an owner that runs on another CPU,
 * and a user-space spin would overtake higher-priority sleepers.
 *
 * A timed lock needs FUTEX_LOCK_PI2 (Linux 5.14) for a CLOCK_MONOTONIC deadline. On an older
 * kernel it gets -ENOSYS, remembers it, and uses FUTEX_LOCK_PI with the same deadline on
 * CLOCK_REALTIME: a jump of the wall clock during that wait moves its end (only there).
 */
#include "futex.h"
#include "pi_futex.h"

#include <ksync/cond.h>
#include <ksync/pi_mutex.h>

static atomic_bool ks_pi_no_lock_pi2;	/* the kernel predates FUTEX_LOCK_PI2 */

int ks_pi_mutex_init(struct ks_pi_mutex *m, unsigned flags)
{
	if (flags & ~KS_SHARED)
		return -EINVAL;
	atomic_init(&m->owner, 0);
	m->flags = flags;
	return 0;
}

/* The monotonic deadline `d` as a CLOCK_REALTIME one, for FUTEX_LOCK_PI. */
static struct timespec ks_pi_realtime(const struct ks_deadline *d)
{
	struct timespec mono, real, ts;
	int64_t left;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	left = (d->ts.tv_sec - mono.tv_sec) * KS_NSEC_PER_SEC + (d->ts.tv_nsec - mono.tv_nsec);
	if (left < 0)
		left = 0;
	ts.tv_sec = real.tv_sec + left / KS_NSEC_PER_SEC;
	ts.tv_nsec = real.tv_nsec + left % KS_NSEC_PER_SEC;
	if (ts.tv_nsec >= KS_NSEC_PER_SEC) {
		ts.tv_sec++;
		ts.tv_nsec -= KS_NSEC_PER_SEC;
	}
	return ts;
}

int ks__pi_futex_lock(_Atomic uint32_t *word, const struct ks_deadline *d, unsigned flags)
{
	const struct timespec *ts = ks_deadline_ts(d);
	struct timespec real;
	int r;

	if (ts && !atomic_load_explicit(&ks_pi_no_lock_pi2, memory_order_relaxed)) {
		r = ks_futex_lock_pi(word, ts, false, flags);
		if (r != -ENOSYS)
			return r;
		atomic_store_explicit(&ks_pi_no_lock_pi2, true, memory_order_relaxed);
	}
	if (ts) {
		real = ks_pi_realtime(d);
		ts = &real;
	}
	return ks_futex_lock_pi(word, ts, true, flags);
}

static int ks_pi_lock_contended(struct ks_pi_mutex *m, const struct ks_deadline *d)
{
	uint32_t self = (uint32_t)ks_self_tid();

	for (;;) {
		uint32_t v = atomic_load_explicit(&m->owner, memory_order_relaxed);
		int r;

		if (!v) {
			/* acquire: pairs with the last unlock's release */
			if (atomic_compare_exchange_weak_explicit(&m->owner, &v, self,
								  memory_order_acquire,
								  memory_order_relaxed))
				return 0;
			continue;
		}
		if ((v & KS_FUTEX_TID_MASK) == self)
			return -EDEADLK;
		if (d->now)
			return -ETIMEDOUT;
		r = ks__pi_futex_lock(&m->owner, d, m->flags);
		switch (r) {
		case 0:
			/* acquire: pairs with the releasing no-op in ks__pi_mutex_unlock_slow() */
			atomic_load_explicit(&m->owner, memory_order_acquire);
			return 0;
		case -ETIMEDOUT:
		case -EDEADLK:
			return r;
		case -ESRCH:
			return -ENOTRECOVERABLE;
		case -EAGAIN:
		case -EINTR:
			continue;
		default:
			return r;	/* -EINVAL: the word was corrupted; -ENOSYS: no PI futexes */
		}
	}
}

int ks__pi_mutex_lock_slow(struct ks_pi_mutex *m)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	return ks_pi_lock_contended(m, &forever);
}

int ks__pi_mutex_lock_timeout_slow(struct ks_pi_mutex *m, int64_t timeout_ns)
{
	struct ks_deadline d;
	int r = ks_deadline_init(&d, timeout_ns);

	return r ? r : ks_pi_lock_contended(m, &d);
}

/* The fast path's CAS failed: not ours, or waiters queued (the kernel hands it over). */
int ks__pi_mutex_unlock_slow(struct ks_pi_mutex *m)
{
	uint32_t v = atomic_load_explicit(&m->owner, memory_order_relaxed);
	unsigned flags = m->flags;	/* read while we own it: the next owner may free it */

	if ((v & KS_FUTEX_TID_MASK) != (uint32_t)ks_self_tid())
		return -EPERM;
	/*
	 * release: the kernel hands the lock over inside FUTEX_UNLOCK_PI, and its locks order our
	 * writes before the next owner's; this no-op on the word says so in C11 terms (and to
	 * ThreadSanitizer), for the acquire load that follows the next owner's FUTEX_LOCK_PI.
	 */
	atomic_fetch_or_explicit(&m->owner, 0, memory_order_release);
	return ks_futex_unlock_pi(&m->owner, flags);
}

/* ---- condition waits (include/ksync/cond.h's generic front) --------------------------------- */

static int ks_cond_pi_release(void *lock, uint64_t *saved)
{
	(void)saved;
	return ks_pi_mutex_unlock(lock);	/* -EPERM, nothing changed, if not ours */
}

static int ks_cond_pi_reacquire(void *lock, uint64_t saved)
{
	(void)saved;
	return ks_pi_mutex_lock(lock);	/* -ENOTRECOVERABLE: not held */
}

const struct ks_cond_lock_ops ks_cond_pi_mutex_ops = {
	.release = ks_cond_pi_release,
	.reacquire = ks_cond_pi_reacquire,
};

int ks_cond_wait_pi_mutex(struct ks_cond *c, struct ks_pi_mutex *m)
{
	return ks_cond_wait_lock(c, m, &ks_cond_pi_mutex_ops, CLOCK_MONOTONIC, NULL, 0);
}

int ks_cond_wait_timeout_pi_mutex(struct ks_cond *c, struct ks_pi_mutex *m, int64_t timeout_ns)
{
	struct ks_deadline d;
	int err = ks_deadline_init(&d, timeout_ns);

	return err ? err : ks_cond_wait_lock(c, m, &ks_cond_pi_mutex_ops, CLOCK_MONOTONIC,
					     ks_deadline_ts(&d), 0);
}

int ks_cond_wait_until_pi_mutex(struct ks_cond *c, struct ks_pi_mutex *m, clockid_t clock,
				const struct timespec *abstime)
{
	return ks_cond_wait_lock(c, m, &ks_cond_pi_mutex_ops, clock, abstime, 0);
}
