// SPDX-License-Identifier: MIT
/*
 * ks_event: Python's Event semantics (CPython Lib/test/lock_tests.py EventTests: each test_*
 * has a counterpart named after it below), the timeouts, signals and spurious wake-ups during
 * the wait, many waiters, "a waiter blocked when set() ran returns 0 even if clear() ran before
 * it woke" (also across the wrap of the 30-bit generation), MAP_SHARED use across fork(), zero
 * futex calls when nobody waits, an event freed by its waiter right after wait() returns, and two
 * wall-clock stresses: a set/clear ping-pong, and set/clear storms against timed and untimed
 * waiters (a lost wake-up leaves an untimed waiter asleep: the watchdog names the phase).
 */
#include <ksync/event.h>

#include "tap.h"
#include "harness/lifetime.h"
#include "ops/event.h"

/* A waiter in ks_event_wait (timeout < 0) or ks_event_wait_timeout, through the table. */
static pthread_t start_waiter(struct tap_waiter *w, struct ks_event *e, int64_t timeout_ns)
{
	return ops_waiter_start(w, &ops_event, e, 0, timeout_ns);
}

static void test_is_set(void)
{
	struct ks_event e = KS_EVENT_INIT, d;

	tap_phase("is_set");
	/* test_is_set */
	ok(!ks_event_is_set(&e), "KS_EVENT_INIT is clear");
	ks_event_set(&e);
	ok(ks_event_is_set(&e), "set");
	ks_event_set(&e);
	ok(ks_event_is_set(&e), "set twice: still set");
	ks_event_clear(&e);
	ok(!ks_event_is_set(&e), "clear");
	ks_event_clear(&e);
	ok(!ks_event_is_set(&e), "clear twice: still clear");

	ks_event_init(&d, 0);
	ok(!ks_event_is_set(&d), "ks_event_init: clear");
	ks_event_init(&d, KS_SHARED);
	ok(!ks_event_is_set(&d), "ks_event_init(KS_SHARED): clear");
	ks_event_set(&d);
	ok(ks_event_is_set(&d), "... and settable");

	/* the generation counts the sets that changed the state, and only those */
	ks_event_init(&d, 0);
	ks_event_set(&d);
	ks_event_set(&d);
	is(atomic_load(&d.word), KS_EVENT_GEN_ONE | KS_EVENT_SET, "a second set() changes nothing");
	ks_event_clear(&d);
	is(atomic_load(&d.word), KS_EVENT_GEN_ONE, "clear() keeps the generation");
	ks_event_set(&d);
	is(atomic_load(&d.word), 2 * KS_EVENT_GEN_ONE | KS_EVENT_SET, "the next set() bumps it");
}

static void test_wait_basics(void)
{
	struct ks_event e = KS_EVENT_INIT;
	int64_t t0;

	tap_phase("wait basics");
	is(ks_event_wait_timeout(&e, 0), -ETIMEDOUT, "wait_timeout(0), clear event: -ETIMEDOUT");
	is(ks_event_wait_timeout(&e, -1), -EINVAL, "negative timeout: -EINVAL");
	is(ks_event_wait_timeout(&e, INT64_MIN), -EINVAL, "INT64_MIN timeout: -EINVAL");
	t0 = tap_now_ns();
	is(ks_event_wait_timeout(&e, 20 * KS_NSEC_PER_MSEC), -ETIMEDOUT,
	   "wait_timeout(20 ms) on a clear event: -ETIMEDOUT");
	tap_timeout_ok(tap_now_ns() - t0, 20 * KS_NSEC_PER_MSEC, "wait_timeout(20 ms)");
	ks_event_set(&e);
	ks_event_wait(&e);
	ok(true, "wait() on a set event returns at once");
	is(ks_event_wait_timeout(&e, 0), 0, "wait_timeout(0) on a set event: 0");
	is(ks_event_wait_timeout(&e, INT64_MAX), 0, "an enormous timeout on a set event: 0");
	is(ks_event_wait_timeout(&e, -1), -EINVAL, "negative timeout on a set event: -EINVAL");
	ok(ks_event_is_set(&e), "waiting does not clear the event");
}

/* ---- EventTests._check_notify, test_notify, test_timeout, test_set_and_clear --------------- */

enum { BUNCH = 5 };

