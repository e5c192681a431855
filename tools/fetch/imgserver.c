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
 * The server binds 127.0.0.1 only: it is a test fixture, never a service.
 */
#include "imgserver-int.h"
#include "png.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

		imgsrv_serve(s, fd);
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
	hits_free(&s->hits);
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
	ks_cond_init(&s->more, 0);
	ks_cond_init(&s->room, 0);
	ks_event_init(&s->stop, 0);
	s->handlers = calloc(s->cfg.threads, sizeof(*s->handlers));
	if (hits_init(&s->hits) || !s->handlers || pipe2(s->wake, O_CLOEXEC)) {
		hits_free(&s->hits);
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

