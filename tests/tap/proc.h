/* SPDX-License-Identifier: MIT */
/*
 * Threads and processes for the tests: plain pthreads as scaffolding (the library's own threads
 * are tested in t-thread), zeroed MAP_SHARED memory that survives fork(), and the wait for a
 * child's clean exit.
 */
#ifndef KSYNC_TESTS_TAP_PROC_H
#define KSYNC_TESTS_TAP_PROC_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* Zeroed MAP_SHARED memory that survives fork(). */
static inline void *tap_shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		exit(1);
	}
	return p;
}

/* Waits for a child; true if it exited with status 0. */
static inline bool tap_wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Starts a plain pthread (test scaffolding; the library's own threads are tested in t-thread). */
static inline pthread_t tap_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, arg)) {
		printf("Bail out! pthread_create failed\n");
		exit(1);
	}
	return t;
}

#endif /* KSYNC_TESTS_TAP_PROC_H */