static void check_notify(struct ks_event *e, const char *how)
{
	struct tap_waiter w[BUNCH];
	pthread_t t[BUNCH];
	int ok_count = 0;

	for (int i = 0; i < BUNCH; i++)
		t[i] = start_waiter(&w[i], e, i % 2 ? -1 : 10 * KS_NSEC_PER_SEC);
	for (int i = 0; i < BUNCH; i++)
		tap_waiter_asleep(&w[i]);
	for (int i = 0; i < BUNCH; i++)
		ok_count += !atomic_load(&w[i].done);
	is(ok_count, BUNCH, "%s: %d waiters block on a clear event", how, BUNCH);
	ks_event_set(e);
	ok_count = 0;
	for (int i = 0; i < BUNCH; i++) {
		pthread_join(t[i], NULL);
		ok_count += w[i].result == 0;
	}
	is(ok_count, BUNCH, "%s: set() wakes all %d, each returning 0", how, BUNCH);
	is(atomic_load(&e->word) & KS_EVENT_WAITERS, 0, "%s: WAITERS cleared by set()", how);
}

static void test_notify(void)
{
	struct ks_event e = KS_EVENT_INIT;

	tap_phase("notify");
	/* test_notify: on a fresh event, after a clear, and after set-then-clear (reset) */
	check_notify(&e, "fresh");
	ks_event_clear(&e);
	check_notify(&e, "after clear");
	ks_event_set(&e);
	ks_event_clear(&e);
	check_notify(&e, "after set and clear");
}

static void test_timeout(void)
{
	struct ks_event e = KS_EVENT_INIT;
	struct tap_waiter w[BUNCH];
	pthread_t t[BUNCH];
	int n = 0;

	tap_phase("timeout");
	/* test_timeout: wait(0) and wait(timeout) both say no on a clear event, then yes */
	for (int i = 0; i < BUNCH; i++)
		t[i] = start_waiter(&w[i], &e, i == 0 ? 0 : 100 * KS_NSEC_PER_MSEC);
	for (int i = 0; i < BUNCH; i++) {
		pthread_join(t[i], NULL);
		n += w[i].result == -ETIMEDOUT;
	}
	is(n, BUNCH, "%d waiters on a clear event time out", BUNCH);
	tap_timeout_ok(w[1].took_ns, 100 * KS_NSEC_PER_MSEC, "wait_timeout on a thread");
	ks_event_set(&e);
	n = 0;
	for (int i = 0; i < BUNCH; i++)
		t[i] = start_waiter(&w[i], &e, 100 * KS_NSEC_PER_MSEC);
	for (int i = 0; i < BUNCH; i++) {
		pthread_join(t[i], NULL);
		n += w[i].result == 0;
	}
	is(n, BUNCH, "after set(), %d timed waits return 0", BUNCH);

	/* a timed waiter woken by set() well before its deadline */
	ks_event_clear(&e);
	t[0] = start_waiter(&w[0], &e, 5 * KS_NSEC_PER_SEC);
	tap_waiter_asleep(&w[0]);
	ks_event_set(&e);
	pthread_join(t[0], NULL);
	is(w[0].result, 0, "a timed waiter returns 0 when set() comes before its deadline");
	ok(w[0].took_ns < 5 * KS_NSEC_PER_SEC, "... well before the deadline");
}

static void test_set_and_clear(void)
{
	struct ks_event e = KS_EVENT_INIT;
	struct tap_waiter w[BUNCH];
	pthread_t t[BUNCH];
	int n = 0;

	tap_phase("set and clear");
	/* test_set_and_clear: waiters blocked when set() ran return 0 though clear() came first */
	for (int i = 0; i < BUNCH; i++)
		t[i] = start_waiter(&w[i], &e, i % 2 ? -1 : 10 * KS_NSEC_PER_SEC);
	for (int i = 0; i < BUNCH; i++)
		tap_waiter_asleep(&w[i]);
	ks_event_set(&e);
	ks_event_clear(&e);
	for (int i = 0; i < BUNCH; i++) {
		pthread_join(t[i], NULL);
		n += w[i].result == 0;
	}
	is(n, BUNCH, "set() then clear() at once: all %d blocked waiters return 0", BUNCH);
	ok(!ks_event_is_set(&e), "... and the event is clear");
	is(ks_event_wait_timeout(&e, 0), -ETIMEDOUT, "... so a new wait(0) says no");

	/* the generation rather than the flag decides, across the wrap of its 30 bits */
	atomic_store(&e.word, KS_EVENT_GEN_MASK - 2 * KS_EVENT_GEN_ONE);
	for (int round = 0; round < 6; round++) {
		uint32_t before = atomic_load(&e.word) & KS_EVENT_GEN_MASK;

		t[0] = start_waiter(&w[0], &e, round % 2 ? -1 : 10 * KS_NSEC_PER_SEC);
		tap_waiter_asleep(&w[0]);
		ks_event_set(&e);
		ks_event_clear(&e);
		pthread_join(t[0], NULL);
		is(w[0].result, 0, "generation %#x → %#x: the blocked waiter returns 0", before,
		   atomic_load(&e.word) & KS_EVENT_GEN_MASK);
	}
	is(atomic_load(&e.word) & KS_EVENT_GEN_MASK, 3 * KS_EVENT_GEN_ONE,
	   "the generation wrapped to 3 after 6 sets from 3 below the top");
	is(ks_event_wait_timeout(&e, 0), -ETIMEDOUT, "a clear event after the wrap stays clear");
}

