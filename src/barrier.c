// SPDX-License-Identifier: MIT
/*
 * ks_barrier: Python's threading.Barrier on a ks_mutex and one futex word. The word's encoding
 * is in include/ksync/barrier.h; the algorithm, in short (docs/barrier.md has the long form):
 *
 *  - Arrive: under the lock, take index = count++. The last arrival runs the action (under the
 *    lock, as Python does), then opens the next generation: count = 0 and one release exchange
 *    that adds GEN_ONE and clears every flag. It wakes all only if SLEEPERS was set.
 *  - Wait: remember the generation, unlock, spin briefly on the word, then set SLEEPERS with a
 *    CAS and futex_wait until the word changes. A waiter that sees its generation gone has
 *    passed; one that sees BROKEN in its own generation leaves with -EPIPE (count--).
 *  - Break (timeout, failed action, abort): set BROKEN and wake. The generation does not move,
 *    so every waiter inside still sees its own generation, now broken.
 *  - Reset: with nobody inside, open the next generation at once. Otherwise set BROKEN and
 *    RESETTING: the waiters inside get -EPIPE, and the last of them to leave opens the next
 *    generation. New arrivals wait at the door meanwhile, so that they are not counted in a
 *    generation whose old members are still inside.
 *
 * Invariants: every change of the word except setting SLEEPERS happens under the lock, so a lock
 * holder computes the next word from what it read; `count` counts the threads of the current
 * generation that are inside wait(); the generation moves only when a generation is complete or
 * when a reset finds it empty; a thread sleeps only on a word with SLEEPERS set, which only a
 * generation change clears, and that change wakes everyone.
 *
 * Lifetime: a waiter may return as soon as it sees the new generation, while the releaser still
 * unlocks and wakes. Memory holding a barrier may be reused once every party of its last round
 * has returned from wait (there is no destroy call to wait for them). The wakes after unlocking
 * use only the address.
 */
#include <limits.h>
#include <unistd.h>

#include "deadline.h"
#include "futex.h"
#include "spin.h"
#include "until.h"

#include <ksync/barrier.h>

/*
 * A waiter spins only if every party can be running at once: with more parties than CPUs the
 * round cannot complete before someone is scheduled in, and a spinner only delays that. (On the
 * shared 2-CPU development machine, 8 parties: about 35 µs a round spinning, 26 µs not.) Such a
 * waiter yields instead, a bounded number of times, handing its CPU to a party that has yet to
 * arrive: 4 parties on 2 CPUs, 0.6–0.8 µs a round against 7.6–7.9 µs for pthread_barrier in the
 * same run (bench/barrier.c), where sleeping at once made it level with pthread_barrier.
 */
static unsigned ks_barrier_spin_limit(unsigned parties)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus > 0 && parties <= (unsigned long)cpus ? KS_SPIN_LIMIT : 0;
}

int ks__barrier_core_init(struct ks_barrier_core *b, unsigned parties, unsigned flags)
{
	if (parties == 0 || parties > INT_MAX)	/* the index is returned as an int */
		return -EINVAL;
	atomic_init(&b->seq, 0);
	ks_mutex_init(&b->lock, flags & KS_SHARED);
	atomic_init(&b->count, 0);
	b->parties = parties;
	b->spin = ks_barrier_spin_limit(parties);
	b->flags = flags & KS_SHARED;
	return 0;
}

int ks_barrier_init(struct ks_barrier *b, unsigned parties, int (*action)(void *), void *arg,
		    unsigned flags)
{
	b->action = action;
	b->arg = arg;
	return ks__barrier_core_init(&b->core, parties, flags);
}

/* After a change of the word from `old`: wake everyone if someone may sleep. Address only. */
static void ks_barrier_wake(struct ks_barrier_core *b, uint32_t old, unsigned flags)
{
	if (old & KS_BARRIER_SLEEPERS)
		ks_futex_wake(&b->seq, INT_MAX, flags);
}

