// SPDX-License-Identifier: MIT
/*
 * ks_once: fn runs exactly once and every caller returns after it finished and sees its writes;
 * a recursive call from fn gets -EDEADLK; waiters sleep through signals and spurious wake-ups;
 * many waiters; MAP_SHARED use across fork(); no futex call on the uncontended paths; a
 * wall-clock stress of threads racing on fresh objects; and the object unmapped by a waiter the
 * moment its call returns, while the runner is still inside its own call.
 */
#include <sched.h>

#include <ksync/once.h>

#include "inject.h"
#include "tap.h"

/* ---- basics ---------------------------------------------------------------------------------- */

static int basic_runs;

static void basic_fn(void)
{
	basic_runs++;
}

static struct ks_once recursive_once = KS_ONCE_INIT;
static int recursive_result = 1;

static void recursive_fn(void)
{
	recursive_result = ks_once_call(&recursive_once, recursive_fn);
}

static struct ks_once outer_once = KS_ONCE_INIT, inner_once = KS_ONCE_INIT;
static int nested_runs;

static void inner_fn(void)
{
	nested_runs++;
}

static void outer_fn(void)
{
	ks_once_call(&inner_once, inner_fn);
	nested_runs++;
}

static void test_basics(void)
{
	struct ks_once o = KS_ONCE_INIT, d;
	unsigned long calls = ks_futex_calls();

	tap_phase("basics");
	ok(!ks_once_done(&o), "KS_ONCE_INIT: not done");
	is(ks_once_call(&o, basic_fn), 0, "first ks_once_call returns 0");
	is(basic_runs, 1, "fn ran");
	ok(ks_once_done(&o), "done afterwards");
	for (int i = 0; i < 1000; i++)
		ks_once_call(&o, basic_fn);
	is(basic_runs, 1, "1000 more calls do not run fn again");
	is(ks_futex_calls() - calls, 0, "uncontended first call and fast path: 0 futex calls");

	ks_once_init(&d, KS_SHARED);
	ok(!ks_once_done(&d), "ks_once_init(KS_SHARED): not done");
	is(ks_once_call(&d, basic_fn), 0, "and it runs fn");
	is(basic_runs, 2, "once");

	ks_once_init(&d, 0);
	is(ks_once_call(&d, NULL), -EINVAL, "a NULL fn: -EINVAL");
	ok(!ks_once_done(&d), "... and the object is still not done");
	atomic_store(&d.state, 0xdead);
	is(ks_once_call(&d, basic_fn), -EINVAL, "a garbage state word: -EINVAL, not a hang");
	is(basic_runs, 2, "... and fn did not run");

	tap_phase("recursion");
	is(ks_once_call(&recursive_once, recursive_fn), 0, "the outer call returns 0");
	is(recursive_result, -EDEADLK, "fn calling ks_once_call on its own object gets -EDEADLK");
	ok(ks_once_done(&recursive_once), "and the object is done after fn returned");
	is(ks_once_call(&outer_once, outer_fn), 0, "fn may call ks_once_call on another object");
	is(nested_runs, 2, "both functions ran once");
}

/* ---- a runner held inside fn, with waiters --------------------------------------------------- */

static struct ks_once held_once = KS_ONCE_INIT;
static atomic_bool held_entered, held_release;
static atomic_int held_runs;
static long held_data[4];	/* plain data written by fn, read by the waiters afterwards */

static void held_fn(void)
{
	atomic_store(&held_entered, true);
	while (!atomic_load(&held_release))
		tap_sleep_ms(1);
	for (int i = 0; i < 4; i++)
		held_data[i] = 42 + i;
	atomic_fetch_add(&held_runs, 1);
}

struct waiter {
	atomic_int tid;
	atomic_bool done;
	int result;
	bool saw_data;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	atomic_store(&w->tid, ks_self_tid());
	w->result = ks_once_call(&held_once, held_fn);
	w->saw_data = held_data[0] == 42 && held_data[3] == 45 && atomic_load(&held_runs) == 1;
	atomic_store(&w->done, true);
	return NULL;
}

#define MANY 100