static void test_many_waiters(void)
{
	enum { N = 128 };
	static struct tap_waiter w[N];
	static pthread_t t[N];
	struct ks_event e = KS_EVENT_INIT;
	int n = 0, asleep = 0;

	tap_phase("many waiters on one event");
	for (int i = 0; i < N; i++)
		t[i] = start_waiter(&w[i], &e, i % 4 ? -1 : 30 * KS_NSEC_PER_SEC);
	for (int i = 0; i < N; i++)
		asleep += tap_waiter_asleep(&w[i]);
	ok(asleep == N, "%d waiters asleep on one event (%d seen asleep)", N, asleep);
	ks_event_set(&e);
	ks_event_clear(&e);
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		n += w[i].result == 0;
	}
	is(n, N, "one set() (then a clear) releases all %d", N);
}

static void test_no_syscalls(void)
{
	struct ks_event e = KS_EVENT_INIT;
	unsigned long before = ks_futex_calls();

	tap_phase("no syscalls");
	for (int i = 0; i < 1000; i++) {
		ks_event_set(&e);
		ks_event_set(&e);
		ks_event_wait(&e);
		ks_event_wait_timeout(&e, KS_NSEC_PER_SEC);
		ks_event_is_set(&e);
		ks_event_clear(&e);
		ks_event_clear(&e);
		ks_event_wait_timeout(&e, 0);	/* -ETIMEDOUT: looks, never sleeps */
	}
	is(ks_futex_calls() - before, 0, "set/clear/is_set/wait, nobody waiting: 0 futex calls");
}

static void test_signals(void)
{
	struct ks_event e = KS_EVENT_INIT;
	struct tap_storm storm;
	struct tap_waiter w;
	unsigned long before;
	pthread_t t;

	tap_phase("signals during wait");
	t = start_waiter(&w, &e, -1);
	tap_waiter_asleep(&w);
	before = tap_signals_seen();
	tap_storm_start(&storm, t, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(200);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > before, "the waiter received signals (%lu)",
	   tap_signals_seen() - before);
	ok(!atomic_load(&w.done), "signals do not make wait() return on a clear event");
	ks_event_set(&e);
	pthread_join(t, NULL);
	ok(w.result == 0, "wait() returns after the signals and the set()");
	ks_event_clear(&e);

	tap_phase("signals during wait_timeout");
	t = start_waiter(&w, &e, 200 * KS_NSEC_PER_MSEC);
	tap_storm_start(&storm, t, 300 * KS_NSEC_PER_USEC);
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	is(w.result, -ETIMEDOUT, "wait_timeout under a signal storm: -ETIMEDOUT, never -EINTR");
	tap_timeout_ok(w.took_ns, 200 * KS_NSEC_PER_MSEC, "wait_timeout under signals");

	tap_phase("spurious wake-ups during wait");
	t = start_waiter(&w, &e, -1);
	tap_waiter_asleep(&w);
	for (int i = 0; i < 100; i++) {
		tap_futex_poke(&e.word);
		if (i % 10 == 0)
			tap_sleep_ms(1);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "spurious futex wakes do not make wait() return");
	ks_event_set(&e);
	pthread_join(t, NULL);
	ok(w.result == 0, "the waiter returns on the real set()");
	ks_event_clear(&e);

	t = start_waiter(&w, &e, 150 * KS_NSEC_PER_MSEC);
	while (!atomic_load(&w.tid))
		tap_sleep_ms(1);
	for (int i = 0; i < 50; i++) {
		tap_futex_poke(&e.word);
		tap_sleep_ms(2);
	}
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "a timed waiter poked spuriously still times out");
	tap_timeout_ok(w.took_ns, 150 * KS_NSEC_PER_MSEC, "wait_timeout with spurious wakes");

	/* a clear() alone (the word changes, no set) is not a reason to return either */
	t = start_waiter(&w, &e, -1);
	tap_waiter_asleep(&w);
	for (int i = 0; i < 20; i++) {
		ks_event_clear(&e);
		tap_futex_poke(&e.word);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "clear() and pokes without a set() do not end a wait");
	ks_event_set(&e);
	pthread_join(t, NULL);
	ok(w.result == 0, "... the set() does");
}

