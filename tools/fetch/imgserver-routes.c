// SPDX-License-Identifier: MIT
/*
 * What the loopback server serves (the paths are listed in imgserver.h and docs/fetch.md).
 *
 * Images come with "Accept-Ranges: bytes" and a strong ETag, and honour "Range: bytes=N-"
 * (with If-Range), so that the downloader's resume can be shown and tested; the query turns
 * each of these off, or makes the response misbehave.
 *
 * `inflight` counts requests inside their latency wait; the count drops before the response's
 * first byte is sent, hence before the client can see it end and start another request: the
 * maximum it reaches is a sound upper bound on the client's concurrency, which the tests use to
 * check the downloader's per-host semaphore. ?gate=K holds a request in that wait until the
 * maximum has reached K (or GATE_MAX_MS pass): K requests that may run at once then all go
 * through together, and one that can never have company shows as a wait of GATE_MAX_MS.
 */
#include "imgserver-int.h"
#include "png.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define CUT_LINGER	{ .l_onoff = 1, .l_linger = 0 }	/* close() sends a RST, not a FIN */
#define FLOOD_LINE	"X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"

/* The part of an image a response carries. */
struct body {
	int status;			/* 200, 206 or 416 */
	size_t from, len;
	char head[HEADER_VALUE_MAX * 2];	/* the extra header lines */
};

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

static void note_inflight(struct imgsrv *s, unsigned now)
{
	unsigned max = atomic_load_explicit(&s->max_inflight, memory_order_relaxed);

	while (now > max && !atomic_compare_exchange_weak_explicit(&s->max_inflight, &max, now,
								   memory_order_relaxed,
								   memory_order_relaxed))
		;
}

/* Until `gate` requests were in their latency wait at once; false if stopping. */
static bool gate_wait(struct imgsrv *s, unsigned gate)
{
	for (unsigned waited = 0; waited < GATE_MAX_MS; waited++) {
		if (atomic_load_explicit(&s->max_inflight, memory_order_relaxed) >= gate)
			return true;
		if (!pause_ms(s, 1))
			return false;
	}
	return true;
}

/* The latency (and ?delay=MS, ?gate=K), counted in `inflight`. False if stopping. */
static bool latency_wait(struct imgsrv *s, const struct request *rq)
{
	long delay = query_long(rq->query, "delay", 0), gate = query_long(rq->query, "gate", 0);
	/* relaxed: a counter; the ordering that matters is program order before the send */
	unsigned now = atomic_fetch_add_explicit(&s->inflight, 1, memory_order_relaxed) + 1;
	bool go;

	note_inflight(s, now);
	go = pause_ms(s, s->cfg.latency_ms) && (delay <= 0 || pause_ms(s, (unsigned)delay)) &&
	     (gate <= 0 || gate_wait(s, (unsigned)gate));
	atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_relaxed);
	return go;
}

/* The image's validator: ?change=1 makes it differ on every request (a resource that moves). */
static void etag(const struct imgsrv *s, const struct request *rq, unsigned index, char *out,
		 size_t len)
{
	if (query_long(rq->query, "change", 0))
		snprintf(out, len, "\"%u-%u-v%u\"", index, s->cfg.side, rq->hits);
	else
		snprintf(out, len, "\"%u-%u\"", index, s->cfg.side);
}

/* Which bytes of an image of `size` this request gets, and the header lines that say so. */
static void plan_body(const struct imgsrv *s, const struct request *rq, unsigned index,
		      size_t size, struct body *b)
{
	bool ranges = query_long(rq->query, "ranges", 1) != 0;
	bool validator = query_long(rq->query, "etag", 1) != 0;
	char tag[64];
	size_t skew;
	int k;

	etag(s, rq, index, tag, sizeof(tag));
	*b = (struct body){ .status = 200, .len = size };
	k = snprintf(b->head, sizeof(b->head), "Content-Type: image/png\r\n%s",
		     ranges ? "Accept-Ranges: bytes\r\n" : "");
	if (validator)
		k += snprintf(b->head + k, sizeof(b->head) - (size_t)k, "ETag: %s\r\n", tag);
	if (!ranges || rq->range_from < 0 || (rq->if_range[0] && strcmp(rq->if_range, tag)))
		return;
	if ((size_t)rq->range_from >= size) {
		b->status = 416;
		b->len = 0;
		snprintf(b->head + k, sizeof(b->head) - (size_t)k, "Content-Range: bytes */%zu\r\n",
			 size);
		return;
	}
	b->status = 206;
	b->from = (size_t)rq->range_from;
	skew = (size_t)query_long(rq->query, "skew", 0);
	b->from -= skew < b->from ? skew : b->from;	/* ?skew=N: N bytes early, and says so */
	b->len = size - b->from;
	snprintf(b->head + k, sizeof(b->head) - (size_t)k, "Content-Range: bytes %zu-%zu/%zu\r\n",
		 b->from, size - 1, size);
}

