/*
 * admin.c - administrative subcommands that work on the data directory
 * without the REST API: user management, backup and restore.
 *
 * DESIGN: these run in a separate short-lived process, possibly while
 * ovmmd runs on the same directory. User changes and backup go through
 * db/ like the daemon's own writes (SQLite WAL serializes them with the
 * daemon's writer; the daemon sees them at the next read, and its
 * password cache is keyed by the stored hash, so a new password takes
 * effect at once). Restore replaces the database file, so it takes the
 * data-directory lock first and refuses while a daemon holds it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/auth.h"
#include "db/db.h"
#include "ovmmd.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/lockfile.h"
#include "util/log.h"
#include "util/str.h"

static int
fail_msg(const char *what)
{
    fprintf(stderr, "ovmmd: %s: %s\n", what, err_message());
    return 1;
}

/* Read a password: from the terminal without echo, else one stdin line. */
static char *
read_password(const char *prompt)
{
    char line[1024];
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO);
    size_t len;

    if (tty) {
        fprintf(stderr, "%s", prompt);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    if (!fgets(line, sizeof(line), stdin))
        line[0] = '\0';
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fprintf(stderr, "\n");
    }
    len = strcspn(line, "\r\n");
    line[len] = '\0';
    return xstrdup(line);
}

static int
cmd_user(struct db *db, const char *role, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    const char *name = argc > 2 ? argv[2] : NULL;
    enum auth_role r;
    char *AUTOFREE pw = NULL;
    char *AUTOFREE hash = NULL;

    if (!role)
        role = "read-only";
    if (argc > 3) {
        fprintf(stderr, "ovmmd: unexpected argument '%s'\n", argv[3]);
        return 2;
    }
    if (sub && strcmp(sub, "list") == 0) {
        struct model_obj **v = NULL;
        size_t n = 0, k;

        if (db_object_list(db, model_type_find("User"), NULL, NULL, -1, 0, &v,
                           &n, NULL) < 0)
            return fail_msg("cannot list users");
        for (k = 0; k < n; k++)
            printf("%-24s %-14s %s\n", v[k]->name,
                   v[k]->vals[0].s ? v[k]->vals[0].s : "?",
                   v[k]->vals[1].i ? "locked" : "");
        model_objs_free(v, n);
        return 0;
    }
    if (!sub || !name) {
        fprintf(stderr, "usage: ovmmd user add NAME [--role ROLE] | passwd "
                        "NAME | lock NAME | unlock NAME | list\n");
        return 2;
    }
    if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) {
        if (strcmp(sub, "add") == 0 && auth_role_parse(role, &r) < 0)
            return fail_msg("bad role");
        pw = read_password("New password: ");
        if (auth_password_check(pw) < 0)
            return fail_msg("password refused");
        hash = auth_password_hash(pw);
        if (!hash)
            return fail_msg("cannot hash the password");
        if (strcmp(sub, "add") == 0) {
            if (db_user_create(db, name, auth_role_str(r), hash, NULL, NULL) < 0)
                return fail_msg("cannot add user");
            printf("user '%s' added with role %s\n", name, auth_role_str(r));
        } else {
            AUTOPTR(db_user) struct db_user *u = db_user_get_by_name(db, name);

            if (!u || db_user_set_password(db, name, hash) < 0 ||
                db_session_delete_user(db, u->id) < 0)
                return fail_msg("cannot change the password");
            printf("password of user '%s' changed\n", name);
        }
        return 0;
    }
    if (strcmp(sub, "lock") == 0 || strcmp(sub, "unlock") == 0) {
        bool lock = strcmp(sub, "lock") == 0;
        AUTOPTR(db_user) struct db_user *u = db_user_get_by_name(db, name);

        if (!u || db_user_set_disabled(db, name, lock) < 0 ||
            (lock && db_session_delete_user(db, u->id) < 0))
            return fail_msg(lock ? "cannot lock user" : "cannot unlock user");
        printf("user '%s' %s\n", name, lock ? "locked" : "unlocked");
        return 0;
    }
    fprintf(stderr, "ovmmd: unknown user command '%s'\n", sub);
    return 2;
}

int
admin_main(const struct config *c, const char *role, int argc, char **argv)
{
    struct paths p;
    int ret = 1, lockfd;

    paths_init(&p, c);
    if (strcmp(argv[0], "backup") == 0) {
        if (argc != 2) {
            fprintf(stderr, "usage: ovmmd backup FILE [--data-dir DIR]\n");
            ret = 2;
        } else if (db_backup_file(p.db, argv[1]) < 0) {
            ret = fail_msg("backup failed");
        } else {
            printf("backup of '%s' written to '%s'\n", p.db, argv[1]);
            ret = 0;
        }
    } else if (strcmp(argv[0], "restore") == 0) {
        if (argc != 2) {
            fprintf(stderr, "usage: ovmmd restore FILE [--data-dir DIR]\n");
            ret = 2;
        } else if (fs_mkdir_p(c->data_dir, 0700) < 0 ||
                   (lockfd = lockfile_acquire(p.lock, c->data_dir)) < 0) {
            ret = fail_msg("cannot restore");
        } else {
            if (db_restore_file(argv[1], p.db) < 0) {
                ret = fail_msg("restore failed");
            } else {
                printf("'%s' restored from '%s'\n", p.db, argv[1]);
                ret = 0;
            }
            lockfile_release(lockfd);
        }
    } else if (strcmp(argv[0], "user") == 0) {
        struct auth_conf ac = {
            .max_failures = c->login_max_failures,
            .lockout_ms = c->login_lockout_seconds * 1000,
            .session_idle_ms = c->session_idle_timeout * 1000,
            .session_lifetime_ms = c->session_lifetime * 1000,
            .strength = c->password_strength,
        };
        AUTOPTR(db) struct db *db = NULL;

        if (fs_mkdir_p(c->data_dir, 0700) < 0 || !(db = db_open(p.db)))
            ret = fail_msg("cannot open the database");
        else if (auth_init(db, &ac) < 0)
            ret = fail_msg("cannot initialize authentication");
        else
            ret = cmd_user(db, role, argc, argv);
        auth_shutdown();
    } else {
        fprintf(stderr, "ovmmd: unknown command '%s'\n", argv[0]);
        ret = 2;
    }
    paths_release(&p);
    return ret;
}
