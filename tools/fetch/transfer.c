// SPDX-License-Identifier: MIT
/*
 * One transfer attempt (transfer.h). Each worker owns one easy handle for its whole life, so
 * its connections are reused from one file to the next; every handle hangs on the run's share
 * handle (share.c). CURLOPT_NOSIGNAL: threads and libcurl's alarm-based DNS timeouts do not mix.
 *
 * The body is counted against max_size in the write callback, as it arrives: libcurl 7.88 only
 * enforces CURLOPT_MAXFILESIZE when the size is announced (it is set too, to refuse those
 * before the body). The body of a non-2xx response is never written to the file. TLS peer and
 * host verification stay on (they are never turned off anywhere), and only http and https are
 * allowed, for the first request and for every redirect.
 */
#include "transfer.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FETCH_USER_AGENT	"ksync-fetch/0.1"
#define FETCH_PROTOCOLS		"http,https"

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	struct run *r = s->w->run;
	long code = 0;

	n *= size;
	/* relaxed: a statistic for the progress line */
	atomic_fetch_add_explicit(&r->received, n, memory_order_relaxed);
	curl_easy_getinfo(s->w->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299)
		return n;	/* an error page: not the file */
	if (s->bytes + n > (uint64_t)r->o->max_size) {
		s->oversize = true;
		return 0;	/* any other count than n aborts: CURLE_WRITE_ERROR */
	}
	for (size_t off = 0; off < n;) {
		ssize_t k = write(s->fd, p + off, n - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			s->io_errno = k < 0 ? errno : ENOSPC;
			return 0;
		}
		off += (size_t)k;
	}
	s->bytes += n;
	return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct worker *w = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return run_interrupted(w->run);	/* non-zero: CURLE_ABORTED_BY_CALLBACK */
}

int transfer_init(struct worker *w, struct run *r)
{
	const struct fetch_options *o = r->o;
	CURL *c = curl_easy_init();

	w->run = r;
	w->curl = c;
	if (!c)
		return -ENOMEM;
	if (curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c, CURLOPT_SHARE, r->share) ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, FETCH_PROTOCOLS) ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, FETCH_PROTOCOLS) ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) ||
	    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms) ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms) ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size) ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) ||
	    curl_easy_setopt(c, CURLOPT_XFERINFODATA, w) ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->errbuf) ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, FETCH_USER_AGENT)) {
		transfer_free(w);
		return -EINVAL;
	}
	return 0;
}

void transfer_free(struct worker *w)
{
	if (w->curl)
		curl_easy_cleanup(w->curl);
	w->curl = NULL;
}

CURLcode transfer_perform(struct worker *w, const char *url, struct sink *s)
{
	w->errbuf[0] = '\0';
	curl_easy_setopt(w->curl, CURLOPT_URL, url);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, s);
	return curl_easy_perform(w->curl);
}
