/* SPDX-License-Identifier: MIT */
/*
 * struct gil — an emulation of CPython's global interpreter lock (the "new GIL" of Python 3.2+,
 * Python/ceval_gil.c), built on ksync: two ks_mutex, two ks_cond and a few atomics.
 *
 *	locked		1 while some "interpreter thread" holds the GIL; written under `mutex`
 *	switch_number	how many times the GIL changed hands; written under `mutex`
 *	last_holder	the thread that took it last; written under `mutex` and `switch_mutex`
 *	drop_request	the eval breaker: set by a waiter that timed out, read by the holder
 *			between two ticks (two "bytecodes")
 *
 * take: under `mutex`, while the GIL is locked, wait on `cond` for at most `interval` (5 ms by
 * default, sys.setswitchinterval). A wait that times out with no switch in the meantime sets
 * drop_request. Once the GIL is free, lock it, bump switch_number if the holder changed, and
 * signal `switch_cond` (FORCE_SWITCHING: the previous holder waits there).
 *
 * drop: under `mutex`, clear locked and signal `cond`. If a drop was requested, wait on
 * `switch_cond` until another thread took the GIL: without this, the thread that was asked to
 * drop would usually take it straight back, since it is running and the waiter is asleep.
 *
 * tick: what the interpreter does between two bytecodes: if drop_request is set, drop the GIL
 * and take it again (a "forced switch"). io: drop the GIL around a blocking call, as
 * Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS does, so that other threads compute while this
 * one waits; gil_sleep() is the matrix's "I/O": a sleep made that way.
 *
 * Invariant (checked by the counters below and by tools/matrix/t-gil.c): at most one thread is
 * between gil_take() and gil_drop() at any time. The counters cost one atomic each per take and
 * drop, never per tick. See docs/gil.md.
 */
#ifndef KSYNC_TOOLS_GIL_H
#define KSYNC_TOOLS_GIL_H

#include <ksync/cond.h>
#include <ksync/mutex.h>

/* CPython's default switch interval, sys.getswitchinterval() == 0.005. */
#define GIL_DEFAULT_INTERVAL_NS	(5 * KS_NSEC_PER_MSEC)

struct gil_thread;

struct gil {
	struct ks_mutex mutex;
	struct ks_cond cond;
	struct ks_mutex switch_mutex;
	struct ks_cond switch_cond;
	bool locked;
	unsigned long switch_number;
	struct gil_thread *_Atomic last_holder;
	_Atomic bool drop_request;
	int64_t interval_ns;

	/* statistics for the lesson and the tests */
	_Atomic unsigned holders;		/* threads inside take..drop: 0 or 1 */
	_Atomic unsigned max_holders;
	_Atomic unsigned in_io;			/* threads inside gil_io() */
	_Atomic unsigned max_in_io;
	_Atomic unsigned long drop_requests;	/* waits that timed out and asked for the GIL */
	_Atomic unsigned long forced_switches;	/* drops that waited for another taker */
	_Atomic unsigned long io_calls;
};

/* One interpreter thread (a PyThreadState): its identity and what it did. */
struct gil_thread {
	struct gil *gil;
	unsigned long ticks;
	unsigned long takes;
};

struct gil_stats {
	unsigned max_holders;
	unsigned max_in_io;
	unsigned long switches;
	unsigned long drop_requests;
	unsigned long forced_switches;
	unsigned long io_calls;
};

void gil_init(struct gil *g, int64_t interval_ns);
void gil_thread_init(struct gil_thread *t, struct gil *g);
void gil_take(struct gil_thread *t);
void gil_drop(struct gil_thread *t);
void gil_yield(struct gil_thread *t);
void gil_io(struct gil_thread *t, void (*call)(void *), void *arg);
void gil_sleep(struct gil_thread *t, int64_t ns);
void gil_stats(struct gil *g, struct gil_stats *s);

/*
 * Between two bytecodes. The relaxed load is only a hint that someone waits: the hand-over
 * itself is ordered by `mutex` in gil_drop() and gil_take().
 */
static inline void gil_tick(struct gil_thread *t)
{
	t->ticks++;
	if (ks_unlikely(atomic_load_explicit(&t->gil->drop_request, memory_order_relaxed)))
		gil_yield(t);
}

#endif /* KSYNC_TOOLS_GIL_H */
