/* SPDX-License-Identifier: MIT */
/*
 * One transfer attempt on a worker's libcurl easy handle: the handle's options (set once, for
 * the worker's life) and the callbacks that write the body and watch for an interruption.
 */
#ifndef KSYNC_FETCH_TRANSFER_H
#define KSYNC_FETCH_TRANSFER_H

#include "run.h"

/* One attempt's output. */
struct sink {
	struct worker *w;
	int fd;
	uint64_t bytes;
	bool oversize;
	int io_errno;
};

/* The worker's easy handle, set up for the run: 0, -ENOMEM or -EINVAL. */
int transfer_init(struct worker *w, struct run *r);
void transfer_free(struct worker *w);

/* One attempt at url into s->fd; libcurl's result. */
CURLcode transfer_perform(struct worker *w, const char *url, struct sink *s);

#endif /* KSYNC_FETCH_TRANSFER_H */
