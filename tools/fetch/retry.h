/* SPDX-License-Identifier: MIT */
/*
 * After an attempt: done, worth retrying, or failed for good; and how long to wait first.
 */
#ifndef KSYNC_FETCH_RETRY_H
#define KSYNC_FETCH_RETRY_H

#include "transfer.h"

enum outcome {
	DONE,
	RETRY,			/* transient: again, resuming the file if the attempt allows */
	RETRY_AFRESH,		/* transient, and the file must start over */
	FAIL,
};

/* Classifies one attempt; unless DONE, res->reason says why. */
enum outcome attempt_outcome(struct worker *w, CURLcode rc, const struct attempt *a,
			     struct fetch_result *res);

/* The wait before retry k (0-based), in ms; -1 if the server asks for too long a wait. */
int64_t backoff_ms(struct worker *w, unsigned k, struct fetch_result *res);

#endif /* KSYNC_FETCH_RETRY_H */
