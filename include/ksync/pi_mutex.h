/* SPDX-License-Identifier: MIT */
/*
 * struct ks_pi_mutex — a priority-inheriting lock for real-time threads, on the kernel's PI
 * futexes (FUTEX_LOCK_PI / FUTEX_UNLOCK_PI, the rt_mutex behind them).
 *
 *	0			free
 *	tid			held by the thread whose kernel id is `tid`, nobody waiting
 *	tid | WAITERS		held; waiters are queued in the kernel, by priority, and the
 *				owner runs at the priority of the highest of them
 *
 * lock: CAS 0 → tid (inline). Otherwise FUTEX_LOCK_PI: the kernel sets WAITERS, queues the
 * caller, boosts the owner, and returns once it has written the caller's tid into the word.
 * unlock: CAS tid → 0 (inline); if WAITERS is set, FUTEX_UNLOCK_PI hands the lock to the
 * highest-priority waiter directly (no barging: with PI, who gets the lock is the kernel's call).
 * Only the owner may unlock. See docs/pi_mutex.md.
 */
#ifndef KSYNC_PI_MUTEX_H
#define KSYNC_PI_MUTEX_H

#include <time.h>

#include <ksync/common.h>
#include <ksync/robust_list.h>

KS_BEGIN_DECLS

struct ks_pi_mutex {
	KS_ATOMIC(uint32_t) owner;	/* the futex word, encoded as above */
	uint32_t flags;			/* KS_SHARED */
};

#define KS_PI_MUTEX_INIT	{ 0, 0 }

/* 0; -EINVAL for flags other than KS_SHARED. */
int ks_pi_mutex_init(struct ks_pi_mutex *m, unsigned flags);
int ks__pi_mutex_lock_slow(struct ks_pi_mutex *m);
int ks__pi_mutex_lock_timeout_slow(struct ks_pi_mutex *m, int64_t timeout_ns);
int ks__pi_mutex_unlock_slow(struct ks_pi_mutex *m);

/* Never blocks; true if acquired. */
static inline bool ks_pi_mutex_trylock(struct ks_pi_mutex *m)
{
	uint32_t unlocked = 0;

	/* acquire: pairs with the release in ks_pi_mutex_unlock() (or the kernel's hand-off) */
	return atomic_compare_exchange_strong_explicit(&m->owner, &unlocked,
						       (uint32_t)ks_self_tid(),
						       memory_order_acquire, memory_order_relaxed);
}

/*
 * 0; -EDEADLK if the caller holds it already; -ENOTRECOVERABLE if its owner died holding it
 * (the kernel reports the owner gone: nobody can ever release it; a robust mutex is the lock
 * that survives its owner).
 */
static inline int ks_pi_mutex_lock(struct ks_pi_mutex *m)
{
	if (ks_likely(ks_pi_mutex_trylock(m)))
		return 0;
	return ks__pi_mutex_lock_slow(m);
}

/* As ks_pi_mutex_lock(), or -ETIMEDOUT; -EINVAL for a negative timeout. */
static inline int ks_pi_mutex_lock_timeout(struct ks_pi_mutex *m, int64_t timeout_ns)
{
	if (ks_likely(timeout_ns >= 0 && ks_pi_mutex_trylock(m)))
		return 0;
	return ks__pi_mutex_lock_timeout_slow(m, timeout_ns);
}

/* 0; -EPERM if the caller does not hold it. */
static inline int ks_pi_mutex_unlock(struct ks_pi_mutex *m)
{
	uint32_t self = (uint32_t)ks_self_tid();

	/* release: pairs with the next locker's acquire; fails if waiters are queued */
	if (ks_likely(atomic_compare_exchange_strong_explicit(&m->owner, &self, 0,
							      memory_order_release,
							      memory_order_relaxed)))
		return 0;
	return ks__pi_mutex_unlock_slow(m);
}

static inline bool ks_pi_mutex_is_locked(const struct ks_pi_mutex *m)
{
	return atomic_load_explicit(&m->owner, memory_order_relaxed) != 0;
}

/*
 * A condition wait with a PI mutex: ks_cond_wait(c, m) and its _timeout and _until forms
 * (<ksync/cond.h>) come here. The mutex is released and taken back as unlock and lock do; the
 * wait itself sleeps on the condition's futex, which lends no priority (the kernel's
 * FUTEX_WAIT_REQUEUE_PI would requeue the woken waiter onto the PI futex; see docs/pi_mutex.md).
 */
struct ks_cond;
struct ks_cond_lock_ops;
extern const struct ks_cond_lock_ops ks_cond_pi_mutex_ops;
int ks_cond_wait_pi_mutex(struct ks_cond *c, struct ks_pi_mutex *m);
int ks_cond_wait_timeout_pi_mutex(struct ks_cond *c, struct ks_pi_mutex *m, int64_t timeout_ns);
int ks_cond_wait_until_pi_mutex(struct ks_cond *c, struct ks_pi_mutex *m, clockid_t clock,
				const struct timespec *abstime);

KS_END_DECLS

#endif /* KSYNC_PI_MUTEX_H */
