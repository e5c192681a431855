/* SPDX-License-Identifier: MIT */
/*
 * The list of URLs to fetch, each with the name to save it under if one was given: from the
 * command line ("-O NAME URL") and from list files.
 */
#ifndef KSYNC_FETCH_URLS_H
#define KSYNC_FETCH_URLS_H

#include "fetch.h"

struct urls {
	struct fetch_url *v;		/* the strings are the list's own */
	size_t n, cap;
};

/* Appends url, and name (NULL: none); out of memory: a message, and exit 2. */
void urls_add(struct urls *u, const char *url, const char *name);

/*
 * A list file ("-": stdin): one URL a line, optionally followed by the name to save it under
 * (the rest of the line); blank lines are skipped, and '#' starts a comment at the start of a
 * line or after a space or a tab. A file that cannot be read: a message, and exit 2.
 */
void urls_read(struct urls *u, const char *path);

void urls_free(struct urls *u);

#endif /* KSYNC_FETCH_URLS_H */
