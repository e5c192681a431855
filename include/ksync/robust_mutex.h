/* SPDX-License-Identifier: MIT */
/*
 * struct ks_robust_mutex — a lock that survives the death of its owner: POSIX's robust mutex
 * (EOWNERDEAD, pthread_mutex_consistent, ENOTRECOVERABLE) on the kernel's robust futex list.
 *
 * The word is the kernel's robust futex word, so that the kernel can mark it when the owner dies:
 *
 *	0				free
 *	tid				held by thread `tid`, nobody asleep
 *	tid | WAITERS			held, and a thread may sleep in futex_wait: unlock wakes one
 *	OWNER_DIED [| WAITERS]		free; its owner died holding it (written by the kernel)
 *	tid | OWNER_DIED [| WAITERS]	held by a thread that got -EOWNERDEAD and has not called
 *					ks_robust_mutex_consistent() yet
 *	NOTRECOVERABLE			for ever unusable (unlocked while inconsistent)
 *
 * lock: announce the entry in list_op_pending, CAS 0 → tid, link the entry into the thread's
 * robust list, clear list_op_pending (inline: no function call, no system call). unlock: the
 * same in reverse, CAS tid → 0. A thread that dies anywhere in between is covered either by
 * the list or by the pending slot: the kernel sets OWNER_DIED and wakes one waiter. Waiters
 * always use shared futex ops, because the kernel's wake-up at death is a shared one.
 *
 * With KS_PRIO_INHERIT the word is a PI futex as well (see ks_pi_mutex): contended, the kernel
 * queues the waiters, boosts the owner and hands the lock over, and at the owner's death hands
 * it to the first waiter with OWNER_DIED kept. A lock the kernel hands on cannot pass through
 * NOTRECOVERABLE, so `lost` says it instead: each thread handed it then passes it on.
 * See include/ksync/robust_list.h and docs/robust_mutex.md.
 */
#ifndef KSYNC_ROBUST_MUTEX_H
#define KSYNC_ROBUST_MUTEX_H

#include <time.h>

#include <ksync/common.h>
#include <ksync/robust_list.h>

KS_BEGIN_DECLS

/* ks_robust_mutex_init() flag: priority inheritance (the word is a PI futex). */
#define KS_PRIO_INHERIT	0x4u

/*
 * The entry sits where glibc's robust pthread_mutex_t keeps its list links (32 bytes after the
 * word on 64-bit targets, 20 on 32-bit ones), because the kernel finds every entry's word at
 * the one futex_offset glibc registered for the thread. The words between are unused.
 */
#if KS__ROBUST_DOUBLY_LINKED
#define KS__ROBUST_SPARE	3
#define KS__ROBUST_ENTRY_INIT	{ 0, 0 }
#else
#define KS__ROBUST_SPARE	2
#define KS__ROBUST_ENTRY_INIT	{ 0 }
#endif

struct ks_robust_mutex {
	KS_ATOMIC(uint32_t) owner;	/* the futex word, encoded as above */
	uint32_t flags;			/* KS_SHARED, KS_PRIO_INHERIT */
	KS_ATOMIC(uint32_t) lost;	/* KS_PRIO_INHERIT: made not recoverable, waiters queued */
	uint32_t spare[KS__ROBUST_SPARE];
	struct ks_robust_entry entry;	/* in the owner's robust list while held */
};

/* No thread has this id (pid_max is at most 2^22), so neither the kernel nor a locker owns it. */
#define KS_ROBUST_NOTRECOVERABLE	KS_FUTEX_TID_MASK

#define KS_ROBUST_MUTEX_INIT	{ 0, 0, 0, { 0 }, KS__ROBUST_ENTRY_INIT }

/* 0; -EINVAL for flags other than KS_SHARED and KS_PRIO_INHERIT. */
int ks_robust_mutex_init(struct ks_robust_mutex *m, unsigned flags);
int ks__robust_mutex_lock_slow(struct ks_robust_mutex *m);
int ks__robust_mutex_lock_timeout_slow(struct ks_robust_mutex *m, int64_t timeout_ns);
int ks__robust_mutex_trylock_slow(struct ks_robust_mutex *m);
int ks__robust_mutex_unlock_slow(struct ks_robust_mutex *m, bool unlinked);
int ks__robust_mutex_lost(struct ks_robust_mutex *m);

/* The entry's PI mark, for the kernel: how it must treat the word when the owner dies. */
static inline uintptr_t ks__robust_mutex_pi(const struct ks_robust_mutex *m)
{
	return (m->flags & KS_PRIO_INHERIT) ? KS__ROBUST_PI : 0;
}

/*
 * The uncontended lock: 0 with the lock taken; 1 to leave the rest to the slow path (the entry
 * still pending); -ENOTRECOVERABLE for a PI lock that was lost (it was released again).
 */
