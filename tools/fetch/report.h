/* SPDX-License-Identifier: MIT */
/*
 * The summary that ends every run: counts, bytes, time and rate, and each failed URL with its
 * reason; for --compare, the speedup.
 */
#ifndef KSYNC_FETCH_REPORT_H
#define KSYNC_FETCH_REPORT_H

#include "fetch.h"

void report_run(const char *label, size_t n, const struct fetch_stats *st);
void report_failures(char *const *urls, size_t n, const struct fetch_result *res);
void report_speedup(const struct fetch_stats *seq, const struct fetch_stats *par,
		    unsigned jobs);

#endif /* KSYNC_FETCH_REPORT_H */
