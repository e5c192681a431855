// SPDX-License-Identifier: MIT
/*
 * ksync-fetch's command line (cli.h): the usage text, the option table, the defaults, and the
 * checks that need more than one option. Options and URLs are read in order (getopt's "-"
 * mode), so that "-O NAME" names the URL that follows it.
 */
#include "cli.h"
#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_JOBS		8
#define DEFAULT_CONNECT_MS	10000
#define DEFAULT_RETRIES		3
#define DEFAULT_RETRY_DELAY_MS	250
#define DEFAULT_MAX_RETRY_AFTER	60000
#define DEFAULT_MAX_SIZE	(100ll << 20)
#define DEFAULT_SPEED_LIMIT	1024	/* bytes/s: below this for ... */
#define DEFAULT_SPEED_TIME_MS	30000	/* ... this long, an attempt has stalled */
#define JOBS_MAX		4096
#define RETRIES_MAX		100
#define LOCAL_MAX		100000
#define DURATION_MAX_MS		(1000ll * 1000 * 1000)	/* about 11.6 days */
#define LATENCY_MAX_MS		600000
#define HEADER_MAX		8192

static const char usage[] =
"usage: ksync-fetch [options] [-O NAME] URL...\n"
"       ksync-fetch [options] -i FILE          (a URL a line, and a name if wanted; '-': stdin)\n"
"       ksync-fetch [options] --local N        (N images from a loopback server it starts)\n"
"\n"
"  -o, --output DIR          save into DIR (default: .; with --local: a temporary folder)\n"
"  -O, --output-name NAME    save the URL that follows as NAME\n"
"      --skip-existing       a file already there is skipped, not a failure\n"
"  -j, --jobs N              worker threads (default 8)\n"
"      --per-host N          transfers at once to one host (default: as many as -j)\n"
"      --sequential          one download at a time, on the main thread\n"
"      --compare             sequential, then -j N, into DIR/sequential and DIR/parallel;\n"
"                            prints both times and the speedup\n"
"      --connect-timeout T   (default 10s; 0: libcurl's 300 s)\n"
"      --timeout T           one attempt, whole (default 0: no limit)\n"
"      --speed-limit RATE    bytes/s; an attempt slower than this for --speed-time has\n"
"      --speed-time T        stalled: it ends, and is retried (default 1k for 30s; 0: off)\n"
"      --retries N           retries of transient failures (default 3); resumed if possible\n"
"      --retry-delay T       first backoff, doubled each retry (default 250ms)\n"
"      --max-retry-after T   fail rather than wait longer for Retry-After (default 60s)\n"
"      --max-size SIZE       largest file, and most other bytes an attempt may receive\n"
"                            (default 100M; k, M, G, T suffixes)\n"
"  -H, --header 'NAME: VALUE'  an extra request header (repeatable)\n"
"      --cacert FILE         CA certificates to verify TLS servers with (default: the system's)\n"
"  -q, --quiet               only the summary    -v, --verbose  a line per file on a tty too\n"
"  --local N [--latency T] [--rate RATE] [--side PX]   the loopback server and its settings\n"
"\n"
"Durations T: 1.5, 2s, 300ms. Exit status: 0 all saved (or skipped), 1 some failed or\n"
"interrupted, 2 a usage error or a run that could not start.\n";

enum {
	OPT_SEQUENTIAL = 256, OPT_COMPARE, OPT_PER_HOST, OPT_CONNECT_TIMEOUT, OPT_TIMEOUT,
	OPT_SPEED_LIMIT, OPT_SPEED_TIME, OPT_RETRIES, OPT_RETRY_DELAY, OPT_MAX_RETRY_AFTER,
	OPT_MAX_SIZE, OPT_SKIP_EXISTING, OPT_CACERT, OPT_LOCAL, OPT_LATENCY, OPT_RATE, OPT_SIDE,
};

