/* SPDX-License-Identifier: MIT */
/* sem_t: glibc's POSIX semaphore. */
#include <semaphore.h>

#define SEM_NAME	"sem_t"
#define SEM_ORIGIN	"glibc"
#define SEM_TYPE	sem_t
#define SEM_INIT(s, v)	sem_init((s), 0, (v))
#define SEM_DOWN(s)	sem_wait(s)
#define SEM_UP(s)	sem_post(s)
