/* SPDX-License-Identifier: MIT */
/*
 * struct ks_spinlock — a fair (FIFO) ticket spinlock, the kernel's pre-qspinlock design.
 *
 *	next	the next ticket to hand out; lock() takes one with a fetch_add
 *	owner	the ticket now being served; only the holder advances it, in unlock()
 *
 *	unlocked	owner == next
 *	locked		owner != next; next - owner threads hold or wait for it (modulo 2^32)
 *
 * Waiters spin on `owner` until it equals their ticket, so the lock is handed out strictly in
 * the order the tickets were taken and nobody starves. Nothing ever sleeps: no futex, no system
 * call, and the same code works between processes in MAP_SHARED memory.
 *
 * The price of fairness: the lock can be handed only to the next ticket holder. If that thread
 * is not running (more runnable threads than CPUs), every waiter behind it spins until the
 * scheduler runs it again — a whole time slice per hand-off. Use it for short sections between
 * threads pinned to their own CPUs; otherwise use struct ks_mutex. See docs/spinlock.md.
 */
#ifndef KSYNC_SPINLOCK_H
#define KSYNC_SPINLOCK_H

#include <ksync/common.h>

KS_BEGIN_DECLS

struct ks_spinlock {
	KS_ATOMIC(uint32_t) next;
	KS_ATOMIC(uint32_t) owner;
};

#define KS_SPINLOCK_INIT { 0, 0 }

/* KS_SHARED is accepted and changes nothing: a spinlock never calls the kernel. */
static inline void ks_spinlock_init(struct ks_spinlock *lock, unsigned flags)
{
	(void)flags;
	atomic_init(&lock->next, 0);
	atomic_init(&lock->owner, 0);
}

static inline void ks_spinlock_lock(struct ks_spinlock *lock)
{
	/* relaxed: a ticket orders nothing; the acquire is the load that sees it served */
	uint32_t ticket = atomic_fetch_add_explicit(&lock->next, 1, memory_order_relaxed);

	/* acquire: pairs with the release store of owner in ks_spinlock_unlock() */
	while (atomic_load_explicit(&lock->owner, memory_order_acquire) != ticket)
		ks_cpu_relax();
}

/* Takes the lock only if nobody holds it or waits for it; never spins. */
static inline bool ks_spinlock_trylock(struct ks_spinlock *lock)
{
	/* acquire: pairs with the release store of owner in ks_spinlock_unlock() */
	uint32_t owner = atomic_load_explicit(&lock->owner, memory_order_acquire);

	/*
	 * next == owner means free. owner cannot move while next == owner (only a holder moves
	 * it), so if the CAS succeeds our ticket is the one being served.
	 */
	return atomic_compare_exchange_strong_explicit(&lock->next, &owner, owner + 1,
						       memory_order_relaxed, memory_order_relaxed);
}

/* 0; -EPERM if it was not locked (nothing changes). Any thread may unlock. */
static inline int ks_spinlock_unlock(struct ks_spinlock *lock)
{
	uint32_t owner = atomic_load_explicit(&lock->owner, memory_order_relaxed);

	if (ks_unlikely(owner == atomic_load_explicit(&lock->next, memory_order_relaxed)))
		return -EPERM;
	/* release: pairs with the acquire load of the next ticket holder */
	atomic_store_explicit(&lock->owner, owner + 1, memory_order_release);
	return 0;
}

static inline bool ks_spinlock_is_locked(const struct ks_spinlock *lock)
{
	return atomic_load_explicit(&lock->owner, memory_order_relaxed) !=
	       atomic_load_explicit(&lock->next, memory_order_relaxed);
}

KS_END_DECLS

#endif /* KSYNC_SPINLOCK_H */
