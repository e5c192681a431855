// SPDX-License-Identifier: MIT
/*
 * Event: a start signal. Racers get ready, then wait() on the event; the main thread set()s it
 * once all are at the line, and they all leave together. A wait with a timeout on an event
 * that is not set returns -ETIMEDOUT (Python: wait() returns False). Once set, an event stays
 * set: a late wait() returns at once, until clear().
 */
#include "tour.h"

#define RACERS		4
#define READY_MS	100
#define EARLY_MS	20

static struct ks_event start = KS_EVENT_INIT;

static void *racer(void *arg)
{
	int64_t *left_at = arg;

	ks_event_wait(&start);
	*left_at = ks_now_ns();
	return NULL;
}

int main(void)
{
	struct ks_thread threads[RACERS];
	int64_t left_at[RACERS], set_at;
	int err, after = 0;
	double latest = 0;

	err = ks_event_wait_timeout(&start, EARLY_MS * KS_NSEC_PER_MSEC);
	printf("sequential: wait(%d ms) before set(): %s; ", EARLY_MS,
	       err == -ETIMEDOUT ? "-ETIMEDOUT" : "?!");
	ks_event_set(&start);
	printf("after set(): wait() returns %d at once\n", ks_event_wait_timeout(&start, 0));
	ks_event_clear(&start);

	for (int i = 0; i < RACERS; i++)
		tour_start(&threads[i], racer, &left_at[i]);
	tour_sleep_ms(READY_MS);	/* everyone at the line, waiting */
	set_at = ks_now_ns();
	ks_event_set(&start);
	for (int i = 0; i < RACERS; i++) {
		double ms;

		tour_join(&threads[i]);
		ms = (double)(left_at[i] - set_at) / KS_NSEC_PER_MSEC;
		after += left_at[i] >= set_at;
		if (ms > latest)
			latest = ms;
	}
	printf("threads:    %d of %d racers started after the signal, the last %.2f ms after "
	       "set()\n", after, RACERS, latest);
	return after == RACERS && err == -ETIMEDOUT ? 0 : 1;
}
