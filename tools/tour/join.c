// SPDX-License-Identifier: MIT
/*
 * join(): wait until threads have finished. The course's first program downloads images one
 * after the other, then one thread per image; the threads spend their time waiting on the
 * network, so they wait together. Here a download is a 100 ms sleep that returns a size, and
 * join() hands the thread's return value back to the main thread.
 */
#include "tour.h"

#include <stdint.h>

#define IMAGES		8
#define LATENCY_MS	100
#define IMAGE_BYTES	1000

static void *download(void *arg)
{
	uintptr_t image = (uintptr_t)arg;

	tour_sleep_ms(LATENCY_MS);
	return (void *)(IMAGE_BYTES + image);	/* "bytes received" */
}

int main(void)
{
	struct ks_thread threads[IMAGES];
	uintptr_t bytes = 0;
	double t0;

	t0 = tour_now();
	for (uintptr_t i = 0; i < IMAGES; i++)
		bytes += (uintptr_t)download((void *)i);
	printf("sequential: %d downloads of %d ms, %lu bytes in %.2f s\n", IMAGES, LATENCY_MS,
	       (unsigned long)bytes, tour_now() - t0);

	bytes = 0;
	t0 = tour_now();
	for (uintptr_t i = 0; i < IMAGES; i++)
		tour_start(&threads[i], download, (void *)i);
	printf("threads:    %d threads started after %.3f s; join() waits for each\n", IMAGES,
	       tour_now() - t0);
	for (int i = 0; i < IMAGES; i++)
		bytes += (uintptr_t)tour_join(&threads[i]);
	printf("threads:    joined %d threads, %lu bytes in %.2f s: the waits overlapped\n", IMAGES,
	       (unsigned long)bytes, tour_now() - t0);
	return 0;
}
