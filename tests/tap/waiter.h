/* SPDX-License-Identifier: MIT */
/*
 * The tests' waiter: a thread that makes one blocking call and records how it ended. `call`
 * gets the object and a timeout (negative: the form without a timeout) and returns the call's
 * result; the test reads `done` while it waits, then `result` and `took_ns`. A call that moves
 * an item in or out (a ring's push and pop) is a tap_wait_item_fn, with `item` its value.
 * A crew is an array of waiters started together on one object.
 */
#ifndef KSYNC_TESTS_TAP_WAITER_H
#define KSYNC_TESTS_TAP_WAITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "poke.h"
#include "proc.h"

typedef int tap_wait_fn(void *obj, int64_t timeout_ns);
typedef int tap_wait_item_fn(void *obj, void **item, int64_t timeout_ns);

struct tap_waiter {
	tap_wait_fn *call;
	tap_wait_item_fn *call_item;
	void *obj;
	void *item;		/* in and out of call_item */
	int64_t timeout_ns;
	unsigned char ctx[64];	/* the call's own arguments, when obj points here */
	pthread_t thread;
	atomic_int tid;
	atomic_bool done;
	int result;
	int64_t took_ns;
};

static void *tap__waiter_main(void *arg)
{
	struct tap_waiter *w = arg;
	int64_t t0;

	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	t0 = tap_now_ns();
	if (w->call_item)
		w->result = w->call_item(w->obj, &w->item, w->timeout_ns);
	else
		w->result = w->call(w->obj, w->timeout_ns);
	w->took_ns = tap_now_ns() - t0;
	atomic_store(&w->done, true);
	return NULL;
}

static inline pthread_t tap__waiter_go(struct tap_waiter *w, void *obj, int64_t timeout_ns)
{
	w->obj = obj;
	w->timeout_ns = timeout_ns;
	w->thread = tap_thread(tap__waiter_main, w);
	return w->thread;
}

static inline pthread_t tap_waiter_start(struct tap_waiter *w, tap_wait_fn *call, void *obj,
					 int64_t timeout_ns)
{
	memset(w, 0, sizeof(*w));
	w->call = call;
	return tap__waiter_go(w, obj, timeout_ns);
}

static inline pthread_t tap_waiter_start_item(struct tap_waiter *w, tap_wait_item_fn *call,
					      void *obj, void *item, int64_t timeout_ns)
{
	memset(w, 0, sizeof(*w));
	w->call_item = call;
	w->item = item;
	return tap__waiter_go(w, obj, timeout_ns);
}

/* The same, with obj pointing at a copy of ctx kept in the waiter (a call's own arguments). */
static inline pthread_t tap_waiter_start_ctx(struct tap_waiter *w, tap_wait_fn *call,
					     const void *ctx, size_t size, int64_t timeout_ns)
{
	memset(w, 0, sizeof(*w));
	memcpy(w->ctx, ctx, size < sizeof(w->ctx) ? size : sizeof(w->ctx));
	w->call = call;
	return tap__waiter_go(w, w->ctx, timeout_ns);
}

/* Until the waiter has started and sleeps in the kernel (it may spin a little first). */
static inline bool tap_waiter_asleep(struct tap_waiter *w)
{
	while (!atomic_load(&w->tid))
		tap_sleep_ms(1);
	return tap_wait_asleep(atomic_load(&w->tid), 5000);
}

static inline void tap_waiter_join(struct tap_waiter *w)
{
	pthread_join(w->thread, NULL);
}

/* A crew: n waiters making the same call on one object. */
static inline void tap_crew_start(struct tap_waiter *w, int n, tap_wait_fn *call, void *obj,
				  int64_t timeout_ns)
{
	for (int i = 0; i < n; i++)
		tap_waiter_start(&w[i], call, obj, timeout_ns);
}

static inline void tap_crew_join(struct tap_waiter *w, int n)
{
	for (int i = 0; i < n; i++)
		tap_waiter_join(&w[i]);
}

/* How many of the crew's calls returned `result`. */
static inline int tap_crew_count(const struct tap_waiter *w, int n, int result)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += w[i].result == result;
	return k;
}

#endif /* KSYNC_TESTS_TAP_WAITER_H */
