// SPDX-License-Identifier: MIT
/*
 * ks_cond: Python's Condition (CPython lock_tests.py ConditionTests: wait without the lock,
 * notify(n) waking exactly n, notify_all, wait timeouts, wait_for and its timeout), with a mutex
 * and with an rmutex (the whole depth released and restored), signals and spurious wake-ups
 * during the wait, zero futex calls with nobody waiting, many waiters, MAP_SHARED use across
 * fork(), a condition freed by its waiter right after a lock-free notify, and a bounded-buffer
 * stress that would hang on a lost wake-up.
 */
#include <ksync/cond.h>

#include "tap.h"

/* ---- notify counts --------------------------------------------------------------------------- */

enum { NWAITERS = 5 };

struct group {
	struct ks_cond c;
	struct ks_mutex m;
	struct ks_rmutex r;
	bool use_rmutex;
	atomic_int woken;
	atomic_int started;
	atomic_int tids[64];
};

static void *group_waiter(void *arg)
{
	struct group *g = arg;
	int me;

	if (g->use_rmutex) {
		ks_rmutex_lock(&g->r);
		ks_rmutex_lock(&g->r);
		me = atomic_fetch_add(&g->started, 1);
		atomic_store(&g->tids[me], ks_self_tid());
		ks_cond_wait(&g->c, &g->r);
		atomic_fetch_add(&g->woken, 1);
		ks_rmutex_unlock(&g->r);
		ks_rmutex_unlock(&g->r);
	} else {
		ks_mutex_lock(&g->m);
		me = atomic_fetch_add(&g->started, 1);
		atomic_store(&g->tids[me], ks_self_tid());
		ks_cond_wait(&g->c, &g->m);
		atomic_fetch_add(&g->woken, 1);
		ks_mutex_unlock(&g->m);
	}
	return NULL;
}

/* Waits until every started waiter is asleep in the kernel, so notify counts are exact. */
static void group_settle(struct group *g, int n)
{
	while (atomic_load(&g->started) < n)
		tap_sleep_ms(1);
	while (atomic_load(&g->c.nwaiters) < (uint32_t)n)
		tap_sleep_ms(1);
	for (int i = 0; i < n; i++) {
		while (!atomic_load(&g->tids[i]))
			tap_sleep_ms(1);
		tap_wait_asleep(atomic_load(&g->tids[i]), 5000);
	}
}

static void wait_woken(struct group *g, int want)
{
	int64_t end = tap_deadline_in_ms(5000);

	while (atomic_load(&g->woken) < want && tap_before(end))
		tap_sleep_ms(1);
	tap_sleep_ms(30);	/* and give an extra, wrong wake-up the time to show */
}

static void test_notify(bool use_rmutex)
{
	static struct group g;
	const char *kind = use_rmutex ? "rmutex" : "mutex";
	pthread_t t[NWAITERS];

	tap_phase(use_rmutex ? "notify counts (rmutex)" : "notify counts (mutex)");
	memset(&g, 0, sizeof(g));
	ks_cond_init(&g.c, 0);
	ks_mutex_init(&g.m, 0);
	ks_rmutex_init(&g.r, 0);
	g.use_rmutex = use_rmutex;
	if (use_rmutex)		/* cross the 32-bit wrap of the sequence word on the way */
		atomic_store(&g.c.seq, UINT32_MAX - 1);
	for (int i = 0; i < NWAITERS; i++)
		t[i] = tap_thread(group_waiter, &g);
	group_settle(&g, NWAITERS);
	is(atomic_load(&g.woken), 0, "%s: %d waiters asleep, none woken", kind, NWAITERS);
	ks_cond_signal(&g.c);
	wait_woken(&g, 1);
	is(atomic_load(&g.woken), 1, "%s: signal wakes exactly one", kind);
	ks_cond_signal_n(&g.c, 0);
	tap_sleep_ms(20);
	is(atomic_load(&g.woken), 1, "%s: signal_n(0) wakes none", kind);
	ks_cond_signal_n(&g.c, 3);
	wait_woken(&g, 4);
	is(atomic_load(&g.woken), 4, "%s: signal_n(3) wakes exactly three more", kind);
	ks_cond_broadcast(&g.c);
	wait_woken(&g, NWAITERS);
	is(atomic_load(&g.woken), NWAITERS, "%s: broadcast wakes the rest", kind);
	for (int i = 0; i < NWAITERS; i++)
		pthread_join(t[i], NULL);
	is(g.c.nwaiters, 0, "%s: no waiter left registered", kind);
	if (use_rmutex)
		is(g.c.seq, 1, "rmutex: the sequence word wrapped past 0 without losing a notify");
	ok(!ks_mutex_is_locked(&g.m) && !ks_mutex_is_locked(&g.r.lock), "%s: lock free at the end",
	   kind);
}

