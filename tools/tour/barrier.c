// SPDX-License-Identifier: MIT
/*
 * Barrier: threads that work in rounds and wait for each other at the end of each round. A
 * thread's work takes (id + 1) × STEP_MS, so they reach the barrier one after the other:
 * n_waiting, read just before wait(), counts those already there. The action runs once per
 * round, in the last thread to arrive, before anyone leaves. After each wait() a thread checks
 * that everyone has finished the round: they move in lockstep, each round taking as long as
 * its slowest thread.
 */
#include "tour.h"

#include <stdint.h>

#define THREADS		3
#define ROUNDS		3
#define STEP_MS		20

static struct ks_barrier barrier;
static _Atomic int finished[THREADS];	/* the last round each thread finished */
static _Atomic int out_of_step;

static int round_over(void *arg)
{
	int *round = arg;	/* only the action touches it, one round at a time */

	printf("  round %d: all %d arrived, the barrier opens\n", ++*round, THREADS);
	return 0;
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int round = 1; round <= ROUNDS; round++) {
		tour_sleep_ms(STEP_MS * (id + 1));
		atomic_store(&finished[id], round);
		printf("  thread %d finished round %d, n_waiting = %u\n", id, round,
		       ks_barrier_n_waiting(&barrier));
		tour_check(ks_barrier_wait(&barrier), "ks_barrier_wait");
		for (int j = 0; j < THREADS; j++)
			if (atomic_load(&finished[j]) < round)
				atomic_fetch_add(&out_of_step, 1);
	}
	return NULL;
}

int main(void)
{
	struct ks_thread threads[THREADS];
	int round = 0;
	double t0;

	t0 = tour_now();
	for (int r = 1; r <= ROUNDS; r++)
		for (int id = 0; id < THREADS; id++)
			tour_sleep_ms(STEP_MS * (id + 1));
	printf("sequential: %d rounds of %d steps in %.2f s\n", ROUNDS, THREADS, tour_now() - t0);

	tour_check(ks_barrier_init(&barrier, THREADS, round_over, &round, 0), "ks_barrier_init");
	t0 = tour_now();
	for (intptr_t i = 0; i < THREADS; i++)
		tour_start(&threads[i], worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		tour_join(&threads[i]);
	printf("threads:    %d rounds in lockstep in %.2f s (each as long as its slowest step), "
	       "%d out of step\n", ROUNDS, tour_now() - t0, atomic_load(&out_of_step));
	return atomic_load(&out_of_step) == 0 && round == ROUNDS ? 0 : 1;
}
