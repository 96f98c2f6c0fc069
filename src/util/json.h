/*
 * json.h - json-c helpers: scope cleanup, strict parsing, typed getters.
 *
 * DESIGN: json_parse() is the one entry point for untrusted JSON; it
 * rejects trailing garbage and bounds nesting depth. Getters distinguish
 * "absent" (1) from "wrong type" (-1, ERR_INVALID naming the key) so a
 * handler can report exactly which field is wrong. Thread-safe.
 * Remember: json_object_object_add() takes over the value's reference.
 */
#ifndef OVMM_JSON_H
#define OVMM_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/autoptr.h"

DEFINE_AUTOPTR(json_object, json_object_put)

/* Largest nesting depth json_parse() accepts. */
#define JSON_MAX_DEPTH 32

/*
 * Parse @len bytes of JSON text. Returns a new reference (caller puts),
 * or NULL with ERR_INVALID ("malformed JSON at offset N: reason").
 */
json_object *json_parse(const char *text, size_t len);

/*
 * Typed member getters. Return 0 and set *out when @key is present with
 * the right type; 1 when absent or JSON null (*out untouched); -1 with
 * ERR_INVALID ("'key' must be a string") when present with another type.
 * String results are borrowed from @obj.
 */
int json_get_string(json_object *obj, const char *key, const char **out);
/* The string member @key of @obj (which may be NULL), or NULL when it is
 * absent, null or not a string; records no error. Borrowed from @obj. */
const char *json_str(json_object *obj, const char *key);
int json_get_int64(json_object *obj, const char *key, int64_t *out);
int json_get_bool(json_object *obj, const char *key, bool *out);

/* Serialize compactly; the string is borrowed from @obj. */
const char *json_to_text(json_object *obj);
/* New string member helpers that accept NULL (rendered as JSON null). */
json_object *json_str_or_null(const char *s);

#endif
