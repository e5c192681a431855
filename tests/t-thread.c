// SPDX-License-Identifier: MIT
/*
 * ks_thread: CPython's Thread join/is_alive behaviour (start, return value, join with a
 * timeout then join, join of itself, joined twice, never started), two and a hundred
 * concurrent joiners (exactly one wins), a struct freed right after join (ASan: the finisher
 * must not touch it), pthread_exit() from fn, joiners under signal storms and spurious futex
 * wakes, is_alive and a late join without futex calls, -EAGAIN when no thread can be created,
 * ks_gettid, a parent's threads as seen from a forked child (not alive, -ESRCH), finished
 * threads really leaving, and a wall-clock stress.
 */
#include <sys/resource.h>

#include <ksync/thread.h>

#include "tap.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#if defined(UNDER_TSAN) || defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

#define JOIN_TIMEOUT_NS	(50 * KS_NSEC_PER_MSEC)

/* A thread function held until the test lets it go. */
struct held {
	atomic_bool entered;
	atomic_bool release;
	long data;		/* plain: written by fn, read after join (TSAN checks the order) */
};

static void *held_fn(void *arg)
{
	struct held *h = arg;

	atomic_store(&h->entered, true);
	while (!atomic_load(&h->release))
		tap_sleep_ms(1);
	h->data = 4242;
	return (void *)(intptr_t)42;
}

static void *return_arg(void *arg)
{
	return arg;
}

static void held_wait_entered(struct held *h)
{
	while (!atomic_load(&h->entered))
		tap_sleep_ms(1);
}

/* ---- basics ---------------------------------------------------------------------------------- */

static void test_basics(void)
{
	struct ks_thread never = KS_THREAD_INIT, zeroed, t;
	struct held h = { 0 };
	void *ret = (void *)1;

	tap_phase("basics");
	memset(&zeroed, 0, sizeof(zeroed));
	ok(!ks_thread_is_alive(&never), "KS_THREAD_INIT: not alive");
	ok(!ks_thread_is_alive(&zeroed), "zeroed: not alive");
	is(ks_thread_join(&never, NULL), -EINVAL, "join before start: -EINVAL");
	is(ks_thread_join_timeout(&zeroed, NULL, 0), -EINVAL, "join_timeout before start: -EINVAL");

	is(ks_thread_start(&t, held_fn, &h), 0, "start: 0");
	ok(ks_thread_is_alive(&t), "alive after start");
	held_wait_entered(&h);
	ok(ks_thread_is_alive(&t), "alive while fn runs");
	is(ks_thread_join_timeout(&t, NULL, -1), -EINVAL, "negative timeout: -EINVAL");
	ok(ks_thread_is_alive(&t), "still alive after a bad join");
	atomic_store(&h.release, true);
	is(ks_thread_join(&t, &ret), 0, "join: 0");
	is((intptr_t)ret, 42, "join hands back fn's return value");
	is(h.data, 4242, "fn's writes are visible after join");
	ok(!ks_thread_is_alive(&t), "not alive after join");
	ret = (void *)1;
	is(ks_thread_join(&t, &ret), -EINVAL, "joined twice: -EINVAL");
	is((intptr_t)ret, 1, "and *ret untouched");
	is(ks_thread_join_timeout(&t, NULL, JOIN_TIMEOUT_NS), -EINVAL,
	   "join_timeout after join: -EINVAL");

	is(ks_thread_start(&t, return_arg, NULL), 0, "the struct can be started again after join");
	is(ks_thread_join(&t, NULL), 0, "ret may be NULL");
	is(ks_thread_start(&t, return_arg, &t), 0, "start (return its argument)");
	while (ks_thread_is_alive(&t))
		tap_sleep_ms(1);
	is(ks_thread_join_timeout(&t, &ret, 0), 0, "join_timeout(0) of a finished thread: 0");
	ok(ret == &t, "with its return value");
}

/* ---- join with a timeout, then join (CPython: join(timeout), is_alive(), join()) ------------- */

