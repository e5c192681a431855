// SPDX-License-Identifier: MIT
/*
 * ks_mutex: Python's Lock semantics (CPython Lib/test/lock_tests.py BaseLockTests and
 * LockTests), the timeouts, signals and spurious wake-ups during the wait, many waiters,
 * MAP_SHARED use across fork(), zero futex calls when uncontended, the glibc bug 13690 pattern
 * (a mutex freed right after the lock that follows our unlock), and a wall-clock stress.
 */
#include <ksync/mutex.h>
#include <sys/syscall.h>

#include "tap.h"
#include "harness/exclusion.h"
#include "harness/lifetime.h"
#include "ops/mutex.h"

/* A waiter in ks_mutex_lock (timeout < 0) or ks_mutex_lock_timeout, through the table. */
static pthread_t start_waiter(struct tap_waiter *w, struct ks_mutex *m, int64_t timeout_ns,
			      bool unlock_after)
{
	return ops_waiter_start(w, &ops_mutex, m, unlock_after ? OPS_CALL_RELEASE : 0, timeout_ns);
}

static void test_basics(void)
{
	struct ks_mutex m = KS_MUTEX_INIT, d;

	tap_phase("basics");
	ok(!ks_mutex_is_locked(&m), "KS_MUTEX_INIT is unlocked");
	ks_mutex_lock(&m);
	ok(ks_mutex_is_locked(&m), "locked after lock");
	ok(!ks_mutex_trylock(&m), "trylock fails while locked");
	is(ks_mutex_lock_timeout(&m, 0), -ETIMEDOUT, "lock_timeout(0) on a locked mutex times out");
	is(ks_mutex_unlock(&m), 0, "unlock returns 0");
	ok(!ks_mutex_is_locked(&m), "unlocked after unlock");
	ok(ks_mutex_trylock(&m), "trylock succeeds when unlocked");
	ok(ks_mutex_is_locked(&m), "trylock locked it");
	is(ks_mutex_unlock(&m), 0, "unlock after trylock");
	is(ks_mutex_lock_timeout(&m, 0), 0, "lock_timeout(0) on an unlocked mutex acquires");
	is(ks_mutex_unlock(&m), 0, "unlock after lock_timeout");
	is(ks_mutex_lock_timeout(&m, INT64_MAX), 0, "an enormous timeout is accepted");
	is(ks_mutex_unlock(&m), 0, "unlock after the enormous timeout");

	is(ks_mutex_unlock(&m), -EPERM, "unlocking an unlocked mutex: -EPERM");
	ok(!ks_mutex_is_locked(&m), "... and it stays unlocked");
	ok(ks_mutex_trylock(&m), "... and usable");
	ks_mutex_unlock(&m);

	is(ks_mutex_lock_timeout(&m, -1), -EINVAL, "negative timeout: -EINVAL");
	ok(!ks_mutex_is_locked(&m), "... and the mutex was not taken");
	ks_mutex_lock(&m);
	is(ks_mutex_lock_timeout(&m, -100), -EINVAL, "negative timeout on a locked mutex: -EINVAL");
	ks_mutex_unlock(&m);

	ks_mutex_init(&d, 0);
	ok(!ks_mutex_is_locked(&d), "ks_mutex_init: unlocked");
	ks_mutex_init(&d, KS_SHARED);
	ok(ks_mutex_trylock(&d) && ks_mutex_is_locked(&d), "KS_SHARED mutex locks");
	is(ks_mutex_unlock(&d), 0, "KS_SHARED mutex unlocks");
}

