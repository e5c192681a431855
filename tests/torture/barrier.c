// SPDX-License-Identifier: MIT
/*
 * Barriers: generations in step. Every worker is a party. Within one generation the indices
 * are distinct, the action runs once, in the last arrival, before anybody is released; a worker
 * that passed k generations since the last reset sees the action's count at exactly k. A
 * generation is released for every party or broken for every party: after a break (a timeout,
 * an abort) the workers meet outside the barrier, compare how many generations each passed
 * (they must agree), and one of them resets it.
 */
#include <time.h>

#include "../ops/barrier.h"
#include "../ops/busted.h"
#include "torture.h"

#define BARRIER_SLOTS 8

struct generations {
	alignas(64) unsigned char barrier[64];
	atomic_ulong gen;			/* the action's count */
	atomic_uint mask[BARRIER_SLOTS];	/* indices seen, by generation */
	/* the meeting after a break */
	atomic_uint met, epoch;
	unsigned long passed[TORTURE_MAX_WORKERS];
	unsigned long base;			/* gen at the last reset */
};

static const struct barrier_ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static int barrier_action(void *arg)
{
	struct generations *x = arg;
	unsigned long g = atomic_load(&x->gen) + 1;

	atomic_store(&x->mask[(g + 1) % BARRIER_SLOTS], 0);
	atomic_store(&x->gen, g);
	return 0;
}

static void barrier_setup(struct scene *s)
{
	struct generations *x = torture_state(s);

	ops_of(s)->init(x->barrier, s->nworkers, barrier_action, x, torture_flags(s));
}

/* Outside the barrier after it broke: all parties compare, the last one resets it. */
static void meet(struct scene *s, struct generations *x, struct worker *w, unsigned long passed)
{
	unsigned epoch = atomic_load(&x->epoch);

	x->passed[w->id] = passed;
	torture_enter(w, "meeting after a break", OPS_BLOCK);
	if (atomic_fetch_add(&x->met, 1) + 1 == s->nworkers) {
		for (unsigned i = 1; i < s->nworkers; i++)
			if (x->passed[i] != x->passed[0])
				torture_fail(s, "generations out of step: one party passed %lu "
					     "since the last reset, another %lu", x->passed[0],
					     x->passed[i]);
		ops_of(s)->reset(x->barrier);
		x->base = atomic_load(&x->gen);
		atomic_store(&x->met, 0);
		atomic_fetch_add(&x->epoch, 1);
	} else {
		while (atomic_load(&x->epoch) == epoch && !torture_stopping(s))
			nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 }, NULL);
	}
	torture_leave(w, 0, OPS_BLOCK);
}

static void barrier_work(struct scene *s, struct worker *w)
{
	const struct barrier_ops *ops = ops_of(s);
	struct generations *x = torture_state(s);
	unsigned long passed = 0;

	while (!torture_stopping(s)) {
		unsigned k = torture_below(w, 64);
		int64_t t = k < 32 ? OPS_BLOCK : k < 56 ? torture_cfg.long_ns :
			    k < 62 ? torture_timeout_timed(w) : 0;
		unsigned long g;
		int r;

		if (k == 63 && !torture_below(w, 4)) {
			/* everybody's wait ends with -EPIPE */
			ops->abort(x->barrier);
			r = -EPIPE;
		} else {
			torture_enter(w, t == OPS_BLOCK ? "wait" : "wait_timeout", t);
			r = torture_leave(w, ops->wait(x->barrier, t), t);
		}
		if (r == -EPIPE || r == -ETIMEDOUT) {
			if (r == -EPIPE)
				torture_count_error(w);
			if (torture_stopping(s))
				return;
			meet(s, x, w, passed);
			passed = 0;
			continue;
		}
		if (r < 0 || r >= (int)s->nworkers) {
			torture_fail(s, "wait returned %d with %u parties", r, s->nworkers);
			return;
		}
		passed++;
		g = atomic_load(&x->gen);
		if (g != x->base + passed)
			torture_fail(s, "generations out of step: released after %lu generations "
				     "since the reset, but the action ran %lu times", passed,
				     g - x->base);
		if (atomic_fetch_or(&x->mask[g % BARRIER_SLOTS], 1u << r) & (1u << r))
			torture_fail(s, "two parties got index %d in one generation", r);
		torture_pause(w);
	}
}

static void barrier_stop(struct scene *s)
{
	struct generations *x = torture_state(s);

	ops_of(s)->abort(x->barrier);
}

static void *barrier_word(struct scene *s)
{
	struct generations *x = torture_state(s);

	return ops_of(s)->futex_word(x->barrier);
}

#define BARRIER_SCENARIO(ident, table, busted, what)					\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = SC_PROCESSES | (busted),					\
		.state_size = sizeof(struct generations),				\
		.ops = &(table),							\
		.setup = barrier_setup,							\
		.work = barrier_work,							\
		.stop = barrier_stop,							\
		.futex_word = barrier_word,						\
	}

BARRIER_SCENARIO(torture_barrier, ops_barrier, 0,
		 "generations in step, distinct indices, one action per generation before any "
		 "release; timeouts and aborts break it for every party");
BARRIER_SCENARIO(torture_busted_barrier, ops_busted_barrier, SC_BUSTED,
		 "a barrier that releases a party early: the generations check must fire");
