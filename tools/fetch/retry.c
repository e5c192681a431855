// SPDX-License-Identifier: MIT
/*
 * What an attempt's end means. Transient failures (timeouts and too-slow transfers, connection
 * refused or reset, truncated bodies, HTTP 408, 429 and 5xx) are retried up to `retries` times
 * after a backoff of retry_delay * 2^k (capped at FETCH_BACKOFF_MAX_MS) with "equal jitter"
 * (half fixed, half random, so that workers failing together do not retry together), or after
 * the server's Retry-After when that is longer; a Retry-After beyond max_retry_after_ms fails
 * at once rather than stall the run. A server that answers a resume badly (416, a 206 at the
 * wrong byte, or nothing) is retried from zero. Other failures (4xx, refused redirects,
 * oversize, local I/O) are final at once.
 */
#include "retry.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool http_transient(long code)
{
	return code == 408 || code == 429 || (code >= 500 && code <= 599);
}

static bool curl_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static enum outcome say(struct fetch_result *res, enum outcome out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum outcome say(struct fetch_result *res, enum outcome out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->reason, FETCH_REASON_MAX, fmt, ap);
	va_end(ap);
	return out;
}

/* What the callbacks stopped, if they did. */
static enum outcome stopped(const struct attempt *a, const struct fetch_options *o,
			    struct fetch_result *res)
{
	switch (a->stop) {
	case STOP_FILE_SIZE:
		return say(res, FAIL, "larger than the maximum size (%lld bytes)",
			   (long long)o->max_size);
	case STOP_OTHER_SIZE:
		return say(res, FAIL, "more than the maximum size (%lld bytes) received besides "
			   "the file (headers, error or redirect bodies; HTTP %ld)",
			   (long long)o->max_size, a->code);
	case STOP_IO:
		return say(res, FAIL, "cannot write: %s", strerror(a->io_errno));
	case STOP_BAD_RANGE:
		return say(res, RETRY_AFRESH, "the server resumed at byte %lld, not %lld",
			   a->range_start, (long long)a->from.from);
	default:
		return DONE;
	}
}

enum outcome attempt_outcome(struct worker *w, CURLcode rc, const struct attempt *a,
			     struct fetch_result *res)
{
	const struct fetch_options *o = w->run->o;
	const char *msg = w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc);
	long redirects = 0;
	enum outcome out;

	curl_easy_getinfo(w->curl, CURLINFO_REDIRECT_COUNT, &redirects);
	if (rc == CURLE_FILESIZE_EXCEEDED)
		return say(res, FAIL, "larger than the maximum size (%lld bytes)",
			   (long long)o->max_size);
	out = stopped(a, o, res);
	if (out != DONE)
		return out;
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return say(res, FAIL, "interrupted");
	if (rc == CURLE_UNSUPPORTED_PROTOCOL && redirects)
		return say(res, FAIL, "redirect refused (only http and https): %s", msg);
	if (rc != CURLE_OK)
		return say(res, curl_transient(rc) ? RETRY : FAIL, "%s", msg);
	if (a->code == 416 && a->from.from > 0)
		return say(res, RETRY_AFRESH, "HTTP 416 when resuming at byte %lld",
			   (long long)a->from.from);
	if (a->code < 200 || a->code > 299)
		return say(res, http_transient(a->code) ? RETRY : FAIL, "HTTP %ld", a->code);
	if (a->from.from > 0 && !a->body_started)
		return say(res, RETRY_AFRESH, "HTTP %ld without a body when resuming", a->code);
	return DONE;
}

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

int64_t backoff_ms(struct worker *w, unsigned k, struct fetch_result *res)
{
	const struct fetch_options *o = w->run->o;
	int64_t d = o->retry_delay_ms;
	curl_off_t retry_after = 0;

	for (unsigned i = 0; i < k && d < FETCH_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > FETCH_BACKOFF_MAX_MS)
		d = FETCH_BACKOFF_MAX_MS;
	d = d / 2 + xorshift32(&w->rng) % (uint32_t)(d / 2 + 1);
	curl_easy_getinfo(w->curl, CURLINFO_RETRY_AFTER, &retry_after);
	if (retry_after > INT64_MAX / 1000 || retry_after * 1000 > o->max_retry_after_ms) {
		size_t len = strlen(res->reason);

		snprintf(res->reason + len, FETCH_REASON_MAX - len,
			 ", and Retry-After %lld s is over the limit (%lld ms)",
			 (long long)retry_after, (long long)o->max_retry_after_ms);
		return -1;
	}
	if (retry_after * 1000 > d)
		d = retry_after * 1000;
	return d;
}
