// SPDX-License-Identifier: MIT
/*
 * ks_ring: the contract of both kinds (bad input, exactly `capacity` items, FIFO across many
 * laps, full and empty told apart), zero futex calls while nobody sleeps, wall-clock stress of the
 * lock-free calls and of the blocking ones (every item exactly once: a bitmap per producer;
 * each producer's order as seen by each consumer), the blocking calls' timeouts, signals and
 * spurious wake-ups during the wait, many sleepers on each side, and rings shared across fork().
 */
#include <ksync/ring.h>
#include <sched.h>

#include "tap.h"
#include "ops/ring.h"

#define KINDS 2
static const unsigned kinds[KINDS] = { KS_RING_SPSC, KS_RING_MPMC };

static const char *kind_name(unsigned flags)
{
	return (flags & KS_RING_SPSC) ? "spsc" : "mpmc";
}

/* Items are integers: producer in the high bits, 1 + sequence number in the low ones. */
#define SEQ_BITS	40
#define SEQ_MASK	((1ull << SEQ_BITS) - 1)
#define MAX_ITEMS	(1ul << 22)	/* per producer per phase: bounds the bitmaps */

static void *mk_item(unsigned producer, unsigned long seq)
{
	return (void *)(uintptr_t)(((uint64_t)producer << SEQ_BITS) | (seq + 1));
}

static unsigned item_producer(void *item)
{
	return (unsigned)((uintptr_t)item >> SEQ_BITS);
}

static unsigned long item_seq(void *item)
{
	return (unsigned long)(((uintptr_t)item & SEQ_MASK) - 1);
}

static void test_init(void)
{
	struct ks_ring r;
	struct ks_ring_cell cells[8];

	tap_phase("init");
	is(ks_ring_init(&r, NULL, 8, 0), -EINVAL, "NULL storage: -EINVAL");
	is(ks_ring_init(&r, cells, 0, 0), -EINVAL, "capacity 0: -EINVAL");
	is(ks_ring_init(&r, cells, 1, 0), -EINVAL, "capacity 1: -EINVAL");
	is(ks_ring_init(&r, cells, 6, KS_RING_SPSC), -EINVAL, "capacity 6: -EINVAL");
	is(ks_ring_init(&r, cells, 8, 0x8000), -EINVAL, "unknown flags: -EINVAL");
	is(ks_ring_init(&r, cells, 8, KS_RING_SPSC | KS_SHARED), 0, "spsc, shared: 0");
	is(ks_ring_init(&r, cells, 2, KS_RING_MPMC), 0, "capacity 2: 0");
	is(ks_ring_storage_size(8, KS_RING_SPSC), 8 * sizeof(void *), "spsc storage: pointers");
	is(ks_ring_storage_size(8, KS_RING_MPMC), 8 * sizeof(struct ks_ring_cell),
	   "mpmc storage: a cell a slot");
	ok(offsetof(struct ks_ring, head) - offsetof(struct ks_ring, tail) >= KS_RING_SPACING,
	   "head and tail are KS_RING_SPACING apart (no false sharing)");
	ok(offsetof(struct ks_ring, not_empty) - offsetof(struct ks_ring, head) >= KS_RING_SPACING,
	   "the sleepers' words are apart from head");
}

