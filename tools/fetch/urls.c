// SPDX-License-Identifier: MIT
/*
 * The list of URLs (urls.h).
 */
#include "urls.h"
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLANKS	" \t\r\n"

static _Noreturn void out_of_memory(void)
{
	fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
	exit(EXIT_USAGE);
}

void urls_add(struct urls *u, const char *url, const char *name)
{
	struct fetch_url *e;

	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 64;
		struct fetch_url *v = realloc(u->v, cap * sizeof(*v));

		if (!v)
			out_of_memory();
		u->v = v;
		u->cap = cap;
	}
	e = &u->v[u->n];
	e->url = strdup(url);
	e->name = name ? strdup(name) : NULL;
	if (!e->url || (name && !e->name))
		out_of_memory();
	u->n++;
}

/* Cuts the comment off line: '#' at its start or after a blank. */
static void drop_comment(char *line)
{
	for (char *p = line; *p; p++) {
		if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

/* "URL [NAME]": trimmed, split at the first blank; blank lines add nothing. */
static void add_line(struct urls *u, char *line)
{
	char *url, *name, *end;

	drop_comment(line);
	url = line + strspn(line, BLANKS);
	end = url + strlen(url);
	while (end > url && strchr(BLANKS, end[-1]))
		*--end = '\0';
	if (!*url)
		return;
	name = url + strcspn(url, BLANKS);
	if (*name) {
		*name++ = '\0';
		name += strspn(name, BLANKS);
	}
	urls_add(u, url, *name ? name : NULL);
}

void urls_read(struct urls *u, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	int err;

	if (!f)
		args_bad("-i", path, "cannot read it: %s", strerror(errno));
	while (getline(&line, &cap, f) >= 0)
		add_line(u, line);
	err = ferror(f) ? errno : 0;
	free(line);
	if (f != stdin)
		fclose(f);
	if (err)
		args_bad("-i", path, "cannot read it: %s", strerror(err));
}

void urls_free(struct urls *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free((char *)u->v[i].url);
		free((char *)u->v[i].name);
	}
	free(u->v);
	u->v = NULL;
	u->n = u->cap = 0;
}
