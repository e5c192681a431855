// SPDX-License-Identifier: MIT
/*
 * The downloader's engine: fetch_run() (fetch.h), and the run's life. The calling thread opens
 * the output folder, prepares every URL (prepare.c), starts the monitor thread (progress.c),
 * runs the jobs on the workers (workers.c), then counts the results and tears everything down.
 * The files of the engine and what each does are listed in run.h; the design in docs/fetch.md.
 */
#include "run.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_MODE	0755

atomic_int fetch_interrupted;

bool run_interrupted(struct run *r)
{
	/* relaxed: a flag written by a signal handler; curl polls it, nothing is published */
	if (atomic_load_explicit(&fetch_interrupted, memory_order_relaxed))
		ks_event_set(&r->abort);
	return ks_event_is_set(&r->abort);
}

static int open_outdir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && !mkdir(dir, DIR_MODE))
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) ? -EIO : 0;
}

void fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

static int prepare_all(struct run *r, const char *const *urls, struct fetch_result *res)
{
	int err;

	r->jobs = calloc(r->njobs ? r->njobs : 1, sizeof(*r->jobs));
	err = r->jobs ? share_init(r) : -ENOMEM;
	for (size_t i = 0; !err && i < r->njobs; i++) {
		r->jobs[i].url = urls[i];
		r->jobs[i].res = &res[i];
		err = job_prepare(r, &r->jobs[i]);
	}
	return err;
}

/* The jobs on the workers, with the monitor thread alongside. */
static int work(struct run *r)
{
	struct ks_thread monitor = KS_THREAD_INIT;
	int err = ks_thread_start(&monitor, monitor_main, r);

	if (err)
		return err;
	err = run_jobs(r);
	ks_event_set(&r->finished);
	ks_thread_join(&monitor, NULL);
	return err;
}

static void count(const struct fetch_result *res, size_t n, struct fetch_stats *st)
{
	for (size_t i = 0; i < n; i++) {
		if (res[i].ok) {
			st->ok++;
			st->bytes += res[i].bytes;
		} else {
			st->failed++;
		}
	}
}

int fetch_run(const struct fetch_options *o, const char *const *urls, size_t n,
	      struct fetch_result *res, struct fetch_stats *st)
{
	struct run r = { .o = o, .njobs = n };
	int err;

	if (o->per_host == 0 || o->max_size < 0 || o->timeout_ms < 0 || o->connect_timeout_ms < 0)
		return -EINVAL;
	memset(res, 0, n * sizeof(*res));
	memset(st, 0, sizeof(*st));
	r.dirfd = open_outdir(o->outdir);
	if (r.dirfd < 0)
		return r.dirfd;
	ks_event_init(&r.abort, 0);
	ks_event_init(&r.finished, 0);
	ks_mutex_init(&r.out_lock, 0);
	err = prepare_all(&r, urls, res);
	r.start_ns = ks_now_ns();
	if (!err)
		err = work(&r);
	st->elapsed_ns = ks_now_ns() - r.start_ns;
	count(res, n, st);
	hosts_free(&r);
	share_free(&r);
	free(r.jobs);
	close(r.dirfd);
	return err;
}
