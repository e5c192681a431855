// SPDX-License-Identifier: MIT
/*
 * Semaphore: at most k at once. Eight downloads, but the server allows three connections:
 * Semaphore(3) lets three threads in, and each up() lets the next one in. The threads count
 * how many are inside; the peak never passes 3, and the eight take three waves of time.
 */
#include "tour.h"

#define WORKERS		8
#define SLOTS		3
#define WORK_MS		50

static struct ks_sem slots = KS_SEM_INIT(SLOTS);
static _Atomic unsigned inside, peak;

static void *download(void *arg)
{
	unsigned now, max;

	(void)arg;
	ks_sem_down(&slots);
	now = atomic_fetch_add(&inside, 1) + 1;
	max = atomic_load(&peak);
	while (now > max && !atomic_compare_exchange_weak(&peak, &max, now))
		;
	tour_sleep_ms(WORK_MS);
	atomic_fetch_sub(&inside, 1);
	ks_sem_up(&slots);
	return NULL;
}

int main(void)
{
	struct ks_thread threads[WORKERS];
	double t0;

	t0 = tour_now();
	for (int i = 0; i < WORKERS; i++)
		download(NULL);
	printf("sequential: %d downloads of %d ms in %.2f s\n", WORKERS, WORK_MS, tour_now() - t0);

	atomic_store(&peak, 0);
	t0 = tour_now();
	for (int i = 0; i < WORKERS; i++)
		tour_start(&threads[i], download, NULL);
	for (int i = 0; i < WORKERS; i++)
		tour_join(&threads[i]);
	printf("threads:    %d downloads through Semaphore(%d) in %.2f s (%d waves); "
	       "peak %u inside, never more than %d\n", WORKERS, SLOTS, tour_now() - t0,
	       (WORKERS + SLOTS - 1) / SLOTS, atomic_load(&peak), SLOTS);
	return atomic_load(&peak) <= SLOTS && ks_sem_value(&slots) == SLOTS ? 0 : 1;
}
