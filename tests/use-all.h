/* SPDX-License-Identifier: MIT */
/*
 * Every public call, initializer and macro of ksync, used once the way a user's program would,
 * written in the common subset of C11 and C++17. tests/t-strict-c.c builds it as strict C
 * (-std=c11 -pedantic-errors -Wcast-qual) and tests/t-cxx.cc as C++17, C++20 and C++23, each with
 * gcc and clang: a header change that breaks either language fails here. Each call's result is
 * checked against the contract, lightly: the primitives' own tests (t-<prim>.c) hold their
 * semantics under contention; this one holds the headers.
 *
 * Assertions are made from the main thread only (helper threads leave results behind), and every
 * wait is bounded, so a broken primitive fails a check or trips the caller's alarm, never hangs.
 */
#ifndef KSYNC_TESTS_USE_ALL_H
#define KSYNC_TESTS_USE_ALL_H

#include <ksync.h>
#include <stdio.h>
#include <string.h>

#define USE_SHORT_NS	(2 * KS_NSEC_PER_MSEC)	/* a wait that is meant to time out */
#define USE_LONG_NS	(10 * KS_NSEC_PER_SEC)	/* a wait that is meant to succeed */

static unsigned use_n, use_failed;

static void use_ok(bool pass, const char *what)
{
	printf("%sok %u - %s\n", pass ? "" : "not ", ++use_n, what);
	if (!pass)
		use_failed++;
}

#define use_is(got, want, what)	use_ok((long long)(got) == (long long)(want), what)

/* ---- mutex, rmutex --------------------------------------------------------------------------- */

static struct ks_mutex use_static_mutex = KS_MUTEX_INIT;
static struct ks_rmutex use_static_rmutex = KS_RMUTEX_INIT;

static void use_mutex(void)
{
	struct ks_mutex m;

	ks_mutex_lock(&use_static_mutex);
	use_ok(ks_mutex_is_locked(&use_static_mutex), "mutex: KS_MUTEX_INIT, lock, is_locked");
	use_ok(!ks_mutex_trylock(&use_static_mutex), "mutex: trylock on a held lock fails");
	use_is(ks_mutex_lock_timeout(&use_static_mutex, USE_SHORT_NS), -ETIMEDOUT,
	       "mutex: lock_timeout on a held lock: -ETIMEDOUT");
	use_is(ks_mutex_unlock(&use_static_mutex), 0, "mutex: unlock: 0");
	use_is(ks_mutex_unlock(&use_static_mutex), -EPERM, "mutex: unlock when unlocked: -EPERM");
	ks_mutex_init(&m, KS_SHARED);
	use_ok(ks_mutex_trylock(&m), "mutex: init, trylock");
	use_is(ks_mutex_unlock(&m), 0, "mutex: unlock after trylock");
	use_is(ks_mutex_lock_timeout(&m, -1), -EINVAL, "mutex: negative timeout: -EINVAL");
	use_is(ks_mutex_lock_timeout(&m, 0), 0, "mutex: lock_timeout(0) on a free lock: 0");
	ks_mutex_unlock(&m);
}

static void use_rmutex(void)
{
	struct ks_rmutex r;

	use_is(ks_rmutex_lock(&use_static_rmutex), 0, "rmutex: KS_RMUTEX_INIT, lock");
	use_ok(ks_rmutex_trylock(&use_static_rmutex), "rmutex: the owner's trylock succeeds");
	use_is(ks_rmutex_lock_timeout(&use_static_rmutex, 0), 0, "rmutex: and its lock_timeout");
	use_ok(ks_rmutex_is_owned(&use_static_rmutex), "rmutex: is_owned");
	use_is(ks_rmutex_unlock(&use_static_rmutex) | ks_rmutex_unlock(&use_static_rmutex) |
	       ks_rmutex_unlock(&use_static_rmutex), 0, "rmutex: three unlocks");
	use_is(ks_rmutex_unlock(&use_static_rmutex), -EPERM, "rmutex: a fourth: -EPERM");
	ks_rmutex_init(&r, 0);
	use_ok(!ks_rmutex_is_owned(&r), "rmutex: init, not owned");
	use_is(ks_rmutex_lock_timeout(&r, -1), -EINVAL, "rmutex: negative timeout: -EINVAL");
}

