// SPDX-License-Identifier: MIT
/*
 * Workqueues: a flush covers every earlier queue_work. After queue_work returns, true or
 * false, a run of the item starts after the call began, and a flush issued after the call
 * waits for that run. A clock ticks at each queue_work's start and each run's start; a flush
 * notes, per item, the start tick of the latest queue_work that had returned, and afterwards
 * the latest completed run of that item must have started later. An item never runs on two
 * workers at once, and one-shot items free themselves in their function (they are the
 * function's from then on): nothing in the workqueue may touch them after.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "../ops/busted.h"
#include "../ops/workqueue.h"
#include "torture.h"

#define WQ_ITEMS	8
#define WQ_PAGE		4096

struct wq_item {
	struct ks_work work;
	struct scene *scene;
	atomic_int running;
	atomic_ulong queued_at;		/* start of the latest queue_work that returned */
	atomic_ulong ran_at;		/* start tick of the latest run that completed */
	struct worker *w;		/* the queuer, for the run's pauses */
};

struct one_shot {
	struct ks_work work;
	struct scene *scene;
	bool mapped;
};

struct wq {
	void *wq;
	atomic_ulong clock;
	atomic_long one_shots_live;
	struct wq_item items[WQ_ITEMS];
};

static const struct workqueue_ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static void item_fn(struct ks_work *work)
{
	struct wq_item *it = ks_container_of(work, struct wq_item, work);
	struct wq *x = torture_state(it->scene);
	unsigned long start = atomic_fetch_add(&x->clock, 1) + 1;
	unsigned long prev;

	if (atomic_fetch_add(&it->running, 1))
		torture_fail(it->scene, "an item ran on two workers at once");
	for (unsigned i = start % 512; i; i--)
		ks_cpu_relax();
	atomic_fetch_sub(&it->running, 1);
	prev = atomic_load(&it->ran_at);
	while (prev < start && !atomic_compare_exchange_weak(&it->ran_at, &prev, start))
		;
}

static void one_shot_fn(struct ks_work *work)
{
	struct one_shot *o = ks_container_of(work, struct one_shot, work);
	struct wq *x = torture_state(o->scene);

	/* the function owns the item: freed here, the workqueue must not touch it after */
	if (o->mapped)
		munmap(o, WQ_PAGE);
	else
		free(o);
	atomic_fetch_sub(&x->one_shots_live, 1);
}

static void wq_setup(struct scene *s)
{
	struct wq *x = torture_state(s);
	int r = ops_of(s)->create(&x->wq, 1 + (unsigned)(s->started_ns / 1000 % 3));

	if (r)
		torture_fail(s, "create returned %d", r);
	for (unsigned i = 0; i < WQ_ITEMS; i++) {
		ks_work_init(&x->items[i].work, item_fn);
		x->items[i].scene = s;
	}
}

static void queue(struct scene *s, struct wq *x, struct worker *w)
{
	struct wq_item *it = &x->items[torture_below(w, WQ_ITEMS)];
	unsigned long begin = atomic_fetch_add(&x->clock, 1) + 1, prev;

	if (!torture_below(w, 16)) {
		bool mapped = torture_below(w, 2);
		struct one_shot *o = mapped ? mmap(NULL, WQ_PAGE, PROT_READ | PROT_WRITE,
						   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
				     malloc(sizeof(*o));

		if (o == MAP_FAILED || !o)
			return;
		ks_work_init(&o->work, one_shot_fn);
		o->scene = s;
		o->mapped = mapped;
		atomic_fetch_add(&x->one_shots_live, 1);
		if (!ops_of(s)->queue(x->wq, &o->work))
			torture_fail(s, "queue_work of a fresh item returned false");
		return;
	}
	torture_enter(w, "queue_work", OPS_BLOCK);
	ops_of(s)->queue(x->wq, &it->work);
	torture_leave(w, 0, OPS_BLOCK);
	prev = atomic_load(&it->queued_at);
	while (prev < begin && !atomic_compare_exchange_weak(&it->queued_at, &prev, begin))
		;
}

static void flush(struct scene *s, struct wq *x, struct worker *w)
{
	unsigned long queued[WQ_ITEMS];
	int r;

	for (unsigned i = 0; i < WQ_ITEMS; i++)
		queued[i] = atomic_load(&x->items[i].queued_at);
	if (w)
		torture_enter(w, "flush", OPS_BLOCK);
	r = ops_of(s)->flush(x->wq);
	if (w)
		torture_leave(w, r, OPS_BLOCK);
	if (r)
		torture_fail(s, "flush returned %d", r);
	for (unsigned i = 0; i < WQ_ITEMS; i++) {
		unsigned long ran = atomic_load(&x->items[i].ran_at);

		if (queued[i] && ran < queued[i]) {
			torture_fail(s, "flush returned before a run of an item queued before "
				     "it (queued at tick %lu, last run started at %lu)", queued[i],
				     ran);
			return;
		}
	}
}

static void wq_work(struct scene *s, struct worker *w)
{
	struct wq *x = torture_state(s);

	while (!torture_stopping(s)) {
		if (torture_below(w, 4))
			queue(s, x, w);
		else
			flush(s, x, w);
		torture_pause(w);
	}
}

static void wq_check(struct scene *s)
{
	struct wq *x = torture_state(s);
	int r;

	flush(s, x, NULL);
	r = ops_of(s)->destroy(x->wq);
	if (r)
		torture_fail(s, "destroy returned %d", r);
	if (atomic_load(&x->one_shots_live))
		torture_fail(s, "%ld one-shot items never ran", atomic_load(&x->one_shots_live));
}

#define WQ_SCENARIO(ident, table, busted, what)						\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = (busted),							\
		.state_size = sizeof(struct wq),					\
		.ops = &(table),							\
		.setup = wq_setup,							\
		.work = wq_work,							\
		.check = wq_check,							\
	}

WQ_SCENARIO(torture_workqueue, ops_workqueue, 0,
	    "a flush covers every earlier queue_work (true or false), no item on two workers, "
	    "items that free themselves in their function");
WQ_SCENARIO(torture_busted_workqueue, ops_busted_workqueue, SC_BUSTED,
	    "a flush that returns at once: the flush check must fire");
