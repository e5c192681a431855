// SPDX-License-Identifier: MIT
/*
 * Conditions, held to Python's Condition: notify(n) ends at most n waits, of the waiters that
 * were waiting when it was called; a wait never ends without a notify (no spurious return, not
 * for a signal, not for a stray futex wake); and no notify is lost.
 *
 * The bookkeeping is done under the condition's lock, and errs on the generous side only (a
 * condition built on Python's own algorithm passes it, lock-free notifies included):
 *	registered	waiters between their registration and their return
 *	owed		wakes owed to them: a notify under the lock adds min(n, waiters not
 *			yet owed one); one without the lock (the contract allows it) adds all
 *			of n while it is in flight, owed to no one yet (it may end a wait
 *			that begins meanwhile); a wait that ends with 0 takes one, and owed
 *			must not go negative
 * A wait that times out may have had a wake spent on it: owed is cut back to registered then.
 * A wake owed for longer than --stuck while nobody takes it is a lost wake-up.
 */
#include "../ops/busted.h"
#include "../ops/cond.h"
#include "torture.h"

#define COND_CHECKPOINTS 64

struct condition {
	alignas(64) unsigned char cond[64];
	alignas(64) unsigned char lock[64];
	/* under the lock */
	long registered, owed, in_flight;
	long flying;				/* owed by notifies in flight, to no one yet */
	unsigned long credited, retired;	/* wakes owed in all, and taken or cut back */
	struct {
		unsigned long credited;		/* `credited` after a notify */
		int64_t when_ns;
	} checkpoint[COND_CHECKPOINTS];
	unsigned first, count;
};

static const struct cond_ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static void cond_setup(struct scene *s)
{
	struct condition *x = torture_state(s);

	ops_of(s)->init(x->cond, torture_flags(s));
	ops_of(s)->lock->init(x->lock, 0, torture_flags(s));
}

/* Under the lock: owed never exceeds the waiters that could take it, unless a notify flies. */
static void cut_back(struct condition *x)
{
	if (!x->in_flight && x->owed > x->registered) {
		x->retired += x->owed - x->registered;
		x->owed = x->registered;
	}
}

static void credit(struct condition *x, long n)
{
	x->owed += n;
	x->credited += n;
	if (n > 0 && x->count < COND_CHECKPOINTS) {
		unsigned i = (x->first + x->count++) % COND_CHECKPOINTS;

		x->checkpoint[i].credited = x->credited;
		x->checkpoint[i].when_ns = ks_now_ns();
	}
}

/* Under the lock: the oldest wake still owed must not be older than --stuck. */
static void check_lost(struct scene *s, struct condition *x)
{
	while (x->count) {
		unsigned i = x->first;

		if (x->retired >= x->checkpoint[i].credited) {
			x->first = (x->first + 1) % COND_CHECKPOINTS;
			x->count--;
			continue;
		}
		if (ks_now_ns() - x->checkpoint[i].when_ns > torture_cfg.stuck_ns)
			torture_fail(s, "lost wake-up: a notify %.1f s ago has not ended a wait, "
				     "%ld waiter(s) waiting", (ks_now_ns() -
				     x->checkpoint[i].when_ns) / 1e9, x->registered);
		return;
	}
}

static void lock(struct scene *s, struct worker *w, unsigned depth)
{
	const struct ops *l = ops_of(s)->lock;
	struct condition *x = torture_state(s);

	torture_enter(w, "lock", OPS_BLOCK);
	for (unsigned i = 0; i < depth; i++)
		l->acquire(x->lock, NULL, OPS_BLOCK);
	torture_leave(w, 0, OPS_BLOCK);
}

static void unlock(struct scene *s, unsigned depth)
{
	const struct ops *l = ops_of(s)->lock;
	struct condition *x = torture_state(s);

	for (unsigned i = 0; i < depth; i++)
		if (l->release(x->lock, NULL))
			torture_fail(s, "the lock is not held after the wait (depth %u of %u)",
				     i + 1, depth);
}

