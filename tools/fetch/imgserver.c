// SPDX-License-Identifier: MIT
/*
 * The loopback image server (see imgserver.h for what it serves).
 *
 * One acceptor thread and a pool of handler threads, all ks_threads. The acceptor polls the
 * listening socket and a self-pipe; each accepted socket goes into a bounded ring guarded by a
 * ks_mutex, with two ks_conds: `more` (a socket is waiting: handlers sleep on it) and `room`
 * (the ring has space: the acceptor sleeps on it when every handler is busy). A handler serves
 * exactly one request per connection and closes it (Connection: close), so no idle keep-alive
 * connection can pin a handler.
 *
 * Every deliberate wait (the latency, the drip-feed, the bandwidth throttle) is a timed wait on
 * the ks_event `stop`, so imgsrv_stop() interrupts them at once; sockets carry send and receive
 * timeouts, so a client that stalls cannot hold a handler forever either.
 *
 * `inflight` counts requests inside their latency wait. The count drops before the response's
 * first byte is sent, hence before the client can see it end and start another request: the
 * maximum it reaches is a sound upper bound on the client's concurrency, which the tests use to
 * check the downloader's per-host semaphore.
 *
 * The server binds 127.0.0.1 only: it is a test fixture, never a service.
 */
#include "imgserver.h"
#include "png.h"

#include <ksync/cond.h>
#include <ksync/event.h>
#include <ksync/mutex.h>
#include <ksync/thread.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_QUEUE_LEN		64u	/* accepted sockets waiting for a handler */
#define HITS_MAX		1024u	/* distinct targets counted; later ones are not */
#define TARGET_MAX		512u
#define REQUEST_MAX		8192u	/* request line and headers */
#define IO_TIMEOUT_S		5	/* a stalled client frees its handler after this */
#define LISTEN_BACKLOG		128
#define DRIP_EVERY_MS		50
#define BIG_BYTES		(1ull << 30)
#define THROTTLE_TICK_MS	20	/* the bandwidth limit sends a slice every tick */
#define SEND_SLICE		65536u

struct hit {
	char target[TARGET_MAX];
	unsigned n;
};

struct imgsrv {
	struct imgsrv_config cfg;
	int lfd;
	int wake[2];		/* the self-pipe that ends the acceptor's poll() */
	uint16_t port;
	size_t image_size;
	struct ks_event stop;
	struct ks_thread acceptor;
	struct ks_thread *handlers;
	unsigned nhandlers;

	struct ks_mutex lock;	/* guards conns, head, len, stopping */
	struct ks_cond more;
	struct ks_cond room;
	int conns[CONN_QUEUE_LEN];
	unsigned head, len;
	bool stopping;

	struct ks_mutex hits_lock;
	struct hit *hits;
	unsigned nhits;

	_Atomic unsigned inflight;
	_Atomic unsigned max_inflight;
};

/* ---- small helpers ------------------------------------------------------------------------- */

static bool send_all(int fd, const void *buf, size_t n)
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
static bool pause_ms(struct imgsrv *s, unsigned ms)
{
	return ms == 0 || ks_event_wait_timeout(&s->stop, ms * KS_NSEC_PER_MSEC) == -ETIMEDOUT;
}

/* The body, at the configured rate: a slice every THROTTLE_TICK_MS. */
static bool send_body(struct imgsrv *s, int fd, const uint8_t *p, size_t n)
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

static bool send_head(int fd, int status, const char *extra, long long length)
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

static void send_text(int fd, int status, const char *extra, const char *text)
{
	if (send_head(fd, status, extra, (long long)strlen(text)))
		send_all(fd, text, strlen(text));
}

/* The value of key in a query string ("a=1&b=2"), or dflt. */
static long query_long(const char *query, const char *key, long dflt)
{
	size_t klen = strlen(key);

	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == '=')
			return strtol(p + klen + 1, NULL, 10);
	return dflt;
}

static bool query_is(const char *query, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);

	for (const char *p = query; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == '=' && !strncmp(p + klen + 1, value, vlen) &&
		    (p[klen + 1 + vlen] == '&' || p[klen + 1 + vlen] == '\0'))
			return true;
	return false;
}

