/* SPDX-License-Identifier: MIT */
/*
 * struct ks_rwlock — a writer-preferring readers/writer lock on one futex word, after the design
 * of Rust's std (library/std/src/sys/sync/rwlock/futex.rs), with readers and writers asleep on
 * the same word and woken separately by futex bitsets.
 *
 * state:
 *	bits 0-29	0: unlocked; 1 … 2^30-2: held by that many readers; 2^30-1: write-locked
 *	bit 30		READERS_WAITING: a reader may sleep on `state` (bitset KS_RWLOCK_WAKE_READERS)
 *	bit 31		WRITERS_WAITING: a writer may sleep on `state` (bitset KS_RWLOCK_WAKE_WRITERS)
 *
 * Fast paths (inline, one load and one CAS, no call): read_lock adds a reader while no writer
 * holds or waits; write_lock is 0 → WRITE_LOCKED; each unlock is one CAS when nobody waits. A
 * waiting writer stops new readers (writer preference), so readers cannot starve writers. The
 * last unlock wakes one writer if any waits, else all readers, and touches the lock only as an
 * address after its releasing CAS. See docs/rwlock.md.
 */
#ifndef KSYNC_RWLOCK_H
#define KSYNC_RWLOCK_H

#include <ksync/common.h>

KS_BEGIN_DECLS

struct ks_rwlock {
	KS_ATOMIC(uint32_t) state;
	uint32_t flags;		/* KS_SHARED */
};

#define KS_RWLOCK_READER		1u
#define KS_RWLOCK_MASK			((1u << 30) - 1)
#define KS_RWLOCK_WRITER		KS_RWLOCK_MASK
#define KS_RWLOCK_MAX_READERS		(KS_RWLOCK_MASK - 1)
#define KS_RWLOCK_READERS_WAITING	(1u << 30)
#define KS_RWLOCK_WRITERS_WAITING	(1u << 31)
#define KS_RWLOCK_WAITING		(KS_RWLOCK_READERS_WAITING | KS_RWLOCK_WRITERS_WAITING)

/* The futex bitsets of the two kinds of sleeper on `state`. */
#define KS_RWLOCK_WAKE_READERS		0x1u
#define KS_RWLOCK_WAKE_WRITERS		0x2u

#define KS_RWLOCK_INIT { 0, 0 }

void ks_rwlock_init(struct ks_rwlock *rw, unsigned flags);
int ks__rwlock_read_lock_slow(struct ks_rwlock *rw, int64_t timeout_ns);
int ks__rwlock_write_lock_slow(struct ks_rwlock *rw, int64_t timeout_ns);
int ks__rwlock_read_unlock_slow(struct ks_rwlock *rw);
int ks__rwlock_write_unlock_slow(struct ks_rwlock *rw);
int ks_rwlock_downgrade(struct ks_rwlock *rw);

/*
 * No writer holds or waits, and the reader count has room. READERS_WAITING does not keep a
 * reader out: it only tells an unlock that readers may need waking.
 */
static inline bool ks__rwlock_read_lockable(uint32_t state)
{
	return (state & KS_RWLOCK_MASK) < KS_RWLOCK_MAX_READERS &&
	       !(state & KS_RWLOCK_WRITERS_WAITING);
}

static inline bool ks__rwlock_read_trylock_once(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);

	/* acquire: pairs with the release of the last write unlock */
	return ks__rwlock_read_lockable(state) &&
	       atomic_compare_exchange_strong_explicit(&rw->state, &state, state + KS_RWLOCK_READER,
						       memory_order_acquire,
						       memory_order_relaxed);
}

/* Fails only if a writer holds or waits for the lock (or 2^30-2 readers hold it). */
static inline bool ks_rwlock_read_trylock(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);

	while (ks__rwlock_read_lockable(state)) {
		/* acquire: as in ks__rwlock_read_trylock_once() */
		if (atomic_compare_exchange_weak_explicit(&rw->state, &state,
							  state + KS_RWLOCK_READER,
							  memory_order_acquire,
							  memory_order_relaxed))
			return true;
	}
	return false;
}

