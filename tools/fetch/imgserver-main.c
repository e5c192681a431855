// SPDX-License-Identifier: MIT
/*
 * ksync-imgserver: the loopback image server on its own, for trying ksync-fetch by hand or
 * from a script. Prints its base URL on the first line of stdout (port 0 picks a free port),
 * then serves until SIGINT or SIGTERM. The routes are listed in imgserver.h and docs/fetch.md.
 * Its values read as ksync-fetch's do (args.c): a latency of "100ms", a rate of "64k".
 */
#include "args.h"
#include "imgserver.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_COUNT	32u
#define COUNT_MAX	1000000
#define LATENCY_MAX_MS	600000
#define THREADS_MAX	1024

static const char usage[] =
"usage: ksync-imgserver [-p PORT] [-n COUNT] [-l LATENCY] [-r RATE] [-s SIDE] [-t THREADS] [-v]\n"
"Serves COUNT (default 32) generated PNGs at http://127.0.0.1:PORT/img/0.png … on loopback\n"
"only; PORT 0 (the default) picks a free one. The first line of output is the base URL.\n"
"  -l LATENCY  before each response: 100ms, 1.5s (a bare number is seconds; default 0)\n"
"  -r RATE     bytes per second per response, with k, M or G (default: unlimited)\n"
"  -s SIDE     image side in pixels, 8 to 1024 (default 128)\n"
"  -t THREADS  connection handlers (default 32)   -v  a line per request on stderr\n"
"Misbehaviours: /img/N.png?fail=K&status=S&retry-after=T, ?cut=K, ?overclaim=K, ?delay=MS,\n"
"?gate=K, ?ranges=0, ?etag=0, ?change=1, ?skew=N, ?header=NAME:VALUE; /slow/N.png?every=MS,\n"
"/big/N.png[?declare=1], /error-endless/N.png, /redirect-endless/N.png, /header-flood/N.png,\n"
"/silent/N.png, /reset/N.png, /redirect/N.png, /redirect-evil/N.png?to=file|ftp|name,\n"
"/loop/N.png.\n";

static void parse(int argc, char **argv, struct imgsrv_config *cfg)
{
	int c;

	opterr = 0;
	while ((c = getopt(argc, argv, ":p:n:l:r:s:t:vh")) != -1) {
		switch (c) {
		case 'p': cfg->port = (uint16_t)args_count("-p", optarg, 0, 65535); break;
		case 'n': cfg->count = (unsigned)args_count("-n", optarg, 1, COUNT_MAX); break;
		case 'l':
			cfg->latency_ms = (unsigned)args_duration_ms("-l", optarg, LATENCY_MAX_MS);
			break;
		case 'r': cfg->rate = (uint64_t)args_size("-r", optarg, 1); break;
		case 's':
			cfg->side = (unsigned)args_count("-s", optarg, IMGSRV_SIDE_MIN,
							 IMGSRV_SIDE_MAX);
			break;
		case 't': cfg->threads = (unsigned)args_count("-t", optarg, 1, THREADS_MAX); break;
		case 'v': cfg->verbose = true; break;
		case 'h': fputs(usage, stdout); exit(0);
		case ':': args_die("-%c needs a value", optopt);
		default: args_die("unknown option '-%c'", optopt);
		}
	}
	if (optind < argc)
		args_die("unexpected argument '%s'", argv[optind]);
}

int main(int argc, char **argv)
{
	struct imgsrv_config cfg = { .count = DEFAULT_COUNT };
	struct imgsrv *srv;
	sigset_t stop;
	int sig, err;

	parse(argc, argv, &cfg);
	/* blocked before any thread starts, so only sigwait() below receives them */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = imgsrv_start(&srv, &cfg);
	if (err) {
		fprintf(stderr, "ksync-imgserver: %s\n", strerror(-err));
		return 1;
	}
	printf("http://127.0.0.1:%u/\n", imgsrv_port(srv));
	fflush(stdout);
	fprintf(stderr, "ksync-imgserver: %u images, %u ms latency, %s; ^C stops\n", cfg.count,
		cfg.latency_ms, cfg.rate ? "rate-limited" : "no rate limit");
	sigwait(&stop, &sig);
	imgsrv_stop(srv);
	return 0;
}
