// SPDX-License-Identifier: MIT
/*
 * The libcurl share handle: every worker's easy handle shares the DNS cache and the TLS session
 * cache. libcurl calls the lock callbacks with the kind of data it is about to touch; each kind
 * has its own ks_mutex, taken exclusively for shared and exclusive access alike (the critical
 * sections are a hash lookup or a session copy: a reader-writer lock would not pay for itself).
 */
#include "run.h"

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
	struct run *r = arg;

	(void)h;
	(void)access;
	ks_mutex_lock(&r->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	struct run *r = arg;

	(void)h;
	ks_mutex_unlock(&r->share_locks[data]);
}

int share_init(struct run *r)
{
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		ks_mutex_init(&r->share_locks[i], 0);
	r->share = curl_share_init();
	if (!r->share ||
	    curl_share_setopt(r->share, CURLSHOPT_LOCKFUNC, share_lock) ||
	    curl_share_setopt(r->share, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	    curl_share_setopt(r->share, CURLSHOPT_USERDATA, r) ||
	    curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION))
		return -ENOMEM;
	return 0;
}

void share_free(struct run *r)
{
	if (r->share)
		curl_share_cleanup(r->share);
	r->share = NULL;
}
