// SPDX-License-Identifier: MIT
/*
 * Lock: a shared counter, incremented by several threads with and without a lock.
 *
 * `counter += 1` is a load, an add and a store (three bytecodes in Python). Two threads that
 * load the same value both store value + 1, and one increment is lost. We write it as exactly
 * that: a relaxed atomic load, then a relaxed atomic store (a data race in the everyday sense,
 * but not undefined behaviour in C11, so the sanitizers stay quiet). Every YIELD_EVERY
 * increments the thread is preempted between its load and its store, as a GIL switch can fall
 * between two bytecodes; so updates are lost even on a single CPU. With the lock around the
 * increment, none are.
 */
#include "tour.h"

#include <sched.h>
#include <stdbool.h>

#define THREADS		4
#define INCREMENTS	100000
#define YIELD_EVERY	1000

static _Atomic long counter;
static struct ks_mutex lock = KS_MUTEX_INIT;

static void *add(void *arg)
{
	bool locked = *(bool *)arg;

	for (long i = 1; i <= INCREMENTS; i++) {
		long v;

		if (locked)
			ks_mutex_lock(&lock);
		v = atomic_load_explicit(&counter, memory_order_relaxed);

		if (i % YIELD_EVERY == 0)
			sched_yield();
		atomic_store_explicit(&counter, v + 1, memory_order_relaxed);
		if (locked)
			ks_mutex_unlock(&lock);
	}
	return NULL;
}

static long run_threads(bool locked)
{
	struct ks_thread threads[THREADS];

	atomic_store(&counter, 0);
	for (int i = 0; i < THREADS; i++)
		tour_start(&threads[i], add, &locked);
	for (int i = 0; i < THREADS; i++)
		tour_join(&threads[i]);
	return atomic_load(&counter);
}

int main(void)
{
	const long expected = (long)THREADS * INCREMENTS;
	bool locked = false;
	long got;

	for (int i = 0; i < THREADS; i++)
		add(&locked);
	printf("sequential:         %ld expected, %ld counted (one thread: nothing to lose)\n",
	       expected, atomic_load(&counter));

	got = run_threads(false);
	printf("threads, no lock:   %ld expected, %ld counted: %ld updates lost\n", expected, got,
	       expected - got);

	got = run_threads(true);
	printf("threads, with lock: %ld expected, %ld counted: %s\n", expected, got,
	       got == expected ? "no update lost" : "LOST UPDATES");
	return got == expected ? 0 : 1;
}
