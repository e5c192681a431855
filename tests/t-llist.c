// SPDX-License-Identifier: MIT
/*
 * ks_llist: the kernel's lock-less list. The single-threaded contract (LIFO order, the "was
 * empty" return, batches, reversal, the iteration macros), then wall-clock stress: producers add
 * (single nodes and batches) while consumers take the list with del_all; every node arrives
 * exactly once (a per-node state word catches duplicates, per-producer counts catch losses) and,
 * after reversal, in each producer's order. Nodes are recycled through per-producer free lists
 * that the producer drains with del_first while consumers add to them: del_first's
 * single-consumer rule under concurrent adds, with node addresses reused (the ABA setting).
 */
#include <ksync/llist.h>
#include <sched.h>

#include "tap.h"

struct item {
	int value;
	struct ks_llist_node node;
};

static void test_basics(void)
{
	struct ks_llist_head head = KS_LLIST_HEAD_INIT, h2;
	struct item it[4];
	struct ks_llist_node *n, *tmp, *chain;
	struct item *pos;
	int i, sum, order[4], k;

	tap_phase("basics");
	for (i = 0; i < 4; i++)
		it[i].value = i;
	ok(ks_llist_empty(&head), "KS_LLIST_HEAD_INIT is empty");
	ok(ks_llist_del_first(&head) == NULL, "del_first on an empty list: NULL");
	ok(ks_llist_del_all(&head) == NULL, "del_all on an empty list: NULL");
	ok(ks_llist_add(&it[0].node, &head), "add to an empty list returns true");
	ok(!ks_llist_add(&it[1].node, &head), "add to a non-empty list returns false");
	ok(!ks_llist_add(&it[2].node, &head), "... and again");
	ok(!ks_llist_empty(&head), "not empty after adds");
	ok(ks_llist_del_first(&head) == &it[2].node, "del_first takes the newest (LIFO)");
	ok(ks_llist_entry(ks_llist_del_first(&head), struct item, node) == &it[1],
	   "ks_llist_entry finds the containing struct");

	ks_llist_add(&it[1].node, &head);
	ks_llist_add(&it[2].node, &head);
	chain = ks_llist_del_all(&head);
	ok(ks_llist_empty(&head), "del_all empties the list");
	k = 0;
	ks_llist_for_each(n, chain)
		order[k++] = ks_llist_entry(n, struct item, node)->value;
	ok(k == 3 && order[0] == 2 && order[1] == 1 && order[2] == 0,
	   "del_all returns the chain newest first");
	chain = ks_llist_reverse_order(chain);
	k = 0;
	ks_llist_for_each_entry(pos, chain, node)
		order[k++] = pos->value;
	ok(k == 3 && order[0] == 0 && order[1] == 1 && order[2] == 2,
	   "reverse_order gives arrival order; for_each_entry walks it");
	ok(ks_llist_reverse_order(NULL) == NULL, "reversing an empty chain");

	ks_llist_init(&h2);
	sum = 0;
	ks_llist_for_each_safe(n, tmp, chain) {
		sum += ks_llist_entry(n, struct item, node)->value;
		ks_llist_add(n, &h2);	/* rewrites n->next: only a _safe walk survives */
	}
	is(sum, 3, "for_each_safe survives moving each node to another list");
	chain = ks_llist_del_all(&h2);
	k = 0;
	ks_llist_for_each_entry_safe(pos, chain, node) {
		pos->node.next = NULL;
		k++;
	}
	is(k, 3, "for_each_entry_safe survives clobbering next");

	/* a batch: it[3] → it[2] → it[1], added above it[0] in one step */
	ks_llist_add(&it[0].node, &head);
	it[3].node.next = &it[2].node;
	it[2].node.next = &it[1].node;
	ok(!ks_llist_add_batch(&it[3].node, &it[1].node, &head),
	   "add_batch to a non-empty list returns false");
	chain = ks_llist_reverse_order(ks_llist_del_all(&head));
	k = 0;
	ks_llist_for_each_entry(pos, chain, node)
		order[k++] = pos->value;
	ok(k == 4 && order[0] == 0 && order[1] == 1 && order[2] == 2 && order[3] == 3,
	   "a batch keeps its internal order");
	it[2].node.next = &it[1].node;
	it[1].node.next = NULL;
	ok(ks_llist_add_batch(&it[2].node, &it[1].node, &head),
	   "add_batch to an empty list returns true");
	ok(ks_llist_del_first(&head) == &it[2].node && ks_llist_del_first(&head) == &it[1].node &&
	   ks_llist_empty(&head), "del_first walks a batch");
}

/* ---- stress ---------------------------------------------------------------------------------- */

#define MAX_PRODUCERS	4
#define MAX_CONSUMERS	2
#define POOL		256	/* nodes per producer, recycled */
#define MAX_BATCH	3

enum { NODE_FREE, NODE_LISTED, NODE_TAKEN };

struct snode {
	struct ks_llist_node node;
	unsigned producer;
	unsigned long seq;
	atomic_int state;
};

struct stress {
	struct ks_llist_head list;
	struct ks_llist_head free[MAX_PRODUCERS];
	struct snode pool[MAX_PRODUCERS][POOL];
	unsigned long sent[MAX_PRODUCERS];
	atomic_ulong received[MAX_PRODUCERS];
	atomic_ulong dups, misordered, batches;
	atomic_bool stop_producers, stop_consumers;
	unsigned nprod;
};

