// SPDX-License-Identifier: MIT
/*
 * The summary (report.h). URLs are printed escaped (text.c): a URL cannot drive the terminal.
 */
#include "report.h"
#include "text.h"

#include <ksync/common.h>

void report_run(const char *label, size_t n, const struct fetch_stats *st)
{
	double secs = (double)st->elapsed_ns / KS_NSEC_PER_SEC;
	double mib = (double)st->bytes / (1 << 20);

	printf("%s: %u of %zu files, %.2f MiB in %.2f s (%.2f MiB/s)", label, st->ok, n, mib, secs,
	       secs > 0 ? mib / secs : 0.0);
	if (st->failed)
		printf("; %u failed:", st->failed);
	putchar('\n');
}

void report_failures(char *const *urls, size_t n, const struct fetch_result *res)
{
	for (size_t i = 0; i < n; i++) {
		if (res[i].ok)
			continue;
		printf("  ");
		text_print_escaped(stdout, urls[i]);
		printf(": %s\n", res[i].reason);
	}
}

void report_speedup(const struct fetch_stats *seq, const struct fetch_stats *par,
		    unsigned jobs)
{
	if (par->elapsed_ns <= 0)
		return;
	printf("speedup: %.2fx (sequential %.2f s, %u workers %.2f s)\n",
	       (double)seq->elapsed_ns / (double)par->elapsed_ns,
	       (double)seq->elapsed_ns / KS_NSEC_PER_SEC, jobs,
	       (double)par->elapsed_ns / KS_NSEC_PER_SEC);
}
