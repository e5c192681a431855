// SPDX-License-Identifier: MIT
/*
 * Command-line values (args.h).
 */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void args_die(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", program_invocation_short_name);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(%s --help for the options)\n", program_invocation_short_name);
	exit(EXIT_USAGE);
}

unsigned long args_count(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		args_die("not a valid number: '%s'", s);
	return v;
}

int64_t args_ms(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v > 1e9)
		args_die("not a valid duration: '%s'", s);
	if (!strcmp(end, "ms"))
		return (int64_t)v;
	if (*end && strcmp(end, "s"))
		args_die("not a valid duration: '%s' (use s or ms)", s);
	return (int64_t)(v * 1000);
}

int64_t args_size(const char *s)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	if (errno || end == s || *s == '-' || (*end && end[!!shift]) || v > (1ull << 40))
		args_die("not a valid size: '%s'", s);
	return (int64_t)(v << shift);
}
