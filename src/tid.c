// SPDX-License-Identifier: MIT
/*
 * The cached kernel thread id. gettid(2) is a system call, and an rmutex asks "who am I" on
 * every lock, so each thread asks the kernel once and keeps the answer in TLS. fork() gives the
 * child a new tid while copying the parent's TLS: the atfork handler clears the child's cache.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ksync/common.h>

__thread int ks__tid __attribute__((tls_model("initial-exec")));

int ks__tid_slow(void)
{
	ks__tid = (int)syscall(SYS_gettid);
	return ks__tid;
}

static void ks_tid_forget(void)
{
	ks__tid = 0;
}

__attribute__((constructor)) static void ks_tid_init(void)
{
	pthread_atfork(NULL, NULL, ks_tid_forget);
}
