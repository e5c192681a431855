/* SPDX-License-Identifier: MIT */
/*
 * Negative controls: a broken variant of each kind of table, in the manner of the kernel's
 * locktorture lock_busted_ops. Each breaks exactly the property one of the torture's checks
 * guards, and ksync-torture must report that violation (make check runs each one and fails if
 * it is not caught). A harness that cannot catch these cannot be trusted with the real ones.
 *
 * Every break is a classic bug, with its window widened a little so that two CPUs hit it in
 * milliseconds rather than hours.
 */
#ifndef KSYNC_TESTS_OPS_BUSTED_H
#define KSYNC_TESTS_OPS_BUSTED_H

#include <sched.h>
#include <time.h>

#include "barrier.h"
#include "cond.h"
#include "event.h"
#include "llist.h"
#include "mutex.h"
#include "once.h"
#include "ring.h"
#include "rwlock.h"
#include "sem.h"
#include "seqlock.h"
#include "thread.h"
#include "workqueue.h"

static inline void ops_busted_window(void)
{
	for (int i = 0; i < 64; i++)
		ks_cpu_relax();
}

/* ---- a lock that tests, then sets: two threads can both see it free (mutual exclusion) ---- */

struct ops_busted_lock {
	_Atomic uint32_t held;
};

static inline int ops_busted_lock_init(void *l, unsigned value, unsigned flags)
{
	(void)value;
	(void)flags;
	atomic_init(&((struct ops_busted_lock *)l)->held, 0);
	return 0;
}

static inline int ops_busted_lock_acquire(void *obj, void *node, int64_t timeout_ns)
{
	struct ops_busted_lock *l = obj;

	(void)node;
	while (atomic_load_explicit(&l->held, memory_order_acquire)) {
		if (timeout_ns != OPS_BLOCK)
			return -ETIMEDOUT;
		sched_yield();
	}
	ops_busted_window();
	atomic_store_explicit(&l->held, 1, memory_order_relaxed);
	return 0;
}

static inline int ops_busted_lock_release(void *obj, void *node)
{
	(void)node;
	atomic_store_explicit(&((struct ops_busted_lock *)obj)->held, 0, memory_order_release);
	return 0;
}

static inline bool ops_busted_lock_busy(const void *obj)
{
	return atomic_load(&((struct ops_busted_lock *)obj)->held);
}

static const struct ops ops_busted_lock __attribute__((unused)) = {
	.name = "busted-lock",
	.caps = OPS_EXCLUSIVE | OPS_SHARED | OPS_BUSTED,
	.size = sizeof(struct ops_busted_lock),
	.init = ops_busted_lock_init,
	.acquire = ops_busted_lock_acquire,
	.release = ops_busted_lock_release,
	.busy = ops_busted_lock_busy,
};

/* ---- a semaphore whose up gives two tokens (tokens conserved) ------------------------------- */

static inline int ops_busted_sem_release(void *s, void *node)
{
	(void)node;
	return ks_sem_up_n(s, 2);
}

static const struct ops ops_busted_sem __attribute__((unused)) = {
	.name = "busted-sem",
	.caps = OPS_TOKENS | OPS_TIMED | OPS_SLEEPS | OPS_SHARED | OPS_BUSTED,
	.size = sizeof(struct ks_sem),
	.init = ops_sem_init,
	.acquire = ops_sem_acquire,
	.release = ops_busted_sem_release,
	.value = ops_sem_value,
	.busy = ops_sem_busy,
	.contended = ops_sem_contended,
	.futex_word = ops_sem_word,
};

/*
 * ---- a semaphore whose up reads the object after giving the token: the waiter that took it
 * may have freed it by then (glibc bug 13690's pattern; an object may be freed right after its
 * last use) ----
 */
static inline int ops_busted_late_sem_release(void *s, void *node)
{
	int r;

	(void)node;
	r = ks_sem_up(s);
	ops_busted_window();
	return r ? r : (int)((volatile struct ks_sem *)s)->flags;
}

