// SPDX-License-Identifier: MIT
/*
 * ks_rwlock slow paths. The state word's encoding is in include/ksync/rwlock.h; the design and
 * its invariants in docs/rwlock.md. In short:
 *
 *  - Readers and writers all sleep on `state`, told apart by their futex bitset (readers
 *    KS_RWLOCK_WAKE_READERS, writers KS_RWLOCK_WAKE_WRITERS). A reader sets READERS_WAITING
 *    before it sleeps, a writer WRITERS_WAITING. Sleeping on the word that every lock and unlock
 *    changes is what makes a lost wake-up impossible: a waiter that is not yet queued when the
 *    state changes sees the change and does not sleep.
 *  - Only a writer that holds or waits for the lock keeps readers out (writer preference).
 *    READERS_WAITING only means "readers may sleep: wake them"; it never blocks a reader.
 *  - The unlock that frees the lock clears, in its releasing CAS itself, the bit it acts on:
 *    WRITERS_WAITING if set (then it wakes one writer, and the readers only if no writer was
 *    asleep), else READERS_WAITING (then it wakes the readers). After that CAS it uses the
 *    lock's address only: the next owner may free it at once (glibc bug 13690's pattern).
 *  - A woken writer that fails to get the lock sets WRITERS_WAITING again; once it has slept it
 *    takes the lock with WRITERS_WAITING set, on behalf of writers that may still sleep (at worst
 *    a spare wake-up). A writer that times out clears WRITERS_WAITING (and READERS_WAITING unless
 *    the lock is write-locked) and wakes one writer and the readers it was holding back.
 */
#include "deadline.h"
#include "futex.h"
#include "spin.h"
#include "until.h"

#include <ksync/rwlock.h>

void ks_rwlock_init(struct ks_rwlock *rw, unsigned flags)
{
	atomic_init(&rw->state, 0);
	rw->flags = flags & KS_SHARED;
}

static bool is_unlocked(uint32_t state)
{
	return !(state & KS_RWLOCK_MASK);
}

static bool is_write_locked(uint32_t state)
{
	return (state & KS_RWLOCK_MASK) == KS_RWLOCK_WRITER;
}

/* Readers spin only while a writer holds the lock and nobody sleeps yet. */
static uint32_t ks_rwlock_spin_read(struct ks_rwlock *rw)
{
	return ks_spin_while_eq(&rw->state, KS_RWLOCK_WRITER, KS_SPIN_LIMIT);
}

/* Writers spin while the lock is held and no writer sleeps yet; returns the last state seen. */
static uint32_t ks_rwlock_spin_write(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);
	unsigned limit = ks_spin_budget(KS_SPIN_LIMIT);

	if (is_unlocked(state) || (state & KS_RWLOCK_WRITERS_WAITING) || !limit)
		return state;
	while (limit--) {
		ks_cpu_relax();
		state = atomic_load_explicit(&rw->state, memory_order_relaxed);
		if (is_unlocked(state) || (state & KS_RWLOCK_WRITERS_WAITING))
			break;
	}
	ks_spin_feedback(is_unlocked(state));
	return state;
}

/* Address only: the lock may be freed by now. True if a writer was asleep. */
static bool ks_rwlock_wake_writer(_Atomic uint32_t *state, unsigned flags)
{
	return ks_futex_wake_bits(state, 1, flags, KS_RWLOCK_WAKE_WRITERS) > 0;
}

static void ks_rwlock_wake_readers(_Atomic uint32_t *state, unsigned flags)
{
	ks_futex_wake_bits(state, INT_MAX, flags, KS_RWLOCK_WAKE_READERS);
}

/*
 * A writer that registered as waiting times out. It cannot know whether other writers still
 * wait, so it clears WRITERS_WAITING, lets in the readers that bit was holding back, and wakes
 * one writer (which re-registers if it still has to wait, or takes the lock). The wake also
 * passes on a hand-off this writer may have been given and can no longer use.
 */
static void ks_rwlock_writer_gives_up(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);
	uint32_t next;

	do {
		next = state & ~KS_RWLOCK_WRITERS_WAITING;
		if (!is_write_locked(state))
			next &= ~KS_RWLOCK_READERS_WAITING;
	} while (next != state &&
		 !atomic_compare_exchange_weak_explicit(&rw->state, &state, next,
							memory_order_relaxed,
							memory_order_relaxed));
	ks_rwlock_wake_writer(&rw->state, rw->flags);
	if ((state & KS_RWLOCK_READERS_WAITING) && !(next & KS_RWLOCK_READERS_WAITING))
		ks_rwlock_wake_readers(&rw->state, rw->flags);
}