static void test_errors_and_timeouts(void)
{
	struct ks_cond c = KS_COND_INIT;
	struct ks_mutex m = KS_MUTEX_INIT;
	struct ks_rmutex r = KS_RMUTEX_INIT;
	int64_t t0, took;
	unsigned long before;

	tap_phase("cond errors and timeouts");
	is(ks_cond_wait(&c, &m), -EPERM, "wait on a mutex not held: -EPERM");
	is(ks_cond_wait_timeout(&c, &m, KS_NSEC_PER_MSEC), -EPERM, "timed wait, mutex not held: -EPERM");
	is(ks_cond_wait(&c, &r), -EPERM, "wait on an rmutex not owned: -EPERM");
	is(ks_cond_wait_timeout(&c, &r, KS_NSEC_PER_MSEC), -EPERM, "timed wait, rmutex not owned: -EPERM");
	is(ks_cond_wait_event(&c, &m, false), -EPERM, "wait_event without the lock: -EPERM, not a hang");
	is(c.nwaiters, 0, "failed waits leave no registration behind");

	before = ks_futex_calls();
	ks_cond_signal(&c);
	ks_cond_signal_n(&c, 7);
	ks_cond_broadcast(&c);
	is(ks_futex_calls() - before, 0, "signal/signal_n/broadcast with nobody waiting: 0 futex calls");
	is(c.seq, 0, "... and they do not even touch the sequence word");

	ks_mutex_lock(&m);
	is(ks_cond_wait_timeout(&c, &m, -1), -EINVAL, "negative timeout: -EINVAL");
	ok(ks_mutex_is_locked(&m), "... the lock still held");
	t0 = tap_now_ns();
	is(ks_cond_wait_timeout(&c, &m, 0), -ETIMEDOUT, "timeout 0: -ETIMEDOUT at once");
	ok(ks_mutex_is_locked(&m), "... the lock held again");
	t0 = tap_now_ns();
	is(ks_cond_wait_timeout(&c, &m, 100 * KS_NSEC_PER_MSEC), -ETIMEDOUT, "100 ms: -ETIMEDOUT");
	took = tap_now_ns() - t0;
	tap_timeout_ok(took, 100 * KS_NSEC_PER_MSEC, "cond wait_timeout (mutex)");
	ok(ks_mutex_is_locked(&m), "the mutex is held again after the timeout");
	is(ks_cond_wait_event_timeout(&c, &m, false, 50 * KS_NSEC_PER_MSEC), -ETIMEDOUT,
	   "wait_event_timeout on a false predicate: -ETIMEDOUT");
	is(ks_cond_wait_event_timeout(&c, &m, true, 0), 0, "true predicate, timeout 0: 0 at once");
	is(ks_cond_wait_event_timeout(&c, &m, false, 0), -ETIMEDOUT,
	   "false predicate, timeout 0: -ETIMEDOUT at once");
	{
		int evals = 0;

		is(ks_cond_wait_event_timeout(&c, &m, (evals++, true), -3), -EINVAL,
		   "negative timeout: -EINVAL");
		is(evals, 0, "... and the predicate is not evaluated");
		t0 = tap_now_ns();
		is(ks_cond_wait_event_timeout(&c, &m, tap_now_ns() - t0 >= 50 * KS_NSEC_PER_MSEC,
					      50 * KS_NSEC_PER_MSEC), 0,
		   "a predicate that turns true as the wait times out: 0 (the last evaluation decides)");
	}
	is(ks_cond_wait_event(&c, &m, true), 0, "wait_event on a true predicate returns 0 at once");
	ks_mutex_unlock(&m);
	is(ks_cond_wait_event_timeout(&c, &m, false, 50 * KS_NSEC_PER_MSEC), -EPERM,
	   "wait_event_timeout without the lock: -EPERM, not a timeout");
	is(ks_cond_wait_event(&c, &m, false), -EPERM, "wait_event without the lock: -EPERM");

	ks_rmutex_lock(&r);
	ks_rmutex_lock(&r);
	ks_rmutex_lock(&r);
	t0 = tap_now_ns();
	is(ks_cond_wait_timeout(&c, &r, 60 * KS_NSEC_PER_MSEC), -ETIMEDOUT, "rmutex timed wait");
	tap_timeout_ok(tap_now_ns() - t0, 60 * KS_NSEC_PER_MSEC, "cond wait_timeout (rmutex)");
	ok(ks_rmutex_is_owned(&r), "rmutex owned again after the wait");
	is(r.depth, 3, "rmutex depth 3 restored after the wait");
	for (int i = 0; i < 3; i++)
		ks_rmutex_unlock(&r);
	ok(!ks_rmutex_is_owned(&r), "three unlocks release it");
}

