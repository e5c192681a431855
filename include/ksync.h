/* SPDX-License-Identifier: MIT */
/* ksync: kernel-style synchronization primitives on futex(2) and C11 atomics. */
#ifndef KSYNC_H
#define KSYNC_H

#include <ksync/version.h>
#include <ksync/common.h>
#include <ksync/mutex.h>
#include <ksync/rmutex.h>
#include <ksync/cond.h>
#include <ksync/sem.h>
#include <ksync/event.h>
#include <ksync/barrier.h>
#include <ksync/thread.h>

#include <ksync/spinlock.h>
#include <ksync/mcs.h>
#include <ksync/rwlock.h>
#include <ksync/seqlock.h>
#include <ksync/once.h>
#include <ksync/llist.h>
#include <ksync/ring.h>
#include <ksync/workqueue.h>

#include <ksync/robust_mutex.h>
#include <ksync/pi_mutex.h>

#endif /* KSYNC_H */
