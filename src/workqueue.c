// SPDX-License-Identifier: MIT
/*
 * ks_workqueue: a FIFO of work items under one ks_mutex, idle workers asleep on one ks_cond,
 * flushers on another. The pending bit and the tickets are described in
 * include/ksync/workqueue.h; the invariants kept under the lock:
 *
 *  - An item is in at most one place: the shared queue, or one worker's `scheduled` list (an
 *    item queued again while a worker still runs it waits there for that worker), or nowhere.
 *    Both are FIFO, and items enter them in ticket order, so each list's head holds its oldest.
 *  - worker->current is the item the worker runs (its address only: the function may free it),
 *    worker->current_ticket its ticket. The oldest unfinished ticket is therefore the minimum of
 *    the running tickets and the list heads' tickets, or next_ticket when all are empty: the
 *    quantity flush waits on.
 *  - A worker leaves only when stopping is set, its scheduled list and the queue are empty and it
 *    runs nothing; a worker still running an item comes back to the queue afterwards, so work
 *    queued by work functions during destroy is still run.
 *  - nflushers counts the threads inside flush; destroy frees the memory only once it is 0
 *    (after the workers are gone), so a flush that was waiting when destroy began returns
 *    normally instead of waking up in freed memory.
 *  - An item whose pending word reads PENDING | LINKED is on a list or is some worker's
 *    `current` not yet started: either way flush counts its ticket. See ks_workqueue_queue().
 *
 * Idle workers are signalled one per queued item, and only when some sleep; flushers are
 * broadcast to only while some wait, so neither costs a system call otherwise.
 */
#include <stdlib.h>

#include <ksync/cond.h>
#include <ksync/mutex.h>
#include <ksync/thread.h>
#include <ksync/workqueue.h>

#include "inject.h"

/* A FIFO of work items linked through work->node; under the workqueue's lock. */
struct ks_work_fifo {
	struct ks_llist_node *head, *tail;
};

struct ks_worker {
	struct ks_thread thread;
	struct ks_workqueue *wq;
	_Atomic int tid;		/* set when the thread starts: flush/destroy refuse it */
	struct ks_work *current;	/* the running item, NULL when none */
	uint64_t current_ticket;
	struct ks_work_fifo scheduled;	/* items of `current` queued again while it runs */
};

struct ks_workqueue {
	struct ks_mutex lock;
	struct ks_cond more;		/* idle workers: work arrived, or stopping */
	struct ks_cond progress;	/* flushers: some item finished */
	struct ks_work_fifo queue;
	uint64_t next_ticket;
	unsigned nidle;			/* workers waiting on `more` */
	unsigned nflushers;		/* threads waiting on `progress` */
	bool stopping;
	unsigned nthreads;
	struct ks_worker workers[];
};

static struct ks_work *ks_work_of(struct ks_llist_node *node)
{
	return ks_container_of(node, struct ks_work, node);
}

static void ks_fifo_push(struct ks_work_fifo *f, struct ks_work *w)
{
	w->node.next = NULL;
	if (f->tail)
		f->tail->next = &w->node;
	else
		f->head = &w->node;
	f->tail = &w->node;
}

static struct ks_work *ks_fifo_pop(struct ks_work_fifo *f)
{
	struct ks_llist_node *n = f->head;

	if (!n)
		return NULL;
	f->head = n->next;
	if (!f->head)
		f->tail = NULL;
	return ks_work_of(n);
}

static bool ks_fifo_older(const struct ks_work_fifo *f, uint64_t *oldest)
{
	if (!f->head)
		return false;
	if (ks_work_of(f->head)->ticket < *oldest)
		*oldest = ks_work_of(f->head)->ticket;
	return true;
}

/* The ticket of the oldest item queued or running (next_ticket if none). Lock held. */
static uint64_t ks_workqueue_oldest(struct ks_workqueue *wq)
{
	uint64_t oldest = wq->next_ticket;
	unsigned i;

	ks_fifo_older(&wq->queue, &oldest);
	for (i = 0; i < wq->nthreads; i++) {
		struct ks_worker *o = &wq->workers[i];

		if (o->current && o->current_ticket < oldest)
			oldest = o->current_ticket;
		ks_fifo_older(&o->scheduled, &oldest);
	}
	return oldest;
}

/*
 * The next item for `me` from the shared queue, or NULL. An item that another worker is still
 * running goes to that worker's scheduled list instead: one item never runs twice at once.
 */
static struct ks_work *ks_workqueue_take(struct ks_workqueue *wq, struct ks_worker *me)
{
	struct ks_work *w;

	while ((w = ks_fifo_pop(&wq->queue))) {
		struct ks_worker *runner = NULL;
		unsigned i;

		for (i = 0; i < wq->nthreads && !runner; i++)
			if (&wq->workers[i] != me && wq->workers[i].current == w)
				runner = &wq->workers[i];
		if (!runner)
			return w;
		ks_fifo_push(&runner->scheduled, w);
	}
	return NULL;
}

static void *ks_worker_main(void *arg)
{
	struct ks_worker *me = arg;
	struct ks_workqueue *wq = me->wq;

	atomic_store_explicit(&me->tid, ks_self_tid(), memory_order_relaxed);
	ks_mutex_lock(&wq->lock);
	for (;;) {
		struct ks_work *w = ks_fifo_pop(&me->scheduled);
		void (*fn)(struct ks_work *);

		while (!w && !(w = ks_workqueue_take(wq, me)) && !wq->stopping) {
			wq->nidle++;
			ks_cond_wait(&wq->more, &wq->lock);
			wq->nidle--;
		}
		if (!w)
			break;
		me->current = w;
		me->current_ticket = w->ticket;
		fn = w->fn;
		ks_mutex_unlock(&wq->lock);

		/* acq_rel: pairs with the fetch_or in ks_workqueue_queue(): a queuer that found
		 * the item pending wrote its data before, and this run sees it */
		atomic_exchange_explicit(&w->pending, 0, memory_order_acq_rel);
		fn(w);		/* from here on, w may be freed or queued again */

		ks_mutex_lock(&wq->lock);
		me->current = NULL;
		if (wq->nflushers)
			ks_cond_broadcast(&wq->progress);
	}
	ks_mutex_unlock(&wq->lock);
	return NULL;
}

