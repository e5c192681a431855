// SPDX-License-Identifier: MIT
/*
 * ksync-fetch: download URLs into a folder with N threads, robustly. The command line around
 * fetch.c; --local starts the loopback image server (imgserver.c) in-process, for a demo or a
 * trial without a network. See docs/fetch.md, or ksync-fetch --help.
 *
 * Exit status: 0 if every URL was saved, 1 if any failed (the summary lists each with its
 * reason), 2 on a usage error or if nothing could run.
 */
#include "fetch.h"
#include "imgserver.h"

#include <ksync/common.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_JOBS		8
#define DEFAULT_PER_HOST	8
#define DEFAULT_CONNECT_MS	10000
#define DEFAULT_TIMEOUT_MS	120000
#define DEFAULT_RETRIES		3
#define DEFAULT_RETRY_DELAY_MS	250
#define DEFAULT_MAX_RETRY_AFTER	60
#define DEFAULT_MAX_SIZE	(100ll << 20)
#define LOCAL_URL_MAX		64
#define NFTW_FDS		16
#define EXIT_SOME_FAILED	1
#define EXIT_USAGE		2

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

struct urls {
	char **v;
	size_t n, cap;
};

static void die_usage(const char *fmt, const char *arg)
{
	fputs("ksync-fetch: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(ksync-fetch --help for the options)\n", stderr);
	exit(EXIT_USAGE);
}

/* A count: a non-negative integer up to max. */
static unsigned long parse_count(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		die_usage("not a valid number: '%s'", s);
	return v;
}

/* A duration in ms: "1.5" and "2s" are seconds, "300ms" milliseconds. */
static int64_t parse_ms(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v > 1e9)
		die_usage("not a valid duration: '%s'", s);
	if (!strcmp(end, "ms"))
		return (int64_t)v;
	if (*end && strcmp(end, "s"))
		die_usage("not a valid duration: '%s' (use s or ms)", s);
	return (int64_t)(v * 1000);
}

/* A size in bytes, with an optional k, M or G (powers of 1024). */
static int64_t parse_size(const char *s)
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
		die_usage("not a valid size: '%s'", s);
	return (int64_t)(v << shift);
}

static void urls_add(struct urls *u, const char *url)
{
	if (u->n == u->cap) {
		u->cap = u->cap ? 2 * u->cap : 64;
		u->v = realloc(u->v, u->cap * sizeof(*u->v));
	}
	if (!u->v || !(u->v[u->n++] = strdup(url))) {
		fputs("ksync-fetch: out of memory\n", stderr);
		exit(EXIT_USAGE);
	}
}

