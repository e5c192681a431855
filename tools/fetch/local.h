/* SPDX-License-Identifier: MIT */
/*
 * --local N: the loopback image server started inside ksync-fetch, its N URLs added to the
 * list, and (without -o) a fresh temporary folder that is removed at the end.
 */
#ifndef KSYNC_FETCH_LOCAL_H
#define KSYNC_FETCH_LOCAL_H

#include "cli.h"

struct local {
	struct imgsrv *srv;
	char tmpdir[32];		/* "" unless made here */
};

/* Starts the server and points c at it: 0, or a message on stderr and a negative errno. */
int local_start(struct local *l, struct cli *c);

/* Removes the temporary folder if one was made (and says so unless quiet), stops the server. */
void local_finish(struct local *l, bool quiet);

#endif /* KSYNC_FETCH_LOCAL_H */