static void test_join_timeout(void)
{
	struct ks_thread t;
	struct held h = { 0 };
	void *ret = NULL;
	int64_t t0;

	tap_phase("join timeout");
	is(ks_thread_start(&t, held_fn, &h), 0, "start a held thread");
	held_wait_entered(&h);
	is(ks_thread_join_timeout(&t, &ret, 0), -ETIMEDOUT, "join_timeout(0) while running");
	t0 = tap_now_ns();
	is(ks_thread_join_timeout(&t, &ret, JOIN_TIMEOUT_NS), -ETIMEDOUT,
	   "join_timeout(50 ms) while running: -ETIMEDOUT");
	tap_timeout_ok(tap_now_ns() - t0, JOIN_TIMEOUT_NS, "join_timeout");
	ok(ret == NULL, "no return value on a timeout");
	ok(ks_thread_is_alive(&t), "still alive after the timeout");
	is(ks_thread_join_timeout(&t, NULL, JOIN_TIMEOUT_NS), -ETIMEDOUT, "and again");
	atomic_store(&h.release, true);
	is(ks_thread_join_timeout(&t, &ret, 10 * KS_NSEC_PER_SEC), 0,
	   "join_timeout succeeds once fn returns");
	is((intptr_t)ret, 42, "with the return value");
	is(h.data, 4242, "and fn's writes");

	memset(&h, 0, sizeof(h));
	is(ks_thread_start(&t, held_fn, &h), 0, "start another");
	held_wait_entered(&h);
	is(ks_thread_join_timeout(&t, NULL, JOIN_TIMEOUT_NS), -ETIMEDOUT, "timed out first");
	atomic_store(&h.release, true);
	is(ks_thread_join(&t, &ret), 0, "then a plain join: 0 (CPython: join(timeout), join())");
	is((intptr_t)ret, 42, "return value");
}

/* ---- joining itself -------------------------------------------------------------------------- */

struct self_join {
	struct ks_thread t;
	int join, join_timeout;
	bool alive;
};

static void *self_join_fn(void *arg)
{
	struct self_join *s = arg;

	s->join = ks_thread_join(&s->t, NULL);
	s->join_timeout = ks_thread_join_timeout(&s->t, NULL, JOIN_TIMEOUT_NS);
	s->alive = ks_thread_is_alive(&s->t);
	return s;
}

static void test_join_self(void)
{
	struct self_join s;
	void *ret = NULL;

	tap_phase("join self");
	is(ks_thread_start(&s.t, self_join_fn, &s), 0, "start");
	is(ks_thread_join(&s.t, &ret), 0, "the main thread joins it");
	ok(ret == &s, "return value");
	is(s.join, -EDEADLK, "a thread joining itself: -EDEADLK");
	is(s.join_timeout, -EDEADLK, "join_timeout on itself: -EDEADLK (not a timeout)");
	ok(s.alive, "it is alive in its own eyes");
}

/* ---- pthread_exit() from fn ------------------------------------------------------------------ */

static void *exit_fn(void *arg)
{
	(void)arg;
	pthread_exit((void *)7);
	return NULL;
}

static void test_pthread_exit(void)
{
	struct ks_thread t;
	void *ret = (void *)1;

	tap_phase("pthread_exit");
	is(ks_thread_start(&t, exit_fn, NULL), 0, "start a thread that calls pthread_exit()");
	is(ks_thread_join_timeout(&t, &ret, 10 * KS_NSEC_PER_SEC), 0, "it is still joined");
	ok(ret == NULL, "with a NULL return value");
}

/* ---- concurrent joiners ---------------------------------------------------------------------- */

#define JOINERS 100

struct joiner {
	struct ks_thread *target;
	int64_t timeout_ns;	/* < 0: plain join */
	atomic_int tid;
	atomic_bool done;
	int result;
	void *ret;
};

static void *joiner_main(void *arg)
{
	struct joiner *j = arg;

	atomic_store(&j->tid, ks_gettid());
	if (j->timeout_ns < 0)
		j->result = ks_thread_join(j->target, &j->ret);
	else
		j->result = ks_thread_join_timeout(j->target, &j->ret, j->timeout_ns);
	atomic_store(&j->done, true);
	return NULL;
}