/* One URL a line; blank lines and lines starting with '#' are skipped. */
static void urls_read(struct urls *u, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		die_usage("cannot read '%s'", path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *p = line;

		while (len > 0 && strchr(" \t\r\n", line[len - 1]))
			line[--len] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '#')
			urls_add(u, p);
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

static void on_signal(int sig)
{
	(void)sig;
	/* relaxed: the monitor thread polls it (fetch.c) */
	atomic_store_explicit(&fetch_interrupted, 1, memory_order_relaxed);
}

static void signals_setup(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* a second ^C kills at once */
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void print_run(const char *label, size_t n, const struct fetch_stats *st)
{
	double secs = (double)st->elapsed_ns / KS_NSEC_PER_SEC;
	double mib = (double)st->bytes / (1 << 20);

	printf("%s: %u of %zu files, %.2f MiB in %.2f s (%.2f MiB/s)", label, st->ok, n, mib, secs,
	       secs > 0 ? mib / secs : 0.0);
	if (st->failed)
		printf("; %u failed:", st->failed);
	putchar('\n');
}

static void print_failures(char *const *urls, size_t n, const struct fetch_result *res)
{
	for (size_t i = 0; i < n; i++) {
		if (res[i].ok)
			continue;
		printf("  ");
		fetch_print_escaped(stdout, urls[i]);
		printf(": %s\n", res[i].reason);
	}
}

/* One run into dir; false if it could not run or any URL failed. */
static bool run_once(struct fetch_options o, const char *dir, unsigned jobs, const char *label,
		     const struct urls *u, struct fetch_stats *st)
{
	struct fetch_result *res = calloc(u->n, sizeof(*res));
	int err;

	o.outdir = dir;
	o.jobs = jobs;
	if (!res) {
		fputs("ksync-fetch: out of memory\n", stderr);
		return false;
	}
	err = fetch_run(&o, (const char *const *)u->v, u->n, res, st);
	if (err) {
		fprintf(stderr, "ksync-fetch: %s: %s\n", dir, strerror(-err));
		free(res);
		st->failed = (unsigned)u->n;
		return false;
	}
	print_run(label, u->n, st);
	print_failures(u->v, u->n, res);
	fflush(stdout);
	free(res);
	return st->failed == 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* The temporary folder made for --local without -o, and what was saved in it. */
static void remove_tree(const char *dir)
{
	if (nftw(dir, remove_entry, NFTW_FDS, FTW_DEPTH | FTW_PHYS))
		fprintf(stderr, "ksync-fetch: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	struct fetch_options o = {
		.outdir = ".",
		.per_host = DEFAULT_PER_HOST,
		.connect_timeout_ms = DEFAULT_CONNECT_MS,
		.timeout_ms = DEFAULT_TIMEOUT_MS,
		.retries = DEFAULT_RETRIES,
		.retry_delay_ms = DEFAULT_RETRY_DELAY_MS,
		.max_retry_after_s = DEFAULT_MAX_RETRY_AFTER,
		.max_size = DEFAULT_MAX_SIZE,
	};
	struct imgsrv_config srv_cfg = { 0 };
	struct imgsrv *srv = NULL;
	struct urls u = { 0 };
	unsigned jobs = DEFAULT_JOBS, local = 0;
	bool sequential = false, compare = false, quiet = false, verbose = false, ok;
	bool outdir_given = false;
	char tmpdir[] = "/tmp/ksync-fetch.XXXXXX";
	struct fetch_stats seq, par;
	int c;

	while ((c = getopt_long(argc, argv, "o:i:j:qvh", long_options, NULL)) != -1) {
		switch (c) {
		case 'o': o.outdir = optarg; outdir_given = true; break;
		case 'i': urls_read(&u, optarg); break;
		case 'j': jobs = (unsigned)parse_count(optarg, 4096); break;
		case 'q': quiet = true; break;
		case 'v': verbose = true; break;
		case 'h': fputs(usage, stdout); return 0;
		case OPT_SEQUENTIAL: sequential = true; break;
		case OPT_COMPARE: compare = true; break;
		case OPT_PER_HOST: o.per_host = (unsigned)parse_count(optarg, 4096); break;
		case OPT_CONNECT_TIMEOUT: o.connect_timeout_ms = parse_ms(optarg); break;
		case OPT_TIMEOUT: o.timeout_ms = parse_ms(optarg); break;
		case OPT_RETRIES: o.retries = (unsigned)parse_count(optarg, 100); break;
		case OPT_RETRY_DELAY: o.retry_delay_ms = parse_ms(optarg); break;
		case OPT_MAX_RETRY_AFTER: o.max_retry_after_s = parse_ms(optarg) / 1000; break;
		case OPT_MAX_SIZE: o.max_size = parse_size(optarg); break;
		case OPT_LOCAL: local = (unsigned)parse_count(optarg, 100000); break;
		case OPT_LATENCY: srv_cfg.latency_ms = (unsigned)parse_ms(optarg); break;
		case OPT_RATE: srv_cfg.rate = (uint64_t)parse_size(optarg); break;
		case OPT_SIDE: srv_cfg.side = (unsigned)parse_count(optarg, 1024); break;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (jobs == 0 || o.per_host == 0)
		die_usage("%s", "-j and --per-host need at least 1");
	if (sequential && compare)
		die_usage("%s", "--sequential and --compare exclude each other");
	for (int i = optind; i < argc; i++)
		urls_add(&u, argv[i]);
	if (!u.n && !local)
		die_usage("%s", "no URL to fetch");
	o.progress = !quiet && isatty(STDERR_FILENO);
	o.lines = !quiet && (verbose || !o.progress);

	signals_setup();
	if (fetch_global_init()) {
		fputs("ksync-fetch: libcurl failed to initialise\n", stderr);
		return EXIT_USAGE;
	}
	if (local) {
		int err;

		srv_cfg.count = local;
		err = imgsrv_start(&srv, &srv_cfg);
		if (err) {
			fprintf(stderr, "ksync-fetch: loopback server: %s\n", strerror(-err));
			return EXIT_USAGE;
		}
		for (unsigned i = 0; i < local; i++) {
			char url[LOCAL_URL_MAX];

			snprintf(url, sizeof(url), "http://127.0.0.1:%u/img/%u.png",
				 imgsrv_port(srv), i);
			urls_add(&u, url);
		}
		printf("loopback server on http://127.0.0.1:%u/: %u images, %u ms latency\n",
		       imgsrv_port(srv), local, srv_cfg.latency_ms);
		if (!outdir_given) {
			if (!mkdtemp(tmpdir)) {
				perror("ksync-fetch: mkdtemp");
				return EXIT_USAGE;
			}
			o.outdir = tmpdir;
		}
	}

	if (compare) {
		char dseq[PATH_MAX], dpar[PATH_MAX], label[64];

		snprintf(dseq, sizeof(dseq), "%s/sequential", o.outdir);
		snprintf(dpar, sizeof(dpar), "%s/parallel", o.outdir);
		snprintf(label, sizeof(label), "parallel (%u workers)", jobs);
		if (mkdir(o.outdir, 0755) && errno != EEXIST)
			die_usage("cannot create '%s'", o.outdir);
		ok = run_once(o, dseq, 0, "sequential", &u, &seq);
		ok &= run_once(o, dpar, jobs, label, &u, &par);
		if (par.elapsed_ns > 0)
			printf("speedup: %.2fx (sequential %.2f s, %u workers %.2f s)\n",
			       (double)seq.elapsed_ns / (double)par.elapsed_ns,
			       (double)seq.elapsed_ns / KS_NSEC_PER_SEC, jobs,
			       (double)par.elapsed_ns / KS_NSEC_PER_SEC);
	} else if (sequential) {
		ok = run_once(o, o.outdir, 0, "sequential", &u, &seq);
	} else {
		char label[64];

		snprintf(label, sizeof(label), "%u workers", jobs);
		ok = run_once(o, o.outdir, jobs, label, &u, &par);
	}

	if (local && !outdir_given) {
		printf("(the images were saved in %s and removed; -o DIR keeps them)\n", tmpdir);
		remove_tree(tmpdir);
	}
	if (srv)
		imgsrv_stop(srv);
	for (size_t i = 0; i < u.n; i++)
		free(u.v[i]);
	free(u.v);
	fetch_global_cleanup();
	return ok ? 0 : EXIT_SOME_FAILED;
}
