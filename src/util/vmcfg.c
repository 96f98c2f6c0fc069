/*
 * vmcfg.c - see vmcfg.h: the vm.cfg subset of Python, parsed by hand.
 *
 * DESIGN: a recursive-descent parser over a cursor (struct vmcfg_parser)
 * that counts lines as it goes, so every error says where it is. The
 * grammar is small on purpose:
 *     file   := { blank | key '=' value end }
 *     value  := string | integer | '[' [ item { ',' item } [ ',' ] ] ']'
 *     item   := string | integer
 * Inside brackets newlines and comments are blank (Python's implicit
 * line joining); elsewhere a newline ends the assignment. Nothing is
 * evaluated: names, operators, calls, dicts and tuples are errors, not
 * guesses. Every limit of vmcfg.h is checked while reading, before the
 * memory is spent, and vmcfg_format() refuses what vmcfg_parse() would,
 * so its output always parses back to the same object.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/json.h"
#include "util/str.h"
#include "util/vmcfg.h"

/* Limits from vmcfg.h. */
#define VMCFG_MAX_TEXT 65536
#define VMCFG_MAX_KEYS 256
#define VMCFG_MAX_ITEMS 64
#define VMCFG_MAX_STRING 4096
/* A list is written on one line when it fits in this many columns. */
#define VMCFG_LINE 79

/* The escapes a string may use, and what each stands for. */
#define VMCFG_ESCAPES "\\'\"nt"
#define VMCFG_UNESCAPED "\\'\"\n\t"

/* The cursor of one parse. */
struct vmcfg_parser {
    const char *p;      /* next byte */
    const char *end;    /* one past the last byte */
    int line;           /* line of *p, from 1 */
};

/* Set ERR_INVALID "vm.cfg line N: <fmt>" for the parser's line. */
static void vmcfg_error(const struct vmcfg_parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
vmcfg_error(const struct vmcfg_parser *ps, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    err_set(ERR_INVALID, "vm.cfg line %d: %s", ps->line, msg);
}

/* Describe the byte at the cursor for a message: "'+'", "byte 0x01",
 * "the end of the line" or "the end of the file". */
static void
vmcfg_found(const struct vmcfg_parser *ps, char *out, size_t size)
{
    unsigned char ch;

    if (ps->p >= ps->end) {
        str_copy(out, "the end of the file", size);
        return;
    }
    ch = (unsigned char)*ps->p;
    if (ch == '\n')
        str_copy(out, "the end of the line", size);
    else if (ch > 0x20 && ch < 0x7f)
        snprintf(out, size, "'%c'", ch);
    else
        snprintf(out, size, "byte 0x%02x", ch);
}

/* True for the characters of a key after the first. */
static bool
vmcfg_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_';
}

/* True when @s (@len bytes) is a valid key: a name not starting with a
 * digit, as Python requires. */
static bool
vmcfg_key_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > VMCFG_MAX_STRING || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (i = 0; i < len; i++)
        if (!vmcfg_name_char(s[i]))
            return false;
    return true;
}

/* True when @s (@len bytes) is well-formed UTF-8 (no overlongs, no
 * surrogates), so that values can go into JSON as they are. */
static bool
vmcfg_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        size_t need, k;
        uint32_t cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= need)
            return false;
        for (k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += need + 1;
    }
    return true;
}

/*
 * Skip spaces, tabs, carriage returns, form feeds and comments; also
 * newlines when @newlines (inside brackets). Stops at a newline
 * otherwise, leaving it for the caller.
 */
static void
vmcfg_skip(struct vmcfg_parser *ps, bool newlines)
{
    while (ps->p < ps->end) {
        char ch = *ps->p;

        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f') {
            ps->p++;
        } else if (ch == '#') {
            while (ps->p < ps->end && *ps->p != '\n')
                ps->p++;
        } else if (ch == '\n' && newlines) {
            ps->p++;
            ps->line++;
        } else {
            break;
        }
    }
}

/* Read a quoted string at the cursor into a new JSON string in *out.
 * 0, or -1 with ERR_INVALID. */
