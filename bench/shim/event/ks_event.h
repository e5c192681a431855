/* SPDX-License-Identifier: MIT */
/* ks_event: ksync's Event on one futex word. */
#include <ksync/event.h>

#define EVENT_NAME	"ks_event"
#define EVENT_ORIGIN	"ksync"
#define EVENT_BASELINE	"pthread_cond_event"
#define EVENT_TYPE	struct ks_event
#define EVENT_INIT(e)	ks_event_init((e), 0)
#define EVENT_SET(e)	ks_event_set(e)
#define EVENT_CLEAR(e)	ks_event_clear(e)
#define EVENT_WAIT(e)	ks_event_wait(e)
