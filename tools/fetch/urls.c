// SPDX-License-Identifier: MIT
/*
 * The list of URLs (urls.h).
 */
#include "urls.h"
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void urls_add(struct urls *u, const char *url)
{
	if (u->n == u->cap) {
		u->cap = u->cap ? 2 * u->cap : 64;
		u->v = realloc(u->v, u->cap * sizeof(*u->v));
	}
	if (!u->v || !(u->v[u->n++] = strdup(url))) {
		fputs("ksync-fetch: out of memory\n", stderr);
		exit(EXIT_USAGE);
	}
}

void urls_read(struct urls *u, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		args_die("cannot read '%s'", path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *p = line;

		while (len > 0 && strchr(" \t\r\n", line[len - 1]))
			line[--len] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '#')
			urls_add(u, p);
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

void urls_free(struct urls *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->v[i]);
	free(u->v);
	u->v = NULL;
	u->n = u->cap = 0;
}