static void ks_workqueue_stop(struct ks_workqueue *wq, unsigned started)
{
	unsigned i;

	ks_mutex_lock(&wq->lock);
	wq->stopping = true;
	ks_cond_broadcast(&wq->more);
	ks_mutex_unlock(&wq->lock);
	for (i = 0; i < started; i++)
		ks_thread_join(&wq->workers[i].thread, NULL);
	/* flushers still inside (woken, not yet out) leave before the memory goes */
	ks_mutex_lock(&wq->lock);
	while (wq->nflushers)
		ks_cond_wait(&wq->progress, &wq->lock);
	ks_mutex_unlock(&wq->lock);
	free(wq);
}

int ks_workqueue_create(struct ks_workqueue **wqp, unsigned nthreads)
{
	struct ks_workqueue *wq;
	unsigned i;

	if (!wqp || nthreads == 0 || nthreads > KS_WORKQUEUE_MAX_THREADS)
		return -EINVAL;
	wq = calloc(1, sizeof(*wq) + nthreads * sizeof(wq->workers[0]));
	if (!wq)
		return -ENOMEM;
	ks_mutex_init(&wq->lock, 0);
	ks_cond_init(&wq->more, 0);
	ks_cond_init(&wq->progress, 0);
	wq->nthreads = nthreads;
	for (i = 0; i < nthreads; i++) {
		int r;

		wq->workers[i].wq = wq;
		r = ks_thread_start(&wq->workers[i].thread, ks_worker_main, &wq->workers[i]);
		if (r) {
			ks_workqueue_stop(wq, i);
			return r;
		}
	}
	*wqp = wq;
	return 0;
}

/* Lock held: links a claimed item that nobody has linked yet (see ks_workqueue_queue()). */
static void ks_workqueue_link(struct ks_workqueue *wq, struct ks_work *work)
{
	uint32_t s = atomic_load_explicit(&work->pending, memory_order_relaxed);

	if (s != KS_WORK_PENDING)
		return;		/* linked already, or taken by a worker since */
	work->ticket = wq->next_ticket++;
	ks_fifo_push(&wq->queue, work);
	/*
	 * release: a queuer that sees LINKED returns false at once and may flush; its acquire
	 * puts this lock hold, and the ticket, before that flush. (A worker can clear the bits
	 * only after taking the item, so only after we unlock.)
	 */
	atomic_fetch_or_explicit(&work->pending, KS_WORK_LINKED, memory_order_release);
	if (wq->nidle)
		ks_cond_signal(&wq->more);
}

bool ks_workqueue_queue(struct ks_workqueue *wq, struct ks_work *work)
{
	uint32_t old;

	if (!wq || !work || !work->fn)
		return false;
	/*
	 * acq_rel: pairs with the worker's exchange that clears the bits: what the caller wrote
	 * before this call is seen by the run that clears them, which starts after this point.
	 */
	old = atomic_fetch_or_explicit(&work->pending, KS_WORK_PENDING, memory_order_acq_rel);
	if (old & KS_WORK_LINKED)
		return false;	/* listed, or taken and not started: flush sees its ticket */
	/*
	 * Claimed (by us, or by a queuer that has not linked it yet): the first queuer to take the
	 * lock links it, so that neither returns before the item is where a flush can see it.
	 */
	ks_inject("workqueue.queue");
	ks_mutex_lock(&wq->lock);
	ks_workqueue_link(wq, work);
	ks_mutex_unlock(&wq->lock);
	return !(old & KS_WORK_PENDING);
}

/* True if the caller is one of wq's workers. */
static bool ks_workqueue_is_worker(const struct ks_workqueue *wq)
{
	int self = ks_self_tid();
	unsigned i;

	for (i = 0; i < wq->nthreads; i++)
		if (atomic_load_explicit(&((struct ks_workqueue *)wq)->workers[i].tid,
					 memory_order_relaxed) == self)
			return true;
	return false;
}

int ks_workqueue_flush(struct ks_workqueue *wq)
{
	uint64_t target;

	if (!wq)
		return -EINVAL;
	if (ks_workqueue_is_worker(wq))
		return -EDEADLK;
	ks_mutex_lock(&wq->lock);
	target = wq->next_ticket;
	wq->nflushers++;
	ks_cond_wait_event(&wq->progress, &wq->lock, ks_workqueue_oldest(wq) >= target);
	/* a destroy that ran our work waits for the flushers to leave: the last one tells it */
	if (--wq->nflushers == 0 && wq->stopping)
		ks_cond_broadcast(&wq->progress);
	ks_mutex_unlock(&wq->lock);	/* the last access: destroy may free wq from here on */
	return 0;
}

int ks_workqueue_destroy(struct ks_workqueue *wq)
{
	if (!wq)
		return -EINVAL;
	if (ks_workqueue_is_worker(wq))
		return -EDEADLK;
	ks_workqueue_stop(wq, wq->nthreads);
	return 0;
}

unsigned ks_workqueue_nthreads(const struct ks_workqueue *wq)
{
	return wq ? wq->nthreads : 0;
}
