// SPDX-License-Identifier: MIT
/*
 * --local (local.h).
 */
#include "local.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOCAL_URL_MAX	64
#define NFTW_FDS	16

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

int local_start(struct local *l, struct cli *c)
{
	int err;

	l->tmpdir[0] = '\0';
	c->srv.count = c->local;
	err = imgsrv_start(&l->srv, &c->srv);
	if (err) {
		fprintf(stderr, "ksync-fetch: loopback server: %s\n", strerror(-err));
		return err;
	}
	for (unsigned i = 0; i < c->local; i++) {
		char url[LOCAL_URL_MAX];

		snprintf(url, sizeof(url), "http://127.0.0.1:%u/img/%u.png", imgsrv_port(l->srv),
			 i);
		urls_add(&c->urls, url, NULL);
	}
	if (!c->quiet)
		printf("loopback server on http://127.0.0.1:%u/: %u images, %u ms latency\n",
		       imgsrv_port(l->srv), c->local, c->srv.latency_ms);
	if (c->outdir_given)
		return 0;
	snprintf(l->tmpdir, sizeof(l->tmpdir), "/tmp/ksync-fetch.XXXXXX");
	if (!mkdtemp(l->tmpdir)) {
		err = -errno;
		perror("ksync-fetch: mkdtemp");
		l->tmpdir[0] = '\0';
		return err;
	}
	c->o.outdir = l->tmpdir;
	return 0;
}

void local_finish(struct local *l, bool quiet)
{
	if (l->tmpdir[0]) {
		if (!quiet)
			printf("(the images were saved in %s and removed; -o DIR keeps them)\n",
			       l->tmpdir);
		remove_tree(l->tmpdir);
	}
	if (l->srv)
		imgsrv_stop(l->srv);
	l->srv = NULL;
}