static int
vmcfg_parse_string(struct vmcfg_parser *ps, json_object **out)
{
    char quote = *ps->p++;
    struct buf b;
    int start = ps->line, rc = -1;

    buf_init(&b, VMCFG_MAX_STRING);
    for (;;) {
        const char *esc;
        char ch, lit;

        if (ps->p >= ps->end || *ps->p == '\n') {
            ps->line = start;
            vmcfg_error(ps, "unterminated string");
            goto cleanup;
        }
        ch = *ps->p++;
        if (ch == quote)
            break;
        if (ch == '\\') {
            if (ps->p >= ps->end) {
                vmcfg_error(ps, "unterminated string");
                goto cleanup;
            }
            esc = strchr(VMCFG_ESCAPES, *ps->p);
            if (!esc || !*ps->p) {
                char what[24];

                vmcfg_found(ps, what, sizeof(what));
                vmcfg_error(ps, "unsupported escape '\\' followed by %s "
                                "(only \\\\ \\' \\\" \\n \\t)", what);
                goto cleanup;
            }
            lit = VMCFG_UNESCAPED[esc - VMCFG_ESCAPES];
            ps->p++;
            ch = lit;
        } else if (((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f) {
            vmcfg_error(ps, "control character 0x%02x in a string",
                        (unsigned char)ch);
            goto cleanup;
        }
        if (buf_append(&b, &ch, 1) < 0) {
            vmcfg_error(ps, "string longer than %d bytes", VMCFG_MAX_STRING);
            goto cleanup;
        }
    }
    if (!vmcfg_utf8_valid((const unsigned char *)(b.data ? b.data : ""),
                          b.len)) {
        vmcfg_error(ps, "string is not valid UTF-8");
        goto cleanup;
    }
    *out = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
    rc = 0;
 cleanup:
    buf_release(&b);
    return rc;
}

/* Read an integer (optional sign, decimal digits) at the cursor into a
 * new JSON integer in *out. 0, or -1 with ERR_INVALID. */
static int
vmcfg_parse_int(struct vmcfg_parser *ps, json_object **out)
{
    const char *start = ps->p;
    char text[32];
    char *endp;
    long long v;

    if (*ps->p == '+' || *ps->p == '-')
        ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        vmcfg_error(ps, "a sign must be followed by digits");
        return -1;
    }
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    /* "1.5", "0x10", "1_000", "12abc": not integers of this subset. */
    if (ps->p < ps->end && (vmcfg_name_char(*ps->p) || *ps->p == '.')) {
        vmcfg_error(ps, "'%.*s%c' is not a decimal integer",
                    (int)(ps->p - start), start, *ps->p);
        return -1;
    }
    if ((size_t)(ps->p - start) >= sizeof(text)) {
        vmcfg_error(ps, "integer out of range");
        return -1;
    }
    memcpy(text, start, (size_t)(ps->p - start));
    text[ps->p - start] = '\0';
    errno = 0;
    v = strtoll(text, &endp, 10);
    if (errno == ERANGE || *endp != '\0') {
        vmcfg_error(ps, "integer '%s' out of range", text);
        return -1;
    }
    *out = json_object_new_int64((int64_t)v);
    return 0;
}

/* True (and the cursor moved past it) when the Python constant @word
 * (True, False, None) is at the cursor, not followed by a name character
 * ("Trueish" is no constant). */
static bool
vmcfg_keyword(struct vmcfg_parser *ps, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    if (ps->p + n < ps->end && vmcfg_name_char(ps->p[n]))
        return false;
    ps->p += n;
    return true;
}

/*
 * Read a string, an integer or True/False/None at the cursor into *out
 * (None: a JSON null, *out NULL); @key names the
 * assignment in messages, @in_list says whether '[' would be nested.
 * 0, or -1 with ERR_INVALID.
 */
static int
vmcfg_parse_scalar(struct vmcfg_parser *ps, const char *key, bool in_list,
                   json_object **out)
{
    char ch, what[24];

    if (ps->p >= ps->end || *ps->p == '\n') {
        vmcfg_error(ps, "missing value for '%s'", key);
        return -1;
    }
    ch = *ps->p;
    if (ch == '\'' || ch == '"')
        return vmcfg_parse_string(ps, out);
    if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '+')
        return vmcfg_parse_int(ps, out);
    if (vmcfg_keyword(ps, "True")) {
        *out = json_object_new_boolean(1);
        return 0;
    }
    if (vmcfg_keyword(ps, "False")) {
        *out = json_object_new_boolean(0);
        return 0;
    }
    if (vmcfg_keyword(ps, "None")) {
        *out = NULL;
        return 0;
    }
    if (ch == '[' && in_list) {
        vmcfg_error(ps, "nested lists are not supported (in '%s')", key);
        return -1;
    }
    if (ch == '{') {
        vmcfg_error(ps, "dicts are not supported (value of '%s')", key);
        return -1;
    }
    if (ch == '(') {
        vmcfg_error(ps, "tuples are not supported (value of '%s')", key);
        return -1;
    }
    vmcfg_found(ps, what, sizeof(what));
    vmcfg_error(ps, "value of '%s' must be a string, an integer, True, "
                    "False, None or a list, not %s", key, what);
    return -1;
}