struct pctx {
	struct stress *s;
	unsigned id;
};

static struct snode *take_free(struct stress *s, unsigned id)
{
	struct ks_llist_node *n;

	while (!(n = ks_llist_del_first(&s->free[id]))) {
		if (atomic_load_explicit(&s->stop_producers, memory_order_relaxed))
			return NULL;
		sched_yield();
	}
	return ks_llist_entry(n, struct snode, node);
}

static void *producer_main(void *arg)
{
	struct pctx *c = arg;
	struct stress *s = c->s;
	unsigned long seq = 0;
	unsigned round = 0;

	while (!atomic_load_explicit(&s->stop_producers, memory_order_relaxed)) {
		unsigned want = 1 + round++ % MAX_BATCH, got;
		struct snode *first = NULL, *last = NULL;

		/* a batch is linked newest first: the highest seq at its head */
		for (got = 0; got < want; got++) {
			struct snode *sn = take_free(s, c->id);

			if (!sn)
				break;
			sn->seq = seq++;
			atomic_store_explicit(&sn->state, NODE_LISTED, memory_order_relaxed);
			sn->node.next = first ? &first->node : NULL;
			if (!last)
				last = sn;
			first = sn;
		}
		if (first)
			ks_llist_add_batch(&first->node, &last->node, &s->list);
	}
	s->sent[c->id] = seq;
	return NULL;
}

static void *consumer_main(void *arg)
{
	struct stress *s = arg;
	unsigned long next[MAX_PRODUCERS] = { 0 };	/* the lowest seq still acceptable */
	bool last_round = false;

	for (;;) {
		struct ks_llist_node *chain, *n, *tmp;

		if (atomic_load_explicit(&s->stop_consumers, memory_order_acquire))
			last_round = true;
		chain = ks_llist_reverse_order(ks_llist_del_all(&s->list));
		if (chain)
			atomic_fetch_add_explicit(&s->batches, 1, memory_order_relaxed);
		ks_llist_for_each_safe(n, tmp, chain) {
			struct snode *sn = ks_llist_entry(n, struct snode, node);
			unsigned p = sn->producer;

			int was = atomic_exchange_explicit(&sn->state, NODE_TAKEN,
							   memory_order_relaxed);

			if (was != NODE_LISTED)
				atomic_fetch_add(&s->dups, 1);
			if (sn->seq < next[p])
				atomic_fetch_add(&s->misordered, 1);
			next[p] = sn->seq + 1;
			atomic_fetch_add_explicit(&s->received[p], 1, memory_order_relaxed);
			ks_llist_add(n, &s->free[p]);
		}
		if (last_round)
			break;
		if (!chain)
			sched_yield();
	}
	return NULL;
}

static void run_stress(unsigned nprod, unsigned ncons)
{
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t pt[MAX_PRODUCERS], ct[MAX_CONSUMERS];
	struct pctx pc[MAX_PRODUCERS];
	unsigned long total = 0;
	unsigned p, i;
	bool counts = true;

	s->nprod = nprod;
	for (p = 0; p < nprod; p++) {
		ks_llist_init(&s->free[p]);
		for (i = 0; i < POOL; i++) {
			s->pool[p][i].producer = p;
			ks_llist_add(&s->pool[p][i].node, &s->free[p]);
		}
	}
	for (i = 0; i < ncons; i++)
		ct[i] = tap_thread(consumer_main, s);
	for (p = 0; p < nprod; p++) {
		pc[p] = (struct pctx){ .s = s, .id = p };
		pt[p] = tap_thread(producer_main, &pc[p]);
	}
	tap_sleep_ms(tap_stress_ms());
	atomic_store(&s->stop_producers, true);
	for (p = 0; p < nprod; p++)
		pthread_join(pt[p], NULL);
	/* release: the consumers' last round starts after every producer's last add */
	atomic_store_explicit(&s->stop_consumers, true, memory_order_release);
	for (i = 0; i < ncons; i++)
		pthread_join(ct[i], NULL);

	for (p = 0; p < nprod; p++) {
		total += s->sent[p];
		if (atomic_load(&s->received[p]) != s->sent[p]) {
			counts = false;
			diag("producer %u: sent %lu, received %lu", p, s->sent[p],
			     atomic_load(&s->received[p]));
		}
	}
	diag("%u producers, %u consumers: %lu nodes in %lu del_all batches", nprod, ncons, total,
	     atomic_load(&s->batches));
	ok(counts && total > 0, "%u producers, %u del_all consumers: no node lost", nprod, ncons);
	is(atomic_load(&s->dups), 0, "%u producers, %u del_all consumers: no node taken twice",
	   nprod, ncons);
	is(atomic_load(&s->misordered), 0,
	   "%u producers, %u consumers: each producer's order holds after reverse", nprod, ncons);
	free(s);
}

int main(void)
{
	tap_start(60);
	test_basics();
	tap_phase("stress: 4 producers, 1 consumer");
	run_stress(4, 1);
	tap_phase("stress: 3 producers, 2 consumers");
	run_stress(3, 2);
	return tap_done();
}