static void test_joiners(unsigned n, bool mixed)
{
	static struct joiner j[JOINERS];
	pthread_t pt[JOINERS];
	struct ks_thread t;
	struct held h = { 0 };
	unsigned wins = 0, einval = 0, early = 0;

	memset(j, 0, sizeof(j));
	is(ks_thread_start(&t, held_fn, &h), 0, "start the target of %u joiners", n);
	held_wait_entered(&h);
	for (unsigned i = 0; i < n; i++) {
		j[i].target = &t;
		j[i].timeout_ns = mixed && i % 2 ? 60 * KS_NSEC_PER_SEC : -1;
		pt[i] = tap_thread(joiner_main, &j[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		while (!atomic_load(&j[i].tid))
			tap_sleep_ms(1);
		tap_wait_asleep(atomic_load(&j[i].tid), 2000);
	}
	for (unsigned i = 0; i < n; i++)
		early += atomic_load(&j[i].done);
	is(early, 0, "%u joiners all wait while the thread runs", n);
	atomic_store(&h.release, true);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(pt[i], NULL);
		if (j[i].result == 0 && (intptr_t)j[i].ret == 42)
			wins++;
		else if (j[i].result == -EINVAL)
			einval++;
	}
	is(wins, 1, "exactly one of %u concurrent joiners gets 0 and the return value", n);
	is(einval, n - 1, "the others get -EINVAL");
}

/* ---- the struct freed right after join (run under SANITIZE=address) -------------------------- */

#define FREE_ROUNDS 200

static void *spin_a_little(void *arg)
{
	for (int i = 0; i < (int)(intptr_t)arg; i++)
		ks_cpu_relax();
	return arg;
}

static void test_free_after_join(void)
{
	unsigned bad = 0;

	tap_phase("free after join");
	for (int i = 0; i < FREE_ROUNDS; i++) {
		struct ks_thread *t = malloc(sizeof(*t));
		void *ret = NULL;

		if (ks_thread_start(t, spin_a_little, (void *)(intptr_t)(i % 8 * 100)) ||
		    ks_thread_join(t, &ret) || (intptr_t)ret != i % 8 * 100)
			bad++;
		memset(t, 0xa5, sizeof(*t));	/* a finisher still reading t would see junk */
		free(t);
	}
	is(bad, 0, "%d heap threads started, joined and freed at once", FREE_ROUNDS);
}

/* ---- signals and spurious wake-ups during join ----------------------------------------------- */

static void test_signals(void)
{
	struct ks_thread t;
	struct held h = { 0 };
	struct joiner j = { .target = &t, .timeout_ns = -1 };
	struct tap_storm storm;
	pthread_t pt;
	unsigned long before;
	int64_t t0;
	int r;

	tap_phase("join: signals");
	is(ks_thread_start(&t, held_fn, &h), 0, "start a held thread");
	held_wait_entered(&h);
	pt = tap_thread(joiner_main, &j);
	while (!atomic_load(&j.tid))
		tap_sleep_ms(1);
	ok(tap_wait_asleep(atomic_load(&j.tid), 5000), "the joiner sleeps in the kernel");
	before = tap_signals_seen();
	tap_storm_start(&storm, pt, 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(150);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > before, "the joiner received signals (%lu)",
	   tap_signals_seen() - before);
	ok(!atomic_load(&j.done), "signals do not end a join early");

	tap_phase("join: spurious wake-ups");
	for (int i = 0; i < 100; i++) {
		tap_futex_poke(&t.state);
		if (i % 10 == 0)
			tap_sleep_ms(1);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&j.done), "spurious futex wakes do not end a join early");
	atomic_store(&h.release, true);
	pthread_join(pt, NULL);
	is(j.result, 0, "the joiner returns 0 once fn returns, never -EINTR");
	is((intptr_t)j.ret, 42, "with the return value");

	tap_phase("join timeout: signals");
	memset(&h, 0, sizeof(h));
	is(ks_thread_start(&t, held_fn, &h), 0, "start a held thread");
	held_wait_entered(&h);
	tap_storm_start(&storm, pthread_self(), 300 * KS_NSEC_PER_USEC);
	t0 = tap_now_ns();
	r = ks_thread_join_timeout(&t, NULL, 4 * JOIN_TIMEOUT_NS);
	tap_storm_stop(&storm);
	is(r, -ETIMEDOUT, "join_timeout under a signal storm: -ETIMEDOUT, not -EINTR");
	tap_timeout_ok(tap_now_ns() - t0, 4 * JOIN_TIMEOUT_NS, "join_timeout under signals");
	atomic_store(&h.release, true);
	is(ks_thread_join(&t, NULL), 0, "joined afterwards");
}

/* ---- no system calls where nobody waits ------------------------------------------------------ */

