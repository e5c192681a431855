// SPDX-License-Identifier: MIT
/*
 * Preparing the jobs, on the calling thread, before any network traffic: each URL is parsed
 * with libcurl's URL API (dot segments kept), its scheme must be http or https, its file name
 * is derived and checked (name.c), and its scheme://host:port gets a struct host with a ks_sem
 * of per_host slots. A refused URL gets its reason here and never reaches the network.
 */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	ks_sem_init(&h->slots, r->o->per_host, 0);
	h->next = r->hosts;
	r->hosts = h;
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

int job_prepare(struct run *r, struct job *j)
{
	struct fetch_result *res = j->res;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char key[HOST_KEY_MAX];
	const char *why = NULL;
	CURLU *u = curl_url();
	int err = 0;

	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, j->url, CURLU_PATH_AS_IS | CURLU_NON_SUPPORT_SCHEME) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0))
		why = "not a valid URL";
	else if (strcmp(scheme, "http") && strcmp(scheme, "https"))
		why = "only http and https URLs are fetched";
	else if (fetch_name_from_path(path, res->name, &why))
		res->name[0] = '\0';
	if (why) {
		snprintf(res->reason, FETCH_REASON_MAX, "%s", why);
	} else {
		snprintf(key, sizeof(key), "%s://%s:%s", scheme, host, port);
		j->host = host_get(r, key);
		if (!j->host)
			err = -ENOMEM;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return err;
}
