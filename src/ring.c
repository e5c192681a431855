// SPDX-License-Identifier: MIT
/*
 * ks_ring: initialisation and the blocking slow paths. The lock-free operations and the
 * encodings are in include/ksync/ring.h and docs/ring.md; the sleeping protocol, per side:
 *
 *	waiter				waker (after a successful push or pop)
 *	nwaiters++			(the push or pop itself)
 *	s = seq			(sc)	fence(seq_cst)			F_w
 *	fence(seq_cst)		F_s	if (nwaiters) {
 *	retry the push/pop		    seq++			(sc)
 *	futex_wait(&seq, s)		    futex_wake(&seq, 1)
 *					}
 *
 * The two fences are ordered in the single total order S. If F_s comes first, the waker's
 * nwaiters load sees the registration, so it bumps seq and wakes; the waiter's load of seq, a
 * seq_cst operation before F_s and so before the bump in S, read the old value, and futex_wait
 * either returns at once (the bump came first) or sleeps and receives the wake. If F_w comes
 * first, the waiter's retry sees the push or pop. No wake-up is lost; a waker that sees
 * nwaiters == 0 makes no system call.
 *
 * One wake per success, not a broadcast: a woken waiter always retries before it looks at its
 * deadline, so a wake is never thrown away; if another thread barged in and took the item (or
 * the space), that thread's own success woke the other side, and the waiter sleeps again.
 * A counter, not a flag, says "someone may sleep": with wake-one, a flag cleared by one wake
 * could not tell whether other sleepers remain.
 *
 * Holes (MPMC): a producer between its CAS on tail and its seq store leaves a claimed,
 * unpublished cell, and consumers see "empty" there even when later cells are full. A sleeper
 * woken for a later item retries, meets the hole and sleeps again: that wake is spent, and when
 * the hole's producer publishes it wakes only one sleeper. So a waiter that succeeds passes a
 * wake on to its own side while the ring still holds items (for producers: still has room); the
 * chain goes on until the items or the sleepers run out. The same holds for consumers between
 * their CAS on head and their seq store, as seen by producers.
 */
#include "deadline.h"
#include "futex.h"
#include "spin.h"

#include <ksync/ring.h>

#define KS_RING_KNOWN_FLAGS	(KS_SHARED | KS_RING_SPSC)

int ks_ring_init(struct ks_ring *r, void *storage, size_t capacity, unsigned flags)
{
	size_t i;

	if (!storage || (flags & ~KS_RING_KNOWN_FLAGS) || capacity < KS_RING_MIN_CAPACITY ||
	    capacity > KS_RING_MAX_CAPACITY || (capacity & (capacity - 1)))
		return -EINVAL;
	r->slots = storage;
	r->mask = capacity - 1;
	r->flags = flags;
	atomic_init(&r->tail, 0);
	atomic_init(&r->head, 0);
	r->head_cache = 0;
	r->tail_cache = 0;
	if (!(flags & KS_RING_SPSC))
		for (i = 0; i < capacity; i++)
			atomic_init(&r->cells[i].seq, i);	/* cell i: free for position i */
	atomic_init(&r->not_empty.seq, 0);
	atomic_init(&r->not_empty.nwaiters, 0);
	atomic_init(&r->not_full.seq, 0);
	atomic_init(&r->not_full.nwaiters, 0);
	return 0;
}

void ks__ring_wake_slow(struct ks_ring *r, struct ks_ring_waitq *q)
{
	/* seq_cst: after the waker's fence in S; see the top of this file */
	atomic_fetch_add_explicit(&q->seq, 1, memory_order_seq_cst);
	ks_futex_wake(&q->seq, 1, r->flags);
}

static bool ks_ring_attempt(struct ks_ring *r, bool push, void **item)
{
	return push ? ks_ring_try_push(r, *item) : ks_ring_try_pop(r, item);
}

/*
 * Pushes *item (push) or pops into *item, sleeping until it can or until the deadline: 0 or
 * -ETIMEDOUT. On success, wakes one sleeper of the other side.
 */
static int ks_ring_wait(struct ks_ring *r, bool push, void **item, const struct ks_deadline *d)
{
	struct ks_ring_waitq *q = push ? &r->not_full : &r->not_empty;
	unsigned budget = ks_spin_budget(KS_SPIN_LIMIT), spins = budget;
	int ret = 0;

	if (d->now)
		return -ETIMEDOUT;	/* the inline fast path made the one try */
	/* the other side is probably running: a few polite retries cost less than a sleep */
	while (spins--) {
		ks_cpu_relax();
		if (ks_ring_attempt(r, push, item)) {
			ks_spin_feedback(true);
			goto done;
		}
	}
	if (budget)
		ks_spin_feedback(false);

	atomic_fetch_add_explicit(&q->nwaiters, 1, memory_order_relaxed);
	for (;;) {
		/* seq_cst: before F_s in S, so it cannot see a bump that follows a later F_w */
		uint32_t seq = atomic_load_explicit(&q->seq, memory_order_seq_cst);

		/* seq_cst: F_s, pairs with the waker's fence in ks__ring_wake() */
		ks__ring_fence();
		if (ks_ring_attempt(r, push, item))
			break;
		if (ks_deadline_expired(d)) {
			ret = -ETIMEDOUT;
			break;
		}
		/* 0, -EAGAIN, -EINTR, -ETIMEDOUT: all retry first; the deadline is absolute */
		ks_futex_wait(&q->seq, seq, ks_deadline_ts(d), r->flags);
	}
	atomic_fetch_sub_explicit(&q->nwaiters, 1, memory_order_relaxed);
	if (ret)
		return ret;
done:
	ks__ring_wake(r, push ? &r->not_empty : &r->not_full);
	/* pass on a wake that a hole may have swallowed (see the top of this file) */
	if (push ? ks_ring_count(r) < ks_ring_capacity(r) : ks_ring_count(r) > 0)
		ks__ring_wake(r, q);
	return 0;
}

void ks__ring_push_slow(struct ks_ring *r, void *item)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	ks_ring_wait(r, true, &item, &forever);
}

void *ks__ring_pop_slow(struct ks_ring *r)
{
	struct ks_deadline forever;
	void *item;

	ks_deadline_forever(&forever);
	ks_ring_wait(r, false, &item, &forever);
	return item;
}

int ks__ring_push_timeout_slow(struct ks_ring *r, void *item, int64_t timeout_ns)
{
	struct ks_deadline d;
	int ret = ks_deadline_init(&d, timeout_ns);

	return ret ? ret : ks_ring_wait(r, true, &item, &d);
}

int ks__ring_pop_timeout_slow(struct ks_ring *r, void **item, int64_t timeout_ns)
{
	struct ks_deadline d;
	int ret = ks_deadline_init(&d, timeout_ns);

	return ret ? ret : ks_ring_wait(r, false, item, &d);
}