static void test_threads(void)
{
	struct ks_mutex m = KS_MUTEX_INIT;
	struct tap_waiter w;
	pthread_t t;

	tap_phase("different thread");
	/* Python's test_different_thread: a lock taken in one thread is released by another. */
	t = start_waiter(&w, &m, -1, false);
	pthread_join(t, NULL);
	ok(ks_mutex_is_locked(&m), "locked by another thread");
	is(ks_mutex_unlock(&m), 0, "released by this thread");

	tap_phase("reacquire");
	/* test_reacquire: a waiter blocks until the holder releases. */
	ks_mutex_lock(&m);
	t = start_waiter(&w, &m, -1, true);
	ok(tap_waiter_asleep(&w), "the waiter sleeps in the kernel");
	ok(!atomic_load(&w.done), "the waiter is blocked while the lock is held");
	ks_mutex_unlock(&m);
	pthread_join(t, NULL);
	ok(atomic_load(&w.done) && w.result == 0, "the waiter got the lock after the release");
	ok(!ks_mutex_is_locked(&m), "and released it");

	tap_phase("timeouts");
	ks_mutex_lock(&m);
	t = start_waiter(&w, &m, 100 * KS_NSEC_PER_MSEC, false);
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "lock_timeout(100 ms) on a held lock: -ETIMEDOUT");
	tap_timeout_ok(w.took_ns, 100 * KS_NSEC_PER_MSEC, "lock_timeout");
	/* test_state_after_timeout: the failed attempt leaves the state intact */
	ok(ks_mutex_is_locked(&m), "still locked by the holder after the timeout");
	ks_mutex_unlock(&m);
	ok(!ks_mutex_is_locked(&m), "unlocked after the holder's release");
	ok(ks_mutex_trylock(&m), "lockable after a timed-out waiter left");
	ks_mutex_unlock(&m);

	ks_mutex_lock(&m);
	t = start_waiter(&w, &m, 5 * KS_NSEC_PER_SEC, true);
	tap_sleep_ms(30);
	ks_mutex_unlock(&m);
	pthread_join(t, NULL);
	is(w.result, 0, "a timed waiter gets the lock when it is released before the deadline");
	ok(w.took_ns < 5 * KS_NSEC_PER_SEC, "... well before its deadline");
}

static void test_signals(void)
{
	struct ks_mutex m = KS_MUTEX_INIT;
	struct tap_storm storm;
	struct tap_waiter w;
	unsigned long before;
	pthread_t t;

	tap_phase("signals during lock");
	ks_mutex_lock(&m);
	t = start_waiter(&w, &m, -1, true);
	tap_waiter_asleep(&w);
	before = tap_signals_seen();
	tap_storm_start(&storm, t, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(200);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > before, "the waiter received signals (%lu)",
	   tap_signals_seen() - before);
	ok(!atomic_load(&w.done), "signals do not make lock() return while the lock is held");
	ks_mutex_unlock(&m);
	pthread_join(t, NULL);
	ok(w.result == 0, "lock() acquired after the signals and the release");

	tap_phase("signals during lock_timeout");
	ks_mutex_lock(&m);
	t = start_waiter(&w, &m, 200 * KS_NSEC_PER_MSEC, false);
	tap_storm_start(&storm, t, 300 * KS_NSEC_PER_USEC);
	pthread_join(t, NULL);
	tap_storm_stop(&storm);
	is(w.result, -ETIMEDOUT, "lock_timeout under a signal storm: -ETIMEDOUT, never -EINTR");
	tap_timeout_ok(w.took_ns, 200 * KS_NSEC_PER_MSEC, "lock_timeout under signals");
	ks_mutex_unlock(&m);

	tap_phase("spurious wake-ups");
	ks_mutex_lock(&m);
	t = start_waiter(&w, &m, -1, true);
	tap_waiter_asleep(&w);
	for (int i = 0; i < 100; i++) {
		tap_futex_poke(&m.state);
		if (i % 10 == 0)
			tap_sleep_ms(1);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&w.done), "spurious futex wakes do not hand out a held lock");
	ok(ks_mutex_is_locked(&m), "the holder still holds it");
	ks_mutex_unlock(&m);
	pthread_join(t, NULL);
	ok(w.result == 0, "the waiter acquires after the real release");

	ks_mutex_lock(&m);
	t = start_waiter(&w, &m, 150 * KS_NSEC_PER_MSEC, false);
	while (!atomic_load(&w.tid))
		tap_sleep_ms(1);
	for (int i = 0; i < 50; i++) {
		tap_futex_poke(&m.state);
		tap_sleep_ms(2);
	}
	pthread_join(t, NULL);
	is(w.result, -ETIMEDOUT, "a timed waiter poked spuriously still times out");
	tap_timeout_ok(w.took_ns, 150 * KS_NSEC_PER_MSEC, "lock_timeout with spurious wakes");
	ks_mutex_unlock(&m);
}

