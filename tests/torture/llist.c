// SPDX-License-Identifier: MIT
/*
 * The lock-less list: every node added is taken exactly once, and a producer's nodes come out
 * of one del_all in the order it added them (once reversed). Producers add batches of nodes
 * from their own pools; a node goes back to its pool only once a consumer has taken it.
 * Either one consumer mixes del_first and del_all (del_first needs a single consumer), or two
 * consumers use del_all only.
 */
#include <sched.h>

#include "../ops/busted.h"
#include "../ops/llist.h"
#include "torture.h"

#define LLIST_POOL 64

struct item {
	struct ks_llist_node node;
	unsigned producer;
	unsigned long seq;
	atomic_int listed;		/* 1 from its add until a consumer takes it */
};

struct pool {
	struct item items[LLIST_POOL];
	atomic_ulong added, taken;
	unsigned long next_seq;		/* the producer's */
	atomic_ulong last_seq_seen;	/* the consumers' */
};

struct lists {
	alignas(64) struct ks_llist_head head;	/* big enough for the busted one too */
	bool del_first;			/* this round: one consumer, with del_first */
	struct pool pool[TORTURE_MAX_WORKERS];
};

static const struct llist_ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static unsigned consumers(const struct lists *x)
{
	return x->del_first ? 1 : 2;
}

static void llist_setup(struct scene *s)
{
	struct lists *x = torture_state(s);

	ops_of(s)->init(&x->head);
	x->del_first = s->started_ns / 1000 % 2;
	for (unsigned p = 0; p < TORTURE_MAX_WORKERS; p++)
		for (unsigned i = 0; i < LLIST_POOL; i++)
			x->pool[p].items[i].producer = p;
}

/* Takes a chain (newest first), checking each node and each producer's order. */
static void take(struct scene *s, struct lists *x, struct ks_llist_node *chain, bool reversed)
{
	unsigned long last[TORTURE_MAX_WORKERS] = { 0 };

	if (!reversed)
		chain = ks_llist_reverse_order(chain);
	while (chain) {
		struct item *it = ks_llist_entry(chain, struct item, node);
		struct pool *p = &x->pool[it->producer];

		chain = ks_llist_next(chain);
		if (it->seq <= last[it->producer])
			torture_fail(s, "producer %u's nodes came out of order (%lu after %lu)",
				     it->producer, it->seq, last[it->producer]);
		last[it->producer] = it->seq;
		if (atomic_exchange(&it->listed, 0) != 1)
			torture_fail(s, "node %lu of producer %u taken twice", it->seq,
				     it->producer);
		atomic_fetch_add(&p->taken, 1);
	}
}

static void consume(struct scene *s, struct lists *x, struct worker *w)
{
	const struct llist_ops *ops = ops_of(s);

	if (x->del_first && torture_below(w, 2)) {
		struct ks_llist_node *n = ops->del_first(&x->head);

		if (n) {
			n->next = NULL;
			take(s, x, n, true);
		}
	} else {
		take(s, x, ops->del_all(&x->head), false);
	}
	torture_count_op(w);
}

static void produce(struct scene *s, struct lists *x, struct worker *w, unsigned p)
{
	struct pool *pl = &x->pool[p];
	unsigned want = 1 + torture_below(w, 4);
	struct item *first = NULL, *last = NULL;

	/* a batch of nodes that are not on the list, oldest last */
	for (unsigned i = 0; i < LLIST_POOL && want; i++) {
		struct item *it = &pl->items[(pl->next_seq + i) % LLIST_POOL];

		if (atomic_load(&it->listed))
			continue;
		atomic_store(&it->listed, 1);
		it->seq = ++pl->next_seq;
		it->node.next = first ? &first->node : NULL;
		if (!last)
			last = it;
		first = it;
		want--;
	}
	if (!first) {
		sched_yield();
		return;
	}
	for (struct item *it = first;; it = ks_llist_entry(it->node.next, struct item, node)) {
		atomic_fetch_add(&pl->added, 1);
		if (it == last)
			break;
	}
	ops_of(s)->add_batch(&first->node, &last->node, &x->head);
	torture_count_op(w);
}

static void llist_work(struct scene *s, struct worker *w)
{
	struct lists *x = torture_state(s);

	while (!torture_stopping(s)) {
		if (w->id < consumers(x))
			consume(s, x, w);
		else
			produce(s, x, w, w->id);
		torture_pause(w);
	}
}

static void llist_check(struct scene *s)
{
	struct lists *x = torture_state(s);

	take(s, x, ops_of(s)->del_all(&x->head), false);
	for (unsigned p = 0; p < s->nworkers; p++)
		if (atomic_load(&x->pool[p].added) != atomic_load(&x->pool[p].taken))
			torture_fail(s, "producer %u added %lu nodes, %lu were taken: nodes lost",
				     p, atomic_load(&x->pool[p].added),
				     atomic_load(&x->pool[p].taken));
}

#define LLIST_SCENARIO(ident, table, busted, what)					\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = (busted),							\
		.state_size = sizeof(struct lists),					\
		.ops = &(table),							\
		.setup = llist_setup,							\
		.work = llist_work,							\
		.check = llist_check,							\
	}

LLIST_SCENARIO(torture_llist, ops_llist, 0,
	       "every node added taken exactly once, each producer's batch in order; del_first "
	       "by a single consumer, del_all by any");
LLIST_SCENARIO(torture_busted_llist, ops_busted_llist, SC_BUSTED,
	       "an add that reads, then stores the head: the nodes-lost check must fire");
