// SPDX-License-Identifier: MIT
/*
 * Retries. Transient failures (timeouts, connection refused or reset, truncated bodies, HTTP
 * 408, 429 and 5xx) are retried up to `retries` times after a backoff of retry_delay * 2^k
 * (capped at FETCH_BACKOFF_MAX_MS) with "equal jitter" (half fixed, half random, so that
 * workers failing together do not retry together), or after the server's Retry-After when that
 * is longer; a Retry-After beyond max_retry_after_s fails at once rather than stall the run.
 * Other failures (4xx, refused redirects, oversize, local I/O) are final at once.
 */
#include "retry.h"

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

enum outcome attempt_outcome(struct worker *w, CURLcode rc, const struct sink *s,
			     struct fetch_result *res)
{
	const struct fetch_options *o = w->run->o;
	const char *msg = w->errbuf[0] ? w->errbuf : curl_easy_strerror(rc);
	long code = 0, redirects = 0;

	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(w->curl, CURLINFO_REDIRECT_COUNT, &redirects);
	if (s->oversize || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(res->reason, FETCH_REASON_MAX, "larger than the maximum size (%lld bytes)",
			 (long long)o->max_size);
		return FAIL;
	}
	if (s->io_errno) {
		snprintf(res->reason, FETCH_REASON_MAX, "cannot write: %s", strerror(s->io_errno));
		return FAIL;
	}
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(res->reason, FETCH_REASON_MAX, "interrupted");
		return FAIL;
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL && redirects) {
		snprintf(res->reason, FETCH_REASON_MAX, "redirect refused (only http and https): %s",
			 msg);
		return FAIL;
	}
	if (rc != CURLE_OK) {
		snprintf(res->reason, FETCH_REASON_MAX, "%s", msg);
		return curl_transient(rc) ? RETRY : FAIL;
	}
	if (code < 200 || code > 299) {
		snprintf(res->reason, FETCH_REASON_MAX, "HTTP %ld", code);
		return http_transient(code) ? RETRY : FAIL;
	}
	return DONE;
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
	if (retry_after > o->max_retry_after_s) {
		size_t len = strlen(res->reason);

		snprintf(res->reason + len, FETCH_REASON_MAX - len,
			 ", and Retry-After %lld s is over the limit", (long long)retry_after);
		return -1;
	}
	if (retry_after * 1000 > d)
		d = retry_after * 1000;
	return d;
}
