/* SPDX-License-Identifier: MIT */
/*
 * struct ks_workqueue — a pool of worker threads running embedded work items, in the manner of
 * the Linux kernel's workqueues (include/linux/workqueue.h), built on ks_mutex, ks_cond and
 * ks_thread.
 *
 * A work item is a struct ks_work embedded in the caller's structure; its function finds the
 * structure with ks_container_of(). ks_work.pending holds the kernel's PENDING bit and one more:
 *
 *	0			idle, or running with nothing queued behind it
 *	PENDING			claimed by a queueing call that has not linked it yet
 *	PENDING | LINKED	on the queue with a ticket, or taken by a worker not yet started
 *
 * ks_workqueue_queue() sets PENDING with one fetch_or; the caller that set it returns true, the
 * others false, so an item is never on the queue twice. A false return waits for LINKED: a
 * queuer that finds the item claimed but not linked takes the queue's lock and links it itself
 * (the first to take the lock does), so that once any queue_work returns, the item is where a
 * flush sees it. A worker clears both bits (an exchange) just before calling the function, so
 * the function, or anyone, may queue the item again while it runs; the fetch_or and the
 * exchange are acq_rel, so whatever a queuer wrote before a queue_work that returned false is
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
	KS_ATOMIC(uint32_t) pending;	/* KS_WORK_PENDING, KS_WORK_LINKED: see above */
	uint64_t ticket;		/* queue order, for flush; under the workqueue's lock */
	void (*fn)(struct ks_work *work);
};

#define KS_WORK_PENDING	0x1u
#define KS_WORK_LINKED	0x2u

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
	return atomic_load_explicit(&work->pending, memory_order_relaxed) &
	       KS_WORK_PENDING;
}

struct ks_workqueue;

/*
 * Starts nthreads workers. 0 and *wq, or -EINVAL (nthreads 0 or above
 * KS_WORKQUEUE_MAX_THREADS, wq NULL), -ENOMEM, or -EAGAIN when no more threads can be made.
 */
int ks_workqueue_create(struct ks_workqueue **wq, unsigned nthreads);

/*
 * Queues work to run once on some worker. False if it was already pending (it will run once
 * for both requests, after everything written before this call), or if wq, work or its fn is
 * NULL. Either way, once it returns, a run of the item starts after the call and a flush
 * issued after the call waits for that run. Any thread, a work function included; never
 * blocks for long (one uncontended lock; none when the item is already queued).
 */
bool ks_workqueue_queue(struct ks_workqueue *wq, struct ks_work *work);

/*
 * Waits until every item queued before the call (true or false) has run to completion. 0,
 * -EINVAL for a NULL wq, or -EDEADLK when called from one of this workqueue's work functions
 * (it would wait for itself). A flush already waiting when destroy is called returns 0 once
 * its items have run, before destroy frees the queue.
 */
int ks_workqueue_flush(struct ks_workqueue *wq);

/*
 * Runs everything queued, including what work functions queue meanwhile, stops and joins the
 * workers, waits for the flushes in progress to return, and frees the workqueue. 0, -EINVAL
 * for a NULL wq, or -EDEADLK from one of its own work functions (nothing is changed then).
 * Other threads must not queue work once it has begun, nor call anything on wq that does not
 * happen before it.
 */
int ks_workqueue_destroy(struct ks_workqueue *wq);

/* The number of workers; 0 for a NULL wq. */
unsigned ks_workqueue_nthreads(const struct ks_workqueue *wq);

KS_END_DECLS

#endif /* KSYNC_WORKQUEUE_H */
