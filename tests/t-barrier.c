// SPDX-License-Identifier: MIT
/*
 * ks_barrier: a counterpart of every case of CPython's BarrierTests (Lib/test/lock_tests.py) —
 * several passes with everyone in step, distinct return indices, the action (once per round,
 * before anyone is released), abort, reset while waiting, abort then reset, timeouts (the
 * timed-out waiter gets -ETIMEDOUT, the others -EPIPE; "default" timeouts), a single-party
 * barrier, n_waiting — and what a C futex barrier adds: a failing action, more threads than
 * parties, the generation counter's wrap, a reset that must hold new arrivals at the door while
 * a waiter of the broken generation is still inside, a waiter released just before the next
 * generation broke, signal storms and spurious futex wakes during waits, 128 parties, a
 * KS_SHARED barrier across fork(), no futex calls for one party, and wall-clock stress.
 */
#include <sched.h>

#include <ksync/barrier.h>

#include "tap.h"

#define N		5	/* CPython's BarrierTests.N */
#define MS		KS_NSEC_PER_MSEC
#define MAX_CREW	128

/* ---- a crew: n threads running fn(id, ctx), joined together ---------------------------------- */

struct member {
	int id;
	void *ctx;
	atomic_int tid;
	atomic_bool done;
	int result;		/* what the member's last barrier call returned */
	int result2;
	int64_t took_ns;
	pthread_t pt;
};

struct crew {
	int n;
	struct member m[MAX_CREW];
};

static void crew_start(struct crew *c, int n, void *(*fn)(void *), void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->n = n;
	for (int i = 0; i < n; i++) {
		c->m[i].id = i;
		c->m[i].ctx = ctx;
		c->m[i].pt = tap_thread(fn, &c->m[i]);
	}
}

static void crew_join(struct crew *c)
{
	for (int i = 0; i < c->n; i++)
		pthread_join(c->m[i].pt, NULL);
}

static int crew_count(const struct crew *c, int result)
{
	int k = 0;

	for (int i = 0; i < c->n; i++)
		k += c->m[i].result == result;
	return k;
}

/* Waits until member i is asleep in the kernel (not spinning, not on its way). */
static bool member_asleep(struct member *m)
{
	while (!atomic_load(&m->tid))
		tap_sleep_ms(1);
	return tap_wait_asleep(atomic_load(&m->tid), 5000);
}

static void wait_n_waiting(struct ks_barrier *b, unsigned n)
{
	while (ks_barrier_n_waiting(b) < n)
		tap_sleep_ms(1);
}

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

static void *multipass_main(void *arg)
{
	struct member *m = arg;
	struct multipass *p = m->ctx;
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
	m->result = (int)ks_barrier_n_waiting(&p->b);
	return NULL;
}

