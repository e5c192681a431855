/* SPDX-License-Identifier: MIT */
/*
 * Inside the downloader's engine: one run, its jobs, its hosts and its workers, shared by the
 * engine's files, one concern each:
 *
 *	run.c		fetch_run(): the output folder, then prepare, work, count, tear down
 *	prepare.c	each URL → its file name and its host, duplicates and existing files
 *	workers.c	the worker threads and the work queue that feeds them
 *	download.c	one URL, all or nothing: the attempts, the resume, the commit
 *	transfer.c	one attempt: the libcurl easy handle and its callbacks
 *	retry.c		what an attempt's end means, and how long to wait before the next
 *	share.c		the libcurl share handle and its locks
 *	tmpfile.c	the anonymous (or unpredictably named) temporary file
 *	progress.c	the monitor thread, the progress line and the per-file lines
 */
#ifndef KSYNC_FETCH_RUN_H
#define KSYNC_FETCH_RUN_H

#include "fetch.h"
#include "queue.h"

#include <ksync/event.h>
#include <ksync/mutex.h>
#include <ksync/sem.h>
#include <ksync/thread.h>

#include <curl/curl.h>

#define HOST_KEY_MAX	300
#define VALIDATOR_MAX	256	/* an ETag or a Last-Modified date, for If-Range */

struct host {
	struct host *next;
	char key[HOST_KEY_MAX];		/* scheme://host:port */
	struct ks_sem slots;		/* per_host transfers at once */
};

struct job {
	const char *url;
	const char *name;		/* asked for; NULL: from the URL */
	struct host *host;		/* NULL: settled while preparing (res says how) */
	struct fetch_result *res;
};

struct run {
	const struct fetch_options *o;
	unsigned per_host;		/* o->per_host, or the number of workers */
	int dirfd;
	size_t njobs;
	struct job *jobs;
	size_t pending;			/* jobs that need the network */
	struct host *hosts;
	unsigned nhosts;
	CURLSH *share;
	struct ks_mutex share_locks[CURL_LOCK_DATA_LAST];
	struct work_queue queue;
	unsigned workers;		/* threads started */
	struct ks_event abort;		/* interrupted: transfers and backoffs stop */
	struct ks_event finished;	/* every job done: the monitor ends */
	struct ks_mutex out_lock;	/* the per-file lines and the progress line */
	_Atomic unsigned done;
	_Atomic unsigned failed;
	_Atomic uint64_t received;	/* every byte of every attempt: the progress rate */
	int64_t start_ns;
};

/* Where the next attempt starts: 0, or the bytes already in the file and their validator. */
struct resume {
	int64_t from;
	char validator[VALIDATOR_MAX];
};

struct worker {
	struct run *run;
	CURL *curl;
	struct ks_thread thread;
	uint32_t rng;			/* xorshift32: backoff jitter */
	char errbuf[CURL_ERROR_SIZE];
};

/* True once the run is interrupted (a signal turns into the abort event here). */
bool run_interrupted(struct run *r);

/* prepare.c: every job's name and host, refusals, duplicates, existing files. -ENOMEM only. */
int jobs_prepare(struct run *r);
void hosts_free(struct run *r);

/* workers.c: every pending job, on worker threads or (o->jobs == 0) on the calling thread. */
int run_jobs(struct run *r);

/* download.c: one job, all or nothing; the outcome goes in j->res. */
void download(struct worker *w, struct job *j);

/* share.c */
int share_init(struct run *r);
void share_free(struct run *r);

/* progress.c */
void *monitor_main(void *run);
void job_finished(struct run *r, struct job *j);

#endif /* KSYNC_FETCH_RUN_H */
