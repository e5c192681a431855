// SPDX-License-Identifier: MIT
/*
 * ks_once_call() slow path. The encoding is in include/ksync/once.h and docs/once.md; in short:
 *
 *  - Exactly one thread wins the CAS INCOMPLETE → RUNNING, and runs fn. Only a runner whose fn
 *    never returns (pthread_exit, or a cancellation unwinding through it) puts the word back to
 *    INCOMPLETE, from a cleanup handler, and wakes the waiters so that one of them runs fn
 *    (POSIX's rule for pthread_once); so fn completes exactly once.
 *  - A waiter sleeps only with the word at WAITED, which it set itself or saw set: the runner's
 *    swap to DONE then returns WAITED and it wakes all. A waiter woken for any other reason
 *    (a signal, a spurious wake-up, a stale wake meant for a reused address) re-reads the word.
 *  - The runner stores its tid in `owner` before running fn and clears it before DONE; a caller
 *    that finds its own tid there is fn calling ks_once_call() on the same object, which could only
 *    wait for itself: it gets -EDEADLK instead.
 *  - The runner's swap to DONE is its last access to the object: a caller that sees DONE may
 *    return and free it at once (one that arrives late, or a waiter that a signal or a spurious
 *    wake-up sent back to look), so the flags the wake-up needs are read before the swap (the
 *    runner works from a copy, struct ks_once_word), and the wake-up uses the address only
 *    (glibc bug 13690's pattern).
 */
#include "futex.h"
#include "inject.h"
#include "until.h"

#include <pthread.h>

#include <ksync/once.h>

void ks_once_init(struct ks_once *o, unsigned flags)
{
	atomic_init(&o->state, KS_ONCE_INCOMPLETE);
	atomic_init(&o->owner, 0);
	o->flags = flags & KS_SHARED;
}

/* The word, the runner's tid (none in the 4-byte form), the futex flags: one object's state. */
struct ks_once_word {
	_Atomic uint32_t *state;
	_Atomic int *owner;
	unsigned flags;
};

static void ks_once_publish(const struct ks_once_word *w, uint32_t state)
{
	if (w->owner)
		atomic_store_explicit(w->owner, 0, memory_order_relaxed);
	/* release: pairs with the acquire loads that see DONE; publishes fn's writes */
	if (atomic_exchange_explicit(w->state, state, memory_order_release) == KS_ONCE_WAITED) {
		ks_inject("once.done");		/* a waiter may return and free the object here */
		ks_futex_wake(w->state, INT_MAX, w->flags);	/* w is a copy: no read of *o */
	}
}

/* fn left by unwinding: nobody will finish it; let a waiter start it again. */
static void ks_once_abandoned(void *arg)
{
	ks_once_publish(arg, KS_ONCE_INCOMPLETE);
}

static void ks_once_run(const struct ks_once_word *w, void (*fn)(void))
{
	if (w->owner)
		atomic_store_explicit(w->owner, ks_self_tid(), memory_order_relaxed);
	pthread_cleanup_push(ks_once_abandoned, (void *)w);
	fn();
	pthread_cleanup_pop(0);
	ks_once_publish(w, KS_ONCE_DONE);
}

static bool ks_once_is_mine(const struct ks_once_word *w)
{
	return w->owner && atomic_load_explicit(w->owner, memory_order_relaxed) == ks_self_tid();
}

static int ks_once_word_slow(const struct ks_once_word *w, void (*fn)(void))
{
	/* acquire: seeing DONE must also show fn's writes (pairs with ks_once_publish()) */
	uint32_t state = atomic_load_explicit(w->state, memory_order_acquire);

	for (;;) {
		switch (state) {
		case KS_ONCE_DONE:
			return 0;
		case KS_ONCE_INCOMPLETE:
			if (!fn)
				return -EINVAL;
			/* acquire on failure: the value seen may be DONE (see above) */
			if (atomic_compare_exchange_weak_explicit(w->state, &state,
								  KS_ONCE_RUNNING,
								  memory_order_acquire,
								  memory_order_acquire)) {
				ks_once_run(w, fn);
				return 0;
			}
			continue;
		case KS_ONCE_RUNNING:
			if (ks_once_is_mine(w))
				return -EDEADLK;
			if (!atomic_compare_exchange_weak_explicit(w->state, &state,
								   KS_ONCE_WAITED,
								   memory_order_acquire,
								   memory_order_acquire))
				continue;
			break;
		case KS_ONCE_WAITED:
			if (ks_once_is_mine(w))
				return -EDEADLK;
			break;
		default:	/* not a ks_once (never initialized, or overwritten) */
			return -EINVAL;
		}
		ks_futex_wait(w->state, KS_ONCE_WAITED, NULL, w->flags);
		/* acquire: as above */
		state = atomic_load_explicit(w->state, memory_order_acquire);
	}
}

int ks__once_slow(struct ks_once *o, void (*fn)(void))
{
	struct ks_once_word w = { .state = &o->state, .owner = &o->owner, .flags = o->flags };

	return ks_once_word_slow(&w, fn);
}

int ks__once_word(_Atomic uint32_t *state, void (*fn)(void))
{
	struct ks_once_word w = { .state = state, .owner = NULL, .flags = 0 };

	return ks_once_word_slow(&w, fn);
}