static void test_multipass(int passes)
{
	static struct multipass p;
	static struct crew c;

	memset(&p, 0, sizeof(p));
	ks_barrier_init(&p.b, N, NULL, NULL, 0);
	p.passes = passes;
	crew_start(&c, N, multipass_main, &p);
	crew_join(&c);
	is(atomic_load(&p.errors), 0, "%d threads, %d passes: every phase passed together", N,
	   passes);
	is(atomic_load(&p.results[0]) + atomic_load(&p.results[1]), 2 * N * passes,
	   "every thread did every phase");
	is(crew_count(&c, 0), N, "n_waiting is 0 after the last pass");
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

static void *indices_main(void *arg)
{
	struct member *m = arg;
	struct indices *x = m->ctx;

	atomic_store(&x->tids[m->id], ks_self_tid());
	for (int r = 0; r < ROUNDS; r++) {
		int i = ks_barrier_wait(&x->b);

		if (i < 0 || i >= N)
			atomic_fetch_add(&x->bad, 1);
		else
			atomic_fetch_or(&x->mask[r], 1u << i);
		if (x->action_runs != r + 1)
			atomic_fetch_add(&x->late, 1);
	}
	return NULL;
}

static void test_indices(void)
{
	static struct indices x;
	static struct crew c;
	int full = 0, in_crew = 0;

	tap_phase("wait return");
	memset(&x, 0, sizeof(x));
	ks_barrier_init(&x.b, N, indices_action, &x, 0);
	crew_start(&c, N, indices_main, &x);
	crew_join(&c);
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

/* ---- a failing action, test_abort, test_reset, test_abort_and_reset -------------------------- */

struct breaker {
	struct ks_barrier b, b2;
	int fail_round;
	int rounds;
	atomic_int passed, broken, other;
};

static int fail_in_round(void *arg)
{
	struct breaker *k = arg;

	return k->rounds++ == k->fail_round ? -1 : 0;
}

static void *action_fail_main(void *arg)
{
	struct member *m = arg;
	struct breaker *k = m->ctx;

	for (int r = 0; r < 3; r++) {
		int i = ks_barrier_wait(&k->b);

		if (i >= 0)
			atomic_fetch_add(&k->passed, 1);
		else
			atomic_fetch_add(i == -EPIPE ? &k->broken : &k->other, 1);
	}
	return NULL;
}

static void test_action_fails(void)
{
	static struct breaker k;
	static struct crew c;

	tap_phase("failing action");
	memset(&k, 0, sizeof(k));
	k.fail_round = 1;
	ks_barrier_init(&k.b, N, fail_in_round, &k, 0);
	crew_start(&c, N, action_fail_main, &k);
	crew_join(&c);
	is(atomic_load(&k.passed), N, "round 0 passes for all");
	is(atomic_load(&k.broken), 2 * N,
	   "the action fails in round 1: -EPIPE for all, its own thread included, and after");
	is(atomic_load(&k.other), 0, "no other result");
	is(k.rounds, 2, "the action did not run again on the broken barrier");
	ok(ks_barrier_broken(&k.b), "broken");
	is(ks_barrier_n_waiting(&k.b), 0, "n_waiting is 0 when broken");
}

/* CPython test_abort: the thread with index N/2 aborts instead of waiting again. */
static void *abort_main(void *arg)
{
	struct member *m = arg;
	struct breaker *k = m->ctx;
	int i = ks_barrier_wait(&k->b);

	if (i == N / 2) {
		wait_n_waiting(&k->b, N - 1);
		ks_barrier_abort(&k->b);
		return NULL;
	}
	i = ks_barrier_wait(&k->b);
	atomic_fetch_add(i >= 0 ? &k->passed : i == -EPIPE ? &k->broken : &k->other, 1);
	return NULL;
}

static void test_abort(void)
{
	static struct breaker k;
	static struct crew c;

	tap_phase("abort");
	memset(&k, 0, sizeof(k));
	ks_barrier_init(&k.b, N, NULL, NULL, 0);
	crew_start(&c, N, abort_main, &k);
	crew_join(&c);
	is(atomic_load(&k.passed), 0, "nobody passes an aborted barrier");
	is(atomic_load(&k.broken), N - 1, "the %d waiters get -EPIPE", N - 1);
	is(atomic_load(&k.other), 0, "no other result");
	ok(ks_barrier_broken(&k.b), "broken() afterwards");
	is(ks_barrier_wait(&k.b), -EPIPE, "and later waiters get -EPIPE until reset");
}

/* CPython test_reset: index N/2 resets while the others wait; then all pass again. */
static void *reset_main(void *arg)
{
	struct member *m = arg;
	struct breaker *k = m->ctx;
	int i = ks_barrier_wait(&k->b);

	if (i == N / 2) {
		wait_n_waiting(&k->b, N - 1);
		ks_barrier_reset(&k->b);
	} else {
		i = ks_barrier_wait(&k->b);
		atomic_fetch_add(i >= 0 ? &k->passed : i == -EPIPE ? &k->broken : &k->other, 1);
	}
	m->result = ks_barrier_wait(&k->b);
	return NULL;
}

static void test_reset(void)
{
	static struct breaker k;
	static struct crew c;
	unsigned mask = 0;

	tap_phase("reset");
	memset(&k, 0, sizeof(k));
	ks_barrier_init(&k.b, N, NULL, NULL, 0);
	crew_start(&c, N, reset_main, &k);
	crew_join(&c);
	is(atomic_load(&k.passed), 0, "nobody passes the round that was reset");
	is(atomic_load(&k.broken), N - 1, "its %d waiters get -EPIPE", N - 1);
	for (int i = 0; i < N; i++)
		if (c.m[i].result >= 0)
			mask |= 1u << c.m[i].result;
	is(mask, (1u << N) - 1, "then all %d pass the reset barrier, with distinct indices", N);
	ok(!ks_barrier_broken(&k.b), "not broken");
}

/* CPython test_abort_and_reset: abort, synchronise on a second barrier, reset, pass again. */
static void *abort_reset_main(void *arg)
{
	struct member *m = arg;
	struct breaker *k = m->ctx;
	int i = ks_barrier_wait(&k->b);

	if (i == N / 2) {
		wait_n_waiting(&k->b, N - 1);
		ks_barrier_abort(&k->b);
	} else {
		i = ks_barrier_wait(&k->b);
		atomic_fetch_add(i >= 0 ? &k->passed : i == -EPIPE ? &k->broken : &k->other, 1);
	}
	if (ks_barrier_wait(&k->b2) == N / 2)
		ks_barrier_reset(&k->b);
	ks_barrier_wait(&k->b2);
	m->result = ks_barrier_wait(&k->b);
	return NULL;
}

static void test_abort_and_reset(void)
{
	static struct breaker k;
	static struct crew c;
	unsigned mask = 0;

	tap_phase("abort and reset");
	memset(&k, 0, sizeof(k));
	ks_barrier_init(&k.b, N, NULL, NULL, 0);
	ks_barrier_init(&k.b2, N, NULL, NULL, 0);
	crew_start(&c, N, abort_reset_main, &k);
	crew_join(&c);
	is(atomic_load(&k.passed), 0, "nobody passes the aborted round");
	is(atomic_load(&k.broken), N - 1, "its waiters get -EPIPE");
	for (int i = 0; i < N; i++)
		if (c.m[i].result >= 0)
			mask |= 1u << c.m[i].result;
	is(mask, (1u << N) - 1, "after the reset all pass again, with distinct indices");
}

/* ---- test_timeout, test_default_timeout ------------------------------------------------------ */

struct late {
	struct ks_barrier b;
	int64_t timeout_ns;	/* what every early thread waits for */
	int64_t late_ns;	/* how late the late thread is */
	bool late_times_out;	/* the late thread also uses timeout_ns ("default" timeout) */
};

static void *late_main(void *arg)
{
	struct member *m = arg;
	struct late *l = m->ctx;
	int64_t t0;

	if (ks_barrier_wait(&l->b) == N / 2) {
		tap_sleep_ns(l->late_ns);
		m->result = l->late_times_out ? ks_barrier_wait_timeout(&l->b, l->timeout_ns)
					      : ks_barrier_wait(&l->b);
		m->took_ns = -1;
		return NULL;
	}
	t0 = tap_now_ns();
	m->result = ks_barrier_wait_timeout(&l->b, l->timeout_ns);
	m->took_ns = tap_now_ns() - t0;
	return NULL;
}

static void test_timeout(const char *name, bool default_timeout)
{
	static struct late l;
	static struct crew c;
	int timed_out = -1;

	tap_phase(name);
	memset(&l, 0, sizeof(l));
	ks_barrier_init(&l.b, N, NULL, NULL, 0);
	l.timeout_ns = 100 * MS;
	l.late_ns = 400 * MS;
	l.late_times_out = default_timeout;
	crew_start(&c, N, late_main, &l);
	crew_join(&c);
	is(crew_count(&c, -ETIMEDOUT), 1, "%s: exactly one waiter gets -ETIMEDOUT", name);
	is(crew_count(&c, -EPIPE), N - 1, "%s: the others -EPIPE (the late one too)", name);
	for (int i = 0; i < N; i++)
		if (c.m[i].result == -ETIMEDOUT)
			timed_out = i;
	if (timed_out >= 0)
		tap_timeout_ok(c.m[timed_out].took_ns, l.timeout_ns, name);
	else
		ok(false, "%s: nobody timed out", name);
	ok(ks_barrier_broken(&l.b), "%s: the timeout broke the barrier", name);
}

/* ---- n_waiting, more threads than parties, many generations, the wrap ------------------------ */

static void *plain_wait_main(void *arg)
{
	struct member *m = arg;

	atomic_store(&m->tid, ks_self_tid());
	m->result = ks_barrier_wait(m->ctx);
	atomic_store(&m->done, true);
	return NULL;
}

static void test_n_waiting(void)
{
	static struct crew c;
	struct ks_barrier b;
	bool counts = true;

	tap_phase("n_waiting");
	ks_barrier_init(&b, 4, NULL, NULL, 0);
	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 3; i++) {
		c.m[i].ctx = &b;
		c.m[i].pt = tap_thread(plain_wait_main, &c.m[i]);
		c.n++;
		wait_n_waiting(&b, i + 1);
		counts &= ks_barrier_n_waiting(&b) == (unsigned)i + 1;
	}
	ok(counts, "n_waiting counts 1, 2, 3 arrivals");
	is(ks_barrier_wait(&b), 3, "the fourth arrival gets index 3 and releases them");
	is(ks_barrier_n_waiting(&b), 0, "n_waiting is 0 after the release");
	crew_join(&c);
	is(crew_count(&c, 0) + crew_count(&c, 1) + crew_count(&c, 2), 3,
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

static void *over_main(void *arg)
{
	struct member *m = arg;
	struct over *o = m->ctx;

	while (atomic_fetch_sub(&o->tickets, 1) > 0) {
		int i = ks_barrier_wait(&o->b);

		if (i < 0 || i >= OVER_PARTIES)
			atomic_fetch_add(&o->bad, 1);
		else
			atomic_fetch_add(&o->by_index[i], 1);
	}
	return NULL;
}

static void test_more_threads(void)
{
	static struct over o;
	static struct crew c;
	int even = 0, rounds = OVER_THREADS * OVER_WAITS / OVER_PARTIES;

	tap_phase("more threads than parties");
	memset(&o, 0, sizeof(o));
	ks_barrier_init(&o.b, OVER_PARTIES, over_action, &o, 0);
	atomic_store(&o.tickets, OVER_THREADS * OVER_WAITS);
	crew_start(&c, OVER_THREADS, over_main, &o);
	crew_join(&c);
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
	static struct crew c;
	int full = 0;

	tap_phase("generation wrap");
	memset(&x, 0, sizeof(x));
	ks_barrier_init(&x.b, N, indices_action, &x, 0);
	/* 3 generations before the 32-bit word wraps */
	atomic_store(&x.b.core.seq, KS_BARRIER_GEN_MASK - 2 * KS_BARRIER_GEN_ONE);
	crew_start(&c, N, indices_main, &x);
	crew_join(&c);
	for (int r = 0; r < ROUNDS; r++)
		full += atomic_load(&x.mask[r]) == (1u << N) - 1;
	is(full, ROUNDS, "%d rounds across the generation's wrap, indices distinct each", ROUNDS);
	is(atomic_load(&x.bad) + atomic_load(&x.late), 0, "no error, no early release");
	is(atomic_load(&x.b.core.seq), (ROUNDS - 3) * KS_BARRIER_GEN_ONE,
	   "the generation wrapped to %d", ROUNDS - 3);
}

/* ---- a waiter held inside the barrier by a signal handler ------------------------------------ */

static atomic_bool hold_in, hold_out;

static void hold_handler(int sig)
{
	(void)sig;
	atomic_store(&hold_in, true);
	while (!atomic_load(&hold_out))
		tap_sleep_ms(1);
}

/* Parks member m (asleep in the barrier) in the SIGUSR2 handler: inside wait(), not leaving. */
static bool hold(struct member *m)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hold_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	atomic_store(&hold_in, false);
	atomic_store(&hold_out, false);
	if (!member_asleep(m))
		return false;
	pthread_kill(m->pt, SIGUSR2);
	while (!atomic_load(&hold_in))
		tap_sleep_ms(1);
	return true;
}

static int64_t timed_wait_ns = 100 * MS;

static void *timed_wait_main(void *arg)
{
	struct member *m = arg;
	int64_t t0 = tap_now_ns();

	atomic_store(&m->tid, ks_self_tid());
	m->result = ks_barrier_wait_timeout(m->ctx, timed_wait_ns);
	m->took_ns = tap_now_ns() - t0;
	atomic_store(&m->done, true);
	return NULL;
}

static void test_reset_door(void)
{
	static struct crew old, fresh;
	struct ks_barrier b;
	bool early = false;
	unsigned mask = 0;

	tap_phase("reset: door");
	ks_barrier_init(&b, 3, NULL, NULL, 0);
	memset(&old, 0, sizeof(old));
	old.n = 2;
	for (int i = 0; i < 2; i++) {
		old.m[i].ctx = &b;
		old.m[i].pt = tap_thread(plain_wait_main, &old.m[i]);
	}
	wait_n_waiting(&b, 2);
	ok(member_asleep(&old.m[1]), "two waiters of a 3-party barrier");
	ok(hold(&old.m[0]), "one of them is held inside wait() by a signal handler");
	ks_barrier_reset(&b);
	while (!atomic_load(&old.m[1].done))
		tap_sleep_ms(1);
	is(old.m[1].result, -EPIPE, "reset: the free waiter gets -EPIPE");
	ok(!ks_barrier_broken(&b), "broken() is false while the reset completes (as in CPython)");
	is(ks_barrier_n_waiting(&b), 0, "n_waiting is 0 meanwhile");

	crew_start(&fresh, 3, plain_wait_main, &b);
	for (int i = 0; i < 3; i++)
		member_asleep(&fresh.m[i]);
	tap_sleep_ms(20);
	for (int i = 0; i < 3; i++)
		early |= atomic_load(&fresh.m[i].done);
	ok(!early, "3 new arrivals wait at the door while the old waiter is inside");
	is(ks_barrier_n_waiting(&b), 0, "uncounted");

	atomic_store(&hold_out, true);
	crew_join(&old);
	is(old.m[0].result, -EPIPE, "the held waiter leaves with -EPIPE");
	crew_join(&fresh);
	for (int i = 0; i < 3; i++)
		if (fresh.m[i].result >= 0)
			mask |= 1u << fresh.m[i].result;
	is(mask, 7u, "then the new arrivals form a generation: indices 0, 1, 2");
	ok(!ks_barrier_broken(&b), "not broken");
}

static void test_released_then_broken(void)
{
	static struct crew c;
	struct ks_barrier b;

	tap_phase("released, then broken");
	ks_barrier_init(&b, 2, NULL, NULL, 0);
	crew_start(&c, 1, plain_wait_main, &b);
	wait_n_waiting(&b, 1);
	ok(hold(&c.m[0]), "a waiter is held inside wait()");
	is(ks_barrier_wait(&b), 1, "the second party releases the generation");
	ks_barrier_abort(&b);
	ok(ks_barrier_broken(&b), "and the next generation is aborted at once");
	atomic_store(&hold_out, true);
	crew_join(&c);
	is(c.m[0].result, 0, "the held waiter was released before the break: index 0, not -EPIPE");

	tap_phase("released, then timed out");
	ks_barrier_init(&b, 2, NULL, NULL, 0);
	timed_wait_ns = 500 * MS;	/* room for hold() on a slow machine */
	crew_start(&c, 1, timed_wait_main, &b);
	wait_n_waiting(&b, 1);
	ok(hold(&c.m[0]), "a waiter with a 500 ms timeout is held inside wait()");
	is(ks_barrier_wait(&b), 1, "the second party releases the generation");
	tap_sleep_ms(550);
	atomic_store(&hold_out, true);
	crew_join(&c);
	timed_wait_ns = 100 * MS;
	is(c.m[0].result, 0, "the waiter passes though its deadline passed before it looked");
	ok(!ks_barrier_broken(&b), "and the barrier is not broken");
}

/* ---- signals and spurious wake-ups ----------------------------------------------------------- */

static void test_signals(void)
{
	static struct crew c;
	struct ks_barrier b;
	struct tap_storm storm;
	unsigned long before;
	int64_t t0;
	int r;

	tap_phase("wait: signals");
	ks_barrier_init(&b, 2, NULL, NULL, 0);
	crew_start(&c, 1, plain_wait_main, &b);
	ok(member_asleep(&c.m[0]), "a waiter sleeps in the kernel");
	before = tap_signals_seen();
	tap_storm_start(&storm, c.m[0].pt, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(150);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > before, "the waiter received signals (%lu)",
	   tap_signals_seen() - before);
	ok(!atomic_load(&c.m[0].done), "signals do not end a wait early");

	tap_phase("wait: spurious wake-ups");
	for (int i = 0; i < 100; i++) {
		tap_futex_poke(&b.core.seq);
		if (i % 10 == 0)
			tap_sleep_ms(1);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&c.m[0].done), "spurious futex wakes release nobody");
	is(ks_barrier_n_waiting(&b), 1, "the waiter is still counted");
	is(ks_barrier_wait(&b), 1, "the second party releases it");
	crew_join(&c);
	is(c.m[0].result, 0, "index 0, never -EINTR");

	tap_phase("wait_timeout: signals");
	ks_barrier_init(&b, 2, NULL, NULL, 0);
	tap_storm_start(&storm, pthread_self(), 300 * KS_NSEC_PER_USEC);
	t0 = tap_now_ns();
	r = ks_barrier_wait_timeout(&b, 200 * MS);
	tap_storm_stop(&storm);
	is(r, -ETIMEDOUT, "wait_timeout under a signal storm: -ETIMEDOUT, not -EINTR");
	tap_timeout_ok(tap_now_ns() - t0, 200 * MS, "wait_timeout under signals");
	ok(ks_barrier_broken(&b), "the timeout broke the barrier");

	tap_phase("wait_timeout: spurious wake-ups");
	ks_barrier_init(&b, 2, NULL, NULL, 0);
	crew_start(&c, 1, timed_wait_main, &b);
	member_asleep(&c.m[0]);
	while (!atomic_load(&c.m[0].done))
		tap_futex_poke(&b.core.seq);
	crew_join(&c);
	is(c.m[0].result, -ETIMEDOUT, "a waiter poked until its deadline: -ETIMEDOUT");
	tap_timeout_ok(c.m[0].took_ns, 100 * MS, "wait_timeout with spurious wakes");
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

static void *many_main(void *arg)
{
	struct member *m = arg;
	struct many *y = m->ctx;

	for (int r = 0; r < MANY_ROUNDS; r++) {
		atomic_fetch_add(&y->arrived, 1);
		if (ks_barrier_wait(&y->b) < 0 || y->checks != r + 1)
			atomic_fetch_add(&y->bad, 1);
	}
	return NULL;
}

static void test_many(void)
{
	static struct many y;
	static struct crew c;

	tap_phase("many waiters");
	memset(&y, 0, sizeof(y));
	ks_barrier_init(&y.b, MANY, many_action, &y, 0);
	crew_start(&c, MANY, many_main, &y);
	crew_join(&c);
	is(y.checks, MANY_ROUNDS, "%d parties, %d rounds: the action saw all %d arrive each time",
	   MANY, MANY_ROUNDS, MANY);
	is(atomic_load(&y.bad), 0, "every waiter passed each round after the action");
}

/* ---- process-shared -------------------------------------------------------------------------- */

#define CHILDREN	4
#define SHARED_ROUNDS	50

struct shared {
	struct ks_barrier b;
	atomic_int arrived;
	atomic_int bad;
	atomic_int broken_seen;
};

static void shared_rounds(struct shared *s)
{
	for (int r = 0; r < SHARED_ROUNDS; r++) {
		atomic_fetch_add(&s->arrived, 1);
		if (ks_barrier_wait(&s->b) < 0 ||
		    atomic_load(&s->arrived) < (r + 1) * (CHILDREN + 1))
			atomic_fetch_add(&s->bad, 1);
		if (ks_barrier_wait(&s->b) < 0)	/* nobody starts round r+1 before all checked */
			atomic_fetch_add(&s->bad, 1);
	}
}

static void test_process_shared(void)
{
	struct shared *s = tap_shared_alloc(sizeof(*s));
	pid_t pid[CHILDREN];
	int good = 0;

	tap_phase("process-shared");
	is(ks_barrier_init(&s->b, CHILDREN + 1, NULL, NULL, KS_SHARED), 0, "KS_SHARED barrier");
	for (int i = 0; i < CHILDREN; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			shared_rounds(s);
			if (ks_barrier_wait(&s->b) == -EPIPE)	/* the parent aborts this one */
				atomic_fetch_add(&s->broken_seen, 1);
			_exit(0);
		}
	}
	shared_rounds(s);
	while (ks_barrier_n_waiting(&s->b) < CHILDREN)
		tap_sleep_ms(1);
	ks_barrier_abort(&s->b);
	for (int i = 0; i < CHILDREN; i++)
		good += tap_wait_child(pid[i]);
	is(good, CHILDREN, "%d children exited", CHILDREN);
	is(atomic_load(&s->bad), 0, "%d rounds across %d processes, all in step", SHARED_ROUNDS,
	   CHILDREN + 1);
	is(atomic_load(&s->broken_seen), CHILDREN,
	   "abort() in the parent wakes the children: -EPIPE");
	munmap(s, sizeof(*s));
}

/* ---- stress ---------------------------------------------------------------------------------- */

#define STRESS_PARTIES 4

struct stress {
	struct ks_barrier b;
	int64_t end;
	atomic_int arrived;
	atomic_bool stop;	/* chaos: the resetter is done */
	long rounds;		/* plain, written by the action, read by the released threads */
	long bad_rounds;
	bool last_round;
	atomic_long bad;
	atomic_long results[3];	/* passed, -EPIPE, -ETIMEDOUT */
};

static int stress_action(void *arg)
{
	struct stress *s = arg;

	s->bad_rounds += atomic_exchange(&s->arrived, 0) != STRESS_PARTIES;
	s->rounds++;
	s->last_round = !tap_before(s->end);	/* one decision, seen by every party */
	return 0;
}

static void *stress_main(void *arg)
{
	struct member *m = arg;
	struct stress *s = m->ctx;

	for (long round = 1;; round++) {
		atomic_fetch_add(&s->arrived, 1);
		if (ks_barrier_wait(&s->b) < 0) {
			atomic_fetch_add(&s->bad, 1);
			break;
		}
		/* stable until this thread arrives again: the next action needs it */
		if (s->rounds != round)
			atomic_fetch_add(&s->bad, 1);
		if (s->last_round)
			break;
	}
	return NULL;
}

static void test_stress(void)
{
	static struct stress s;
	static struct crew c;

	tap_phase("barrier stress");
	memset(&s, 0, sizeof(s));
	ks_barrier_init(&s.b, STRESS_PARTIES, stress_action, &s, 0);
	s.end = tap_deadline_in_ms(tap_stress_ms());
	crew_start(&c, STRESS_PARTIES, stress_main, &s);
	crew_join(&c);
	ok(s.rounds > 0 && s.bad_rounds == 0 && atomic_load(&s.bad) == 0,
	   "barrier stress: %ld rounds of %d parties, %ld wrong", s.rounds, STRESS_PARTIES,
	   s.bad_rounds + atomic_load(&s.bad));
}

static void *chaos_main(void *arg)
{
	struct member *m = arg;
	struct stress *s = m->ctx;
	unsigned seed = (unsigned)m->id * 2654435761u + 1;

	while (!atomic_load(&s->stop)) {
		int64_t t = (seed = seed * 1103515245u + 12345u) >> 16 & 1023;
		int r = t < 64 ? ks_barrier_wait_timeout(&s->b, 0)
			       : ks_barrier_wait_timeout(&s->b, t * KS_NSEC_PER_USEC);

		if (r >= 0 && r < STRESS_PARTIES)
			atomic_fetch_add(&s->results[0], 1);
		else if (r == -EPIPE)
			atomic_fetch_add(&s->results[1], 1), sched_yield();
		else if (r == -ETIMEDOUT)
			atomic_fetch_add(&s->results[2], 1);
		else
			atomic_fetch_add(&s->bad, 1);
	}
	return NULL;
}

static void *chaos_resetter(void *arg)
{
	struct member *m = arg;
	struct stress *s = m->ctx;

	for (unsigned i = 0; tap_before(s->end); i++) {
		tap_sleep_ns(200 * KS_NSEC_PER_USEC);
		if (i % 8 == 7)
			ks_barrier_abort(&s->b);
		else
			ks_barrier_reset(&s->b);
	}
	atomic_store(&s->stop, true);
	return NULL;
}

static void test_chaos(void)
{
	static struct stress s;
	static struct crew c;
	pthread_t resetter;
	struct member rm = { .ctx = &s };
	unsigned mask = 0;

	tap_phase("barrier chaos");
	memset(&s, 0, sizeof(s));
	ks_barrier_init(&s.b, STRESS_PARTIES, NULL, NULL, 0);
	s.end = tap_deadline_in_ms(tap_stress_ms());
	crew_start(&c, STRESS_PARTIES + 2, chaos_main, &s);
	resetter = tap_thread(chaos_resetter, &rm);
	pthread_join(resetter, NULL);
	crew_join(&c);
	is(atomic_load(&s.bad), 0,
	   "chaos: %ld passes, %ld -EPIPE, %ld -ETIMEDOUT, no other result, no hang",
	   atomic_load(&s.results[0]), atomic_load(&s.results[1]), atomic_load(&s.results[2]));
	ks_barrier_reset(&s.b);
	crew_start(&c, STRESS_PARTIES, plain_wait_main, &s.b);
	crew_join(&c);
	for (int i = 0; i < STRESS_PARTIES; i++)
		if (c.m[i].result >= 0)
			mask |= 1u << c.m[i].result;
	is(mask, (1u << STRESS_PARTIES) - 1, "after the chaos and a reset, a clean round");
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
	test_action_fails();
	test_abort();
	test_reset();
	test_abort_and_reset();
	test_timeout("timeout", false);
	test_timeout("default timeout", true);
	test_n_waiting();
	test_more_threads();
	test_wrap();
	test_reset_door();
	test_released_then_broken();
	test_signals();
	test_many();
	test_process_shared();
	test_stress();
	test_chaos();
	return tap_done();
}
