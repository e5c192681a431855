// SPDX-License-Identifier: MIT
/*
 * One transfer attempt (transfer.h). Each worker owns one easy handle for its whole life, so
 * its connections are reused from one file to the next; every handle hangs on the run's share
 * handle (share.c). CURLOPT_NOSIGNAL: threads and libcurl's alarm-based DNS timeouts do not mix.
 * TLS peer and host verification stay on (they are never turned off anywhere), and only http
 * and https are allowed, for the first request and for every redirect.
 *
 * Every byte received counts. The file's bytes are counted against max_size in the write
 * callback, as they arrive (libcurl 7.88 only enforces CURLOPT_MAXFILESIZE when the size is
 * announced; it is set too, to refuse those before the body). Everything else an attempt
 * receives — every header line, the body of an error, the bodies of the redirects libcurl
 * drains to keep its connection (they never reach the write callback: the progress callback's
 * counter sees them) — is counted against max_size as well, so that no response, however
 * hostile, makes an attempt read without end. The body of a non-2xx response never reaches the
 * file.
 *
 * Resuming. When the attempt before stopped partway through a 2xx body whose server offered
 * byte ranges and a validator (a strong ETag, or Last-Modified), this attempt asks for
 * "Range: bytes=N-" with "If-Range: <validator>": a 206 starting at N is appended to the file;
 * a 200 (the resource changed, or ranges are ignored) replaces it from the first byte; a 206
 * starting anywhere else ends the attempt (download.c starts the next one from zero).
 */
#include "transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FETCH_USER_AGENT	"ksync-fetch/0.1"
#define FETCH_PROTOCOLS		"http,https"
#define MS_PER_S		1000

/* Headers and bodies that are not the file, so far. */
static uint64_t other_bytes(const struct attempt *a)
{
	uint64_t seen = a->seen + a->hop_seen;

	return a->headers + a->discarded + (seen > a->passed ? seen - a->passed : 0);
}

static bool over_other(struct attempt *a)
{
	if (other_bytes(a) <= (uint64_t)a->w->run->o->max_size)
		return false;
	a->stop = STOP_OTHER_SIZE;
	return true;
}

/* The value of header `name` if line (n bytes, CRLF included) is one, trimmed, in out. */
static bool header_is(const char *line, size_t n, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name);
	const char *v, *end = line + n;

	if (n <= nlen || strncasecmp(line, name, nlen) || line[nlen] != ':')
		return false;
	v = line + nlen + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && strchr(" \t\r\n", end[-1]))
		end--;
	if ((size_t)(end - v) >= len)
		return false;	/* longer than any validator we would send back */
	memcpy(out, v, (size_t)(end - v));
	out[end - v] = '\0';
	return true;
}

/* A status line ("HTTP/1.1 200 OK", n bytes) starts a new response: a redirect's, the next. */
static void new_response(struct attempt *a, const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);

	a->code = sp ? strtol(sp + 1, NULL, 10) : 0;
	a->ranges = a->code == 206;
	a->range_start = -1;
	a->etag[0] = a->modified[0] = '\0';
	a->seen += a->hop_seen;		/* the previous response's body is all in */
	a->hop_seen = 0;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct attempt *a = arg;
	char v[VALIDATOR_MAX];

	n *= size;
	a->headers += n;
	if (over_other(a))
		return 0;	/* any other count than n aborts: CURLE_WRITE_ERROR */
	if (n > 5 && !memcmp(line, "HTTP/", 5))
		new_response(a, line, n);
	else if (header_is(line, n, "Accept-Ranges", v, sizeof(v)))
		a->ranges |= strstr(v, "bytes") != NULL;
	else if (header_is(line, n, "Content-Range", v, sizeof(v)) && !strncmp(v, "bytes ", 6))
		a->range_start = strtoll(v + 6, NULL, 10);
	else if (header_is(line, n, "ETag", v, sizeof(v)) && strncmp(v, "W/", 2))
		memcpy(a->etag, v, sizeof(v));	/* weak ETags cannot go in If-Range */
	else if (header_is(line, n, "Last-Modified", v, sizeof(v)))
		memcpy(a->modified, v, sizeof(v));
	return n;
}

