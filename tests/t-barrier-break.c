// SPDX-License-Identifier: MIT
/*
 * ks_barrier, broken and mended: CPython's BarrierTests cases that break a barrier (abort,
 * reset while waiting, abort then reset, timeouts: the timed-out waiter gets -ETIMEDOUT, the
 * others -EPIPE, "default" timeouts), and what a C futex barrier adds: a failing action, a reset
 * that must hold new arrivals at the door while a waiter of the broken generation is still
 * inside, a waiter released just before the next generation broke, signal storms and spurious
 * futex wakes during waits. Passing together is t-barrier.c.
 */
#include <signal.h>

#include <ksync/barrier.h>

#include "tap.h"
#include "ops/barrier.h"

#define N		5	/* CPython's BarrierTests.N */
#define MS		KS_NSEC_PER_MSEC

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

static int action_fail_main(void *ctx, int64_t timeout_ns)
{
	struct breaker *k = ctx;

	(void)timeout_ns;
	for (int r = 0; r < 3; r++) {
		int i = ks_barrier_wait(&k->b);

		if (i >= 0)
			atomic_fetch_add(&k->passed, 1);
		else
			atomic_fetch_add(i == -EPIPE ? &k->broken : &k->other, 1);
	}
	return 0;
}

static void test_action_fails(void)
{
	static struct breaker k;
	static struct tap_waiter c[N];

	tap_phase("failing action");
	memset(&k, 0, sizeof(k));
	k.fail_round = 1;
	ks_barrier_init(&k.b, N, fail_in_round, &k, 0);
	tap_crew_start(c, N, action_fail_main, &k, OPS_BLOCK);
	tap_crew_join(c, N);
	is(atomic_load(&k.passed), N, "round 0 passes for all");
	is(atomic_load(&k.broken), 2 * N,
	   "the action fails in round 1: -EPIPE for all, its own thread included, and after");
	is(atomic_load(&k.other), 0, "no other result");
	is(k.rounds, 2, "the action did not run again on the broken barrier");
	ok(ks_barrier_broken(&k.b), "broken");
	is(ks_barrier_n_waiting(&k.b), 0, "n_waiting is 0 when broken");
}

/*
 * A round of CPython's break tests: the party that got index N/2 waits until the others wait
 * again, then acts on the barrier (abort, reset); the others count how their wait ended.
 */
static void middle_acts(struct breaker *k, void (*act)(struct ks_barrier *b))
{
	int i = ks_barrier_wait(&k->b);

	if (i == N / 2) {
		ops_barrier_until_waiting(&k->b, N - 1);
		act(&k->b);
		return;
	}
	i = ks_barrier_wait(&k->b);
	atomic_fetch_add(i >= 0 ? &k->passed : i == -EPIPE ? &k->broken : &k->other, 1);
}

/* CPython test_abort: the thread with index N/2 aborts instead of waiting again. */
static int abort_main(void *ctx, int64_t timeout_ns)
{
	(void)timeout_ns;
	middle_acts(ctx, ks_barrier_abort);
	return 0;
}

static void test_abort(void)
{
	static struct breaker k;
	static struct tap_waiter c[N];

	tap_phase("abort");
	memset(&k, 0, sizeof(k));
	ks_barrier_init(&k.b, N, NULL, NULL, 0);
	tap_crew_start(c, N, abort_main, &k, OPS_BLOCK);
	tap_crew_join(c, N);
	is(atomic_load(&k.passed), 0, "nobody passes an aborted barrier");
	is(atomic_load(&k.broken), N - 1, "the %d waiters get -EPIPE", N - 1);
	is(atomic_load(&k.other), 0, "no other result");
	ok(ks_barrier_broken(&k.b), "broken() afterwards");
	is(ks_barrier_wait(&k.b), -EPIPE, "and later waiters get -EPIPE until reset");
}

/* CPython test_reset: index N/2 resets while the others wait; then all pass again. */
static int reset_main(void *ctx, int64_t timeout_ns)
{
	struct breaker *k = ctx;

	(void)timeout_ns;
	middle_acts(k, ks_barrier_reset);
	return ks_barrier_wait(&k->b);
}

static void test_reset(void)
{
	static struct breaker k;
	static struct tap_waiter c[N];
	unsigned mask = 0;

	tap_phase("reset");
	memset(&k, 0, sizeof(k));
	ks_barrier_init(&k.b, N, NULL, NULL, 0);
	tap_crew_start(c, N, reset_main, &k, OPS_BLOCK);
	tap_crew_join(c, N);
	is(atomic_load(&k.passed), 0, "nobody passes the round that was reset");
	is(atomic_load(&k.broken), N - 1, "its %d waiters get -EPIPE", N - 1);
	for (int i = 0; i < N; i++)
		if (c[i].result >= 0)
			mask |= 1u << c[i].result;
	is(mask, (1u << N) - 1, "then all %d pass the reset barrier, with distinct indices", N);
	ok(!ks_barrier_broken(&k.b), "not broken");
}

