/* SPDX-License-Identifier: MIT */
/*
 * A download's temporary file in the output folder: nothing is left behind on failure, and
 * only success gives it its name.
 */
#ifndef KSYNC_FETCH_TMPFILE_H
#define KSYNC_FETCH_TMPFILE_H

#include <stdbool.h>

#define TMP_PREFIX	".ksync-fetch."

struct tmpfile {
	int fd;
	char name[32];			/* "" for an O_TMPFILE, which has no name */
};

/* For the tests: take the named path even where O_TMPFILE works. */
extern bool tmp_force_named;

/* A new empty file in dirfd, open for reading and writing: 0 or a negative errno. */
int tmp_open(int dirfd, struct tmpfile *t);

/*
 * Gives the file its name: 0, or -EEXIST if anything has that name now (never replaced). On
 * success the temporary name is gone: tmp_close() will not touch that name again.
 */
int tmp_commit(int dirfd, struct tmpfile *t, const char *name);

/* Closes the file; a temporary name it still has is removed. */
void tmp_close(int dirfd, struct tmpfile *t);

#endif /* KSYNC_FETCH_TMPFILE_H */
