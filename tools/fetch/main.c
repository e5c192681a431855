// SPDX-License-Identifier: MIT
/*
 * ksync-fetch: download URLs into a folder with N threads, robustly. The command line (cli.c)
 * around the engine (fetch.h); --local starts the loopback image server (local.c) in-process,
 * for a demo or a trial without a network; the summary is report.c's. See docs/fetch.md, or
 * ksync-fetch --help.
 *
 * Exit status: 0 if every URL was saved (or skipped with --skip-existing), 1 if any failed or
 * the run was interrupted (the summary says which and why) or the summary could not be
 * written, 2 on a usage error or if the run could not start.
 */
#include "args.h"
#include "cli.h"
#include "local.h"
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXIT_SOME_FAILED	1
#define LABEL_MAX		96

static void on_signal(int sig)
{
	(void)sig;
	/* relaxed: the monitor thread polls it (run.c) */
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

/* "8 workers", and why there are fewer than -j when the per-host limit is the reason. */
static void label_workers(char *buf, size_t len, const char *fmt, const struct fetch_stats *st,
			  unsigned jobs)
{
	int k = snprintf(buf, len, fmt, st->workers, st->workers == 1 ? "" : "s");

	if (st->workers && st->workers < jobs && st->workers == st->hosts * st->per_host)
		snprintf(buf + k, len - (size_t)k, " (%u host%s, at most %u each)", st->hosts,
			 st->hosts == 1 ? "" : "s", st->per_host);
}

/* One run into dir, and its summary: 0 all saved, 1 some not, 2 it could not start. */
static int run_once(const struct cli *c, const char *dir, unsigned jobs, const char *fmt,
		    struct fetch_stats *st)
{
	const struct urls *u = &c->urls;
	struct fetch_result *res = calloc(u->n, sizeof(*res));
	struct fetch_options o = c->o;
	char label[LABEL_MAX];
	int err;

	o.outdir = dir;
	o.jobs = jobs;
	if (!res) {
		fputs("ksync-fetch: out of memory\n", stderr);
		return EXIT_USAGE;
	}
	err = fetch_run(&o, u->v, u->n, res, st);
	if (err) {
		fprintf(stderr, "ksync-fetch: cannot %s %s: %s\n", st->cannot, dir, strerror(-err));
		free(res);
		return EXIT_USAGE;
	}
	label_workers(label, sizeof(label), fmt, st, jobs);
	report_run(label, u->n, st, o.lines);
	if (!o.lines)
		report_failures(u->v, u->n, res);
	fflush(stdout);
	free(res);
	return st->failed || st->not_started || st->interrupted ? EXIT_SOME_FAILED : 0;
}

static int run_compare(const struct cli *c)
{
	char dseq[PATH_MAX], dpar[PATH_MAX];
	struct fetch_stats seq, par;
	int s1, s2;

	snprintf(dseq, sizeof(dseq), "%s/sequential", c->o.outdir);
	snprintf(dpar, sizeof(dpar), "%s/parallel", c->o.outdir);
	if (mkdir(c->o.outdir, 0755) && errno != EEXIST) {
		fprintf(stderr, "ksync-fetch: cannot create %s: %s\n", c->o.outdir,
			strerror(errno));
		return EXIT_USAGE;
	}
	s1 = run_once(c, dseq, 0, "sequential", &seq);
	if (s1 == EXIT_USAGE)
		return s1;
	if (seq.interrupted) {
		puts("interrupted: the parallel run was not started");
		return EXIT_SOME_FAILED;
	}
	s2 = run_once(c, dpar, c->jobs, "parallel (%u worker%s)", &par);
	if (s2 == EXIT_USAGE)
		return s2;
	report_speedup(&seq, &par, c->urls.n);
	return s1 || s2 ? EXIT_SOME_FAILED : 0;
}

static int run_mode(const struct cli *c)
{
	struct fetch_stats st;

	switch (c->mode) {
	case MODE_COMPARE:
		return run_compare(c);
	case MODE_SEQUENTIAL:
		return run_once(c, c->o.outdir, 0, "sequential", &st);
	default:
		return run_once(c, c->o.outdir, c->jobs, "%u worker%s", &st);
	}
}

/* Whatever went to stdout must have arrived: a lost summary is a failed run. */
static int check_stdout(int status)
{
	if (!fflush(stdout) && !ferror(stdout))
		return status;
	fprintf(stderr, "ksync-fetch: cannot write the summary: %s\n", strerror(errno));
	return status ? status : EXIT_SOME_FAILED;
}

int main(int argc, char **argv)
{
	struct local l = { 0 };
	struct cli c;
	int status;

	cli_parse(&c, argc, argv);
	signals_setup();
	if (fetch_global_init()) {
		fputs("ksync-fetch: libcurl failed to initialise\n", stderr);
		return EXIT_USAGE;
	}
	if (c.local && local_start(&l, &c))
		return EXIT_USAGE;
	status = run_mode(&c);
	local_finish(&l, c.quiet);
	cli_free(&c);
	fetch_global_cleanup();
	return check_stdout(status);
}
