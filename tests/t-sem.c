// SPDX-License-Identifier: MIT
/*
 * ks_sem: Python's Semaphore and BoundedSemaphore semantics (CPython Lib/test/lock_tests.py
 * BaseSemaphoreTests, SemaphoreTests, BoundedSemaphoreTests: each test_* has a counterpart
 * named after it below), timeouts, signals and spurious wake-ups during the wait, many waiters,
 * up_n waking exactly n, KS_SEM_VALUE_MAX, MAP_SHARED use across fork(), zero futex calls when
 * uncontended, a semaphore freed by the waiter right after its down returns (the up must not
 * touch it again), and a wall-clock stress that checks the conservation of tokens.
 */
#include <ksync/sem.h>

#include "tap.h"
#include "harness/lifetime.h"
#include "ops/sem.h"

static unsigned sem_nwaiters(struct ks_sem *s)
{
	return (unsigned)(atomic_load(&s->word) >> KS_SEM_WAITER_SHIFT);
}

/* A waiter in ks_sem_down (timeout < 0) or ks_sem_down_timeout, through the table. */
static pthread_t start_waiter(struct tap_waiter *w, struct ks_sem *s, int64_t timeout_ns)
{
	return ops_waiter_start(w, &ops_sem, s, 0, timeout_ns);
}

static void test_constructor(void)
{
	struct ks_sem s = KS_SEM_INIT(0), b = KS_BOUNDED_SEM_INIT(3);

	tap_phase("constructor");
	is(ks_sem_value(&s), 0, "KS_SEM_INIT(0): value 0");
	is(ks_sem_value(&b), 3, "KS_BOUNDED_SEM_INIT(3): value 3");
	is(ks_sem_init(&s, 5, 0), 0, "ks_sem_init(5)");
	is(ks_sem_value(&s), 5, "... value 5");
	is(ks_sem_init(&s, KS_SEM_VALUE_MAX, 0), 0, "ks_sem_init(KS_SEM_VALUE_MAX) is accepted");
	is(ks_sem_value(&s), KS_SEM_VALUE_MAX, "... and holds it");
	/* test_constructor: Python's ValueError for a negative value is our -EINVAL past max */
	is(ks_sem_init(&s, KS_SEM_VALUE_MAX + 1u, 0), -EINVAL, "value past max: -EINVAL");
	is(ks_sem_init(&s, UINT32_MAX, 0), -EINVAL, "value (unsigned)-1: -EINVAL");
	is(ks_sem_init(&s, KS_SEM_VALUE_MAX + 1u, KS_BOUNDED), -EINVAL,
	   "bounded, value past max: -EINVAL");
	is(ks_sem_value(&s), KS_SEM_VALUE_MAX, "a refused init leaves the semaphore alone");
	is(ks_sem_init(&s, 1, 0x80), -EINVAL, "unknown flags: -EINVAL");
	is(ks_sem_init(&s, 1, KS_BOUNDED | KS_SHARED), 0, "KS_BOUNDED | KS_SHARED accepted");
	is(ks_sem_up(&s), -EOVERFLOW, "... and it is bounded");
	is(ks_sem_init(&s, 0, KS_BOUNDED), 0, "a bounded semaphore of 0");
	is(ks_sem_up(&s), -EOVERFLOW, "... can never be raised");
	ok(!ks_sem_trydown(&s), "... nor taken");
}