static const struct ops ops_busted_late_sem __attribute__((unused)) = {
	.name = "busted-lifetime",
	.caps = OPS_TOKENS | OPS_TIMED | OPS_SLEEPS | OPS_SHARED | OPS_BUSTED,
	.size = sizeof(struct ks_sem),
	.init = ops_sem_init,
	.acquire = ops_sem_acquire,
	.release = ops_busted_late_sem_release,
	.value = ops_sem_value,
	.busy = ops_sem_busy,
	.contended = ops_sem_contended,
	.futex_word = ops_sem_word,
};

/* ---- an event whose wait gives up early and reports success (a wait ends only on a set) ---- */

static inline int ops_busted_event_acquire(void *e, void *node, int64_t timeout_ns)
{
	(void)node;
	if (timeout_ns != OPS_TRY)
		ks_event_wait_timeout(e, 10 * KS_NSEC_PER_USEC);
	return 0;
}

static const struct ops ops_busted_event __attribute__((unused)) = {
	.name = "busted-event",
	.caps = OPS_LATCH | OPS_TIMED | OPS_SLEEPS | OPS_SHARED | OPS_BUSTED,
	.size = sizeof(struct ks_event),
	.init = ops_event_init,
	.acquire = ops_busted_event_acquire,
	.release = ops_event_release,
	.reset = ops_event_reset,
	.busy = ops_event_busy,
	.contended = ops_event_contended,
	.futex_word = ops_event_word,
};

/*
 * ---- a readers-preferring rwlock: readers ignore a waiting writer (no writer starved) ----
 * state: -1 a writer holds it, n >= 0 readers hold it. A writer can only get in when the
 * readers happen to be all out at once, which a stream of overlapping readers never allows.
 */
struct ops_busted_rwlock {
	_Atomic int32_t state;
};

static inline int ops_busted_rwlock_init(void *rw, unsigned value, unsigned flags)
{
	(void)value;
	(void)flags;
	atomic_init(&((struct ops_busted_rwlock *)rw)->state, 0);
	return 0;
}

static inline int ops_busted_rwlock_take(_Atomic int32_t *state, bool writer, int64_t timeout_ns)
{
	int64_t end = timeout_ns >= 0 ? ks_now_ns() + timeout_ns : INT64_MAX;

	for (;;) {
		int32_t s = atomic_load_explicit(state, memory_order_relaxed);

		if (writer ? s == 0 : s >= 0) {
			if (atomic_compare_exchange_weak_explicit(state, &s, writer ? -1 : s + 1,
								  memory_order_acquire,
								  memory_order_relaxed))
				return 0;
			continue;
		}
		if (timeout_ns == OPS_TRY || ks_now_ns() >= end)
			return -ETIMEDOUT;
		/* it polls, asleep in between */
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 }, NULL);
	}
}

static inline int ops_busted_rwlock_acquire(void *rw, void *node, int64_t timeout_ns)
{
	(void)node;
	return ops_busted_rwlock_take(&((struct ops_busted_rwlock *)rw)->state, true, timeout_ns);
}

static inline int ops_busted_rwlock_release(void *rw, void *node)
{
	(void)node;
	atomic_store_explicit(&((struct ops_busted_rwlock *)rw)->state, 0, memory_order_release);
	return 0;
}

static inline int ops_busted_rwlock_acquire_shared(void *rw, int64_t timeout_ns)
{
	return ops_busted_rwlock_take(&((struct ops_busted_rwlock *)rw)->state, false, timeout_ns);
}

static inline int ops_busted_rwlock_release_shared(void *rw)
{
	atomic_fetch_sub_explicit(&((struct ops_busted_rwlock *)rw)->state, 1,
				  memory_order_release);
	return 0;
}

static inline bool ops_busted_rwlock_busy(const void *rw)
{
	return atomic_load(&((struct ops_busted_rwlock *)rw)->state) < 0;
}

