/* SPDX-License-Identifier: MIT */
/*
 * struct ks_mcs — the MCS queued spinlock (Mellor-Crummey and Scott, 1991): as fair as the
 * ticket lock (include/ksync/spinlock.h), but each waiter spins on its own queue node instead of
 * on the shared word, so a hand-off moves one cache line, not one per waiter.
 *
 *	lock->tail	the last node in the queue; NULL when the lock is free
 *	node->next	the node queued behind this one (set by that waiter, after it swapped in)
 *	node->state	IDLE (0, as zeroed memory), WAITING or HOLDING; a waiter spins while
 *			WAITING, and its predecessor stores HOLDING to hand the lock over
 *
 * lock: swap our node into `tail`; if there was a predecessor, link behind it and spin on our own
 * `state`. unlock: hand over to `next`; with no `next` yet, CAS `tail` back to NULL, or, if a
 * successor has swapped in but not linked itself, wait for the link (a few instructions away).
 * The caller provides the node, which must stay valid and unused elsewhere from lock to unlock.
 * Like every spinlock, the wrong tool when threads can outnumber CPUs. See docs/mcs.md.
 */
#ifndef KSYNC_MCS_H
#define KSYNC_MCS_H

#include <stddef.h>

#include <ksync/common.h>

KS_BEGIN_DECLS

struct ks_mcs_node {
	KS_ATOMIC(struct ks_mcs_node *) next;
	KS_ATOMIC(uint32_t) state;
};

struct ks_mcs {
	KS_ATOMIC(struct ks_mcs_node *) tail;
};

#define KS_MCS_IDLE	0u	/* not in the queue */
#define KS_MCS_WAITING	1u	/* queued behind a holder */
#define KS_MCS_HOLDING	2u	/* this node's thread holds the lock */

#define KS_MCS_INIT { NULL }
#define KS_MCS_NODE_INIT { NULL, KS_MCS_IDLE }

/* KS_SHARED is accepted and changes nothing (see docs/mcs.md for use between processes). */
static inline void ks_mcs_init(struct ks_mcs *lock, unsigned flags)
{
	(void)flags;
	atomic_init(&lock->tail, NULL);
}

static inline void ks_mcs_lock(struct ks_mcs *lock, struct ks_mcs_node *node)
{
	struct ks_mcs_node *prev;

	atomic_store_explicit(&node->next, NULL, memory_order_relaxed);
	atomic_store_explicit(&node->state, KS_MCS_WAITING, memory_order_relaxed);
	/*
	 * acquire: pairs with the release CAS of an unlock that emptied the queue; release:
	 * publishes the node's two stores above to the successor that finds it in `tail`
	 */
	prev = atomic_exchange_explicit(&lock->tail, node, memory_order_acq_rel);
	if (ks_likely(!prev)) {
		atomic_store_explicit(&node->state, KS_MCS_HOLDING, memory_order_relaxed);
		return;
	}
	/* release: pairs with the acquire load of `next` in the predecessor's unlock */
	atomic_store_explicit(&prev->next, node, memory_order_release);
	/* acquire: pairs with the predecessor's release store of HOLDING */
	while (atomic_load_explicit(&node->state, memory_order_acquire) == KS_MCS_WAITING)
		ks_cpu_relax();
}

/* Takes the lock only if it is free (nobody holds it or waits); never spins. */
static inline bool ks_mcs_trylock(struct ks_mcs *lock, struct ks_mcs_node *node)
{
	struct ks_mcs_node *free_tail = NULL;

	atomic_store_explicit(&node->next, NULL, memory_order_relaxed);
	atomic_store_explicit(&node->state, KS_MCS_HOLDING, memory_order_relaxed);
	/* acquire and release: as in ks_mcs_lock() */
	if (atomic_compare_exchange_strong_explicit(&lock->tail, &free_tail, node,
						    memory_order_acq_rel, memory_order_relaxed))
		return true;
	atomic_store_explicit(&node->state, KS_MCS_IDLE, memory_order_relaxed);
	return false;
}

/* 0; -EPERM if `node` does not hold the lock (nothing changes). */
static inline int ks_mcs_unlock(struct ks_mcs *lock, struct ks_mcs_node *node)
{
	struct ks_mcs_node *next;

	if (ks_unlikely(atomic_load_explicit(&node->state, memory_order_relaxed) !=
			KS_MCS_HOLDING))
		return -EPERM;
	atomic_store_explicit(&node->state, KS_MCS_IDLE, memory_order_relaxed);
	/* acquire: pairs with the successor's release store of `next` (its node is ready) */
	next = atomic_load_explicit(&node->next, memory_order_acquire);
	if (ks_likely(!next)) {
		struct ks_mcs_node *self = node;

		/* release: pairs with the acquire exchange of the next locker */
		if (atomic_compare_exchange_strong_explicit(&lock->tail, &self, NULL,
							    memory_order_release,
							    memory_order_relaxed))
			return 0;
		/* a successor swapped itself in and is about to link behind us */
		while (!(next = atomic_load_explicit(&node->next, memory_order_acquire)))
			ks_cpu_relax();
	}
	/* release: pairs with the successor's acquire spin on its state */
	atomic_store_explicit(&next->state, KS_MCS_HOLDING, memory_order_release);
	return 0;
}

static inline bool ks_mcs_is_locked(const struct ks_mcs *lock)
{
	return atomic_load_explicit(&lock->tail, memory_order_relaxed) != NULL;
}

KS_END_DECLS

#endif /* KSYNC_MCS_H */