/* 0; -EAGAIN if the reader count would overflow. */
static inline int ks_rwlock_read_lock(struct ks_rwlock *rw)
{
	if (ks_likely(ks__rwlock_read_trylock_once(rw)))
		return 0;
	return ks__rwlock_read_lock_slow(rw, -1);
}

/* 0, -ETIMEDOUT, -EAGAIN (reader count), or -EINVAL for a negative timeout. */
static inline int ks_rwlock_read_lock_timeout(struct ks_rwlock *rw, int64_t timeout_ns)
{
	if (ks_unlikely(timeout_ns < 0))
		return -EINVAL;
	if (ks_likely(ks__rwlock_read_trylock_once(rw)))
		return 0;
	return ks__rwlock_read_lock_slow(rw, timeout_ns);
}

/* 0; -EPERM if no reader holds the lock (it is unlocked or write-locked; nothing changes). */
static inline int ks_rwlock_read_unlock(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);
	uint32_t readers = state & KS_RWLOCK_MASK;

	/* the common case: not the last reader, or the last with no writer to wake */
	if (ks_likely(readers - 1 < KS_RWLOCK_MAX_READERS &&
		      (readers > 1 || !(state & KS_RWLOCK_WAITING))) &&
	    /* release: pairs with the acquire of the next writer */
	    atomic_compare_exchange_strong_explicit(&rw->state, &state, state - KS_RWLOCK_READER,
						    memory_order_release, memory_order_relaxed))
		return 0;
	return ks__rwlock_read_unlock_slow(rw);
}

/* Succeeds whenever no thread holds the lock. */
static inline bool ks_rwlock_write_trylock(struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);

	while (!(state & KS_RWLOCK_MASK)) {
		/* acquire: pairs with the release of the last unlock, read or write */
		if (atomic_compare_exchange_weak_explicit(&rw->state, &state,
							  state | KS_RWLOCK_WRITER,
							  memory_order_acquire,
							  memory_order_relaxed))
			return true;
	}
	return false;
}

static inline bool ks__rwlock_write_trylock_once(struct ks_rwlock *rw)
{
	uint32_t unlocked = 0;

	/* acquire: as in ks_rwlock_write_trylock() */
	return atomic_compare_exchange_strong_explicit(&rw->state, &unlocked, KS_RWLOCK_WRITER,
						       memory_order_acquire, memory_order_relaxed);
}

static inline void ks_rwlock_write_lock(struct ks_rwlock *rw)
{
	if (ks_unlikely(!ks__rwlock_write_trylock_once(rw)))
		ks__rwlock_write_lock_slow(rw, -1);
}

/* 0, -ETIMEDOUT, or -EINVAL for a negative timeout. */
static inline int ks_rwlock_write_lock_timeout(struct ks_rwlock *rw, int64_t timeout_ns)
{
	if (ks_unlikely(timeout_ns < 0))
		return -EINVAL;
	if (ks_likely(ks__rwlock_write_trylock_once(rw)))
		return 0;
	return ks__rwlock_write_lock_slow(rw, timeout_ns);
}

/* 0; -EPERM if the lock was not write-locked (nothing changes). */
static inline int ks_rwlock_write_unlock(struct ks_rwlock *rw)
{
	uint32_t locked = KS_RWLOCK_WRITER;

	/* release: pairs with the acquire of the next reader or writer */
	if (ks_likely(atomic_compare_exchange_strong_explicit(&rw->state, &locked, 0,
							      memory_order_release,
							      memory_order_relaxed)))
		return 0;
	return ks__rwlock_write_unlock_slow(rw);
}

static inline bool ks_rwlock_is_write_locked(const struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed);

	return (state & KS_RWLOCK_MASK) == KS_RWLOCK_WRITER;
}

/* How many readers hold the lock (0 when unlocked or write-locked): a snapshot. */
static inline unsigned ks_rwlock_readers(const struct ks_rwlock *rw)
{
	uint32_t state = atomic_load_explicit(&rw->state, memory_order_relaxed) & KS_RWLOCK_MASK;

	return state == KS_RWLOCK_WRITER ? 0 : state;
}

KS_END_DECLS

#endif /* KSYNC_RWLOCK_H */