/* Lock held: opens the next generation, clearing every flag. Returns the old word. */
static uint32_t ks_barrier_advance(struct ks_barrier_core *b)
{
	uint32_t s = atomic_load_explicit(&b->seq, memory_order_relaxed);

	atomic_store_explicit(&b->count, 0, memory_order_relaxed);
	/*
	 * release: the action's writes and each party's writes before it arrived, for the acquire
	 * load of every waiter that sees the new generation. Only SLEEPERS can change under us.
	 */
	return atomic_exchange_explicit(&b->seq, (s & KS_BARRIER_GEN_MASK) + KS_BARRIER_GEN_ONE,
					memory_order_release);
}

/* Lock held: sets the word to `set` bits and clears `clear`; returns the old word, 0 if same. */
static uint32_t ks_barrier_flag(struct ks_barrier_core *b, uint32_t set, uint32_t clear)
{
	uint32_t s = atomic_load_explicit(&b->seq, memory_order_relaxed);

	/* relaxed: a waiter acts on BROKEN or RESETTING only under the lock */
	while (((s | set) & ~clear) != s &&
	       !atomic_compare_exchange_weak_explicit(&b->seq, &s, (s | set) & ~clear,
						      memory_order_relaxed, memory_order_relaxed))
		;
	return ((s | set) & ~clear) != s ? s : 0;
}

/* Lock held: breaks the barrier (and cancels a pending reset, as Python's abort does). */
static uint32_t ks_barrier_break(struct ks_barrier_core *b)
{
	return ks_barrier_flag(b, KS_BARRIER_BROKEN, KS_BARRIER_RESETTING);
}

/* Lock held: a thread of the broken generation leaves; the last one finishes a pending reset. */
static uint32_t ks_barrier_leave(struct ks_barrier_core *b)
{
	unsigned n = atomic_load_explicit(&b->count, memory_order_relaxed) - 1;

	atomic_store_explicit(&b->count, n, memory_order_relaxed);
	if (n == 0 && (atomic_load_explicit(&b->seq, memory_order_relaxed) & KS_BARRIER_RESETTING))
		return ks_barrier_advance(b);
	return 0;
}

/*
 * Sleeps while the word still reads `s` (with SLEEPERS set, so that its next change wakes us).
 * 0 when it may have changed (the caller reads it again); -ETIMEDOUT once the deadline passed.
 */
static int ks_barrier_sleep(struct ks_barrier_core *b, uint32_t s, const struct ks_deadline *d)
{
	int r;

	if (d->now)
		return -ETIMEDOUT;
	/* relaxed: only announces a sleeper to the next lock holder that changes the word */
	if (!(s & KS_BARRIER_SLEEPERS) &&
	    !atomic_compare_exchange_strong_explicit(&b->seq, &s, s | KS_BARRIER_SLEEPERS,
						     memory_order_relaxed, memory_order_relaxed))
		return 0;
	r = ks_futex_wait(&b->seq, s | KS_BARRIER_SLEEPERS, ks_deadline_ts(d), b->flags);
	if (r == -ETIMEDOUT || (r == -EINTR && ks_deadline_expired(d)))
		return -ETIMEDOUT;
	return 0;
}

/* Lock held, by the last arrival: runs the action and releases the generation. Unlocks. */
static int ks_barrier_release(struct ks_barrier_core *b, const struct ks_barrier *whole,
			      unsigned index, unsigned flags)
{
	uint32_t old;
	int ret = (int)index;

	if (whole && whole->action && whole->action(whole->arg)) {
		old = ks_barrier_break(b);
		ks_barrier_leave(b);	/* the barrier was whole: no reset to finish */
		ret = -EPIPE;
	} else {
		old = ks_barrier_advance(b);
	}
	ks_mutex_unlock(&b->lock);
	ks_barrier_wake(b, old, flags);
	return ret;
}

/* Lock held, by a waiter of `gen` whose deadline passed: pass, -EPIPE or break. Unlocks. */
static int ks_barrier_time_out(struct ks_barrier_core *b, uint32_t gen, unsigned index, unsigned flags)
{
	uint32_t s = atomic_load_explicit(&b->seq, memory_order_relaxed);
	uint32_t old = 0;
	int ret;

	if ((s & KS_BARRIER_GEN_MASK) != gen) {
		ret = (int)index;	/* released before the deadline caught us */
	} else if (s & KS_BARRIER_BROKEN) {
		old = ks_barrier_leave(b);
		ret = -EPIPE;
	} else {
		old = ks_barrier_break(b);
		ks_barrier_leave(b);
		ret = -ETIMEDOUT;
	}
	ks_mutex_unlock(&b->lock);
	ks_barrier_wake(b, old, flags);
	return ret;
}