static const struct option long_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "output-name", required_argument, NULL, 'O' },
	{ "input", required_argument, NULL, 'i' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "header", required_argument, NULL, 'H' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "sequential", no_argument, NULL, OPT_SEQUENTIAL },
	{ "compare", no_argument, NULL, OPT_COMPARE },
	{ "per-host", required_argument, NULL, OPT_PER_HOST },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "speed-limit", required_argument, NULL, OPT_SPEED_LIMIT },
	{ "speed-time", required_argument, NULL, OPT_SPEED_TIME },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-delay", required_argument, NULL, OPT_RETRY_DELAY },
	{ "max-retry-after", required_argument, NULL, OPT_MAX_RETRY_AFTER },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "skip-existing", no_argument, NULL, OPT_SKIP_EXISTING },
	{ "cacert", required_argument, NULL, OPT_CACERT },
	{ "local", required_argument, NULL, OPT_LOCAL },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "side", required_argument, NULL, OPT_SIDE },
	{ NULL, 0, NULL, 0 },
};

/* What parsing remembers between options. */
struct parse_state {
	const char *name;		/* -O NAME waiting for its URL */
	bool sequential, compare;
	const char *server_opt;		/* a --local setting given (checked at the end) */
};

static void defaults(struct cli *c)
{
	*c = (struct cli){
		.o = {
			.outdir = ".",
			.connect_timeout_ms = DEFAULT_CONNECT_MS,
			.speed_limit = DEFAULT_SPEED_LIMIT,
			.speed_time_ms = DEFAULT_SPEED_TIME_MS,
			.retries = DEFAULT_RETRIES,
			.retry_delay_ms = DEFAULT_RETRY_DELAY_MS,
			.max_retry_after_ms = DEFAULT_MAX_RETRY_AFTER,
			.max_size = DEFAULT_MAX_SIZE,
		},
		.jobs = DEFAULT_JOBS,
	};
}

/* "Name: value": a token, a colon, and no line break anywhere (no header injection). */
static void add_header(struct cli *c, const char *h)
{
	size_t name = strcspn(h, ":");
	const char **v;

	if (strlen(h) > HEADER_MAX)
		args_bad("-H", h, "longer than %d bytes", HEADER_MAX);
	if (!name || !h[name] || h[strcspn(h, "\r\n")] || name != strcspn(h, " \t:"))
		args_bad("-H", h, "not a header ('Name: value', on one line)");
	v = realloc(c->headers, (c->nheaders + 2) * sizeof(*v));
	if (!v)
		args_die("out of memory");
	v[c->nheaders++] = h;
	v[c->nheaders] = NULL;
	c->headers = v;
	c->o.headers = v;
}

static void set_cacert(struct cli *c, const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f)
		args_bad("--cacert", path, "cannot read it: %s", strerror(errno));
	fclose(f);
	c->o.cacert = path;
}

static int64_t speed_time(const char *s)
{
	int64_t ms = args_duration_ms("--speed-time", s, DURATION_MAX_MS);

	if (ms % 1000)
		args_bad("--speed-time", s, "whole seconds (libcurl counts this in seconds)");
	return ms;
}

/* The options of the downloads themselves. False if opt is not one of them. */
static bool transfer_option(struct cli *c, int opt, const char *arg)
{
	struct fetch_options *o = &c->o;

	switch (opt) {
	case OPT_PER_HOST: o->per_host = args_count("--per-host", arg, 1, JOBS_MAX); break;
	case OPT_CONNECT_TIMEOUT:
		o->connect_timeout_ms = args_duration_ms("--connect-timeout", arg, DURATION_MAX_MS);
		break;
	case OPT_TIMEOUT:
		o->timeout_ms = args_duration_ms("--timeout", arg, DURATION_MAX_MS);
		break;
	case OPT_SPEED_LIMIT: o->speed_limit = args_size("--speed-limit", arg, 0); break;
	case OPT_SPEED_TIME: o->speed_time_ms = speed_time(arg); break;
	case OPT_RETRIES: o->retries = args_count("--retries", arg, 0, RETRIES_MAX); break;
	case OPT_RETRY_DELAY:
		o->retry_delay_ms = args_duration_ms("--retry-delay", arg, DURATION_MAX_MS);
		break;
	case OPT_MAX_RETRY_AFTER:
		o->max_retry_after_ms = args_duration_ms("--max-retry-after", arg, DURATION_MAX_MS);
		break;
	case OPT_MAX_SIZE: o->max_size = args_size("--max-size", arg, 1); break;
	case OPT_SKIP_EXISTING: o->skip_existing = true; break;
	case OPT_CACERT: set_cacert(c, arg); break;
	case 'H': add_header(c, arg); break;
	default: return false;
	}
	return true;
}