static const struct ops ops_busted_rwlock __attribute__((unused)) = {
	.name = "busted-rwlock",
	.caps = OPS_EXCLUSIVE | OPS_READERS | OPS_TIMED | OPS_SHARED | OPS_BUSTED,
	.size = sizeof(struct ops_busted_rwlock),
	.init = ops_busted_rwlock_init,
	.acquire = ops_busted_rwlock_acquire,
	.release = ops_busted_rwlock_release,
	.acquire_shared = ops_busted_rwlock_acquire_shared,
	.release_shared = ops_busted_rwlock_release_shared,
	.busy = ops_busted_rwlock_busy,
};

/* ---- a seqlock whose writer forgets to make the sequence odd (readers see torn data) ------- */

static inline int ops_busted_seqlock_acquire(void *sl, void *node, int64_t timeout_ns)
{
	(void)node;
	if (timeout_ns != OPS_BLOCK)
		return ks_mutex_trylock(&((struct ks_seqlock *)sl)->lock) ? 0 : -ETIMEDOUT;
	ks_mutex_lock(&((struct ks_seqlock *)sl)->lock);
	return 0;
}

static inline int ops_busted_seqlock_release(void *sl, void *node)
{
	(void)node;
	return ks_mutex_unlock(&((struct ks_seqlock *)sl)->lock);
}

static const struct ops ops_busted_seqlock __attribute__((unused)) = {
	.name = "busted-seqlock",
	.caps = OPS_EXCLUSIVE | OPS_OPTIMISTIC | OPS_SLEEPS | OPS_SHARED | OPS_BUSTED,
	.size = sizeof(struct ks_seqlock),
	.init = ops_seqlock_init,
	.acquire = ops_busted_seqlock_acquire,
	.release = ops_busted_seqlock_release,
	.read_begin = ops_seqlock_read_begin,
	.read_retry = ops_seqlock_read_retry,
	.busy = ops_seqlock_busy,
};

/* ---- a condition whose signal_n(n) wakes everybody (notify(n) ends at most n waits) -------- */

static inline void ops_busted_cond_signal_n(void *c, unsigned n)
{
	(void)n;
	ks_cond_broadcast((struct ks_cond *)c);
}

static const struct cond_ops ops_busted_cond __attribute__((unused)) = {
	.name = "busted-cond",
	.caps = OPS_TIMED | OPS_SLEEPS | OPS_SHARED | OPS_BUSTED,
	.size = sizeof(struct ks_cond),
	.lock = &ops_mutex,
	.init = ops_cond_init,
	.wait = ops_cond_wait,
	.signal_n = ops_busted_cond_signal_n,
	.broadcast = ops_cond_broadcast,
	.futex_word = ops_cond_word,
};

/* ---- a barrier that releases one party early (generations in step) ------------------------- */

static inline int ops_busted_barrier_init(void *b, unsigned parties, int (*action)(void *),
					  void *arg, unsigned flags)
{
	return ks_barrier_init(b, parties > 1 ? parties - 1 : 1, action, arg, flags);
}

static const struct barrier_ops ops_busted_barrier __attribute__((unused)) = {
	.name = "busted-barrier",
	.caps = OPS_TIMED | OPS_SLEEPS | OPS_SHARED | OPS_BUSTED,
	.size = sizeof(struct ks_barrier),
	.init = ops_busted_barrier_init,
	.wait = ops_barrier_wait,
	.abort = ops_barrier_abort,
	.reset = ops_barrier_reset,
	.broken = ops_barrier_broken,
	.futex_word = ops_barrier_word,
};

/*
 * ---- a join that returns as soon as the thread's function has returned, before the thread has
 * terminated (its TLS destructors have not run): when join returns, the thread is gone ----
 */
struct ops_busted_thread {
	struct ks_thread t;
	void *(*fn)(void *);
	void *arg;
	void *ret;
	atomic_bool returned;
};

static inline void *ops_busted_thread_main(void *arg)
{
	struct ops_busted_thread *b = arg;

	b->ret = b->fn(b->arg);
	atomic_store_explicit(&b->returned, true, memory_order_release);
	return b->ret;
}

static inline int ops_busted_thread_start(void *obj, void *(*fn)(void *), void *arg)
{
	struct ops_busted_thread *b = obj;

	b->fn = fn;
	b->arg = arg;
	atomic_init(&b->returned, false);
	return ks_thread_start(&b->t, ops_busted_thread_main, b);
}