/* ---- cond, with both kinds of lock, and the wait_event macros -------------------------------- */

struct use_cond_data {
	struct ks_mutex m;
	struct ks_rmutex r;
	struct ks_cond c;
	int items;		/* under m */
	int last;		/* under r */
};

static struct use_cond_data use_cond_state = { KS_MUTEX_INIT, KS_RMUTEX_INIT, KS_COND_INIT, 0, 0 };

static void *use_cond_producer(void *arg)
{
	struct use_cond_data *u = (struct use_cond_data *)arg;

	for (int i = 0; i < 3; i++) {
		ks_mutex_lock(&u->m);
		u->items++;
		ks_cond_signal(&u->c);
		ks_mutex_unlock(&u->m);
	}
	ks_rmutex_lock(&u->r);
	u->last = 1;
	ks_cond_broadcast(&u->c);
	ks_rmutex_unlock(&u->r);
	return NULL;
}

static void use_cond(void)
{
	struct use_cond_data *u = &use_cond_state;
	struct ks_thread t = KS_THREAD_INIT;
	struct ks_cond c;
	int evals = 0;

	ks_cond_init(&c, 0);
	ks_mutex_lock(&u->m);
	use_is(ks_cond_wait_timeout(&c, &u->m, USE_SHORT_NS), -ETIMEDOUT,
	       "cond: wait_timeout with a mutex: -ETIMEDOUT");
	use_is(ks_cond_wait_event_timeout(&c, &u->m, (evals++, false), USE_SHORT_NS), -ETIMEDOUT,
	       "cond: wait_event_timeout on a false predicate: -ETIMEDOUT");
	use_ok(evals >= 2, "cond: ... evaluated before and after the wait");
	use_is(ks_cond_wait_event_timeout(&c, &u->m, true, -1), -EINVAL,
	       "cond: wait_event_timeout, negative timeout: -EINVAL");
	ks_mutex_unlock(&u->m);
	use_is(ks_cond_wait_event_timeout(&c, &u->m, false, USE_SHORT_NS), -EPERM,
	       "cond: wait_event_timeout without the lock: -EPERM");
	use_is(ks_cond_wait(&c, &u->m), -EPERM, "cond: wait without the lock: -EPERM");

	ks_rmutex_lock(&u->r);
	ks_rmutex_lock(&u->r);
	use_is(ks_cond_wait_timeout(&c, &u->r, USE_SHORT_NS), -ETIMEDOUT,
	       "cond: wait_timeout with an rmutex held twice: -ETIMEDOUT");
	use_ok(ks_rmutex_is_owned(&u->r), "cond: ... and owned again");
	ks_rmutex_unlock(&u->r);
	ks_rmutex_unlock(&u->r);
	use_is(ks_cond_wait(&c, &u->r), -EPERM, "cond: wait with an rmutex not owned: -EPERM");

	ks_cond_signal(&c);
	ks_cond_signal_n(&c, 3);
	ks_cond_broadcast(&c);

	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ks_mutex_lock(&u->m);
		use_is(ks_cond_wait_until(&c, &u->m, CLOCK_REALTIME, &ts), -ETIMEDOUT,
		       "cond: wait_until a realtime deadline already past: -ETIMEDOUT");
		clock_gettime(CLOCK_MONOTONIC, &ts);
		use_is(ks_cond_wait_lock(&c, &u->m, &ks_cond_mutex_ops, CLOCK_MONOTONIC, &ts,
					 KS_COND_CANCELPOINT), -ETIMEDOUT,
		       "cond: wait_lock with ks_cond_mutex_ops, a cancellation point: -ETIMEDOUT");
		ks_mutex_unlock(&u->m);
		ks_rmutex_lock(&u->r);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		use_is(ks_cond_wait_until(&c, &u->r, CLOCK_MONOTONIC, &ts), -ETIMEDOUT,
		       "cond: wait_until with an rmutex: -ETIMEDOUT");
		use_is(ks_cond_wait_lock(&c, &u->r, &ks_cond_rmutex_ops, CLOCK_MONOTONIC, &ts, 0),
		       -ETIMEDOUT, "cond: wait_lock with ks_cond_rmutex_ops: -ETIMEDOUT");
		ks_rmutex_unlock(&u->r);
	}

	use_is(ks_thread_start(&t, use_cond_producer, u), 0, "thread: start");
	ks_mutex_lock(&u->m);
	use_is(ks_cond_wait_event_timeout(&u->c, &u->m, u->items >= 3, USE_LONG_NS), 0,
	       "cond: wait_event_timeout with a mutex: 0 once the producer's items came");
	ks_mutex_unlock(&u->m);
	ks_rmutex_lock(&u->r);
	use_is(ks_cond_wait_event(&u->c, &u->r, u->last == 1), 0,
	       "cond: wait_event with an rmutex: 0 once the last item came");
	ks_rmutex_unlock(&u->r);
	use_is(ks_thread_join(&t, NULL), 0, "thread: join");
}

