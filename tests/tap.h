/* SPDX-License-Identifier: MIT */
/*
 * Everything a ksync test needs, one concern per header in tests/tap/:
 *
 *	tap/out.h	TAP version 13 output: ok(), is(), diag(), tap_skip(), tap_done()
 *	tap/clock.h	the monotonic clock, sleeps, wall-clock budgets (KS_STRESS_MS)
 *	tap/watchdog.h	tap_start(): the header, and a watchdog naming the phase that hung
 *	tap/storm.h	signal storms aimed at a waiting thread
 *	tap/poke.h	raw futex wakes (spurious wake-ups), and "is that thread asleep?"
 *	tap/proc.h	scaffolding threads, MAP_SHARED memory, children after fork()
 *	tap/waiter.h	a thread blocked in one call, and crews of them
 *
 * The primitives' operations, described once for every harness, are in tests/ops/; the
 * harnesses that run over them (mutual exclusion, free right after use) in tests/harness/.
 *
 * Include it in exactly one file per test program.
 */
#ifndef KSYNC_TESTS_TAP_H
#define KSYNC_TESTS_TAP_H

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "tap/out.h"
#include "tap/clock.h"
#include "tap/watchdog.h"
#include "tap/storm.h"
#include "tap/poke.h"
#include "tap/proc.h"
#include "tap/waiter.h"

#endif /* KSYNC_TESTS_TAP_H */