static void test_waiters(void)
{
	static struct waiter w[MANY];
	pthread_t t[MANY], runner;
	struct tap_storm storm;
	unsigned long before;
	bool all_ok = true;

	tap_phase("waiters: signals");
	memset(w, 0, sizeof(w));
	runner = tap_thread(waiter_main, &w[0]);
	while (!atomic_load(&held_entered))
		tap_sleep_ms(1);
	t[1] = tap_thread(waiter_main, &w[1]);
	while (!atomic_load(&w[1].tid))
		tap_sleep_ms(1);
	ok(tap_wait_asleep(atomic_load(&w[1].tid), 5000), "a waiter sleeps in the kernel");
	before = tap_signals_seen();
	tap_storm_start(&storm, t[1], 200 * KS_NSEC_PER_USEC);
	tap_sleep_ms(200);
	tap_storm_stop(&storm);
	ok(tap_signals_seen() > before, "the waiter received signals (%lu)",
	   tap_signals_seen() - before);
	ok(!atomic_load(&w[1].done), "signals do not make ks_once_call return while fn runs");

	tap_phase("waiters: spurious wake-ups");
	for (int i = 0; i < 100; i++) {
		tap_futex_poke(&held_once.state);
		if (i % 10 == 0)
			tap_sleep_ms(1);
	}
	tap_sleep_ms(20);
	ok(!atomic_load(&w[1].done), "spurious futex wakes do not make ks_once_call return early");

	tap_phase("waiters: many");
	for (int i = 2; i < MANY; i++)
		t[i] = tap_thread(waiter_main, &w[i]);
	tap_sleep_ms(50);
	for (int i = 1; i < MANY; i++)
		all_ok &= !atomic_load(&w[i].done);
	ok(all_ok, "%d waiters all wait while fn runs", MANY - 1);
	atomic_store(&held_release, true);
	pthread_join(runner, NULL);
	for (int i = 1; i < MANY; i++)
		pthread_join(t[i], NULL);
	is(atomic_load(&held_runs), 1, "fn ran once");
	all_ok = true;
	for (int i = 0; i < MANY; i++)
		all_ok &= w[i].result == 0 && w[i].saw_data;
	ok(all_ok, "every caller returned 0 after fn finished, and saw its writes");
	ok(atomic_load(&held_once.state) == KS_ONCE_DONE, "state word is DONE");
}

/* ---- stress: threads racing on fresh objects ------------------------------------------------- */

#define RACERS 8

struct race {
	struct ks_once once;
	long payload;		/* written by fn, plain */
	atomic_int runs;
};

static struct race *_Atomic race_now;
static atomic_long race_bad, race_rounds;
static atomic_int race_arrived;
static atomic_bool race_stop;

static void race_fn(void)
{
	struct race *r = atomic_load(&race_now);

	atomic_fetch_add(&r->runs, 1);
	if (r->payload % 8 == 0)
		sched_yield();		/* make the others reach the wait now and then */
	r->payload = 0x5eed;
}

static void *racer_main(void *arg)
{
	long seen = 0;

	(void)arg;
	while (!atomic_load(&race_stop)) {
		long round = atomic_load(&race_rounds);	/* before race_now: see test_stress() */
		struct race *r;

		if (round == seen) {
			sched_yield();
			continue;
		}
		seen = round;
		r = atomic_load(&race_now);
		ks_once_call(&r->once, race_fn);
		if (r->payload != 0x5eed || atomic_load(&r->runs) != 1)
			atomic_fetch_add(&race_bad, 1);
		atomic_fetch_add(&race_arrived, 1);
	}
	return NULL;
}

static void test_stress(void)
{
	int64_t end = tap_deadline_in_ms(tap_stress_ms());
	pthread_t t[RACERS];
	long rounds = 0;

	tap_phase("once stress");
	for (int i = 0; i < RACERS; i++)
		t[i] = tap_thread(racer_main, NULL);
	while (tap_before(end)) {
		struct race *r = calloc(1, sizeof(*r));
		struct race *old = atomic_load(&race_now);

		ks_once_init(&r->once, 0);
		r->payload = rounds;
		atomic_store(&race_arrived, 0);
		atomic_store(&race_now, r);		/* published before the round number */
		atomic_store(&race_rounds, ++rounds);
		while (atomic_load(&race_arrived) < RACERS)
			sched_yield();
		free(old);
	}
	atomic_store(&race_stop, true);
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	free(atomic_load(&race_now));
	ok(rounds > 0, "stress: %ld rounds of %d threads racing on a fresh object", rounds,
	   RACERS);
	is(atomic_load(&race_bad), 0, "stress: fn ran exactly once per object, its writes seen");
}

/* ---- the object unmapped the moment a waiter returns ----------------------------------------- */

