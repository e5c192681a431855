// SPDX-License-Identifier: MIT
/*
 * The runner: rounds of scenes, their workers (threads, or processes forked with fork() or
 * glibc's _Fork(), which skips the atfork handlers as a raw clone() would), the watchdog that
 * names a call stuck past its deadline, and the storm of signals and spurious futex wakes.
 */
#include <execinfo.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksync/thread.h>

#include "run.h"

struct torture_shared *torture_shared;
struct torture_total torture_totals[TORTURE_MAX_SCENARIOS];

/* The scenes running now; the watchdog and the storm look at them under active_lock only. */
static struct scene *_Atomic active[TORTURE_MAX_SCENES];
static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint nactive;
static pid_t parent_pid;
static int64_t started_ns, end_ns;
static atomic_bool running;
static __thread struct worker *self;	/* the worker this thread (or child) is */

void torture_report(FILE *f);		/* main.c */

int64_t torture_started_ns(void)
{
	return started_ns;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / KS_NSEC_PER_SEC, .tv_nsec = ns % KS_NSEC_PER_SEC };

	while (nanosleep(&ts, &ts))
		;
}

/* ---- signals: the storm's SIGUSR1, and faults named after the call they happened in ------- */

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&torture_shared->signals_seen, 1, memory_order_relaxed);
}

static size_t append(char *buf, size_t n, size_t cap, const char *s)
{
	while (*s && n + 1 < cap)
		buf[n++] = *s++;
	buf[n] = 0;
	return n;
}

static size_t append_hex(char *buf, size_t n, size_t cap, uintptr_t v)
{
	char hex[2 + 2 * sizeof(v) + 1], *p = hex + sizeof(hex) - 1;

	*p = 0;
	do {
		*--p = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	*--p = 'x';
	*--p = '0';
	return append(buf, n, cap, p);
}

/* A fault in a worker is most likely an object touched after it was freed or unmapped. */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	struct worker *w = self;
	const char *op = w ? atomic_load(&w->op) : NULL;
	int none = TORTURE_OK;
	char *msg = torture_shared->msg;
	size_t n = 0, cap = sizeof(torture_shared->msg);

	(void)uc;
	if (atomic_compare_exchange_strong(&torture_shared->failed, &none, TORTURE_FAILING)) {
		n = append(msg, n, cap, w ? w->scene->sc->name : "torture");
		n = append(msg, n, cap, sig == SIGSEGV ? ": SIGSEGV at " : ": SIGBUS at ");
		n = append_hex(msg, n, cap, (uintptr_t)si->si_addr);
		n = append(msg, n, cap, op ? " in " : " between calls");
		n = append(msg, n, cap, op ? op : "");
		append(msg, n, cap, " (an object used after it was freed or unmapped?)");
		torture_shared->when_ns = ks_now_ns();
		atomic_store(&torture_shared->failed, TORTURE_FAILED);
	}
	{
		static const char head[] = "ksync-torture: fault: ";
		void *frames[32];

		if (write(2, head, sizeof(head) - 1) < 0 || write(2, msg, strlen(msg)) < 0 ||
		    write(2, "\n", 1) < 0)
			_exit(1);
		backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
	}
	_exit(1);
}

static void signals_setup(void)
{
	struct sigaction sa;
	void *frame;

	backtrace(&frame, 1);	/* loads what backtrace() needs now, not in a fault handler */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: every system call it lands in returns EINTR */
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = NULL;
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* ---- workers -------------------------------------------------------------------------------- */

static void worker_body(struct worker *w)
{
	self = w;
	atomic_store(&w->pid, getpid());
	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	w->scene->sc->work(w->scene, w);
	atomic_store(&w->exited, true);
}

static void *worker_thread(void *arg)
{
	worker_body(arg);
	return NULL;
}

void torture_adopt(struct worker *w)
{
	self = w;
}

pid_t torture_fork(struct worker *w)
{
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
	(void)w;
#else
	if (torture_below(w, 2)) {
		atomic_fetch_add(&torture_shared->bare_forks, 1);
		return _Fork();
	}
#endif
	atomic_fetch_add(&torture_shared->forks, 1);
	return fork();
}

static void spawn(struct scene *s, uint64_t seed)
{
	const struct scenario *sc = s->sc;

	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->w[i];

		w->scene = s;
		w->id = i;
		w->rng = (seed ^ (i + 1) * 0x9e3779b97f4a7c15ull) | 1;
	}
	if (!s->processes) {
		for (unsigned i = 0; i < s->nworkers; i++)
			if (pthread_create(&s->w[i].thread, NULL, worker_thread, &s->w[i])) {
				fprintf(stderr, "ksync-torture: pthread_create failed\n");
				exit(2);
			}
		return;
	}
	if (sc->before_fork)
		sc->before_fork(s);
	for (unsigned i = 0; i < s->nworkers; i++) {
		pid_t pid = torture_fork(&s->w[i]);

		if (pid == 0) {
			worker_body(&s->w[i]);
			_exit(0);
		}
		if (pid < 0) {
			fprintf(stderr, "ksync-torture: fork failed\n");
			exit(2);
		}
		atomic_store(&s->w[i].pid, pid);
	}
	if (sc->after_fork)
		sc->after_fork(s);
}