/* Writer preference, or (glibc's default kind) a reader waits only while a writer holds it. */
static bool ks_rwlock_read_lockable(uint32_t state, bool prefer_readers)
{
	if (prefer_readers)
		return (state & KS_RWLOCK_MASK) < KS_RWLOCK_MAX_READERS;
	return ks__rwlock_read_lockable(state);
}

static int ks_rwlock_read_contended(struct ks_rwlock *rw, const struct ks_deadline *d,
				    bool prefer_readers)
{
	uint32_t state = ks_rwlock_spin_read(rw);

	for (;;) {
		int r;

		if (ks_rwlock_read_lockable(state, prefer_readers)) {
			/* acquire: pairs with the release of the last write unlock */
			if (atomic_compare_exchange_weak_explicit(&rw->state, &state,
								  state + KS_RWLOCK_READER,
								  memory_order_acquire,
								  memory_order_relaxed))
				return 0;
			continue;
		}
		if ((state & KS_RWLOCK_MASK) == KS_RWLOCK_MAX_READERS)
			return -EAGAIN;
		if (ks_deadline_expired(d))
			return -ETIMEDOUT;
		if (!(state & KS_RWLOCK_READERS_WAITING)) {
			if (!atomic_compare_exchange_weak_explicit(&rw->state, &state,
								   state |
								   KS_RWLOCK_READERS_WAITING,
								   memory_order_relaxed,
								   memory_order_relaxed))
				continue;
			state |= KS_RWLOCK_READERS_WAITING;
		}
		r = ks_futex_wait_until_bits(&rw->state, state, d, rw->flags,
					     KS_RWLOCK_WAKE_READERS);
		if (r == -ETIMEDOUT)
			return -ETIMEDOUT;
		/* 0, -EAGAIN, -EINTR: look again; the deadline is absolute */
		state = ks_rwlock_spin_read(rw);
	}
}

static int ks_rwlock_write_contended(struct ks_rwlock *rw, const struct ks_deadline *d)
{
	uint32_t state = ks_rwlock_spin_write(rw);
	uint32_t others = 0;	/* WRITERS_WAITING once we have waited: others may wait too */

	for (;;) {
		int r;

		if (is_unlocked(state)) {
			/* acquire: pairs with the release of the last unlock, read or write */
			if (atomic_compare_exchange_weak_explicit(&rw->state, &state,
								  state | KS_RWLOCK_WRITER | others,
								  memory_order_acquire,
								  memory_order_relaxed))
				return 0;
			continue;
		}
		if (ks_deadline_expired(d))
			goto timed_out;
		if (!(state & KS_RWLOCK_WRITERS_WAITING)) {
			if (!atomic_compare_exchange_weak_explicit(&rw->state, &state,
								   state |
								   KS_RWLOCK_WRITERS_WAITING,
								   memory_order_relaxed,
								   memory_order_relaxed))
				continue;
			state |= KS_RWLOCK_WRITERS_WAITING;
		}
		others = KS_RWLOCK_WRITERS_WAITING;
		r = ks_futex_wait_until_bits(&rw->state, state, d, rw->flags,
					     KS_RWLOCK_WAKE_WRITERS);
		if (r == -ETIMEDOUT)
			goto timed_out;
		/* 0, -EAGAIN, -EINTR: look again; the deadline is absolute */
		state = ks_rwlock_spin_write(rw);
	}
timed_out:
	if (others)
		ks_rwlock_writer_gives_up(rw);
	return -ETIMEDOUT;
}

/* timeout_ns < 0: no deadline (the inline front has already rejected negative timeouts). */
static void ks_rwlock_deadline(struct ks_deadline *d, int64_t timeout_ns)
{
	if (timeout_ns < 0)
		ks_deadline_forever(d);
	else
		ks_deadline_init(d, timeout_ns);
}

int ks__rwlock_read_lock_slow(struct ks_rwlock *rw, int64_t timeout_ns)
{
	struct ks_deadline d;

	ks_rwlock_deadline(&d, timeout_ns);
	if (d.now)
		return ks_rwlock_read_trylock(rw) ? 0 : -ETIMEDOUT;
	return ks_rwlock_read_contended(rw, &d, false);
}

int ks__rwlock_write_lock_slow(struct ks_rwlock *rw, int64_t timeout_ns)
{
	struct ks_deadline d;

	ks_rwlock_deadline(&d, timeout_ns);
	if (d.now)
		return ks_rwlock_write_trylock(rw) ? 0 : -ETIMEDOUT;
	return ks_rwlock_write_contended(rw, &d);
}

