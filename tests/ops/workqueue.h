/* SPDX-License-Identifier: MIT */
/* ks_workqueue as the harnesses see it: its own table. */
#ifndef KSYNC_TESTS_OPS_WORKQUEUE_H
#define KSYNC_TESTS_OPS_WORKQUEUE_H

#include <ksync/workqueue.h>

#include "ops.h"

struct workqueue_ops {
	const char *name;
	unsigned caps;
	int (*create)(void **wq, unsigned nthreads);
	bool (*queue)(void *wq, struct ks_work *work);
	int (*flush)(void *wq);
	int (*destroy)(void *wq);
};

static inline int ops_workqueue_create(void **wq, unsigned nthreads)
{
	return ks_workqueue_create((struct ks_workqueue **)wq, nthreads);
}

static inline bool ops_workqueue_queue(void *wq, struct ks_work *work)
{
	return ks_workqueue_queue(wq, work);
}

static inline int ops_workqueue_flush(void *wq)
{
	return ks_workqueue_flush(wq);
}

static inline int ops_workqueue_destroy(void *wq)
{
	return ks_workqueue_destroy(wq);
}

static const struct workqueue_ops ops_workqueue __attribute__((unused)) = {
	.name = "workqueue",
	.caps = OPS_SLEEPS,
	.create = ops_workqueue_create,
	.queue = ops_workqueue_queue,
	.flush = ops_workqueue_flush,
	.destroy = ops_workqueue_destroy,
};

#endif /* KSYNC_TESTS_OPS_WORKQUEUE_H */