static void test_acquire(void)
{
	struct ks_sem s = KS_SEM_INIT(1);

	tap_phase("acquire");
	/* test_acquire */
	ks_sem_down(&s);
	is(ks_sem_value(&s), 0, "down on 1: value 0");
	is(ks_sem_up(&s), 0, "up returns 0");
	is(ks_sem_value(&s), 1, "up: value 1");
	ks_sem_init(&s, 2, 0);
	ks_sem_down(&s);
	ks_sem_down(&s);
	is(ks_sem_value(&s), 0, "two downs on 2: value 0");
	ks_sem_up(&s);
	ks_sem_up(&s);
	is(ks_sem_value(&s), 2, "two ups: value 2");
	/* test_acquire_destroy: a semaphore taken and dropped holds nothing */
	{
		struct ks_sem *h = malloc(sizeof(*h));

		ks_sem_init(h, 1, 0);
		ks_sem_down(h);
		free(h);
		ok(true, "a semaphore taken and then freed holds no resources");
	}
	/* test_release_unacquired (Semaphore): up before any down raises the value */
	ks_sem_init(&s, 1, 0);
	is(ks_sem_up(&s), 0, "Semaphore: up without a down is allowed");
	ok(ks_sem_trydown(&s) && ks_sem_trydown(&s), "... and both tokens can be taken");
	ok(!ks_sem_trydown(&s), "... and no third");
	ks_sem_up(&s);
	ks_sem_up(&s);
	is(ks_sem_value(&s), 2, "... value 2 after two ups");
	/* up_n */
	ks_sem_init(&s, 0, 0);
	is(ks_sem_up_n(&s, 0), -EINVAL, "up_n(0): -EINVAL, as Python's release(0) raises ValueError");
	is(ks_sem_value(&s), 0, "... value still 0");
	is(ks_sem_up_n(&s, 5), 0, "up_n(5)");
	is(ks_sem_value(&s), 5, "... value 5");
}

static void test_try_acquire(void)
{
	struct ks_sem s = KS_SEM_INIT(2);

	tap_phase("try acquire");
	/* test_try_acquire */
	ok(ks_sem_trydown(&s), "trydown on 2");
	ok(ks_sem_trydown(&s), "trydown on 1");
	ok(!ks_sem_trydown(&s), "trydown on 0 fails");
	is(ks_sem_value(&s), 0, "... and leaves 0");
	ks_sem_up(&s);
	ok(ks_sem_trydown(&s), "trydown after an up");
	ks_sem_up_n(&s, 2);
}

static void test_acquire_timeout(void)
{
	struct ks_sem s = KS_SEM_INIT(2);
	int64_t t0, took;

	tap_phase("acquire timeout");
	/* test_acquire_timeout */
	is(ks_sem_down_timeout(&s, -1), -EINVAL, "negative timeout: -EINVAL");
	is(ks_sem_down_timeout(&s, INT64_MIN), -EINVAL, "INT64_MIN timeout: -EINVAL");
	is(ks_sem_value(&s), 2, "... and no token taken");
	is(ks_sem_down_timeout(&s, 5 * KS_NSEC_PER_MSEC), 0, "down_timeout(5 ms) on 2");
	is(ks_sem_down_timeout(&s, 5 * KS_NSEC_PER_MSEC), 0, "down_timeout(5 ms) on 1");
	is(ks_sem_down_timeout(&s, 0), -ETIMEDOUT, "down_timeout(0) on 0: -ETIMEDOUT");
	is(ks_sem_down_timeout(&s, -5), -EINVAL, "negative timeout on 0: -EINVAL, not a wait");
	t0 = tap_now_ns();
	is(ks_sem_down_timeout(&s, 5 * KS_NSEC_PER_MSEC), -ETIMEDOUT,
	   "down_timeout(5 ms) on 0: -ETIMEDOUT");
	tap_timeout_ok(tap_now_ns() - t0, 5 * KS_NSEC_PER_MSEC, "down_timeout(5 ms)");
	ks_sem_up(&s);
	is(ks_sem_down_timeout(&s, 0), 0, "down_timeout(0) takes an available token");
	ks_sem_up(&s);
	is(ks_sem_down_timeout(&s, INT64_MAX), 0, "an enormous timeout is accepted");
	t0 = tap_now_ns();
	is(ks_sem_down_timeout(&s, 100 * KS_NSEC_PER_MSEC), -ETIMEDOUT,
	   "down_timeout(100 ms) on 0");
	took = tap_now_ns() - t0;
	tap_timeout_ok(took, 100 * KS_NSEC_PER_MSEC, "down_timeout(100 ms)");
	is(ks_sem_value(&s), 0, "a timed-out down leaves the value alone");
	is(sem_nwaiters(&s), 0, "... and is no longer registered as a waiter");
}

