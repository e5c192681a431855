// SPDX-License-Identifier: MIT
/*
 * RLock: a lock its owner may take again. withdraw() and deposit() each take the bank's lock,
 * and so does transfer(), which calls them both: cascading calls re-acquire a lock the thread
 * already holds. With an RLock that just counts one level deeper; with a plain Lock the inner
 * acquire would wait for ever for the thread itself (we show it with a timeout).
 */
#include "tour.h"

#define ACCOUNTS	2
#define THREADS		4
#define TRANSFERS	10000
#define INITIAL		1000
#define DEADLOCK_MS	100

static struct ks_rmutex bank = KS_RMUTEX_INIT;
static long balance[ACCOUNTS] = { INITIAL, INITIAL };

static void withdraw(int account, long amount)
{
	ks_rmutex_lock(&bank);
	balance[account] -= amount;
	ks_rmutex_unlock(&bank);
}

static void deposit(int account, long amount)
{
	ks_rmutex_lock(&bank);
	balance[account] += amount;
	ks_rmutex_unlock(&bank);
}

/* Holds the lock across both calls, so nobody ever sees the money in neither account. */
static void transfer(int from, int to, long amount)
{
	ks_rmutex_lock(&bank);
	withdraw(from, amount);
	deposit(to, amount);
	ks_rmutex_unlock(&bank);
}

static void *clerk(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < TRANSFERS; i++)
		transfer((i + id) % ACCOUNTS, (i + id + 1) % ACCOUNTS, 1 + i % 7);
	return NULL;
}

int main(void)
{
	struct ks_thread threads[THREADS];
	struct ks_mutex plain = KS_MUTEX_INIT;
	int err;

	clerk((void *)0);
	printf("sequential: %d transfers, total %ld == %d\n", TRANSFERS,
	       balance[0] + balance[1], ACCOUNTS * INITIAL);

	for (long i = 0; i < THREADS; i++)
		tour_start(&threads[i], clerk, (void *)i);
	for (int i = 0; i < THREADS; i++)
		tour_join(&threads[i]);
	printf("threads:    %d x %d transfers, the RLock taken again inside withdraw() and "
	       "deposit() (depth 2), total %ld == %d\n", THREADS, TRANSFERS, balance[0] + balance[1],
	       ACCOUNTS * INITIAL);

	ks_mutex_lock(&plain);
	err = ks_mutex_lock_timeout(&plain, DEADLOCK_MS * KS_NSEC_PER_MSEC);
	printf("a plain Lock is not re-entrant: its owner's second acquire would wait for ever "
	       "(here: %s after %d ms)\n", err == -ETIMEDOUT ? "-ETIMEDOUT" : "?!", DEADLOCK_MS);
	ks_mutex_unlock(&plain);
	return balance[0] + balance[1] == ACCOUNTS * INITIAL && err == -ETIMEDOUT ? 0 : 1;
}
