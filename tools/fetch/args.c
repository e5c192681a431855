// SPDX-License-Identifier: MIT
/*
 * Command-line values (args.h).
 */
#include "args.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void vdie(const char *opt, const char *value, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", program_invocation_short_name);
	if (opt) {
		fprintf(stderr, "%s '", opt);
		text_print_escaped(stderr, value);
		fputs("': ", stderr);
	}
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(%s --help for the options)\n", program_invocation_short_name);
	exit(EXIT_USAGE);
}

void args_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(NULL, NULL, fmt, ap);
}

void args_bad(const char *opt, const char *value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(opt, value, fmt, ap);
}

unsigned long args_count(const char *opt, const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end)
		args_bad(opt, s, "not a whole number");
	if (errno || v > max)
		args_bad(opt, s, "at most %lu", max);
	if (v < min)
		args_bad(opt, s, "at least %lu", min);
	return v;
}

int64_t args_duration_ms(const char *opt, const char *s, int64_t max_ms)
{
	char *end;
	double v, ms;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0 || (*end && strcmp(end, "s") && strcmp(end, "ms")))
		args_bad(opt, s, "not a duration (1.5, 2s or 300ms; without a unit, seconds)");
	ms = strcmp(end, "ms") ? v * 1000 : v;
	if (errno || ms > (double)max_ms)
		args_bad(opt, s, "at most %lld s", (long long)(max_ms / 1000));
	if (ms > 0 && ms < 0.5)
		args_bad(opt, s, "shorter than 1 ms");
	return (int64_t)(ms + 0.5);
}

int64_t args_size(const char *opt, const char *s, int64_t min)
{
	static const char units[] = "kMGT";
	char *end;
	unsigned long long v;
	const char *u;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	u = *end ? strchr(units, *end == 'K' ? 'k' : *end) : NULL;
	if (u)
		shift = 10 * (int)(u - units + 1);
	if (*s < '0' || *s > '9' || (*end && (!u || end[1])))
		args_bad(opt, s, "not a size (bytes, or with k, M, G or T: KiB, MiB, GiB, TiB)");
	if (errno || v > (unsigned long long)INT64_MAX >> shift)
		args_bad(opt, s, "too large (at most %lld bytes)", (long long)INT64_MAX);
	if ((int64_t)(v << shift) < min)
		args_bad(opt, s, "at least %lld", (long long)min);
	return (int64_t)(v << shift);
}
