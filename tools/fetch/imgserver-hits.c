// SPDX-License-Identifier: MIT
/*
 * How many requests each exact target (path and query) has had: the server's ?fail=K needs it,
 * and the tests read it through imgsrv_hits().
 */
#include "imgserver-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HITS_MAX		1024u	/* distinct targets counted; later ones are not */

int hits_init(struct hits *h)
{
	ks_mutex_init(&h->lock, 0);
	h->n = 0;
	h->v = calloc(HITS_MAX, sizeof(*h->v));
	return h->v ? 0 : -ENOMEM;
}

void hits_free(struct hits *h)
{
	free(h->v);
	h->v = NULL;
}

unsigned hits_bump(struct hits *h, const char *target)
{
	unsigned n = 0;

	ks_mutex_lock(&h->lock);
	for (unsigned i = 0; i < h->n; i++) {
		if (!strcmp(h->v[i].target, target)) {
			n = ++h->v[i].n;
			break;
		}
	}
	if (!n && h->n < HITS_MAX) {
		snprintf(h->v[h->n].target, TARGET_MAX, "%s", target);
		n = h->v[h->n++].n = 1;
	}
	ks_mutex_unlock(&h->lock);
	return n;
}

unsigned imgsrv_hits(struct imgsrv *s, const char *target)
{
	struct hits *h = &s->hits;
	unsigned n = 0;

	ks_mutex_lock(&h->lock);
	for (unsigned i = 0; i < h->n; i++)
		if (!strcmp(h->v[i].target, target))
			n = h->v[i].n;
	ks_mutex_unlock(&h->lock);
	return n;
}