/* Read a list at the cursor ('[') into a new JSON array in *out. 0, or
 * -1 with ERR_INVALID. */
static int
vmcfg_parse_list(struct vmcfg_parser *ps, const char *key, json_object **out)
{
    AUTOPTR(json_object) json_object *arr = json_object_new_array();
    int start = ps->line;

    ps->p++;
    for (;;) {
        json_object *item = NULL;
        char what[24];

        vmcfg_skip(ps, true);
        if (ps->p >= ps->end)
            break;
        if (*ps->p == ']') {
            ps->p++;
            *out = steal_ptr(&arr);
            return 0;
        }
        if (json_object_array_length(arr) >= VMCFG_MAX_ITEMS) {
            vmcfg_error(ps, "list '%s' has more than %d items", key,
                        VMCFG_MAX_ITEMS);
            return -1;
        }
        if (vmcfg_parse_scalar(ps, key, true, &item) < 0)
            return -1;
        json_object_array_add(arr, item);
        vmcfg_skip(ps, true);
        if (ps->p >= ps->end)
            break;
        if (*ps->p == ',') {
            ps->p++;
        } else if (*ps->p != ']') {
            vmcfg_found(ps, what, sizeof(what));
            vmcfg_error(ps, "expected ',' or ']' in list '%s', found %s",
                        key, what);
            return -1;
        }
    }
    ps->line = start;
    vmcfg_error(ps, "list '%s' is not closed", key);
    return -1;
}

/* Read one "key = value" at the cursor (blanks skipped) into @cfg. 0,
 * or -1 with ERR_INVALID. */
static int
vmcfg_parse_assignment(struct vmcfg_parser *ps, json_object *cfg)
{
    const char *kstart = ps->p;
    char key[VMCFG_MAX_STRING + 1];
    char what[24];
    json_object *val = NULL;
    size_t klen;

    while (ps->p < ps->end && vmcfg_name_char(*ps->p))
        ps->p++;
    klen = (size_t)(ps->p - kstart);
    if (klen == 0) {
        vmcfg_found(ps, what, sizeof(what));
        vmcfg_error(ps, "expected a key, found %s", what);
        return -1;
    }
    if (!vmcfg_key_valid(kstart, klen)) {
        vmcfg_error(ps, "'%.*s' is not a valid key", klen > 64 ? 64 :
                    (int)klen, kstart);
        return -1;
    }
    memcpy(key, kstart, klen);
    key[klen] = '\0';
    vmcfg_skip(ps, false);
    if (ps->p >= ps->end || *ps->p != '=' ||
        (ps->p + 1 < ps->end && ps->p[1] == '=')) {
        vmcfg_found(ps, what, sizeof(what));
        vmcfg_error(ps, "expected '=' after '%s', found %s", key, what);
        return -1;
    }
    ps->p++;
    vmcfg_skip(ps, false);
    if (ps->p < ps->end && *ps->p == '[') {
        if (vmcfg_parse_list(ps, key, &val) < 0)
            return -1;
    } else if (vmcfg_parse_scalar(ps, key, false, &val) < 0) {
        return -1;
    }
    vmcfg_skip(ps, false);
    if (ps->p < ps->end && *ps->p != '\n') {
        json_object_put(val);
        vmcfg_found(ps, what, sizeof(what));
        vmcfg_error(ps, "unexpected %s after the value of '%s' (expressions "
                        "are not supported)", what, key);
        return -1;
    }
    if (!json_object_object_get_ex(cfg, key, NULL) &&
        json_object_object_length(cfg) >= VMCFG_MAX_KEYS) {
        json_object_put(val);
        vmcfg_error(ps, "more than %d keys", VMCFG_MAX_KEYS);
        return -1;
    }
    /* A later assignment replaces the value where the key first was. */
    json_object_object_add(cfg, key, val);
    return 0;
}