/* ---- sem, event ------------------------------------------------------------------------------ */

static struct ks_sem use_static_sem = KS_SEM_INIT(2);
static struct ks_sem use_static_bounded = KS_BOUNDED_SEM_INIT(1);

static void use_sem(void)
{
	struct ks_sem s;

	ks_sem_down(&use_static_sem);
	use_ok(ks_sem_trydown(&use_static_sem), "sem: KS_SEM_INIT(2), down, trydown");
	use_ok(!ks_sem_trydown(&use_static_sem), "sem: trydown at 0 fails");
	use_is(ks_sem_down_timeout(&use_static_sem, USE_SHORT_NS), -ETIMEDOUT,
	       "sem: down_timeout at 0: -ETIMEDOUT");
	use_is(ks_sem_up_n(&use_static_sem, 2), 0, "sem: up_n");
	use_is(ks_sem_up(&use_static_sem), 0, "sem: up");
	use_is(ks_sem_value(&use_static_sem), 3, "sem: value");
	use_is(ks_sem_up_n(&use_static_sem, 0), -EINVAL, "sem: up_n(0): -EINVAL");
	use_is(ks_sem_up(&use_static_bounded), -EOVERFLOW,
	       "sem: KS_BOUNDED_SEM_INIT(1), up past the bound: -EOVERFLOW");
	use_is(ks_sem_init(&s, 1, KS_BOUNDED | KS_SHARED), 0, "sem: init");
	use_is(ks_sem_down_timeout(&s, 0), 0, "sem: down_timeout(0) with a token: 0");
	use_is(ks_sem_init(&s, KS_SEM_VALUE_MAX + 1u, 0), -EINVAL,
	       "sem: init past KS_SEM_VALUE_MAX: -EINVAL");
}

static struct ks_event use_static_event = KS_EVENT_INIT;

static void *use_event_waiter(void *arg)
{
	ks_event_wait((struct ks_event *)arg);
	return arg;
}

static void use_event(void)
{
	struct ks_thread t = KS_THREAD_INIT;
	void *ret = NULL;
	struct ks_event e;

	use_ok(!ks_event_is_set(&use_static_event), "event: KS_EVENT_INIT is clear");
	use_is(ks_event_wait_timeout(&use_static_event, 0), -ETIMEDOUT,
	       "event: wait_timeout(0) while clear: -ETIMEDOUT");
	use_is(ks_thread_start(&t, use_event_waiter, &use_static_event), 0,
	       "thread: start a waiter");
	use_ok(ks_thread_is_alive(&t), "thread: is_alive while it waits");
	use_is(ks_thread_join_timeout(&t, &ret, USE_SHORT_NS), -ETIMEDOUT,
	       "thread: join_timeout while it waits: -ETIMEDOUT");
	ks_event_set(&use_static_event);
	use_is(ks_thread_join_timeout(&t, &ret, USE_LONG_NS), 0, "event: set releases the waiter");
	use_ok(ret == &use_static_event, "thread: join_timeout gives its return value");
	use_ok(!ks_thread_is_alive(&t), "thread: not alive once joined");
	use_is(ks_thread_join(&t, NULL), -EINVAL, "thread: joined twice: -EINVAL");
	use_ok(ks_gettid() > 0, "thread: gettid");
	ks_event_wait(&use_static_event);
	ks_event_clear(&use_static_event);
	use_ok(!ks_event_is_set(&use_static_event), "event: wait on a set event, clear");
	ks_event_init(&e, 0);
	use_is(ks_event_wait_timeout(&e, -1), -EINVAL, "event: negative timeout: -EINVAL");
}

