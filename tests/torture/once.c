// SPDX-License-Identifier: MIT
/*
 * Once: fn runs exactly once per object, and every call returns after it has completed, with
 * its writes visible. The waiters free the object as soon as the last of them has returned,
 * while the thread that ran fn may still be inside its own call (it must not touch the object
 * after publishing DONE): the object is then unmapped (a touch faults) or freed (ASan sees it).
 *
 * Rounds of objects: every worker calls ks_once on the current one; the last caller to return
 * publishes the next. With processes, the objects are an array in the shared scene instead.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "../ops/busted.h"
#include "../ops/once.h"
#include "torture.h"

#define ONCE_PAGE	4096
#define ONCE_SHARED	1024	/* objects a scene of processes has */
#define ONCE_MAGIC	0x6f6e6365ul

struct once_round {
	unsigned long number;
	void *obj;
	bool mapped, in_scene;
	atomic_int runs;
	atomic_int runner;		/* the worker that ran fn, + 1 */
	unsigned long result;		/* written by fn, plain: the once orders it */
	atomic_uint returned, waiters_returned;
};

struct once_state {
	struct once_round *_Atomic cur;
	struct once_round rounds[2];	/* the current one and the next */
	atomic_ulong number;
	alignas(64) unsigned char objs[ONCE_SHARED][64];
};

static __thread struct once_round *running;	/* the round fn belongs to, in this thread */
static __thread struct worker *running_worker;

static const struct once_ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static void once_fn(void)
{
	struct once_round *r = running;
	struct worker *w = running_worker;

	atomic_store(&r->runner, (int)w->id + 1);
	if (atomic_fetch_add(&r->runs, 1))
		torture_fail(w->scene, "fn ran twice for one object");
	torture_pause(w);
	if (!torture_below(w, 4))
		nanosleep(&(struct timespec){ .tv_nsec = torture_below(w, 300) * 1000 }, NULL);
	r->result = ONCE_MAGIC ^ r->number;
}

/* The next object, in the slot that is not the current round's. */
static void publish(struct scene *s, struct once_state *x, struct worker *w)
{
	unsigned long n = atomic_fetch_add(&x->number, 1) + 1;
	struct once_round *r = &x->rounds[n % 2];

	memset(r, 0, sizeof(*r));
	r->number = n;
	if (s->processes) {
		r->in_scene = true;
		r->obj = n < ONCE_SHARED ? x->objs[n] : NULL;
	} else if ((r->mapped = w ? torture_below(w, 2) : false)) {
		r->obj = mmap(NULL, ONCE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0);
		if (r->obj == MAP_FAILED)
			r->obj = NULL;
	} else {
		r->obj = malloc(ops_of(s)->size);
	}
	if (r->obj)
		ops_of(s)->init(r->obj, torture_flags(s));
	atomic_store(&x->cur, r->obj ? r : NULL);
}

static void release_object(struct once_round *r)
{
	if (r->in_scene)
		return;
	if (r->mapped)
		munmap(r->obj, ONCE_PAGE);
	else
		free(r->obj);
}

static void once_setup(struct scene *s)
{
	publish(s, torture_state(s), NULL);
}

static void once_work(struct scene *s, struct worker *w)
{
	struct once_state *x = torture_state(s);
	unsigned long last = 0;

	running_worker = w;
	while (!torture_stopping(s)) {
		struct once_round *r = atomic_load(&x->cur);
		unsigned n = s->nworkers;
		int rc;

		if (!r || r->number == last) {
			sched_yield();	/* the others are still in the last round */
			continue;
		}
		last = r->number;
		running = r;
		torture_enter(w, "ks_once", OPS_BLOCK);
		rc = torture_leave(w, ops_of(s)->call(r->obj, once_fn), OPS_BLOCK);
		if (rc == -EDEADLK)
			torture_fail(s, "ks_once returned -EDEADLK: it took the runner for its own "
				     "caller (a thread id shared across fork()?)");
		else if (rc)
			torture_fail(s, "ks_once returned %d", rc);
		if (r->result != (ONCE_MAGIC ^ r->number))
			torture_fail(s, "ks_once returned before fn had completed");
		if (atomic_load(&r->runner) != (int)w->id + 1 &&
		    atomic_fetch_add(&r->waiters_returned, 1) + 1 == n - 1)
			release_object(r);	/* the runner may still be inside ks_once */
		if (atomic_fetch_add(&r->returned, 1) + 1 == n) {
			if (atomic_load(&r->runs) != 1)
				torture_fail(s, "fn ran %d times for one object",
					     atomic_load(&r->runs));
			publish(s, x, w);
		}
	}
}

/* The object of a round the stop cut short is freed here. */
static void once_check(struct scene *s)
{
	struct once_state *x = torture_state(s);
	struct once_round *r = atomic_load(&x->cur);

	if (r && atomic_load(&r->waiters_returned) + 1 < s->nworkers)
		release_object(r);
}

static void *once_word(struct scene *s)
{
	struct once_state *x = torture_state(s);
	struct once_round *r = atomic_load(&x->cur);

	return r && r->in_scene && ops_of(s)->futex_word ? ops_of(s)->futex_word(r->obj) : NULL;
}

#define ONCE_SCENARIO(ident, table, busted, what)					\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = SC_PROCESSES | (busted),					\
		.state_size = sizeof(struct once_state),				\
		.ops = &(table),							\
		.setup = once_setup,							\
		.work = once_work,							\
		.check = once_check,							\
		.futex_word = once_word,						\
	}

ONCE_SCENARIO(torture_once, ops_once, 0,
	      "fn exactly once, every caller returns after it completed, the object freed or "
	      "unmapped by the waiters while the runner may still be inside");
ONCE_SCENARIO(torture_busted_once, ops_busted_once, SC_BUSTED,
	      "a once that checks, then runs: the exactly-once check must fire");
