// SPDX-License-Identifier: MIT
/*
 * What a run shows while it works. On a terminal (stderr), a live line: files done/total, bytes
 * and rate, redrawn by the monitor thread every PROGRESS_TICK_MS; otherwise (or with -v) one
 * plain line on stdout per finished file. Both go under out_lock, so a file's line never cuts
 * the progress line in two. The monitor also turns a signal into the abort event: transfers see
 * it in libcurl's progress callback, and backoffs are timed waits on it.
 */
#include "run.h"
#include "text.h"

#define PROGRESS_TICK_MS	100	/* the progress line's refresh, and the signal poll */

static void draw_progress(struct run *r, bool last)
{
	char got[32], rate[32];
	double secs = (double)(ks_now_ns() - r->start_ns) / KS_NSEC_PER_SEC;
	/* relaxed: statistics */
	uint64_t received = atomic_load_explicit(&r->received, memory_order_relaxed);
	unsigned done = atomic_load_explicit(&r->done, memory_order_relaxed);
	unsigned failed = atomic_load_explicit(&r->failed, memory_order_relaxed);

	text_bytes(got, sizeof(got), (double)received);
	text_bytes(rate, sizeof(rate), secs > 0 ? received / secs : 0);
	fprintf(stderr, "\r\033[K%u/%zu files, %s, %s/s", done, r->njobs, got, rate);
	if (failed)
		fprintf(stderr, ", %u failed", failed);
	fputs(last ? "\n" : "", stderr);
	fflush(stderr);
}

void *monitor_main(void *arg)
{
	struct run *r = arg;

	while (ks_event_wait_timeout(&r->finished, PROGRESS_TICK_MS * KS_NSEC_PER_MSEC)) {
		run_interrupted(r);	/* a signal becomes the abort event */
		if (r->o->progress) {
			ks_mutex_lock(&r->out_lock);
			draw_progress(r, false);
			ks_mutex_unlock(&r->out_lock);
		}
	}
	if (r->o->progress)
		draw_progress(r, true);
	return NULL;
}

static void print_line(const struct job *j)
{
	const struct fetch_result *res = j->res;
	char size[32];

	switch (res->status) {
	case FETCH_SAVED:
		text_bytes(size, sizeof(size), (double)res->bytes);
		printf("ok    %s  %s", res->name, size);
		if (res->attempts > 1)
			printf("  (%u attempts%s)", res->attempts, res->resumed ? ", resumed" : "");
		break;
	case FETCH_SKIPPED:
		printf("skip  %s  (already there)", res->name);
		break;
	default:
		printf("FAIL  ");
		text_print_escaped(stdout, j->url);
		printf(": ");
		text_print_escaped(stdout, res->reason);
	}
	putchar('\n');
	fflush(stdout);
}

void job_finished(struct run *r, struct job *j)
{
	/* relaxed: counters for the progress line; the results are read after the joins */
	atomic_fetch_add_explicit(&r->done, 1, memory_order_relaxed);
	if (j->res->status == FETCH_FAILED)
		atomic_fetch_add_explicit(&r->failed, 1, memory_order_relaxed);
	if (!r->o->lines || j->res->status == FETCH_NOT_STARTED)
		return;
	ks_mutex_lock(&r->out_lock);
	if (r->o->progress)
		fputs("\r\033[K", stderr);
	print_line(j);
	ks_mutex_unlock(&r->out_lock);
}
