/* SPDX-License-Identifier: MIT */
/*
 * Inside the loopback image server: the server's state and what its files share.
 *
 *	imgserver.c		the acceptor and handler threads, start and stop
 *	imgserver-routes.c	what each path serves, and how it misbehaves
 *	imgserver-http.c	the wire: reading a request, sending a head and a body at a rate
 *	imgserver-hits.c	how many requests each target has had
 */
#ifndef KSYNC_FETCH_IMGSERVER_INT_H
#define KSYNC_FETCH_IMGSERVER_INT_H

#include "imgserver.h"

#include <ksync/cond.h>
#include <ksync/event.h>
#include <ksync/mutex.h>
#include <ksync/thread.h>

#include <stddef.h>

#define CONN_QUEUE_LEN		64u	/* accepted sockets waiting for a handler */
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

struct hits {
	struct ks_mutex lock;
	struct hit *v;
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

	struct hits hits;

	_Atomic unsigned inflight;
	_Atomic unsigned max_inflight;
};

/* imgserver-hits.c: 0 or -ENOMEM; the count of target after this request. */
int hits_init(struct hits *h);
void hits_free(struct hits *h);
unsigned hits_bump(struct hits *h, const char *target);

/* imgserver-http.c */
bool send_all(int fd, const void *buf, size_t n);
bool send_head(int fd, int status, const char *extra, long long length);
void send_text(int fd, int status, const char *extra, const char *text);
bool send_body(struct imgsrv *s, int fd, const uint8_t *p, size_t n);
bool pause_ms(struct imgsrv *s, unsigned ms);
bool read_request(int fd, char *target);
long query_long(const char *query, const char *key, long dflt);
bool query_is(const char *query, const char *key, const char *value);

/* imgserver-routes.c: one request on fd, answered. */
void imgsrv_serve(struct imgsrv *s, int fd);

#endif /* KSYNC_FETCH_IMGSERVER_INT_H */
