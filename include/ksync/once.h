/* SPDX-License-Identifier: MIT */
/*
 * struct ks_once — run a function exactly once (pthread_once, Rust's Once), on one futex word.
 *
 *	state 0: INCOMPLETE	nobody has started fn
 *	state 1: RUNNING	one thread runs fn, nobody waits
 *	state 2: WAITED		one thread runs fn, and some thread may sleep in futex_wait
 *	state 3: DONE		fn has returned; its writes are visible to whoever sees DONE
 *
 * ks_once_call(): one acquire load inline; DONE returns at once. Otherwise the slow path CASes
 * INCOMPLETE → RUNNING to become the runner, or marks the word WAITED and sleeps until DONE.
 * The runner publishes DONE with a release swap and wakes everybody only if the swap returned
 * WAITED. `owner` (the runner's kernel tid) turns a recursive call from fn into -EDEADLK.
 * See docs/once.md.
 */
#ifndef KSYNC_ONCE_H
#define KSYNC_ONCE_H

#include <ksync/common.h>

KS_BEGIN_DECLS

struct ks_once {
	KS_ATOMIC(uint32_t) state;
	KS_ATOMIC(int) owner;	/* the runner's tid while RUNNING/WAITED, else 0 */
	uint32_t flags;		/* KS_SHARED */
};

#define KS_ONCE_INCOMPLETE	0u
#define KS_ONCE_RUNNING		1u
#define KS_ONCE_WAITED		2u
#define KS_ONCE_DONE		3u

#define KS_ONCE_INIT { KS_ONCE_INCOMPLETE, 0, 0 }

void ks_once_init(struct ks_once *o, unsigned flags);
int ks__once_slow(struct ks_once *o, void (*fn)(void));

/*
 * 0 once fn has run (here or elsewhere); -EDEADLK if called from fn on the same object; -EINVAL
 * for a NULL fn (when it would have to run) or an object in no valid state.
 */
static inline int ks_once_call(struct ks_once *o, void (*fn)(void))
{
	/* acquire: pairs with the runner's release of DONE, so fn's writes are visible */
	if (ks_likely(atomic_load_explicit(&o->state, memory_order_acquire) == KS_ONCE_DONE))
		return 0;
	return ks__once_slow(o, fn);
}

/* True once fn has returned. */
static inline bool ks_once_done(const struct ks_once *o)
{
	/* acquire: as in ks_once_call() */
	return atomic_load_explicit(&o->state, memory_order_acquire) == KS_ONCE_DONE;
}

KS_END_DECLS

#endif /* KSYNC_ONCE_H */
