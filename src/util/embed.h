/*
 * embed.h - files compiled into the binary (the schema/db SQL migrations
 * and the schema/api JSON files).
 *
 * DESIGN: scripts/embed.c turns the files into build/gen/embedded.c at
 * build time, so ovmmd needs nothing from the source tree at run time
 * except web/ (served from disk so the console can be edited live).
 * Immutable; thread-safe.
 */
#ifndef OVMM_EMBED_H
#define OVMM_EMBED_H

#include <stddef.h>

struct embedded_file {
    const char *path;          /* relative to the source tree, e.g. "schema/db/0001_base.sql" */
    const unsigned char *data; /* NUL-terminated contents */
    size_t len;                /* length without the NUL */
};

/* Sorted by path. */
extern const struct embedded_file embedded_files[];
extern const size_t embedded_nfiles;

/* The file at @path, or NULL. */
const struct embedded_file *embedded_find(const char *path);

#endif
