/* SPDX-License-Identifier: MIT */
/*
 * ksync-torture: the kernel's locktorture and rcutorture, for ksync. Every primitive is driven
 * through its table of operations (tests/ops/) by a scenario that knows its invariants; for a
 * given duration, rounds run a few scenarios at once on fresh objects, with random timeouts,
 * signal storms, spurious futex wakes, threads and processes coming and going, objects freed or
 * unmapped right after their last use, and a watchdog over every call that may block. The first
 * violation of an invariant ends the run, named.
 *
 * A scene is one scenario in one round. It lives in MAP_SHARED memory, so that its workers can
 * be threads or forked processes running the same code; a worker is one thread (or process)
 * looping over the scenario's operations until the scene stops.
 */
#ifndef KSYNC_TESTS_TORTURE_H
#define KSYNC_TESTS_TORTURE_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ksync/common.h>

#include "../ops/ops.h"

#define TORTURE_MAX_WORKERS 16

struct scene;

/* One worker's record, read by the watchdog and the signal storm. */
struct worker {
	struct scene *scene;
	unsigned id;
	atomic_int pid, tid;
	const char *_Atomic op;		/* the call it is in, or NULL */
	_Atomic int64_t since_ns;	/* when it entered it */
	_Atomic int64_t deadline_ns;	/* when that call must have returned, slack aside */
	atomic_bool exited;
	uint64_t rng;
	pthread_t thread;
	alignas(64) unsigned char node[64];	/* its queue node, for the locks that need one */
};

/*
 * Ops, timeouts and legitimate errors (-EPIPE, -EOVERFLOW, ...) of one scenario, and how late
 * the latest timeout returned past its deadline (a loaded machine's scheduling delay, mostly).
 */
struct torture_stats {
	atomic_long ops, timeouts, errors;
	_Atomic int64_t late_max_ns;
};

struct scene {
	const struct scenario *sc;
	const char *variant;		/* which table or setting this round, for messages */
	unsigned nworkers;
	bool processes;
	atomic_bool stop;
	int64_t started_ns;
	struct torture_stats stats;
	struct worker w[TORTURE_MAX_WORKERS];
	alignas(64) unsigned char state[];	/* the scenario's own, sc->state_size bytes */
};

enum {
	SC_PROCESSES	= 1u << 0,	/* its workers may be processes (KS_SHARED objects) */
	SC_BUSTED	= 1u << 1,	/* a negative control: run only when named, must fail */
};

struct scenario {
	const char *name;
	const char *checks;		/* what it checks, for --list */
	unsigned flags;
	unsigned workers;		/* 0: the -t option's count */
	size_t state_size;
	const void *ops;		/* the table it drives */
	/* in the parent, before the workers start: the objects, in s->state */
	void (*setup)(struct scene *s);
	/* a worker's loop, until torture_stopping(s) */
	void (*work)(struct scene *s, struct worker *w);
	/* in the parent, repeatedly once s->stop is set, until every worker has left: wake them */
	void (*stop)(struct scene *s);
	/* in the parent, after every worker has left: the final invariants */
	void (*check)(struct scene *s);
	/* in the parent, around forking the workers (processes only); either may be NULL */
	void (*before_fork)(struct scene *s);
	void (*after_fork)(struct scene *s);
	/* a futex word of the scene's objects, for spurious wakes (NULL: none) */
	void *(*futex_word)(struct scene *s);
};

/* ---- the run's settings (main.c) ------------------------------------------------------------ */

struct torture_config {
	int64_t duration_ns;
	unsigned threads;		/* workers per scene */
	unsigned concurrent;		/* scenes per round */
	int64_t slack_ns;		/* past a call's deadline before the watchdog fires */
	int64_t stuck_ns;		/* the deadline of an untimed call */
	int64_t long_ns;		/* the "long" timeouts go up to this */
	bool signals, pokes, fork;
	bool verbose;
	uint64_t seed;
};

extern struct torture_config torture_cfg;

/* ---- for the scenarios (core.c) ------------------------------------------------------------- */

/* Reports a violation of an invariant: the first one ends the run, named. Any thread or child. */
__attribute__((format(printf, 2, 3)))
void torture_fail(struct scene *s, const char *fmt, ...);

static inline void *torture_state(struct scene *s)
{
	return s->state;
}

/* The flags for the scene's objects' _init(): KS_SHARED when its workers are processes. */
static inline unsigned torture_flags(const struct scene *s)
{
	return s->processes ? KS_SHARED : 0;
}

bool torture_stopping(const struct scene *s);

/* Around every call that may block: what the watchdog and the reports see. */
void torture_enter(struct worker *w, const char *op, int64_t timeout_ns);
/* Checks a timed call's -ETIMEDOUT was not early, and counts r: 0 an op, -ETIMEDOUT a timeout. */
int torture_leave(struct worker *w, int r, int64_t timeout_ns);
/* Counts a legitimate error (-EPIPE from a broken barrier, ...) and an op done without a call. */
void torture_count_error(struct worker *w);
void torture_count_op(struct worker *w);

/* A thread a worker started (a ks_thread, a workqueue's) acts on its behalf: faults name it. */
void torture_adopt(struct worker *w);

/* fork(), or now and then glibc's _Fork(), which runs no atfork handler (as raw clone()). */
pid_t torture_fork(struct worker *w);

/* A worker's random numbers. */
uint64_t torture_rand(struct worker *w);
static inline unsigned torture_below(struct worker *w, unsigned n)
{
	return (unsigned)(torture_rand(w) % n);
}

/*
 * A random timeout for acquire-like calls (ops.h): OPS_BLOCK, OPS_TRY, 0, tiny (1-100 us) or
 * long (1 ms up to torture_cfg.long_ns), among those `caps` allows (OPS_TIMED).
 */
int64_t torture_timeout(struct worker *w, unsigned caps);
/* Only timed forms: 0, tiny or long (for calls whose untimed form would wait for nothing). */
int64_t torture_timeout_timed(struct worker *w);

/*
 * How long the calling thread has waited on a run queue, runnable but not running, since it
 * started (from /proc/thread-self/schedstat), or -1 where the kernel does not say. A check that
 * a wait was not too long excuses the time the waiter itself could not run.
 */
int64_t torture_run_delay_ns(void);

/* A short random pause inside a critical section or between calls: nothing, spin or yield. */
void torture_pause(struct worker *w);

/* Every scenario there is (scenarios.c). */
extern const struct scenario *const torture_scenarios[];

#endif /* KSYNC_TESTS_TORTURE_H */