static bool all_exited(struct scene *s)
{
	for (unsigned i = 0; i < s->nworkers; i++)
		if (!atomic_load(&s->w[i].exited))
			return false;
	return true;
}

static void reap(struct scene *s)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		int st;

		if (!s->processes) {
			pthread_join(s->w[i].thread, NULL);
			continue;
		}
		while (waitpid(atomic_load(&s->w[i].pid), &st, 0) < 0)
			;
		if (WIFSIGNALED(st))
			torture_fail(s, "worker process %d died of signal %d", s->w[i].pid,
				     WTERMSIG(st));
		else if (WEXITSTATUS(st))
			torture_fail(s, "worker process %d exited with %d", s->w[i].pid,
				     WEXITSTATUS(st));
	}
}

/* ---- the watchdog: every call has a deadline; past it plus slack, the run fails ---------- */

static void kill_children(void)
{
	for (unsigned j = 0; j < TORTURE_MAX_SCENES; j++) {
		struct scene *s = atomic_load(&active[j]);

		if (s && s->processes)
			for (unsigned i = 0; i < s->nworkers; i++)
				if (atomic_load(&s->w[i].pid) > 0)
					kill(atomic_load(&s->w[i].pid), SIGKILL);
	}
}

static void check_progress(struct scene *s, int64_t now)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->w[i];
		/* acquire: pairs with torture_enter()'s release of op, after the times */
		const char *op = atomic_load_explicit(&w->op, memory_order_acquire);
		int64_t since = atomic_load_explicit(&w->since_ns, memory_order_relaxed);
		int64_t deadline = atomic_load_explicit(&w->deadline_ns, memory_order_relaxed);

		if (!op || now <= deadline + torture_cfg.slack_ns || op != atomic_load(&w->op))
			continue;
		torture_fail(s, "progress: worker %u (%s %d) stuck in %s for %.2f s, %.2f s past "
			     "its deadline (lost wake-up, deadlock or ignored timeout)", w->id,
			     s->processes ? "process" : "thread", atomic_load(&w->tid), op,
			     (now - since) / 1e9, (now - deadline) / 1e9);
	}
}

static void *watchdog(void *arg)
{
	(void)arg;
	for (;;) {
		int64_t now = ks_now_ns();

		if (atomic_load(&torture_shared->failed) == TORTURE_FAILED) {
			pthread_mutex_lock(&active_lock);
			kill_children();
			fprintf(stdout, "ksync-torture: FAIL after %.1f s: %s\n",
				(torture_shared->when_ns - started_ns) / 1e9, torture_shared->msg);
			torture_report(stdout);
			fflush(stdout);
			_exit(1);
		}
		pthread_mutex_lock(&active_lock);
		for (unsigned j = 0; j < TORTURE_MAX_SCENES; j++) {
			struct scene *s = atomic_load(&active[j]);

			if (s)
				check_progress(s, now);
		}
		pthread_mutex_unlock(&active_lock);
		sleep_ns(10 * KS_NSEC_PER_MSEC);
	}
	return NULL;
}

/* ---- the storm: SIGUSR1 at random workers, spurious FUTEX_WAKEs on random objects --------- */

static uint64_t storm_rng = 0x853c49e6748fea9bull;

