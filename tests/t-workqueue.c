// SPDX-License-Identifier: MIT
/*
 * ks_workqueue: bad input, the pending bit (a second queue_work of a pending item returns false
 * and the item runs once), flush (waits for what was queued before it, not for what came
 * after), destroy with pending work and with work that re-queues itself, re-queueing from a
 * work function, no item running twice at once, -EDEADLK for flush/destroy from a work
 * function, and a wall-clock stress of many producers: every successful queue_work is matched
 * by exactly one run.
 */
#include <ksync/workqueue.h>
#include <sched.h>

#include "tap.h"

/* A work item that blocks on a gate until the test opens it. */
struct gated {
	struct ks_work work;
	atomic_bool open;
	atomic_bool entered;
	atomic_int runs;
};

static void gated_fn(struct ks_work *w)
{
	struct gated *g = ks_container_of(w, struct gated, work);

	atomic_store(&g->entered, true);
	while (!atomic_load(&g->open))
		tap_sleep_ms(1);
	atomic_fetch_add(&g->runs, 1);
}

static void gated_init(struct gated *g)
{
	ks_work_init(&g->work, gated_fn);
	atomic_store(&g->open, false);
	atomic_store(&g->entered, false);
	atomic_store(&g->runs, 0);
}

static void wait_entered(struct gated *g)
{
	while (!atomic_load(&g->entered))
		tap_sleep_ms(1);
}

struct counted {
	struct ks_work work;
	atomic_int runs;
};

static void counted_fn(struct ks_work *w)
{
	atomic_fetch_add(&ks_container_of(w, struct counted, work)->runs, 1);
}

static void test_basics(void)
{
	struct ks_workqueue *wq = NULL;
	struct gated g;
	struct counted c = { .work = KS_WORK_INIT(counted_fn) };
	struct ks_work nofn = KS_WORK_INIT(NULL);

	tap_phase("basics");
	is(ks_workqueue_create(&wq, 0), -EINVAL, "0 threads: -EINVAL");
	is(ks_workqueue_create(&wq, KS_WORKQUEUE_MAX_THREADS + 1), -EINVAL, "too many threads");
	is(ks_workqueue_create(NULL, 1), -EINVAL, "NULL result pointer: -EINVAL");
	is(ks_workqueue_create(&wq, 1), 0, "create with 1 thread");
	is(ks_workqueue_nthreads(wq), 1, "nthreads");
	is(ks_workqueue_flush(wq), 0, "flush of an idle queue returns at once");
	ok(!ks_workqueue_queue(wq, NULL) && !ks_workqueue_queue(wq, &nofn), "NULL work or fn: false");

	gated_init(&g);
	ok(ks_workqueue_queue(wq, &g.work), "queue a blocking item");
	wait_entered(&g);
	ok(!ks_work_pending(&g.work), "a running item is no longer pending");
	ok(ks_workqueue_queue(wq, &c.work), "queue an item behind it");
	ok(ks_work_pending(&c.work), "... which is pending");
	ok(!ks_workqueue_queue(wq, &c.work), "queueing a pending item again returns false");
	ok(ks_workqueue_queue(wq, &g.work), "a running item can be queued again");
	ok(!ks_workqueue_queue(wq, &g.work), "... once");
	atomic_store(&g.open, true);
	is(ks_workqueue_flush(wq), 0, "flush");
	is(atomic_load(&c.runs), 1, "the doubly queued item ran once");
	is(atomic_load(&g.runs), 2, "the item queued while running ran again");
	ok(!ks_work_pending(&c.work), "nothing pending after flush");
	is(ks_workqueue_destroy(wq), 0, "destroy");
}

/* ---- flush waits for earlier items only ----------------------------------------------------- */

struct flusher {
	struct ks_workqueue *wq;
	atomic_int tid;
	atomic_bool done;
	int result;
};

