/* SPDX-License-Identifier: MIT */
/* ksync: kernel-style synchronization primitives on futex(2) and C11 atomics. */
#ifndef KSYNC_H
#define KSYNC_H

#include <ksync/common.h>
#include <ksync/mutex.h>
#include <ksync/rmutex.h>
#include <ksync/cond.h>
#include <ksync/sem.h>
#include <ksync/event.h>
#include <ksync/barrier.h>
#include <ksync/thread.h>

#endif /* KSYNC_H */
