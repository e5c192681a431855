/* SPDX-License-Identifier: MIT */
/* pthread_barrier: glibc's barrier. */
#include <pthread.h>

#define BARRIER_NAME		"pthread_barrier"
#define BARRIER_ORIGIN		"glibc"
#define BARRIER_TYPE		pthread_barrier_t
#define BARRIER_INIT(b, n)	pthread_barrier_init((b), NULL, (n))
#define BARRIER_WAIT(b, self, n)	pthread_barrier_wait(b)