/* While the owner waits at depth 3, another thread must be able to take the rmutex. */
struct rdepth {
	struct ks_cond c;
	struct ks_rmutex r;
	int state;
	atomic_bool other_got_it;
};

static void *rdepth_other(void *arg)
{
	struct rdepth *s = arg;

	ks_rmutex_lock(&s->r);
	atomic_store(&s->other_got_it, true);
	s->state = 1;
	ks_cond_signal(&s->c);
	ks_rmutex_unlock(&s->r);
	return NULL;
}

static void test_rmutex_depth_released(void)
{
	static struct rdepth s = { .c = KS_COND_INIT, .r = KS_RMUTEX_INIT };
	pthread_t t;

	tap_phase("cond rmutex depth");
	for (int i = 0; i < 3; i++)
		ks_rmutex_lock(&s.r);
	t = tap_thread(rdepth_other, &s);
	is(ks_cond_wait_event(&s.c, &s.r, s.state == 1), 0, "wait_event with an rmutex at depth 3");
	ok(atomic_load(&s.other_got_it), "another thread took the rmutex while we waited");
	is(s.r.depth, 3, "depth 3 restored");
	ok(ks_rmutex_is_owned(&s.r), "owned again");
	for (int i = 0; i < 3; i++)
		ks_rmutex_unlock(&s.r);
	pthread_join(t, NULL);
}

/* ---- wait_event: the predicate loop (Python's wait_for) -------------------------------------- */

struct waitfor {
	struct ks_cond c;
	struct ks_mutex m;
	int state;
	int result;
	int64_t took;
	atomic_bool done;
};

static void *waitfor_main(void *arg)
{
	struct waitfor *w = arg;
	int64_t t0 = tap_now_ns();

	ks_mutex_lock(&w->m);
	w->result = ks_cond_wait_event_timeout(&w->c, &w->m, w->state == 4, 10 * KS_NSEC_PER_SEC);
	ks_mutex_unlock(&w->m);
	w->took = tap_now_ns() - t0;
	atomic_store(&w->done, true);
	return NULL;
}

static void test_wait_event(void)
{
	static struct waitfor w = { .c = KS_COND_INIT, .m = KS_MUTEX_INIT };
	pthread_t t;

	tap_phase("wait_event");
	t = tap_thread(waitfor_main, &w);
	for (int i = 1; i <= 4; i++) {
		tap_sleep_ms(10);
		ks_mutex_lock(&w.m);
		w.state = i;
		ks_cond_broadcast(&w.c);
		ks_mutex_unlock(&w.m);
		if (i < 4) {
			tap_sleep_ms(5);
			ok(!atomic_load(&w.done), "wait_event keeps waiting while state is %d", i);
		}
	}
	pthread_join(t, NULL);
	is(w.result, 0, "wait_event_timeout returns 0 once the predicate holds");
	ok(w.took < 10 * KS_NSEC_PER_SEC, "... before its deadline");

	/* the deadline is fixed once: notifies that do not satisfy the predicate don't extend it */
	memset(&w, 0, sizeof(w));
	ks_cond_init(&w.c, 0);
	ks_mutex_init(&w.m, 0);
	ks_mutex_lock(&w.m);
	{
		int64_t t0 = tap_now_ns();
		int r = ks_cond_wait_event_timeout(&w.c, &w.m, (ks_cond_broadcast(&w.c), false),
						   80 * KS_NSEC_PER_MSEC);

		is(r, -ETIMEDOUT, "a predicate that never holds: -ETIMEDOUT at the deadline");
		tap_timeout_ok(tap_now_ns() - t0, 80 * KS_NSEC_PER_MSEC, "wait_event_timeout deadline");
	}
	ks_mutex_unlock(&w.m);
}

