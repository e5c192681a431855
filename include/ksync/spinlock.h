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

/*
 * One 32-bit word, as the kernel's arch_spinlock_t was: the ticket being served in the low half,
 * the next ticket to hand out in the high half. One word is what pthread_spinlock_t has room for
 * (the interposer, preload/), and it lets trylock and unlock see both halves in one load. Tickets
 * are 16 bits: at most 65535 threads may wait at once (the kernel's limit too).
 */
struct ks_spinlock {
	KS_ATOMIC(uint32_t) tickets;	/* owner | next << 16 */
};

#define KS_SPINLOCK_NEXT_ONE	0x10000u	/* one ticket handed out */
#define KS_SPINLOCK_INIT { 0 }

static inline uint16_t ks__spinlock_owner(uint32_t tickets)
{
	return (uint16_t)tickets;
}

static inline uint16_t ks__spinlock_next(uint32_t tickets)
{
	return (uint16_t)(tickets >> 16);
}

/* KS_SHARED is accepted and changes nothing: a spinlock never calls the kernel. */
static inline void ks_spinlock_init(struct ks_spinlock *lock, unsigned flags)
{
	(void)flags;
	atomic_init(&lock->tickets, 0);
}

static inline void ks_spinlock_lock(struct ks_spinlock *lock)
{
	/* relaxed: a ticket orders nothing; the acquire is the load that sees it served */
	uint16_t ticket = ks__spinlock_next(atomic_fetch_add_explicit(&lock->tickets,
								       KS_SPINLOCK_NEXT_ONE,
								       memory_order_relaxed));

	/* acquire: pairs with the release CAS of the owner half in ks_spinlock_unlock() */
	while (ks__spinlock_owner(atomic_load_explicit(&lock->tickets, memory_order_acquire)) !=
	       ticket)
		ks_cpu_relax();
}

/* Takes the lock only if nobody holds it or waits for it; never spins. */
static inline bool ks_spinlock_trylock(struct ks_spinlock *lock)
{
	uint32_t t = atomic_load_explicit(&lock->tickets, memory_order_relaxed);

	/* free (next == owner) and unchanged since: our ticket is the one being served */
	if (ks__spinlock_owner(t) != ks__spinlock_next(t))
		return false;
	/* acquire: pairs with the release CAS in ks_spinlock_unlock() */
	return atomic_compare_exchange_strong_explicit(&lock->tickets, &t,
						       t + KS_SPINLOCK_NEXT_ONE,
						       memory_order_acquire, memory_order_relaxed);
}

/*
 * 0; -EPERM if it was not locked (nothing changes). Any thread may unlock. The owner half moves
 * by a CAS on the word, as lockers may take tickets meanwhile: the kernel increments the half
 * alone, which C11 cannot express on one atomic object.
 */
static inline int ks_spinlock_unlock(struct ks_spinlock *lock)
{
	uint32_t t = atomic_load_explicit(&lock->tickets, memory_order_relaxed);
	uint32_t next;

	do {
		if (ks_unlikely(ks__spinlock_owner(t) == ks__spinlock_next(t)))
			return -EPERM;
		next = (t & 0xffff0000u) | (uint16_t)(ks__spinlock_owner(t) + 1);
		/* release: pairs with the acquire load of the next ticket holder */
	} while (!atomic_compare_exchange_weak_explicit(&lock->tickets, &t, next,
							memory_order_release, memory_order_relaxed));
	return 0;
}

static inline bool ks_spinlock_is_locked(const struct ks_spinlock *lock)
{
	uint32_t t = atomic_load_explicit(&lock->tickets, memory_order_relaxed);

	return ks__spinlock_owner(t) != ks__spinlock_next(t);
}

KS_END_DECLS

#endif /* KSYNC_SPINLOCK_H */
