/* SPDX-License-Identifier: MIT */
/*
 * Mutual exclusion, checked the way Concurrency Kit's validate tests do it, over any lock's
 * table (tests/ops/): threads enter a critical section by every form the table offers (untimed,
 * try, timed with a short random timeout), count who is inside, and update a pair of plain
 * variables that must stay equal. ThreadSanitizer sees the plain variables too: a lock that
 * does not order its sections is a data race there.
 *
 *	excl_stress(ops, threads)		threads, for KS_STRESS_MS
 *	excl_processes(ops, children, rounds)	processes, on a KS_SHARED lock
 *
 * Both make their own TAP assertions.
 */
#ifndef KSYNC_TESTS_HARNESS_EXCLUSION_H
#define KSYNC_TESTS_HARNESS_EXCLUSION_H

#include <sched.h>
#include <stdalign.h>

#include "../ops/ops.h"
#include "../tap/clock.h"
#include "../tap/out.h"
#include "../tap/proc.h"

#define EXCL_MAX_THREADS 64

struct excl {
	const struct ops *ops;
	void *lock;
	long a, b;		/* kept equal under the lock */
	atomic_int inside;
	atomic_int overlaps;
	atomic_long ops_done, timeouts, errors;
	atomic_ulong futex_calls;
	int64_t end;
	alignas(64) unsigned char nodes[EXCL_MAX_THREADS][64];	/* per-thread queue nodes */
	atomic_uint next_node;
};

/* One attempt at a critical section: 0, or what acquire returned. */
static inline int excl_section(struct excl *x, void *node, int64_t timeout_ns, bool yield)
{
	int r = x->ops->acquire(x->lock, node, timeout_ns);

	if (r)
		return r;
	if (atomic_fetch_add_explicit(&x->inside, 1, memory_order_relaxed))
		atomic_fetch_add(&x->overlaps, 1);
	x->a++;
	if (yield)
		sched_yield();
	x->b++;
	atomic_fetch_sub_explicit(&x->inside, 1, memory_order_relaxed);
	r = x->ops->release(x->lock, node);
	return r ? r : 0;
}

/* A timeout for the next attempt: each form the table has, timed ones short (0 to 50 us). */
static inline int64_t excl_pick_timeout(const struct ops *ops, unsigned *seed)
{
	switch (rand_r(seed) % (ops->caps & OPS_TIMED ? 3 : 2)) {
	case 0:
		return OPS_BLOCK;
	case 1:
		return OPS_TRY;
	default:
		return (rand_r(seed) % 50) * KS_NSEC_PER_USEC;
	}
}

static void *excl__main(void *arg)
{
	struct excl *x = arg;
	void *node = x->nodes[atomic_fetch_add(&x->next_node, 1) % EXCL_MAX_THREADS];
	unsigned long calls = ks_futex_calls();
	unsigned seed = (unsigned)ks_self_tid();
	long done = 0;

	while (tap_before(x->end)) {
		/* preempted inside now and then; not a spinning lock's holder (a convoy) */
		int r = excl_section(x, node, excl_pick_timeout(x->ops, &seed),
				     (x->ops->caps & OPS_SLEEPS) && rand_r(&seed) % 64 == 0);

		if (!r)
			done++;
		else if (r == -ETIMEDOUT)
			atomic_fetch_add(&x->timeouts, 1);
		else
			atomic_fetch_add(&x->errors, 1);
	}
	atomic_fetch_add(&x->ops_done, done);
	atomic_fetch_add(&x->futex_calls, ks_futex_calls() - calls);
	return NULL;
}

/* `threads` threads for KS_STRESS_MS on one lock: 5 assertions, 6 for a lock that only spins. */
static inline void excl_stress(const struct ops *ops, unsigned threads)
{
	static struct excl x;
	alignas(64) static unsigned char lock[256];
	pthread_t t[EXCL_MAX_THREADS];

	memset(&x, 0, sizeof(x));
	memset(lock, 0, sizeof(lock));
	x.ops = ops;
	x.lock = lock;
	ops->init(lock, 0, 0);
	x.end = tap_deadline_in_ms(tap_stress_ms());
	for (unsigned i = 0; i < threads; i++)
		t[i] = tap_thread(excl__main, &x);
	for (unsigned i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	ok(atomic_load(&x.ops_done) > 0, "%s stress: %ld critical sections by %u threads, "
	   "%ld timeouts", ops->name, atomic_load(&x.ops_done), threads, atomic_load(&x.timeouts));
	is(x.a, atomic_load(&x.ops_done), "%s stress: every critical section counted", ops->name);
	is(x.a, x.b, "%s stress: the protected pair stayed consistent", ops->name);
	is(atomic_load(&x.overlaps) + atomic_load(&x.errors), 0,
	   "%s stress: mutual exclusion held, no call failed", ops->name);
	if (!(ops->caps & OPS_SLEEPS))
		is(atomic_load(&x.futex_calls), 0, "%s stress: not one futex call, even contended",
		   ops->name);
	ok(!ops->busy(lock), "%s stress: free at the end (no lost wake-up)", ops->name);
}

/*
 * `children` processes make `rounds` critical sections each on a KS_SHARED lock, which the
 * parent holds while they start: 4 assertions.
 */
static inline void excl_processes(const struct ops *ops, unsigned children, unsigned rounds)
{
	struct {
		alignas(64) unsigned char lock[256];
		alignas(64) unsigned char nodes[EXCL_MAX_THREADS][64];
		long counter;
		int inside;
		int overlaps;
	} *s = tap_shared_alloc(sizeof(*s));
	pid_t pids[EXCL_MAX_THREADS];
	bool all_ok = true;

	ops->init(s->lock, 0, KS_SHARED);
	ops->acquire(s->lock, s->nodes[children], OPS_BLOCK);
	for (unsigned i = 0; i < children; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			for (unsigned k = 0; k < rounds; k++) {
				if (ops->acquire(s->lock, s->nodes[i], OPS_BLOCK))
					_exit(1);
				if (s->inside++)
					s->overlaps++;
				s->counter++;
				s->inside--;
				if (ops->release(s->lock, s->nodes[i]))
					_exit(1);
			}
			_exit(0);
		}
	}
	tap_sleep_ms(50);
	is(s->counter, 0, "%s: children wait on a lock the parent holds", ops->name);
	ops->release(s->lock, s->nodes[children]);
	for (unsigned i = 0; i < children; i++)
		all_ok &= tap_wait_child(pids[i]);
	ok(all_ok, "%s: all children exited cleanly", ops->name);
	is(s->counter, (long)children * rounds, "%s: %u processes x %u increments, none lost",
	   ops->name, children, rounds);
	is(s->overlaps, 0, "%s: mutual exclusion across processes", ops->name);
	munmap(s, sizeof(*s));
}

#endif /* KSYNC_TESTS_HARNESS_EXCLUSION_H */