/* ---- barrier --------------------------------------------------------------------------------- */

static int use_barrier_action(void *arg)
{
	++*(int *)arg;
	return 0;
}

static void *use_barrier_party(void *arg)
{
	return (void *)(intptr_t)ks_barrier_wait((struct ks_barrier *)arg);
}

static void use_barrier(void)
{
	struct ks_thread t = KS_THREAD_INIT;
	struct ks_barrier b;
	void *ret = NULL;
	int actions = 0, mine;

	use_is(ks_barrier_init(&b, 0, NULL, NULL, 0), -EINVAL, "barrier: 0 parties: -EINVAL");
	use_is(ks_barrier_init(&b, 2, use_barrier_action, &actions, 0), 0, "barrier: init");
	use_is(ks_barrier_parties(&b), 2, "barrier: parties");
	ks_thread_start(&t, use_barrier_party, &b);
	mine = ks_barrier_wait_timeout(&b, USE_LONG_NS);
	ks_thread_join(&t, &ret);
	use_ok((mine == 0 && (intptr_t)ret == 1) || (mine == 1 && (intptr_t)ret == 0),
	       "barrier: two parties get the indices 0 and 1");
	use_is(actions, 1, "barrier: the action ran once");
	use_is(ks_barrier_n_waiting(&b), 0, "barrier: n_waiting");
	use_is(ks_barrier_wait_timeout(&b, 0), -ETIMEDOUT, "barrier: wait_timeout(0) alone");
	use_ok(ks_barrier_broken(&b), "barrier: ... broke it");
	ks_barrier_reset(&b);
	use_ok(!ks_barrier_broken(&b), "barrier: reset mends it");
	ks_barrier_abort(&b);
	use_is(ks_barrier_wait(&b), -EPIPE, "barrier: wait after abort: -EPIPE");
}

/* ---- spinlock, mcs, rwlock ------------------------------------------------------------------- */

static struct ks_spinlock use_static_spinlock = KS_SPINLOCK_INIT;
static struct ks_mcs use_static_mcs = KS_MCS_INIT;

static void use_spinlocks(void)
{
	struct ks_mcs_node node = KS_MCS_NODE_INIT, other = KS_MCS_NODE_INIT;
	struct ks_spinlock s;
	struct ks_mcs m;

	ks_spinlock_lock(&use_static_spinlock);
	use_ok(ks_spinlock_is_locked(&use_static_spinlock), "spinlock: KS_SPINLOCK_INIT, lock");
	use_ok(!ks_spinlock_trylock(&use_static_spinlock), "spinlock: trylock when held fails");
	use_is(ks_spinlock_unlock(&use_static_spinlock), 0, "spinlock: unlock");
	use_is(ks_spinlock_unlock(&use_static_spinlock), -EPERM, "spinlock: unlock again: -EPERM");
	ks_spinlock_init(&s, 0);
	use_ok(ks_spinlock_trylock(&s) && !ks_spinlock_unlock(&s), "spinlock: init, trylock");

	ks_mcs_lock(&use_static_mcs, &node);
	use_ok(ks_mcs_is_locked(&use_static_mcs), "mcs: KS_MCS_INIT, lock");
	use_ok(!ks_mcs_trylock(&use_static_mcs, &other), "mcs: trylock on a held lock fails");
	use_is(ks_mcs_unlock(&use_static_mcs, &other), -EPERM, "mcs: unlock by a stranger: -EPERM");
	use_is(ks_mcs_unlock(&use_static_mcs, &node), 0, "mcs: unlock");
	ks_mcs_init(&m, 0);
	use_ok(ks_mcs_trylock(&m, &node) && !ks_mcs_unlock(&m, &node), "mcs: init, trylock");
}

static struct ks_rwlock use_static_rwlock = KS_RWLOCK_INIT;