/* CPython test_abort_and_reset: abort, synchronise on a second barrier, reset, pass again. */
static int abort_reset_main(void *ctx, int64_t timeout_ns)
{
	struct breaker *k = ctx;

	(void)timeout_ns;
	middle_acts(k, ks_barrier_abort);
	if (ks_barrier_wait(&k->b2) == N / 2)
		ks_barrier_reset(&k->b);
	ks_barrier_wait(&k->b2);
	return ks_barrier_wait(&k->b);
}

static void test_abort_and_reset(void)
{
	static struct breaker k;
	static struct tap_waiter c[N];
	unsigned mask = 0;

	tap_phase("abort and reset");
	memset(&k, 0, sizeof(k));
	ks_barrier_init(&k.b, N, NULL, NULL, 0);
	ks_barrier_init(&k.b2, N, NULL, NULL, 0);
	tap_crew_start(c, N, abort_reset_main, &k, OPS_BLOCK);
	tap_crew_join(c, N);
	is(atomic_load(&k.passed), 0, "nobody passes the aborted round");
	is(atomic_load(&k.broken), N - 1, "its waiters get -EPIPE");
	for (int i = 0; i < N; i++)
		if (c[i].result >= 0)
			mask |= 1u << c[i].result;
	is(mask, (1u << N) - 1, "after the reset all pass again, with distinct indices");
}

/* ---- test_timeout, test_default_timeout ------------------------------------------------------ */

struct late {
	struct ks_barrier b;
	int64_t timeout_ns;	/* what every early thread waits for */
	int64_t late_ns;	/* how late the late thread is */
	bool late_times_out;	/* the late thread also uses timeout_ns ("default" timeout) */
	int64_t took_ns;	/* how long the waiter that timed out waited */
};

static int late_main(void *ctx, int64_t timeout_ns)
{
	struct late *l = ctx;
	int64_t t0;
	int r;

	(void)timeout_ns;
	if (ks_barrier_wait(&l->b) == N / 2) {
		tap_sleep_ns(l->late_ns);
		return l->late_times_out ? ks_barrier_wait_timeout(&l->b, l->timeout_ns) :
					   ks_barrier_wait(&l->b);
	}
	t0 = tap_now_ns();
	r = ks_barrier_wait_timeout(&l->b, l->timeout_ns);
	if (r == -ETIMEDOUT)
		l->took_ns = tap_now_ns() - t0;
	return r;
}

static void test_timeout(const char *name, bool default_timeout)
{
	static struct late l;
	static struct tap_waiter c[N];

	tap_phase(name);
	memset(&l, 0, sizeof(l));
	ks_barrier_init(&l.b, N, NULL, NULL, 0);
	l.timeout_ns = 100 * MS;
	l.late_ns = 400 * MS;
	l.late_times_out = default_timeout;
	tap_crew_start(c, N, late_main, &l, OPS_BLOCK);
	tap_crew_join(c, N);
	is(tap_crew_count(c, N, -ETIMEDOUT), 1, "%s: exactly one waiter gets -ETIMEDOUT", name);
	is(tap_crew_count(c, N, -EPIPE), N - 1, "%s: the others -EPIPE (the late one too)", name);
	if (l.took_ns)
		tap_timeout_ok(l.took_ns, l.timeout_ns, name);
	else
		ok(false, "%s: nobody timed out", name);
	ok(ks_barrier_broken(&l.b), "%s: the timeout broke the barrier", name);
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

/* Parks waiter w (asleep in the barrier) in the SIGUSR2 handler: inside wait(), not leaving. */
static bool hold(struct tap_waiter *w)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hold_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	atomic_store(&hold_in, false);
	atomic_store(&hold_out, false);
	if (!tap_waiter_asleep(w))
		return false;
	pthread_kill(w->thread, SIGUSR2);
	while (!atomic_load(&hold_in))
		tap_sleep_ms(1);
	return true;
}

