/* SPDX-License-Identifier: MIT */
/*
 * One transfer attempt on a worker's libcurl easy handle: the handle's options (set once, for
 * the worker's life), the request's headers, and the callbacks that write the file, count every
 * byte received, and watch for an interruption.
 */
#ifndef KSYNC_FETCH_TRANSFER_H
#define KSYNC_FETCH_TRANSFER_H

#include "run.h"

/* Why the callbacks ended an attempt. */
enum attempt_stop {
	STOP_NONE,
	STOP_FILE_SIZE,			/* the file would exceed max_size */
	STOP_OTHER_SIZE,		/* headers and bodies that are not the file exceed it too */
	STOP_IO,			/* writing the file failed: io_errno */
	STOP_BAD_RANGE,			/* a 206 that does not start where we asked */
};

/* One attempt: what it asked for, what it received, and the file it wrote. */
struct attempt {
	struct worker *w;
	int fd;
	struct resume from;		/* the file holds from.from bytes already; 0: whole */

	/* the response being received: the last one, after any redirects */
	long code;
	bool ranges;			/* Accept-Ranges: bytes, or a 206 */
	long long range_start;		/* Content-Range's first byte; -1: none */
	char etag[VALIDATOR_MAX];	/* a strong ETag, or "" */
	char modified[VALIDATOR_MAX];	/* Last-Modified, or "" */
	bool body_started;		/* the file's bytes began arriving */

	int64_t size;			/* bytes in the file now */
	uint64_t headers;		/* every header byte, every response */
	uint64_t discarded;		/* bodies given to the write callback but not the file */
	uint64_t passed;		/* every byte given to the write callback */
	uint64_t seen;			/* body bytes libcurl counted, redirect bodies included */
	uint64_t hop_seen;		/* of which in the current response */
	enum attempt_stop stop;
	int io_errno;
};

/* The worker's easy handle, set up for the run: 0, -ENOMEM or -EINVAL. */
int transfer_init(struct worker *w, struct run *r);
void transfer_free(struct worker *w);

/* One attempt at url, from a->from, into a->fd; libcurl's result. */
CURLcode transfer_perform(struct worker *w, const char *url, struct attempt *a);

/* The validator that lets the next attempt resume this one's file, or NULL. */
const char *attempt_validator(const struct attempt *a);

#endif /* KSYNC_FETCH_TRANSFER_H */
