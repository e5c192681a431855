/* SPDX-License-Identifier: MIT */
/*
 * After an attempt: done, worth retrying, or failed for good; and how long to wait first.
 */
#ifndef KSYNC_FETCH_RETRY_H
#define KSYNC_FETCH_RETRY_H

#include "transfer.h"

enum outcome { DONE, RETRY, FAIL };

/* Classifies one attempt; on RETRY or FAIL, res->reason says why. */
enum outcome attempt_outcome(struct worker *w, CURLcode rc, const struct sink *s,
			     struct fetch_result *res);

/* The wait before retry k (0-based), in ms; -1 if the server asks for too long a wait. */
int64_t backoff_ms(struct worker *w, unsigned k, struct fetch_result *res);

#endif /* KSYNC_FETCH_RETRY_H */
