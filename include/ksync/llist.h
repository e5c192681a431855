/* SPDX-License-Identifier: MIT */
/*
 * struct ks_llist_head — the Linux kernel's lock-less list (include/linux/llist.h): a LIFO stack
 * of intrusive nodes whose only shared word is the head pointer.
 *
 *	head->first	NULL (empty) or the node added last; each node's next is an older one
 *
 * add: write node->next = first, then CAS first → node (release), retrying on failure. Any
 * number of threads may add at once. del_all: swap first → NULL (acquire); the caller now owns
 * the whole chain, newest first (ks_llist_reverse_order() gives it in arrival order). Neither can
 * suffer ABA: add's CAS only links a node the caller owns, and del_all compares nothing.
 *
 * del_first pops one node by CAS first → first->next. That CAS compares addresses only, so a
 * second consumer could pop the node and the one under it, and push the first back, between our
 * read of first->next and our CAS: the CAS succeeds and installs a node that is no longer on the
 * list (ABA). Hence the kernel's rule, kept here: del_first needs a single consumer (or a lock
 * among consumers); producers that only add never need one. See docs/llist.md.
 *
 * Header only: every operation is a handful of instructions.
 */
#ifndef KSYNC_LLIST_H
#define KSYNC_LLIST_H

#include <stddef.h>

#include <ksync/common.h>

KS_BEGIN_DECLS

struct ks_llist_node {
	struct ks_llist_node *next;	/* written by the node's owner, before publishing it */
};

struct ks_llist_head {
	KS_ATOMIC(struct ks_llist_node *) first;
};

#define KS_LLIST_HEAD_INIT { NULL }

static inline void ks_llist_init(struct ks_llist_head *head)
{
	atomic_init(&head->first, NULL);
}

#define ks_llist_entry(ptr, type, member)	ks_container_of(ptr, type, member)

/* Nodes of a chain taken by del_all/del_first (or still private): `pos` is the cursor. */
#define ks_llist_for_each(pos, node)							\
	for ((pos) = (node); (pos); (pos) = (pos)->next)

/* As ks_llist_for_each(), but `pos` may be freed or re-added inside the loop. */
#define ks_llist_for_each_safe(pos, n, node)						\
	for ((pos) = (node); (pos) && ((n) = (pos)->next, 1); (pos) = (n))

/* The containing structures: `pos` is a `type *`, `member` its struct ks_llist_node. */
#define ks_llist_for_each_entry(pos, node, member)					\
	for (struct ks_llist_node *ks__pos = (node);					\
	     ks__pos && ((pos) = ks_llist_entry(ks__pos, ks__typeof_deref(pos), member), 1);	\
	     ks__pos = ks__pos->next)

/* As ks_llist_for_each_entry(), but `pos` may be freed or re-added inside the loop. */
#define ks_llist_for_each_entry_safe(pos, node, member)					\
	for (struct ks_llist_node *ks__pos = (node), *ks__nxt;				\
	     ks__pos && (ks__nxt = ks__pos->next,						\
			 (pos) = ks_llist_entry(ks__pos, ks__typeof_deref(pos), member), 1);	\
	     ks__pos = ks__nxt)

/*
 * A snapshot: true if the list held no node when looked at. Only a hint while others add; a
 * consumer that finds it false may still find the list empty if another consumer takes it.
 */
static inline bool ks_llist_empty(const struct ks_llist_head *head)
{
	return atomic_load_explicit(&head->first, memory_order_relaxed) == NULL;
}

static inline struct ks_llist_node *ks_llist_next(const struct ks_llist_node *node)
{
	return node->next;
}

/*
 * Adds the chain new_first → … → new_last (linked through next, owned by the caller) in one
 * step. Any thread, at any time. True if the list was empty before: the kernel's cue to kick a
 * consumer (irq_work, a wake-up) only on the first add of a batch.
 */
static inline bool ks_llist_add_batch(struct ks_llist_node *new_first,
				      struct ks_llist_node *new_last, struct ks_llist_head *head)
{
	struct ks_llist_node *first = atomic_load_explicit(&head->first, memory_order_relaxed);

	do {
		new_last->next = first;
		/* release: publishes the chain's contents and links; pairs with the acquire in
		 * ks_llist_del_all() and ks_llist_del_first() */
	} while (!atomic_compare_exchange_weak_explicit(&head->first, &first, new_first,
							memory_order_release,
							memory_order_relaxed));
	return first == NULL;
}

/* Adds one node. True if the list was empty before. */
static inline bool ks_llist_add(struct ks_llist_node *node, struct ks_llist_head *head)
{
	return ks_llist_add_batch(node, node, head);
}

/*
 * Takes every node at once; the caller owns the returned chain (newest first, NULL if empty).
 * Any number of consumers may call it concurrently with producers and with each other.
 */
static inline struct ks_llist_node *ks_llist_del_all(struct ks_llist_head *head)
{
	/* acquire: pairs with the release CAS of every add whose node we take */
	return atomic_exchange_explicit(&head->first, NULL, memory_order_acquire);
}

/*
 * Takes the newest node (NULL if empty). SINGLE CONSUMER: at most one thread may call
 * del_first (or del_all) at a time; producers may add concurrently. See the ABA note above.
 */
static inline struct ks_llist_node *ks_llist_del_first(struct ks_llist_head *head)
{
	/* acquire: pairs with the add that published entry, so entry->next is its final value */
	struct ks_llist_node *entry = atomic_load_explicit(&head->first, memory_order_acquire);
	struct ks_llist_node *next;

	do {
		if (!entry)
			return NULL;
		/* stable: only we remove nodes, and adds only push nodes above entry */
		next = entry->next;
	} while (!atomic_compare_exchange_weak_explicit(&head->first, &entry, next,
							memory_order_acquire,
							memory_order_acquire));
	return entry;
}

/* Reverses a private chain (as del_all returned it, newest first) into arrival order. */
static inline struct ks_llist_node *ks_llist_reverse_order(struct ks_llist_node *node)
{
	struct ks_llist_node *prev = NULL;

	while (node) {
		struct ks_llist_node *next = node->next;

		node->next = prev;
		prev = node;
		node = next;
	}
	return prev;
}

KS_END_DECLS

#endif /* KSYNC_LLIST_H */
