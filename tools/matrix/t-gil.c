// SPDX-License-Identifier: MIT
/*
 * The GIL emulation's test. Every check is on what happened (counters, who ran), never on how
 * long it took, and every phase is built so that it can only finish if the mechanism works:
 *
 *  - alone: a holder with nobody waiting is never asked to drop;
 *  - forced switch: the holder ticks until another thread has run, and never drops of its own
 *    accord, so only a drop request (from the waiter's timed-out wait) can let the other
 *    thread in, and the holder must not take the GIL back before the other had it;
 *  - serialisation: threads tick (each tick checks that it is alone) until the stress time is
 *    over and every thread has run; a plain counter bumped under the GIL must add up;
 *  - I/O: each thread's "I/O" waits until every thread is in its I/O, which can only happen if
 *    gil_io() released the GIL.
 */
#include "../../tests/tap.h"
#include "gil.h"

#include <sched.h>

#define THREADS			4
#define ALONE_TICKS		10000
#define STRESS_INTERVAL_NS	(200 * KS_NSEC_PER_USEC)
#define FORCED_INTERVAL_NS	(1 * KS_NSEC_PER_MSEC)

static struct gil gil;

/* ---- forced switch ------------------------------------------------------------------------- */

static _Atomic bool other_ran;

static void *other(void *arg)
{
	struct gil_thread t;

	(void)arg;
	gil_thread_init(&t, &gil);
	gil_take(&t);
	atomic_store(&other_ran, true);
	gil_drop(&t);
	return NULL;
}

static void test_alone_and_forced(void)
{
	struct gil_thread me;
	struct gil_stats s;
	pthread_t th;

	tap_phase("alone");
	gil_init(&gil, FORCED_INTERVAL_NS);
	gil_thread_init(&me, &gil);
	gil_take(&me);
	for (int i = 0; i < ALONE_TICKS; i++)
		gil_tick(&me);
	gil_stats(&gil, &s);
	is(s.drop_requests, 0, "alone: %d ticks, no drop request", ALONE_TICKS);
	is(me.takes, 1, "alone: the GIL was taken once");

	tap_phase("forced switch");
	th = tap_thread(other, NULL);
	while (!atomic_load(&other_ran))
		gil_tick(&me);
	pthread_join(th, NULL);
	gil_drop(&me);
	gil_stats(&gil, &s);
	ok(s.drop_requests >= 1, "forced switch: the waiter asked for the GIL (%lu requests)",
	   s.drop_requests);
	/*
	 * Asked once, the holder drops and does not get the GIL back before the requester had it:
	 * either it sees the request still set and waits on switch_cond (a forced switch), or it
	 * sees it cleared, which only the requester's take does. Without forced switching it
	 * would usually win the race and take the GIL again at once.
	 */
	is(me.takes, 2, "forced switch: the holder took the GIL back only after the other had it "
	   "(%lu forced waits)", s.forced_switches);
	ok(s.switches >= 3, "forced switch: the GIL went me -> other -> me (%lu hand-overs)",
	   s.switches);
	is(s.max_holders, 1, "forced switch: one holder at a time");
}

/* ---- serialisation ------------------------------------------------------------------------- */

struct worker {
	struct gil_thread t;
	int64_t end;
};

static _Atomic unsigned inside;
static _Atomic unsigned overlaps;
static _Atomic unsigned have_run;
static unsigned long plain_counter;	/* protected by the GIL alone */

static void *ticker(void *arg)
{
	struct worker *w = arg;
	bool counted = false;

	gil_take(&w->t);
	while (tap_before(w->end) || atomic_load(&have_run) < THREADS) {
		if (atomic_fetch_add(&inside, 1) != 0)
			atomic_fetch_add(&overlaps, 1);
		plain_counter++;
		if (!counted) {
			atomic_fetch_add(&have_run, 1);
			counted = true;
		}
		atomic_fetch_sub(&inside, 1);
		gil_tick(&w->t);
	}
	gil_drop(&w->t);
	return NULL;
}

static void test_serialisation(void)
{
	struct worker w[THREADS];
	pthread_t th[THREADS];
	unsigned long ticks = 0;
	struct gil_stats s;
	bool all_ran = true;

	tap_phase("serialisation");
	gil_init(&gil, STRESS_INTERVAL_NS);
	for (int i = 0; i < THREADS; i++) {
		gil_thread_init(&w[i].t, &gil);
		w[i].end = tap_deadline_in_ms(tap_stress_ms());
		th[i] = tap_thread(ticker, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		ticks += w[i].t.ticks;
		all_ran &= w[i].t.ticks > 0;
	}
	gil_stats(&gil, &s);
	is(atomic_load(&overlaps), 0, "serialisation: no tick ran beside another");
	is(s.max_holders, 1, "serialisation: the GIL's own count: at most 1 holder");
	is(plain_counter, ticks, "serialisation: %lu plain increments under the GIL, none lost",
	   ticks);
	ok(all_ran, "serialisation: all %d threads got the GIL", THREADS);
	ok(s.switches >= THREADS, "serialisation: %lu hand-overs, %lu forced", s.switches,
	   s.forced_switches);
}

/* ---- I/O ----------------------------------------------------------------------------------- */

static _Atomic unsigned in_io;

/* The "blocking call": returns once every thread is inside its own. */
static void wait_for_everyone(void *arg)
{
	(void)arg;
	atomic_fetch_add(&in_io, 1);
	while (atomic_load(&in_io) < THREADS)
		sched_yield();
}

static void *io_thread(void *arg)
{
	struct gil_thread *t = arg;

	gil_take(t);
	gil_io(t, wait_for_everyone, NULL);
	gil_tick(t);
	gil_drop(t);
	return NULL;
}

static void test_io(void)
{
	struct gil_thread t[THREADS];
	pthread_t th[THREADS];
	struct gil_stats s;

	tap_phase("I/O releases the GIL");
	gil_init(&gil, GIL_DEFAULT_INTERVAL_NS);
	for (int i = 0; i < THREADS; i++) {
		gil_thread_init(&t[i], &gil);
		th[i] = tap_thread(io_thread, &t[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	gil_stats(&gil, &s);
	is(s.max_in_io, THREADS, "I/O: all %d threads were in I/O at once", THREADS);
	is(s.io_calls, THREADS, "I/O: %d calls counted", THREADS);
	is(s.max_holders, 1, "I/O: still at most 1 holder");
}

int main(void)
{
	tap_start(60);
	test_alone_and_forced();
	test_serialisation();
	test_io();
	return tap_done();
}