static void test_default_value(void)
{
	struct ks_sem s = KS_SEM_INIT(1);
	struct tap_waiter w;
	pthread_t t;

	tap_phase("default value");
	/* test_default_value: Semaphore() is 1; a second acquirer blocks until the release */
	ks_sem_down(&s);
	t = start_waiter(&w, &s, -1);
	ok(tap_waiter_asleep(&w), "a second down sleeps in the kernel");
	ok(!atomic_load(&w.done), "... blocked while the token is held");
	is(sem_nwaiters(&s), 1, "... registered as one waiter");
	ks_sem_up(&s);
	pthread_join(t, NULL);
	ok(atomic_load(&w.done) && w.result == 0, "the waiter got the token after the up");
	is(ks_sem_value(&s), 0, "... and holds it");
	is(sem_nwaiters(&s), 0, "... and unregistered");

	t = start_waiter(&w, &s, 5 * KS_NSEC_PER_SEC);
	tap_waiter_asleep(&w);
	ks_sem_up(&s);
	pthread_join(t, NULL);
	is(w.result, 0, "a timed waiter gets the token when it comes before the deadline");
	ok(w.took_ns < 5 * KS_NSEC_PER_SEC, "... well before its deadline");

	t = start_waiter(&w, &s, 100 * KS_NSEC_PER_MSEC);
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "a timed waiter on another thread times out");
	tap_timeout_ok(w.took_ns, 100 * KS_NSEC_PER_MSEC, "down_timeout on a thread");
}

/* ---- contention: test_acquire_contended, test_multirelease, test_try_acquire_contended ------ */

struct crowd {
	struct ks_sem s;
	atomic_int inside, peak, through;
	atomic_int hold;	/* while set, holders keep their token */
	int rounds;
	bool try_only;
	atomic_int try_ok, try_fail;
};

static void *crowd_main(void *arg)
{
	struct crowd *c = arg;

	for (int i = 0; i < c->rounds; i++) {
		int in;

		if (c->try_only) {
			if (ks_sem_trydown(&c->s))
				atomic_fetch_add(&c->try_ok, 1);
			else
				atomic_fetch_add(&c->try_fail, 1);
			continue;
		}
		ks_sem_down(&c->s);
		in = atomic_fetch_add(&c->inside, 1) + 1;
		for (int p = atomic_load(&c->peak); in > p;)
			if (atomic_compare_exchange_weak(&c->peak, &p, in))
				break;
		atomic_fetch_add(&c->through, 1);
		while (atomic_load(&c->hold))
			tap_sleep_ms(1);
		if (i % 16 == 0)
			sched_yield();
		atomic_fetch_sub(&c->inside, 1);
		if (c->rounds > 1)
			ks_sem_up(&c->s);
	}
	return NULL;
}

/* Waits (bounded) until `through` reaches want, then a little more to catch any excess. */
static int settle(atomic_int *through, int want)
{
	int64_t end = tap_deadline_in_ms(5000);

	while (atomic_load(through) < want && tap_before(end))
		tap_sleep_ms(1);
	tap_sleep_ms(30);
	return atomic_load(through);
}

static void test_acquire_contended(void)
{
	enum { N = 10 };
	static struct crowd c;
	pthread_t t[N];

	tap_phase("acquire contended");
	/* test_acquire_contended: Semaphore(7) with one taken; 10 threads; up 6, then up 7 */
	memset(&c, 0, sizeof(c));
	ks_sem_init(&c.s, 7, 0);
	c.rounds = 1;
	atomic_store(&c.hold, 1);
	ks_sem_down(&c.s);
	for (int i = 0; i < N; i++)
		t[i] = tap_thread(crowd_main, &c);
	is(settle(&c.through, 6), 6, "6 of 10 threads get the 6 remaining tokens");
	for (int i = 0; i < 6; i++)
		ks_sem_up(&c.s);
	is(settle(&c.through, 10), 10, "six ups let the other 4 through (one for each, 2 spare)");
	is(ks_sem_value(&c.s), 2, "... leaving 2 tokens");
	is(atomic_load(&c.peak), 10, "10 holders at once: 6 + 6 tokens - 2 left");
	atomic_store(&c.hold, 0);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);

	/* test_multirelease: the same with up_n(6) in one call */
	memset(&c, 0, sizeof(c));
	ks_sem_init(&c.s, 7, 0);
	c.rounds = 1;
	atomic_store(&c.hold, 1);
	ks_sem_down(&c.s);
	for (int i = 0; i < N; i++)
		t[i] = tap_thread(crowd_main, &c);
	is(settle(&c.through, 6), 6, "multirelease: 6 through before the release");
	is(ks_sem_up_n(&c.s, 6), 0, "multirelease: up_n(6)");
	is(settle(&c.through, 10), 10, "multirelease: all 10 through after up_n(6)");
	is(ks_sem_value(&c.s), 2, "multirelease: 2 tokens left");
	atomic_store(&c.hold, 0);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);

	/* test_try_acquire_contended: Semaphore(4), one taken; 5 threads try once each */
	memset(&c, 0, sizeof(c));
	ks_sem_init(&c.s, 4, 0);
	ks_sem_down(&c.s);
	c.rounds = 1;
	c.try_only = true;
	for (int i = 0; i < 5; i++)
		t[i] = tap_thread(crowd_main, &c);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	is(atomic_load(&c.try_ok), 3, "try contended: exactly 3 of 5 trydowns succeed");
	is(atomic_load(&c.try_fail), 2, "try contended: the other 2 fail without blocking");
}