static void test_basics(unsigned flags)
{
	enum { CAP = 8, LAPS = 50 };
	struct ks_ring r;
	struct ks_ring_cell cells[CAP];
	const char *k = kind_name(flags);
	void *item = NULL;
	bool in_order = true;
	unsigned long i, n = 0;

	tap_phase("basics");
	ks_ring_init(&r, cells, CAP, flags);
	is(ks_ring_capacity(&r), CAP, "%s: capacity", k);
	is(ks_ring_count(&r), 0, "%s: empty at first", k);
	ok(!ks_ring_try_pop(&r, &item), "%s: try_pop on empty fails", k);
	is(ks_ring_pop_timeout(&r, &item, 0), -ETIMEDOUT, "%s: pop_timeout(0) on empty", k);
	is(ks_ring_pop_timeout(&r, &item, -1), -EINVAL, "%s: negative timeout: -EINVAL", k);
	for (i = 0; i < CAP; i++)
		n += ks_ring_try_push(&r, mk_item(0, i));
	is(n, CAP, "%s: all %d slots are usable", k, CAP);
	is(ks_ring_count(&r), CAP, "%s: count says full", k);
	ok(!ks_ring_try_push(&r, mk_item(0, CAP)), "%s: try_push on full fails", k);
	is(ks_ring_push_timeout(&r, mk_item(0, CAP), 0), -ETIMEDOUT, "%s: push_timeout(0)", k);
	is(ks_ring_push_timeout(&r, NULL, -5), -EINVAL, "%s: negative push timeout: -EINVAL", k);
	for (i = 0; i < CAP; i++)
		in_order &= ks_ring_try_pop(&r, &item) && item == mk_item(0, i);
	ok(in_order, "%s: FIFO order", k);
	ok(!ks_ring_try_pop(&r, &item), "%s: empty again after %d pops", k, CAP);

	/* many laps, with the fill level varying, through every entry point */
	in_order = true;
	n = 0;
	for (i = 0; i < LAPS * CAP; i++) {
		unsigned burst = 1 + i % CAP, j;

		for (j = 0; j < burst; j++) {
			if (j % 2)
				ks_ring_push(&r, mk_item(0, n + j));
			else
				in_order &= ks_ring_push_timeout(&r, mk_item(0, n + j), 0) == 0;
		}
		for (j = 0; j < burst; j++) {
			if (j % 3 == 0)
				item = ks_ring_pop(&r);
			else if (j % 3 == 1)
				in_order &= ks_ring_pop_timeout(&r, &item, KS_NSEC_PER_SEC) == 0;
			else
				in_order &= ks_ring_try_pop(&r, &item);
			in_order &= item == mk_item(0, n + j);
		}
		n += burst;
	}
	ok(in_order, "%s: FIFO across %d laps of the ring", k, LAPS);
	ok(ks_ring_try_push(&r, NULL) && ks_ring_try_pop(&r, &item) && item == NULL,
	   "%s: NULL is an item like any other", k);
}

static void test_no_syscalls(unsigned flags)
{
	struct ks_ring r;
	struct ks_ring_cell cells[16];
	unsigned long before;
	void *item;
	int i;

	ks_ring_init(&r, cells, 16, flags);
	before = ks_futex_calls();
	for (i = 0; i < 1000; i++) {
		ks_ring_push(&r, mk_item(0, i));
		ks_ring_push_timeout(&r, mk_item(0, i), KS_NSEC_PER_SEC);
		item = ks_ring_pop(&r);
		ks_ring_pop_timeout(&r, &item, KS_NSEC_PER_SEC);
	}
	is(ks_futex_calls() - before, 0,
	   "%s: blocking calls make no system call while nobody sleeps", kind_name(flags));
}

/* ---- stress ---------------------------------------------------------------------------------- */

#define MAX_PROD	4
#define MAX_CONS	4

struct stress {
	struct ks_ring r;
	struct ks_ring_cell *cells;
	bool blocking;
	unsigned nprod, ncons;
	_Atomic uint64_t *seen[MAX_PROD];	/* one bit per item */
	unsigned long sent[MAX_PROD];
	atomic_ulong received, dups, misordered, foreign, futex_calls;
	atomic_bool stop;
};

struct sctx {
	struct stress *s;
	unsigned id;
};

static void *stress_producer(void *arg)
{
	struct sctx *c = arg;
	struct stress *s = c->s;
	unsigned long seq = 0;

	while (seq < MAX_ITEMS && !atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		void *item = mk_item(c->id, seq);

		if (!s->blocking) {
			while (!ks_ring_try_push(&s->r, item))
				sched_yield();
		} else if (seq % 2) {
			ks_ring_push(&s->r, item);
		} else {
			while (ks_ring_push_timeout(&s->r, item, KS_NSEC_PER_MSEC) != 0)
				;
		}
		seq++;
	}
	s->sent[c->id] = seq;
	atomic_fetch_add(&s->futex_calls, ks_futex_calls());
	return NULL;
}

#define STOP_ITEM ((void *)(uintptr_t)SEQ_MASK)	/* seq field all ones: never a real item */