/* "N.png" exactly, N < count. */
static bool parse_index(const struct imgsrv *s, const char *name, unsigned *index)
{
	char *end;
	unsigned long n;

	if (*name < '0' || *name > '9')
		return false;
	n = strtoul(name, &end, 10);
	if (strcmp(end, ".png") || n >= s->cfg.count)
		return false;
	*index = (unsigned)n;
	return true;
}

static unsigned hits_bump(struct imgsrv *s, const char *target)
{
	unsigned n = 0;

	ks_mutex_lock(&s->hits_lock);
	for (unsigned i = 0; i < s->nhits; i++) {
		if (!strcmp(s->hits[i].target, target)) {
			n = ++s->hits[i].n;
			break;
		}
	}
	if (!n && s->nhits < HITS_MAX) {
		snprintf(s->hits[s->nhits].target, TARGET_MAX, "%s", target);
		n = s->hits[s->nhits++].n = 1;
	}
	ks_mutex_unlock(&s->hits_lock);
	return n;
}

unsigned imgsrv_hits(struct imgsrv *s, const char *target)
{
	unsigned n = 0;

	ks_mutex_lock(&s->hits_lock);
	for (unsigned i = 0; i < s->nhits; i++)
		if (!strcmp(s->hits[i].target, target))
			n = s->hits[i].n;
	ks_mutex_unlock(&s->hits_lock);
	return n;
}

unsigned imgsrv_max_inflight(struct imgsrv *s)
{
	return atomic_load_explicit(&s->max_inflight, memory_order_relaxed);
}

void imgsrv_reset_max_inflight(struct imgsrv *s)
{
	atomic_store_explicit(&s->max_inflight, 0, memory_order_relaxed);
}

uint16_t imgsrv_port(const struct imgsrv *s)
{
	return s->port;
}

/* The latency, counted in `inflight` (see the top of the file). False if stopping. */
static bool latency_wait(struct imgsrv *s)
{
	/* relaxed: a counter; the ordering that matters is program order before the send */
	unsigned now = atomic_fetch_add_explicit(&s->inflight, 1, memory_order_relaxed) + 1;
	unsigned max = atomic_load_explicit(&s->max_inflight, memory_order_relaxed);
	bool go;

	while (now > max && !atomic_compare_exchange_weak_explicit(&s->max_inflight, &max, now,
								   memory_order_relaxed,
								   memory_order_relaxed))
		;
	go = pause_ms(s, s->cfg.latency_ms);
	atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_relaxed);
	return go;
}

/* ---- one request ----------------------------------------------------------------------------- */

/* Reads the request head; returns its target ("/path?query") in target, or false. */
static bool read_request(int fd, char *target)
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

static void serve_image(struct imgsrv *s, int fd, unsigned index, const char *query,
			unsigned hits)
{
	long fail = query_long(query, "fail", 0), status = query_long(query, "status", 500);
	long retry_after = query_long(query, "retry-after", -1);
	uint8_t *img;

	if (hits <= (unsigned long)fail) {
		char extra[64] = "";

		if (retry_after >= 0)
			snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", retry_after);
		send_text(fd, (int)status, extra, "failing on purpose\n");
		return;
	}
	img = malloc(s->image_size);
	if (!img) {
		send_text(fd, 503, NULL, "out of memory\n");
		return;
	}
	png_image_render(img, index, s->cfg.side);
	if (send_head(fd, 200, "Content-Type: image/png\r\n", (long long)s->image_size))
		send_body(s, fd, img, s->image_size);
	free(img);
}

static void serve_drip(struct imgsrv *s, int fd, unsigned index, const char *query)
{
	long every = query_long(query, "every", DRIP_EVERY_MS);
	uint8_t *img = malloc(s->image_size);

	if (!img)
		return;
	png_image_render(img, index, s->cfg.side);
	if (send_head(fd, 200, "Content-Type: image/png\r\n", (long long)s->image_size))
		for (size_t i = 0; i < s->image_size; i++)
			if (!send_all(fd, img + i, 1) || !pause_ms(s, (unsigned)every))
				break;
	free(img);
}

