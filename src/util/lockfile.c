/*
 * lockfile.c - data-directory lock (see lockfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/err.h"
#include "util/lockfile.h"

int
lockfile_acquire(const char *path, const char *dir)
{
    char pidbuf[32] = "";
    ssize_t n;
    int fd;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_set(ERR_IO, "cannot open lock file '%s': %s", path,
                strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            n = pread(fd, pidbuf, sizeof(pidbuf) - 1, 0);
            pidbuf[n > 0 ? n : 0] = '\0';
            pidbuf[strcspn(pidbuf, "\n")] = '\0';
            err_set(ERR_BUSY,
                    "data directory '%s' is in use by another ovmmd (pid %s)",
                    dir, pidbuf[0] ? pidbuf : "unknown");
        } else {
            err_set(ERR_IO, "cannot lock '%s': %s", path, strerror(errno));
        }
        close(fd);
        return -1;
    }
    lockfile_write_pid(fd);
    return fd;
}

void
lockfile_write_pid(int fd)
{
    char pidbuf[32];
    int len = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());

    if (ftruncate(fd, 0) == 0 && pwrite(fd, pidbuf, (size_t)len, 0) == len)
        fsync(fd);
}

void
lockfile_release(int fd)
{
    if (fd < 0)
        return;
    if (ftruncate(fd, 0) != 0) {
        /* best effort: the lock itself is what matters */
    }
    flock(fd, LOCK_UN);
    close(fd);
}