static void use_rwlock(void)
{
	struct ks_rwlock *rw = &use_static_rwlock;
	struct ks_rwlock other;

	use_is(ks_rwlock_read_lock(rw), 0, "rwlock: KS_RWLOCK_INIT, read_lock");
	use_ok(ks_rwlock_read_trylock(rw), "rwlock: read_trylock");
	use_is(ks_rwlock_read_lock_timeout(rw, 0), 0, "rwlock: read_lock_timeout");
	use_is(ks_rwlock_readers(rw), 3, "rwlock: readers");
	use_ok(!ks_rwlock_write_trylock(rw), "rwlock: write_trylock under readers fails");
	use_is(ks_rwlock_write_lock_timeout(rw, USE_SHORT_NS), -ETIMEDOUT,
	       "rwlock: write_lock_timeout under readers: -ETIMEDOUT");
	use_is(ks_rwlock_read_unlock(rw) | ks_rwlock_read_unlock(rw) | ks_rwlock_read_unlock(rw), 0,
	       "rwlock: read_unlock");
	ks_rwlock_write_lock(rw);
	use_ok(ks_rwlock_is_write_locked(rw), "rwlock: write_lock, is_write_locked");
	use_is(ks_rwlock_downgrade(rw), 0, "rwlock: downgrade");
	use_is(ks_rwlock_readers(rw), 1, "rwlock: ... leaves one reader");
	use_is(ks_rwlock_read_unlock(rw), 0, "rwlock: which unlocks");
	use_is(ks_rwlock_write_lock_timeout(rw, 0), 0, "rwlock: write_lock_timeout");
	use_is(ks_rwlock_write_unlock(rw), 0, "rwlock: write_unlock");
	use_is(ks_rwlock_write_unlock(rw), -EPERM, "rwlock: write_unlock unlocked: -EPERM");
	ks_rwlock_init(&other, 0);
	use_ok(ks_rwlock_write_trylock(&other), "rwlock: init, write_trylock");
}

/* ---- seqlock, seqcount, once ----------------------------------------------------------------- */

struct use_pair {
	long a, b;
};

static struct ks_seqlock use_static_seqlock = KS_SEQLOCK_INIT;
static struct ks_seqcount use_static_seqcount = KS_SEQCOUNT_INIT;
static struct use_pair use_protected;
static int use_once_runs;

static void use_once_fn(void)
{
	use_once_runs++;
}

static void use_seqlock_once(void)
{
	struct ks_seqlock *sl = &use_static_seqlock;
	struct use_pair in = { 1, 2 }, out = { 0, 0 };
	struct ks_once once = KS_ONCE_INIT, other;
	struct ks_seqcount sc;
	uint32_t seq;

	ks_seqlock_write(sl, &use_protected, &in, sizeof(in));
	ks_seqlock_read(sl, &out, &use_protected, sizeof(out));
	use_ok(out.a == 1 && out.b == 2, "seqlock: KS_SEQLOCK_INIT, write, read");
	ks_seqlock_write_lock(sl);
	KS_SEQ_STORE(use_protected.a, 3);
	use_is(ks_seqlock_write_unlock(sl), 0, "seqlock: write_lock, KS_SEQ_STORE, write_unlock");
	use_is(ks_seqlock_write_unlock(sl), -EPERM, "seqlock: write_unlock unlocked: -EPERM");
	use_ok(ks_seqlock_write_trylock(sl) && !ks_seqlock_write_unlock(sl),
	       "seqlock: write_trylock");
	do {
		seq = ks_seqlock_read_begin(sl);
		out.a = KS_SEQ_LOAD(use_protected.a);
	} while (ks_seqlock_read_retry(sl, seq));
	use_is(out.a, 3, "seqlock: read_begin, KS_SEQ_LOAD, read_retry");

	ks_seqcount_write(&use_static_seqcount, &use_protected, &in, sizeof(in));
	ks_seqcount_read(&use_static_seqcount, &out, &use_protected, sizeof(out));
	use_ok(out.a == 1 && out.b == 2, "seqcount: KS_SEQCOUNT_INIT, write, read");
	ks_seqcount_init(&sc, 0);
	ks_seqcount_write_begin(&sc);
	ks_seq_copy_in(&use_protected, &out, sizeof(out));
	ks_seqcount_write_end(&sc);
	seq = ks_seqcount_read_begin(&sc);
	ks_seq_copy_out(&in, &use_protected, sizeof(in));
	use_ok(!ks_seqcount_read_retry(&sc, seq) && seq == 2, "seqcount: init, write_begin/end");
	ks_seqlock_init(sl, 0);

	use_is(ks_once_call(&once, use_once_fn) | ks_once_call(&once, use_once_fn), 0,
	       "once: KS_ONCE_INIT, call");
	use_ok(use_once_runs == 1 && ks_once_done(&once), "once: fn ran once, done");
	ks_once_init(&other, 0);
	use_ok(!ks_once_done(&other), "once: init");
}

