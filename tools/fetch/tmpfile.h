/* SPDX-License-Identifier: MIT */
/*
 * A download's temporary file in the output folder: nothing is left behind on failure, and
 * only success gives it its name.
 */
#ifndef KSYNC_FETCH_TMPFILE_H
#define KSYNC_FETCH_TMPFILE_H

#include <stdint.h>

struct tmpfile {
	int fd;
	char name[32];			/* "" for an O_TMPFILE, which has no name */
};

/* A new empty file in dirfd: 0 or a negative errno. */
int tmp_open(int dirfd, struct tmpfile *t, uint32_t *rng);

/* Gives the file its name: 0, or -EEXIST if anything has that name now (never replaced). */
int tmp_commit(int dirfd, struct tmpfile *t, const char *name);

/* Closes the file; a temporary name it still has is removed. */
void tmp_close(int dirfd, struct tmpfile *t);

#endif /* KSYNC_FETCH_TMPFILE_H */
