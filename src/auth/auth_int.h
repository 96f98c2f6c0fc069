/*
 * auth_int.h - shared inside auth/ only: password.c owns the state given
 * to auth_init(); session.c and authz.c read it through these.
 */
#ifndef OVMM_AUTH_INT_H
#define OVMM_AUTH_INT_H

#include "auth/auth.h"

struct db_user;

/* The db given to auth_init (borrowed), or NULL before/after. */
struct db *auth_db(void);
/* The settings given to auth_init (defaults before it). Immutable between
 * auth_init and auth_shutdown; any thread. */
const struct auth_conf *auth_settings(void);
/* Fill @out from the user row @u (via_session false, csrf empty).
 * -1 with ERR_INTERNAL when the row's role is unknown. */
int auth_identity_fill(const struct db_user *u, struct auth_identity *out);

#endif
