// SPDX-License-Identifier: MIT
/*
 * BoundedSemaphore: a semaphore that refuses to be released more times than it was acquired.
 * A plain Semaphore(2) released once too often silently becomes Semaphore(3), and from then on
 * three threads get in where two were meant to. A BoundedSemaphore(2) reports the bug at once:
 * Python raises ValueError, ks_sem_up() returns -EOVERFLOW and leaves the value alone.
 */
#include "tour.h"

#define SLOTS		2
#define THREADS		4
#define ROUNDS		1000

static struct ks_sem plain = KS_SEM_INIT(SLOTS);
static struct ks_sem bounded = KS_BOUNDED_SEM_INIT(SLOTS);

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		ks_sem_down(&bounded);
		ks_sem_up(&bounded);
	}
	return NULL;
}

int main(void)
{
	struct ks_thread threads[THREADS];
	int err_plain, err_bounded;

	ks_sem_down(&plain);
	ks_sem_up(&plain);
	err_plain = ks_sem_up(&plain);		/* the bug: one release too many */
	ks_sem_down(&bounded);
	ks_sem_up(&bounded);
	err_bounded = ks_sem_up(&bounded);
	printf("sequential: one up() too many: Semaphore(%d) returns %d and now holds %u; "
	       "BoundedSemaphore(%d) returns %s and holds %u\n", SLOTS, err_plain,
	       ks_sem_value(&plain), SLOTS, err_bounded == -EOVERFLOW ? "-EOVERFLOW" : "?!",
	       ks_sem_value(&bounded));

	for (int i = 0; i < THREADS; i++)
		tour_start(&threads[i], worker, NULL);
	for (int i = 0; i < THREADS; i++)
		tour_join(&threads[i]);
	err_bounded = ks_sem_up(&bounded);
	printf("threads:    %d x %d balanced down/up, then one stray up(): %s, value still %u "
	       "(Python: ValueError: Semaphore released too many times)\n", THREADS, ROUNDS,
	       err_bounded == -EOVERFLOW ? "-EOVERFLOW" : "?!", ks_sem_value(&bounded));
	return err_bounded == -EOVERFLOW && ks_sem_value(&bounded) == SLOTS ? 0 : 1;
}
