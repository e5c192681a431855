/* SPDX-License-Identifier: MIT */
/*
 * The downloader's engine: a list of URLs into a folder, on N worker threads or sequentially,
 * each file all-or-nothing. ksync-fetch (main.c) is its command line; the tests drive it there.
 * The engine's files are listed in run.h; the design is in docs/fetch.md.
 */
#ifndef KSYNC_FETCH_FETCH_H
#define KSYNC_FETCH_FETCH_H

#include "name.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FETCH_REASON_MAX	512
#define FETCH_MAX_REDIRS	5
#define FETCH_BACKOFF_MAX_MS	30000	/* the doubling backoff stops growing here */

struct fetch_options {
	const char *outdir;		/* created (one level) if missing */
	unsigned jobs;			/* worker threads; 0: sequential, on the calling thread */
	unsigned per_host;		/* transfers at once to one scheme://host:port; 0: jobs */
	int64_t connect_timeout_ms;	/* 0: libcurl's own (300 s) */
	int64_t timeout_ms;		/* one attempt, connect to last byte; 0: none */
	int64_t speed_limit;		/* bytes/s: an attempt slower than this for ... */
	int64_t speed_time_ms;		/* ... this long (whole seconds) ends; 0: no such check */
	unsigned retries;		/* after the first attempt, for transient failures */
	int64_t retry_delay_ms;		/* the first backoff; it doubles each retry */
	int64_t max_retry_after_ms;	/* a longer Retry-After fails the download at once */
	int64_t max_size;		/* bytes: a larger file, or as many other bytes, ends it */
	const char *cacert;		/* CA certificates for TLS peers; NULL: the system's */
	const char *const *headers;	/* extra request headers, "Name: value"; NULL-terminated */
	bool skip_existing;		/* a regular file of that name: skipped, not failed */
	bool progress;			/* a live progress line on stderr */
	bool lines;			/* a line per finished file on stdout */
};

/* What to fetch: a URL, and the name to save it under (NULL: the URL's last segment). */
struct fetch_url {
	const char *url;
	const char *name;
};

enum fetch_status {
	FETCH_FAILED,			/* reason says why */
	FETCH_SAVED,
	FETCH_SKIPPED,			/* --skip-existing: the file was there */
	FETCH_NOT_STARTED,		/* the run was interrupted first */
};

struct fetch_result {
	char name[FETCH_NAME_MAX + 1];	/* "" when the URL had no acceptable name */
	char reason[FETCH_REASON_MAX];	/* why it failed; "" otherwise */
	enum fetch_status status;
	unsigned attempts;
	uint64_t bytes;			/* the file's size, once saved */
	bool resumed;			/* an attempt carried on where one before it stopped */
};

struct fetch_stats {
	int64_t elapsed_ns;
	uint64_t bytes;			/* of the files saved */
	unsigned saved, skipped, failed, not_started;
	unsigned workers;		/* threads that ran (0: sequential) */
	unsigned hosts;			/* distinct scheme://host:port */
	unsigned per_host;		/* the per-host limit in force */
	bool interrupted;
	const char *cannot;		/* when fetch_run() fails: what it could not do */
};

/* Set (to 1) by a signal handler: transfers abort, waits end, the run returns early. */
extern atomic_int fetch_interrupted;

/* Once, before any thread starts: 0 or -EIO. */
int fetch_global_init(void);
void fetch_global_cleanup(void);

/*
 * Fetches urls[0 … n-1] into o->outdir; res[i] tells how urls[i] went. 0 once every URL has a
 * result (each may have failed), or a negative errno if the run could not start: -EINVAL for
 * bad options, the folder's error if it cannot be opened or written in, -ENOMEM, or a thread's.
 */
int fetch_run(const struct fetch_options *o, const struct fetch_url *urls, size_t n,
	      struct fetch_result *res, struct fetch_stats *st);

#endif /* KSYNC_FETCH_FETCH_H */
