// SPDX-License-Identifier: MIT
/*
 * Rings: every item pushed is popped exactly once, and a consumer sees each producer's items in
 * the order they were pushed. Items carry their producer and sequence number; a bitmap per
 * producer records the pops. The blocking, timed and try calls mix (a try neither sleeps nor
 * wakes, so the blocking calls keep sleepers moving). An SPSC ring has one producer and one
 * consumer, which use timed calls only, so that the stop never needs a second producer.
 */
#include <sched.h>

#include "../ops/busted.h"
#include "../ops/ring.h"
#include "torture.h"

#define RING_MAX_ITEMS	(1ul << 18)	/* per producer and scene: bounds the bitmaps */
#define RING_MAX_CAP	64
#define RING_SEQ_BITS	40
#define RING_STOP	((void *)(uintptr_t)((1ull << RING_SEQ_BITS) - 1))

struct rings {
	alignas(64) unsigned char ring[512];
	alignas(64) unsigned char storage[RING_MAX_CAP * KS_RING_SPACING];
	size_t capacity;
	unsigned producers;
	atomic_ulong pushed[TORTURE_MAX_WORKERS];
	atomic_uchar popped[TORTURE_MAX_WORKERS][RING_MAX_ITEMS / 8];
	atomic_ulong pops;
};

static const struct ring_ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static void *item(unsigned producer, unsigned long seq)
{
	return (void *)(uintptr_t)((uint64_t)producer << RING_SEQ_BITS | seq);
}

static void ring_setup(struct scene *s)
{
	static const size_t caps[] = { 2, 4, 8, 64 };
	struct rings *x = torture_state(s);

	x->capacity = caps[s->started_ns / 1000 % 4];
	x->producers = s->nworkers / 2;
	ops_of(s)->init(x->ring, x->storage, x->capacity, torture_flags(s));
}

/* A pop: exactly once, in each producer's order as this consumer sees it. */
static void popped(struct scene *s, struct rings *x, void *it, unsigned long *last)
{
	uint64_t v = (uintptr_t)it;
	unsigned p = (unsigned)(v >> RING_SEQ_BITS);
	unsigned long seq = v & ((1ull << RING_SEQ_BITS) - 1);

	if (it == RING_STOP)
		return;
	if (p >= x->producers || !seq || seq > RING_MAX_ITEMS) {
		torture_fail(s, "popped an item nobody pushed (%#llx)", (unsigned long long)v);
		return;
	}
	if (atomic_fetch_or(&x->popped[p][(seq - 1) / 8], 1u << (seq - 1) % 8) &
	    1u << (seq - 1) % 8)
		torture_fail(s, "item %lu of producer %u popped twice", seq, p);
	if (last) {
		if (seq <= last[p])
			torture_fail(s, "producer %u's items out of order: %lu after %lu", p, seq,
				     last[p]);
		last[p] = seq;
	}
	atomic_fetch_add(&x->pops, 1);
}

static int64_t ring_timeout(struct scene *s, struct worker *w)
{
	if (ops_of(s)->caps & OPS_RING_SINGLE)
		return torture_below(w, 4) ? torture_timeout_timed(w) : OPS_TRY;
	return torture_timeout(w, ops_of(s)->caps);
}

static void producer(struct scene *s, struct rings *x, struct worker *w)
{
	unsigned p = w->id;
	unsigned long seq = 0;

	while (!torture_stopping(s) && seq < RING_MAX_ITEMS) {
		int64_t t = ring_timeout(s, w);
		void *it = item(p, seq + 1);
		int r;

		torture_enter(w, t == OPS_BLOCK ? "push" : t == OPS_TRY ? "try_push" :
			      "push_timeout", t);
		r = torture_leave(w, ops_of(s)->push(x->ring, &it, t), t);
		if (!r)
			atomic_store(&x->pushed[p], ++seq);
		else if (r != -ETIMEDOUT)
			torture_fail(s, "push returned %d", r);
		torture_pause(w);
	}
}

static void consumer(struct scene *s, struct rings *x, struct worker *w)
{
	unsigned long last[TORTURE_MAX_WORKERS] = { 0 };

	while (!torture_stopping(s)) {
		int64_t t = ring_timeout(s, w);
		void *it = NULL;
		int r;

		torture_enter(w, t == OPS_BLOCK ? "pop" : t == OPS_TRY ? "try_pop" : "pop_timeout",
			      t);
		r = torture_leave(w, ops_of(s)->pop(x->ring, &it, t), t);
		if (!r)
			popped(s, x, it, last);
		else if (r != -ETIMEDOUT)
			torture_fail(s, "pop returned %d", r);
		torture_pause(w);
	}
}

static void ring_work(struct scene *s, struct worker *w)
{
	struct rings *x = torture_state(s);

	if (w->id < x->producers)
		producer(s, x, w);
	else
		consumer(s, x, w);
}

/* Sleepers are woken through the blocking calls: an item for a pop, room for a push. */
static void ring_stop(struct scene *s)
{
	struct rings *x = torture_state(s);
	void *it = RING_STOP;

	if (ops_of(s)->caps & OPS_RING_SINGLE)
		return;			/* its two workers only make timed calls */
	if (ops_of(s)->pop(x->ring, &it, 0) == 0)
		popped(s, x, it, NULL);
	it = RING_STOP;
	ops_of(s)->push(x->ring, &it, 0);
}

static void ring_check(struct scene *s)
{
	struct rings *x = torture_state(s);
	unsigned long pushed = 0;
	void *it;

	while (ops_of(s)->pop(x->ring, &it, OPS_TRY) == 0)
		popped(s, x, it, NULL);
	for (unsigned p = 0; p < x->producers; p++) {
		unsigned long n = atomic_load(&x->pushed[p]);

		pushed += n;
		for (unsigned long seq = 1; seq <= n; seq++)
			if (!(atomic_load(&x->popped[p][(seq - 1) / 8]) & 1u << (seq - 1) % 8)) {
				torture_fail(s, "item %lu of producer %u was pushed and never "
					     "popped", seq, p);
				return;
			}
	}
	if (pushed != atomic_load(&x->pops))
		torture_fail(s, "%lu items pushed, %lu popped", pushed, atomic_load(&x->pops));
}

#define RING_SCENARIO(ident, table, busted, nworkers, what)				\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = SC_PROCESSES | (busted),					\
		.workers = nworkers,							\
		.state_size = sizeof(struct rings),					\
		.ops = &(table),							\
		.setup = ring_setup,							\
		.work = ring_work,							\
		.stop = ring_stop,							\
		.check = ring_check,							\
	}

RING_SCENARIO(torture_ring_mpmc, ops_ring_mpmc, 0, 0,
	      "every item exactly once, each producer's order per consumer; push, pop, their "
	      "try and timed forms, capacities 2 to 64");
RING_SCENARIO(torture_ring_spsc, ops_ring_spsc, 0, 2,
	      "one producer, one consumer: every item exactly once, in order");
RING_SCENARIO(torture_busted_ring, ops_busted_ring, SC_BUSTED, 4,
	      "an SPSC ring used by two producers and two consumers: the exactly-once check "
	      "must fire");
