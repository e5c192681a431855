// SPDX-License-Identifier: MIT
/*
 * ksync-fetch's command line (cli.h): the usage text, the option table, the defaults, and the
 * checks that need more than one option.
 */
#include "cli.h"
#include "args.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define DEFAULT_JOBS		8
#define DEFAULT_PER_HOST	8
#define DEFAULT_CONNECT_MS	10000
#define DEFAULT_TIMEOUT_MS	120000
#define DEFAULT_RETRIES		3
#define DEFAULT_RETRY_DELAY_MS	250
#define DEFAULT_MAX_RETRY_AFTER	60
#define DEFAULT_MAX_SIZE	(100ll << 20)
#define JOBS_MAX		4096
#define RETRIES_MAX		100
#define LOCAL_MAX		100000
#define SIDE_MAX		1024

static const char usage[] =
"usage: ksync-fetch [options] URL...\n"
"       ksync-fetch [options] -i FILE          (one URL a line; '-' reads stdin)\n"
"       ksync-fetch [options] --local N        (N images from a loopback server it starts)\n"
"\n"
"  -o, --output DIR         save into DIR (default: .; with --local: a temporary folder)\n"
"  -j, --jobs N             worker threads (default 8)\n"
"      --sequential         one download at a time, on the main thread\n"
"      --compare            sequential, then -j N, into DIR/sequential and DIR/parallel;\n"
"                           prints both times and the speedup\n"
"      --per-host N         connections at once to one host (default 8)\n"
"      --connect-timeout T  (default 10s)   --timeout T  one attempt, whole (default 120s)\n"
"      --retries N          retries of transient failures (default 3)\n"
"      --retry-delay T      first backoff, doubled each retry (default 250ms)\n"
"      --max-retry-after T  fail rather than wait longer for Retry-After (default 60s)\n"
"      --max-size SIZE      abort bodies larger than SIZE (default 100M; k, M, G suffixes)\n"
"  -q, --quiet              only the summary     -v, --verbose  a line per file on a tty too\n"
"  --local N [--latency T] [--rate BYTES/s] [--side PX]   the loopback server's settings\n"
"\n"
"Durations T: 1.5, 2s, 300ms. Exit status: 0 all saved, 1 some failed, 2 usage or setup.\n";

enum {
	OPT_SEQUENTIAL = 256, OPT_COMPARE, OPT_PER_HOST, OPT_CONNECT_TIMEOUT, OPT_TIMEOUT,
	OPT_RETRIES, OPT_RETRY_DELAY, OPT_MAX_RETRY_AFTER, OPT_MAX_SIZE, OPT_LOCAL, OPT_LATENCY,
	OPT_RATE, OPT_SIDE,
};

static const struct option long_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "input", required_argument, NULL, 'i' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "sequential", no_argument, NULL, OPT_SEQUENTIAL },
	{ "compare", no_argument, NULL, OPT_COMPARE },
	{ "per-host", required_argument, NULL, OPT_PER_HOST },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-delay", required_argument, NULL, OPT_RETRY_DELAY },
	{ "max-retry-after", required_argument, NULL, OPT_MAX_RETRY_AFTER },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "local", required_argument, NULL, OPT_LOCAL },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "side", required_argument, NULL, OPT_SIDE },
	{ NULL, 0, NULL, 0 },
};

static void defaults(struct cli *c)
{
	*c = (struct cli){
		.o = {
			.outdir = ".",
			.per_host = DEFAULT_PER_HOST,
			.connect_timeout_ms = DEFAULT_CONNECT_MS,
			.timeout_ms = DEFAULT_TIMEOUT_MS,
			.retries = DEFAULT_RETRIES,
			.retry_delay_ms = DEFAULT_RETRY_DELAY_MS,
			.max_retry_after_s = DEFAULT_MAX_RETRY_AFTER,
			.max_size = DEFAULT_MAX_SIZE,
		},
		.jobs = DEFAULT_JOBS,
	};
}

/* One option; false for an unknown one. */
static bool option(struct cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 'o': c->o.outdir = arg; c->outdir_given = true; break;
	case 'i': urls_read(&c->urls, arg); break;
	case 'j': c->jobs = (unsigned)args_count(arg, JOBS_MAX); break;
	case 'q': c->quiet = true; break;
	case 'v': c->verbose = true; break;
	case 'h': fputs(usage, stdout); exit(0);
	case OPT_SEQUENTIAL: c->mode = MODE_SEQUENTIAL; break;
	case OPT_COMPARE: c->mode = MODE_COMPARE; break;
	case OPT_PER_HOST: c->o.per_host = (unsigned)args_count(arg, JOBS_MAX); break;
	case OPT_CONNECT_TIMEOUT: c->o.connect_timeout_ms = args_ms(arg); break;
	case OPT_TIMEOUT: c->o.timeout_ms = args_ms(arg); break;
	case OPT_RETRIES: c->o.retries = (unsigned)args_count(arg, RETRIES_MAX); break;
	case OPT_RETRY_DELAY: c->o.retry_delay_ms = args_ms(arg); break;
	case OPT_MAX_RETRY_AFTER: c->o.max_retry_after_s = args_ms(arg) / 1000; break;
	case OPT_MAX_SIZE: c->o.max_size = args_size(arg); break;
	case OPT_LOCAL: c->local = (unsigned)args_count(arg, LOCAL_MAX); break;
	case OPT_LATENCY: c->srv.latency_ms = (unsigned)args_ms(arg); break;
	case OPT_RATE: c->srv.rate = (uint64_t)args_size(arg); break;
	case OPT_SIDE: c->srv.side = (unsigned)args_count(arg, SIDE_MAX); break;
	default: return false;
	}
	return true;
}

void cli_parse(struct cli *c, int argc, char **argv)
{
	bool sequential = false, compare = false;
	int opt;

	defaults(c);
	while ((opt = getopt_long(argc, argv, "o:i:j:qvh", long_options, NULL)) != -1) {
		if (!option(c, opt, optarg)) {
			fputs(usage, stderr);
			exit(EXIT_USAGE);
		}
		sequential |= opt == OPT_SEQUENTIAL;
		compare |= opt == OPT_COMPARE;
	}
	if (c->jobs == 0 || c->o.per_host == 0)
		args_die("%s", "-j and --per-host need at least 1");
	if (sequential && compare)
		args_die("%s", "--sequential and --compare exclude each other");
	for (int i = optind; i < argc; i++)
		urls_add(&c->urls, argv[i]);
	if (!c->urls.n && !c->local)
		args_die("%s", "no URL to fetch");
	c->o.progress = !c->quiet && isatty(STDERR_FILENO);
	c->o.lines = !c->quiet && (c->verbose || !c->o.progress);
}
