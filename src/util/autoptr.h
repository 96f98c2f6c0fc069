/*
 * autoptr.h - scope cleanup with __attribute__((cleanup)).
 *
 *   char *AUTOFREE s = xstrdup("x");          freed with xfree() at scope end
 *   AUTOPTR(json_object) json_object *o = json_object_new_object();
 *   AUTOPTR(model_obj) struct model_obj *m = db_object_get(...);
 *   return steal_ptr(&s);                     hand ownership to the caller
 *
 * DEFINE_AUTOPTR(name, fn) once per type, in the type's header; `name` is
 * the bare type name (struct types too: no typedefs in this code base).
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

#define DEFINE_AUTOPTR(name, fn)                                              \
    static inline void autoptr_cleanup_##name(void *p)                        \
    {                                                                         \
        void **pp = p;                                                        \
        if (*pp)                                                              \
            fn(*pp);                                                          \
    }

#define AUTOPTR(name) __attribute__((cleanup(autoptr_cleanup_##name)))

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
