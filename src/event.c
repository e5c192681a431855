// SPDX-License-Identifier: MIT
/*
 * ks_event: the wait and the wake. The word's encoding is in include/ksync/event.h and
 * docs/event.md; in short:
 *
 *  - A thread sleeps only on a word that has WAITERS set, and futex_wait() compares the whole
 *    word: any set() in between changes the word (it bumps the generation and clears WAITERS),
 *    so the kernel refuses to let the waiter sleep, or the set() finds WAITERS and wakes it.
 *  - set() clears WAITERS because it wakes everyone sleeping at that moment; a waiter that
 *    still has to sleep afterwards sets it again itself.
 *  - A waiter's answer is decided by the word alone: SET, or a generation other than the one
 *    it read first, means a set() happened while it waited (0); anything else after a return
 *    from futex_wait (a signal, a spurious wake-up, a clear()) means sleep again to the same
 *    deadline. The generation compares with != so it may wrap: a waiter would be fooled only by
 *    exactly 2^30 sets between two of its reads.
 *  - WAITERS may outlive its waiters (a waiter that timed out): the next set() then makes one
 *    FUTEX_WAKE for nobody. That is cheaper than counting waiters on every wait.
 */
#include <limits.h>

#include "deadline.h"
#include "futex.h"
#include "spin.h"

#include <ksync/event.h>

void ks_event_init(struct ks_event *e, unsigned flags)
{
	atomic_init(&e->word, 0);
	e->flags = flags & KS_SHARED;
}

/* Only the address: a woken waiter may free the event at once (see ks_event_set()). */
void ks__event_wake(_Atomic uint32_t *word, unsigned flags)
{
	ks_futex_wake(word, INT_MAX, flags);
}

static bool ks_event_happened(uint32_t w, uint32_t gen)
{
	return (w & KS_EVENT_SET) || (w & KS_EVENT_GEN_MASK) != gen;
}

/* 0 once set (since we started), -ETIMEDOUT at the deadline. */
static int ks_event_wait_until(struct ks_event *e, const struct ks_deadline *d)
{
	/* acquire: pairs with the release in ks_event_set(), here and below */
	uint32_t w = atomic_load_explicit(&e->word, memory_order_acquire);
	uint32_t gen = w & KS_EVENT_GEN_MASK;
	bool expired = d->now;
	int r;

	if (!expired && !(w & KS_EVENT_SET))
		w = ks_spin_while_eq(&e->word, w, KS_SPIN_LIMIT);
	for (;;) {
		if (ks_event_happened(w, gen))
			return 0;	/* even if the deadline passed at the same time */
		if (expired)
			return -ETIMEDOUT;
		if (!(w & KS_EVENT_WAITERS) &&
		    !atomic_compare_exchange_weak_explicit(&e->word, &w, w | KS_EVENT_WAITERS,
							   memory_order_acquire,
							   memory_order_acquire))
			continue;
		r = ks_futex_wait(&e->word, w | KS_EVENT_WAITERS, ks_deadline_ts(d), e->flags);
		/* 0, -EAGAIN (the word changed), -EINTR: look again, same deadline */
		if (r == -ETIMEDOUT || (r != 0 && ks_deadline_expired(d)))
			expired = true;
		w = atomic_load_explicit(&e->word, memory_order_acquire);
	}
}

void ks__event_wait_slow(struct ks_event *e)
{
	struct ks_deadline forever;

	ks_deadline_forever(&forever);
	ks_event_wait_until(e, &forever);
}

int ks__event_wait_timeout_slow(struct ks_event *e, int64_t timeout_ns)
{
	struct ks_deadline d;
	int r = ks_deadline_init(&d, timeout_ns);

	if (r)
		return r;
	return ks_event_wait_until(e, &d);
}
