// SPDX-License-Identifier: MIT
/*
 * The delay behind ks_inject() (src/inject.h). Only built into the library with KS_INJECT=1;
 * the normal library has no such symbol. The generator is per thread (xorshift64*), so that
 * taking a delay touches no shared cache line and cannot itself serialise the threads it is
 * meant to interleave.
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ksync/common.h>

#include "inject.h"

#ifdef KS_INJECT

static struct {
	uint32_t rate;
	uint32_t max_us;
	uint64_t seed;
	const char *sites;
} ks_inject_cfg;

static atomic_ulong ks_inject_taken;
static __thread uint64_t ks_inject_rng;

static uint32_t ks_env_u32(const char *name, uint32_t dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	v = strtoul(s, &end, 10);
	return *end || v > UINT32_MAX ? dflt : (uint32_t)v;
}

__attribute__((constructor)) static void ks_inject_setup(void)
{
	const char *seed = getenv("KS_INJECT_SEED");

	ks_inject_cfg.rate = ks_env_u32("KS_INJECT_RATE", 8);
	ks_inject_cfg.max_us = ks_env_u32("KS_INJECT_US", 200);
	ks_inject_cfg.seed = seed && *seed ? strtoull(seed, NULL, 10) : (uint64_t)ks_now_ns();
	ks_inject_cfg.sites = getenv("KS_INJECT_SITES");
}

static uint64_t ks_inject_next(void)
{
	uint64_t x = ks_inject_rng;

	if (!x)			/* first use in this thread: a distinct stream per thread */
		x = (ks_inject_cfg.seed ^ (uint64_t)ks_self_tid() * 0x9e3779b97f4a7c15ull) | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ks_inject_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static int ks_inject_armed(const char *site)
{
	const char *p = ks_inject_cfg.sites;
	size_t n = strlen(site);

	if (!p || !*p)
		return 1;
	while ((p = strstr(p, site))) {
		if ((p == ks_inject_cfg.sites || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

void ks__inject(const char *site)
{
	uint64_t r;
	int64_t ns, end;

	if (!ks_inject_cfg.rate || !ks_inject_armed(site))
		return;
	r = ks_inject_next();
	if (r % ks_inject_cfg.rate)
		return;
	atomic_fetch_add_explicit(&ks_inject_taken, 1, memory_order_relaxed);
	ns = (int64_t)((r >> 32) % ((uint64_t)ks_inject_cfg.max_us + 1)) * KS_NSEC_PER_USEC;
	switch ((r >> 8) % 4) {
	case 0:
	case 1:
		sched_yield();
		break;
	case 2:
		end = ks_now_ns() + ns;
		while (ks_now_ns() < end)
			ks_cpu_relax();
		break;
	default:
		nanosleep(&(struct timespec){ .tv_sec = 0, .tv_nsec = ns }, NULL);
		break;
	}
}

unsigned long ks_inject_count(void)
{
	return atomic_load_explicit(&ks_inject_taken, memory_order_relaxed);
}

#else

/* The normal build: no site exists, none is ever taken. */
unsigned long ks_inject_count(void)
{
	return 0;
}

#endif
