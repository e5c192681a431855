// SPDX-License-Identifier: MIT
/*
 * Preparing the jobs, on the calling thread, before any network traffic. For each URL, in the
 * list's order:
 *  - it is parsed with libcurl's URL API (dot segments kept), and its scheme must be http or
 *    https (asked first, so that "file:///etc/passwd" is refused for its scheme);
 *  - its file name is the one given, or the URL's last segment; either must pass name.c;
 *  - a name already taken by an earlier URL of the list makes it a duplicate: the first in the
 *    list wins, in every mode, and the later one is never fetched;
 *  - an existing entry of that name fails it (never replaced), or, with skip_existing and a
 *    regular file, skips it;
 *  - its scheme://host:port gets a struct host with a ks_sem of per_host slots.
 * A URL refused, skipped or duplicated here is settled: it never reaches the network.
 */
#include "run.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The names seen so far: an open-addressing set of job indexes, hashed by name. */
struct names {
	size_t *slot;			/* index + 1; 0: empty */
	size_t mask;
};

static struct host *host_get(struct run *r, const char *key)
{
	struct host *h;

	for (h = r->hosts; h; h = h->next)
		if (!strcmp(h->key, key))
			return h;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	snprintf(h->key, sizeof(h->key), "%s", key);
	ks_sem_init(&h->slots, r->per_host, 0);
	h->next = r->hosts;
	r->hosts = h;
	r->nhosts++;
	return h;
}

void hosts_free(struct run *r)
{
	while (r->hosts) {
		struct host *h = r->hosts;

		r->hosts = h->next;
		free(h);
	}
}

static size_t hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

static int names_init(struct names *n, size_t jobs)
{
	size_t cap = 16;

	while (cap < 2 * jobs)
		cap *= 2;
	n->slot = calloc(cap, sizeof(*n->slot));
	n->mask = cap - 1;
	return n->slot ? 0 : -ENOMEM;
}

/* Job i's name if no earlier job has it (and -1); else that job's index. */
static long names_claim(struct names *n, const struct job *jobs, size_t i)
{
	const char *name = jobs[i].res->name;

	for (size_t k = hash(name) & n->mask;; k = (k + 1) & n->mask) {
		if (!n->slot[k]) {
			n->slot[k] = i + 1;
			return -1;
		}
		if (!strcmp(jobs[n->slot[k] - 1].res->name, name))
			return (long)(n->slot[k] - 1);
	}
}

/* The URL's scheme, host:port and name: NULL, or why it is refused. */
static const char *parse(struct job *j, CURLU *u, char *key)
{
	struct fetch_result *res = j->res;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	const char *why = NULL;

	if (curl_url_set(u, CURLUPART_URL, j->url, CURLU_PATH_AS_IS | CURLU_NON_SUPPORT_SCHEME) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0))
		why = "not a valid URL";
	else if (strcmp(scheme, "http") && strcmp(scheme, "https"))
		why = "only http and https URLs are fetched";
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) ||
		 curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
		 curl_url_get(u, CURLUPART_PATH, &path, 0))
		why = "not a valid URL";
	else if (j->name && !fetch_name_check(j->name, &why))
		snprintf(res->name, sizeof(res->name), "%s", j->name);
	else if (!j->name && fetch_name_from_path(path, res->name, &why))
		res->name[0] = '\0';
	if (!why)
		snprintf(key, HOST_KEY_MAX, "%s://%s:%s", scheme, host, port);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	return why;
}

/* Settles job j if its name is taken, in the list or in the folder: true if it did. */
static bool settle_by_name(struct run *r, struct names *names, size_t i)
{
	struct fetch_result *res = r->jobs[i].res;
	long first = names_claim(names, r->jobs, i);
	struct stat st;

	if (first >= 0) {
		snprintf(res->reason, FETCH_REASON_MAX, "duplicate: URL #%ld of the list is saved "
			 "as %s too (the first one wins)", first + 1, res->name);
		return true;
	}
	if (fstatat(r->dirfd, res->name, &st, AT_SYMLINK_NOFOLLOW))
		return false;
	if (r->o->skip_existing && S_ISREG(st.st_mode))
		res->status = FETCH_SKIPPED;
	else
		snprintf(res->reason, FETCH_REASON_MAX, "%s already exists (not replaced)",
			 res->name);
	return true;
}

/* Names the file and finds the host; a refusal is recorded in the result. -ENOMEM only. */
static int job_prepare(struct run *r, struct names *names, CURLU *u, size_t i)
{
	struct job *j = &r->jobs[i];
	char key[HOST_KEY_MAX];
	const char *why = parse(j, u, key);

	if (why) {
		snprintf(j->res->reason, FETCH_REASON_MAX, "%s", why);
		return 0;
	}
	if (settle_by_name(r, names, i))
		return 0;
	j->host = host_get(r, key);
	if (!j->host)
		return -ENOMEM;
	r->pending++;
	return 0;
}

int jobs_prepare(struct run *r)
{
	struct names names;
	CURLU *u = curl_url();
	int err = u ? names_init(&names, r->njobs) : -ENOMEM;

	for (size_t i = 0; !err && i < r->njobs; i++)
		err = job_prepare(r, &names, u, i);
	if (u)
		free(names.slot);
	curl_url_cleanup(u);
	return err;
}
