/* SPDX-License-Identifier: MIT */
/*
 * An object freed by its user right after its last call returns, while the thread that let
 * the user through may still be inside its own call: glibc bug 13690's pattern. A release must
 * not touch the object after the store that lets the other side go, except through the futex
 * address; ASan turns a touch of freed memory into a failure, and LIFETIME_UNMAP (the object
 * alone on a page that is unmapped) turns it into a fault without ASan too.
 *
 * Over any table of tests/ops/ops.h. The calling thread is the releaser, a second thread the
 * user; round after round, for half of KS_STRESS_MS:
 *
 *	releaser: init; arm (a lock: acquire it; an rwlock: read-lock it); publish; wait
 *		until a waiter registered, or spin a varying while (it races the
 *		registration); release (unlock, read-unlock, up, set); next round
 *	user:	take the object; its last use (a lock: acquire and release; a semaphore
 *		or an event: acquire); then free or unmap it at once
 */
#ifndef KSYNC_TESTS_HARNESS_LIFETIME_H
#define KSYNC_TESTS_HARNESS_LIFETIME_H

#include <sched.h>
#include <sys/mman.h>

#include "../ops/ops.h"
#include "../tap/clock.h"
#include "../tap/out.h"
#include "../tap/proc.h"
#include "../tap/storm.h"

enum {
	LIFETIME_UNMAP	= 1u << 0,	/* the object alone on a page, unmapped after use */
	LIFETIME_STORM	= 1u << 1,	/* signals stretch the releaser's call */
};

#define LIFETIME_PAGE 4096

struct lifetime {
	const struct ops *ops;
	unsigned how;
	void *_Atomic obj;
	atomic_bool stop;
	atomic_long rounds;
};

static inline void *lifetime__alloc(struct lifetime *l)
{
	void *p;

	if (!(l->how & LIFETIME_UNMAP))
		return calloc(1, l->ops->size);
	p = mmap(NULL, LIFETIME_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static inline void lifetime__free(struct lifetime *l, void *obj)
{
	if (l->how & LIFETIME_UNMAP)
		munmap(obj, LIFETIME_PAGE);
	else
		free(obj);
}

static void *lifetime__user(void *arg)
{
	struct lifetime *l = arg;
	const struct ops *ops = l->ops;

	while (!atomic_load(&l->stop)) {
		void *obj = atomic_load(&l->obj);

		if (!obj) {
			sched_yield();	/* the releaser needs the CPU more (two CPUs, shared) */
			continue;
		}
		ops->acquire(obj, NULL, OPS_BLOCK);	/* the releaser lets us through */
		if (ops->caps & OPS_EXCLUSIVE)
			ops->release(obj, NULL);
		atomic_store(&l->obj, NULL);
		lifetime__free(l, obj);
		atomic_fetch_add(&l->rounds, 1);
	}
	return NULL;
}

/* Rounds for half of KS_STRESS_MS; returns how many objects the user freed. */
static inline long lifetime_run(const struct ops *ops, unsigned how)
{
	struct lifetime l = { .ops = ops, .how = how };
	int64_t end = tap_deadline_in_ms(tap_stress_ms() / 2);
	struct tap_storm storm;
	unsigned long n = 0;
	pthread_t t;

	t = tap_thread(lifetime__user, &l);
	if (how & LIFETIME_STORM)
		tap_storm_start(&storm, pthread_self(), 20 * KS_NSEC_PER_USEC);
	while (tap_before(end)) {
		void *obj = lifetime__alloc(&l);
		bool reader = ops->caps & OPS_READERS;

		if (!obj)
			break;
		ops->init(obj, 0, 0);
		if (reader)
			ops->acquire_shared(obj, OPS_BLOCK);
		else if (ops->caps & OPS_EXCLUSIVE)
			ops->acquire(obj, NULL, OPS_BLOCK);
		atomic_store(&l.obj, obj);
		if (n++ % 2 && ops->contended) {
			/* the wake path: until the user has registered (or 100 ms) */
			int64_t give_up = tap_deadline_in_ms(100);

			while (!ops->contended(obj) && tap_before(give_up))
				sched_yield();
		} else {
			/* race the registration: spinning user, registering, asleep */
			for (unsigned spin = 0; spin < (n / 2 % 8) * 100; spin++)
				ks_cpu_relax();
		}
		if (reader)
			ops->release_shared(obj);
		else
			ops->release(obj, NULL);
		while (atomic_load(&l.obj))
			sched_yield();
	}
	if (how & LIFETIME_STORM)
		tap_storm_stop(&storm);
	atomic_store(&l.stop, true);
	pthread_join(t, NULL);
	return atomic_load(&l.rounds);
}

/* The same, as one assertion: "<n> <what>" (what: "mutexes freed by the next owner ..."). */
static inline bool lifetime_ok(const struct ops *ops, unsigned how, const char *what)
{
	long rounds = lifetime_run(ops, how);

	return ok(rounds > 0, "%ld %s", rounds, what);
}

#endif /* KSYNC_TESTS_HARNESS_LIFETIME_H */