/* `whole`: the ks_barrier around b, for its action; NULL for a bare core (no action). */
static int ks_barrier_wait_deadline(struct ks_barrier_core *b, const struct ks_barrier *whole,
				    const struct ks_deadline *d)
{
	unsigned flags = b->flags;
	unsigned index;
	uint32_t s, gen, old;

	ks_mutex_lock(&b->lock);
	for (;;) {
		s = atomic_load_explicit(&b->seq, memory_order_relaxed);
		if (!(s & KS_BARRIER_BROKEN))
			break;
		ks_mutex_unlock(&b->lock);
		if (!(s & KS_BARRIER_RESETTING))
			return -EPIPE;
		/* the broken generation is still leaving: wait at the door, uncounted */
		if (ks_barrier_sleep(b, s, d))
			return -ETIMEDOUT;
		ks_mutex_lock(&b->lock);
	}

	index = atomic_load_explicit(&b->count, memory_order_relaxed);
	atomic_store_explicit(&b->count, index + 1, memory_order_relaxed);
	if (index + 1 == b->parties)
		return ks_barrier_release(b, whole, index, flags);
	gen = s & KS_BARRIER_GEN_MASK;
	if (d->now)
		return ks_barrier_time_out(b, gen, index, flags);
	ks_mutex_unlock(&b->lock);

	/* acquire (here and below): pairs with the release exchange that opens a generation */
	s = b->spin ? ks_spin_while_eq(&b->seq, s, b->spin) :
		      ks_yield_while_eq(&b->seq, s, KS_YIELD_LIMIT);
	for (;;) {
		if ((s & KS_BARRIER_GEN_MASK) != gen)
			return (int)index;
		if (s & KS_BARRIER_BROKEN) {
			ks_mutex_lock(&b->lock);
			old = ks_barrier_leave(b);
			ks_mutex_unlock(&b->lock);
			ks_barrier_wake(b, old, flags);
			return -EPIPE;
		}
		if (ks_barrier_sleep(b, s, d)) {
			ks_mutex_lock(&b->lock);
			return ks_barrier_time_out(b, gen, index, flags);
		}
		s = atomic_load_explicit(&b->seq, memory_order_acquire);
	}
}

int ks_barrier_wait(struct ks_barrier *b)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	return ks_barrier_wait_deadline(&b->core, b, &forever);
}

int ks_barrier_wait_timeout(struct ks_barrier *b, int64_t timeout_ns)
{
	struct ks_deadline d;
	int r = ks_deadline_init(&d, timeout_ns);

	return r ? r : ks_barrier_wait_deadline(&b->core, b, &d);
}

int ks__barrier_core_wait(struct ks_barrier_core *b)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	return ks_barrier_wait_deadline(b, NULL, &forever);
}

static void ks_barrier_core_abort(struct ks_barrier_core *b)
{
	unsigned flags = b->flags;
	uint32_t old;

	ks_mutex_lock(&b->lock);
	old = ks_barrier_break(b);
	ks_mutex_unlock(&b->lock);
	ks_barrier_wake(b, old, flags);
}

void ks_barrier_abort(struct ks_barrier *b)
{
	ks_barrier_core_abort(&b->core);
}

void ks_barrier_reset(struct ks_barrier *whole)
{
	struct ks_barrier_core *b = &whole->core;
	unsigned flags = b->flags;
	uint32_t old;

	ks_mutex_lock(&b->lock);
	if (atomic_load_explicit(&b->count, memory_order_relaxed) == 0)
		old = ks_barrier_advance(b);	/* nobody inside: a clean, new generation */
	else
		old = ks_barrier_flag(b, KS_BARRIER_BROKEN | KS_BARRIER_RESETTING, 0);
	ks_mutex_unlock(&b->lock);
	ks_barrier_wake(b, old, flags);
}