static void *stress_consumer(void *arg)
{
	struct sctx *c = arg;
	struct stress *s = c->s;
	unsigned long next[MAX_PROD] = { 0 };
	unsigned long n = 0;

	for (;;) {
		void *item;
		unsigned p;
		unsigned long seq;

		if (!s->blocking) {
			while (!ks_ring_try_pop(&s->r, &item))
				sched_yield();
		} else if (n % 2) {
			item = ks_ring_pop(&s->r);
		} else {
			while (ks_ring_pop_timeout(&s->r, &item, KS_NSEC_PER_MSEC) != 0)
				;
		}
		if (item == STOP_ITEM)
			break;
		n++;
		p = item_producer(item);
		seq = item_seq(item);
		if (p >= s->nprod || seq >= MAX_ITEMS) {
			atomic_fetch_add(&s->foreign, 1);
			continue;
		}
		if (seq < next[p])
			atomic_fetch_add(&s->misordered, 1);
		next[p] = seq + 1;
		if (atomic_fetch_or_explicit(&s->seen[p][seq / 64], 1ull << (seq % 64),
					     memory_order_relaxed) & (1ull << (seq % 64)))
			atomic_fetch_add(&s->dups, 1);
	}
	atomic_fetch_add(&s->received, n);
	atomic_fetch_add(&s->futex_calls, ks_futex_calls());
	return NULL;
}

static void run_stress(unsigned flags, unsigned nprod, unsigned ncons, size_t cap, bool blocking)
{
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t pt[MAX_PROD], ct[MAX_CONS];
	struct sctx pc[MAX_PROD], cc[MAX_CONS];
	unsigned long total = 0;
	unsigned i;
	bool complete = true;
	const char *how = blocking ? "blocking" : "try";

	s->cells = calloc(cap, sizeof(*s->cells));
	s->blocking = blocking;
	s->nprod = nprod;
	s->ncons = ncons;
	ks_ring_init(&s->r, s->cells, cap, flags);
	for (i = 0; i < nprod; i++)
		s->seen[i] = calloc(MAX_ITEMS / 64, sizeof(uint64_t));
	for (i = 0; i < ncons; i++) {
		cc[i] = (struct sctx){ .s = s, .id = i };
		ct[i] = tap_thread(stress_consumer, &cc[i]);
	}
	for (i = 0; i < nprod; i++) {
		pc[i] = (struct sctx){ .s = s, .id = i };
		pt[i] = tap_thread(stress_producer, &pc[i]);
	}
	tap_sleep_ms(tap_stress_ms());
	atomic_store(&s->stop, true);
	for (i = 0; i < nprod; i++)
		pthread_join(pt[i], NULL);
	for (i = 0; i < ncons; i++)	/* after every real item: FIFO delivers them first */
		ks_ring_push(&s->r, STOP_ITEM);
	for (i = 0; i < ncons; i++)
		pthread_join(ct[i], NULL);

	for (i = 0; i < nprod; i++) {
		unsigned long w, got = 0;

		for (w = 0; w < MAX_ITEMS / 64; w++)
			got += __builtin_popcountll(atomic_load(&s->seen[i][w]));
		total += s->sent[i];
		if (got != s->sent[i]) {
			complete = false;
			diag("producer %u: sent %lu, %lu distinct received", i, s->sent[i], got);
		}
		free(s->seen[i]);
	}
	diag("%s %s %up/%uc cap %zu: %lu items, %lu futex calls", how, kind_name(flags), nprod,
	     ncons, cap, total, atomic_load(&s->futex_calls));
	ok(complete && total > 0 && atomic_load(&s->received) == total,
	   "%s %s, %u producers, %u consumers, capacity %zu: every item arrived", how,
	   kind_name(flags), nprod, ncons, cap);
	is(atomic_load(&s->dups) + atomic_load(&s->foreign), 0,
	   "%s %s %up/%uc: no item twice, none invented", how, kind_name(flags), nprod, ncons);
	is(atomic_load(&s->misordered), 0,
	   "%s %s %up/%uc: each producer's order holds per consumer", how, kind_name(flags), nprod,
	   ncons);
	free(s->cells);
	free(s);
}

