// SPDX-License-Identifier: MIT
/*
 * The GIL emulation's slow paths: take, drop, the forced switch, and the release around I/O.
 * The design and its invariants are at the top of gil.h; the story is in docs/gil.md.
 *
 * Why no lost wake-up: `locked` and `switch_number` change only under `mutex`, and a waiter
 * re-checks them under `mutex` after every return from ks_cond_wait_timeout() (wake-up, timeout
 * or spurious). `last_holder` changes only under `switch_mutex`, and the forced dropper
 * re-checks it under `switch_mutex` in a loop, so a taker that signals before the dropper
 * sleeps is seen, and a spurious wake-up (which ksync allows) only costs one more check.
 */
#include "gil.h"

#include <time.h>

void gil_init(struct gil *g, int64_t interval_ns)
{
	ks_mutex_init(&g->mutex, 0);
	ks_cond_init(&g->cond, 0);
	ks_mutex_init(&g->switch_mutex, 0);
	ks_cond_init(&g->switch_cond, 0);
	g->locked = false;
	g->switch_number = 0;
	atomic_init(&g->last_holder, NULL);
	atomic_init(&g->drop_request, false);
	g->interval_ns = interval_ns > 0 ? interval_ns : 1;
	atomic_init(&g->holders, 0);
	atomic_init(&g->max_holders, 0);
	atomic_init(&g->in_io, 0);
	atomic_init(&g->max_in_io, 0);
	atomic_init(&g->drop_requests, 0);
	atomic_init(&g->forced_switches, 0);
	atomic_init(&g->io_calls, 0);
}

void gil_thread_init(struct gil_thread *t, struct gil *g)
{
	t->gil = g;
	t->ticks = 0;
	t->takes = 0;
}

/*
 * Counts one more thread in a region and records the peak. Relaxed is enough: the counters are
 * single variables whose read-modify-writes are totally ordered, and a hand-over (a release of
 * `mutex` followed by its acquire) orders the leaver's decrement before the enterer's increment.
 */
static void gil_count_in(_Atomic unsigned *now, _Atomic unsigned *peak)
{
	unsigned n = atomic_fetch_add_explicit(now, 1, memory_order_relaxed) + 1;
	unsigned max = atomic_load_explicit(peak, memory_order_relaxed);

	while (n > max && !atomic_compare_exchange_weak_explicit(peak, &max, n,
								  memory_order_relaxed,
								  memory_order_relaxed))
		;
}

static void gil_count_out(_Atomic unsigned *now)
{
	atomic_fetch_sub_explicit(now, 1, memory_order_relaxed);
}

static void gil_count(_Atomic unsigned long *what)
{
	atomic_fetch_add_explicit(what, 1, memory_order_relaxed);
}

void gil_take(struct gil_thread *t)
{
	struct gil *g = t->gil;

	ks_mutex_lock(&g->mutex);
	while (g->locked) {
		unsigned long seen = g->switch_number;
		int err = ks_cond_wait_timeout(&g->cond, &g->mutex, g->interval_ns);

		/* A whole interval passed and the holder kept the GIL: ask it to drop. */
		if (err == -ETIMEDOUT && g->locked && g->switch_number == seen) {
			atomic_store_explicit(&g->drop_request, true, memory_order_relaxed);
			gil_count(&g->drop_requests);
		}
	}

	ks_mutex_lock(&g->switch_mutex);
	g->locked = true;
	if (atomic_load_explicit(&g->last_holder, memory_order_relaxed) != t) {
		atomic_store_explicit(&g->last_holder, t, memory_order_relaxed);
		g->switch_number++;
	}
	ks_cond_signal(&g->switch_cond);	/* a forced dropper may wait for exactly this */
	ks_mutex_unlock(&g->switch_mutex);

	/* Whoever asked for the GIL, it has now changed hands: the request is served. */
	atomic_store_explicit(&g->drop_request, false, memory_order_relaxed);
	ks_mutex_unlock(&g->mutex);

	t->takes++;
	gil_count_in(&g->holders, &g->max_holders);
}

void gil_drop(struct gil_thread *t)
{
	struct gil *g = t->gil;

	gil_count_out(&g->holders);
	ks_mutex_lock(&g->mutex);
	g->locked = false;
	ks_cond_signal(&g->cond);
	ks_mutex_unlock(&g->mutex);

	/*
	 * FORCE_SWITCHING: we were asked to drop, so a waiter exists; let it run before we can
	 * compete again. It takes the GIL under switch_mutex, so the loop cannot miss it.
	 */
	if (!atomic_load_explicit(&g->drop_request, memory_order_relaxed))
		return;
	ks_mutex_lock(&g->switch_mutex);
	if (atomic_load_explicit(&g->last_holder, memory_order_relaxed) == t) {
		atomic_store_explicit(&g->drop_request, false, memory_order_relaxed);
		gil_count(&g->forced_switches);
		while (atomic_load_explicit(&g->last_holder, memory_order_relaxed) == t)
			ks_cond_wait(&g->switch_cond, &g->switch_mutex);
	}
	ks_mutex_unlock(&g->switch_mutex);
}

/* What the eval loop does when it finds a drop request between two bytecodes. */
void gil_yield(struct gil_thread *t)
{
	gil_drop(t);
	gil_take(t);
}

/* A blocking call between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS. */
void gil_io(struct gil_thread *t, void (*call)(void *), void *arg)
{
	struct gil *g = t->gil;

	gil_count(&g->io_calls);
	gil_drop(t);
	gil_count_in(&g->in_io, &g->max_in_io);
	call(arg);
	gil_count_out(&g->in_io);
	gil_take(t);
}

static void gil_sleep_call(void *arg)
{
	int64_t ns = *(const int64_t *)arg;
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ns / KS_NSEC_PER_SEC;
	end.tv_nsec += ns % KS_NSEC_PER_SEC;
	if (end.tv_nsec >= KS_NSEC_PER_SEC) {
		end.tv_sec++;
		end.tv_nsec -= KS_NSEC_PER_SEC;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) == EINTR)
		;
}

/* time.sleep(): the simplest call that releases the GIL. */
void gil_sleep(struct gil_thread *t, int64_t ns)
{
	gil_io(t, gil_sleep_call, &ns);
}

void gil_stats(struct gil *g, struct gil_stats *s)
{
	s->max_holders = atomic_load_explicit(&g->max_holders, memory_order_relaxed);
	s->max_in_io = atomic_load_explicit(&g->max_in_io, memory_order_relaxed);
	ks_mutex_lock(&g->mutex);
	s->switches = g->switch_number;
	ks_mutex_unlock(&g->mutex);
	s->drop_requests = atomic_load_explicit(&g->drop_requests, memory_order_relaxed);
	s->forced_switches = atomic_load_explicit(&g->forced_switches, memory_order_relaxed);
	s->io_calls = atomic_load_explicit(&g->io_calls, memory_order_relaxed);
}