/* --local and its server's settings. False if opt is not one of them. */
static bool server_option(struct cli *c, struct parse_state *ps, int opt, const char *arg)
{
	switch (opt) {
	case OPT_LOCAL: c->local = args_count("--local", arg, 1, LOCAL_MAX); return true;
	case OPT_LATENCY:
		c->srv.latency_ms = (unsigned)args_duration_ms("--latency", arg, LATENCY_MAX_MS);
		ps->server_opt = "--latency";
		return true;
	case OPT_RATE:
		c->srv.rate = (uint64_t)args_size("--rate", arg, 1);
		ps->server_opt = "--rate";
		return true;
	case OPT_SIDE:
		c->srv.side = args_count("--side", arg, IMGSRV_SIDE_MIN, IMGSRV_SIDE_MAX);
		ps->server_opt = "--side";
		return true;
	default:
		return false;
	}
}

/* A URL, named by the -O before it if there was one. */
static void add_url(struct cli *c, struct parse_state *ps, const char *url)
{
	urls_add(&c->urls, url, ps->name);
	ps->name = NULL;
}

/* What getopt could not take: an unknown option, or one without its value. */
static _Noreturn void bad_option(int opt, char **argv)
{
	const char *what = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, '\0' };

	if (optopt > 0 && optopt < 128 && what[0] == '-' && what[1] != '-')
		what = shortopt;
	if (opt == ':')
		args_die("%s needs a value", what);
	args_die("unknown option '%s'", what);
}

static void option(struct cli *c, struct parse_state *ps, int opt, char **argv)
{
	const char *arg = optarg;

	if (ps->name && opt != 1)
		args_die("-O %s must be followed by its URL", ps->name);
	if (transfer_option(c, opt, arg) || server_option(c, ps, opt, arg))
		return;
	switch (opt) {
	case 1: add_url(c, ps, arg); break;
	case 'o': c->o.outdir = arg; c->outdir_given = true; break;
	case 'O': ps->name = arg; break;
	case 'i': urls_read(&c->urls, arg); break;
	case 'j': c->jobs = args_count("-j", arg, 1, JOBS_MAX); break;
	case 'q': c->quiet = true; break;
	case 'v': c->verbose = true; break;
	case 'h': fputs(usage, stdout); exit(0);
	case OPT_SEQUENTIAL: c->mode = MODE_SEQUENTIAL; ps->sequential = true; break;
	case OPT_COMPARE: c->mode = MODE_COMPARE; ps->compare = true; break;
	default: bad_option(opt, argv);
	}
}

/* The checks that need every option. */
static void check(struct cli *c, const struct parse_state *ps)
{
	if (ps->name)
		args_die("-O %s must be followed by its URL", ps->name);
	if (ps->sequential && ps->compare)
		args_die("--sequential and --compare exclude each other");
	if (ps->server_opt && !c->local)
		args_die("%s applies only with --local (the loopback server's settings)",
			 ps->server_opt);
	if (!c->urls.n && !c->local)
		args_die("no URL to fetch");
}

void cli_parse(struct cli *c, int argc, char **argv)
{
	struct parse_state ps = { NULL };
	int opt;

	defaults(c);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "-:o:O:i:j:H:qvh", long_options, NULL)) != -1)
		option(c, &ps, opt, argv);
	for (int i = optind; i < argc; i++)	/* after "--" */
		add_url(c, &ps, argv[i]);
	check(c, &ps);
	c->o.progress = !c->quiet && isatty(STDERR_FILENO);
	c->o.lines = !c->quiet && (c->verbose || !c->o.progress);
}

void cli_free(struct cli *c)
{
	urls_free(&c->urls);
	free(c->headers);
	c->headers = NULL;
}
