/*
 * lockfile.h - exclusive ownership of a data directory.
 *
 * DESIGN: flock(2) on <dir>/ovmmd.lock, held for the process lifetime
 * and released by the kernel when the process dies, so a crash never
 * leaves a stale lock. flock (not fcntl) so the lock survives the
 * daemonizing fork. The file holds the owner's pid, for the message a
 * second ovmmd prints. Main thread only.
 */
#ifndef OVMM_LOCKFILE_H
#define OVMM_LOCKFILE_H

#include <sys/types.h>

/*
 * Lock @path. Returns the descriptor (keep it open), or -1 with ERR_BUSY
 * "data directory '<dir>' is in use by another ovmmd (pid N)" or ERR_IO.
 */
int lockfile_acquire(const char *path, const char *dir);
/* Write the current pid into the locked file (after a fork). */
void lockfile_write_pid(int fd);
/* Release and close. */
void lockfile_release(int fd);

#endif