/* Parse a whole vm.cfg (vmcfg.h): limits on the text first, then one
 * assignment after another until the end. */
json_object *
vmcfg_parse(const char *text, size_t len)
{
    AUTOPTR(json_object) json_object *cfg = NULL;
    struct vmcfg_parser ps;
    const char *nul;

    if (len > VMCFG_MAX_TEXT) {
        err_set(ERR_INVALID, "vm.cfg is larger than %d bytes",
                VMCFG_MAX_TEXT);
        return NULL;
    }
    ps.p = text ? text : "";
    ps.end = ps.p + (text ? len : 0);
    ps.line = 1;
    nul = memchr(ps.p, '\0', (size_t)(ps.end - ps.p));
    if (nul) {
        for (const char *q = ps.p; q < nul; q++)
            if (*q == '\n')
                ps.line++;
        vmcfg_error(&ps, "NUL byte");
        return NULL;
    }
    /* A UTF-8 byte order mark, as some editors write. */
    if (ps.end - ps.p >= 3 && memcmp(ps.p, "\xef\xbb\xbf", 3) == 0)
        ps.p += 3;
    cfg = json_object_new_object();
    for (;;) {
        vmcfg_skip(&ps, true);
        if (ps.p >= ps.end)
            break;
        if (vmcfg_parse_assignment(&ps, cfg) < 0)
            return NULL;
    }
    return steal_ptr(&cfg);
}

/* Append @s quoted as a vm.cfg string to @b; @key names it in messages.
 * 0, or -1 with ERR_INVALID for what the parser would refuse. */
static int
vmcfg_put_string(struct buf *b, const char *key, const char *s, size_t len)
{
    size_t i;

    if (len > VMCFG_MAX_STRING) {
        err_set(ERR_INVALID, "vm.cfg value of '%s' is longer than %d bytes",
                key, VMCFG_MAX_STRING);
        return -1;
    }
    if (!vmcfg_utf8_valid((const unsigned char *)s, len)) {
        err_set(ERR_INVALID, "vm.cfg value of '%s' is not valid UTF-8", key);
        return -1;
    }
    buf_puts(b, "'");
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch == '\\')
            buf_puts(b, "\\\\");
        else if (ch == '\'')
            buf_puts(b, "\\'");
        else if (ch == '\n')
            buf_puts(b, "\\n");
        else if (ch == '\t')
            buf_puts(b, "\\t");
        else if (ch < 0x20 || ch == 0x7f) {
            err_set(ERR_INVALID, "vm.cfg value of '%s' has control "
                                 "character 0x%02x", key, ch);
            return -1;
        } else
            buf_append(b, &s[i], 1);
    }
    buf_puts(b, "'");
    return 0;
}

/* Append the scalar @v (string or int) to @b. 0, or -1 (ERR_INVALID). */
static int
vmcfg_put_scalar(struct buf *b, const char *key, json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        return vmcfg_put_string(b, key, json_object_get_string(v),
                                (size_t)json_object_get_string_len(v));
    case json_type_int:
        buf_printf(b, "%" PRId64, json_object_get_int64(v));
        return 0;
    case json_type_boolean:
        buf_puts(b, json_object_get_boolean(v) ? "True" : "False");
        return 0;
    case json_type_null:
        buf_puts(b, "None");
        return 0;
    default:
        err_set(ERR_INVALID, "vm.cfg value of '%s' must be a string, an "
                             "integer, True, False, None or a list of "
                             "them", key);
        return -1;
    }
}

