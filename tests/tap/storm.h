/* SPDX-License-Identifier: MIT */
/*
 * Signal storms: SIGUSR1, installed without SA_RESTART so that every system call it lands in
 * returns EINTR, sent to one thread at a set period. A wait that let EINTR out, or that
 * restarted with a fresh timeout, shows up at once.
 */
#ifndef KSYNC_TESTS_TAP_STORM_H
#define KSYNC_TESTS_TAP_STORM_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "clock.h"

static atomic_ulong tap__signals_seen;

static void tap__on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&tap__signals_seen, 1, memory_order_relaxed);
}

/* SIGUSR1 interrupts system calls (no SA_RESTART), so an unhandled EINTR would show. */
static inline void tap_signal_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tap__on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
}

struct tap_storm {
	pthread_t target;
	pthread_t thread;
	atomic_bool stop;
	int64_t period_ns;
};

static void *tap__storm(void *arg)
{
	struct tap_storm *s = arg;

	while (!atomic_load(&s->stop)) {
		pthread_kill(s->target, SIGUSR1);
		tap_sleep_ns(s->period_ns);
	}
	return NULL;
}

/* Sends SIGUSR1 to `target` every period_ns until tap_storm_stop(). */
static inline void tap_storm_start(struct tap_storm *s, pthread_t target, int64_t period_ns)
{
	tap_signal_setup();
	s->target = target;
	s->period_ns = period_ns;
	atomic_store(&s->stop, false);
	pthread_create(&s->thread, NULL, tap__storm, s);
}

static inline void tap_storm_stop(struct tap_storm *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
}

static inline unsigned long tap_signals_seen(void)
{
	return atomic_load(&tap__signals_seen);
}

#endif /* KSYNC_TESTS_TAP_STORM_H */