static void test_no_syscalls(void)
{
	struct ks_thread t;
	struct held h = { 0 };
	unsigned long calls;
	unsigned alive = 0;

	tap_phase("no syscalls");
	is(ks_thread_start(&t, held_fn, &h), 0, "start");
	held_wait_entered(&h);
	calls = ks_futex_calls();
	for (int i = 0; i < 1000; i++)
		alive += ks_thread_is_alive(&t);
	is(alive, 1000, "is_alive: true 1000 times while running");
	atomic_store(&h.release, true);
	while (ks_thread_is_alive(&t))
		ks_cpu_relax();
	is(ks_futex_calls() - calls, 0, "is_alive makes no futex call");
	calls = ks_futex_calls();
	is(ks_thread_join(&t, NULL), 0, "join of a thread that already finished");
	is(ks_futex_calls() - calls, 0, "makes no futex call");
}

/* ---- many threads, their return values, and their disappearance ------------------------------ */

#define MANY 200

static int threads_now(void)
{
	char line[128];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void *tid_fn(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)ks_gettid();
}

static void test_many(void)
{
	static struct ks_thread t[MANY];
	unsigned started = 0, right = 0, distinct_tids = 1;
	int before = threads_now(), after;
	int64_t end;
	void *ret;

	tap_phase("many threads");
	for (intptr_t i = 0; i < MANY; i++)
		started += ks_thread_start(&t[i], return_arg, (void *)(i * 3)) == 0;
	is(started, MANY, "%d threads started", MANY);
	for (intptr_t i = MANY - 1; i >= 0; i--)
		right += ks_thread_join(&t[i], &ret) == 0 && (intptr_t)ret == i * 3;
	is(right, MANY, "all joined (in reverse order), each with its own return value");

	tap_phase("threads go away");
	end = tap_deadline_in_ms(5000);
	while ((after = threads_now()) > before && tap_before(end))
		tap_sleep_ms(1);
	ok(before > 0 && after <= before, "joined threads are gone: %d threads before, %d after",
	   before, after);

	tap_phase("gettid");
	is(ks_gettid(), (int)syscall(SYS_gettid), "ks_gettid() is the kernel tid");
	for (int i = 0; i < 8; i++) {
		ks_thread_start(&t[i], tid_fn, NULL);
		ks_thread_join(&t[i], &ret);
		distinct_tids &= (intptr_t)ret != ks_gettid() && (intptr_t)ret > 0;
	}
	ok(distinct_tids, "each ks_thread has its own tid");
}

/* CPython test_is_alive_after_fork: a forked child has none of its parent's threads. */
static void test_fork(void)
{
	int *shared = tap_shared_alloc(8 * sizeof(int));
	struct ks_thread running, finished;
	struct held h = { 0 };
	void *ret = NULL;
	pid_t pid;

	tap_phase("fork");
	(void)ks_gettid();
	is(ks_thread_start(&running, held_fn, &h), 0, "start a held thread");
	held_wait_entered(&h);
	is(ks_thread_start(&finished, return_arg, &h), 0, "and one that finishes");
	while (ks_thread_is_alive(&finished))
		tap_sleep_ms(1);
	pid = fork();
	if (pid == 0) {
		shared[0] = ks_gettid();
		shared[1] = getpid();
		shared[3] = ks_thread_is_alive(&running);
		shared[4] = ks_thread_join(&running, NULL);
		shared[5] = ks_thread_join_timeout(&running, NULL, JOIN_TIMEOUT_NS);
		shared[6] = ks_thread_join(&finished, &ret) == 0 && ret == &h;
#ifndef UNDER_TSAN
		struct ks_thread t;

		shared[2] = ks_thread_start(&t, tid_fn, NULL) == 0 &&
			    ks_thread_join(&t, &ret) == 0 && (intptr_t)ret != shared[0];
#endif
		_exit(0);
	}
	ok(tap_wait_child(pid), "child exited");
	is(shared[0], pid, "ks_gettid() in a forked child is the child's tid, not the parent's");
	is(shared[1], pid, "(its pid)");
	is(shared[3], 0, "in the child, the parent's running thread is not alive");
	is(shared[4], -ESRCH, "joining it there: -ESRCH, not a hang");
	is(shared[5], -ESRCH, "join_timeout too");
	ok(shared[6], "a thread finished before the fork is joined in the child, with its value");
#ifdef UNDER_TSAN
	tap_skip(1, "TSAN cannot start threads after a multi-threaded fork");
#else
	ok(shared[2], "the child starts and joins a ks_thread of its own");
#endif
	ok(ks_thread_is_alive(&running), "in the parent, the thread is still alive");
	atomic_store(&h.release, true);
	is(ks_thread_join(&running, &ret), 0, "and joined");
	is((intptr_t)ret, 42, "with its value");
	is(ks_thread_join(&finished, &ret), 0, "the parent joins its finished thread too");
	munmap(shared, 8 * sizeof(int));
}

