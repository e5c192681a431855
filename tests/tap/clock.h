/* SPDX-License-Identifier: MIT */
/*
 * Time for the tests: the monotonic clock, sleeps that survive signals, and wall-clock budgets
 * for stress phases (KS_STRESS_MS, default 1000 ms each), so that a phase lasts as long on a
 * slow machine as on a fast one instead of a fixed number of rounds.
 */
#ifndef KSYNC_TESTS_TAP_CLOCK_H
#define KSYNC_TESTS_TAP_CLOCK_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline int64_t tap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void tap_sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline void tap_sleep_ms(int64_t ms)
{
	tap_sleep_ns(ms * 1000000);
}

/* How long each stress phase runs, in ms: KS_STRESS_MS, default 1000. */
static inline int64_t tap_stress_ms(void)
{
	const char *s = getenv("KS_STRESS_MS");
	long v = s ? atol(s) : 0;

	return v > 0 ? v : 1000;
}

/* A wall-clock budget: tap_before(end) is true until it passes. */
static inline int64_t tap_deadline_in_ms(int64_t ms)
{
	return tap_now_ns() + ms * 1000000;
}

static inline bool tap_before(int64_t end_ns)
{
	return tap_now_ns() < end_ns;
}

#endif /* KSYNC_TESTS_TAP_CLOCK_H */