/* ---- llist ----------------------------------------------------------------------------------- */

struct use_item {
	int value;
	struct ks_llist_node node;
};

static void use_llist(void)
{
	struct ks_llist_head head = KS_LLIST_HEAD_INIT;
	struct use_item items[4] = { { 1, { NULL } }, { 2, { NULL } }, { 3, { NULL } },
				     { 4, { NULL } } };
	struct ks_llist_node *chain, *pos, *n;
	struct use_item *it, *nit;
	int sum = 0, count = 0, order = 0;

	use_ok(ks_llist_empty(&head), "llist: KS_LLIST_HEAD_INIT is empty");
	use_ok(ks_llist_add(&items[0].node, &head), "llist: add to an empty list: true");
	use_ok(!ks_llist_add(&items[1].node, &head), "llist: add to a non-empty list: false");
	items[3].node.next = &items[2].node;	/* a chain is newest first, like the list */
	ks_llist_add_batch(&items[3].node, &items[2].node, &head);
	chain = ks_llist_del_all(&head);
	use_ok(ks_llist_empty(&head), "llist: add_batch, del_all empties it");
	chain = ks_llist_reverse_order(chain);
	ks_llist_for_each_entry(it, chain, node)
		order = order * 10 + it->value;
	use_is(order, 1234, "llist: reverse_order, for_each_entry in arrival order");
	ks_llist_for_each(pos, chain)
		count++;
	use_is(count, 4, "llist: for_each");
	ks_llist_for_each_safe(pos, n, chain)
		pos->next = NULL;
	use_ok(ks_llist_next(&items[0].node) == NULL, "llist: for_each_safe, next");
	ks_llist_init(&head);
	for (int i = 0; i < 4; i++)
		ks_llist_add(&items[i].node, &head);
	it = ks_llist_entry(ks_llist_del_first(&head), struct use_item, node);
	use_is(it->value, 4, "llist: init, del_first, entry");
	ks_llist_for_each_entry_safe(nit, ks_llist_del_all(&head), node)
		sum += nit->value;
	use_is(sum, 6, "llist: for_each_entry_safe");
}

/* ---- ring ------------------------------------------------------------------------------------ */

#define USE_RING_ITEMS	200

static struct ks_ring_cell use_cells[4];
/* KS_RING_STORAGE_SIZE is a constant expression, in both languages */
static void *use_slots[KS_RING_STORAGE_SIZE(8, KS_RING_SPSC) / sizeof(void *)];

static void *use_ring_producer(void *arg)
{
	struct ks_ring *r = (struct ks_ring *)arg;

	for (intptr_t i = 1; i <= USE_RING_ITEMS; i++)
		ks_ring_push(r, (void *)i);
	return NULL;
}

static void use_ring(void)
{
	struct ks_thread t = KS_THREAD_INIT;
	struct ks_ring r, s;
	void *item = NULL;
	bool in_order = true;

	use_is(ks_ring_init(&r, use_cells, 4, KS_RING_MPMC), 0, "ring: MPMC init");
	use_is(ks_ring_capacity(&r), 4, "ring: capacity");
	for (intptr_t i = 1; i <= 4; i++)
		ks_ring_try_push(&r, (void *)i);
	use_ok(!ks_ring_try_push(&r, NULL), "ring: try_push on a full ring fails");
	use_is(ks_ring_count(&r), 4, "ring: count");
	use_is(ks_ring_push_timeout(&r, NULL, USE_SHORT_NS), -ETIMEDOUT,
	       "ring: push_timeout on a full ring: -ETIMEDOUT");
	use_ok(ks_ring_try_pop(&r, &item) && item == (void *)1, "ring: try_pop");
	use_is(ks_ring_pop_timeout(&r, &item, 0), 0, "ring: pop_timeout");
	use_is((intptr_t)ks_ring_pop(&r), 3, "ring: pop");
	ks_ring_push(&r, (void *)5);
	ks_ring_pop(&r);
	ks_ring_pop(&r);
	use_is(ks_ring_pop_timeout(&r, &item, USE_SHORT_NS), -ETIMEDOUT,
	       "ring: pop_timeout on an empty ring: -ETIMEDOUT");

	use_is(ks_ring_init(&s, use_slots, 8, KS_RING_SPSC), 0, "ring: SPSC init");
	use_ok(ks_ring_storage_size(8, KS_RING_SPSC) == sizeof(use_slots),
	       "ring: storage_size agrees with KS_RING_STORAGE_SIZE");
	use_is(ks_ring_push_timeout(&s, (void *)7, 0), 0, "ring: SPSC push_timeout");
	use_ok(ks_ring_try_pop(&s, &item) && item == (void *)7, "ring: SPSC try_pop");
	ks_thread_start(&t, use_ring_producer, &s);
	for (intptr_t i = 1; i <= USE_RING_ITEMS; i++)
		in_order &= ks_ring_pop(&s) == (void *)i;
	ks_thread_join(&t, NULL);
	use_ok(in_order, "ring: SPSC push/pop across threads, in order");
}

