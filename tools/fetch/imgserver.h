/* SPDX-License-Identifier: MIT */
/*
 * The loopback image server: serves generated PNGs on 127.0.0.1 with a chosen latency and
 * bandwidth, and misbehaves on request, so that the downloader can be demonstrated and tested
 * offline. Runs inside any process (imgsrv_start) or standalone (ksync-imgserver).
 *
 *	/img/N.png		image N (0 <= N < count), with Accept-Ranges and an ETag; a
 *				"Range: bytes=K-" (and If-Range) gets 206 and the rest
 *	    ?fail=K&status=S&retry-after=T	the first K requests of this exact URL get status S
 *					(default 500) with "Retry-After: T" if given
 *	    ?cut=K			the first K requests stop halfway, with a TCP reset
 *	    ?overclaim=K		the first K announce a byte more than the image, then reset
 *	    ?delay=MS, ?gate=K		wait MS more; wait until K requests waited at once (5 s max)
 *	    ?ranges=0, ?etag=0, ?change=1	no ranges; no ETag; an ETag new on every request
 *	    ?skew=N			a range starts N bytes before the one asked (and says so)
 *	    ?header=NAME:VALUE		400 unless the request carries that header
 *	/slow/N.png[?every=MS]	drip-feed: one byte every MS ms (default 50); ranges as /img/
 *	/big/N.png[?declare=1]	an endless body (1 GiB), with no Content-Length unless declare=1
 *	/error-endless/N.png	an error status (?status=S, default 500) with an endless body
 *	/redirect-endless/N.png	302 to /img/N.png with an endless chunked body, connection open
 *	/header-flood/N.png	a status line, then header lines without end
 *	/silent/N.png		reads the request and never answers (until the client leaves)
 *	/reset/N.png		half the body, then a TCP reset, every time (no ranges)
 *	/redirect/N.png		302 to /img/N.png
 *	/redirect-evil/N.png?to=file|ftp|name	302 to file:///etc/passwd, to ftp://, or to a URL
 *					whose last segment is "..%2F..%2F.bashrc"
 *	/hostile/...		image 0, whatever the name
 *	/loop/N.png		302 to itself, forever
 */
#ifndef KSYNC_FETCH_IMGSERVER_H
#define KSYNC_FETCH_IMGSERVER_H

#include <stdbool.h>
#include <stdint.h>

struct imgsrv_config {
	unsigned count;		/* images /img/0.png … /img/(count-1).png */
	unsigned side;		/* pixels; 0: IMGSRV_SIDE_DEFAULT */
	unsigned latency_ms;	/* before each response */
	uint64_t rate;		/* bytes per second per response; 0: unlimited */
	unsigned threads;	/* connection handlers; 0: IMGSRV_THREADS_DEFAULT */
	uint16_t port;		/* 0: any free port */
	bool verbose;		/* one line per request on stderr */
};

#define IMGSRV_SIDE_DEFAULT	128u
#define IMGSRV_SIDE_MIN		8u	/* PNG_SIDE_MIN and _MAX (png.h) */
#define IMGSRV_SIDE_MAX		1024u
#define IMGSRV_THREADS_DEFAULT	32u

struct imgsrv;

/* Binds 127.0.0.1 and starts serving: 0 or a negative errno. */
int imgsrv_start(struct imgsrv **srv, const struct imgsrv_config *cfg);
uint16_t imgsrv_port(const struct imgsrv *srv);

/* How many requests this exact target (path and query) has had so far; how many of them
 * asked for a range. Every distinct target is counted, however many there are. */
unsigned imgsrv_hits(struct imgsrv *srv, const char *target);
unsigned imgsrv_ranged(struct imgsrv *srv, const char *target);

/* The most requests seen in their latency wait at once, since the last reset. */
unsigned imgsrv_max_inflight(struct imgsrv *srv);
void imgsrv_reset_max_inflight(struct imgsrv *srv);

/* Stops accepting, ends every connection, joins the threads and frees srv. */
void imgsrv_stop(struct imgsrv *srv);

#endif /* KSYNC_FETCH_IMGSERVER_H */
