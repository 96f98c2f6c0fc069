/*
 * tmpdir.h - a fresh temporary directory per test, removed afterwards
 * (header-only, shared by the unit tests that open real files).
 */
#ifndef OVMM_TEST_TMPDIR_H
#define OVMM_TEST_TMPDIR_H

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/str.h"

/* Make "/tmp/ovmm-test-<name>-XXXXXX" into @dir (@size bytes). 0 or -1. */
static inline int
tmpdir_make(char *dir, size_t size, const char *name)
{
    char *tmpl = xasprintf("/tmp/ovmm-test-%s-XXXXXX", name);
    int rc = 0;

    str_copy(dir, tmpl, size);
    xfree(tmpl);
    if (!mkdtemp(dir))
        rc = -1;
    return rc;
}

/* Remove the files in @dir (one level, as the tests make them) and it. */
static inline void
tmpdir_remove(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);

    for (de = d ? readdir(d) : NULL; de; de = readdir(d)) {
        char *p;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        p = xasprintf("%s/%s", dir, de->d_name);
        unlink(p);
        xfree(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

#endif