struct shared_events {
	struct ks_event go, answer;
	int payload;
};

static void test_process_shared(void)
{
	struct shared_events *sh = tap_shared_alloc(sizeof(*sh));
	enum { CHILDREN = 4 };
	pid_t pids[CHILDREN];
	bool all_ok = true;

	tap_phase("process-shared");
	ks_event_init(&sh->go, KS_SHARED);
	ks_event_init(&sh->answer, KS_SHARED);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			ks_event_wait(&sh->go);
			if (sh->payload != 42)
				_exit(1);
			if (i == 0)
				ks_event_set(&sh->answer);
			_exit(0);
		}
	}
	tap_sleep_ms(50);
	sh->payload = 42;
	ks_event_set(&sh->go);
	is(ks_event_wait_timeout(&sh->answer, 60 * KS_NSEC_PER_SEC), 0,
	   "the parent sleeps on a shared event until a child sets it");
	for (int i = 0; i < CHILDREN; i++)
		all_ok &= tap_wait_child(pids[i]);
	ok(all_ok, "%d children woken by the parent's set() saw its payload", CHILDREN);

	ks_event_clear(&sh->go);
	pids[0] = fork();
	if (pids[0] == 0)
		_exit(ks_event_wait_timeout(&sh->go, 50 * KS_NSEC_PER_MSEC) == -ETIMEDOUT ? 0 : 1);
	ok(tap_wait_child(pids[0]), "a child's wait_timeout on a clear shared event times out");
	munmap(sh, sizeof(*sh));

	/* test_reset_internal_locks: a private event still works in a child after fork() */
	{
		struct ks_event e = KS_EVENT_INIT;

		pids[0] = fork();
		if (pids[0] == 0) {
			if (ks_event_wait_timeout(&e, KS_NSEC_PER_MSEC) != -ETIMEDOUT)
				_exit(1);
			ks_event_set(&e);
			_exit(ks_event_wait_timeout(&e, 0));
		}
		ok(tap_wait_child(pids[0]), "a private event works in a child after fork()");
	}
}

/*
 * The waiter frees the event as soon as its wait returns, while the setter may still be inside
 * ks_event_set(): the setter must not touch it after its CAS, except through the futex address.
 * Signals stretch the setter's way through ks_event_set() at random points.
 */
static void test_free_after_wait(void)
{
	tap_phase("free after the last wait");
	lifetime_ok(&ops_event, LIFETIME_STORM, "events freed by the waiter right after wait");
}

/* ---- stress 1: the benchmark's ping-pong, each side clearing what it waited for ------------ */

struct pingpong {
	struct ks_event ping, pong;
	int64_t end;
	atomic_bool stop;
	atomic_long rounds;
	long data;		/* written before each set, read after each wait */
	atomic_int bad;
};

static void *pong_main(void *arg)
{
	struct pingpong *p = arg;
	unsigned seed = (unsigned)ks_self_tid();
	long expect = 1;

	for (;;) {
		if (rand_r(&seed) % 2)
			ks_event_wait(&p->ping);
		else
			while (ks_event_wait_timeout(&p->ping, 100 * KS_NSEC_PER_USEC))
				;
		ks_event_clear(&p->ping);
		if (atomic_load(&p->stop))
			break;
		if (p->data != expect)
			atomic_fetch_add(&p->bad, 1);
		p->data = -expect;
		expect++;
		ks_event_set(&p->pong);
	}
	return NULL;
}

static void test_stress_pingpong(void)
{
	static struct pingpong p;
	long i;
	pthread_t t;

	tap_phase("event stress: set/clear ping-pong");
	memset(&p, 0, sizeof(p));
	ks_event_init(&p.ping, 0);
	ks_event_init(&p.pong, 0);
	p.end = tap_deadline_in_ms(tap_stress_ms() / 2);
	t = tap_thread(pong_main, &p);
	for (i = 1; tap_before(p.end); i++) {
		p.data = i;
		ks_event_set(&p.ping);
		ks_event_wait(&p.pong);
		ks_event_clear(&p.pong);
		if (p.data != -i)
			atomic_fetch_add(&p.bad, 1);
	}
	atomic_store(&p.stop, true);
	ks_event_set(&p.ping);
	pthread_join(t, NULL);
	ok(i > 1, "ping-pong: %ld round trips without a lost wake-up", i - 1);
	is(atomic_load(&p.bad), 0, "ping-pong: every wait saw the data written before its set()");
}