static void *flusher_main(void *arg)
{
	struct flusher *f = arg;

	atomic_store(&f->tid, ks_self_tid());
	f->result = ks_workqueue_flush(f->wq);
	atomic_store(&f->done, true);
	return NULL;
}

static void test_flush(void)
{
	enum { N = 200 };
	struct ks_workqueue *wq;
	struct gated early, late;
	struct counted *c = calloc(N, sizeof(*c));
	struct flusher f = { 0 };
	pthread_t t;
	int i, ran = 0;

	tap_phase("flush");
	ks_workqueue_create(&wq, 3);
	for (i = 0; i < N; i++) {
		ks_work_init(&c[i].work, counted_fn);
		ks_workqueue_queue(wq, &c[i].work);
	}
	is(ks_workqueue_flush(wq), 0, "flush after %d items", N);
	for (i = 0; i < N; i++)
		ran += atomic_load(&c[i].runs) == 1;
	is(ran, N, "every item queued before flush had run when it returned");

	gated_init(&early);
	gated_init(&late);
	ks_workqueue_queue(wq, &early.work);
	f.wq = wq;
	t = tap_thread(flusher_main, &f);
	while (!atomic_load(&f.tid))
		tap_sleep_ms(1);
	tap_wait_asleep(atomic_load(&f.tid), 2000);
	ok(!atomic_load(&f.done), "flush waits for a running earlier item");
	ks_workqueue_queue(wq, &late.work);		/* after the flush began: not waited for */
	wait_entered(&late);
	atomic_store(&early.open, true);
	for (i = 0; i < 10000 && !atomic_load(&f.done); i++)
		tap_sleep_ms(1);
	ok(atomic_load(&f.done) && f.result == 0,
	   "flush returns once the earlier item is done, while a later one still runs");
	atomic_store(&late.open, true);
	pthread_join(t, NULL);
	is(ks_workqueue_destroy(wq), 0, "destroy");
	is(atomic_load(&late.runs), 1, "the later item ran too");
	free(c);
}

/* ---- destroy drains; re-queueing; no item runs twice at once ------------------------------ */

struct chain {
	struct ks_work work;
	struct ks_workqueue *wq;
	atomic_int runs, inside, overlaps;
	int limit;
	int flush_result, destroy_result;
};

static void chain_fn(struct ks_work *w)
{
	struct chain *ch = ks_container_of(w, struct chain, work);

	if (atomic_fetch_add(&ch->inside, 1) != 0)
		atomic_fetch_add(&ch->overlaps, 1);
	if (atomic_fetch_add(&ch->runs, 1) == 0) {
		ch->flush_result = ks_workqueue_flush(ch->wq);
		ch->destroy_result = ks_workqueue_destroy(ch->wq);
	}
	if (atomic_load(&ch->runs) < ch->limit)
		ks_workqueue_queue(ch->wq, w);	/* again, while still running */
	sched_yield();				/* let another worker try to take it */
	atomic_fetch_sub(&ch->inside, 1);
}

static void test_destroy(void)
{
	enum { N = 1000, CHAINS = 4, LIMIT = 300 };
	struct ks_workqueue *wq;
	struct counted *c = calloc(N, sizeof(*c));
	struct chain ch[CHAINS];
	int i, ran = 0, runs = 0, overlaps = 0;

	tap_phase("destroy");
	ks_workqueue_create(&wq, 2);
	for (i = 0; i < N; i++) {
		ks_work_init(&c[i].work, counted_fn);
		ks_workqueue_queue(wq, &c[i].work);
	}
	is(ks_workqueue_destroy(wq), 0, "destroy with %d items pending", N);
	for (i = 0; i < N; i++)
		ran += atomic_load(&c[i].runs) == 1;
	is(ran, N, "destroy ran every pending item once");

	tap_phase("re-queue");
	ks_workqueue_create(&wq, 4);
	for (i = 0; i < CHAINS; i++) {
		memset(&ch[i], 0, sizeof(ch[i]));
		ks_work_init(&ch[i].work, chain_fn);
		ch[i].wq = wq;
		ch[i].limit = LIMIT;
		ks_workqueue_queue(wq, &ch[i].work);
	}
	is(ks_workqueue_destroy(wq), 0, "destroy while items re-queue themselves");
	for (i = 0; i < CHAINS; i++) {
		runs += atomic_load(&ch[i].runs) == LIMIT;
		overlaps += atomic_load(&ch[i].overlaps);
	}
	is(runs, CHAINS, "each self-re-queueing item ran its %d times before destroy returned",
	   LIMIT);
	is(overlaps, 0, "an item queued again while running never ran on two workers at once");
	is(ch[0].flush_result, -EDEADLK, "flush from a work function: -EDEADLK");
	is(ch[0].destroy_result, -EDEADLK, "destroy from a work function: -EDEADLK");
	free(c);
}

