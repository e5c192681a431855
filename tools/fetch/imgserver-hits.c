// SPDX-License-Identifier: MIT
/*
 * How many requests each exact target (path and query) has had: ?fail=K and ?cut=K need it,
 * and the tests read it through imgsrv_hits() and imgsrv_ranged(). A chained hash table that
 * doubles its buckets when it holds two entries a bucket, so every distinct target is counted
 * however many there are (a full table once made ?fail=0 URLs fail: docs/fetch.md). Entries
 * never move or go away before the server stops.
 */
#include "imgserver-int.h"

#include <stdlib.h>
#include <string.h>

#define HITS_BUCKETS_MIN	256u

/* FNV-1a: short keys, no adversary (the server listens on loopback only). */
static size_t hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

int hits_init(struct hits *h)
{
	ks_mutex_init(&h->lock, 0);
	h->n = 0;
	h->nbuckets = HITS_BUCKETS_MIN;
	h->bucket = calloc(h->nbuckets, sizeof(*h->bucket));
	return h->bucket ? 0 : -ENOMEM;
}

void hits_free(struct hits *h)
{
	for (size_t i = 0; h->bucket && i < h->nbuckets; i++) {
		while (h->bucket[i]) {
			struct hit *e = h->bucket[i];

			h->bucket[i] = e->next;
			free(e);
		}
	}
	free(h->bucket);
	h->bucket = NULL;
}

static struct hit *lookup(const struct hits *h, const char *target)
{
	struct hit *e = h->bucket[hash(target) & (h->nbuckets - 1)];

	while (e && strcmp(e->target, target))
		e = e->next;
	return e;
}

/* Twice the buckets; if there is no memory for them, the chains just grow longer. */
static void grow(struct hits *h)
{
	size_t nb = h->nbuckets * 2;
	struct hit **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < h->nbuckets; i++) {
		while (h->bucket[i]) {
			struct hit *e = h->bucket[i];

			h->bucket[i] = e->next;
			e->next = b[hash(e->target) & (nb - 1)];
			b[hash(e->target) & (nb - 1)] = e;
		}
	}
	free(h->bucket);
	h->bucket = b;
	h->nbuckets = nb;
}

static struct hit *insert(struct hits *h, const char *target)
{
	size_t len = strlen(target) + 1;
	struct hit *e = malloc(sizeof(*e) + len);
	size_t i;

	if (!e)
		return NULL;
	if (h->n >= 2 * h->nbuckets)
		grow(h);
	memcpy(e->target, target, len);
	e->n = e->ranged = 0;
	i = hash(target) & (h->nbuckets - 1);
	e->next = h->bucket[i];
	h->bucket[i] = e;
	h->n++;
	return e;
}

unsigned hits_bump(struct hits *h, const char *target, bool ranged)
{
	struct hit *e;
	unsigned n = 0;

	ks_mutex_lock(&h->lock);
	e = lookup(h, target);
	if (!e)
		e = insert(h, target);
	if (e) {
		n = ++e->n;
		e->ranged += ranged;
	}
	ks_mutex_unlock(&h->lock);
	return n;
}

/* Target's requests, and how many of them asked for a range (zeros if none came). */
static void counts(struct imgsrv *s, const char *target, unsigned *n, unsigned *ranged)
{
	struct hit *e;

	ks_mutex_lock(&s->hits.lock);
	e = lookup(&s->hits, target);
	*n = e ? e->n : 0;
	*ranged = e ? e->ranged : 0;
	ks_mutex_unlock(&s->hits.lock);
}

unsigned imgsrv_hits(struct imgsrv *s, const char *target)
{
	unsigned n, ranged;

	counts(s, target, &n, &ranged);
	return n;
}

unsigned imgsrv_ranged(struct imgsrv *s, const char *target)
{
	unsigned n, ranged;

	counts(s, target, &n, &ranged);
	return ranged;
}