/* ---- blocking calls: timeouts, signals, spurious wake-ups, many sleepers ------------------- */

/* A waiter in push or pop (timeout < 0: the blocking call), through the table. */
static pthread_t start_waiter(struct tap_waiter *w, struct ks_ring *r, bool push, void *item,
			      int64_t timeout_ns)
{
	return tap_waiter_start_item(w, push ? ops_ring_push : ops_ring_pop, r, item, timeout_ns);
}

static void fill(struct ks_ring *r)
{
	unsigned long i = 0;

	while (ks_ring_try_push(r, mk_item(1, i)))
		i++;
}

static void test_timeouts(unsigned flags)
{
	struct ks_ring r;
	struct ks_ring_cell cells[4];
	const char *k = kind_name(flags);
	void *item;
	int64_t t0;

	tap_phase("timeouts");
	ks_ring_init(&r, cells, 4, flags);
	t0 = tap_now_ns();
	is(ks_ring_pop_timeout(&r, &item, 50 * KS_NSEC_PER_MSEC), -ETIMEDOUT, "%s: pop waits", k);
	tap_timeout_ok(tap_now_ns() - t0, 50 * KS_NSEC_PER_MSEC, "pop_timeout on empty");
	fill(&r);
	t0 = tap_now_ns();
	is(ks_ring_push_timeout(&r, NULL, 50 * KS_NSEC_PER_MSEC), -ETIMEDOUT, "%s: push waits", k);
	tap_timeout_ok(tap_now_ns() - t0, 50 * KS_NSEC_PER_MSEC, "push_timeout on full");
	is(r.not_empty.nwaiters + r.not_full.nwaiters, 0, "%s: timed-out waiters deregistered", k);
}

/* A waiter on each side is woken by the other side's call (and its timeout does not fire). */
static void test_wakeups(unsigned flags)
{
	struct ks_ring r;
	struct ks_ring_cell cells[4];
	struct tap_waiter w;
	pthread_t t;
	const char *k = kind_name(flags);
	void *item;

	tap_phase("wake-ups");
	ks_ring_init(&r, cells, 4, flags);
	t = start_waiter(&w, &r, false, NULL, -1);
	tap_waiter_asleep(&w);
	ok(!atomic_load(&w.done), "%s: pop sleeps on an empty ring", k);
	ks_ring_push(&r, mk_item(2, 7));
	pthread_join(t, NULL);
	ok(w.item == mk_item(2, 7), "%s: a push wakes the sleeping pop with the item", k);

	fill(&r);
	t = start_waiter(&w, &r, true, mk_item(3, 3), 10 * KS_NSEC_PER_SEC);
	tap_waiter_asleep(&w);
	ok(!atomic_load(&w.done), "%s: push_timeout sleeps on a full ring", k);
	item = ks_ring_pop(&r);
	pthread_join(t, NULL);
	is(w.result, 0, "%s: a pop wakes the sleeping push_timeout", k);
	while (ks_ring_try_pop(&r, &item) && item != mk_item(3, 3))
		;
	ok(item == mk_item(3, 3), "%s: ... whose item went in last", k);
}

