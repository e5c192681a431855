// SPDX-License-Identifier: MIT
/*
 * ks_mutex slow paths. The state word's encoding and the invariants are in
 * include/ksync/mutex.h and docs/mutex.md; in short:
 *
 *  - A thread that may sleep first swaps in CONTENDED (2); so while anyone sleeps, the word is 2
 *    and the unlocker's swap sees it and wakes one.
 *  - A woken thread re-swaps 2, not 1: it cannot know whether others still sleep, and leaving 1
 *    would let their wake-up be lost. The cost is at most one spare FUTEX_WAKE per contention
 *    episode.
 *  - Spinning happens only while the word is LOCKED (1): the holder is likely running and about
 *    to release. When it is CONTENDED, others already sleep and spinning would only add to the
 *    queue's latency (Rust's std makes the same choice).
 */
#include "deadline.h"
#include "futex.h"
#include "spin.h"

#include <ksync/mutex.h>

void ks_mutex_init(struct ks_mutex *m, unsigned flags)
{
	atomic_init(&m->state, KS_MUTEX_UNLOCKED);
	m->flags = flags & KS_SHARED;
}

/* Spin while the holder is (probably) running; returns the last state seen. */
static uint32_t ks_mutex_spin(struct ks_mutex *m)
{
	return ks_spin_while_eq(&m->state, KS_MUTEX_LOCKED, KS_SPIN_LIMIT);
}

/*
 * The common slow path: 0 once locked, -ETIMEDOUT once the deadline passed. A successful return
 * always leaves the word at CONTENDED, never LOCKED (see above).
 */
static int ks_mutex_lock_contended(struct ks_mutex *m, const struct ks_deadline *d)
{
	uint32_t state = ks_mutex_spin(m);

	if (state == KS_MUTEX_UNLOCKED) {
		uint32_t unlocked = KS_MUTEX_UNLOCKED;

		if (atomic_compare_exchange_strong_explicit(&m->state, &unlocked, KS_MUTEX_LOCKED,
							    memory_order_acquire,
							    memory_order_relaxed))
			return 0;
	}
	/* acquire: an old value of UNLOCKED means we own it, after the last unlock's release */
	while (atomic_exchange_explicit(&m->state, KS_MUTEX_CONTENDED, memory_order_acquire) !=
	       KS_MUTEX_UNLOCKED) {
		int r = ks_futex_wait(&m->state, KS_MUTEX_CONTENDED, ks_deadline_ts(d), m->flags);

		if (r == -ETIMEDOUT || (r != 0 && ks_deadline_expired(d)))
			return -ETIMEDOUT;
		/* 0, -EAGAIN, -EINTR: swap again; the deadline is absolute, nothing to recompute */
	}
	return 0;
}

void ks__mutex_lock_slow(struct ks_mutex *m)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	ks_mutex_lock_contended(m, &forever);
}

int ks__mutex_lock_timeout_slow(struct ks_mutex *m, int64_t timeout_ns)
{
	struct ks_deadline d;
	int r = ks_deadline_init(&d, timeout_ns);

	if (r)
		return r;
	if (d.now)
		return ks_mutex_trylock(m) ? 0 : -ETIMEDOUT;
	return ks_mutex_lock_contended(m, &d);
}

/* The word was swapped to UNLOCKED and held `old`; `m` is an address only from here on. */
int ks__mutex_unlock_slow(struct ks_mutex *m, uint32_t old, unsigned flags)
{
	if (old == KS_MUTEX_UNLOCKED)
		return -EPERM;
	ks_futex_wake(&m->state, 1, flags);
	return 0;
}
