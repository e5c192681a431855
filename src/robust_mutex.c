// SPDX-License-Identifier: MIT
/*
 * ks_robust_mutex slow paths. The word's encoding is in include/ksync/robust_mutex.h, the list
 * protocol in include/ksync/robust_list.h, the whole design in docs/robust_mutex.md. In short:
 *
 *  - While a thread sleeps (or is about to) in futex_wait, the word has WAITERS: a sleeper sets
 *    it before sleeping, and the kernel sleeps it only if the word still holds what it saw.
 *    Only a release clears it (unlock's store of 0, which then wakes one), and the kernel keeps
 *    it when the owner dies (it then wakes one itself). A woken thread takes the lock with
 *    WAITERS set, as it cannot know whether others sleep (mutex2's rule, docs/mutex.md).
 *  - Every futex op is shared, whatever the flags: the kernel's wake-up at the owner's death is
 *    a shared one, which would miss a waiter asleep on a private futex.
 *  - The entry is in list_op_pending for the whole lock attempt, sleep included: a waiter woken
 *    to take the lock that dies before taking it leaves the word's owner bits 0, and the kernel
 *    then passes the wake-up on to another waiter.
 *  - OWNER_DIED stays in the word while the new owner holds it inconsistent: if that owner dies
 *    too, the kernel keeps the bit and the next locker gets -EOWNERDEAD again, as POSIX says.
 *  - Only the holder changes OWNER_DIED (consistent() clears it; unlock replaces the word);
 *    others only set WAITERS on a held word or CAS a free one.
 *
 * KS_PRIO_INHERIT (the word is a PI futex, as in src/pi_mutex.c): user space CASes only 0 → tid
 * and tid → 0; every other change is the kernel's (FUTEX_LOCK_PI, FUTEX_TRYLOCK_PI for a free
 * word the kernel marked, FUTEX_UNLOCK_PI). The kernel keeps OWNER_DIED when it hands a dead
 * owner's lock on, and clears it when an owner unlocks through it. So "not recoverable" cannot
 * live in the word: `lost` says it, set before the releasing operation, and whoever takes the
 * lock afterwards (fast path included) releases it again and returns -ENOTRECOVERABLE.
 */
#include "deadline.h"
#include "futex.h"
#include "inject.h"
#include "pi_futex.h"
#include "spin.h"

#include <linux/futex.h>

#include <ksync/cond.h>
#include <ksync/robust_mutex.h>

_Static_assert(KS_FUTEX_WAITERS == FUTEX_WAITERS && KS_FUTEX_OWNER_DIED == FUTEX_OWNER_DIED &&
	       KS_FUTEX_TID_MASK == FUTEX_TID_MASK, "the kernel's robust futex word");

int ks_robust_mutex_init(struct ks_robust_mutex *m, unsigned flags)
{
	if (flags & ~(KS_SHARED | KS_PRIO_INHERIT))
		return -EINVAL;
	atomic_init(&m->owner, 0);
	m->flags = flags;
	atomic_init(&m->lost, 0);
	for (unsigned i = 0; i < KS__ROBUST_SPARE; i++)
		m->spare[i] = 0;
#if KS__ROBUST_DOUBLY_LINKED
	atomic_init(&m->entry.prev, 0);
#endif
	atomic_init(&m->entry.next, 0);
	return 0;
}

/* Releases a PI lock the caller holds and has unlisted. */
static void ks_robust_release_pi(struct ks_robust_mutex *m)
{
	unsigned flags = m->flags;	/* read while we own it: the next owner may free it */
	uint32_t v = atomic_load_explicit(&m->owner, memory_order_relaxed);

	/* release: pairs with the next owner's acquire CAS; fails if the kernel queued waiters */
	while (!(v & KS_FUTEX_WAITERS))
		if (atomic_compare_exchange_weak_explicit(&m->owner, &v, 0, memory_order_release,
							  memory_order_relaxed))
			return;
	/* release: for the acquire load after the next owner's FUTEX_LOCK_PI (src/pi_mutex.c) */
	atomic_fetch_or_explicit(&m->owner, 0, memory_order_release);
	ks_futex_unlock_pi(&m->owner, flags);
}

/* The caller took a lost PI lock: it gives it up again. */
static int ks_robust_give_up(struct ks_robust_mutex *m, struct ks__robust_head *h)
{
	ks__robust_pending(h, &m->entry, KS__ROBUST_PI);
	ks__robust_dequeue(h, &m->entry);
	ks_robust_release_pi(m);
	ks__robust_settle(h);
	return -ENOTRECOVERABLE;
}

int ks__robust_mutex_lost(struct ks_robust_mutex *m)
{
	return ks_robust_give_up(m, ks__robust_self);
}

