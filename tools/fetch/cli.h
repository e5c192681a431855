/* SPDX-License-Identifier: MIT */
/*
 * ksync-fetch's command line: the options, their defaults, and what a run is asked to do.
 */
#ifndef KSYNC_FETCH_CLI_H
#define KSYNC_FETCH_CLI_H

#include "fetch.h"
#include "imgserver.h"
#include "urls.h"

enum cli_mode { MODE_THREADS, MODE_SEQUENTIAL, MODE_COMPARE };

struct cli {
	struct fetch_options o;		/* outdir, jobs are set per run (main.c) */
	struct imgsrv_config srv;	/* --local's server */
	struct urls urls;
	enum cli_mode mode;
	unsigned jobs;
	unsigned local;			/* --local N: N images; 0: no server */
	bool quiet, verbose;
	bool outdir_given;
};

/* Parses argv into c; --help prints the usage and exits 0, a usage error exits 2. */
void cli_parse(struct cli *c, int argc, char **argv);

#endif /* KSYNC_FETCH_CLI_H */