/* ---- workqueue ------------------------------------------------------------------------------- */

struct use_job {
	struct ks_work work;
	KS_ATOMIC(int) runs;
};

static void use_job_fn(struct ks_work *work)
{
	struct use_job *job = ks_container_of(work, struct use_job, work);

	atomic_fetch_add_explicit(&job->runs, 1, memory_order_relaxed);
}

static void use_workqueue(void)
{
	static struct use_job a = { KS_WORK_INIT(use_job_fn), 0 };
	struct ks_workqueue *wq = NULL;
	struct use_job b;

	ks_work_init(&b.work, use_job_fn);
	atomic_init(&b.runs, 0);
	use_is(ks_workqueue_create(&wq, 2), 0, "workqueue: create");
	use_is(ks_workqueue_nthreads(wq), 2, "workqueue: nthreads");
	use_ok(ks_workqueue_queue(wq, &a.work), "workqueue: KS_WORK_INIT, queue");
	ks_workqueue_queue(wq, &b.work);
	use_is(ks_workqueue_flush(wq), 0, "workqueue: flush");
	use_ok(!ks_work_pending(&a.work) && atomic_load(&a.runs) == 1 && atomic_load(&b.runs) == 1,
	       "workqueue: ks_work_init, each item ran once, none pending");
	use_is(ks_workqueue_destroy(wq), 0, "workqueue: destroy");
}

/* ---- robust mutex ---------------------------------------------------------------------------- */

static struct ks_robust_mutex use_static_robust = KS_ROBUST_MUTEX_INIT;

static void *use_robust_exit_holding(void *m)
{
	ks_robust_mutex_lock((struct ks_robust_mutex *)m);
	return NULL;	/* the thread exits holding it */
}

static void use_robust_mutex(void)
{
	struct ks_robust_mutex m;
	struct ks_cond c = KS_COND_INIT;
	struct ks_thread t;

	use_is(ks_robust_mutex_lock(&use_static_robust), 0, "robust: KS_ROBUST_MUTEX_INIT, lock");
	use_is(ks_robust_mutex_trylock(&use_static_robust), -EBUSY, "robust: trylock: -EBUSY");
	use_is(ks_robust_mutex_unlock(&use_static_robust), 0, "robust: unlock");
	use_is(ks_robust_mutex_init(&m, KS_SHARED), 0, "robust: init");
	use_is(ks_robust_mutex_lock_timeout(&m, -1), -EINVAL, "robust: negative timeout: -EINVAL");
	use_is(ks_thread_start(&t, use_robust_exit_holding, &m), 0, "robust: a thread");
	use_is(ks_thread_join(&t, NULL), 0, "robust: which returns holding it");
	use_is(ks_robust_mutex_lock_timeout(&m, USE_LONG_NS), -EOWNERDEAD,
	       "robust: its owner exited holding it: -EOWNERDEAD");
	use_is(ks_robust_mutex_consistent(&m), 0, "robust: consistent");
	use_is(ks_robust_mutex_unlock(&m), 0, "robust: unlock after consistent");
	use_is(ks_robust_mutex_init(&m, KS_SHARED | KS_PRIO_INHERIT), 0, "robust: init, PI");
	use_is(ks_robust_mutex_lock(&m), 0, "robust: PI lock");
	use_is(ks_cond_wait_timeout(&c, &m, USE_SHORT_NS), -ETIMEDOUT,
	       "robust: cond wait_timeout with it: -ETIMEDOUT");
	use_is(ks_cond_wait_event_timeout(&c, &m, m.flags == 0, USE_SHORT_NS), -ETIMEDOUT,
	       "robust: cond wait_event_timeout with it: -ETIMEDOUT");
	use_is(ks_robust_mutex_unlock(&m), 0, "robust: PI unlock");
}