static void test_signals(unsigned flags)
{
	struct ks_ring r;
	struct ks_ring_cell cells[4];
	struct tap_waiter w;
	struct tap_storm storm;
	pthread_t t;
	const char *k = kind_name(flags);
	unsigned long sig0;
	int i;

	tap_phase("signals");
	ks_ring_init(&r, cells, 4, flags);
	sig0 = tap_signals_seen();
	t = start_waiter(&w, &r, false, NULL, 200 * KS_NSEC_PER_MSEC);
	tap_storm_start(&storm, t, 200 * KS_NSEC_PER_USEC);
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	is(w.result, -ETIMEDOUT, "%s: pop_timeout in a signal storm: -ETIMEDOUT, never -EINTR", k);
	tap_timeout_ok(w.took_ns, 200 * KS_NSEC_PER_MSEC, "pop_timeout under a signal storm");

	t = start_waiter(&w, &r, false, NULL, -1);
	tap_storm_start(&storm, t, 300 * KS_NSEC_PER_USEC);
	tap_sleep_ms(100);
	ok(!atomic_load(&w.done), "%s: a signal storm does not end a blocking pop", k);
	ks_ring_push(&r, mk_item(4, 4));
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	ok(w.item == mk_item(4, 4), "%s: ... which then gets its item", k);
	ok(tap_signals_seen() > sig0, "%s: %lu signals delivered", k, tap_signals_seen() - sig0);

	tap_phase("spurious wake-ups");
	t = start_waiter(&w, &r, false, NULL, 150 * KS_NSEC_PER_MSEC);
	for (i = 0; i < 50 && !atomic_load(&w.done); i++) {
		tap_futex_poke(&r.not_empty.seq);
		tap_sleep_ms(1);
	}
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "%s: a poked pop_timeout still times out", k);
	tap_timeout_ok(w.took_ns, 150 * KS_NSEC_PER_MSEC, "poked pop_timeout");

	fill(&r);
	t = start_waiter(&w, &r, true, mk_item(5, 5), -1);
	tap_waiter_asleep(&w);
	for (i = 0; i < 50; i++)
		tap_futex_poke(&r.not_full.seq);
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "%s: a poked push stays asleep while the ring is full", k);
	ks_ring_pop(&r);
	pthread_join(t, NULL);
	is(w.result, 0, "%s: ... and completes after a pop", k);
}

/* Many sleepers on one side; each call on the other side lets exactly one of them through. */
static void test_many_waiters(void)
{
	enum { N = 8 };
	struct ks_ring r;
	struct ks_ring_cell cells[N];
	struct tap_waiter w[N];
	pthread_t t[N];
	uint64_t got = 0;
	void *item;
	int i, n = 0;

	tap_phase("many waiters");
	ks_ring_init(&r, cells, N, KS_RING_MPMC);
	for (i = 0; i < N; i++)
		t[i] = start_waiter(&w[i], &r, false, NULL, i % 2 ? -1 : 30 * KS_NSEC_PER_SEC);
	for (i = 0; i < N; i++)
		tap_waiter_asleep(&w[i]);
	for (i = 0; i < N; i++)
		ks_ring_push(&r, mk_item(0, i));
	for (i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		n += w[i].result == 0;
		got |= 1ull << item_seq(w[i].item);
	}
	ok(n == N && got == (1ull << N) - 1, "%d sleeping pops each got a distinct item", N);

	fill(&r);
	for (i = 0; i < N; i++)
		t[i] = start_waiter(&w[i], &r, true, mk_item(6, i),
				    i % 2 ? -1 : 30 * KS_NSEC_PER_SEC);
	for (i = 0; i < N; i++)
		tap_waiter_asleep(&w[i]);
	for (i = 0; i < N; i++)
		ks_ring_pop(&r);
	n = 0;
	for (i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		n += w[i].result == 0;
	}
	got = 0;
	while (ks_ring_try_pop(&r, &item))
		if (item_producer(item) == 6)
			got |= 1ull << item_seq(item);
	ok(n == N && got == (1ull << N) - 1, "%d sleeping pushes all got in", N);
}

/*
 * A hole: a producer that has claimed a position but not yet published it (emulated here by
 * claiming it by hand). Two consumers sleep; a push behind the hole wakes one, which meets the
 * hole and sleeps again, spending that wake. When the hole is filled, its single wake must
 * still get both items to both sleepers: the successful waiter passes a wake on.
 */