static inline int ks__robust_mutex_fast_lock(struct ks_robust_mutex *m)
{
	struct ks__robust_head *h = ks__robust_self;
	uintptr_t pi = ks__robust_mutex_pi(m);
	uint32_t unlocked = 0;

	if (ks_unlikely(!h))
		return 1;
	ks__robust_pending(h, &m->entry, pi);
	/* acquire: pairs with the release in ks_robust_mutex_unlock() */
	if (ks_unlikely(!atomic_compare_exchange_strong_explicit(&m->owner, &unlocked,
								 (uint32_t)ks_self_tid(),
								 memory_order_acquire,
								 memory_order_relaxed)))
		return 1;
	ks__robust_enqueue(h, &m->entry, pi);
	ks__robust_settle(h);
	if (ks_unlikely(pi) && atomic_load_explicit(&m->lost, memory_order_relaxed))
		return ks__robust_mutex_lost(m);
	return 0;
}

/*
 * 0; -EOWNERDEAD: acquired, but the previous owner died holding it (repair the state it
 * protects, then ks_robust_mutex_consistent()); -ENOTRECOVERABLE (not acquired); -EDEADLK if
 * the caller holds it already; -ENOTSUP if the thread has no robust list to join.
 */
static inline int ks_robust_mutex_lock(struct ks_robust_mutex *m)
{
	int r = ks__robust_mutex_fast_lock(m);

	return ks_likely(r <= 0) ? r : ks__robust_mutex_lock_slow(m);
}

/* As ks_robust_mutex_lock(), or -EBUSY (held by anyone, the caller included); never blocks. */
static inline int ks_robust_mutex_trylock(struct ks_robust_mutex *m)
{
	int r = ks__robust_mutex_fast_lock(m);

	return ks_likely(r <= 0) ? r : ks__robust_mutex_trylock_slow(m);
}

/* As ks_robust_mutex_lock(), or -ETIMEDOUT; -EINVAL for a negative timeout. */
static inline int ks_robust_mutex_lock_timeout(struct ks_robust_mutex *m, int64_t timeout_ns)
{
	int r = timeout_ns >= 0 ? ks__robust_mutex_fast_lock(m) : 1;

	return ks_likely(r <= 0) ? r : ks__robust_mutex_lock_timeout_slow(m, timeout_ns);
}

/*
 * 0; -EPERM if the caller does not hold it. Unlocking it while inconsistent (after
 * -EOWNERDEAD, without ks_robust_mutex_consistent()) makes it not recoverable: every locker,
 * those waiting now included, gets -ENOTRECOVERABLE from then on.
 */
static inline int ks_robust_mutex_unlock(struct ks_robust_mutex *m)
{
	struct ks__robust_head *h = ks__robust_self;
	uint32_t self = (uint32_t)ks_self_tid();

	if (ks_likely(h && atomic_load_explicit(&m->owner, memory_order_relaxed) == self)) {
		ks__robust_pending(h, &m->entry, ks__robust_mutex_pi(m));
		ks__robust_dequeue(h, &m->entry);
		/* release: pairs with the next locker's acquire; fails if a waiter came */
		if (ks_likely(atomic_compare_exchange_strong_explicit(&m->owner, &self, 0,
								      memory_order_release,
								      memory_order_relaxed))) {
			ks__robust_settle(h);
			return 0;
		}
		return ks__robust_mutex_unlock_slow(m, true);
	}
	return ks__robust_mutex_unlock_slow(m, false);
}

/*
 * Marks the state protected by a mutex taken with -EOWNERDEAD as repaired. 0; -EPERM if the
 * caller does not hold it; -EINVAL if it is not inconsistent.
 */
int ks_robust_mutex_consistent(struct ks_robust_mutex *m);

/*
 * A condition wait with a robust mutex: ks_cond_wait(c, m) and its _timeout and _until forms
 * (<ksync/cond.h>) come here. The wait releases the mutex as ks_robust_mutex_unlock() does
 * (so waiting while it is inconsistent makes it not recoverable: call consistent first) and
 * takes it back as ks_robust_mutex_lock() does: -EOWNERDEAD if its owner died meanwhile (held,
 * as after lock), -ENOTRECOVERABLE (not held).
 */
struct ks_cond;
struct ks_cond_lock_ops;
extern const struct ks_cond_lock_ops ks_cond_robust_mutex_ops;
int ks_cond_wait_robust_mutex(struct ks_cond *c, struct ks_robust_mutex *m);
int ks_cond_wait_timeout_robust_mutex(struct ks_cond *c, struct ks_robust_mutex *m,
				      int64_t timeout_ns);
int ks_cond_wait_until_robust_mutex(struct ks_cond *c, struct ks_robust_mutex *m,
				    clockid_t clock, const struct timespec *abstime);

KS_END_DECLS

#endif /* KSYNC_ROBUST_MUTEX_H */