static unsigned storm_below(unsigned n)
{
	storm_rng ^= storm_rng >> 12;
	storm_rng ^= storm_rng << 25;
	storm_rng ^= storm_rng >> 27;
	return (unsigned)((storm_rng * 0x2545f4914f6cdd1dull) >> 33) % n;
}

static void poke(struct scene *s)
{
	void *word = s->sc->futex_word ? s->sc->futex_word(s) : NULL;

	if (!word)
		return;
	syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT32_MAX, NULL, NULL, 0);
	syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
	atomic_fetch_add(&torture_shared->pokes, 1);
}

static void *storm(void *arg)
{
	(void)arg;
	while (atomic_load(&running)) {
		struct scene *s;
		struct worker *w;
		int pid, tid;

		sleep_ns((20 + storm_below(480)) * KS_NSEC_PER_USEC);
		pthread_mutex_lock(&active_lock);
		s = atomic_load(&active[storm_below(atomic_load(&nactive) + 1)]);
		if (s && torture_cfg.pokes && !storm_below(4))
			poke(s);
		w = s ? &s->w[storm_below(s->nworkers)] : NULL;
		pid = w ? atomic_load(&w->pid) : 0;
		tid = w ? atomic_load(&w->tid) : 0;
		if (torture_cfg.signals && tid && !atomic_load(&w->exited) &&
		    !syscall(SYS_tgkill, pid, tid, SIGUSR1))
			atomic_fetch_add(&torture_shared->signals_sent, 1);
		pthread_mutex_unlock(&active_lock);
	}
	return NULL;
}

/* ---- rounds --------------------------------------------------------------------------------- */

static uint64_t round_rng;

static uint64_t round_rand(void)
{
	round_rng ^= round_rng >> 12;
	round_rng ^= round_rng << 25;
	round_rng ^= round_rng >> 27;
	return round_rng * 0x2545f4914f6cdd1dull;
}

static void shuffle(unsigned *order, unsigned n)
{
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned r = round_rand() % (i + 1), t = order[i];

		order[i] = order[r];
		order[r] = t;
	}
}

static struct scene *scene_new(const struct scenario *sc)
{
	size_t size = sizeof(struct scene) + sc->state_size;
	struct scene *s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			       0);

	if (s == MAP_FAILED) {
		perror("ksync-torture: mmap");
		exit(2);
	}
	s->sc = sc;
	s->nworkers = sc->workers ? sc->workers : torture_cfg.threads;
	if (s->nworkers > TORTURE_MAX_WORKERS)
		s->nworkers = TORTURE_MAX_WORKERS;
	s->processes = torture_cfg.fork && (sc->flags & SC_PROCESSES) && round_rand() % 3 == 0;
	s->started_ns = ks_now_ns();
	return s;
}

/* Stops a round's scenes: wakes their waiters until every worker has left, then checks them. */
static void scenes_end(struct scene **s, unsigned n)
{
	int64_t give_up = ks_now_ns() + torture_cfg.stuck_ns + torture_cfg.slack_ns;
	bool left;

	for (unsigned j = 0; j < n; j++)
		atomic_store(&s[j]->stop, true);
	do {
		left = true;
		for (unsigned j = 0; j < n; j++) {
			if (all_exited(s[j]))
				continue;
			left = false;
			if (s[j]->sc->stop)
				s[j]->sc->stop(s[j]);
		}
		if (!left)
			sleep_ns(2 * KS_NSEC_PER_MSEC);
		if (!left && ks_now_ns() > give_up) {
			for (unsigned j = 0; j < n; j++)
				if (!all_exited(s[j]))
					torture_fail(s[j], "a worker did not stop within %.1f s",
						     (torture_cfg.stuck_ns + torture_cfg.slack_ns) /
						     1e9);
			for (;;)
				sleep_ns(KS_NSEC_PER_SEC);	/* the watchdog reports */
		}
	} while (!left);
	for (unsigned j = 0; j < n; j++) {
		reap(s[j]);
		if (s[j]->sc->check && !atomic_load(&torture_shared->failed))
			s[j]->sc->check(s[j]);
	}
}

