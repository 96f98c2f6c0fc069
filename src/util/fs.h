/*
 * fs.h - directory helpers. Thread-safe (no state).
 */
#ifndef OVMM_FS_H
#define OVMM_FS_H

/* mkdir -p @dir; new directories get @mode. 0 or -1 (ERR_IO naming the
 * directory that could not be made). */
int fs_mkdir_p(const char *dir, unsigned mode);
/* fs_mkdir_p() for the directory that holds @path (nothing for a bare
 * file name). */
int fs_mkdir_parent(const char *path, unsigned mode);

#endif