/* test_acquire_contended at scale, and "no more than the count hold it at once" */
static void test_many_waiters(void)
{
	enum { N = 128, COUNT = 5, ROUNDS = 50 };
	static struct crowd c;
	static pthread_t t[N];

	tap_phase("many waiters on one sem");
	memset(&c, 0, sizeof(c));
	ks_sem_init(&c.s, 0, 0);
	c.rounds = ROUNDS;
	for (int i = 0; i < N; i++)
		t[i] = tap_thread(crowd_main, &c);
	tap_sleep_ms(50);
	is(atomic_load(&c.through), 0, "%d threads block on a semaphore of 0", N);
	ks_sem_up_n(&c.s, COUNT);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	is(atomic_load(&c.through), N * ROUNDS, "%d threads x %d rounds all got through", N,
	   ROUNDS);
	ok(atomic_load(&c.peak) <= COUNT, "never more than %d holders at once (peak %d)", COUNT,
	   atomic_load(&c.peak));
	is(ks_sem_value(&c.s), COUNT, "all %d tokens back at the end", COUNT);
	is(sem_nwaiters(&c.s), 0, "no waiter left registered");
}

/* up_n(k) with N sleepers wakes exactly k of them; the rest keep sleeping. */
static void test_up_n_wakes_n(void)
{
	enum { N = 12 };
	static struct crowd c;
	pthread_t t[N];

	tap_phase("up_n wakes n");
	memset(&c, 0, sizeof(c));
	ks_sem_init(&c.s, 0, 0);
	c.rounds = 1;
	for (int i = 0; i < N; i++)
		t[i] = tap_thread(crowd_main, &c);
	for (int64_t end = tap_deadline_in_ms(5000);
	     sem_nwaiters(&c.s) < N && tap_before(end);)
		tap_sleep_ms(1);
	is(sem_nwaiters(&c.s), N, "%d sleepers registered", N);
	ks_sem_up_n(&c.s, 3);
	is(settle(&c.through, 3), 3, "up_n(3): exactly 3 of %d wake and take", N);
	is(sem_nwaiters(&c.s), N - 3, "... %d still registered", N - 3);
	ks_sem_up_n(&c.s, 4);
	is(settle(&c.through, 7), 7, "up_n(4): 4 more");
	ks_sem_up(&c.s);
	is(settle(&c.through, 8), 8, "up(): one more");
	ks_sem_up_n(&c.s, 100);
	is(settle(&c.through, N), N, "up_n(100): the remaining %d", N - 8);
	is(ks_sem_value(&c.s), 100 - (N - 8), "... and the spare tokens stay");
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	is(sem_nwaiters(&c.s), 0, "no waiter left registered");
}

