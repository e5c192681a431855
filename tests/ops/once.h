/* SPDX-License-Identifier: MIT */
/* ks_once as the harnesses see it: its own table. */
#ifndef KSYNC_TESTS_OPS_ONCE_H
#define KSYNC_TESTS_OPS_ONCE_H

#include <ksync/once.h>

#include "ops.h"

struct once_ops {
	const char *name;
	unsigned caps;
	size_t size;
	void (*init)(void *o, unsigned flags);
	int (*call)(void *o, void (*fn)(void));
	void *(*futex_word)(void *o);
};

static inline void ops_once_init(void *o, unsigned flags)
{
	ks_once_init(o, flags);
}

static inline int ops_once_call(void *o, void (*fn)(void))
{
	return ks_once_call(o, fn);
}

static inline void *ops_once_word(void *o)
{
	return &((struct ks_once *)o)->state;
}

static const struct once_ops ops_once __attribute__((unused)) = {
	.name = "once",
	.caps = OPS_SLEEPS | OPS_SHARED,
	.size = sizeof(struct ks_once),
	.init = ops_once_init,
	.call = ops_once_call,
	.futex_word = ops_once_word,
};

#endif /* KSYNC_TESTS_OPS_ONCE_H */