static void print_round(struct scene **s, unsigned n)
{
	static unsigned round;

	printf("round %u at %.1f s:", ++round, (ks_now_ns() - started_ns) / 1e9);
	for (unsigned j = 0; j < n; j++)
		printf(" %s%s%s%s [%s] %ld ops;", s[j]->sc->name, s[j]->variant ? " (" : "",
		       s[j]->variant ? s[j]->variant : "", s[j]->variant ? ")" : "",
		       s[j]->processes ? "processes" : "threads", atomic_load(&s[j]->stats.ops));
	putchar('\n');
}

static unsigned scenario_index(const struct scenario *sc)
{
	for (unsigned i = 0; torture_scenarios[i]; i++)
		if (torture_scenarios[i] == sc)
			return i;
	return 0;
}

void torture_run(const struct scenario *const *list, unsigned n)
{
	unsigned order[TORTURE_MAX_SCENARIOS], next = 0;
	pthread_t wd, st;

	parent_pid = getpid();
	torture_shared = mmap(NULL, sizeof(*torture_shared), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (torture_shared == MAP_FAILED) {
		perror("ksync-torture: mmap");
		exit(2);
	}
	signals_setup();
	/* the parent forks as a program that has used ksync does: its thread id is cached */
	ks_gettid();
	round_rng = torture_cfg.seed | 1;
	started_ns = ks_now_ns();
	end_ns = started_ns + torture_cfg.duration_ns;
	atomic_store(&running, true);
	pthread_create(&wd, NULL, watchdog, NULL);
	pthread_create(&st, NULL, storm, NULL);

	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	while (ks_now_ns() < end_ns && !atomic_load(&torture_shared->failed)) {
		struct scene *s[TORTURE_MAX_SCENES];
		unsigned k = torture_cfg.concurrent < n ? torture_cfg.concurrent : n;
		int64_t slice = (200 + round_rand() % 1300) * KS_NSEC_PER_MSEC;
		int64_t stop_at;

		if (k > TORTURE_MAX_SCENES)
			k = TORTURE_MAX_SCENES;
		/* every scenario in turn, in an order shuffled afresh each lap; k distinct */
		for (unsigned j = 0; j < k; j++) {
			const struct scenario *sc;
			bool again;

			do {
				if (next % n == 0)
					shuffle(order, n);
				sc = list[order[next++ % n]];
				again = false;
				for (unsigned i = 0; i < j; i++)
					again |= s[i]->sc == sc;
			} while (again);
			s[j] = scene_new(sc);
		}
		for (unsigned j = 0; j < k; j++) {
			if (s[j]->sc->setup)
				s[j]->sc->setup(s[j]);
			spawn(s[j], round_rand());
			pthread_mutex_lock(&active_lock);
			atomic_store(&active[j], s[j]);
			atomic_store(&nactive, j + 1);
			pthread_mutex_unlock(&active_lock);
		}
		stop_at = ks_now_ns() + slice;
		if (stop_at > end_ns)
			stop_at = end_ns;
		while (ks_now_ns() < stop_at && !atomic_load(&torture_shared->failed))
			sleep_ns(5 * KS_NSEC_PER_MSEC);
		scenes_end(s, k);
		if (torture_cfg.verbose)
			print_round(s, k);
		pthread_mutex_lock(&active_lock);
		for (unsigned j = 0; j < k; j++)
			atomic_store(&active[j], NULL);
		atomic_store(&nactive, 0);
		pthread_mutex_unlock(&active_lock);
		for (unsigned j = 0; j < k; j++) {
			struct torture_total *t = &torture_totals[scenario_index(s[j]->sc)];

			t->rounds++;
			t->process_rounds += s[j]->processes;
			t->ops += atomic_load(&s[j]->stats.ops);
			t->timeouts += atomic_load(&s[j]->stats.timeouts);
			t->errors += atomic_load(&s[j]->stats.errors);
			if (atomic_load(&s[j]->stats.late_max_ns) > t->late_max_ns)
				t->late_max_ns = atomic_load(&s[j]->stats.late_max_ns);
			t->busy_ns += ks_now_ns() - s[j]->started_ns;
			/* unmapped right after its last use */
			munmap(s[j], sizeof(struct scene) + s[j]->sc->state_size);
		}
	}
	atomic_store(&running, false);
	pthread_join(st, NULL);
	/* a violation found in the last round: the watchdog reports it and exits */
	while (atomic_load(&torture_shared->failed))
		sleep_ns(KS_NSEC_PER_SEC);
}