static void serve_big(struct imgsrv *s, int fd, const char *query)
{
	static const uint8_t zeros[SEND_SLICE];
	bool declare = query_long(query, "declare", 0) != 0;

	if (!send_head(fd, 200, "Content-Type: image/png\r\n", declare ? (long long)BIG_BYTES : -1))
		return;
	for (uint64_t sent = 0; sent < BIG_BYTES; sent += SEND_SLICE)
		if (!send_all(fd, zeros, SEND_SLICE) || ks_event_is_set(&s->stop))
			return;
}

static void serve_reset(struct imgsrv *s, int fd, unsigned index)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	uint8_t *img = malloc(s->image_size);

	if (!img)
		return;
	png_image_render(img, index, s->cfg.side);
	if (send_head(fd, 200, "Content-Type: image/png\r\n", (long long)s->image_size))
		send_all(fd, img, s->image_size / 2);
	free(img);
	/* the caller's close() now sends a RST instead of a FIN */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
}

static void serve_redirect(int fd, const char *location)
{
	char extra[TARGET_MAX + 32];

	snprintf(extra, sizeof(extra), "Location: %s\r\n", location);
	send_text(fd, 302, extra, "moved\n");
}

static void serve(struct imgsrv *s, int fd)
{
	static const struct timeval io_timeout = { .tv_sec = IO_TIMEOUT_S };
	char target[TARGET_MAX], path[TARGET_MAX], location[TARGET_MAX];
	const char *query, *name;
	unsigned index, hits;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &io_timeout, sizeof(io_timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &io_timeout, sizeof(io_timeout));
	if (!read_request(fd, target))
		return;
	hits = hits_bump(s, target);
	if (s->cfg.verbose)
		fprintf(stderr, "imgserver: GET %s\n", target);
	if (!latency_wait(s))
		return;

	snprintf(path, sizeof(path), "%s", target);
	query = strchr(target, '?');
	query = query ? query + 1 : "";
	*strchrnul(path, '?') = '\0';
	name = strrchr(path, '/') + 1;

	if (!strncmp(path, "/hostile/", 9)) {
		serve_image(s, fd, 0, "", 1);
		return;
	}
	if (!parse_index(s, name, &index) || strchr(path + 1, '/') != name - 1) {
		send_text(fd, 404, NULL, "no such image\n");
		return;
	}
	if (!strncmp(path, "/img/", 5)) {
		serve_image(s, fd, index, query, hits);
	} else if (!strncmp(path, "/slow/", 6)) {
		serve_drip(s, fd, index, query);
	} else if (!strncmp(path, "/big/", 5)) {
		serve_big(s, fd, query);
	} else if (!strncmp(path, "/reset/", 7)) {
		serve_reset(s, fd, index);
	} else if (!strncmp(path, "/redirect/", 10)) {
		snprintf(location, sizeof(location), "/img/%u.png", index);
		serve_redirect(fd, location);
	} else if (!strncmp(path, "/redirect-evil/", 15)) {
		if (query_is(query, "to", "name"))
			serve_redirect(fd, "/hostile/..%2F..%2F.bashrc");
		else if (query_is(query, "to", "ftp"))
			serve_redirect(fd, "ftp://127.0.0.1/evil.png");
		else
			serve_redirect(fd, "file:///etc/passwd");
	} else if (!strncmp(path, "/loop/", 6)) {
		serve_redirect(fd, target);
	} else {
		send_text(fd, 404, NULL, "no such image\n");
	}
}

/* ---- the threads --------------------------------------------------------------------------- */

static void *handler_main(void *arg)
{
	struct imgsrv *s = arg;

	for (;;) {
		int fd;

		ks_mutex_lock(&s->lock);
		ks_cond_wait_event(&s->more, &s->lock, s->len || s->stopping);
		if (s->stopping) {
			ks_mutex_unlock(&s->lock);
			return NULL;
		}
		fd = s->conns[s->head];
		s->head = (s->head + 1) % CONN_QUEUE_LEN;
		s->len--;
		ks_mutex_unlock(&s->lock);
		ks_cond_signal(&s->room);

		serve(s, fd);
		close(fd);
	}
}

