/*
 * types.c - the registered object types, as data (see model.h).
 *
 * DESIGN: one descriptor per REST type. Field order is the JSON member
 * order after the common fields, matching the Oracle VM samples in
 * ../shared/reference/wsapi-samples. Types arrive issue by issue; each
 * needs its table in a schema/db migration with the columns named here.
 * Immutable; thread-safe.
 */
#include <stddef.h>
#include <string.h>

#include "model/model.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* GET /Manager: see get_manager.json. */
static const struct model_field manager_fields[] = {
    { "managerUuid", MF_STRING, "manager_uuid", NULL, NULL },
    { "managerVersion", MF_STRING, "manager_version", NULL, NULL },
    { "managerRunState", MF_STRING, "run_state", NULL, NULL },
    { "managerTime", MF_NOW_MS, NULL, NULL, NULL },
};

static const struct model_type manager_type = {
    .name = "Manager",
    .code = "0001",
    .table = "manager",
    .fields = manager_fields,
    .nfields = NELEMS(manager_fields),
};

/*
 * GET /User: an extension (Oracle VM keeps users in WebLogic). The
 * password hash is deliberately not a field, so it can never be rendered.
 */
static const struct model_field user_fields[] = {
    { "role", MF_STRING, "role", NULL, NULL },
    { "accountLocked", MF_BOOL, "disabled", NULL, NULL },
    { "lockedOutUntil", MF_INT, "locked_until_ms", NULL, NULL },
    { "failedLogins", MF_INT, "failed_logins", NULL, NULL },
    { "lastLoginTime", MF_INT, "last_login_ms", NULL, NULL },
};

static const struct model_type user_type = {
    .name = "User",
    .code = "0100",
    .table = "users",
    .fields = user_fields,
    .nfields = NELEMS(user_fields),
    .extension = true,
};

static const struct model_type *const all_types[] = {
    &manager_type,
    &user_type,
};

const struct model_type *const *
model_types(size_t *n)
{
    *n = NELEMS(all_types);
    return all_types;
}

const struct model_type *
model_type_find(const char *name)
{
    size_t i;

    if (!name)
        return NULL;
    for (i = 0; i < NELEMS(all_types); i++) {
        if (strcmp(all_types[i]->name, name) == 0)
            return all_types[i];
    }
    return NULL;
}
