// SPDX-License-Identifier: MIT
/*
 * ks_once_call() slow path. The encoding is in include/ksync/once.h and docs/once.md; in short:
 *
 *  - Exactly one thread wins the CAS INCOMPLETE → RUNNING; nothing ever returns the word to
 *    INCOMPLETE, so fn runs at most once, and the winner runs it, so exactly once.
 *  - A waiter sleeps only with the word at WAITED, which it set itself or saw set: the runner's
 *    swap to DONE then returns WAITED and it wakes all. A waiter woken for any other reason
 *    (a signal, a spurious wake-up, a stale wake meant for a reused address) re-reads the word.
 *  - The runner stores its tid in `owner` before running fn and clears it before DONE; a caller
 *    that finds its own tid there is fn calling ks_once_call() on the same object, which could only
 *    wait for itself: it gets -EDEADLK instead.
 *  - The runner's swap to DONE is its last access to the object: a caller that sees DONE may
 *    return and free it at once (one that arrives late, or a waiter that a signal or a spurious
 *    wake-up sent back to look), so the flags the wake-up needs are read before the swap, and
 *    the wake-up uses the address only (glibc bug 13690's pattern).
 */
#include "futex.h"
#include "inject.h"

#include <ksync/once.h>

void ks_once_init(struct ks_once *o, unsigned flags)
{
	atomic_init(&o->state, KS_ONCE_INCOMPLETE);
	atomic_init(&o->owner, 0);
	o->flags = flags & KS_SHARED;
}

static void ks_once_run(struct ks_once *o, void (*fn)(void))
{
	_Atomic uint32_t *word = &o->state;
	unsigned flags = o->flags;	/* after the swap below, o may be freed */

	atomic_store_explicit(&o->owner, ks_self_tid(), memory_order_relaxed);
	fn();
	atomic_store_explicit(&o->owner, 0, memory_order_relaxed);
	/* release: pairs with the acquire loads that see DONE; publishes fn's writes */
	if (atomic_exchange_explicit(word, KS_ONCE_DONE, memory_order_release) == KS_ONCE_WAITED) {
		ks_inject("once.done");		/* a waiter may return and free o here */
		ks_futex_wake(word, INT_MAX, flags);
	}
}

int ks__once_slow(struct ks_once *o, void (*fn)(void))
{
	/* acquire: seeing DONE must also show fn's writes (pairs with ks_once_run()'s release) */
	uint32_t state = atomic_load_explicit(&o->state, memory_order_acquire);

	for (;;) {
		switch (state) {
		case KS_ONCE_DONE:
			return 0;
		case KS_ONCE_INCOMPLETE:
			if (!fn)
				return -EINVAL;
			/* acquire on failure: the value seen may be DONE (see above) */
			if (atomic_compare_exchange_weak_explicit(&o->state, &state,
								  KS_ONCE_RUNNING,
								  memory_order_acquire,
								  memory_order_acquire)) {
				ks_once_run(o, fn);
				return 0;
			}
			continue;
		case KS_ONCE_RUNNING:
			if (atomic_load_explicit(&o->owner, memory_order_relaxed) == ks_self_tid())
				return -EDEADLK;
			if (!atomic_compare_exchange_weak_explicit(&o->state, &state,
								   KS_ONCE_WAITED,
								   memory_order_acquire,
								   memory_order_acquire))
				continue;
			break;
		case KS_ONCE_WAITED:
			if (atomic_load_explicit(&o->owner, memory_order_relaxed) == ks_self_tid())
				return -EDEADLK;
			break;
		default:	/* not a ks_once (never initialized, or overwritten) */
			return -EINVAL;
		}
		ks_futex_wait(&o->state, KS_ONCE_WAITED, NULL, o->flags);
		/* acquire: as above */
		state = atomic_load_explicit(&o->state, memory_order_acquire);
	}
}
