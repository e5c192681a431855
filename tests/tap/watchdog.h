/* SPDX-License-Identifier: MIT */
/*
 * tap_start(): the TAP header and a watchdog that turns a hang into a failure naming the phase
 * the test was in (tap_phase()), then exits. KS_WATCHDOG_SCALE multiplies its time (sanitizers,
 * valgrind).
 */
#ifndef KSYNC_TESTS_TAP_WATCHDOG_H
#define KSYNC_TESTS_TAP_WATCHDOG_H

#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>

#include "out.h"
#include "clock.h"

static void *tap__watchdog(void *arg)
{
	int64_t seconds = (int64_t)(intptr_t)arg;

	tap_sleep_ns(seconds * 1000000000);
	printf("not ok %u - watchdog: '%s' still running after %" PRId64
	       " s (hang or lost wake-up)\n", atomic_load(&tap__n) + 1, atomic_load(&tap__phase),
	       seconds);
	printf("Bail out! %s hung\n", atomic_load(&tap__phase));
	fflush(stdout);
	_exit(3);
	return NULL;
}

/* Starts the test: the TAP header, and a watchdog that fails the whole program after `seconds`. */
static inline void tap_start(int64_t seconds)
{
	pthread_t t;
	pthread_attr_t a;
	const char *scale = getenv("KS_WATCHDOG_SCALE");

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (scale && atoi(scale) > 0)
		seconds *= atoi(scale);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, &a, tap__watchdog, (void *)(intptr_t)seconds);
	pthread_attr_destroy(&a);
}

#endif /* KSYNC_TESTS_TAP_WATCHDOG_H */
