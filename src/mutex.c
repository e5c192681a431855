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
#include "until.h"

#include <ksync/mutex.h>

void ks_mutex_init(struct ks_mutex *m, unsigned flags)
{
	atomic_init(&m->state, KS_MUTEX_UNLOCKED);
	m->flags = flags & KS_SHARED;
}

/*
 * The spinner reads the word after 1, 2, 4, … up to this many pauses: every read pulls the
 * holder's cache line away from it, so a spinner that polls less lets the holder keep it for the
 * unlock and often its next lock. Measured with bench/lock.c (cs:20, work:50, same run): 2 threads
 * 8.2 M ops/s polling every pause, 11.4 M at 8, 24.7 M at 32, 25.6 M at 256, glibc 10–15 M; Jain
 * 0.99 throughout; cs:2000, 8 threads: Jain 0.93 at 32–64, 0.97 at 256. The price is the tail:
 * acquire p99 3.3 µs (glibc 1.1 µs) at cs:200, where the holder re-acquires while others wait.
 */
#ifndef KS_MUTEX_BACKOFF_MAX
#define KS_MUTEX_BACKOFF_MAX 256
#endif

/* Spin while the holder is (probably) running, backing off; returns the last state seen. */
static uint32_t ks_mutex_spin(struct ks_mutex *m)
{
	uint32_t state = atomic_load_explicit(&m->state, memory_order_relaxed);
	unsigned left = ks_spin_budget(KS_SPIN_LIMIT), delay = 1;

	if (state != KS_MUTEX_LOCKED || !left)
		return state;
	while (left) {
		for (unsigned i = 0; i < delay && left; i++, left--)
			ks_cpu_relax();
		state = atomic_load_explicit(&m->state, memory_order_relaxed);
		if (state != KS_MUTEX_LOCKED)
			break;
		if (delay < KS_MUTEX_BACKOFF_MAX)
			delay <<= 1;
	}
	ks_spin_feedback(state != KS_MUTEX_LOCKED);
	return state;
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
		int r = ks_futex_wait_until(&m->state, KS_MUTEX_CONTENDED, d, m->flags);

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

int ks__mutex_lock_until(struct ks_mutex *m, const struct ks_deadline *d)
{
	if (ks_mutex_trylock(m))
		return 0;
	if (d->now)
		return -ETIMEDOUT;
	return ks_mutex_lock_contended(m, d);
}

/* The word was swapped to UNLOCKED and held `old`; `m` is an address only from here on. */
int ks__mutex_unlock_slow(struct ks_mutex *m, uint32_t old, unsigned flags)
{
	if (old == KS_MUTEX_UNLOCKED)
		return -EPERM;
	ks_futex_wake(&m->state, 1, flags);
	return 0;
}
