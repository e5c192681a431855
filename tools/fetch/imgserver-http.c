// SPDX-License-Identifier: MIT
/*
 * The loopback server's wire (imgserver-int.h): a request head read whole, a response head, and
 * a body sent at the configured rate. Every pause is a timed wait on the `stop` event, so that
 * imgsrv_stop() ends it at once.
 */
#include "imgserver-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define CLIENT_POLL_MS	20	/* how often a silent route looks for the client's close */

bool send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* Sleeps ms on the stop event: false if the server is stopping. */
bool pause_ms(struct imgsrv *s, unsigned ms)
{
	return ms == 0 || ks_event_wait_timeout(&s->stop, ms * KS_NSEC_PER_MSEC) == -ETIMEDOUT;
}

void wait_client_gone(struct imgsrv *s, int fd, unsigned max_ms)
{
	char c;

	for (unsigned waited = 0; waited < max_ms; waited += CLIENT_POLL_MS) {
		ssize_t k = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
			return;
		if (!pause_ms(s, CLIENT_POLL_MS))
			return;
	}
}

/* The body, at the configured rate: a slice every THROTTLE_TICK_MS. */
bool send_body(struct imgsrv *s, int fd, const uint8_t *p, size_t n)
{
	size_t slice = SEND_SLICE;

	if (s->cfg.rate) {
		uint64_t per_tick = s->cfg.rate * THROTTLE_TICK_MS / 1000;

		slice = per_tick ? (per_tick < SEND_SLICE ? (size_t)per_tick : SEND_SLICE) : 1;
	}
	while (n) {
		size_t k = n < slice ? n : slice;

		if (!send_all(fd, p, k))
			return false;
		p += k;
		n -= k;
		if (n && s->cfg.rate && !pause_ms(s, THROTTLE_TICK_MS))
			return false;
	}
	return true;
}

bool send_head(int fd, int status, const char *extra, long long length, unsigned flags)
{
	char head[1024];
	const char *close = flags & HEAD_KEEP_ALIVE ? "" : "Connection: close\r\n";
	int k = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nServer: ksync-imgserver\r\n"
			 "%s%s", status, status < 300 ? "OK" : status < 400 ? "Found" :
			 status < 500 ? "Client Error" : "Server Error", close, extra ? extra : "");

	if (length >= 0)
		k += snprintf(head + k, sizeof(head) - (size_t)k, "Content-Length: %lld\r\n",
			      length);
	k += snprintf(head + k, sizeof(head) - (size_t)k, "\r\n");
	return k < (int)sizeof(head) && send_all(fd, head, (size_t)k);
}

void send_text(int fd, int status, const char *extra, const char *text)
{
	if (send_head(fd, status, extra, (long long)strlen(text), 0))
		send_all(fd, text, strlen(text));
}

/* The value of key in a query string ("a=1&b=2"), or dflt. */
long query_long(const char *query, const char *key, long dflt)
{
	size_t klen = strlen(key);

	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == '=')
			return strtol(p + klen + 1, NULL, 10);
	return dflt;
}

bool query_is(const char *query, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);

	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
		const char *v = p + klen + 1;

		if (!strncmp(p, key, klen) && p[klen] == '=' && !strncmp(v, value, vlen) &&
		    (v[vlen] == '&' || v[vlen] == '\0'))
			return true;
	}
	return false;
}

/* "Range: bytes=N-" (the only form the downloader sends): N, or -1. */
static long long parse_range(const struct request *rq)
{
	char v[HEADER_VALUE_MAX], *end;
	long long from;

	if (!request_header(rq, "Range", v, sizeof(v)) || strncmp(v, "bytes=", 6))
		return -1;
	from = strtoll(v + 6, &end, 10);
	return end > v + 6 && !strcmp(end, "-") && from >= 0 ? from : -1;
}

/* Reads the request head and parses what the routes use; false if it is not a GET. */
bool read_request(int fd, struct request *rq)
{
	size_t len = 0;
	char *sp, *q;

	while (!memmem(rq->head, len, "\r\n\r\n", 4)) {
		ssize_t k;

		if (len == REQUEST_MAX)
			return false;
		k = recv(fd, rq->head + len, REQUEST_MAX - len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		len += (size_t)k;
	}
	rq->head[len] = '\0';
	if (strncmp(rq->head, "GET /", 5))
		return false;
	sp = strchr(rq->head + 4, ' ');
	if (!sp || (size_t)(sp - (rq->head + 4)) >= TARGET_MAX)
		return false;
	memcpy(rq->target, rq->head + 4, (size_t)(sp - (rq->head + 4)));
	rq->target[sp - (rq->head + 4)] = '\0';
	memcpy(rq->path, rq->target, sizeof(rq->path));
	q = strchr(rq->path, '?');
	if (q)
		*q = '\0';
	rq->query = q ? rq->target + (q - rq->path) + 1 : "";
	rq->name = strrchr(rq->path, '/') + 1;
	rq->range_from = parse_range(rq);
	if (!request_header(rq, "If-Range", rq->if_range, sizeof(rq->if_range)))
		rq->if_range[0] = '\0';
	return true;
}

bool request_header(const struct request *rq, const char *name, char *out, size_t len)
{
	size_t nlen = strlen(name);

	const char *p = strstr(rq->head, "\r\n");

	for (; p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2, *v = line + nlen, *end;

		if (strncasecmp(line, name, nlen) || *v != ':')
			continue;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		end = strstr(v, "\r\n");
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - v) >= len)
			return false;
		memcpy(out, v, (size_t)(end - v));
		out[end - v] = '\0';
		return true;
	}
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool query_text(const char *query, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key), n = 0;

	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) || p[klen] != '=')
			continue;
		for (p += klen + 1; *p && *p != '&' && n + 1 < len; p++) {
			if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				out[n++] = (char)(hexval(p[1]) << 4 | hexval(p[2]));
				p += 2;
			} else {
				out[n++] = *p;
			}
		}
		out[n] = '\0';
		return true;
	}
	return false;
}