/* The first byte of a 2xx body: where in the file it goes. False if the attempt must end. */
static bool start_body(struct attempt *a)
{
	a->body_started = true;
	if (a->from.from > 0 && a->code == 206) {
		if (a->range_start != a->from.from) {
			a->stop = STOP_BAD_RANGE;
			return false;
		}
		a->size = a->from.from;
		return true;
	}
	a->size = 0;		/* the whole body: the file starts over */
	if (a->from.from > 0 && ftruncate(a->fd, 0)) {
		a->stop = STOP_IO;
		a->io_errno = errno;
		return false;
	}
	return true;
}

static bool write_at(struct attempt *a, const char *p, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t k = pwrite(a->fd, p + off, n - off, (off_t)(a->size + (int64_t)off));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			a->stop = STOP_IO;
			a->io_errno = k < 0 ? errno : ENOSPC;
			return false;
		}
		off += (size_t)k;
	}
	a->size += (int64_t)n;
	return true;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct attempt *a = arg;

	n *= size;
	/* relaxed: a statistic for the progress line */
	atomic_fetch_add_explicit(&a->w->run->received, n, memory_order_relaxed);
	a->passed += n;
	if (a->code < 200 || a->code > 299) {
		a->discarded += n;	/* an error page: not the file */
		return over_other(a) ? 0 : n;
	}
	if (!a->body_started && !start_body(a))
		return 0;
	if ((uint64_t)a->size + n > (uint64_t)a->w->run->o->max_size) {
		a->stop = STOP_FILE_SIZE;
		return 0;
	}
	return write_at(a, p, n) ? n : 0;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct attempt *a = arg;

	(void)dltotal;
	(void)ultotal;
	(void)ulnow;
	if ((uint64_t)dlnow < a->hop_seen)	/* a new response began unseen */
		a->seen += a->hop_seen;
	a->hop_seen = (uint64_t)dlnow;
	if (over_other(a))
		return 1;
	return run_interrupted(a->w->run);	/* non-zero: CURLE_ABORTED_BY_CALLBACK */
}

/* The options that depend on the run's settings. */
static bool set_limits(CURL *c, const struct fetch_options *o)
{
	return curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms) ||
	       curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms) ||
	       curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)o->speed_limit) ||
	       curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)(o->speed_time_ms / MS_PER_S)) ||
	       curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size) ||
	       (o->cacert && curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert));
}

int transfer_init(struct worker *w, struct run *r)
{
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
	    set_limits(c, r->o) ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) ||
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

/* The user's headers, and the range this attempt asks for: true, or false if out of memory. */
static bool request_headers(const struct run *r, const struct attempt *a,
			    struct curl_slist **list)
{
	char line[VALIDATOR_MAX + 32];
	struct curl_slist *l = NULL, *next;

	for (const char *const *h = r->o->headers; h && *h; h++) {
		next = curl_slist_append(l, *h);
		if (!next)
			goto nomem;
		l = next;
	}
	if (a->from.from > 0) {
		snprintf(line, sizeof(line), "Range: bytes=%lld-", (long long)a->from.from);
		next = curl_slist_append(l, line);
		if (!next)
			goto nomem;
		l = next;
		snprintf(line, sizeof(line), "If-Range: %s", a->from.validator);
		next = curl_slist_append(l, line);
		if (!next)
			goto nomem;
		l = next;
	}
	*list = l;
	return true;
nomem:
	curl_slist_free_all(l);
	return false;
}

CURLcode transfer_perform(struct worker *w, const char *url, struct attempt *a)
{
	struct curl_slist *headers;
	CURLcode rc;

	if (!request_headers(w->run, a, &headers))
		return CURLE_OUT_OF_MEMORY;
	w->errbuf[0] = '\0';
	a->range_start = -1;
	curl_easy_setopt(w->curl, CURLOPT_URL, url);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(w->curl, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(w->curl, CURLOPT_XFERINFODATA, a);
	rc = curl_easy_perform(w->curl);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	return rc;
}

const char *attempt_validator(const struct attempt *a)
{
	if (a->code == 206 && a->from.from > 0)
		return a->from.validator;	/* the file's bytes are still that version's */
	if (!a->ranges)
		return NULL;
	return a->etag[0] ? a->etag : a->modified[0] ? a->modified : NULL;
}