/* Ends the connection with a RST once the caller closes it. */
static void cut(int fd)
{
	static const struct linger rst = CUT_LINGER;

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
}

/* ?fail=K&status=S&retry-after=T: true if this request was answered with the failure. */
static bool failed_on_purpose(int fd, const struct request *rq)
{
	long fail = query_long(rq->query, "fail", 0), status = query_long(rq->query, "status", 500);
	long retry_after = query_long(rq->query, "retry-after", -1);
	char extra[64] = "";

	/* hits is 0 when the table had no memory: serve the image rather than fail forever */
	if (fail <= 0 || rq->hits == 0 || rq->hits > (unsigned long)fail)
		return false;
	if (retry_after >= 0)
		snprintf(extra, sizeof(extra), "Retry-After: %ld\r\n", retry_after);
	send_text(fd, (int)status, extra, "failing on purpose\n");
	return true;
}

/* ?header=NAME:VALUE: true (and a 400 sent) unless the request carries that header. */
static bool missing_header(int fd, const struct request *rq)
{
	char want[HEADER_VALUE_MAX], got[HEADER_VALUE_MAX], *colon;

	if (!query_text(rq->query, "header", want, sizeof(want)))
		return false;
	colon = strchr(want, ':');
	if (colon) {
		*colon = '\0';
		for (colon++; *colon == ' '; colon++)
			;
	}
	if (colon && request_header(rq, want, got, sizeof(got)) && !strcmp(got, colon))
		return false;
	send_text(fd, 400, NULL, "missing header\n");
	return true;
}

/*
 * /img/N.png: the image, whole or from the asked-for byte, at the rate. ?cut=K: the first K
 * requests of this target stop halfway through what they were sent, with a reset.
 * ?overclaim=K: the first K announce one byte more than they send, send it all, then reset.
 */
static void serve_image(struct imgsrv *s, int fd, const struct request *rq, unsigned index)
{
	long cuts = query_long(rq->query, "cut", 0), over = query_long(rq->query, "overclaim", 0);
	bool cutting = cuts > 0 && rq->hits <= (unsigned long)cuts;
	bool claiming = over > 0 && rq->hits <= (unsigned long)over;
	struct body b;
	uint8_t *img;

	if (failed_on_purpose(fd, rq) || missing_header(fd, rq))
		return;
	img = malloc(s->image_size);
	if (!img) {
		send_text(fd, 503, NULL, "out of memory\n");
		return;
	}
	png_image_render(img, index, s->cfg.side);
	plan_body(s, rq, index, s->image_size, &b);
	if (send_head(fd, b.status, b.head, (long long)b.len + claiming, 0)) {
		send_body(s, fd, img + b.from, cutting ? b.len / 2 : b.len);
		if (cutting || claiming)
			cut(fd);
	}
	free(img);
}

/* /slow/N.png?every=MS: the image (or the asked-for part) one byte every MS ms. */
static void serve_drip(struct imgsrv *s, int fd, const struct request *rq, unsigned index)
{
	long every = query_long(rq->query, "every", DRIP_EVERY_MS);
	uint8_t *img = malloc(s->image_size);
	struct body b;

	if (!img)
		return;
	png_image_render(img, index, s->cfg.side);
	plan_body(s, rq, index, s->image_size, &b);
	if (send_head(fd, b.status, b.head, (long long)b.len, 0))
		for (size_t i = 0; i < b.len; i++)
			if (!send_all(fd, img + b.from + i, 1) || !pause_ms(s, (unsigned)every))
				break;
	free(img);
}

/* Zeros until BIG_BYTES, the client leaves, or the server stops. */
static void send_endless(struct imgsrv *s, int fd, bool chunked)
{
	static const uint8_t zeros[SEND_SLICE];
	char size[32];
	int k = snprintf(size, sizeof(size), "%x\r\n", SEND_SLICE);

	for (uint64_t sent = 0; sent < BIG_BYTES; sent += SEND_SLICE) {
		if (chunked && !send_all(fd, size, (size_t)k))
			return;
		if (!send_all(fd, zeros, SEND_SLICE) || (chunked && !send_all(fd, "\r\n", 2)) ||
		    ks_event_is_set(&s->stop))
			return;
	}
}

/* /big/N.png: an endless 200 body, without Content-Length unless ?declare=1. */
static void serve_big(struct imgsrv *s, int fd, const struct request *rq)
{
	bool declare = query_long(rq->query, "declare", 0) != 0;

	long long length = declare ? (long long)BIG_BYTES : -1;

	if (send_head(fd, 200, "Content-Type: image/png\r\n", length, 0))
		send_endless(s, fd, false);
}

/* /error-endless/N.png?status=S: an error (500) whose body never ends. */
static void serve_error_endless(struct imgsrv *s, int fd, const struct request *rq)
{
	if (send_head(fd, (int)query_long(rq->query, "status", 500), NULL, -1, 0))
		send_endless(s, fd, false);
}