static void test_hole(void)
{
	struct ks_ring r;
	struct ks_ring_cell cells[4];
	struct tap_waiter w[2];
	pthread_t t[2];
	size_t pos;
	int i;

	tap_phase("hole");
	ks_ring_init(&r, cells, 4, KS_RING_MPMC);
	for (i = 0; i < 2; i++)
		t[i] = start_waiter(&w[i], &r, false, NULL, 60 * KS_NSEC_PER_SEC);
	for (i = 0; i < 2; i++)
		tap_waiter_asleep(&w[i]);
	pos = atomic_fetch_add(&r.tail, 1);		/* claim a position, as by a CAS */
	ks_ring_push(&r, mk_item(7, 1));		/* behind the hole: wakes one sleeper */
	tap_sleep_ms(20);
	for (i = 0; i < 2; i++)
		tap_waiter_asleep(&w[i]);
	ok(!atomic_load(&w[0].done) && !atomic_load(&w[1].done),
	   "a consumer woken behind a hole sleeps again");
	cells[pos & 3].item = mk_item(7, 0);		/* publish, as the preempted producer */
	atomic_store_explicit(&cells[pos & 3].seq, pos + 1, memory_order_release);
	ks__ring_wake(&r, &r.not_empty);
	for (i = 0; i < 3000 && !(atomic_load(&w[0].done) && atomic_load(&w[1].done)); i++)
		tap_sleep_ms(1);
	ok(atomic_load(&w[0].done) && atomic_load(&w[1].done),
	   "filling the hole wakes both sleepers (no wake-up swallowed by the hole)");
	for (i = 0; i < 2; i++)		/* a swallowed wake: release the sleeper */
		ks_ring_push_timeout(&r, mk_item(7, 2 + i), 0);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ok(w[0].result == 0 && w[1].result == 0 && w[0].item != w[1].item,
	   "... with one item each");
}

/* ---- across processes ------------------------------------------------------------------------ */

static void test_process_shared(unsigned flags)
{
	enum { CAP = 8, ITEMS = 20000 };
	unsigned nprod = (flags & KS_RING_SPSC) ? 1 : 2, p;
	struct ks_ring *r = tap_shared_alloc(sizeof(*r) + KS_RING_STORAGE_SIZE(CAP, 0));
	unsigned long next[2] = { 0 }, n = 0;
	pid_t pid[2];
	bool in_order = true, children = true;

	tap_phase("process-shared");
	is(ks_ring_init(r, r + 1, CAP, flags | KS_SHARED), 0,
	   "%s: shared ring in MAP_SHARED memory", kind_name(flags));
	fflush(stdout);
	for (p = 0; p < nprod; p++) {
		pid[p] = fork();
		if (pid[p] == 0) {
			unsigned long i;

			for (i = 0; i < ITEMS; i++) {
				if (i % 2)
					ks_ring_push(r, mk_item(p, i));
				else
					while (ks_ring_push_timeout(r, mk_item(p, i),
								    KS_NSEC_PER_MSEC))
						;
			}
			_exit(0);
		}
	}
	while (n < nprod * ITEMS) {
		void *item = n % 3 ? ks_ring_pop(r) : NULL;

		if (!item && ks_ring_pop_timeout(r, &item, 10 * KS_NSEC_PER_MSEC))
			continue;
		p = item_producer(item);
		if (p >= nprod || item_seq(item) != next[p]) {
			in_order = false;
			break;
		}
		next[p]++;
		n++;
	}
	for (p = 0; p < nprod; p++)
		children &= tap_wait_child(pid[p]);
	ok(in_order && children && n == nprod * ITEMS,
	   "%s across fork(): %u producer processes, every item once and in order",
	   kind_name(flags), nprod);
	munmap(r, sizeof(*r) + KS_RING_STORAGE_SIZE(CAP, 0));
}

int main(void)
{
	int64_t quarter = tap_stress_ms() / 4 > 0 ? tap_stress_ms() / 4 : 1;
	unsigned k;
	char ms[32];

	tap_start(120);
	test_init();
	for (k = 0; k < KINDS; k++) {
		test_basics(kinds[k]);
		test_no_syscalls(kinds[k]);
		test_timeouts(kinds[k]);
		test_wakeups(kinds[k]);
		test_signals(kinds[k]);
		test_process_shared(kinds[k]);
	}
	test_many_waiters();
	test_hole();

	/* the stress phases share one KS_STRESS_MS budget */
	snprintf(ms, sizeof(ms), "%lld", (long long)quarter);
	setenv("KS_STRESS_MS", ms, 1);
	tap_phase("stress: spsc try");
	run_stress(KS_RING_SPSC, 1, 1, 64, false);
	tap_phase("stress: spsc blocking");
	run_stress(KS_RING_SPSC, 1, 1, 4, true);
	tap_phase("stress: mpmc try");
	run_stress(KS_RING_MPMC, 4, 3, 64, false);
	tap_phase("stress: mpmc blocking");
	run_stress(KS_RING_MPMC, 3, 4, 4, true);
	return tap_done();
}
