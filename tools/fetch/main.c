// SPDX-License-Identifier: MIT
/*
 * ksync-fetch: download URLs into a folder with N threads, robustly. The command line (cli.c)
 * around the engine (fetch.h); --local starts the loopback image server (local.c) in-process,
 * for a demo or a trial without a network; the summary is report.c's. See docs/fetch.md, or
 * ksync-fetch --help.
 *
 * Exit status: 0 if every URL was saved, 1 if any failed (the summary lists each with its
 * reason), 2 on a usage error or if nothing could run.
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

/* One run into dir; false if it could not run or any URL failed. */
static bool run_once(const struct cli *c, const char *dir, unsigned jobs, const char *label,
		     struct fetch_stats *st)
{
	const struct urls *u = &c->urls;
	struct fetch_result *res = calloc(u->n, sizeof(*res));
	struct fetch_options o = c->o;
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
	report_run(label, u->n, st);
	report_failures(u->v, u->n, res);
	fflush(stdout);
	free(res);
	return st->failed == 0;
}

static bool run_compare(const struct cli *c)
{
	char dseq[PATH_MAX], dpar[PATH_MAX], label[64];
	struct fetch_stats seq, par;
	bool ok;

	snprintf(dseq, sizeof(dseq), "%s/sequential", c->o.outdir);
	snprintf(dpar, sizeof(dpar), "%s/parallel", c->o.outdir);
	snprintf(label, sizeof(label), "parallel (%u workers)", c->jobs);
	if (mkdir(c->o.outdir, 0755) && errno != EEXIST)
		args_die("cannot create '%s'", c->o.outdir);
	ok = run_once(c, dseq, 0, "sequential", &seq);
	ok &= run_once(c, dpar, c->jobs, label, &par);
	report_speedup(&seq, &par, c->jobs);
	return ok;
}

static bool run_mode(const struct cli *c)
{
	struct fetch_stats st;
	char label[64];

	switch (c->mode) {
	case MODE_COMPARE:
		return run_compare(c);
	case MODE_SEQUENTIAL:
		return run_once(c, c->o.outdir, 0, "sequential", &st);
	default:
		snprintf(label, sizeof(label), "%u workers", c->jobs);
		return run_once(c, c->o.outdir, c->jobs, label, &st);
	}
}

int main(int argc, char **argv)
{
	struct local l = { 0 };
	struct cli c;
	bool ok;

	cli_parse(&c, argc, argv);
	signals_setup();
	if (fetch_global_init()) {
		fputs("ksync-fetch: libcurl failed to initialise\n", stderr);
		return EXIT_USAGE;
	}
	if (c.local && local_start(&l, &c))
		return EXIT_USAGE;
	ok = run_mode(&c);
	local_finish(&l);
	urls_free(&c.urls);
	fetch_global_cleanup();
	return ok ? 0 : EXIT_SOME_FAILED;
}
