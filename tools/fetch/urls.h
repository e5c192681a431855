/* SPDX-License-Identifier: MIT */
/*
 * The list of URLs to fetch, from the command line and from list files.
 */
#ifndef KSYNC_FETCH_URLS_H
#define KSYNC_FETCH_URLS_H

#include <stddef.h>

struct urls {
	char **v;
	size_t n, cap;
};

/* Appends a copy of url (out of memory: a message, and exit 2). */
void urls_add(struct urls *u, const char *url);

/* One URL a line; blank lines and lines starting with '#' are skipped; "-" is stdin. */
void urls_read(struct urls *u, const char *path);

void urls_free(struct urls *u);

#endif /* KSYNC_FETCH_URLS_H */
