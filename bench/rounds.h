/* SPDX-License-Identifier: MIT */
/*
 * rounds.h — timing for the hand-off harnesses (ping-pong, barrier, bounded buffer).
 *
 * All threads of a Google Benchmark run are given the same iteration count, so each thread runs
 * the same number of rounds and every ping finds its pong. Google Benchmark divides time by the
 * iterations of all threads together, which for a hand-off is not the number a reader wants; so
 * thread 0 also times its own rounds and reports ns_per_round, wall-clock time per round trip
 * (ping-pong), per barrier episode, or per item (bounded buffer). Every thread adds its own CPU
 * time to cpu_ns_per_round (Google Benchmark sums a counter over the threads): the CPU time the
 * whole hand-off cost per round. With n threads, close to n × ns_per_round means the threads
 * waited by spinning; far below, by sleeping.
 *
 *	struct kb_rounds r;
 *	for (uint64_t n = kb_rounds_begin(&r, st); n; n = kb_rounds_next(&r, st))
 *		while (n--)
 *			one_round();
 *	kb_rounds_end(&r, st);
 */
#ifndef KB_ROUNDS_H
#define KB_ROUNDS_H

#include <stdint.h>
#include <time.h>

#include "kbench.h"

struct kb_rounds {
	uint64_t rounds;
	struct timespec t0, cpu0;
};

static inline uint64_t kb_rounds_begin(struct kb_rounds *r, struct kb_state *st)
{
	uint64_t n = kb_batch(st);	/* the first call waits for the other threads */

	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &r->cpu0);
	r->rounds = n;
	return n;
}

static inline uint64_t kb_rounds_next(struct kb_rounds *r, struct kb_state *st)
{
	uint64_t n = kb_batch(st);

	r->rounds += n;
	return n;
}

static inline double kb_rounds_ns_since(clockid_t clock, const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(clock, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e9 + (double)(t1.tv_nsec - t0->tv_nsec);
}

static inline void kb_rounds_end(struct kb_rounds *r, struct kb_state *st)
{
	double ns = kb_rounds_ns_since(CLOCK_MONOTONIC, &r->t0);
	double cpu = kb_rounds_ns_since(CLOCK_THREAD_CPUTIME_ID, &r->cpu0);

	if (!r->rounds)
		return;
	if (kb_thread_index(st) == 0)
		kb_counter(st, "ns_per_round", ns / (double)r->rounds, 0);
	kb_counter(st, "cpu_ns_per_round", cpu / (double)r->rounds, 0);
}

#endif /* KB_ROUNDS_H */
