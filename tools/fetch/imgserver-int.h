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
#define BIG_BYTES		(1ull << 30)	/* the endless bodies' end */
#define GATE_MAX_MS		5000	/* ?gate=K gives up waiting for company after this */
#define SILENT_MAX_MS		60000	/* /silent/ holds a connection at most this long */
#define HEADER_VALUE_MAX	256u
#define THROTTLE_TICK_MS	20	/* the bandwidth limit sends a slice every tick */
#define SEND_SLICE		65536u

/* One request, as read (imgserver-http.c) and routed (imgserver-routes.c). */
struct request {
	char head[REQUEST_MAX + 1];	/* the request line and headers, NUL-terminated */
	char target[TARGET_MAX];	/* "/path?query" */
	char path[TARGET_MAX];		/* "/path" */
	const char *query;		/* in target, after the '?'; "" if none */
	const char *name;		/* in path, the last segment */
	long long range_from;		/* "Range: bytes=N-" gives N; -1 without one */
	char if_range[HEADER_VALUE_MAX];	/* the If-Range header, or "" */
	unsigned hits;			/* requests of this target so far, this one included */
};

/* Each target's counts, in a hash table that grows (chained: entries never move). */
struct hit {
	struct hit *next;
	unsigned n;			/* requests */
	unsigned ranged;		/* of which with a Range header */
	char target[];
};

struct hits {
	struct ks_mutex lock;		/* guards everything below */
	struct hit **bucket;
	size_t nbuckets, n;
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

/* imgserver-hits.c */
int hits_init(struct hits *h);		/* 0 or -ENOMEM */
void hits_free(struct hits *h);
/* Counts one request of target: how many it has had, this one included (0: out of memory). */
unsigned hits_bump(struct hits *h, const char *target, bool ranged);

/* imgserver-http.c */
#define HEAD_KEEP_ALIVE	0x1u	/* no "Connection: close": the client may drain the body */
bool send_all(int fd, const void *buf, size_t n);
bool send_head(int fd, int status, const char *extra, long long length, unsigned flags);
void send_text(int fd, int status, const char *extra, const char *text);
bool send_body(struct imgsrv *s, int fd, const uint8_t *p, size_t n);
bool pause_ms(struct imgsrv *s, unsigned ms);
/* Sleeps until the client closes its end, the server stops, or max_ms pass. */
void wait_client_gone(struct imgsrv *s, int fd, unsigned max_ms);
bool read_request(int fd, struct request *rq);
/* The value of the request header `name` (case-insensitive) in out, or false. */
bool request_header(const struct request *rq, const char *name, char *out, size_t len);
long query_long(const char *query, const char *key, long dflt);
bool query_is(const char *query, const char *key, const char *value);
/* The value of key, percent-decoded, in out; false if absent. */
bool query_text(const char *query, const char *key, char *out, size_t len);

/* imgserver-routes.c: one request on fd, answered. */
void imgsrv_serve(struct imgsrv *s, int fd);

#endif /* KSYNC_FETCH_IMGSERVER_INT_H */