/* ---- signals and spurious wake-ups --------------------------------------------------------- */

struct sleeper {
	struct ks_cond c;
	struct ks_mutex m;
	int64_t timeout_ns;
	int result;
	int64_t took;
	atomic_int tid;
	atomic_bool done;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	int64_t t0;

	ks_mutex_lock(&s->m);
	atomic_store(&s->tid, ks_self_tid());
	t0 = tap_now_ns();
	s->result = s->timeout_ns < 0 ? ks_cond_wait(&s->c, &s->m) :
					ks_cond_wait_timeout(&s->c, &s->m, s->timeout_ns);
	s->took = tap_now_ns() - t0;
	atomic_store(&s->done, true);
	ks_mutex_unlock(&s->m);
	return NULL;
}

static pthread_t start_sleeper(struct sleeper *s, int64_t timeout_ns)
{
	memset(s, 0, sizeof(*s));
	ks_cond_init(&s->c, 0);
	ks_mutex_init(&s->m, 0);
	s->timeout_ns = timeout_ns;
	return tap_thread(sleeper_main, s);
}

static void test_signals_and_spurious(void)
{
	static struct sleeper s;
	struct tap_storm storm;
	unsigned long seen;
	pthread_t t;

	tap_phase("cond signals");
	t = start_sleeper(&s, -1);
	while (!atomic_load(&s.tid))
		tap_sleep_ms(1);
	tap_wait_asleep(atomic_load(&s.tid), 5000);
	seen = tap_signals_seen();
	tap_storm_start(&storm, t, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(200);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > seen, "the waiter got signals");
	ok(!atomic_load(&s.done), "signals do not end a cond wait");
	tap_sleep_ms(5);
	tap_phase("cond spurious");
	for (int i = 0; i < 100; i++)
		tap_futex_poke(&s.c.seq);
	tap_sleep_ms(20);
	ok(!atomic_load(&s.done), "spurious futex wakes do not end a cond wait");
	ks_mutex_lock(&s.m);
	ks_cond_signal(&s.c);
	ks_mutex_unlock(&s.m);
	pthread_join(t, NULL);
	is(s.result, 0, "the real notify ends it with 0");

	tap_phase("cond timed wait under signals");
	t = start_sleeper(&s, 150 * KS_NSEC_PER_MSEC);
	tap_storm_start(&storm, t, 300 * KS_NSEC_PER_USEC);
	for (int i = 0; i < 20; i++) {
		tap_futex_poke(&s.c.seq);
		tap_sleep_ms(3);
	}
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	is(s.result, -ETIMEDOUT, "timed cond wait under signals and pokes: -ETIMEDOUT, not -EINTR");
	tap_timeout_ok(s.took, 150 * KS_NSEC_PER_MSEC, "cond wait_timeout under signals");
}

/* ---- many waiters -------------------------------------------------------------------------- */

struct crowd {
	struct ks_cond c;
	struct ks_mutex m;
	int go;
	atomic_int through;
};

static void *crowd_main(void *arg)
{
	struct crowd *s = arg;

	ks_mutex_lock(&s->m);
	ks_cond_wait_event(&s->c, &s->m, s->go);
	ks_mutex_unlock(&s->m);
	atomic_fetch_add(&s->through, 1);
	return NULL;
}

