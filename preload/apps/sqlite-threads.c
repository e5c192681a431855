// SPDX-License-Identifier: MIT
/*
 * sqlite3 driven by several threads: one connection in serialized mode (SQLite's own recursive
 * pthread mutexes guard it) shared by writer and reader threads, plus a connection per thread on
 * a shared-cache database file (SQLite's shared-cache locks and busy retries). Prints totals that
 * do not depend on the interleaving.
 *
 *	sqlite-threads DBFILE
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#define WRITERS	3
#define READERS	2
#define ROWS	2000

static sqlite3 *shared_db;
static const char *path;

static void check(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

/*
 * A write on a connection whose other statements hold an older snapshot (the readers share it)
 * gets SQLITE_BUSY at once, without the busy handler (WAL's rule): retry, as applications do.
 */
static int retry_busy(int rc, sqlite3_stmt *st)
{
	if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
		return 0;
	if (st)
		sqlite3_reset(st);
	sqlite3_sleep(1);
	return 1;
}

static void *writer(void *arg)
{
	long id = (long)arg;
	sqlite3_stmt *st;

	check(sqlite3_prepare_v2(shared_db, "INSERT INTO t(w, v) VALUES (?, ?)", -1, &st, NULL),
	      shared_db, "prepare");
	for (int i = 0; i < ROWS; i++) {
		sqlite3_bind_int(st, 1, (int)id);
		sqlite3_bind_int(st, 2, i);
		while (retry_busy(sqlite3_step(st), st))
			;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return NULL;
}

static void *reader(void *arg)
{
	sqlite3_stmt *st;
	long seen = 0;

	(void)arg;
	check(sqlite3_prepare_v2(shared_db, "SELECT count(*) FROM t", -1, &st, NULL), shared_db,
	      "prepare");
	for (int i = 0; i < 200; i++) {
		check(sqlite3_step(st), shared_db, "select");
		seen += sqlite3_column_int(st, 0) >= 0;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return (void *)seen;
}

/* Its own connection to the file: SQLite's file locks and busy handler between connections. */
static void *own_connection(void *arg)
{
	long id = (long)arg;
	sqlite3 *db;
	char sql[128];

	check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL), db,
	      "open");
	sqlite3_busy_timeout(db, 10000);
	for (int i = 0; i < 100; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO u(c, v) VALUES (%ld, %d)", id, i);
		while (retry_busy(sqlite3_exec(db, sql, NULL, NULL, NULL), NULL))
			;
	}
	sqlite3_close(db);
	return NULL;
}

static long long query(const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	check(sqlite3_prepare_v2(shared_db, sql, -1, &st, NULL), shared_db, "prepare");
	check(sqlite3_step(st), shared_db, sql);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int main(int argc, char **argv)
{
	pthread_t th[WRITERS + READERS + 4];
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: sqlite-threads DBFILE\n");
		return 2;
	}
	path = argv[1];
	remove(path);
	if (sqlite3_threadsafe() != 1)
		fprintf(stderr, "note: sqlite3_threadsafe() = %d\n", sqlite3_threadsafe());
	check(sqlite3_open_v2(path, &shared_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			      SQLITE_OPEN_FULLMUTEX, NULL), shared_db, "open");
	sqlite3_busy_timeout(shared_db, 10000);
	check(sqlite3_exec(shared_db, "PRAGMA journal_mode=WAL; CREATE TABLE t(w INT, v INT);"
			   "CREATE TABLE u(c INT, v INT);", NULL, NULL, NULL), shared_db, "schema");
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&th[n++], NULL, writer, (void *)i);
	for (long i = 0; i < READERS; i++)
		pthread_create(&th[n++], NULL, reader, NULL);
	for (long i = 0; i < 4; i++)
		pthread_create(&th[n++], NULL, own_connection, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("t: %lld rows, sum %lld; u: %lld rows, sum %lld\n", query("SELECT count(*) FROM t"),
	       query("SELECT sum(v) FROM t"), query("SELECT count(*) FROM u"),
	       query("SELECT sum(c * 1000 + v) FROM u"));
	sqlite3_close(shared_db);
	remove(path);
	return 0;
}