static void test_reset_door(void)
{
	static struct tap_waiter old[2], fresh[3];
	struct ks_barrier b;
	bool early = false;
	unsigned mask = 0;

	tap_phase("reset: door");
	ks_barrier_init(&b, 3, NULL, NULL, 0);
	tap_crew_start(old, 2, ops_barrier_wait, &b, OPS_BLOCK);
	ops_barrier_until_waiting(&b, 2);
	ok(tap_waiter_asleep(&old[1]), "two waiters of a 3-party barrier");
	ok(hold(&old[0]), "one of them is held inside wait() by a signal handler");
	ks_barrier_reset(&b);
	while (!atomic_load(&old[1].done))
		tap_sleep_ms(1);
	is(old[1].result, -EPIPE, "reset: the free waiter gets -EPIPE");
	ok(!ks_barrier_broken(&b), "broken() is false while the reset completes (as in CPython)");
	is(ks_barrier_n_waiting(&b), 0, "n_waiting is 0 meanwhile");

	tap_crew_start(fresh, 3, ops_barrier_wait, &b, OPS_BLOCK);
	for (int i = 0; i < 3; i++)
		tap_waiter_asleep(&fresh[i]);
	tap_sleep_ms(20);
	for (int i = 0; i < 3; i++)
		early |= atomic_load(&fresh[i].done);
	ok(!early, "3 new arrivals wait at the door while the old waiter is inside");
	is(ks_barrier_n_waiting(&b), 0, "uncounted");

	atomic_store(&hold_out, true);
	tap_crew_join(old, 2);
	is(old[0].result, -EPIPE, "the held waiter leaves with -EPIPE");
	tap_crew_join(fresh, 3);
	for (int i = 0; i < 3; i++)
		if (fresh[i].result >= 0)
			mask |= 1u << fresh[i].result;
	is(mask, 7u, "then the new arrivals form a generation: indices 0, 1, 2");
	ok(!ks_barrier_broken(&b), "not broken");
}

static void test_released_then_broken(void)
{
	struct tap_waiter w;
	struct ks_barrier b;

	tap_phase("released, then broken");
	ks_barrier_init(&b, 2, NULL, NULL, 0);
	tap_waiter_start(&w, ops_barrier_wait, &b, OPS_BLOCK);
	ops_barrier_until_waiting(&b, 1);
	ok(hold(&w), "a waiter is held inside wait()");
	is(ks_barrier_wait(&b), 1, "the second party releases the generation");
	ks_barrier_abort(&b);
	ok(ks_barrier_broken(&b), "and the next generation is aborted at once");
	atomic_store(&hold_out, true);
	tap_waiter_join(&w);
	is(w.result, 0, "the held waiter was released before the break: index 0, not -EPIPE");

	tap_phase("released, then timed out");
	ks_barrier_init(&b, 2, NULL, NULL, 0);
	/* 500 ms: room for hold() on a slow machine */
	tap_waiter_start(&w, ops_barrier_wait, &b, 500 * MS);
	ops_barrier_until_waiting(&b, 1);
	ok(hold(&w), "a waiter with a 500 ms timeout is held inside wait()");
	is(ks_barrier_wait(&b), 1, "the second party releases the generation");
	tap_sleep_ms(550);
	atomic_store(&hold_out, true);
	tap_waiter_join(&w);
	is(w.result, 0, "the waiter passes though its deadline passed before it looked");
	ok(!ks_barrier_broken(&b), "and the barrier is not broken");
}

/* ---- signals and spurious wake-ups ----------------------------------------------------------- */

static void test_signals(void)
{
	struct tap_waiter w;
	struct ks_barrier b;
	struct tap_storm storm;
	unsigned long before;
	int64_t t0;
	int r;

	tap_phase("wait: signals");
	ks_barrier_init(&b, 2, NULL, NULL, 0);
	tap_waiter_start(&w, ops_barrier_wait, &b, OPS_BLOCK);
	ok(tap_waiter_asleep(&w), "a waiter sleeps in the kernel");
	before = tap_signals_seen();
	tap_storm_start(&storm, w.thread, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(150);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > before, "the waiter received signals (%lu)",
	   tap_signals_seen() - before);
	ok(!atomic_load(&w.done), "signals do not end a wait early");

	tap_phase("wait: spurious wake-ups");
	for (int i = 0; i < 100; i++) {
		tap_futex_poke(&b.core.seq);
		if (i % 10 == 0)
			tap_sleep_ms(1);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "spurious futex wakes release nobody");
	is(ks_barrier_n_waiting(&b), 1, "the waiter is still counted");
	is(ks_barrier_wait(&b), 1, "the second party releases it");
	tap_waiter_join(&w);
	is(w.result, 0, "index 0, never -EINTR");

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
	tap_waiter_start(&w, ops_barrier_wait, &b, 100 * MS);
	tap_waiter_asleep(&w);
	while (!atomic_load(&w.done))
		tap_futex_poke(&b.core.seq);
	tap_waiter_join(&w);
	is(w.result, -ETIMEDOUT, "a waiter poked until its deadline: -ETIMEDOUT");
	tap_timeout_ok(w.took_ns, 100 * MS, "wait_timeout with spurious wakes");
}

int main(void)
{
	tap_start(60);
	test_action_fails();
	test_abort();
	test_reset();
	test_abort_and_reset();
	test_timeout("timeout", false);
	test_timeout("default timeout", true);
	test_reset_door();
	test_released_then_broken();
	test_signals();
	return tap_done();
}