static void test_bounded(void)
{
	struct ks_sem b = KS_BOUNDED_SEM_INIT(1), d;

	tap_phase("bounded");
	/* BoundedSemaphoreTests.test_release_unacquired */
	is(ks_sem_up(&b), -EOVERFLOW, "bounded: up without a down: -EOVERFLOW");
	is(ks_sem_value(&b), 1, "... value unchanged");
	ks_sem_down(&b);
	is(ks_sem_up(&b), 0, "bounded: down then up");
	is(ks_sem_up(&b), -EOVERFLOW, "bounded: one up too many: -EOVERFLOW");
	is(ks_sem_value(&b), 1, "... value unchanged");
	/* test_multirelease on a bounded semaphore: release(n) past the bound */
	is(ks_sem_init(&d, 5, KS_BOUNDED), 0, "bounded(5)");
	ok(ks_sem_trydown(&d) && ks_sem_trydown(&d) && ks_sem_trydown(&d), "three downs");
	is(ks_sem_up_n(&d, 4), -EOVERFLOW, "up_n(4) with 3 out: -EOVERFLOW");
	is(ks_sem_value(&d), 2, "... changes nothing (not a partial release)");
	is(ks_sem_up_n(&d, UINT32_MAX), -EOVERFLOW, "up_n(UINT_MAX): -EOVERFLOW, no wrap");
	is(ks_sem_value(&d), 2, "... value unchanged");
	is(ks_sem_up_n(&d, 3), 0, "up_n(3) exactly back to the bound");
	is(ks_sem_value(&d), 5, "... value 5");
	is(ks_sem_up_n(&d, 0), -EINVAL, "up_n(0) at the bound: -EINVAL, not -EOVERFLOW");
}

static void test_value_max(void)
{
	struct ks_sem s;

	tap_phase("value max");
	ks_sem_init(&s, KS_SEM_VALUE_MAX - 1, 0);
	is(ks_sem_up(&s), 0, "up to KS_SEM_VALUE_MAX");
	is(ks_sem_value(&s), KS_SEM_VALUE_MAX, "... value is KS_SEM_VALUE_MAX");
	is(ks_sem_up(&s), -EOVERFLOW, "up past KS_SEM_VALUE_MAX: -EOVERFLOW");
	is(ks_sem_value(&s), KS_SEM_VALUE_MAX, "... value unchanged (no wrap)");
	is(sem_nwaiters(&s), 0, "... nothing spilled into the waiter count");
	is(ks_sem_up_n(&s, UINT32_MAX), -EOVERFLOW, "up_n(UINT_MAX) at max: -EOVERFLOW");
	ks_sem_init(&s, 10, 0);
	is(ks_sem_up_n(&s, KS_SEM_VALUE_MAX), -EOVERFLOW, "up_n(max) on 10: -EOVERFLOW");
	is(ks_sem_value(&s), 10, "... value unchanged");
	is(ks_sem_up_n(&s, KS_SEM_VALUE_MAX - 10), 0, "up_n(max - 10) on 10: exactly max");
	ok(ks_sem_trydown(&s) && ks_sem_value(&s) == KS_SEM_VALUE_MAX - 1, "down from max");
}

static void test_no_syscalls(void)
{
	struct ks_sem s = KS_SEM_INIT(1), b = KS_BOUNDED_SEM_INIT(2);
	unsigned long before = ks_futex_calls();

	tap_phase("no syscalls");
	for (int i = 0; i < 1000; i++) {
		ks_sem_down(&s);
		ks_sem_up(&s);
		ks_sem_trydown(&s);
		ks_sem_trydown(&s);	/* fails: nothing to wait for */
		ks_sem_up(&s);
		ks_sem_down_timeout(&s, KS_NSEC_PER_SEC);
		ks_sem_up_n(&s, 3);
		ks_sem_up_n(&s, 0);
		ks_sem_down_timeout(&s, 0);
		ks_sem_down_timeout(&s, 0);
		ks_sem_down_timeout(&s, 0);
		ks_sem_down_timeout(&s, 0);	/* fails */
		ks_sem_up(&s);
		ks_sem_up(&b);		/* -EOVERFLOW */
	}
	is(ks_futex_calls() - before, 0, "uncontended down/trydown/timeout/up/up_n: 0 futex calls");
	is(ks_sem_value(&s), 1, "... value back to 1");
}

