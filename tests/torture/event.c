// SPDX-License-Identifier: MIT
/*
 * Events: a wait ends with 0 only if the event was set at some moment of the wait, and a timed
 * wait does not time out while the event stays set from before its start to after its end.
 *
 * Worker 0 sets and clears, counting around each call; the others wait. With one setter the
 * counts bracket the event's state: it was surely set throughout [a, b] if a set had completed
 * before a and no clear had begun by b; it was surely clear throughout if every set begun by b
 * had been cleared (completely) before a.
 */
#include <time.h>

#include "../ops/busted.h"
#include "../ops/event.h"
#include "torture.h"

struct latch {
	alignas(64) unsigned char event[64];
	atomic_ulong sets_begun, sets_done, clears_begun, clears_done;
};

static const struct ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static void event_setup(struct scene *s)
{
	struct latch *x = torture_state(s);

	ops_of(s)->init(x->event, 0, torture_flags(s));
}

static void event_set(struct scene *s, struct latch *x)
{
	atomic_fetch_add(&x->sets_begun, 1);
	ops_of(s)->release(x->event, NULL);
	atomic_fetch_add(&x->sets_done, 1);
}

static void event_setter(struct scene *s, struct latch *x, struct worker *w)
{
	const struct ops *ops = ops_of(s);

	while (!torture_stopping(s)) {
		event_set(s, x);
		torture_count_op(w);
		if (!torture_below(w, 4))
			nanosleep(&(struct timespec){ .tv_nsec = torture_below(w, 200) * 1000 },
				  NULL);
		atomic_fetch_add(&x->clears_begun, 1);
		ops->reset(x->event);
		atomic_fetch_add(&x->clears_done, 1);
		nanosleep(&(struct timespec){ .tv_nsec = torture_below(w, 500) * 1000 }, NULL);
	}
	event_set(s, x);	/* whoever still waits is let go */
}

static void event_waiter(struct scene *s, struct latch *x, struct worker *w)
{
	const struct ops *ops = ops_of(s);

	while (!torture_stopping(s)) {
		int64_t t = torture_timeout(w, ops->caps);
		unsigned long set_before = atomic_load(&x->sets_done);
		unsigned long clear_began_before = atomic_load(&x->clears_begun);
		unsigned long cleared_before = atomic_load(&x->clears_done);
		int r;

		torture_enter(w, t == OPS_BLOCK ? "wait" : t == OPS_TRY ? "is_set" :
			      "wait_timeout", t);
		r = torture_leave(w, ops->acquire(x->event, NULL, t), t);
		if (!r && atomic_load(&x->sets_begun) == cleared_before)
			torture_fail(s, "a wait returned 0 though the event was clear all along");
		else if (r == -ETIMEDOUT && t >= 0 && set_before > clear_began_before &&
			 atomic_load(&x->clears_begun) == clear_began_before)
			torture_fail(s, "a %.3f ms wait timed out though the event was set all "
				     "along", t / 1e6);
		else if (r && r != -ETIMEDOUT)
			torture_fail(s, "wait returned %d", r);
		torture_pause(w);
	}
}

static void event_work(struct scene *s, struct worker *w)
{
	struct latch *x = torture_state(s);

	if (w->id == 0)
		event_setter(s, x, w);
	else
		event_waiter(s, x, w);
}

static void *event_word(struct scene *s)
{
	struct latch *x = torture_state(s);

	return ops_of(s)->futex_word(x->event);
}

#define EVENT_SCENARIO(ident, table, busted, what)					\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = SC_PROCESSES | (busted),					\
		.state_size = sizeof(struct latch),					\
		.ops = &(table),							\
		.setup = event_setup,							\
		.work = event_work,							\
		.futex_word = event_word,						\
	}

EVENT_SCENARIO(torture_event, ops_event, 0,
	       "a wait ends only while or after the event was set; no timeout while it stayed "
	       "set; set/clear against waiters of every form");
EVENT_SCENARIO(torture_busted_event, ops_busted_event, SC_BUSTED,
	       "a wait that gives up early and says set: the set-all-along check must fire");