/* The futex kind's lock attempt, with the entry pending (see ks_robust_lock()). */
static int ks_robust_lock_futex(struct ks_robust_mutex *m, struct ks__robust_head *h,
				const struct ks_deadline *d, int busy)
{
	uint32_t self = (uint32_t)ks_self_tid(), waiters = 0, v;
	bool spun = false, expired = false;
	int r;

	v = atomic_load_explicit(&m->owner, memory_order_relaxed);
	for (;;) {
		if (v == KS_ROBUST_NOTRECOVERABLE)
			return -ENOTRECOVERABLE;
		if (!(v & KS_FUTEX_TID_MASK)) {
			/* free (perhaps dead-owned): keep its bits, add WAITERS if we slept */
			uint32_t mine = self | (v & (KS_FUTEX_OWNER_DIED | KS_FUTEX_WAITERS)) | waiters;

			/* acquire: pairs with the release of the last unlock */
			if (atomic_compare_exchange_weak_explicit(&m->owner, &v, mine,
								  memory_order_acquire,
								  memory_order_relaxed)) {
				ks_inject("robust_mutex.locked");	/* held, not yet listed */
				ks__robust_enqueue(h, &m->entry, 0);
				return (v & KS_FUTEX_OWNER_DIED) ? -EOWNERDEAD : 0;
			}
			continue;
		}
		if ((v & KS_FUTEX_TID_MASK) == self)
			return busy == -EBUSY ? -EBUSY : -EDEADLK;
		if (busy || expired)
			return busy ? busy : -ETIMEDOUT;
		if (!(v & KS_FUTEX_WAITERS)) {
			if (!spun) {	/* the holder probably runs: it may release soon */
				spun = true;
				v = ks_spin_while_eq(&m->owner, v, KS_SPIN_LIMIT);
				continue;
			}
			if (!atomic_compare_exchange_weak_explicit(&m->owner, &v,
								   v | KS_FUTEX_WAITERS,
								   memory_order_relaxed,
								   memory_order_relaxed))
				continue;
			v |= KS_FUTEX_WAITERS;
		}
		r = ks_futex_wait(&m->owner, v, ks_deadline_ts(d), KS_SHARED);
		waiters = KS_FUTEX_WAITERS;
		/* 0, -EAGAIN, -EINTR: look again; the deadline is absolute */
		if (r == -ETIMEDOUT || (r && ks_deadline_expired(d)))
			expired = true;	/* one last look: a lock free at the deadline is taken */
		v = atomic_load_explicit(&m->owner, memory_order_relaxed);
	}
}

/* The PI kind's lock attempt, with the entry pending: the kernel queues us and hands it over. */
static int ks_robust_lock_pi(struct ks_robust_mutex *m, struct ks__robust_head *h,
			     const struct ks_deadline *d, int busy)
{
	uint32_t self = (uint32_t)ks_self_tid(), v;
	int r;

	for (;;) {
		v = atomic_load_explicit(&m->owner, memory_order_relaxed);
		if (!v) {
			/* acquire: pairs with the release of the last unlock */
			if (atomic_compare_exchange_weak_explicit(&m->owner, &v, self,
								  memory_order_acquire,
								  memory_order_relaxed))
				break;
			continue;
		}
		if ((v & KS_FUTEX_TID_MASK) == self)
			return busy == -EBUSY ? -EBUSY : -EDEADLK;
		if (busy && (v & KS_FUTEX_TID_MASK))
			return busy;
		/* held, or free but marked by the kernel: only the kernel may take that over */
		r = busy ? ks_futex_trylock_pi(&m->owner, m->flags) :
			   ks__pi_futex_lock(&m->owner, d, m->flags);
		if (r == 0) {
			/* acquire: pairs with ks_robust_release_pi()'s releasing no-op */
			atomic_load_explicit(&m->owner, memory_order_acquire);
			break;
		}
		if (busy && r == -EAGAIN)
			return busy;
		if (r == -EAGAIN || r == -EINTR)
			continue;
		/* -ESRCH: the word names a thread that died unmarked (its list was full) */
		return r == -ESRCH ? -ENOTRECOVERABLE : r;
	}
	ks_inject("robust_mutex.locked");
	ks__robust_enqueue(h, &m->entry, KS__ROBUST_PI);
	if (atomic_load_explicit(&m->lost, memory_order_relaxed))
		return ks_robust_give_up(m, h);
	v = atomic_load_explicit(&m->owner, memory_order_relaxed);
	return (v & KS_FUTEX_OWNER_DIED) ? -EOWNERDEAD : 0;
}

/*
 * The lock attempt after the fast path failed. `busy` is the error to return rather than wait
 * when another thread holds it: -EBUSY (trylock), -ETIMEDOUT (a timeout of 0), or 0 to wait
 * until the deadline `d`. The entry stays pending throughout, the sleep included.
 */
static int ks_robust_lock(struct ks_robust_mutex *m, const struct ks_deadline *d, int busy)
{
	struct ks__robust_head *h = ks__robust_self ? ks__robust_self : ks__robust_attach();
	uintptr_t pi = ks__robust_mutex_pi(m);
	int err;

	if (!h)
		return -ENOTSUP;
	ks__robust_pending(h, &m->entry, pi);
	err = pi ? ks_robust_lock_pi(m, h, d, busy) : ks_robust_lock_futex(m, h, d, busy);
	ks__robust_settle(h);
	return err;
}

