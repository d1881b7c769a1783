// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <pthread.h>
#include "handles.h"
#include "cpushaper.h"

static uint16_t order[HANDLE_COUNT];
static int32_t index_of[0x10000];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
	uint32_t n = 0;

	for (uint32_t m = 0; m <= 0xffff; m++)
		index_of[m] = -1;
	/* pass 0: outside the default leaves' bucket; pass 1: inside it */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t m = 1; m < 0xffff; m++) {
			if (m == CS_MQ_MAJOR || (handle_bucket(m) == handle_bucket(0)) != pass)
				continue;
			index_of[m] = (int32_t)n;
			order[n++] = (uint16_t)m;
		}
}

uint32_t handle_major(uint32_t i)
{
	pthread_once(&once, build);
	return i < HANDLE_COUNT ? order[i] : 0;
}

int32_t handle_index(uint32_t major)
{
	pthread_once(&once, build);
	return major <= 0xffff ? index_of[major] : -1;
}