static void test_signals(void)
{
	struct ks_sem s = KS_SEM_INIT(0);
	struct tap_storm storm;
	struct tap_waiter w;
	unsigned long before;
	pthread_t t;

	tap_phase("signals during down");
	t = start_waiter(&w, &s, -1);
	tap_waiter_asleep(&w);
	before = tap_signals_seen();
	tap_storm_start(&storm, t, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(200);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > before, "the waiter received signals (%lu)",
	   tap_signals_seen() - before);
	ok(!atomic_load(&w.done), "signals do not make down() return on a semaphore of 0");
	ks_sem_up(&s);
	pthread_join(t, NULL);
	ok(w.result == 0 && ks_sem_value(&s) == 0, "down() took the token after the signals");

	tap_phase("signals during down_timeout");
	t = start_waiter(&w, &s, 200 * KS_NSEC_PER_MSEC);
	tap_storm_start(&storm, t, 300 * KS_NSEC_PER_USEC);
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	is(w.result, -ETIMEDOUT, "down_timeout under a signal storm: -ETIMEDOUT, never -EINTR");
	tap_timeout_ok(w.took_ns, 200 * KS_NSEC_PER_MSEC, "down_timeout under signals");

	tap_phase("spurious wake-ups during down");
	t = start_waiter(&w, &s, -1);
	tap_waiter_asleep(&w);
	for (int i = 0; i < 100; i++) {
		tap_futex_poke(ks__sem_futex(&s));
		if (i % 10 == 0)
			tap_sleep_ms(1);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "spurious futex wakes do not make down() return");
	is(ks_sem_value(&s), 0, "... the value is still 0");
	ks_sem_up(&s);
	pthread_join(t, NULL);
	ok(w.result == 0, "the waiter takes the token of the real up");

	t = start_waiter(&w, &s, 150 * KS_NSEC_PER_MSEC);
	while (!atomic_load(&w.tid))
		tap_sleep_ms(1);
	for (int i = 0; i < 50; i++) {
		tap_futex_poke(ks__sem_futex(&s));
		tap_sleep_ms(2);
	}
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "a timed waiter poked spuriously still times out");
	tap_timeout_ok(w.took_ns, 150 * KS_NSEC_PER_MSEC, "down_timeout with spurious wakes");
	is(sem_nwaiters(&s), 0, "no waiter left registered");
}

struct shared_sem {
	struct ks_sem s;
	struct ks_sem done;
	int inside, peak;	/* guarded by `s`, a semaphore of 1 */
	long counter;
};

static void test_process_shared(void)
{
	struct shared_sem *sh = tap_shared_alloc(sizeof(*sh));
	enum { CHILDREN = 4, ROUNDS = 5000 };
	pid_t pids[CHILDREN];
	bool all_ok = true;

	tap_phase("process-shared");
	is(ks_sem_init(&sh->s, 0, KS_SHARED), 0, "KS_SHARED semaphore in MAP_SHARED memory");
	ks_sem_init(&sh->done, 0, KS_SHARED);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (int k = 0; k < ROUNDS; k++) {
				ks_sem_down(&sh->s);
				if (++sh->inside > sh->peak)
					sh->peak = sh->inside;
				sh->counter++;
				sh->inside--;
				ks_sem_up(&sh->s);
			}
			ks_sem_up(&sh->done);
			_exit(0);
		}
	}
	tap_sleep_ms(50);
	is(sh->counter, 0, "children block on a semaphore of 0 made by the parent");
	ks_sem_up(&sh->s);	/* one token: a mutex across processes */
	for (int i = 0; i < CHILDREN; i++)
		is(ks_sem_down_timeout(&sh->done, 60 * KS_NSEC_PER_SEC), 0,
		   "the parent sleeps on a shared semaphore until child %d is done", i);
	for (int i = 0; i < CHILDREN; i++)
		all_ok &= tap_wait_child(pids[i]);
	ok(all_ok, "all children exited cleanly");
	is(sh->counter, (long)CHILDREN * ROUNDS, "%d processes x %d rounds, none lost", CHILDREN,
	   ROUNDS);
	is(sh->peak, 1, "a semaphore of 1 excluded across processes");
	is(ks_sem_value(&sh->s), 1, "the token is back");

	ks_sem_down(&sh->s);
	pids[0] = fork();
	if (pids[0] == 0)
		_exit(ks_sem_down_timeout(&sh->s, 50 * KS_NSEC_PER_MSEC) == -ETIMEDOUT ? 0 : 1);
	ok(tap_wait_child(pids[0]), "a child's down_timeout on an empty shared sem times out");
	pids[0] = fork();
	if (pids[0] == 0)
		_exit(ks_sem_down_timeout(&sh->s, 10 * KS_NSEC_PER_SEC));
	tap_sleep_ms(30);
	ks_sem_up(&sh->s);
	ok(tap_wait_child(pids[0]), "a child's timed down succeeds when the parent ups");
	is(sem_nwaiters(&sh->s), 0, "no waiter left registered");
	munmap(sh, sizeof(*sh));
}

