/* SPDX-License-Identifier: MIT */
/*
 * The downloader's work queue: a bounded FIFO of pointers, the textbook producer/consumer on one
 * ks_mutex and two ks_conds. The producer sleeps on `room` while the ring is full; consumers
 * sleep on `items` while it is empty; close() wakes everyone, after which pop() drains what is
 * left and then returns NULL (a consumer's signal to exit).
 */
#ifndef KSYNC_FETCH_QUEUE_H
#define KSYNC_FETCH_QUEUE_H

#include <ksync/cond.h>
#include <ksync/mutex.h>

#include <stdbool.h>
#include <stddef.h>

struct work_queue {
	struct ks_mutex lock;	/* guards everything below */
	struct ks_cond items;	/* len > 0 or closed */
	struct ks_cond room;	/* len < cap or closed */
	void **ring;
	size_t cap, head, len;
	bool closed;
};

/* 0 or -ENOMEM. */
int work_queue_init(struct work_queue *q, size_t cap);
void work_queue_free(struct work_queue *q);

/* Blocks while full. 0, or -EPIPE once the queue is closed. */
int work_queue_push(struct work_queue *q, void *item);

/* Blocks while empty and open. The oldest item, or NULL once closed and drained. */
void *work_queue_pop(struct work_queue *q);

/* No more pushes: wakes every waiter. */
void work_queue_close(struct work_queue *q);

#endif /* KSYNC_FETCH_QUEUE_H */