/*
 * A waiter that sees DONE may return and free the object while the runner is still between its
 * swap to DONE and the end of its call (glibc bug 13690's pattern). Here the waiter unmaps the
 * object's page as soon as ks_once_call() returns, and a thread pokes the futex word all the
 * time so that the waiter keeps looking at the word instead of waiting for the runner's wake-up: a
 * runner that touched the object after its swap would fault. The window is a few instructions
 * wide; the race-widening build (make check KS_INJECT=1) stops the runner inside it.
 */
static struct ks_once *_Atomic unmap_now;
static atomic_bool unmap_stop;

static void unmap_fn(void)
{
	struct ks_once *o = atomic_load(&unmap_now);

	/* return once the waiter is registered, so that the swap to DONE has a wake-up to make */
	while (atomic_load(&o->state) != KS_ONCE_WAITED && !atomic_load(&unmap_stop))
		sched_yield();
}

static void *unmap_runner(void *arg)
{
	return (void *)(intptr_t)ks_once_call(arg, unmap_fn);
}

static void *unmap_waiter(void *arg)
{
	struct ks_once *o = arg;
	int r = ks_once_call(o, unmap_fn);

	munmap(o, (size_t)sysconf(_SC_PAGESIZE));	/* the last user: gone at once */
	return (void *)(intptr_t)r;
}

static void *unmap_poker(void *arg)
{
	(void)arg;
	while (!atomic_load(&unmap_stop)) {
		struct ks_once *o = atomic_load(&unmap_now);

		/* a wake on an unmapped address is harmless: the kernel only hashes it */
		if (o)
			syscall(SYS_futex, &o->state, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT32_MAX,
				NULL, NULL, 0);
		else
			sched_yield();
	}
	return NULL;
}

static void test_unmap_at_done(void)
{
	int64_t end = tap_deadline_in_ms(tap_stress_ms() / 2);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned long injected = ks_inject_count();
	pthread_t poker, runner, waiter;
	long rounds = 0, bad = 0;

	tap_phase("unmapped at DONE");
	poker = tap_thread(unmap_poker, NULL);
	while (tap_before(end) || rounds < 50) {
		struct ks_once *o = mmap(NULL, page, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		void *r1, *r2;

		if (o == MAP_FAILED)
			break;
		ks_once_init(o, 0);
		atomic_store(&unmap_now, o);
		runner = tap_thread(unmap_runner, o);
		while (atomic_load(&o->state) == KS_ONCE_INCOMPLETE)
			sched_yield();
		waiter = tap_thread(unmap_waiter, o);
		pthread_join(runner, &r1);
		pthread_join(waiter, &r2);
		atomic_store(&unmap_now, NULL);
		bad += r1 || r2;
		rounds++;
	}
	atomic_store(&unmap_stop, true);
	pthread_join(poker, NULL);
	diag("%lu delays injected", ks_inject_count() - injected);
	ok(rounds >= 50 && bad == 0,
	   "%ld rounds: the runner never touched the object after its swap to DONE, while the "
	   "waiter unmapped it on return (%ld calls failed)", rounds, bad);
}

/* ---- processes ------------------------------------------------------------------------------- */

struct shared {
	struct ks_once once;
	int runs;
	long payload;
};

static struct shared *shared;

static void shared_fn(void)
{
	shared->runs++;
	tap_sleep_ms(50);		/* the others arrive and wait */
	shared->payload = 0xfeed;
}

static void test_process_shared(void)
{
	enum { CHILDREN = 4 };
	pid_t pids[CHILDREN];
	bool all_ok = true;

	tap_phase("process-shared");
	shared = tap_shared_alloc(sizeof(*shared));
	ks_once_init(&shared->once, KS_SHARED);
	for (int i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int r = ks_once_call(&shared->once, shared_fn);

			_exit(r == 0 && shared->payload == 0xfeed && shared->runs == 1 ? 0 : 1);
		}
	}
	for (int i = 0; i < CHILDREN; i++)
		all_ok &= tap_wait_child(pids[i]);
	ok(all_ok, "%d processes: each returned after fn finished and saw its writes", CHILDREN);
	is(shared->runs, 1, "fn ran once across processes");
	is(ks_once_call(&shared->once, shared_fn), 0, "the parent finds it done");
	is(shared->runs, 1, "and does not run it again");
	munmap(shared, sizeof(*shared));
}

int main(void)
{
	tap_start(120);
	test_basics();
	test_waiters();
	test_stress();
	test_unmap_at_done();
	test_process_shared();
	return tap_done();
}
