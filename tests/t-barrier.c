// SPDX-License-Identifier: MIT
/*
 * ks_barrier, passing together: a counterpart of CPython's BarrierTests (Lib/test/lock_tests.py)
 * for everything that is not a break — several passes with everyone in step, distinct return
 * indices, the action (once per round, before anyone is released), a single-party barrier,
 * n_waiting — and what a C futex barrier adds: more threads than parties, the generation
 * counter's wrap, 128 parties, no futex calls for one party. Breaking and mending it is
 * t-barrier-break.c; processes and wall-clock stress, t-barrier-stress.c.
 */
#include <ksync/barrier.h>

#include "tap.h"
#include "ops/barrier.h"

#define N		5	/* CPython's BarrierTests.N */
#define MS		KS_NSEC_PER_MSEC
#define MAX_CREW	128

/* ---- init, and the single-party barrier (test_constructor, test_single_thread) --------------- */

static int action_runs;

static int count_action(void *arg)
{
	(void)arg;
	action_runs++;
	return 0;
}

static int failing_action(void *arg)
{
	(void)arg;
	return -1;
}

static void test_basics(void)
{
	struct ks_barrier b;
	unsigned long calls;
	int sum = 0;

	tap_phase("init");
	is(ks_barrier_init(&b, 0, NULL, NULL, 0), -EINVAL, "0 parties: -EINVAL");
	is(ks_barrier_init(&b, (unsigned)INT32_MAX + 1, NULL, NULL, 0), -EINVAL,
	   "more parties than an int can index: -EINVAL");
	is(ks_barrier_init(&b, 1u << 20, NULL, NULL, 0), 0, "a million parties: 0");
	is(b.core.spin, 0, "more parties than CPUs: waiters never spin");
	is(ks_barrier_init(&b, 3, NULL, NULL, 0), 0, "3 parties: 0");
	is(ks_barrier_parties(&b), 3, "parties() is 3");
	is(ks_barrier_n_waiting(&b), 0, "n_waiting() is 0");
	ok(!ks_barrier_broken(&b), "not broken");
	is(ks_barrier_wait_timeout(&b, -1), -EINVAL, "negative timeout: -EINVAL");
	is(ks_barrier_n_waiting(&b), 0, "and nobody was counted");
	ok(!ks_barrier_broken(&b), "nor broken");

	tap_phase("single thread");
	is(ks_barrier_init(&b, 1, count_action, NULL, 0), 0, "1 party with an action");
	calls = ks_futex_calls();
	for (int i = 0; i < 3; i++)
		sum += ks_barrier_wait(&b);
	is(sum, 0, "wait returns 0, three times (CPython test_single_thread)");
	is(ks_barrier_wait_timeout(&b, 0), 0, "wait_timeout(0) passes at once");
	is(ks_barrier_wait_timeout(&b, MS), 0, "wait_timeout(1 ms) too");
	is(action_runs, 5, "the action ran once per wait, in this thread");
	for (int i = 0; i < 1000; i++)
		sum += ks_barrier_wait(&b);
	is(sum, 0, "1000 more rounds");
	is(ks_futex_calls() - calls, 0, "no futex call on a barrier where nobody waits");

	tap_phase("single thread: failing action");
	is(ks_barrier_init(&b, 1, failing_action, NULL, 0), 0, "1 party, failing action");
	is(ks_barrier_wait(&b), -EPIPE, "a failing action: -EPIPE to its own thread");
	ok(ks_barrier_broken(&b), "and the barrier is broken");
	is(ks_barrier_wait(&b), -EPIPE, "it stays broken");
	ks_barrier_reset(&b);
	ok(!ks_barrier_broken(&b), "reset mends it");
	b.action = NULL;
	is(ks_barrier_wait(&b), 0, "and it works again");

	tap_phase("abort alone");
	is(ks_barrier_init(&b, 2, NULL, NULL, 0), 0, "2 parties");
	ks_barrier_abort(&b);
	ok(ks_barrier_broken(&b), "abort() with nobody waiting breaks it");
	is(ks_barrier_wait(&b), -EPIPE, "wait on a broken barrier: -EPIPE at once");
	is(ks_barrier_wait_timeout(&b, 0), -EPIPE, "wait_timeout(0) too");
	is(ks_barrier_n_waiting(&b), 0, "nobody counted");
	ks_barrier_abort(&b);
	ok(ks_barrier_broken(&b), "a second abort changes nothing");
	ks_barrier_reset(&b);
	ok(!ks_barrier_broken(&b), "reset");
	ks_barrier_reset(&b);
	ok(!ks_barrier_broken(&b), "reset of a whole barrier is harmless");
	is(ks_barrier_wait_timeout(&b, 0), -ETIMEDOUT,
	   "wait_timeout(0) of the first party: -ETIMEDOUT");
	ok(ks_barrier_broken(&b), "which breaks the barrier, as a timeout does");
	is(ks_barrier_n_waiting(&b), 0, "and leaves nobody counted");
	ks_barrier_reset(&b);
	ok(!ks_barrier_broken(&b), "reset again");
}

/* ---- test_barrier, test_barrier_10: all pass each phase together ----------------------------- */