int ks__robust_mutex_lock_slow(struct ks_robust_mutex *m)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	return ks_robust_lock(m, &forever, 0);
}

int ks__robust_mutex_trylock_slow(struct ks_robust_mutex *m)
{
	struct ks_deadline unused;

	ks_deadline_forever(&unused);	/* it never waits */
	return ks_robust_lock(m, &unused, -EBUSY);
}

int ks__robust_mutex_lock_timeout_slow(struct ks_robust_mutex *m, int64_t timeout_ns)
{
	struct ks_deadline d;
	int r = ks_deadline_init(&d, timeout_ns);

	if (r)
		return r;
	return ks_robust_lock(m, &d, d.now ? -ETIMEDOUT : 0);
}

/*
 * An unlock that is not the plain tid → 0: the caller may not hold it, waiters may sleep, or
 * it is inconsistent. `unlinked`: the fast path already announced the entry and unlinked it.
 */
int ks__robust_mutex_unlock_slow(struct ks_robust_mutex *m, bool unlinked)
{
	struct ks__robust_head *h = ks__robust_self;
	uint32_t self = (uint32_t)ks_self_tid();
	uint32_t v = atomic_load_explicit(&m->owner, memory_order_relaxed);
	uint32_t next = 0, old;

	if (!unlinked) {
		if (!h || (v & KS_FUTEX_TID_MASK) != self)
			return -EPERM;
		ks__robust_pending(h, &m->entry, ks__robust_mutex_pi(m));
		ks__robust_dequeue(h, &m->entry);
	}
	ks_inject("robust_mutex.unlisted");	/* held, no longer listed: pending covers it */
	if (m->flags & KS_PRIO_INHERIT) {
		if (v & KS_FUTEX_OWNER_DIED)	/* before the release the next owner pairs with */
			atomic_store_explicit(&m->lost, 1, memory_order_relaxed);
		ks_robust_release_pi(m);
		ks__robust_settle(h);
		return 0;
	}
	if (v & KS_FUTEX_OWNER_DIED)
		next = KS_ROBUST_NOTRECOVERABLE;	/* never repaired: nobody may trust it again */
	/* release: pairs with the next locker's acquire; *m may be freed from here on */
	old = atomic_exchange_explicit(&m->owner, next, memory_order_release);
	ks_inject("robust_mutex.released");	/* a death here: the kernel wakes for us */
	if (next)
		ks_futex_wake(&m->owner, INT_MAX, KS_SHARED);	/* all: each must see it */
	else if (old & KS_FUTEX_WAITERS)
		ks_futex_wake(&m->owner, 1, KS_SHARED);
	ks__robust_settle(h);
	return 0;
}

int ks_robust_mutex_consistent(struct ks_robust_mutex *m)
{
	uint32_t v = atomic_load_explicit(&m->owner, memory_order_relaxed);

	if ((v & KS_FUTEX_TID_MASK) != (uint32_t)ks_self_tid())
		return -EPERM;
	if (!(v & KS_FUTEX_OWNER_DIED))
		return -EINVAL;
	/* only the holder clears it; a waiter may set WAITERS meanwhile, hence the atomic and */
	atomic_fetch_and_explicit(&m->owner, ~KS_FUTEX_OWNER_DIED, memory_order_relaxed);
	return 0;
}

/* ---- condition waits (include/ksync/cond.h's generic front) --------------------------------- */

static int ks_cond_robust_release(void *lock, uint64_t *saved)
{
	(void)saved;
	return ks_robust_mutex_unlock(lock);	/* -EPERM, nothing changed, if not ours */
}

static int ks_cond_robust_reacquire(void *lock, uint64_t saved)
{
	(void)saved;
	return ks_robust_mutex_lock(lock);	/* -EOWNERDEAD held, -ENOTRECOVERABLE not */
}

const struct ks_cond_lock_ops ks_cond_robust_mutex_ops = {
	.release = ks_cond_robust_release,
	.reacquire = ks_cond_robust_reacquire,
};

int ks_cond_wait_robust_mutex(struct ks_cond *c, struct ks_robust_mutex *m)
{
	return ks_cond_wait_lock(c, m, &ks_cond_robust_mutex_ops, CLOCK_MONOTONIC, NULL, 0);
}

int ks_cond_wait_timeout_robust_mutex(struct ks_cond *c, struct ks_robust_mutex *m,
				      int64_t timeout_ns)
{
	struct ks_deadline d;
	int err = ks_deadline_init(&d, timeout_ns);

	return err ? err : ks_cond_wait_lock(c, m, &ks_cond_robust_mutex_ops, CLOCK_MONOTONIC,
					     ks_deadline_ts(&d), 0);
}

int ks_cond_wait_until_robust_mutex(struct ks_cond *c, struct ks_robust_mutex *m,
				    clockid_t clock, const struct timespec *abstime)
{
	return ks_cond_wait_lock(c, m, &ks_cond_robust_mutex_ops, clock, abstime, 0);
}