static void *acceptor_main(void *arg)
{
	struct imgsrv *s = arg;
	struct pollfd pfd[2] = {
		{ .fd = s->lfd, .events = POLLIN },
		{ .fd = s->wake[0], .events = POLLIN },
	};

	for (;;) {
		int fd;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (pfd[1].revents || (pfd[0].revents & (POLLERR | POLLNVAL)))
			return NULL;	/* imgsrv_stop() wrote to the self-pipe */
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		ks_mutex_lock(&s->lock);
		ks_cond_wait_event(&s->room, &s->lock, s->len < CONN_QUEUE_LEN || s->stopping);
		if (s->stopping) {
			ks_mutex_unlock(&s->lock);
			close(fd);
			return NULL;
		}
		s->conns[(s->head + s->len++) % CONN_QUEUE_LEN] = fd;
		ks_mutex_unlock(&s->lock);
		ks_cond_signal(&s->more);
	}
}

static int listen_loopback(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t alen = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, LISTEN_BACKLOG) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

/* Ends and joins what imgsrv_start() got running, then frees everything. */
static void imgsrv_teardown(struct imgsrv *s, bool acceptor, unsigned handlers)
{
	ks_mutex_lock(&s->lock);
	s->stopping = true;
	ks_mutex_unlock(&s->lock);
	ks_cond_broadcast(&s->more);
	ks_cond_broadcast(&s->room);
	ks_event_set(&s->stop);
	if (write(s->wake[1], "x", 1) < 0)
		perror("imgserver: wake");
	if (acceptor)
		ks_thread_join(&s->acceptor, NULL);
	for (unsigned i = 0; i < handlers; i++)
		ks_thread_join(&s->handlers[i], NULL);
	for (; s->len; s->len--, s->head = (s->head + 1) % CONN_QUEUE_LEN)
		close(s->conns[s->head]);
	close(s->wake[0]);
	close(s->wake[1]);
	close(s->lfd);
	free(s->handlers);
	free(s->hits);
	free(s);
}

int imgsrv_start(struct imgsrv **out, const struct imgsrv_config *cfg)
{
	struct imgsrv *s = calloc(1, sizeof(*s));
	unsigned started = 0;
	int err;

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.side)
		s->cfg.side = IMGSRV_SIDE_DEFAULT;
	if (!s->cfg.threads)
		s->cfg.threads = IMGSRV_THREADS_DEFAULT;
	if (s->cfg.side < PNG_SIDE_MIN || s->cfg.side > PNG_SIDE_MAX) {
		free(s);
		return -EINVAL;
	}
	s->image_size = png_image_size(s->cfg.side);
	ks_mutex_init(&s->lock, 0);
	ks_mutex_init(&s->hits_lock, 0);
	ks_cond_init(&s->more, 0);
	ks_cond_init(&s->room, 0);
	ks_event_init(&s->stop, 0);
	s->hits = calloc(HITS_MAX, sizeof(*s->hits));
	s->handlers = calloc(s->cfg.threads, sizeof(*s->handlers));
	if (!s->hits || !s->handlers || pipe2(s->wake, O_CLOEXEC)) {
		free(s->hits);
		free(s->handlers);
		free(s);
		return -ENOMEM;
	}
	s->lfd = listen_loopback(s->cfg.port, &s->port);
	if (s->lfd < 0) {
		err = s->lfd;
		s->lfd = -1;
		imgsrv_teardown(s, false, 0);
		return err;
	}
	for (; started < s->cfg.threads; started++) {
		err = ks_thread_start(&s->handlers[started], handler_main, s);
		if (err) {
			imgsrv_teardown(s, false, started);
			return err;
		}
	}
	err = ks_thread_start(&s->acceptor, acceptor_main, s);
	if (err) {
		imgsrv_teardown(s, false, started);
		return err;
	}
	*out = s;
	return 0;
}

void imgsrv_stop(struct imgsrv *s)
{
	imgsrv_teardown(s, true, s->cfg.threads);
}
