// SPDX-License-Identifier: MIT
/*
 * The workers. The calling thread pushes every prepared job into a bounded work queue
 * (queue.c: a ks_mutex and two ks_conds) and closes it; `jobs` worker ks_threads pop and
 * download until the queue is closed and empty. In sequential mode (jobs == 0) the calling
 * thread is the only worker, running the very same download code on one easy handle: a
 * comparison of the two measures threading, nothing else.
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

int run_jobs(struct run *r)
{
	unsigned n = r->o->jobs < r->njobs ? r->o->jobs : (unsigned)r->njobs;
	struct worker *w;
	unsigned started;
	int err;

	if (n == 0)
		return run_sequential(r);
	w = calloc(n, sizeof(*w));
	if (!w)
		return -ENOMEM;
	err = work_queue_init(&r->queue, (size_t)n * QUEUE_PER_WORKER);
	if (err) {
		free(w);
		return err;
	}
	started = start_workers(r, w, n, &err);
	for (size_t i = 0; !err && i < r->njobs; i++)
		work_queue_push(&r->queue, &r->jobs[i]);
	work_queue_close(&r->queue);
	for (unsigned i = 0; i < started; i++) {
		ks_thread_join(&w[i].thread, NULL);
		transfer_free(&w[i]);
	}
	work_queue_free(&r->queue);
	free(w);
	return err;
}