/* ---- -EAGAIN: no more threads ---------------------------------------------------------------- */

#define EAGAIN_TRIES 4096

static void *block_fn(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void test_eagain(void)
{
	int *shared;
	pid_t pid;

	tap_phase("-EAGAIN");
#ifdef UNDER_SANITIZER
	tap_skip(2, "sanitizers reserve address space that RLIMIT_AS would starve");
	return;
#endif
	shared = tap_shared_alloc(sizeof(int));
	pid = fork();
	if (pid == 0) {
		static struct ks_thread t[EAGAIN_TRIES];
		struct rlimit rl = { .rlim_cur = 256 << 20, .rlim_max = RLIM_INFINITY };
		int r = 0;

		/* thread stacks are 8 MiB of address space each: a few dozen fit */
		setrlimit(RLIMIT_AS, &rl);
		for (int i = 0; i < EAGAIN_TRIES && r == 0; i++)
			r = ks_thread_start(&t[i], block_fn, NULL);
		*shared = r;
		_exit(0);
	}
	ok(tap_wait_child(pid), "child exited");
	is(*shared, -EAGAIN, "start returns -EAGAIN once no thread can be created");
	munmap(shared, sizeof(int));
}

/* ---- stress: start, join, join_timeout, is_alive racing -------------------------------------- */

#define STRESS_THREADS 4

struct stress {
	struct ks_thread t;
	atomic_int winners;
	atomic_int einval;
};

static void *stress_joiner(void *arg)
{
	struct stress *s = arg;
	void *ret = NULL;
	int r;

	do
		r = ks_thread_join_timeout(&s->t, &ret, 20 * KS_NSEC_PER_USEC);
	while (r == -ETIMEDOUT);
	if (r == 0 && ret == s)
		atomic_fetch_add(&s->winners, 1);
	else if (r == -EINVAL)
		atomic_fetch_add(&s->einval, 1);
	return NULL;
}

static void *stress_fn(void *arg)
{
	spin_a_little((void *)(intptr_t)(rand() % 2000));
	return arg;
}

static void test_stress(void)
{
	int64_t end = tap_deadline_in_ms(tap_stress_ms());
	unsigned long rounds = 0, bad = 0;

	tap_phase("thread stress");
	while (tap_before(end)) {
		struct stress s = { 0 };
		pthread_t pt[STRESS_THREADS];
		void *ret = NULL;
		int r;

		if (ks_thread_start(&s.t, stress_fn, &s)) {
			bad++;
			break;
		}
		for (int i = 0; i < STRESS_THREADS; i++)
			pt[i] = tap_thread(stress_joiner, &s);
		r = ks_thread_join(&s.t, &ret);
		for (int i = 0; i < STRESS_THREADS; i++)
			pthread_join(pt[i], NULL);
		if (r == 0 && ret == &s)
			atomic_fetch_add(&s.winners, 1);
		else if (r == -EINVAL)
			atomic_fetch_add(&s.einval, 1);
		bad += atomic_load(&s.winners) != 1 || atomic_load(&s.einval) != STRESS_THREADS;
		rounds++;
	}
	ok(rounds > 0 && bad == 0, "thread stress: %lu rounds of 1+%d racing joiners, %lu wrong",
	   rounds, STRESS_THREADS, bad);
}

int main(void)
{
	tap_start(60);
	test_basics();
	test_join_timeout();
	test_join_self();
	test_pthread_exit();
	tap_phase("two joiners");
	test_joiners(2, false);
	tap_phase("many joiners");
	test_joiners(JOINERS, true);
	test_free_after_join();
	test_signals();
	test_no_syscalls();
	test_many();
	test_fork();
	test_eagain();
	test_stress();
	return tap_done();
}