/* ---- many producers, wall-clock stress ----------------------------------------------------- */

#define PRODUCERS	4
#define POOL		64

struct sitem {
	struct ks_work work;
	atomic_ulong runs;
	atomic_int inside;
};

struct sprod {
	struct ks_workqueue *wq;
	struct sitem *items;		/* shared by all producers: they collide on purpose */
	unsigned id;
	unsigned long queued[POOL];	/* per item: this producer's successful queue_work */
	unsigned long refused;
	int64_t end;
};

static atomic_ulong overlaps;

static void sitem_fn(struct ks_work *w)
{
	struct sitem *it = ks_container_of(w, struct sitem, work);

	if (atomic_fetch_add(&it->inside, 1) != 0)
		atomic_fetch_add(&overlaps, 1);
	atomic_fetch_add_explicit(&it->runs, 1, memory_order_relaxed);
	atomic_fetch_sub(&it->inside, 1);
}

static void *sprod_main(void *arg)
{
	struct sprod *p = arg;
	unsigned i = p->id;
	unsigned long n = 0;

	while (tap_before(p->end)) {
		i = (i * 7 + 3) % POOL;
		if (ks_workqueue_queue(p->wq, &p->items[i].work))
			p->queued[i]++;
		else
			p->refused++;
		if (++n % 4096 == 0)
			ks_workqueue_flush(p->wq);
	}
	return NULL;
}

static void test_stress(void)
{
	struct ks_workqueue *wq;
	struct sitem *items = calloc(POOL, sizeof(*items));
	struct sprod *p = calloc(PRODUCERS, sizeof(*p));
	pthread_t t[PRODUCERS];
	unsigned long total = 0, refused = 0;
	unsigned i, j, exact = 0;

	tap_phase("stress");
	ks_workqueue_create(&wq, 3);
	for (i = 0; i < POOL; i++)
		ks_work_init(&items[i].work, sitem_fn);
	for (i = 0; i < PRODUCERS; i++) {
		p[i].wq = wq;
		p[i].items = items;
		p[i].id = i;
		p[i].end = tap_deadline_in_ms(tap_stress_ms());
		t[i] = tap_thread(sprod_main, &p[i]);
	}
	for (i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	is(ks_workqueue_flush(wq), 0, "final flush");
	for (i = 0; i < POOL; i++) {
		unsigned long q = 0;

		for (j = 0; j < PRODUCERS; j++)
			q += p[j].queued[i];
		total += q;
		exact += atomic_load(&items[i].runs) == q;
	}
	for (j = 0; j < PRODUCERS; j++)
		refused += p[j].refused;
	diag("%d producers: %lu items queued, %lu refused as already pending", PRODUCERS, total,
	     refused);
	is(exact, POOL, "every successful queue_work ran exactly once (%d items, %d producers)",
	   POOL, PRODUCERS);
	is(atomic_load(&overlaps), 0, "no item ran on two workers at once");
	is(ks_workqueue_destroy(wq), 0, "destroy");
	free(items);
	free(p);
}

int main(void)
{
	tap_start(120);
	test_basics();
	test_flush();
	test_destroy();
	test_stress();
	return tap_done();
}
