/* SPDX-License-Identifier: MIT */
/*
 * What every example of the tour shares: a clock, a sleep that stands for slow I/O, and thread
 * start/join that stop the program with a message on failure (an example is no place for error
 * plumbing). Each example is one file, in the order of the course: join, lock, rlock, semaphore,
 * bounded-semaphore, condition, event, barrier. See docs/tour.md.
 */
#ifndef KSYNC_TOOLS_TOUR_H
#define KSYNC_TOOLS_TOUR_H

#include <ksync.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds since an arbitrary start, for "took 0.41 s" lines. */
static inline double tour_now(void)
{
	return (double)ks_now_ns() / KS_NSEC_PER_SEC;
}

/* time.sleep(): the tour's stand-in for a download or any other wait. */
static inline void tour_sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * KS_NSEC_PER_MSEC };

	while (nanosleep(&ts, &ts))
		;
}

static inline void tour_check(int err, const char *what)
{
	if (err < 0) {
		fprintf(stderr, "%s: %s\n", what, strerror(-err));
		exit(1);
	}
}

static inline void tour_start(struct ks_thread *t, void *(*fn)(void *), void *arg)
{
	tour_check(ks_thread_start(t, fn, arg), "ks_thread_start");
}

static inline void *tour_join(struct ks_thread *t)
{
	void *ret;

	tour_check(ks_thread_join(t, &ret), "ks_thread_join");
	return ret;
}

#endif /* KSYNC_TOOLS_TOUR_H */
