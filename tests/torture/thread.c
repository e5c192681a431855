// SPDX-License-Identifier: MIT
/*
 * Threads: when a join returns 0 the thread has terminated (its TLS destructors have run), it
 * returned what its function returned, it is no longer alive, and its ks_thread may be freed
 * at once; of two joiners exactly one gets 0 and the other -EINVAL; in a child forked while it
 * runs (fork() or _Fork()), it is not alive and joining it is -ESRCH.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../ops/busted.h"
#include "../ops/thread.h"
#include "torture.h"

#define THREAD_PAGE 4096

struct record {
	struct worker *w;
	void *cookie;
	int64_t linger_ns;		/* how long the thread runs */
	atomic_bool dtor_ran;
	bool mapped;			/* the thread object is a page of its own */
	void *t;			/* the thread object */
};

struct joiner {
	const struct thread_ops *ops;
	struct record *rec;
	int64_t timeout_ns;
	int result;
	void *ret;
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_dtor(void *v)
{
	atomic_store(&((struct record *)v)->dtor_ran, true);
}

static void tls_setup(void)
{
	pthread_key_create(&tls_key, tls_dtor);
}

static const struct thread_ops *ops_of(struct scene *s)
{
	return s->sc->ops;
}

static void *body(void *arg)
{
	struct record *rec = arg;

	torture_adopt(rec->w);
	pthread_setspecific(tls_key, rec);
	if (rec->linger_ns)
		nanosleep(&(struct timespec){ .tv_sec = rec->linger_ns / KS_NSEC_PER_SEC,
					      .tv_nsec = rec->linger_ns % KS_NSEC_PER_SEC }, NULL);
	return rec->cookie;
}

/* Joins by the given form until it is no longer -ETIMEDOUT: 0, or the join's error. */
static int join(struct worker *w, const struct thread_ops *ops, struct record *rec,
		int64_t timeout_ns, void **ret)
{
	int r;

	do {
		if (w)
			torture_enter(w, timeout_ns == OPS_BLOCK ? "join" : "join_timeout",
				      timeout_ns);
		r = ops->join(rec->t, timeout_ns, ret);
		if (w)
			torture_leave(w, r, timeout_ns);
	} while (r == -ETIMEDOUT);
	return r;
}

static void *second_joiner(void *arg)
{
	struct joiner *j = arg;

	j->result = join(NULL, j->ops, j->rec, j->timeout_ns, &j->ret);
	return NULL;
}

static int64_t join_timeout(struct worker *w)
{
	return torture_below(w, 2) ? OPS_BLOCK : torture_timeout_timed(w);
}

/* A child forked while the thread runs: not alive there, and joining it is -ESRCH. */
static void fork_check(struct scene *s, struct worker *w, const struct thread_ops *ops,
		       struct record *rec)
{
	pid_t pid = torture_fork(w);
	int st;

	if (pid == 0) {
		bool alive = ops->is_alive(rec->t);
		int r = ops->join(rec->t, 50 * KS_NSEC_PER_MSEC, NULL);

		_exit(alive ? 10 : r == -ESRCH ? 0 : 20 + (-r & 0xff) % 200);
	}
	if (pid < 0)
		return;
	torture_enter(w, "waitpid", OPS_BLOCK);
	while (waitpid(pid, &st, 0) < 0)
		;
	torture_leave(w, 0, OPS_BLOCK);
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 10)
		torture_fail(s, "in a child forked while a thread ran, the thread is alive");
	else if (WEXITSTATUS(st))
		torture_fail(s, "in a child forked while a thread ran, joining it returned -%d, "
			     "not -ESRCH", WEXITSTATUS(st) - 20);
}

static void thread_work(struct scene *s, struct worker *w)
{
	const struct thread_ops *ops = ops_of(s);

	pthread_once(&tls_once, tls_setup);
	while (!torture_stopping(s)) {
		struct record *rec = calloc(1, sizeof(*rec));
		struct joiner j = { .ops = ops, .rec = rec };
		bool two = !torture_below(w, 4), forks = !torture_below(w, 64);
		pthread_t second;
		void *ret = NULL;
		int r;

		rec->w = w;
		rec->cookie = (void *)(uintptr_t)torture_rand(w);
		rec->linger_ns = forks ? 5 * KS_NSEC_PER_MSEC :
				 torture_below(w, 2) ? torture_below(w, 200) * KS_NSEC_PER_USEC : 0;
		rec->mapped = torture_below(w, 2);
		rec->t = rec->mapped ? mmap(NULL, THREAD_PAGE, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
			 calloc(1, ops->size);
		if (rec->t == MAP_FAILED || !rec->t) {
			free(rec);
			return;
		}
		r = ops->start(rec->t, body, rec);
		if (r) {
			if (r != -EAGAIN)
				torture_fail(s, "start returned %d", r);
			torture_count_error(w);
			rec->mapped ? munmap(rec->t, THREAD_PAGE) : free(rec->t);
			free(rec);
			nanosleep(&(struct timespec){ .tv_nsec = 1000 * 1000 }, NULL);
			continue;
		}
		if (forks)
			fork_check(s, w, ops, rec);
		if (two) {
			j.timeout_ns = join_timeout(w);
			if (pthread_create(&second, NULL, second_joiner, &j))
				two = false;
		}
		r = join(w, ops, rec, join_timeout(w), &ret);
		if (two) {
			torture_enter(w, "join (the second joiner)", OPS_BLOCK);
			pthread_join(second, NULL);
			torture_leave(w, 0, OPS_BLOCK);
			if (!!r + !!j.result != 1 || (r ? r : j.result) != -EINVAL)
				torture_fail(s, "two joiners got %d and %d, not 0 and -EINVAL", r,
					     j.result);
			if (r)
				ret = j.ret;
		} else if (r) {
			torture_fail(s, "join returned %d", r);
		}
		if (!atomic_load(&rec->dtor_ran)) {
			torture_fail(s, "join returned before the thread terminated: its TLS "
				     "destructors had not run");
			return;	/* it still runs: leave it its memory */
		}
		if (ret != rec->cookie)
			torture_fail(s, "join gave %p, the thread returned %p", ret, rec->cookie);
		if (ops->is_alive(rec->t))
			torture_fail(s, "is_alive after the join");
		/* freed right after the join */
		rec->mapped ? munmap(rec->t, THREAD_PAGE) : free(rec->t);
		free(rec);
		torture_pause(w);
	}
}

#define THREAD_SCENARIO(ident, table, busted, what)					\
	const struct scenario ident = {							\
		.name = (table).name,							\
		.checks = what,								\
		.flags = (busted),							\
		.ops = &(table),							\
		.work = thread_work,							\
	}

THREAD_SCENARIO(torture_thread, ops_thread, 0,
		"a joined thread has terminated (TLS destructors ran), its object freed at once; "
		"one of two joiners wins; -ESRCH in a forked child");
THREAD_SCENARIO(torture_busted_thread, ops_busted_thread, SC_BUSTED,
		"a join that returns when the function returns: the terminated check must fire");