/* ---- priority-inheriting mutex --------------------------------------------------------------- */

static struct ks_pi_mutex use_static_pi = KS_PI_MUTEX_INIT;

static void use_pi_mutex(void)
{
	struct timespec past = { 0, 0 };
	struct ks_cond c = KS_COND_INIT;
	struct ks_pi_mutex m;

	use_is(ks_pi_mutex_lock(&use_static_pi), 0, "pi: KS_PI_MUTEX_INIT, lock");
	use_ok(ks_pi_mutex_is_locked(&use_static_pi), "pi: is_locked");
	use_ok(!ks_pi_mutex_trylock(&use_static_pi), "pi: trylock on a held lock fails");
	use_is(ks_pi_mutex_lock_timeout(&use_static_pi, USE_SHORT_NS), -EDEADLK,
	       "pi: lock_timeout by the owner: -EDEADLK");
	use_is(ks_pi_mutex_unlock(&use_static_pi), 0, "pi: unlock");
	use_is(ks_pi_mutex_init(&m, KS_SHARED), 0, "pi: init");
	use_is(ks_pi_mutex_lock_timeout(&m, -1), -EINVAL, "pi: negative timeout: -EINVAL");
	use_is(ks_pi_mutex_unlock(&m), -EPERM, "pi: unlock of a free lock: -EPERM");
	use_is(ks_cond_wait(&c, &m), -EPERM, "pi: cond wait without the lock: -EPERM");
	ks_pi_mutex_lock(&m);
	use_is(ks_cond_wait_until(&c, &m, CLOCK_MONOTONIC, &past), -ETIMEDOUT,
	       "pi: cond wait_until, a deadline in the past: -ETIMEDOUT");
	use_is(ks_pi_mutex_unlock(&m), 0, "pi: unlock after the wait");
}

/* ---- common ---------------------------------------------------------------------------------- */

static void use_common(void)
{
	int64_t t0 = ks_now_ns();

	ks_cpu_relax();
	use_ok(ks_likely(ks_now_ns() >= t0) && !ks_unlikely(t0 < 0), "common: now_ns, likely");
	use_ok(ks_futex_calls() < (unsigned long)-1, "common: futex_calls");
	use_ok(KS_NSEC_PER_SEC == 1000 * KS_NSEC_PER_MSEC &&
	       KS_NSEC_PER_MSEC == 1000 * KS_NSEC_PER_USEC, "common: time units");
	use_ok(KSYNC_VERSION == KSYNC_VERSION_NUMBER(KSYNC_VERSION_MAJOR, KSYNC_VERSION_MINOR,
						    KSYNC_VERSION_PATCH) &&
	       KSYNC_VERSION >= KSYNC_VERSION_NUMBER(0, 1, 0), "version: KSYNC_VERSION");
	{
		char v[32];

		snprintf(v, sizeof(v), "%d.%d.%d", KSYNC_VERSION_MAJOR, KSYNC_VERSION_MINOR,
			 KSYNC_VERSION_PATCH);
		use_ok(!strcmp(v, KSYNC_VERSION_STRING), "version: KSYNC_VERSION_STRING");
	}
}

/* Runs every part; the caller prints the plan. */
static void use_all(void)
{
	use_common();
	use_mutex();
	use_rmutex();
	use_cond();
	use_sem();
	use_event();
	use_barrier();
	use_spinlocks();
	use_rwlock();
	use_seqlock_once();
	use_llist();
	use_ring();
	use_workqueue();
	use_robust_mutex();
	use_pi_mutex();
}

#endif /* KSYNC_TESTS_USE_ALL_H */