struct multipass {
	struct ks_barrier b;
	int passes;
	atomic_int results[2];
	atomic_int errors;
};

static int multipass_main(void *ctx, int64_t timeout_ns)
{
	struct multipass *p = ctx;
	int parties = (int)ks_barrier_parties(&p->b);

	for (int i = 0; i < p->passes; i++) {
		atomic_fetch_add(&p->results[0], 1);
		if (atomic_load(&p->results[1]) != i * parties)
			atomic_fetch_add(&p->errors, 1);
		if (ks_barrier_wait(&p->b) < 0)
			atomic_fetch_add(&p->errors, 1);
		atomic_fetch_add(&p->results[1], 1);
		if (atomic_load(&p->results[0]) != (i + 1) * parties)
			atomic_fetch_add(&p->errors, 1);
		if (ks_barrier_wait(&p->b) < 0)
			atomic_fetch_add(&p->errors, 1);
	}
	(void)timeout_ns;
	return (int)ks_barrier_n_waiting(&p->b);
}

static void test_multipass(int passes)
{
	static struct multipass p;
	static struct tap_waiter c[N];

	memset(&p, 0, sizeof(p));
	ks_barrier_init(&p.b, N, NULL, NULL, 0);
	p.passes = passes;
	tap_crew_start(c, N, multipass_main, &p, OPS_BLOCK);
	tap_crew_join(c, N);
	is(atomic_load(&p.errors), 0, "%d threads, %d passes: every phase passed together", N,
	   passes);
	is(atomic_load(&p.results[0]) + atomic_load(&p.results[1]), 2 * N * passes,
	   "every thread did every phase");
	is(tap_crew_count(c, N, 0), N, "n_waiting is 0 after the last pass");
	ok(!ks_barrier_broken(&p.b), "not broken");
}

/* ---- test_wait_return and test_action -------------------------------------------------------- */

#define ROUNDS 20

struct indices {
	struct ks_barrier b;
	atomic_uint mask[ROUNDS];	/* the indices returned in each round */
	int action_runs;		/* plain: the action writes, the released threads read */
	int action_tid[ROUNDS];
	atomic_int tids[MAX_CREW];
	atomic_int ids;			/* hands each thread its place in tids */
	atomic_int late;		/* a thread released before that round's action */
	atomic_int bad;
};

static int indices_action(void *arg)
{
	struct indices *x = arg;

	if (x->action_runs < ROUNDS)
		x->action_tid[x->action_runs] = ks_self_tid();
	x->action_runs++;
	return 0;
}

static int indices_main(void *ctx, int64_t timeout_ns)
{
	struct indices *x = ctx;

	(void)timeout_ns;
	atomic_store(&x->tids[atomic_fetch_add(&x->ids, 1)], ks_self_tid());
	for (int r = 0; r < ROUNDS; r++) {
		int i = ks_barrier_wait(&x->b);

		if (i < 0 || i >= N)
			atomic_fetch_add(&x->bad, 1);
		else
			atomic_fetch_or(&x->mask[r], 1u << i);
		if (x->action_runs != r + 1)
			atomic_fetch_add(&x->late, 1);
	}
	return 0;
}

static void test_indices(void)
{
	static struct indices x;
	static struct tap_waiter c[N];
	int full = 0, in_crew = 0;

	tap_phase("wait return");
	memset(&x, 0, sizeof(x));
	ks_barrier_init(&x.b, N, indices_action, &x, 0);
	tap_crew_start(c, N, indices_main, &x, OPS_BLOCK);
	tap_crew_join(c, N);
	is(atomic_load(&x.bad), 0, "every index is in 0..parties-1");
	for (int r = 0; r < ROUNDS; r++)
		full += atomic_load(&x.mask[r]) == (1u << N) - 1;
	is(full, ROUNDS, "in each of %d rounds the %d indices are distinct (0 exactly once)",
	   ROUNDS, N);

	tap_phase("action");
	is(x.action_runs, ROUNDS, "the action ran once per round");
	is(atomic_load(&x.late), 0, "and before any thread of its round was released");
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < N; i++)
			if (x.action_tid[r] == atomic_load(&x.tids[i])) {
				in_crew++;
				break;
			}
	is(in_crew, ROUNDS, "each time in one of the parties' threads");
}

/* ---- n_waiting, more threads than parties, many generations, the wrap ------------------------ */

static void test_n_waiting(void)
{
	static struct tap_waiter c[3];
	struct ks_barrier b;
	bool counts = true;

	tap_phase("n_waiting");
	ks_barrier_init(&b, 4, NULL, NULL, 0);
	for (int i = 0; i < 3; i++) {
		tap_waiter_start(&c[i], ops_barrier_wait, &b, OPS_BLOCK);
		ops_barrier_until_waiting(&b, i + 1);
		counts &= ks_barrier_n_waiting(&b) == (unsigned)i + 1;
	}
	ok(counts, "n_waiting counts 1, 2, 3 arrivals");
	is(ks_barrier_wait(&b), 3, "the fourth arrival gets index 3 and releases them");
	is(ks_barrier_n_waiting(&b), 0, "n_waiting is 0 after the release");
	tap_crew_join(c, 3);
	is(tap_crew_count(c, 3, 0) + tap_crew_count(c, 3, 1) + tap_crew_count(c, 3, 2), 3,
	   "indices 0..2 for the rest");
}

