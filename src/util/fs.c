/*
 * fs.c - directory helpers (see fs.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/err.h"
#include "util/fs.h"

int
fs_mkdir_p(const char *dir, unsigned mode)
{
    char *AUTOFREE copy = xstrdup(dir);
    char *p;

    for (p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(copy, mode) < 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
        goto fail;
    return 0;

 fail:
    err_set(ERR_IO, "cannot create directory '%s': %s", copy, strerror(errno));
    return -1;
}

int
fs_mkdir_parent(const char *path, unsigned mode)
{
    char *AUTOFREE dir = xstrdup(path);
    char *slash = strrchr(dir, '/');

    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    return fs_mkdir_p(dir, mode);
}