bool ks__rwlock_read_trylock_prefer_readers(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);

	while (ks_rwlock_read_lockable(state, true)) {
		/* acquire: pairs with the release of the last write unlock */
		if (atomic_compare_exchange_weak_explicit(&rw->state, &state,
							  state + KS_RWLOCK_READER,
							  memory_order_acquire,
							  memory_order_relaxed))
			return true;
	}
	return false;
}

int ks__rwlock_read_lock_until(struct ks_rwlock *rw, const struct ks_deadline *d,
			       bool prefer_readers)
{
	if (prefer_readers ? ks__rwlock_read_trylock_prefer_readers(rw) : ks_rwlock_read_trylock(rw))
		return 0;
	if ((atomic_load_explicit(&rw->state, memory_order_relaxed) & KS_RWLOCK_MASK) ==
	    KS_RWLOCK_MAX_READERS)
		return -EAGAIN;
	if (d->now)
		return -ETIMEDOUT;
	return ks_rwlock_read_contended(rw, d, prefer_readers);
}

int ks__rwlock_write_lock_until(struct ks_rwlock *rw, const struct ks_deadline *d)
{
	if (ks_rwlock_write_trylock(rw))
		return 0;
	if (d->now)
		return -ETIMEDOUT;
	return ks_rwlock_write_contended(rw, d);
}

/* Does `state` show a hold of the kind `held` (KS_RWLOCK_READER or KS_RWLOCK_WRITER)? */
static bool ks_rwlock_holds(uint32_t state, uint32_t held)
{
	if (held == KS_RWLOCK_WRITER)
		return is_write_locked(state);
	return !is_unlocked(state) && !is_write_locked(state);
}

/*
 * Gives up one hold of the kind `held`. The releasing CAS also clears the waiting bit that this
 * unlock acts on; after it, the lock is used as an address only (see the top of this file).
 */
static int ks_rwlock_unlock(struct ks_rwlock *rw, uint32_t held)
{
	_Atomic uint32_t *word = &rw->state;
	unsigned flags = rw->flags;		/* read before the release: rw may be freed after */
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);
	uint32_t next;

	do {
		if (!ks_rwlock_holds(state, held))
			return -EPERM;
		next = state - held;
		if (is_unlocked(next))
			next &= next & KS_RWLOCK_WRITERS_WAITING ? ~KS_RWLOCK_WRITERS_WAITING :
								    ~KS_RWLOCK_READERS_WAITING;
		/* release: pairs with the acquire of the next reader or writer */
	} while (!atomic_compare_exchange_weak_explicit(&rw->state, &state, next,
							memory_order_release,
							memory_order_relaxed));
	if (!is_unlocked(next))
		return 0;
	if (state & KS_RWLOCK_WRITERS_WAITING) {
		/* a writer goes first; the readers only if none was asleep to take the lock */
		if (ks_rwlock_wake_writer(word, flags) || !(state & KS_RWLOCK_READERS_WAITING))
			return 0;
	} else if (!(state & KS_RWLOCK_READERS_WAITING)) {
		return 0;
	}
	ks_rwlock_wake_readers(word, flags);
	return 0;
}

int ks__rwlock_read_unlock_slow(struct ks_rwlock *rw)
{
	return ks_rwlock_unlock(rw, KS_RWLOCK_READER);
}

int ks__rwlock_write_unlock_slow(struct ks_rwlock *rw)
{
	return ks_rwlock_unlock(rw, KS_RWLOCK_WRITER);
}

/*
 * Write-locked → held by this one reader, atomically. Waiting readers are let in with it unless
 * a writer waits too: writer preference holds across a downgrade.
 */
int ks_rwlock_downgrade(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);
	uint32_t next;

	do {
		if (!is_write_locked(state))
			return -EPERM;
		next = state - KS_RWLOCK_WRITER + KS_RWLOCK_READER;
		if (!(state & KS_RWLOCK_WRITERS_WAITING))
			next &= ~KS_RWLOCK_READERS_WAITING;
		/* release: what the writer wrote is published to the readers it lets in */
	} while (!atomic_compare_exchange_weak_explicit(&rw->state, &state, next,
							memory_order_release,
							memory_order_relaxed));
	if ((state & KS_RWLOCK_READERS_WAITING) && !(next & KS_RWLOCK_READERS_WAITING))
		ks_rwlock_wake_readers(&rw->state, rw->flags);
	return 0;
}