#define OVER_PARTIES	3
#define OVER_THREADS	9
#define OVER_WAITS	200

struct over {
	struct ks_barrier b;
	atomic_int tickets;		/* waits left: a multiple of parties, none is stranded */
	atomic_int by_index[OVER_PARTIES];
	atomic_int bad;
	int rounds;
};

static int over_action(void *arg)
{
	((struct over *)arg)->rounds++;
	return 0;
}

static int over_main(void *ctx, int64_t timeout_ns)
{
	struct over *o = ctx;

	(void)timeout_ns;
	while (atomic_fetch_sub(&o->tickets, 1) > 0) {
		int i = ks_barrier_wait(&o->b);

		if (i < 0 || i >= OVER_PARTIES)
			atomic_fetch_add(&o->bad, 1);
		else
			atomic_fetch_add(&o->by_index[i], 1);
	}
	return 0;
}

static void test_more_threads(void)
{
	static struct over o;
	static struct tap_waiter c[OVER_THREADS];
	int even = 0, rounds = OVER_THREADS * OVER_WAITS / OVER_PARTIES;

	tap_phase("more threads than parties");
	memset(&o, 0, sizeof(o));
	ks_barrier_init(&o.b, OVER_PARTIES, over_action, &o, 0);
	atomic_store(&o.tickets, OVER_THREADS * OVER_WAITS);
	tap_crew_start(c, OVER_THREADS, over_main, &o, OPS_BLOCK);
	tap_crew_join(c, OVER_THREADS);
	is(atomic_load(&o.bad), 0, "%d threads on a %d-party barrier: no error, no bad index",
	   OVER_THREADS, OVER_PARTIES);
	for (int i = 0; i < OVER_PARTIES; i++)
		even += atomic_load(&o.by_index[i]) == rounds;
	is(even, OVER_PARTIES, "each index handed out once per generation (%d generations)",
	   rounds);
	is(o.rounds, rounds, "the action ran once per generation");
}

static void test_wrap(void)
{
	static struct indices x;
	static struct tap_waiter c[N];
	int full = 0;

	tap_phase("generation wrap");
	memset(&x, 0, sizeof(x));
	ks_barrier_init(&x.b, N, indices_action, &x, 0);
	/* 3 generations before the 32-bit word wraps */
	atomic_store(&x.b.core.seq, KS_BARRIER_GEN_MASK - 2 * KS_BARRIER_GEN_ONE);
	tap_crew_start(c, N, indices_main, &x, OPS_BLOCK);
	tap_crew_join(c, N);
	for (int r = 0; r < ROUNDS; r++)
		full += atomic_load(&x.mask[r]) == (1u << N) - 1;
	is(full, ROUNDS, "%d rounds across the generation's wrap, indices distinct each", ROUNDS);
	is(atomic_load(&x.bad) + atomic_load(&x.late), 0, "no error, no early release");
	is(atomic_load(&x.b.core.seq), (ROUNDS - 3) * KS_BARRIER_GEN_ONE,
	   "the generation wrapped to %d", ROUNDS - 3);
}

/* ---- many waiters ---------------------------------------------------------------------------- */

#define MANY		128
#define MANY_ROUNDS	5

struct many {
	struct ks_barrier b;
	atomic_int arrived;
	int checks;		/* plain: the action's, read by all after the release */
	atomic_int bad;
};

static int many_action(void *arg)
{
	struct many *y = arg;

	y->checks += atomic_load(&y->arrived) == MANY;
	atomic_store(&y->arrived, 0);
	return 0;
}

static int many_main(void *ctx, int64_t timeout_ns)
{
	struct many *y = ctx;

	(void)timeout_ns;
	for (int r = 0; r < MANY_ROUNDS; r++) {
		atomic_fetch_add(&y->arrived, 1);
		if (ks_barrier_wait(&y->b) < 0 || y->checks != r + 1)
			atomic_fetch_add(&y->bad, 1);
	}
	return 0;
}

static void test_many(void)
{
	static struct many y;
	static struct tap_waiter c[MANY];

	tap_phase("many waiters");
	memset(&y, 0, sizeof(y));
	ks_barrier_init(&y.b, MANY, many_action, &y, 0);
	tap_crew_start(c, MANY, many_main, &y, OPS_BLOCK);
	tap_crew_join(c, MANY);
	is(y.checks, MANY_ROUNDS, "%d parties, %d rounds: the action saw all %d arrive each time",
	   MANY, MANY_ROUNDS, MANY);
	is(atomic_load(&y.bad), 0, "every waiter passed each round after the action");
}

int main(void)
{
	tap_start(60);
	test_basics();
	tap_phase("barrier");
	test_multipass(1);
	tap_phase("barrier 10");
	test_multipass(10);
	test_indices();
	test_n_waiting();
	test_more_threads();
	test_wrap();
	test_many();
	return tap_done();
}
