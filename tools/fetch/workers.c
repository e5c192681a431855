// SPDX-License-Identifier: MIT
/*
 * The workers. The calling thread pushes every pending job into a bounded work queue
 * (queue.c: a ks_mutex and two ks_conds) and closes it; worker ks_threads pop and download
 * until the queue is closed and empty. A worker holds one of its job's host slots (a ks_sem)
 * for each transfer attempt, so no host ever sees more than per_host connections from us.
 * There are never more workers than jobs, nor than hosts × per_host: more could only wait.
 *
 * In sequential mode (jobs == 0) the calling thread is the only worker, running the very same
 * download code on one easy handle: a comparison of the two measures threading, nothing else.
 */
#include "transfer.h"

#include <stdlib.h>

#define QUEUE_PER_WORKER	2	/* the work queue holds this many jobs per worker */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct job *j;

	while ((j = work_queue_pop(&w->run->queue))) {
		download(w, j);
		job_finished(w->run, j);
	}
	return NULL;
}

static int run_sequential(struct run *r)
{
	struct worker w = { .rng = 1 };
	int err = transfer_init(&w, r);

	for (size_t i = 0; !err && i < r->njobs; i++) {
		if (!r->jobs[i].host)
			continue;
		download(&w, &r->jobs[i]);
		job_finished(r, &r->jobs[i]);
	}
	transfer_free(&w);
	return err;
}

/* Starts n workers: how many started (fewer, and *err set, if one failed). */
static unsigned start_workers(struct run *r, struct worker *w, unsigned n, int *err)
{
	unsigned started = 0;

	for (; started < n; started++) {
		w[started].rng = started + 1;
		*err = transfer_init(&w[started], r);
		if (!*err)
			*err = ks_thread_start(&w[started].thread, worker_main, &w[started]);
		if (*err) {
			transfer_free(&w[started]);
			break;
		}
	}
	return started;
}

/* The threads worth starting: no more than jobs, nor than can transfer at once. */
static unsigned workers_wanted(const struct run *r)
{
	uint64_t n = r->o->jobs;

	if (n > r->pending)
		n = r->pending;
	if (n > (uint64_t)r->nhosts * r->per_host)
		n = (uint64_t)r->nhosts * r->per_host;
	return (unsigned)n;
}

int run_jobs(struct run *r)
{
	unsigned n = workers_wanted(r);
	struct worker *w;
	int err;

	if (r->pending == 0)
		return 0;
	if (r->o->jobs == 0)
		return run_sequential(r);
	w = calloc(n, sizeof(*w));
	if (!w)
		return -ENOMEM;
	err = work_queue_init(&r->queue, (size_t)n * QUEUE_PER_WORKER);
	if (err) {
		free(w);
		return err;
	}
	r->workers = start_workers(r, w, n, &err);
	for (size_t i = 0; !err && i < r->njobs; i++)
		if (r->jobs[i].host)
			work_queue_push(&r->queue, &r->jobs[i]);
	work_queue_close(&r->queue);
	for (unsigned i = 0; i < r->workers; i++) {
		ks_thread_join(&w[i].thread, NULL);
		transfer_free(&w[i]);
	}
	work_queue_free(&r->queue);
	free(w);
	return err;
}
