/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_CPULIST_H
#define CS_CPULIST_H

#include <stdbool.h>
#include <stddef.h>
#include "cpushaper.h"

/* "0-3,6" -> cpus[0..3] = cpus[6] = true. -EINVAL with *why. */
int cpulist_parse(const char *s, bool cpus[CS_MAX_CPUS], const char **why);
/* A list the kernel gives (any size): CPUs from CS_MAX_CPUS on are left out. */
int cpulist_parse_machine(const char *s, bool cpus[CS_MAX_CPUS], const char **why);
/* CPUs the kernel lists as online (sysfs), any number; those beyond CS_MAX_CPUS left out. */
int cpulist_online(bool cpus[CS_MAX_CPUS]);
void cpulist_format(const bool cpus[CS_MAX_CPUS], char *buf, size_t len);

#endif
