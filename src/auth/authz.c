/*
 * authz.c - roles, permissions and THE permission table (see auth.h).
 *
 * DESIGN: which role may do what is written down exactly once, in
 * `allowed[perm][role]` below; routes name a permission and never test
 * roles themselves. Adding a role or a permission is a new row or column
 * here, and the compiler's designated initializers make a forgotten cell
 * false (denied), never true. Immutable data: thread-safe.
 */
#include <string.h>

#include "auth/auth_int.h"
#include "db/db.h"
#include "util/err.h"
#include "util/str.h"

#define NROLES (ROLE_ADMINISTRATOR + 1)
#define NPERMS (PERM_ADMIN + 1)

static const char *const role_names[NROLES] = {
    [ROLE_READ_ONLY] = "read-only",
    [ROLE_OPERATOR] = "operator",
    [ROLE_ADMINISTRATOR] = "administrator",
};

static const char *const perm_names[NPERMS] = {
    [PERM_PUBLIC] = "public",
    [PERM_READ] = "read",
    [PERM_OPERATE] = "operate",
    [PERM_ADMIN] = "admin",
};

/* The permission table: allowed[what the route needs][who asks]. */
static const bool allowed[NPERMS][NROLES] = {
    [PERM_PUBLIC] = {
        [ROLE_READ_ONLY] = true,
        [ROLE_OPERATOR] = true,
        [ROLE_ADMINISTRATOR] = true,
    },
    [PERM_READ] = {
        [ROLE_READ_ONLY] = true,
        [ROLE_OPERATOR] = true,
        [ROLE_ADMINISTRATOR] = true,
    },
    [PERM_OPERATE] = {
        [ROLE_READ_ONLY] = false,
        [ROLE_OPERATOR] = true,
        [ROLE_ADMINISTRATOR] = true,
    },
    [PERM_ADMIN] = {
        [ROLE_READ_ONLY] = false,
        [ROLE_OPERATOR] = false,
        [ROLE_ADMINISTRATOR] = true,
    },
};

int
auth_role_parse(const char *s, enum auth_role *out)
{
    int i;

    for (i = 0; s && i < NROLES; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum auth_role)i;
            return 0;
        }
    }
    err_set(ERR_INVALID,
            "unknown role '%s' (administrator, operator, read-only)",
            s ? s : "");
    return -1;
}

const char *
auth_role_str(enum auth_role role)
{
    if ((unsigned)role >= NROLES)
        return "?";
    return role_names[role];
}

const char *
auth_perm_str(enum auth_perm perm)
{
    if ((unsigned)perm >= NPERMS)
        return "?";
    return perm_names[perm];
}

bool
auth_allowed(enum auth_role role, enum auth_perm perm)
{
    /* Out-of-range values are bugs; deny rather than read past the table. */
    if ((unsigned)role >= NROLES || (unsigned)perm >= NPERMS)
        return false;
    return allowed[perm][role];
}

int
auth_identity_fill(const struct db_user *u, struct auth_identity *out)
{
    enum auth_role role;

    if (auth_role_parse(u->role, &role) < 0) {
        err_set(ERR_INTERNAL, "user '%s' has an unknown role '%s'", u->name,
                u->role ? u->role : "");
        return -1;
    }
    memset(out, 0, sizeof(*out));
    if (str_copy(out->user_id, u->id, sizeof(out->user_id)) >=
            sizeof(out->user_id) ||
        str_copy(out->name, u->name, sizeof(out->name)) >=
            sizeof(out->name)) {
        err_set(ERR_INTERNAL, "user '%.64s' has a name or id too long",
                u->name);
        return -1;
    }
    out->role = role;
    out->via_session = false;
    return 0;
}
