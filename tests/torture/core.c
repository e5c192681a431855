// SPDX-License-Identifier: MIT
/*
 * What the scenarios use while they run: violations, the watchdog's view of each call, counts,
 * random numbers and random timeouts. Shared between processes: a worker may be a forked child,
 * so everything here writes to MAP_SHARED memory and calls only what is safe after fork().
 */
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

bool torture_stopping(const struct scene *s)
{
	return atomic_load_explicit(&((struct scene *)s)->stop, memory_order_relaxed) ||
	       atomic_load_explicit(&torture_shared->failed, memory_order_relaxed);
}

void torture_fail(struct scene *s, const char *fmt, ...)
{
	int none = TORTURE_OK;
	va_list ap;
	int n;

	if (!atomic_compare_exchange_strong(&torture_shared->failed, &none, TORTURE_FAILING))
		return;
	n = snprintf(torture_shared->msg, sizeof(torture_shared->msg), "%s%s%s%s: ",
		     s ? s->sc->name : "torture", s && s->variant ? " (" : "",
		     s && s->variant ? s->variant : "", s && s->variant ? ")" : "");
	va_start(ap, fmt);
	vsnprintf(torture_shared->msg + n, sizeof(torture_shared->msg) - n, fmt, ap);
	va_end(ap);
	torture_shared->when_ns = ks_now_ns();
	atomic_store(&torture_shared->failed, TORTURE_FAILED);
}

void torture_enter(struct worker *w, const char *op, int64_t timeout_ns)
{
	int64_t now = ks_now_ns();
	int64_t limit = timeout_ns >= 0 ? timeout_ns :
			timeout_ns == OPS_TRY ? 0 : torture_cfg.stuck_ns;

	atomic_store_explicit(&w->since_ns, now, memory_order_relaxed);
	atomic_store_explicit(&w->deadline_ns, now + limit, memory_order_relaxed);
	/* release: the watchdog that sees op sees the times above */
	atomic_store_explicit(&w->op, op, memory_order_release);
}

int torture_leave(struct worker *w, int r, int64_t timeout_ns)
{
	int64_t took = ks_now_ns() - atomic_load_explicit(&w->since_ns, memory_order_relaxed);
	const char *op = atomic_load_explicit(&w->op, memory_order_relaxed);

	atomic_store_explicit(&w->op, NULL, memory_order_relaxed);
	if (r == -ETIMEDOUT && timeout_ns > 0 && took < timeout_ns)
		torture_fail(w->scene, "%s: a %.3f ms timeout expired early, after %.3f ms", op,
			     timeout_ns / 1e6, took / 1e6);
	if (r == -ETIMEDOUT && timeout_ns >= 0) {
		int64_t late = took - timeout_ns;
		int64_t max = atomic_load_explicit(&w->scene->stats.late_max_ns,
						   memory_order_relaxed);

		while (late > max && !atomic_compare_exchange_weak(&w->scene->stats.late_max_ns,
								   &max, late))
			;
	}
	if (!r)
		atomic_fetch_add_explicit(&w->scene->stats.ops, 1, memory_order_relaxed);
	else if (r == -ETIMEDOUT)
		atomic_fetch_add_explicit(&w->scene->stats.timeouts, 1, memory_order_relaxed);
	return r;
}

void torture_count_error(struct worker *w)
{
	atomic_fetch_add_explicit(&w->scene->stats.errors, 1, memory_order_relaxed);
}

void torture_count_op(struct worker *w)
{
	atomic_fetch_add_explicit(&w->scene->stats.ops, 1, memory_order_relaxed);
}

/* xorshift64*: per worker, so that drawing touches no shared line. */
uint64_t torture_rand(struct worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static int64_t torture_tiny(struct worker *w)
{
	return (1 + torture_below(w, 100)) * KS_NSEC_PER_USEC;
}

static int64_t torture_long(struct worker *w)
{
	int64_t span = torture_cfg.long_ns - KS_NSEC_PER_MSEC;

	return KS_NSEC_PER_MSEC + (span > 0 ? (int64_t)(torture_rand(w) % (uint64_t)span) : 0);
}

int64_t torture_timeout_timed(struct worker *w)
{
	unsigned k = torture_below(w, 8);

	return k == 0 ? 0 : k < 4 ? torture_tiny(w) : torture_long(w);
}

int64_t torture_timeout(struct worker *w, unsigned caps)
{
	unsigned k = torture_below(w, 16);

	if (k < 4 || (!(caps & OPS_TIMED) && k >= 8))
		return OPS_BLOCK;
	if (k < 6 || !(caps & OPS_TIMED))
		return OPS_TRY;
	return torture_timeout_timed(w);
}

void torture_pause(struct worker *w)
{
	unsigned k = torture_below(w, 256);

	if (k < 160)
		return;
	if (k < 224) {
		for (unsigned i = torture_below(w, 500); i; i--)
			ks_cpu_relax();
	} else if (k < 254) {
		sched_yield();
	} else {
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 }, NULL);
	}
}

int64_t torture_run_delay_ns(void)
{
	char buf[96];
	int fd = open("/proc/thread-self/schedstat", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	long long on_cpu, waiting;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return sscanf(buf, "%lld %lld", &on_cpu, &waiting) == 2 ? waiting : -1;
}
