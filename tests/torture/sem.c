// SPDX-License-Identifier: MIT
/*
 * Semaphores: tokens conserved. Holders never outnumber the initial value; a holder's release
 * is never refused (a bounded semaphore refuses only a release past its bound); at the end the
 * value is back to the initial one, and a bounded semaphore refuses one more.
 */
#include "../ops/busted.h"
#include "../ops/sem.h"
#include "torture.h"

struct tokens {
	alignas(64) unsigned char sem[64];
	unsigned initial;
	atomic_int holders;
};

static const struct ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static void sem_setup(struct scene *s)
{
	struct tokens *x = torture_state(s);

	x->initial = 1 + (unsigned)(s->started_ns / 1000 % 3);	/* 1 to 3 tokens */
	ops_of(s)->init(x->sem, x->initial, torture_flags(s));
}

static void sem_work(struct scene *s, struct worker *w)
{
	const struct ops *ops = ops_of(s);
	struct tokens *x = torture_state(s);

	while (!torture_stopping(s)) {
		int64_t t = torture_timeout(w, ops->caps);
		int holders, r;

		torture_enter(w, t == OPS_BLOCK ? "down" : t == OPS_TRY ? "trydown" :
			      "down_timeout", t);
		r = torture_leave(w, ops->acquire(x->sem, NULL, t), t);
		if (r == -ETIMEDOUT)
			continue;
		if (r) {
			torture_fail(s, "down returned %d", r);
			return;
		}
		holders = atomic_fetch_add(&x->holders, 1) + 1;
		if (holders > (int)x->initial)
			torture_fail(s, "tokens conserved: %d holders of a semaphore of %u",
				     holders, x->initial);
		torture_pause(w);
		atomic_fetch_sub(&x->holders, 1);
		r = ops->release(x->sem, NULL);
		if (r)
			torture_fail(s, "up by a holder returned %d", r);
		torture_pause(w);
	}
}

/* Waiters blocked at the end get the tokens back one by one as the others leave. */
static void sem_check(struct scene *s)
{
	const struct ops *ops = ops_of(s);
	struct tokens *x = torture_state(s);
	unsigned v = ops->value(x->sem);

	if (v != x->initial) {
		torture_fail(s, "tokens conserved: %u at the end of a semaphore of %u", v,
			     x->initial);
		return;
	}
	if ((ops->caps & OPS_BOUNDED) &&
	    (ops->release(x->sem, NULL) != -EOVERFLOW || ops->value(x->sem) != x->initial))
		torture_fail(s, "a bounded semaphore at its bound accepted one more up");
}

static void *sem_word(struct scene *s)
{
	struct tokens *x = torture_state(s);

	return ops_of(s)->futex_word(x->sem);
}

#define SEM_SCENARIO(ident, table, busted, what)					\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = SC_PROCESSES | (busted),					\
		.state_size = sizeof(struct tokens),					\
		.ops = &(table),							\
		.setup = sem_setup,							\
		.work = sem_work,							\
		.check = sem_check,							\
		.futex_word = sem_word,							\
	}

SEM_SCENARIO(torture_sem, ops_sem, 0,
	     "tokens conserved: holders <= value, value back at the end; down, trydown, "
	     "down_timeout (0, tiny, long)");
SEM_SCENARIO(torture_bounded_sem, ops_bounded_sem, 0,
	     "as sem, and a release past the bound refused while a holder's never is");
SEM_SCENARIO(torture_busted_sem, ops_busted_sem, SC_BUSTED,
	     "an up that gives two tokens: the tokens-conserved check must fire");
