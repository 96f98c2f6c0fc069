/*
 * ovmmd.h - what main.c and admin.c share: paths derived from the config.
 */
#ifndef OVMM_OVMMD_H
#define OVMM_OVMMD_H

#include "conf/config.h"

/* Paths under the data directory, resolved once from the config. */
struct paths {
    char *db;          /* <data>/ovmm.db */
    char *lock;        /* <data>/ovmmd.lock */
    char *log;         /* log file, or NULL for stderr only */
    char *cert;        /* TLS certificate */
    char *key;         /* TLS key */
    char *admin_pw;    /* <data>/admin-password */
    char *port;        /* <data>/ovmmd.port */
    char *http_port;   /* <data>/ovmmd.http-port */
    char *web_root;    /* console files */
    char *secret_key;  /* key that seals agent and IPMI passwords */
    char *sim_dir;     /* node files of simulated servers */
    char *tmp_dir;     /* downloads being unpacked (imports) */
};

/* Resolve every path of @c into @p (free with paths_release()). */
void paths_init(struct paths *p, const struct config *c);
void paths_release(struct paths *p);

/* `ovmmd user ...`, `ovmmd backup FILE`, `ovmmd restore FILE`.
 * @argv starts at the subcommand name; @role is --role or NULL.
 * Returns the exit status. */
int admin_main(const struct config *c, const char *role, int argc,
               char **argv);

#endif
