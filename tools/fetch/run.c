// SPDX-License-Identifier: MIT
/*
 * The downloader's engine: fetch_run() (fetch.h), and the run's life. The calling thread opens
 * the output folder and makes sure it can write there (one clear error up front rather than one
 * per URL), prepares every URL (prepare.c), reports those settled there, starts the monitor
 * thread (progress.c), runs the rest on the workers (workers.c), then counts the results and
 * tears everything down. The engine's files are listed in run.h; the design in docs/fetch.md.
 */
#include "run.h"
#include "tmpfile.h"

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

/* The output folder, created (one level) if missing, and writable: its fd or -errno. */
static int open_outdir(const char *dir, struct fetch_stats *st)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct tmpfile probe;
	int err;

	if (fd < 0 && errno == ENOENT && !mkdir(dir, DIR_MODE))
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		st->cannot = "open the folder";
		return -errno;
	}
	err = tmp_open(fd, &probe);
	if (err) {
		st->cannot = "write in the folder";
		close(fd);
		return err;
	}
	tmp_close(fd, &probe);
	return fd;
}

int fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) ? -EIO : 0;
}

void fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

static bool options_valid(const struct fetch_options *o)
{
	return o->max_size > 0 && o->timeout_ms >= 0 && o->connect_timeout_ms >= 0 &&
	       o->speed_limit >= 0 && o->speed_time_ms >= 0 && o->speed_time_ms % 1000 == 0 &&
	       o->retry_delay_ms >= 0 && o->max_retry_after_ms >= 0;
}

static int prepare_all(struct run *r, const struct fetch_url *urls, struct fetch_result *res)
{
	int err;

	r->jobs = calloc(r->njobs ? r->njobs : 1, sizeof(*r->jobs));
	if (!r->jobs)
		return -ENOMEM;
	for (size_t i = 0; i < r->njobs; i++) {
		r->jobs[i].url = urls[i].url;
		r->jobs[i].name = urls[i].name;
		r->jobs[i].res = &res[i];
	}
	err = share_init(r);
	if (!err)
		err = jobs_prepare(r);
	return err;
}

/* The jobs on the workers, with the monitor thread alongside. */
static int work(struct run *r)
{
	struct ks_thread monitor = KS_THREAD_INIT;
	int err = ks_thread_start(&monitor, monitor_main, r);

	if (err)
		return err;
	for (size_t i = 0; i < r->njobs; i++)
		if (!r->jobs[i].host)
			job_finished(r, &r->jobs[i]);	/* settled while preparing */
	err = run_jobs(r);
	ks_event_set(&r->finished);
	ks_thread_join(&monitor, NULL);
	return err;
}

static void count(struct run *r, const struct fetch_result *results, struct fetch_stats *st)
{
	for (size_t i = 0; i < r->njobs; i++) {
		const struct fetch_result *res = &results[i];

		switch (res->status) {
		case FETCH_SAVED:
			st->saved++;
			st->bytes += res->bytes;
			break;
		case FETCH_SKIPPED:
			st->skipped++;
			break;
		case FETCH_NOT_STARTED:
			st->not_started++;
			break;
		default:
			st->failed++;
		}
	}
	st->workers = r->workers;
	st->hosts = r->nhosts;
	st->per_host = r->per_host;
	st->interrupted = run_interrupted(r);
}

int fetch_run(const struct fetch_options *o, const struct fetch_url *urls, size_t n,
	      struct fetch_result *res, struct fetch_stats *st)
{
	struct run r = { .o = o, .njobs = n };
	int err;

	memset(res, 0, n * sizeof(*res));
	memset(st, 0, sizeof(*st));
	st->cannot = "start";
	if (!options_valid(o))
		return -EINVAL;
	r.per_host = o->per_host ? o->per_host : o->jobs ? o->jobs : 1;
	r.dirfd = open_outdir(o->outdir, st);
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
	count(&r, res, st);
	hosts_free(&r);
	share_free(&r);
	free(r.jobs);
	close(r.dirfd);
	return err;
}
