// SPDX-License-Identifier: MIT
/*
 * ks_barrier under load: a KS_SHARED barrier across fork(), a wall-clock stress of rounds whose
 * action checks every party arrived, and chaos — waits with random short timeouts against
 * resets and aborts — after which a reset barrier still passes a clean round. Passing together
 * is t-barrier.c; breaking and mending, t-barrier-break.c.
 */
#include <sched.h>

#include <ksync/barrier.h>

#include "tap.h"
#include "ops/barrier.h"

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
		/* nobody starts round r+1 before all checked */
		if (ks_barrier_wait(&s->b) < 0)
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
			/* the parent aborts this one */
			if (ks_barrier_wait(&s->b) == -EPIPE)
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
	atomic_uint seeds;	/* chaos: each thread's own */
};

static int stress_action(void *arg)
{
	struct stress *s = arg;

	s->bad_rounds += atomic_exchange(&s->arrived, 0) != STRESS_PARTIES;
	s->rounds++;
	s->last_round = !tap_before(s->end);	/* one decision, seen by every party */
	return 0;
}

static int stress_main(void *ctx, int64_t timeout_ns)
{
	struct stress *s = ctx;

	(void)timeout_ns;
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
	return 0;
}

static void test_stress(void)
{
	static struct stress s;
	static struct tap_waiter c[STRESS_PARTIES];

	tap_phase("barrier stress");
	memset(&s, 0, sizeof(s));
	ks_barrier_init(&s.b, STRESS_PARTIES, stress_action, &s, 0);
	s.end = tap_deadline_in_ms(tap_stress_ms());
	tap_crew_start(c, STRESS_PARTIES, stress_main, &s, OPS_BLOCK);
	tap_crew_join(c, STRESS_PARTIES);
	ok(s.rounds > 0 && s.bad_rounds == 0 && atomic_load(&s.bad) == 0,
	   "barrier stress: %ld rounds of %d parties, %ld wrong", s.rounds, STRESS_PARTIES,
	   s.bad_rounds + atomic_load(&s.bad));
}

static int chaos_main(void *ctx, int64_t timeout_ns)
{
	struct stress *s = ctx;
	unsigned seed = atomic_fetch_add(&s->seeds, 1) * 2654435761u + 1;

	(void)timeout_ns;
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
	return 0;
}

static void *chaos_resetter(void *arg)
{
	struct stress *s = arg;

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
	static struct tap_waiter c[STRESS_PARTIES + 2];
	pthread_t resetter;
	unsigned mask = 0;

	tap_phase("barrier chaos");
	memset(&s, 0, sizeof(s));
	ks_barrier_init(&s.b, STRESS_PARTIES, NULL, NULL, 0);
	s.end = tap_deadline_in_ms(tap_stress_ms());
	tap_crew_start(c, STRESS_PARTIES + 2, chaos_main, &s, OPS_BLOCK);
	resetter = tap_thread(chaos_resetter, &s);
	pthread_join(resetter, NULL);
	tap_crew_join(c, STRESS_PARTIES + 2);
	is(atomic_load(&s.bad), 0,
	   "chaos: %ld passes, %ld -EPIPE, %ld -ETIMEDOUT, no other result, no hang",
	   atomic_load(&s.results[0]), atomic_load(&s.results[1]), atomic_load(&s.results[2]));
	ks_barrier_reset(&s.b);
	tap_crew_start(c, STRESS_PARTIES, ops_barrier_wait, &s.b, OPS_BLOCK);
	tap_crew_join(c, STRESS_PARTIES);
	for (int i = 0; i < STRESS_PARTIES; i++)
		if (c[i].result >= 0)
			mask |= 1u << c[i].result;
	is(mask, (1u << STRESS_PARTIES) - 1, "after the chaos and a reset, a clean round");
}

int main(void)
{
	tap_start(60);
	test_process_shared();
	test_stress();
	test_chaos();
	return tap_done();
}