static void cond_wait(struct scene *s, struct condition *x, struct worker *w)
{
	const struct cond_ops *ops = ops_of(s);
	unsigned depth = ops->lock->caps & OPS_RECURSIVE ? 1 + torture_below(w, 2) : 1;
	int64_t t = torture_below(w, 3) ? OPS_BLOCK : torture_timeout_timed(w);
	int r;

	lock(s, w, depth);
	x->registered++;
	torture_enter(w, t == OPS_BLOCK ? "wait" : "wait_timeout", t);
	r = torture_leave(w, ops->wait(x->cond, x->lock, t), t);
	x->registered--;
	if (!r) {
		x->owed--;
		x->retired++;
		if (x->owed < 0)
			torture_fail(s, "notify(n) ended more than n waits, or a wait ended "
				     "without a notify (%ld wake(s) too many)", -x->owed);
	} else if (r == -ETIMEDOUT) {
		cut_back(x);
	} else {
		torture_fail(s, "wait returned %d", r);
	}
	check_lost(s, x);
	unlock(s, depth);
}

static void cond_notify(struct scene *s, struct condition *x, struct worker *w)
{
	const struct cond_ops *ops = ops_of(s);
	unsigned n = torture_below(w, 8) ? 1 + torture_below(w, 3) : 0;	/* 0: broadcast */
	bool locked = torture_below(w, 2);

	lock(s, w, 1);
	if (locked) {
		long waiting = x->registered - (x->owed - x->flying);

		credit(x, waiting <= 0 ? 0 : !n || waiting < n ? waiting : n);
		n ? ops->signal_n(x->cond, n) : ops->broadcast(x->cond);
	} else {
		long c = n ? n : x->registered + s->nworkers;

		x->in_flight++;
		x->flying += c;
		credit(x, c);
		unlock(s, 1);
		n ? ops->signal_n(x->cond, n) : ops->broadcast(x->cond);
		lock(s, w, 1);
		x->flying -= c;
		if (!--x->in_flight)
			cut_back(x);
	}
	check_lost(s, x);
	unlock(s, 1);
	torture_count_op(w);
}

static void cond_work(struct scene *s, struct worker *w)
{
	struct condition *x = torture_state(s);

	while (!torture_stopping(s)) {
		if (w->id == 0 || !torture_below(w, 3))
			cond_notify(s, x, w);
		else
			cond_wait(s, x, w);
		torture_pause(w);
	}
}

/* At the end, notify everybody (and owe them so). */
static void cond_stop(struct scene *s)
{
	struct condition *x = torture_state(s);
	const struct cond_ops *ops = ops_of(s);

	ops->lock->acquire(x->lock, NULL, OPS_BLOCK);
	credit(x, x->registered - x->owed > 0 ? x->registered - x->owed : 0);
	ops->broadcast(x->cond);
	ops->lock->release(x->lock, NULL);
}

static void *cond_word(struct scene *s)
{
	struct condition *x = torture_state(s);

	return ops_of(s)->futex_word(x->cond);
}

#define COND_SCENARIO(ident, table, busted, what)					\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = SC_PROCESSES | (busted),					\
		.state_size = sizeof(struct condition),					\
		.ops = &(table),							\
		.setup = cond_setup,							\
		.work = cond_work,							\
		.stop = cond_stop,							\
		.futex_word = cond_word,						\
	}

COND_SCENARIO(torture_cond, ops_cond, 0,
	      "notify(n) ends at most n waits, no spurious return, no lost wake-up; notify with "
	      "and without the lock");
COND_SCENARIO(torture_cond_rmutex, ops_cond_rmutex, 0,
	      "as cond, waiting on an rmutex held at depth 1 or 2");
COND_SCENARIO(torture_busted_cond, ops_busted_cond, SC_BUSTED,
	      "a signal_n that wakes all: the notify(n) check must fire");