/*
 * The waiter frees the semaphore as soon as its down returns, while the upper may still be
 * inside ks_sem_up(): the upper must not touch it after the CAS that gives the token, except
 * through the futex address. ASan turns any such touch into a failure; signals stretch the
 * upper's way through ks_sem_up() at random points.
 */
static void test_free_after_down(void)
{
	tap_phase("free after the last down");
	lifetime_ok(&ops_sem, LIFETIME_STORM, "semaphores freed by the waiter right after down");
}

/* ---- stress: producers and consumers, tokens conserved ------------------------------------ */

struct stress {
	struct ks_sem s;
	atomic_long produced, consumed, timeouts, refused;
	atomic_int exited;
	atomic_bool stop;
	int64_t end;
};

static void *producer_main(void *arg)
{
	struct stress *st = arg;
	unsigned seed = (unsigned)ks_self_tid();

	while (tap_before(st->end)) {
		unsigned n = rand_r(&seed) % 4 + 1;

		if (ks_sem_up_n(&st->s, n) == 0)
			atomic_fetch_add(&st->produced, n);
		else
			atomic_fetch_add(&st->refused, 1);
		if (rand_r(&seed) % 8 == 0)
			sched_yield();
	}
	return NULL;
}

static void *consumer_main(void *arg)
{
	struct stress *st = arg;
	unsigned seed = (unsigned)ks_self_tid();

	while (!atomic_load(&st->stop)) {
		int how = rand_r(&seed) % 3;

		if (how == 0 && ks_sem_trydown(&st->s))
			atomic_fetch_add(&st->consumed, 1);
		else if (how == 1 && ks_sem_down_timeout(&st->s, (rand_r(&seed) % 200) *
							 KS_NSEC_PER_USEC) == 0)
			atomic_fetch_add(&st->consumed, 1);
		else if (how == 1)
			atomic_fetch_add(&st->timeouts, 1);
		else if (how == 2) {
			ks_sem_down(&st->s);
			atomic_fetch_add(&st->consumed, 1);
		}
	}
	atomic_fetch_add(&st->exited, 1);
	return NULL;
}

static void test_stress(void)
{
	enum { PRODUCERS = 3, CONSUMERS = 6, STRESS_BOUND = 64 };
	static struct stress st;
	pthread_t p[PRODUCERS], c[CONSUMERS];
	long drained = 0;

	tap_phase("sem stress: producers and consumers");
	memset(&st, 0, sizeof(st));
	ks_sem_init(&st.s, STRESS_BOUND, KS_BOUNDED);	/* producers meet the bound under load */
	while (ks_sem_trydown(&st.s))
		;
	st.end = tap_deadline_in_ms(tap_stress_ms());
	for (int i = 0; i < CONSUMERS; i++)
		c[i] = tap_thread(consumer_main, &st);
	for (int i = 0; i < PRODUCERS; i++)
		p[i] = tap_thread(producer_main, &st);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(p[i], NULL);
	atomic_store(&st.stop, true);
	while (atomic_load(&st.exited) < CONSUMERS) {	/* release consumers blocked in down() */
		if (ks_sem_up(&st.s) == 0)
			atomic_fetch_add(&st.produced, 1);
		tap_sleep_ms(1);
	}
	for (int i = 0; i < CONSUMERS; i++)
		pthread_join(c[i], NULL);
	while (ks_sem_trydown(&st.s))
		drained++;
	ok(atomic_load(&st.consumed) > 0, "stress: %ld produced, %ld consumed, %ld timeouts, "
	   "%ld ups refused at the bound", atomic_load(&st.produced), atomic_load(&st.consumed),
	   atomic_load(&st.timeouts), atomic_load(&st.refused));
	is(atomic_load(&st.consumed) + drained, atomic_load(&st.produced),
	   "stress: tokens conserved (consumed + left = produced)");
	is(sem_nwaiters(&st.s), 0, "stress: no waiter left registered");
}

int main(void)
{
	tap_start(180);
	test_constructor();
	test_acquire();
	test_try_acquire();
	test_acquire_timeout();
	test_default_value();
	test_acquire_contended();
	test_many_waiters();
	test_up_n_wakes_n();
	test_bounded();
	test_value_max();
	test_no_syscalls();
	test_signals();
	test_process_shared();
	test_free_after_down();
	test_stress();
	return tap_done();
}