static inline int ops_busted_thread_join(void *obj, int64_t timeout_ns, void **ret)
{
	struct ops_busted_thread *b = obj;
	int64_t end = timeout_ns >= 0 ? ks_now_ns() + timeout_ns : INT64_MAX;

	while (!atomic_load_explicit(&b->returned, memory_order_acquire)) {
		if (ks_now_ns() >= end)
			return -ETIMEDOUT;
		sched_yield();
	}
	if (ret)
		*ret = b->ret;
	return 0;
}

static inline bool ops_busted_thread_is_alive(const void *obj)
{
	return !atomic_load(&((struct ops_busted_thread *)obj)->returned);
}

static const struct thread_ops ops_busted_thread __attribute__((unused)) = {
	.name = "busted-thread",
	.caps = OPS_TIMED | OPS_BUSTED,
	.size = sizeof(struct ops_busted_thread),
	.start = ops_busted_thread_start,
	.join = ops_busted_thread_join,
	.is_alive = ops_busted_thread_is_alive,
};

/* ---- a once that checks, then runs: two callers can both run fn (exactly once) ------------- */

static inline void ops_busted_once_init(void *o, unsigned flags)
{
	(void)flags;
	atomic_init(&((struct ks_once *)o)->state, KS_ONCE_INCOMPLETE);
}

static inline int ops_busted_once_call(void *obj, void (*fn)(void))
{
	struct ks_once *o = obj;

	if (atomic_load_explicit(&o->state, memory_order_acquire) == KS_ONCE_DONE)
		return 0;
	fn();
	atomic_store_explicit(&o->state, KS_ONCE_DONE, memory_order_release);
	return 0;
}

static const struct once_ops ops_busted_once __attribute__((unused)) = {
	.name = "busted-once",
	.caps = OPS_SHARED | OPS_BUSTED,
	.size = sizeof(struct ks_once),
	.init = ops_busted_once_init,
	.call = ops_busted_once_call,
};

/* ---- an llist add that reads the head, then stores it: nodes get lost (each exactly once) -- */

static inline bool ops_busted_llist_add_batch(struct ks_llist_node *first,
					      struct ks_llist_node *last, void *obj)
{
	struct ks_llist_head *head = obj;
	struct ks_llist_node *old = atomic_load_explicit(&head->first, memory_order_relaxed);

	last->next = old;
	ops_busted_window();
	atomic_store_explicit(&head->first, first, memory_order_release);
	return !old;
}

static const struct llist_ops ops_busted_llist __attribute__((unused)) = {
	.name = "busted-llist",
	.caps = OPS_BUSTED,
	.size = sizeof(struct ks_llist_head),
	.init = ops_llist_init,
	.add_batch = ops_busted_llist_add_batch,
	.del_all = ops_llist_del_all,
	.del_first = ops_llist_del_first,
};

/* ---- an SPSC ring driven by several producers and consumers (every item exactly once) ------ */

static const struct ring_ops ops_busted_ring __attribute__((unused)) = {
	.name = "busted-ring",
	.caps = OPS_TIMED | OPS_SLEEPS | OPS_SHARED | OPS_BUSTED,
	.kind = KS_RING_SPSC,
	.init = ops_ring_spsc_init,
	.push = ops_ring_push,
	.pop = ops_ring_pop,
	.count = ops_ring_count,
};

/* ---- a workqueue whose flush returns at once (a flush covers every earlier queue_work) ----- */

static inline int ops_busted_workqueue_flush(void *wq)
{
	(void)wq;
	return 0;
}

static const struct workqueue_ops ops_busted_workqueue __attribute__((unused)) = {
	.name = "busted-workqueue",
	.caps = OPS_SLEEPS | OPS_BUSTED,
	.create = ops_workqueue_create,
	.queue = ops_workqueue_queue,
	.flush = ops_busted_workqueue_flush,
	.destroy = ops_workqueue_destroy,
};

#endif /* KSYNC_TESTS_OPS_BUSTED_H */
