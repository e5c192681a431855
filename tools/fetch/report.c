// SPDX-License-Identifier: MIT
/*
 * The summary (report.h). URLs and reasons are printed escaped (text.c): neither a URL nor a
 * server's words can drive the terminal.
 */
#include "report.h"
#include "text.h"

#include <ksync/common.h>

void report_run(const char *label, size_t n, const struct fetch_stats *st, bool listed)
{
	double secs = (double)st->elapsed_ns / KS_NSEC_PER_SEC;
	double mib = (double)st->bytes / (1 << 20);

	printf("%s: %u of %zu files, %.2f MiB in %.2f s (%.2f MiB/s)", label, st->saved, n, mib,
	       secs, secs > 0 ? mib / secs : 0.0);
	if (st->skipped)
		printf("; %u skipped (already there)", st->skipped);
	if (st->not_started)
		printf("; %u not started (interrupted)", st->not_started);
	if (st->failed)
		printf("; %u failed%s", st->failed, listed ? " (above)" : ":");
	putchar('\n');
}

void report_failures(const struct fetch_url *urls, size_t n, const struct fetch_result *res)
{
	for (size_t i = 0; i < n; i++) {
		if (res[i].status != FETCH_FAILED)
			continue;
		printf("  ");
		text_print_escaped(stdout, urls[i].url);
		printf(": ");
		text_print_escaped(stdout, res[i].reason);
		putchar('\n');
	}
}

void report_speedup(const struct fetch_stats *seq, const struct fetch_stats *par, size_t n)
{
	if (seq->saved != n || par->saved != n || par->elapsed_ns <= 0) {
		puts("no speedup measured: both runs must download every file");
		return;
	}
	printf("speedup: %.2fx (sequential %.2f s, %u workers %.2f s)\n",
	       (double)seq->elapsed_ns / (double)par->elapsed_ns,
	       (double)seq->elapsed_ns / KS_NSEC_PER_SEC, par->workers,
	       (double)par->elapsed_ns / KS_NSEC_PER_SEC);
}