static void test_many_waiters(void)
{
	enum { N = 200 };
	static struct crowd s = { .c = KS_COND_INIT, .m = KS_MUTEX_INIT };
	static pthread_t t[N];

	tap_phase("cond many waiters");
	for (int i = 0; i < N; i++)
		t[i] = tap_thread(crowd_main, &s);
	while (atomic_load(&s.c.nwaiters) < N)
		tap_sleep_ms(1);
	is(atomic_load(&s.through), 0, "%d waiters registered, none through", N);
	ks_mutex_lock(&s.m);
	s.go = 1;
	ks_cond_broadcast(&s.c);
	ks_mutex_unlock(&s.m);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	is(atomic_load(&s.through), N, "one broadcast released all %d", N);
	is(s.c.nwaiters, 0, "waiter count back to 0");
}

/* ---- process-shared ------------------------------------------------------------------------ */

struct pshared {
	struct ks_cond c;
	struct ks_mutex m;
	long turn;
};

static void test_process_shared(void)
{
	struct pshared *s = tap_shared_alloc(sizeof(*s));
	enum { ROUNDS = 2000 };
	bool good = true;
	pid_t pid;

	tap_phase("cond process-shared");
	ks_cond_init(&s->c, KS_SHARED);
	ks_mutex_init(&s->m, KS_SHARED);
	pid = fork();
	if (pid == 0) {
		for (long i = 1; i < 2 * ROUNDS; i += 2) {
			ks_mutex_lock(&s->m);
			ks_cond_wait_event(&s->c, &s->m, s->turn == i);
			s->turn = i + 1;
			ks_cond_signal(&s->c);
			ks_mutex_unlock(&s->m);
		}
		_exit(0);
	}
	for (long i = 0; i < 2 * ROUNDS; i += 2) {
		ks_mutex_lock(&s->m);
		if (ks_cond_wait_event_timeout(&s->c, &s->m, s->turn == i, 10 * KS_NSEC_PER_SEC))
			good = false;
		s->turn = i + 1;
		ks_cond_signal(&s->c);
		ks_mutex_unlock(&s->m);
	}
	ok(tap_wait_child(pid), "the child process finished its turns");
	ok(good, "parent never timed out waiting for the child's turn");
	is(s->turn, 2 * ROUNDS, "%d ping-pong turns across processes on a KS_SHARED cond", 2 * ROUNDS);
	munmap(s, sizeof(*s));
}

/* ---- freed by the waiter right after a lock-free notify --------------------------------------- */

struct uaf_cond {
	struct ks_cond c;
	struct ks_mutex m;
	atomic_bool waiting;
};

struct uaf_slot {
	struct uaf_cond *_Atomic obj;
	atomic_bool stop;
	atomic_long rounds;
};

static void *uaf_notifier(void *arg)
{
	struct uaf_slot *slot = arg;

	while (!atomic_load(&slot->stop)) {
		struct uaf_cond *o = atomic_load(&slot->obj);

		if (!o || !atomic_load(&o->waiting))
			continue;
		/* waiting is set under the lock, before the wait: take and drop the lock so the
		 * waiter is surely registered, then notify without it */
		ks_mutex_lock(&o->m);
		ks_mutex_unlock(&o->m);
		atomic_store(&slot->obj, NULL);
		ks_cond_signal(&o->c);	/* the waiter may free o before this returns */
	}
	return NULL;
}

static void test_free_after_notify(void)
{
	struct uaf_slot slot = { .obj = NULL };
	int64_t end = tap_deadline_in_ms(tap_stress_ms() / 2);
	pthread_t t;

	tap_phase("cond freed after notify");
	t = tap_thread(uaf_notifier, &slot);
	while (tap_before(end)) {
		struct uaf_cond *o = calloc(1, sizeof(*o));

		ks_cond_init(&o->c, 0);
		ks_mutex_init(&o->m, 0);
		ks_mutex_lock(&o->m);
		atomic_store(&o->waiting, true);
		atomic_store(&slot.obj, o);
		while (atomic_load(&slot.obj) == o)
			ks_cond_wait_timeout(&o->c, &o->m, 100 * KS_NSEC_PER_MSEC);
		ks_mutex_unlock(&o->m);
		free(o);
		atomic_fetch_add(&slot.rounds, 1);
	}
	atomic_store(&slot.stop, true);
	pthread_join(t, NULL);
	ok(atomic_load(&slot.rounds) > 0, "%ld conditions freed by the waiter right after notify",
	   atomic_load(&slot.rounds));
}

