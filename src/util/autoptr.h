/*
 * autoptr.h - scope cleanup with __attribute__((cleanup)).
 *
 *   char *AUTOFREE s = xstrdup("x");          freed with xfree() at scope end
 *   AUTOPTR(json_object) o = json_object_new_object();
 *   return steal_ptr(&s);                     hand ownership to the caller
 *
 * DEFINE_AUTOPTR(type, fn) once per type, in the type's header.
 */
#ifndef OVMM_AUTOPTR_H
#define OVMM_AUTOPTR_H

#include "util/alloc.h"

static inline void
autoptr_xfree(void *p)
{
    xfree(*(void **)p);
}

#define AUTOFREE __attribute__((cleanup(autoptr_xfree)))

#define DEFINE_AUTOPTR(type, fn)                                              \
    static inline void autoptr_cleanup_##type(type **p)                       \
    {                                                                         \
        if (*p)                                                               \
            fn(*p);                                                           \
    }

#define AUTOPTR(type) __attribute__((cleanup(autoptr_cleanup_##type))) type *

/* Return *pp and set it to NULL, so a cleanup attribute leaves it alone. */
static inline void *
steal_ptr_impl(void **pp)
{
    void *p = *pp;

    *pp = 0;
    return p;
}
#define steal_ptr(pp) steal_ptr_impl((void **)(pp))

#endif
