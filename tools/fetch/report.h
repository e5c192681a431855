/* SPDX-License-Identifier: MIT */
/*
 * The summary that ends every run: a line of counts, bytes, time and rate; then each failed
 * URL with its reason, unless the per-file lines already showed them; for --compare, the
 * speedup, when both runs saved every URL.
 */
#ifndef KSYNC_FETCH_REPORT_H
#define KSYNC_FETCH_REPORT_H

#include "fetch.h"

void report_run(const char *label, size_t n, const struct fetch_stats *st, bool listed);
void report_failures(const struct fetch_url *urls, size_t n, const struct fetch_result *res);
void report_speedup(const struct fetch_stats *seq, const struct fetch_stats *par, size_t n);

#endif /* KSYNC_FETCH_REPORT_H */