#define MANY 100
#define MANY_ROUNDS 200

struct many {
	struct ks_mutex m;
	long counter;
	atomic_int inside;
	atomic_int overlaps;
};

static void *many_main(void *arg)
{
	struct many *s = arg;

	for (int i = 0; i < MANY_ROUNDS; i++) {
		ks_mutex_lock(&s->m);
		if (atomic_fetch_add_explicit(&s->inside, 1, memory_order_relaxed))
			atomic_fetch_add(&s->overlaps, 1);
		s->counter++;
		atomic_fetch_sub_explicit(&s->inside, 1, memory_order_relaxed);
		ks_mutex_unlock(&s->m);
	}
	return NULL;
}

static void test_many_waiters(void)
{
	static struct many s = { .m = KS_MUTEX_INIT };
	pthread_t t[MANY];

	tap_phase("many waiters");
	/* test_acquire_contended: all block behind the holder, then all get through */
	ks_mutex_lock(&s.m);
	for (int i = 0; i < MANY; i++)
		t[i] = tap_thread(many_main, &s);
	tap_sleep_ms(50);
	is(s.counter, 0, "%d threads wait behind the held lock", MANY);
	ks_mutex_unlock(&s.m);
	for (int i = 0; i < MANY; i++)
		pthread_join(t[i], NULL);
	is(s.counter, (long)MANY * MANY_ROUNDS, "every increment of %d threads counted", MANY);
	is(atomic_load(&s.overlaps), 0, "never two threads inside");
	ok(!ks_mutex_is_locked(&s.m), "unlocked at the end");
	ok(s.m.state == KS_MUTEX_UNLOCKED, "state word back to 0");
}

static void test_no_syscalls(void)
{
	struct ks_mutex m = KS_MUTEX_INIT;
	unsigned long before = ks_futex_calls();

	tap_phase("no syscalls");
	for (int i = 0; i < 1000; i++) {
		ks_mutex_lock(&m);
		ks_mutex_unlock(&m);
		ks_mutex_trylock(&m);
		ks_mutex_unlock(&m);
		ks_mutex_lock_timeout(&m, KS_NSEC_PER_SEC);
		ks_mutex_unlock(&m);
		ks_mutex_unlock(&m);		/* -EPERM: nothing to wake either */
	}
	is(ks_futex_calls() - before, 0, "uncontended lock/trylock/timeout/unlock: 0 futex calls");
}

static void test_process_shared(void)
{
	struct ks_mutex *m = tap_shared_alloc(sizeof(*m));
	pid_t pid;

	tap_phase("process-shared");
	excl_processes(&ops_mutex, 4, 20000);

	ks_mutex_init(m, KS_SHARED);
	/* a timed lock across processes */
	ks_mutex_lock(m);
	pid = fork();
	if (pid == 0)
		_exit(ks_mutex_lock_timeout(m, 50 * KS_NSEC_PER_MSEC) == -ETIMEDOUT ? 0 : 1);
	ok(tap_wait_child(pid), "a child's lock_timeout on the parent's lock times out");
	pid = fork();
	if (pid == 0) {
		if (ks_mutex_lock_timeout(m, 10 * KS_NSEC_PER_SEC))
			_exit(1);
		_exit(ks_mutex_unlock(m));
	}
	tap_sleep_ms(30);
	ks_mutex_unlock(m);
	ok(tap_wait_child(pid), "a child's timed lock succeeds when the parent releases");
	munmap(m, sizeof(*m));
}

/*
 * glibc bug 13690: the unlocker must not touch the mutex after the store that lets the next
 * owner in, because that owner may free it at once. ASan turns any such touch into a failure.
 */
static void test_free_after_unlock(void)
{
	tap_phase("free after unlock (glibc 13690)");
	lifetime_ok(&ops_mutex, 0, "mutexes freed by the next owner right after unlock");
}

static void test_stress(void)
{
	tap_phase("mutex stress");
	excl_stress(&ops_mutex, 8);
}

int main(void)
{
	tap_start(120);
	test_basics();
	test_threads();
	test_signals();
	test_many_waiters();
	test_no_syscalls();
	test_process_shared();
	test_free_after_unlock();
	test_stress();
	return tap_done();
}