/* Append "key = [ ... ]" for the array @v to @b: on one line when it
 * fits, else one item a line. 0, or -1 (ERR_INVALID). */
static int
vmcfg_put_list(struct buf *b, const char *key, json_object *v)
{
    size_t i, n = json_object_array_length(v);
    struct buf one;
    int rc = -1;

    if (n > VMCFG_MAX_ITEMS) {
        err_set(ERR_INVALID, "vm.cfg list '%s' has more than %d items", key,
                VMCFG_MAX_ITEMS);
        return -1;
    }
    buf_init(&one, 0);
    buf_printf(&one, "%s = [", key);
    for (i = 0; i < n; i++) {
        if (i)
            buf_puts(&one, ", ");
        if (vmcfg_put_scalar(&one, key, json_object_array_get_idx(v, i)) < 0)
            goto cleanup;
    }
    buf_puts(&one, "]");
    if (one.len <= VMCFG_LINE || n < 2) {
        buf_append(b, one.data, one.len);
    } else {
        buf_printf(b, "%s = [\n", key);
        for (i = 0; i < n; i++) {
            buf_puts(b, "    ");
            /* Checked above while building the one-line form. */
            (void)vmcfg_put_scalar(b, key, json_object_array_get_idx(v, i));
            buf_puts(b, ",\n");
        }
        buf_puts(b, "]");
    }
    rc = 0;
 cleanup:
    buf_release(&one);
    return rc;
}

/* Write @cfg as vm.cfg text (vmcfg.h), refusing whatever vmcfg_parse()
 * would refuse, so that the text always reads back the same. */
char *
vmcfg_format(json_object *cfg)
{
    struct buf b;
    size_t nkeys = 0;

    if (!json_object_is_type(cfg, json_type_object)) {
        err_set(ERR_INVALID, "vm.cfg must be an object of keys");
        return NULL;
    }
    buf_init(&b, 0);
    json_object_object_foreach(cfg, key, val) {
        if (!vmcfg_key_valid(key, strlen(key))) {
            err_set(ERR_INVALID, "vm.cfg key '%s' is not a valid key "
                                 "(letters, digits and '_')", key);
            goto fail;
        }
        if (++nkeys > VMCFG_MAX_KEYS) {
            err_set(ERR_INVALID, "vm.cfg has more than %d keys",
                    VMCFG_MAX_KEYS);
            goto fail;
        }
        if (json_object_is_type(val, json_type_array)) {
            if (vmcfg_put_list(&b, key, val) < 0)
                goto fail;
        } else {
            buf_printf(&b, "%s = ", key);
            if (vmcfg_put_scalar(&b, key, val) < 0)
                goto fail;
        }
        buf_puts(&b, "\n");
    }
    if (b.len > VMCFG_MAX_TEXT) {
        err_set(ERR_INVALID, "vm.cfg would be larger than %d bytes",
                VMCFG_MAX_TEXT);
        goto fail;
    }
    return buf_steal(&b);
 fail:
    buf_release(&b);
    return NULL;
}

/* Copy @len bytes of @s into a new string for the disk spec parts. */
static json_object *
vmcfg_str_len(const char *s, size_t len)
{
    return json_object_new_string_len(s, (int)len);
}