/* ---- stress 2: set/clear storms against waiters ------------------------------------------ */

struct storm {
	struct ks_event e;
	atomic_long started, sets;	/* set() calls begun, and completed */
	atomic_bool stop;
	atomic_long waits, timeouts, late;
	atomic_int exited;
};

/*
 * A lost wake-up shows in two ways. An untimed wait that sleeps through a set() may never
 * return: the final set() leaves the event set, and the join then hangs until the watchdog
 * names this phase (the hard check). A timed wait that sleeps through sets until its deadline
 * still returns 0 (the generation changed), but late: such waits are counted as "late" when
 * STORM_LATE_SETS whole set() calls fell inside them; a preempted waiter can be late too, so
 * the count is only reported.
 */
#define STORM_WAIT_NS	(20 * KS_NSEC_PER_MSEC)
#define STORM_LATE_SETS	10

static void *storm_waiter(void *arg)
{
	struct storm *s = arg;
	unsigned seed = (unsigned)ks_self_tid();

	while (!atomic_load(&s->stop)) {
		long before = atomic_load(&s->started);
		int64_t t0 = tap_now_ns();

		if (rand_r(&seed) % 2) {
			ks_event_wait(&s->e);
		} else {
			if (ks_event_wait_timeout(&s->e, STORM_WAIT_NS))
				atomic_fetch_add(&s->timeouts, 1);
			if (tap_now_ns() - t0 >= STORM_WAIT_NS &&
			    atomic_load(&s->sets) - before >= STORM_LATE_SETS)
				atomic_fetch_add(&s->late, 1);
		}
		atomic_fetch_add(&s->waits, 1);
		if (rand_r(&seed) % 2)	/* come back at another phase of the set/clear cycle */
			tap_sleep_ns(rand_r(&seed) % (50 * KS_NSEC_PER_USEC));
	}
	atomic_fetch_add(&s->exited, 1);
	return NULL;
}

static void test_stress_storm(void)
{
	enum { WAITERS = 6 };
	static struct storm s;
	pthread_t t[WAITERS];
	int64_t end = tap_deadline_in_ms(tap_stress_ms() / 2);
	unsigned seed = 1;

	tap_phase("event stress: set/clear against waiters");
	memset(&s, 0, sizeof(s));
	ks_event_init(&s.e, 0);
	for (int i = 0; i < WAITERS; i++)
		t[i] = tap_thread(storm_waiter, &s);
	while (tap_before(end)) {
		atomic_fetch_add(&s.started, 1);
		ks_event_set(&s.e);
		atomic_fetch_add(&s.sets, 1);
		for (unsigned spin = rand_r(&seed) % 64; spin; spin--)
			ks_cpu_relax();
		ks_event_clear(&s.e);
		if (rand_r(&seed) % 4 == 0)	/* let the waiters fall asleep in the kernel */
			tap_sleep_ns(rand_r(&seed) % (100 * KS_NSEC_PER_USEC));
		else
			for (unsigned spin = rand_r(&seed) % 256; spin; spin--)
				ks_cpu_relax();
	}
	atomic_store(&s.stop, true);
	ks_event_set(&s.e);		/* and leave it set: every waiter gets out */
	for (int i = 0; i < WAITERS; i++)
		pthread_join(t[i], NULL);
	ok(atomic_load(&s.waits) > 0, "storm: %ld sets, %ld waits returned, all waiters out "
	   "(no lost wake-up)", atomic_load(&s.sets), atomic_load(&s.waits));
	diag("storm: %ld timed waits timed out (the setter stalled), %ld late by a whole timeout "
	     "with sets around them (preempted?)", atomic_load(&s.timeouts), atomic_load(&s.late));
}

int main(void)
{
	tap_start(180);
	test_is_set();
	test_wait_basics();
	test_notify();
	test_timeout();
	test_set_and_clear();
	test_many_waiters();
	test_no_syscalls();
	test_signals();
	test_process_shared();
	test_free_after_wait();
	test_stress_pingpong();
	test_stress_storm();
	return tap_done();
}
