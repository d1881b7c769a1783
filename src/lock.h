/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef CS_LOCK_H
#define CS_LOCK_H

/*
 * Serialize the commands that change the kernel (load, set-rate, unload) with
 * an flock on /run/cpushaper.lock (CS_LOCK_FILE overrides). The kernel drops
 * it when the holder exits, also on kill -9. Readers (show, top, metrics)
 * never take it. Waits up to @timeout_s seconds, saying whom it waits for.
 * Returns the fd to keep open, or -errno (message printed).
 */
int cs_lock_writer(const char *cmd, int timeout_s);

/*
 * Release the lock and remove its file: what unload does, so that nothing of
 * cpushaper's is left. Safe against waiters: a locker that gets a file which
 * is no longer at the path opens the path again.
 */
void cs_lock_release_remove(int fd);

#endif
