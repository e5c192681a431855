// SPDX-License-Identifier: MIT
/*
 * ks_rwlock slow paths. The state word's encoding is in include/ksync/rwlock.h; the design and
 * its invariants in docs/rwlock.md. In short:
 *
 *  - Readers sleep on `state` after setting READERS_WAITING; writers sleep on `writer_notify`
 *    after setting WRITERS_WAITING. A reader may lock only while neither bit is set and no
 *    writer holds the lock: a waiting writer blocks new readers, so writers are not starved.
 *  - The unlock that leaves the lock free clears the bits it acts on: it wakes one writer if
 *    WRITERS_WAITING was set, and all readers only if no writer was actually asleep (else the
 *    woken writer takes the lock, and its own unlock wakes the readers).
 *  - A woken writer that fails to get the lock sets WRITERS_WAITING again, on behalf of any
 *    writer still asleep; and once it has slept it takes the lock with WRITERS_WAITING set, for
 *    the same reason (at worst a spare wake-up). A writer that times out has no such later
 *    chance: it clears WRITERS_WAITING (waking the readers it was holding back) and wakes one
 *    writer, who re-registers if it still has to wait. So neither side can sleep on a bit that
 *    nobody will act on.
 *  - The unlocker touches the lock after its releasing CAS (to clear bits and bump
 *    writer_notify): a rwlock must outlive every unlock call in progress (docs/rwlock.md).
 */
#include "deadline.h"
#include "futex.h"
#include "spin.h"

#include <ksync/rwlock.h>

void ks_rwlock_init(struct ks_rwlock *rw, unsigned flags)
{
	atomic_init(&rw->state, 0);
	atomic_init(&rw->writer_notify, 0);
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

/* Wakes one writer; true if one was asleep (false may also mean one is about to sleep). */
static bool ks_rwlock_wake_writer(struct ks_rwlock *rw)
{
	/* release: pairs with the acquire load of writer_notify in the writer's slow path */
	atomic_fetch_add_explicit(&rw->writer_notify, 1, memory_order_release);
	return ks_futex_wake(&rw->writer_notify, 1, rw->flags) > 0;
}

static void ks_rwlock_wake_readers(struct ks_rwlock *rw)
{
	ks_futex_wake(&rw->state, INT_MAX, rw->flags);
}

/*
 * The lock was just left free, in `state`, with waiting bits set. A writer goes first; the
 * readers are woken only if no writer was. If the lock is taken again meanwhile, its new
 * holder's unlock inherits the bits, and the work.
 */
static void ks_rwlock_wake_writer_or_readers(struct ks_rwlock *rw, uint32_t state)
{
	while (is_unlocked(state) && (state & KS_RWLOCK_WAITING)) {
		uint32_t next = state & KS_RWLOCK_WRITERS_WAITING ?
				state & ~KS_RWLOCK_WRITERS_WAITING : state & ~KS_RWLOCK_WAITING;

		/* relaxed: the caller's unlock was the release; this only hands out wake-ups */
		if (!atomic_compare_exchange_weak_explicit(&rw->state, &state, next,
							   memory_order_relaxed,
							   memory_order_relaxed))
			continue;
		if (!(state & KS_RWLOCK_WRITERS_WAITING)) {
			ks_rwlock_wake_readers(rw);
			return;
		}
		if (ks_rwlock_wake_writer(rw) || !(next & KS_RWLOCK_READERS_WAITING))
			return;
		state = next;	/* no writer was asleep: the readers must not wait for one */
	}
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
	ks_rwlock_wake_writer(rw);
	if ((state & KS_RWLOCK_READERS_WAITING) && !(next & KS_RWLOCK_READERS_WAITING))
		ks_rwlock_wake_readers(rw);
}

static int ks_rwlock_read_contended(struct ks_rwlock *rw, const struct ks_deadline *d)
{
	uint32_t state = ks_rwlock_spin_read(rw);

	for (;;) {
		int r;

		if (ks__rwlock_read_lockable(state)) {
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
		r = ks_futex_wait(&rw->state, state, ks_deadline_ts(d), rw->flags);
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
		uint32_t seq;
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
		if (!(state & KS_RWLOCK_WRITERS_WAITING) &&
		    !atomic_compare_exchange_weak_explicit(&rw->state, &state,
							   state | KS_RWLOCK_WRITERS_WAITING,
							   memory_order_relaxed,
							   memory_order_relaxed))
			continue;
		others = KS_RWLOCK_WRITERS_WAITING;
		/* acquire: pairs with the bump in ks_rwlock_wake_writer(), so `state` is fresh */
		seq = atomic_load_explicit(&rw->writer_notify, memory_order_acquire);
		state = atomic_load_explicit(&rw->state, memory_order_relaxed);
		if (is_unlocked(state) || !(state & KS_RWLOCK_WRITERS_WAITING))
			continue;
		r = ks_futex_wait(&rw->writer_notify, seq, ks_deadline_ts(d), rw->flags);
		if (r == -ETIMEDOUT)
			goto timed_out;
		state = ks_rwlock_spin_write(rw);
	}
timed_out:
	if (others)
		ks_rwlock_writer_gives_up(rw);
	return -ETIMEDOUT;
}

/* timeout_ns < 0: no deadline (the inline front has already rejected negative timeouts). */
int ks__rwlock_read_lock_slow(struct ks_rwlock *rw, int64_t timeout_ns)
{
	struct ks_deadline d;

	if (timeout_ns < 0)
		ks_deadline_forever(&d);
	else
		ks_deadline_init(&d, timeout_ns);
	if (d.now)
		return ks_rwlock_read_trylock(rw) ? 0 : -ETIMEDOUT;
	return ks_rwlock_read_contended(rw, &d);
}

int ks__rwlock_write_lock_slow(struct ks_rwlock *rw, int64_t timeout_ns)
{
	struct ks_deadline d;

	if (timeout_ns < 0)
		ks_deadline_forever(&d);
	else
		ks_deadline_init(&d, timeout_ns);
	if (d.now)
		return ks_rwlock_write_trylock(rw) ? 0 : -ETIMEDOUT;
	return ks_rwlock_write_contended(rw, &d);
}

int ks__rwlock_read_unlock_slow(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);

	do {
		if (is_unlocked(state) || is_write_locked(state))
			return -EPERM;
		/* release: pairs with the acquire of the next writer */
	} while (!atomic_compare_exchange_weak_explicit(&rw->state, &state,
							state - KS_RWLOCK_READER,
							memory_order_release,
							memory_order_relaxed));
	state -= KS_RWLOCK_READER;
	if (is_unlocked(state) && (state & KS_RWLOCK_WAITING))
		ks_rwlock_wake_writer_or_readers(rw, state);
	return 0;
}

int ks__rwlock_write_unlock_slow(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);

	do {
		if (!is_write_locked(state))
			return -EPERM;
		/* release: pairs with the acquire of the next reader or writer */
	} while (!atomic_compare_exchange_weak_explicit(&rw->state, &state,
							state - KS_RWLOCK_WRITER,
							memory_order_release,
							memory_order_relaxed));
	state -= KS_RWLOCK_WRITER;
	if (state & KS_RWLOCK_WAITING)
		ks_rwlock_wake_writer_or_readers(rw, state);
	return 0;
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
		ks_rwlock_wake_readers(rw);
	return 0;
}
