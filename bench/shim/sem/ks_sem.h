/* SPDX-License-Identifier: MIT */
/* ks_sem: ksync's counting semaphore. */
#include <ksync/sem.h>

#define SEM_NAME	"ks_sem"
#define SEM_ORIGIN	"ksync"
#define SEM_BASELINE	"sem_t"
#define SEM_TYPE	struct ks_sem
#define SEM_INIT(s, v)	ks_sem_init((s), (v), 0)
#define SEM_DOWN(s)	ks_sem_down(s)
#define SEM_UP(s)	ks_sem_up(s)
