/* SPDX-License-Identifier: MIT */
/*
 * struct ks_workqueue — a pool of worker threads running embedded work items, in the manner of
 * the Linux kernel's workqueues (include/linux/workqueue.h), built on ks_mutex, ks_cond and
 * ks_thread.
 *
 * A work item is a struct ks_work embedded in the caller's structure; its function finds the
 * structure with ks_container_of(). ks_work.pending is the kernel's PENDING bit:
 *
 *	0	idle, or running with nothing queued behind it
 *	1	queued: between a successful ks_workqueue_queue() and the moment a worker takes it
 *
 * ks_workqueue_queue() sets it with one exchange and returns false if it was already set, so an item
 * is never on the queue twice. A worker clears it (another exchange) just before calling the
 * function, so the function, or anyone, may queue the item again while it runs; the two
 * exchanges are acq_rel, so whatever a queuer wrote before a queue_work that returned false is
 * seen by the run that was pending. An item never runs on two workers at once: a worker that
 * takes an item another worker is still running hands it to that worker (the kernel's
 * non-reentrance rule).
 *
 * Flush uses tickets: each queueing takes the next number; flush waits until no item with a
 * smaller number is queued or running. Items queued later, including re-queues from work
 * functions, are not waited for. See docs/workqueue.md.
 *
 * Unlike the other ksync objects, a workqueue holds resources (threads, memory): it is made by
 * ks_workqueue_create() and must be ended by ks_workqueue_destroy().
 */
#ifndef KSYNC_WORKQUEUE_H
#define KSYNC_WORKQUEUE_H

#include <ksync/common.h>
#include <ksync/llist.h>

KS_BEGIN_DECLS

#define KS_WORKQUEUE_MAX_THREADS	4096u

struct ks_work {
	struct ks_llist_node node;	/* the queue's link; the workqueue's lock guards it */
	KS_ATOMIC(uint32_t) pending;	/* 1 from queueing until a worker takes the item */
	uint64_t ticket;		/* queue order, for flush; under the workqueue's lock */
	void (*fn)(struct ks_work *work);
};

#define KS_WORK_INIT(f) { { NULL }, 0, 0, (f) }

static inline void ks_work_init(struct ks_work *work, void (*fn)(struct ks_work *work))
{
	work->node.next = NULL;
	atomic_init(&work->pending, 0);
	work->ticket = 0;
	work->fn = fn;
}

/* True while the item is queued and not yet taken by a worker (a snapshot). */
static inline bool ks_work_pending(const struct ks_work *work)
{
	return atomic_load_explicit(&work->pending, memory_order_relaxed);
}

struct ks_workqueue;

/*
 * Starts nthreads workers. 0 and *wq, or -EINVAL (nthreads 0 or above
 * KS_WORKQUEUE_MAX_THREADS, wq NULL), -ENOMEM, or -EAGAIN when no more threads can be made.
 */
int ks_workqueue_create(struct ks_workqueue **wq, unsigned nthreads);

/*
 * Queues work to run once on some worker. False if it was already pending (it will run once
 * for both requests, after everything written before this call), or if work or its fn is NULL.
 * Any thread, a work function included; never blocks for long (one uncontended lock).
 */
bool ks_workqueue_queue(struct ks_workqueue *wq, struct ks_work *work);

/*
 * Waits until every item queued before the call has run to completion. 0, or -EDEADLK when
 * called from one of this workqueue's work functions (it would wait for itself).
 */
int ks_workqueue_flush(struct ks_workqueue *wq);

/*
 * Runs everything queued, including what work functions queue meanwhile, stops and joins the
 * workers, and frees the workqueue. 0, or -EDEADLK from one of its own work functions
 * (nothing is changed then). Other threads must not queue work once it has begun.
 */
int ks_workqueue_destroy(struct ks_workqueue *wq);

unsigned ks_workqueue_nthreads(const struct ks_workqueue *wq);

KS_END_DECLS

#endif /* KSYNC_WORKQUEUE_H */
