// SPDX-License-Identifier: MIT
/*
 * Objects freed right after their last use (glibc bug 13690's pattern), over every table that
 * lets one side through another's wait: a lock's next owner, a semaphore's or an event's
 * waiter, a condition's waiter, frees (or unmaps) the object as soon as its own call returns,
 * while the releasing side may still be inside its call. A release must not touch the object
 * after the store that lets the other side go. Workers pair up: even ones release, odd ones
 * use and free. A touch of freed memory is ASan's to report; of an unmapped page, a fault the
 * runner names.
 */
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "../ops/busted.h"
#include "../ops/cond.h"
#include "../ops/event.h"
#include "../ops/mutex.h"
#include "../ops/rmutex.h"
#include "../ops/rwlock.h"
#include "../ops/sem.h"
#include "torture.h"

#define LIFETIME_PAGE 4096

struct pair {
	void *_Atomic obj;
	bool mapped;
	atomic_bool done;	/* the releaser has published its last object */
};

struct lifetime {
	const struct ops *ops;		/* this round's table */
	struct pair pair[TORTURE_MAX_WORKERS / 2];
};

static const struct ops *const lifetime_tables[] = {
	&ops_mutex, &ops_rmutex, &ops_sem, &ops_event, &ops_rwlock,
	&ops_cond_latch,
};

static void lifetime_setup(struct scene *s)
{
	struct lifetime *x = torture_state(s);
	unsigned n = sizeof(lifetime_tables) / sizeof(lifetime_tables[0]);

	x->ops = s->sc->ops ? s->sc->ops : lifetime_tables[s->started_ns / 1000 % n];
	s->variant = x->ops->name;
	s->nworkers &= ~1u;
}

static void releaser(struct scene *s, struct lifetime *x, struct pair *p, struct worker *w)
{
	const struct ops *ops = x->ops;
	bool reader = ops->caps & OPS_READERS;

	while (!torture_stopping(s)) {
		bool mapped = torture_below(w, 2);
		void *obj = mapped ? mmap(NULL, LIFETIME_PAGE, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
			    calloc(1, ops->size);

		if (obj == MAP_FAILED || !obj)
			return;
		ops->init(obj, 0, 0);
		if (reader)
			ops->acquire_shared(obj, OPS_BLOCK);
		else if (ops->caps & OPS_EXCLUSIVE)
			ops->acquire(obj, NULL, OPS_BLOCK);
		p->mapped = mapped;
		atomic_store(&p->obj, obj);
		if (torture_below(w, 2) && ops->contended) {
			int64_t give_up = ks_now_ns() + 100 * KS_NSEC_PER_MSEC;

			while (!ops->contended(obj) && ks_now_ns() < give_up)
				sched_yield();
		} else {
			for (unsigned spin = torture_below(w, 800); spin; spin--)
				ks_cpu_relax();
		}
		torture_enter(w, reader ? "read unlock" : "release", OPS_BLOCK);
		if (reader)
			ops->release_shared(obj);
		else
			ops->release(obj, NULL);
		torture_leave(w, 0, OPS_BLOCK);
		torture_enter(w, "wait for the user to free it", OPS_BLOCK);
		while (atomic_load(&p->obj))
			sched_yield();
		torture_leave(w, 0, OPS_BLOCK);
	}
	atomic_store(&p->done, true);
}

static void user(struct lifetime *x, struct pair *p, struct worker *w)
{
	const struct ops *ops = x->ops;

	/* every object published is used and freed: a release may wait for its user */
	for (;;) {
		void *obj = atomic_load(&p->obj);

		if (!obj) {
			if (atomic_load(&p->done))
				return;
			sched_yield();
			continue;
		}
		torture_enter(w, "last use", OPS_BLOCK);
		ops->acquire(obj, w->node, OPS_BLOCK);
		if (ops->caps & OPS_EXCLUSIVE)
			ops->release(obj, w->node);
		torture_leave(w, 0, OPS_BLOCK);
		if (p->mapped)
			munmap(obj, LIFETIME_PAGE);
		else
			free(obj);
		atomic_store(&p->obj, NULL);
	}
}

static void lifetime_work(struct scene *s, struct worker *w)
{
	struct lifetime *x = torture_state(s);
	struct pair *p = &x->pair[w->id / 2];

	if (w->id % 2)
		user(x, p, w);
	else
		releaser(s, x, p, w);
}

const struct scenario torture_lifetime = {
	.name = "lifetime",
	.checks = "objects freed or unmapped by their user right after its last call "
		  "(mutex, rmutex, sem, event, rwlock, cond): no touch after the "
		  "releasing store",
	.state_size = sizeof(struct lifetime),
	.setup = lifetime_setup,
	.work = lifetime_work,
};

const struct scenario torture_busted_lifetime = {
	.name = "busted-lifetime",
	.checks = "a semaphore whose up reads it after giving the token: the fault must be "
		  "reported",
	.flags = SC_BUSTED,
	.state_size = sizeof(struct lifetime),
	.ops = &ops_busted_late_sem,
	.setup = lifetime_setup,
	.work = lifetime_work,
};
