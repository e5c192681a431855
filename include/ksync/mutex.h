/* SPDX-License-Identifier: MIT */
/*
 * struct ks_mutex — Python's threading.Lock on one futex word (Drepper's "mutex2").
 *
 *	state 0: unlocked
 *	state 1: locked, nobody asleep
 *	state 2: locked, and some thread may be asleep in futex_wait (so unlock must wake)
 *
 * lock: one CAS 0 → 1 (inline). Otherwise the slow path spins briefly while the holder runs
 * (state 1), then swaps in 2 and sleeps until the swap returns 0. unlock: one swap to 0 (inline);
 * only an old value of 2 costs a FUTEX_WAKE. Any thread may unlock, as with Python's Lock.
 * See docs/mutex.md.
 */
#ifndef KSYNC_MUTEX_H
#define KSYNC_MUTEX_H

#include <ksync/common.h>

KS_BEGIN_DECLS

struct ks_mutex {
	KS_ATOMIC(uint32_t) state;
	uint32_t flags;		/* KS_SHARED; read before the release store, never after */
};

#define KS_MUTEX_UNLOCKED	0u
#define KS_MUTEX_LOCKED		1u
#define KS_MUTEX_CONTENDED	2u

#define KS_MUTEX_INIT { KS_MUTEX_UNLOCKED, 0 }

void ks_mutex_init(struct ks_mutex *m, unsigned flags);
void ks__mutex_lock_slow(struct ks_mutex *m);
int ks__mutex_lock_timeout_slow(struct ks_mutex *m, int64_t timeout_ns);
int ks__mutex_unlock_slow(struct ks_mutex *m, uint32_t old, unsigned flags);

static inline bool ks_mutex_trylock(struct ks_mutex *m)
{
	uint32_t unlocked = KS_MUTEX_UNLOCKED;

	/* acquire: pairs with the release in ks_mutex_unlock() */
	return atomic_compare_exchange_strong_explicit(&m->state, &unlocked, KS_MUTEX_LOCKED,
						       memory_order_acquire,
						       memory_order_relaxed);
}

static inline void ks_mutex_lock(struct ks_mutex *m)
{
	if (ks_unlikely(!ks_mutex_trylock(m)))
		ks__mutex_lock_slow(m);
}

/* 0, or -ETIMEDOUT; -EINVAL for a negative timeout. */
static inline int ks_mutex_lock_timeout(struct ks_mutex *m, int64_t timeout_ns)
{
	if (ks_likely(timeout_ns >= 0 && ks_mutex_trylock(m)))
		return 0;
	return ks__mutex_lock_timeout_slow(m, timeout_ns);
}

/* 0; -EPERM if it was not locked (it stays unlocked). */
static inline int ks_mutex_unlock(struct ks_mutex *m)
{
	unsigned flags = m->flags;	/* after the swap below, *m may be freed (glibc bug 13690) */
	/* release: pairs with the acquire of the next locker */
	uint32_t old = atomic_exchange_explicit(&m->state, KS_MUTEX_UNLOCKED,
						memory_order_release);

	if (ks_likely(old == KS_MUTEX_LOCKED))
		return 0;
	return ks__mutex_unlock_slow(m, old, flags);
}

static inline bool ks_mutex_is_locked(const struct ks_mutex *m)
{
	return atomic_load_explicit(&m->state, memory_order_relaxed) != KS_MUTEX_UNLOCKED;
}

KS_END_DECLS

#endif /* KSYNC_MUTEX_H */
