// SPDX-License-Identifier: MIT
/* A plugin t-preload loads with dlopen: whose pthread_mutex_init does it call? */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

int plugin_mutex_tag(void)
{
	pthread_mutex_t m;
	uint32_t tag;

	pthread_mutex_init(&m, NULL);
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	memcpy(&tag, (char *)&m + 20, sizeof(tag));
	pthread_mutex_destroy(&m);
	return (int)tag;
}
