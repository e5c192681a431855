/* SPDX-License-Identifier: MIT */
/*
 * ks_llist as the harnesses see it: its own table. Any number of threads may add; del_first
 * needs a single consumer (the kernel's rule, see include/ksync/llist.h); del_all any number.
 */
#ifndef KSYNC_TESTS_OPS_LLIST_H
#define KSYNC_TESTS_OPS_LLIST_H

#include <ksync/llist.h>

#include "ops.h"

struct llist_ops {
	const char *name;
	unsigned caps;
	size_t size;
	void (*init)(void *head);
	bool (*add_batch)(struct ks_llist_node *first, struct ks_llist_node *last, void *head);
	struct ks_llist_node *(*del_all)(void *head);
	struct ks_llist_node *(*del_first)(void *head);
};

static inline void ops_llist_init(void *head)
{
	ks_llist_init(head);
}

static inline bool ops_llist_add_batch(struct ks_llist_node *first, struct ks_llist_node *last,
				       void *head)
{
	if (first == last)
		return ks_llist_add(first, head);
	return ks_llist_add_batch(first, last, head);
}

static inline struct ks_llist_node *ops_llist_del_all(void *head)
{
	return ks_llist_del_all(head);
}

static inline struct ks_llist_node *ops_llist_del_first(void *head)
{
	return ks_llist_del_first(head);
}

static const struct llist_ops ops_llist __attribute__((unused)) = {
	.name = "llist",
	.size = sizeof(struct ks_llist_head),
	.init = ops_llist_init,
	.add_batch = ops_llist_add_batch,
	.del_all = ops_llist_del_all,
	.del_first = ops_llist_del_first,
};

#endif /* KSYNC_TESTS_OPS_LLIST_H */
