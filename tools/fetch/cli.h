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
	struct fetch_options o;		/* outdir and jobs are set per run (main.c) */
	struct imgsrv_config srv;	/* --local's server */
	struct urls urls;
	const char **headers;		/* -H, NULL-terminated; o.headers points here */
	size_t nheaders;
	enum cli_mode mode;
	unsigned jobs;
	unsigned local;			/* --local N: N images; 0: no server */
	bool quiet, verbose;
	bool outdir_given;
};

/* Parses argv into c; --help prints the usage and exits 0, a usage error exits 2. */
void cli_parse(struct cli *c, int argc, char **argv);
void cli_free(struct cli *c);

#endif /* KSYNC_FETCH_CLI_H */
