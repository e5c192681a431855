// SPDX-License-Identifier: MIT
/*
 * ksync-imgserver: the loopback image server on its own, for trying ksync-fetch by hand or
 * from a script. Prints its base URL on the first line of stdout (port 0 picks a free port),
 * then serves until SIGINT or SIGTERM. The routes are listed in imgserver.h and docs/fetch.md.
 */
#include "imgserver.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_COUNT	32u

static const char usage[] =
"usage: ksync-imgserver [-p PORT] [-n COUNT] [-l LATENCY_MS] [-r BYTES_PER_S] [-s SIDE]\n"
"                       [-t THREADS] [-v]\n"
"Serves COUNT generated PNGs at http://127.0.0.1:PORT/img/0.png … on loopback only;\n"
"PORT 0 (the default) picks a free one. The first line of output is the base URL.\n"
"Misbehaviours: /img/N.png?fail=K&status=S&retry-after=T, /slow/N.png?every=MS,\n"
"/big/N.png[?declare=1], /reset/N.png, /redirect/N.png, /redirect-evil/N.png?to=file|ftp|name,\n"
"/loop/N.png.\n";

static unsigned long arg_number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end || *s == '-' || v > max) {
		fprintf(stderr, "ksync-imgserver: not a valid number: '%s'\n%s", s, usage);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct imgsrv_config cfg = { .count = DEFAULT_COUNT };
	struct imgsrv *srv;
	sigset_t stop;
	int c, sig, err;

	while ((c = getopt(argc, argv, "p:n:l:r:s:t:vh")) != -1) {
		switch (c) {
		case 'p': cfg.port = (uint16_t)arg_number(optarg, 65535); break;
		case 'n': cfg.count = (unsigned)arg_number(optarg, 1000000); break;
		case 'l': cfg.latency_ms = (unsigned)arg_number(optarg, 600000); break;
		case 'r': cfg.rate = arg_number(optarg, 1ul << 40); break;
		case 's': cfg.side = (unsigned)arg_number(optarg, 1024); break;
		case 't': cfg.threads = (unsigned)arg_number(optarg, 1024); break;
		case 'v': cfg.verbose = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
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
