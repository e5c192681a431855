// SPDX-License-Identifier: MIT
/*
 * ks_workqueue: bad input, the pending bit (a second queue_work of a pending item returns false
 * and the item runs once), flush (waits for what was queued before it, not for what came
 * after), destroy with pending work and with work that re-queues itself, re-queueing from a
 * work function, no item running twice at once, -EDEADLK for flush/destroy from a work
 * function, and a wall-clock stress of many producers: every successful queue_work is matched
 * by exactly one run. Also: a flush after a queue_work that returned false waits for a run that
 * started after that call; a flush waiting while destroy runs returns before the memory goes;
 * NULL queues.
 */
#include <ksync/workqueue.h>
#include <sched.h>

#include "inject.h"
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
	ok(!ks_workqueue_queue(wq, NULL) && !ks_workqueue_queue(wq, &nofn),
	   "NULL work or fn: false");
	ok(!ks_workqueue_queue(NULL, &c.work) && !ks_work_pending(&c.work),
	   "NULL queue: false, and the item is not left pending");
	is(ks_workqueue_flush(NULL), -EINVAL, "flush(NULL): -EINVAL");
	is(ks_workqueue_destroy(NULL), -EINVAL, "destroy(NULL): -EINVAL");
	is(ks_workqueue_nthreads(NULL), 0, "nthreads(NULL): 0");

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
	ks_workqueue_queue(wq, &late.work);	/* after the flush began: not waited for */
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

/* ---- a flush after a queueing call, true or false, covers that call ------------------------- */

/*
 * Contract: once ks_workqueue_queue() returns, true or false, a run of the item starts after
 * the call, and a flush issued after the call waits for that run. Each queuer bumps `stamp`
 * before it queues; each run records the stamp it reads when it starts; after its flush, a
 * queuer checks that some run started after its stamp. Two queuers collide on one item, so that
 * one often gets false while the other is between claiming the item and linking it.
 */
struct covered {
	struct ks_work work;
	atomic_ulong stamp;	/* bumped by each queuer before its queue_work */
	atomic_ulong seen;	/* the highest stamp a run read when it started */
};

struct coverer {
	struct covered *c;
	struct ks_workqueue *wq;
	int64_t end;
	unsigned long refused, uncovered;
};

static void covered_fn(struct ks_work *w)
{
	struct covered *c = ks_container_of(w, struct covered, work);
	unsigned long s = atomic_load(&c->stamp), old = atomic_load(&c->seen);

	while (old < s && !atomic_compare_exchange_weak(&c->seen, &old, s))
		;
}

static void *coverer_main(void *arg)
{
	struct coverer *q = arg;

	while (tap_before(q->end)) {
		unsigned long mine = atomic_fetch_add(&q->c->stamp, 1) + 1;

		if (!ks_workqueue_queue(q->wq, &q->c->work))
			q->refused++;
		ks_workqueue_flush(q->wq);
		if (atomic_load(&q->c->seen) < mine)
			q->uncovered++;
	}
	return NULL;
}

static void test_flush_covers(void)
{
	struct covered c = { .work = KS_WORK_INIT(covered_fn) };
	struct coverer q[2];
	unsigned long refused = 0, uncovered = 0, injected = ks_inject_count();
	struct ks_workqueue *wq;
	pthread_t t[2];

	tap_phase("flush after a queueing call");
	ks_workqueue_create(&wq, 2);
	for (int i = 0; i < 2; i++) {
		q[i] = (struct coverer){ .c = &c, .wq = wq,
					 .end = tap_deadline_in_ms(tap_stress_ms() / 2) };
		t[i] = tap_thread(coverer_main, &q[i]);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		refused += q[i].refused;
		uncovered += q[i].uncovered;
	}
	is(ks_workqueue_destroy(wq), 0, "destroy");
	diag("%lu delays injected", ks_inject_count() - injected);
	ok(refused > 0, "queue_work refused the pending item %lu times", refused);
	is(uncovered, 0, "a flush after queue_work (true or false) waited for a run that started "
	   "after the call");
}

/* ---- a flush waiting while destroy runs ------------------------------------------------------ */

/*
 * A flusher waits for a running item; destroy is called, the item ends, the workers leave. The
 * flusher has been woken but has not run yet: destroy must wait for it to leave before freeing
 * the queue. All threads share one CPU and the flusher is SCHED_IDLE, so that it runs only once
 * the others block: on the old code, after destroy had freed the queue (a use after free that
 * ASan names, and that otherwise corrupts the heap or hangs on a lock in freed memory).
 */
static void *idle_flusher_main(void *arg)
{
	struct flusher *f = arg;
	struct sched_param sp = { 0 };

	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	return flusher_main(f);
}

static void test_flush_vs_destroy(void)
{
	enum { ROUNDS = 20 };
	cpu_set_t all, one;
	int good = 0, pinned;

	tap_phase("flush racing destroy");
	sched_getaffinity(0, sizeof(all), &all);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
	/* the threads made from now on inherit the affinity */
	pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
	for (int i = 0; i < ROUNDS; i++) {
		struct ks_workqueue *wq;
		struct gated g;
		struct flusher f = { 0 };
		pthread_t t;
		int d;

		ks_workqueue_create(&wq, 1);
		gated_init(&g);
		ks_workqueue_queue(wq, &g.work);
		wait_entered(&g);
		f.wq = wq;
		t = tap_thread(idle_flusher_main, &f);
		while (!atomic_load(&f.tid))
			tap_sleep_ms(1);
		tap_wait_asleep(atomic_load(&f.tid), 2000);
		atomic_store(&g.open, true);
		d = ks_workqueue_destroy(wq);
		pthread_join(t, NULL);
		good += d == 0 && f.result == 0 && atomic_load(&g.runs) == 1;
	}
	if (pinned)
		sched_setaffinity(0, sizeof(all), &all);
	is(good, ROUNDS, "%d rounds: a flush waiting when destroy began returned 0 after its item "
	   "ran, and destroy returned 0 (run under SANITIZE=address: no use after free)", ROUNDS);
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
	test_flush_covers();
	test_flush_vs_destroy();
	test_destroy();
	test_stress();
	return tap_done();
}