/* ---- bounded buffer: producers/consumers; a lost wake-up hangs it (the watchdog) ------------- */

enum { BUF = 4, PRODUCERS = 3, CONSUMERS = 3 };

struct bbuf {
	struct ks_mutex m;
	struct ks_cond not_full, not_empty;
	long items[BUF];
	unsigned head, count;
	bool closed;
	long produced[PRODUCERS];
	long last_seen[CONSUMERS][PRODUCERS];
	atomic_long consumed, order_errors, sum_in, sum_out;
	int64_t end;
};

static long producer_ids;

static void *producer(void *arg)
{
	struct bbuf *b = arg;
	long id = __atomic_fetch_add(&producer_ids, 1, __ATOMIC_RELAXED);
	long seq = 0;

	while (tap_before(b->end)) {
		long item = (id << 40) | ++seq;

		ks_mutex_lock(&b->m);
		ks_cond_wait_event(&b->not_full, &b->m, b->count < BUF);
		b->items[(b->head + b->count) % BUF] = item;
		b->count++;
		ks_cond_signal(&b->not_empty);
		ks_mutex_unlock(&b->m);
		atomic_fetch_add(&b->sum_in, item);
	}
	b->produced[id] = seq;
	return NULL;
}

static long consumer_ids;

static void *consumer(void *arg)
{
	struct bbuf *b = arg;
	long me = __atomic_fetch_add(&consumer_ids, 1, __ATOMIC_RELAXED);

	for (;;) {
		long item, p, seq;

		ks_mutex_lock(&b->m);
		ks_cond_wait_event(&b->not_empty, &b->m, b->count > 0 || b->closed);
		if (!b->count) {
			ks_mutex_unlock(&b->m);
			return NULL;
		}
		item = b->items[b->head];
		b->head = (b->head + 1) % BUF;
		b->count--;
		ks_cond_signal(&b->not_full);
		ks_mutex_unlock(&b->m);
		p = item >> 40;
		seq = item & ((1L << 40) - 1);
		if (seq <= b->last_seen[me][p])
			atomic_fetch_add(&b->order_errors, 1);
		b->last_seen[me][p] = seq;
		atomic_fetch_add(&b->consumed, 1);
		atomic_fetch_add(&b->sum_out, item);
	}
}

static void test_bounded_buffer(void)
{
	static struct bbuf b = { .m = KS_MUTEX_INIT, .not_full = KS_COND_INIT,
				 .not_empty = KS_COND_INIT };
	pthread_t p[PRODUCERS], c[CONSUMERS];
	long produced = 0;

	tap_phase("cond bounded-buffer stress");
	b.end = tap_deadline_in_ms(tap_stress_ms());
	for (int i = 0; i < CONSUMERS; i++)
		c[i] = tap_thread(consumer, &b);
	for (int i = 0; i < PRODUCERS; i++)
		p[i] = tap_thread(producer, &b);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(p[i], NULL);
	ks_mutex_lock(&b.m);
	b.closed = true;
	ks_cond_broadcast(&b.not_empty);
	ks_mutex_unlock(&b.m);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_join(c[i], NULL);
	for (int i = 0; i < PRODUCERS; i++)
		produced += b.produced[i];
	ok(produced > 0, "bounded buffer: %ld items through a %d-slot buffer", produced, BUF);
	is(atomic_load(&b.consumed), produced, "every item consumed exactly once");
	ok(atomic_load(&b.sum_in) == atomic_load(&b.sum_out), "the items out are the items in");
	is(atomic_load(&b.order_errors), 0, "each consumer sees each producer's items in order");
}

int main(void)
{
	tap_start(180);
	test_errors_and_timeouts();
	test_notify(false);
	test_notify(true);
	test_rmutex_depth_released();
	test_wait_event();
	test_signals_and_spurious();
	test_many_waiters();
	test_process_shared();
	test_free_after_notify();
	test_bounded_buffer();
	return tap_done();
}