/* /redirect-endless/N.png: a 302 to /img/N.png whose chunked body never ends, on a
 * connection left open, so that a client following the redirect must drain it. */
static void serve_redirect_endless(struct imgsrv *s, int fd, unsigned index)
{
	char extra[TARGET_MAX + 64];

	snprintf(extra, sizeof(extra), "Location: /img/%u.png\r\nTransfer-Encoding: chunked\r\n",
		 index);
	if (send_head(fd, 302, extra, -1, HEAD_KEEP_ALIVE))
		send_endless(s, fd, true);
}

/* /header-flood/N.png: a 200 status line, then header lines that never end. */
static void serve_header_flood(struct imgsrv *s, int fd)
{
	static const char status[] = "HTTP/1.1 200 OK\r\n";

	if (!send_all(fd, status, sizeof(status) - 1))
		return;
	for (uint64_t sent = 0; sent < BIG_BYTES; sent += sizeof(FLOOD_LINE) - 1)
		if (!send_all(fd, FLOOD_LINE, sizeof(FLOOD_LINE) - 1) || ks_event_is_set(&s->stop))
			return;
}

/* /reset/N.png: half the image, then a TCP reset, every time (no ranges: resuming fails). */
static void serve_reset(struct imgsrv *s, int fd, unsigned index)
{
	uint8_t *img = malloc(s->image_size);

	if (!img)
		return;
	png_image_render(img, index, s->cfg.side);
	if (send_head(fd, 200, "Content-Type: image/png\r\n", (long long)s->image_size, 0))
		send_all(fd, img, s->image_size / 2);
	free(img);
	cut(fd);
}

static void serve_redirect(int fd, const char *location)
{
	char extra[TARGET_MAX + 32];

	snprintf(extra, sizeof(extra), "Location: %s\r\n", location);
	send_text(fd, 302, extra, "moved\n");
}

static void serve_redirect_evil(int fd, const struct request *rq)
{
	if (query_is(rq->query, "to", "name"))
		serve_redirect(fd, "/hostile/..%2F..%2F.bashrc");
	else if (query_is(rq->query, "to", "ftp"))
		serve_redirect(fd, "ftp://127.0.0.1/evil.png");
	else
		serve_redirect(fd, "file:///etc/passwd");
}

/* The routes under /ROUTE/N.png. */
static void route(struct imgsrv *s, int fd, const struct request *rq, unsigned index)
{
	char location[TARGET_MAX];
	const char *p = rq->path;

	if (!strncmp(p, "/img/", 5)) {
		serve_image(s, fd, rq, index);
	} else if (!strncmp(p, "/slow/", 6)) {
		serve_drip(s, fd, rq, index);
	} else if (!strncmp(p, "/big/", 5)) {
		serve_big(s, fd, rq);
	} else if (!strncmp(p, "/error-endless/", 15)) {
		serve_error_endless(s, fd, rq);
	} else if (!strncmp(p, "/redirect-endless/", 18)) {
		serve_redirect_endless(s, fd, index);
	} else if (!strncmp(p, "/header-flood/", 14)) {
		serve_header_flood(s, fd);
	} else if (!strncmp(p, "/silent/", 8)) {
		wait_client_gone(s, fd, SILENT_MAX_MS);
	} else if (!strncmp(p, "/reset/", 7)) {
		serve_reset(s, fd, index);
	} else if (!strncmp(p, "/redirect/", 10)) {
		snprintf(location, sizeof(location), "/img/%u.png", index);
		serve_redirect(fd, location);
	} else if (!strncmp(p, "/redirect-evil/", 15)) {
		serve_redirect_evil(fd, rq);
	} else if (!strncmp(p, "/loop/", 6)) {
		serve_redirect(fd, rq->target);
	} else {
		send_text(fd, 404, NULL, "no such image\n");
	}
}

void imgsrv_serve(struct imgsrv *s, int fd)
{
	static const struct timeval io_timeout = { .tv_sec = IO_TIMEOUT_S };
	struct request *rq = malloc(sizeof(*rq));
	unsigned index;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &io_timeout, sizeof(io_timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &io_timeout, sizeof(io_timeout));
	if (!rq || !read_request(fd, rq))
		goto out;
	rq->hits = hits_bump(&s->hits, rq->target, rq->range_from >= 0);
	if (s->cfg.verbose)
		fprintf(stderr, "imgserver: GET %s\n", rq->target);
	if (!latency_wait(s, rq))
		goto out;
	if (!strncmp(rq->path, "/hostile/", 9)) {
		static const struct request plain = { .query = "", .range_from = -1, .hits = 1 };

		serve_image(s, fd, &plain, 0);
	} else if (!parse_index(s, rq->name, &index) || strchr(rq->path + 1, '/') != rq->name - 1) {
		send_text(fd, 404, NULL, "no such image\n");
	} else {
		route(s, fd, rq, index);
	}
out:
	free(rq);
}
