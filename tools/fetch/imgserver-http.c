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
#include <sys/socket.h>

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

bool send_head(int fd, int status, const char *extra, long long length)
{
	char head[1024];
	int k = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nServer: ksync-imgserver\r\n"
			 "Connection: close\r\n%s", status, status < 300 ? "OK" :
			 status < 400 ? "Found" : status < 500 ? "Client Error" : "Server Error",
			 extra ? extra : "");

	if (length >= 0)
		k += snprintf(head + k, sizeof(head) - (size_t)k, "Content-Length: %lld\r\n",
			      length);
	k += snprintf(head + k, sizeof(head) - (size_t)k, "\r\n");
	return k < (int)sizeof(head) && send_all(fd, head, (size_t)k);
}

void send_text(int fd, int status, const char *extra, const char *text)
{
	if (send_head(fd, status, extra, (long long)strlen(text)))
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

	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == '=' && !strncmp(p + klen + 1, value, vlen) &&
		    (p[klen + 1 + vlen] == '&' || p[klen + 1 + vlen] == '\0'))
			return true;
	return false;
}

/* Reads the request head; returns its target ("/path?query") in target, or false. */
bool read_request(int fd, char *target)
{
	char buf[REQUEST_MAX + 1];
	size_t len = 0;
	char *sp;

	while (!memmem(buf, len, "\r\n\r\n", 4)) {
		ssize_t k;

		if (len == REQUEST_MAX)
			return false;
		k = recv(fd, buf + len, REQUEST_MAX - len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		len += (size_t)k;
	}
	buf[len] = '\0';
	if (strncmp(buf, "GET /", 5))
		return false;
	sp = strchr(buf + 4, ' ');
	if (!sp || (size_t)(sp - (buf + 4)) >= TARGET_MAX)
		return false;
	memcpy(target, buf + 4, (size_t)(sp - (buf + 4)));
	target[sp - (buf + 4)] = '\0';
	return true;
}
