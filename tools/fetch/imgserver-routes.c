// SPDX-License-Identifier: MIT
/*
 * What the loopback server serves (the paths are listed in imgserver.h). `inflight` counts
 * requests inside their latency wait; the count drops before the response's first byte is
 * sent, hence before the client can see it end and start another request: the maximum it
 * reaches is a sound upper bound on the client's concurrency, which the tests use to check the
 * downloader's per-host semaphore.
 */
#include "imgserver-int.h"
#include "png.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

/* The latency, counted in `inflight` (see above). False if stopping. */
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

void imgsrv_serve(struct imgsrv *s, int fd)
{
	static const struct timeval io_timeout = { .tv_sec = IO_TIMEOUT_S };
	char target[TARGET_MAX], path[TARGET_MAX], location[TARGET_MAX];
	const char *query, *name;
	unsigned index, hits;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &io_timeout, sizeof(io_timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &io_timeout, sizeof(io_timeout));
	if (!read_request(fd, target))
		return;
	hits = hits_bump(&s->hits, target);
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