/* True when @s (@len bytes) is a device name: letters and digits. */
static bool
vmcfg_device_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > 32)
        return false;
    for (i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* Split one `disk` element into its parts (vmcfg.h). */
json_object *
vmcfg_disk_parse(const char *spec)
{
    AUTOPTR(json_object) json_object *o = NULL;
    const char *c1, *c2, *dev, *slash, *colon, *q, *tcolon;
    size_t devlen;
    bool cdrom = false;

    if (!spec || strlen(spec) > VMCFG_MAX_STRING) {
        err_set(ERR_INVALID, "disk spec is missing or too long");
        return NULL;
    }
    c1 = strchr(spec, ',');
    c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (!c1 || !c2 || strchr(c2 + 1, ',')) {
        err_set(ERR_INVALID, "disk '%s' must be 'proto:path,target,mode'",
                spec);
        return NULL;
    }
    /* Target: "xvda", "hdc:cdrom", "hda:disk", "ioemu:hda". */
    dev = c1 + 1;
    if (str_has_prefix(dev, "ioemu:"))
        dev += 6;
    tcolon = memchr(dev, ':', (size_t)(c2 - dev));
    devlen = (size_t)((tcolon ? tcolon : c2) - dev);
    if (tcolon) {
        size_t tlen = (size_t)(c2 - tcolon - 1);

        if (tlen == 5 && strncmp(tcolon + 1, "cdrom", 5) == 0) {
            cdrom = true;
        } else if (!(tlen == 4 && strncmp(tcolon + 1, "disk", 4) == 0)) {
            err_set(ERR_INVALID, "disk '%s': device type must be 'cdrom' "
                                 "or 'disk'", spec);
            return NULL;
        }
    }
    if (!vmcfg_device_valid(dev, devlen)) {
        err_set(ERR_INVALID, "disk '%s': bad target device", spec);
        return NULL;
    }
    if (strcmp(c2 + 1, "r") != 0 && strcmp(c2 + 1, "w") != 0 &&
        strcmp(c2 + 1, "w!") != 0) {
        err_set(ERR_INVALID, "disk '%s': mode must be 'r', 'w' or 'w!'",
                spec);
        return NULL;
    }
    if (c1 == spec && !cdrom) {
        err_set(ERR_INVALID, "disk '%s': only a CD-ROM drive may be empty",
                spec);
        return NULL;
    }
    /* Protocol: everything up to the last ':' before the path's first
     * '/' ("tap:aio:/p/a.img" -> "tap:aio"), or before the end when
     * there is no '/' ("phy:sdb"). */
    slash = memchr(spec, '/', (size_t)(c1 - spec));
    colon = NULL;
    for (q = spec; q < (slash ? slash : c1); q++)
        if (*q == ':')
            colon = q;
    o = json_object_new_object();
    json_object_object_add(o, "path", colon ? vmcfg_str_len(colon + 1,
                                          (size_t)(c1 - colon - 1))
                                            : vmcfg_str_len(spec,
                                          (size_t)(c1 - spec)));
    json_object_object_add(o, "proto", vmcfg_str_len(spec, colon ?
                                          (size_t)(colon - spec) : 0));
    json_object_object_add(o, "target", vmcfg_str_len(dev, devlen));
    json_object_object_add(o, "cdrom", json_object_new_boolean(cdrom));
    json_object_object_add(o, "mode", json_object_new_string(c2 + 1));
    return steal_ptr(&o);
}

/* Split one `vif` element into key=value pairs (vmcfg.h); blank items
 * are skipped and a later key replaces an earlier one. */
json_object *
vmcfg_vif_parse(const char *spec)
{
    AUTOPTR(json_object) json_object *o = NULL;
    const char *p;

    if (!spec || strlen(spec) > VMCFG_MAX_STRING) {
        err_set(ERR_INVALID, "vif spec is missing or too long");
        return NULL;
    }
    o = json_object_new_object();
    for (p = spec; *p;) {
        size_t len = strcspn(p, ",");
        const char *s = p, *e = p + len, *eq;
        char key[64];

        p += len;
        if (*p == ',')
            p++;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (s == e)
            continue;   /* "a=b," or an empty spec: nothing there */
        eq = memchr(s, '=', (size_t)(e - s));
        if (!eq || eq == s || (size_t)(eq - s) >= sizeof(key) ||
            !vmcfg_key_valid(s, (size_t)(eq - s))) {
            err_set(ERR_INVALID, "vif '%s': '%.*s' is not key=value", spec,
                    (int)(e - s), s);
            return NULL;
        }
        memcpy(key, s, (size_t)(eq - s));
        key[eq - s] = '\0';
        json_object_object_add(o, key, vmcfg_str_len(eq + 1,
                                                     (size_t)(e - eq - 1)));
    }
    return steal_ptr(&o);
}
