/* SPDX-License-Identifier: MIT */
/*
 * Race-widening delay points (make ... KS_INJECT=1).
 *
 * A race window in a slow path is often a few instructions wide: between a release store and a
 * later access to the object, between a sequence bump and its FUTEX_WAKE, between registering as
 * a waiter and sleeping. On two CPUs a test almost never lands a second thread inside it, so a
 * test suite passes over real bugs. ks_inject("site") marks such a window. In a normal build it
 * compiles to nothing; built with -DKS_INJECT (make KS_INJECT=1), it sometimes stops the thread
 * there for a while — a yield, a short busy spin or a short sleep, chosen at random — so that
 * other threads run through the window and a test that depends on the order fails reliably.
 *
 * Every site must be a window where a delay is legal: a delay never changes what a correct
 * algorithm does, only which interleavings the tests see. The knobs are environment variables,
 * read once:
 *
 *	KS_INJECT_RATE	a site delays one time in RATE (default 8; 1: always; 0: never)
 *	KS_INJECT_US	the longest delay in microseconds (default 200)
 *	KS_INJECT_SEED	the seed of every thread's generator (default: from the clock)
 *	KS_INJECT_SITES	a comma-separated list of site names to arm (default: all)
 *
 * ks_inject_count() tells tests how many delays were taken, so a test can check that the build
 * it runs in really widened its window.
 */
#ifndef KSYNC_SRC_INJECT_H
#define KSYNC_SRC_INJECT_H

/* Delays taken so far in this process (0 in a normal build). */
unsigned long ks_inject_count(void);

#ifdef KS_INJECT
void ks__inject(const char *site);
#define ks_inject(site)	ks__inject(site)
#else
#define ks_inject(site)	((void)0)
#endif

#endif /* KSYNC_SRC_INJECT_H */
