/*
 * fetch.c - see fetch.h: downloads for imports over libcurl, with the
 * scheme, address, size and time policy.
 *
 * DESIGN: one easy handle per fetch_url() call, so calls on different
 * threads share nothing but libcurl's global state. The policy is
 * enforced in three places, each of which would be enough for its part:
 *   - fetch_url_check() before anything happens: the URL parses, its
 *     scheme is http or https, and a literal address is allowed;
 *   - libcurl's protocol options for the first URL and every redirect
 *     (CURLOPT_PROTOCOLS_STR, CURLOPT_REDIR_PROTOCOLS_STR, 5 at most);
 *   - the open-socket callback, which sees every address libcurl is about
 *     to connect to, after name resolution and for redirects too, and
 *     refuses by not creating the socket. A refused address therefore
 *     never sees a single packet from us.
 * The callbacks record what stopped a transfer in struct fetch_ctx and
 * make libcurl fail; after curl_easy_perform() one function turns the
 * record (or libcurl's code) into exactly one err_set(). The sink's own
 * error is left as the sink set it.
 *
 * Addresses are compared as 4 or 16 bytes; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is treated as the IPv4 address it maps to, both for
 * the built-in ranges and for the allow list, so the two spellings of an
 * address can never be judged differently.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "util/alloc.h"
#include "util/err.h"
#include "util/fetch.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("fetch");

#ifndef OVMM_VERSION
#define OVMM_VERSION "0"
#endif

/* Redirects followed at most (fetch.h). */
#define FETCH_MAX_REDIRS 5L
/* Progress reports are at least this far apart (fetch.h). */
#define FETCH_PROGRESS_MS 250
/* Longest URL quoted in an error message. */
#define FETCH_URL_SHOW 200

/* An address as bytes in network order: 4 for IPv4, 16 for IPv6. */
struct fetch_addr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char b[16];
};

/* One allow-list entry: an address prefix. */
struct fetch_cidr {
    struct fetch_addr net;
    unsigned prefix;         /* 0..32 or 0..128 */
};

/* A built-in range that is not a public target, and why. */
struct fetch_range {
    unsigned char b[16];
    unsigned prefix;
    const char *why;         /* completes "address X is ..." */
};

/*
 * IPv4 ranges that are never a public target (RFC 6890 and friends).
 * Order matters only for the wording: the first match names the reason.
 */
static const struct fetch_range fetch_ranges4[] = {
    { { 255, 255, 255, 255 }, 32, "the broadcast address" },
    { { 0 }, 8, "unspecified (0.0.0.0/8)" },
    { { 10 }, 8, "private" },
    { { 100, 64 }, 10, "shared address space (CGNAT)" },
    { { 127 }, 8, "loopback" },
    { { 169, 254 }, 16, "link-local" },
    { { 172, 16 }, 12, "private" },
    { { 192, 0, 0 }, 24, "reserved for IETF protocol assignments" },
    { { 192, 0, 2 }, 24, "reserved for documentation" },
    { { 192, 88, 99 }, 24, "reserved (6to4 relay anycast)" },
    { { 192, 168 }, 16, "private" },
    { { 198, 18 }, 15, "reserved for benchmarking" },
    { { 198, 51, 100 }, 24, "reserved for documentation" },
    { { 203, 0, 113 }, 24, "reserved for documentation" },
    { { 224 }, 4, "multicast" },
    { { 240 }, 4, "reserved (240.0.0.0/4)" },
};

/* IPv6 ranges that are never a public target. ::ffff:0:0/96 is not
 * here: mapped addresses are judged as IPv4 (see fetch_addr_from). */
static const struct fetch_range fetch_ranges6[] = {
    { { 0 }, 128, "unspecified" },
    { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 128, "loopback" },
    { { 0 }, 96, "reserved (IPv4-compatible)" },
    { { 0, 0x64, 0xff, 0x9b, 0, 1 }, 48, "reserved (local-use NAT64)" },
    { { 1, 0, 0, 0, 0, 0, 0, 0 }, 64, "reserved (discard-only)" },
    { { 0x20, 0x01, 0, 0x02, 0, 0 }, 48, "reserved for benchmarking" },
    { { 0x20, 0x01, 0x0d, 0xb8 }, 32, "reserved for documentation" },
    { { 0x3f, 0xff }, 20, "reserved for documentation" },
    { { 0xfc }, 7, "unique-local" },
    { { 0xfe, 0x80 }, 10, "link-local" },
    { { 0xfe, 0xc0 }, 10, "site-local" },
    { { 0xff }, 8, "multicast" },
};

/* NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that
 * the gateway will reach: judge that address. */
static const unsigned char fetch_nat64[16] = { 0, 0x64, 0xff, 0x9b };
static const unsigned char fetch_6to4[16] = { 0x20, 0x02 };

/* Everything the callbacks of one transfer share. */
struct fetch_ctx {
    CURL *h;
    const struct fetch_sink *sink;
    const struct fetch_cidr *allow;
    size_t nallow;
    uint64_t max_bytes;       /* 0: no limit */
    uint64_t bytes;           /* body bytes given to the sink */
    uint64_t total;           /* Content-Length of the body, 0 unknown */
    bool have_total;          /* total was looked up */
    int64_t last_progress;    /* time_mono_ms() of the last report */
    bool forbidden;           /* the last connection attempt was refused */
    char forbidden_msg[200];
    bool aborted;             /* sink->aborting said so */
    bool too_large;           /* the body went past max_bytes */
    bool sink_failed;         /* sink->write failed (its err is set) */
    bool bad_status;          /* a body arrived with a non-2xx status */
};

/* Initialise libcurl and make sure the library we run with has the
 * options the policy relies on. */
int
fetch_global_init(void)
{
    const curl_version_info_data *v;
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

    if (rc != CURLE_OK) {
        err_set(ERR_INTERNAL, "cannot initialise libcurl: %s",
                curl_easy_strerror(rc));
        return -1;
    }
    /* CURLOPT_PROTOCOLS_STR needs 7.85 at run time, not only at build
     * time: an older library would ignore it and allow every scheme. */
    v = curl_version_info(CURLVERSION_NOW);
    if (v->version_num < 0x075500) {
        err_set(ERR_INTERNAL, "libcurl %s is too old: 7.85.0 or later is "
                              "needed", v->version);
        curl_global_cleanup();
        return -1;
    }
    return 0;
}

/* Undo fetch_global_init(), after every transfer has ended. */
void
fetch_global_cleanup(void)
{
    curl_global_cleanup();
}

/* True when the first @prefix bits of @a and @net are equal. */
static bool
fetch_prefix_match(const unsigned char *a, const unsigned char *net,
                   unsigned prefix)
{
    unsigned whole = prefix / 8, rest = prefix % 8;
    unsigned char mask;

    if (memcmp(a, net, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (net[whole] & mask);
}

/* Fill @out from @b (4 or 16 bytes of @family), turning an IPv4-mapped
 * IPv6 address into its IPv4 address. */
static void
fetch_addr_from(int family, const void *b, struct fetch_addr *out)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                              0, 0, 0xff, 0xff };

    memset(out, 0, sizeof(*out));
    if (family == AF_INET6 && memcmp(b, mapped, sizeof(mapped)) == 0) {
        out->family = AF_INET;
        memcpy(out->b, (const unsigned char *)b + 12, 4);
    } else {
        out->family = family;
        memcpy(out->b, b, family == AF_INET ? 4 : 16);
    }
}

/* Why @b (4 bytes) is not a public IPv4 target, or NULL when it is. */
static const char *
fetch_why4(const unsigned char *b)
{
    size_t i;

    for (i = 0; i < sizeof(fetch_ranges4) / sizeof(fetch_ranges4[0]); i++)
        if (fetch_prefix_match(b, fetch_ranges4[i].b, fetch_ranges4[i].prefix))
            return fetch_ranges4[i].why;
    return NULL;
}

/* Why @a is not a public target, or NULL when it is. */
static const char *
fetch_why(const struct fetch_addr *a)
{
    size_t i;

    if (a->family == AF_INET)
        return fetch_why4(a->b);
    for (i = 0; i < sizeof(fetch_ranges6) / sizeof(fetch_ranges6[0]); i++)
        if (fetch_prefix_match(a->b, fetch_ranges6[i].b, fetch_ranges6[i].prefix))
            return fetch_ranges6[i].why;
    if (fetch_prefix_match(a->b, fetch_nat64, 96))
        return fetch_why4(a->b + 12);
    if (fetch_prefix_match(a->b, fetch_6to4, 16))
        return fetch_why4(a->b + 2);
    return NULL;
}

/* True when @a is in one of the @n entries of @allow. */
static bool
fetch_allowed(const struct fetch_addr *a, const struct fetch_cidr *allow,
              size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (allow[i].net.family == a->family &&
            fetch_prefix_match(a->b, allow[i].net.b, allow[i].prefix))
            return true;
    return false;
}

/*
 * Judge @a against the built-in ranges and @allow. 0 when it may be
 * contacted; -1 with the reason in @msg ("address 10.0.0.1 is private;
 * not in import_allow") when not.
 */
static int
fetch_addr_judge(const struct fetch_addr *a, const struct fetch_cidr *allow,
                 size_t nallow, char *msg, size_t msize)
{
    char text[INET6_ADDRSTRLEN];
    const char *why = fetch_why(a);

    if (!why || fetch_allowed(a, allow, nallow))
        return 0;
    if (!inet_ntop(a->family, a->b, text, sizeof(text)))
        str_copy(text, "?", sizeof(text));
    snprintf(msg, msize, "address %s is %s; not in import_allow", text, why);
    return -1;
}

/*
 * Parse one allow-list entry @s of @len bytes ("10.0.0.0/8", "::1/128",
 * or a bare address meaning one host) into @out. 0, or -1 with
 * ERR_INVALID naming the entry.
 */
static int
fetch_cidr_parse(const char *s, size_t len, struct fetch_cidr *out)
{
    char text[INET6_ADDRSTRLEN + 8];
    unsigned char b[16];
    char *slash;
    int64_t prefix;
    unsigned max, i;
    int family;

    if (len == 0) {
        err_set(ERR_INVALID, "import_allow has an empty entry");
        return -1;
    }
    if (len >= sizeof(text)) {
        err_set(ERR_INVALID, "import_allow entry '%.*s' is not a CIDR "
                             "(address/prefix)", (int)len, s);
        return -1;
    }
    memcpy(text, s, len);
    text[len] = '\0';
    slash = strchr(text, '/');
    if (slash)
        *slash = '\0';
    if (inet_pton(AF_INET, text, b) == 1) {
        family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, text, b) == 1) {
        family = AF_INET6;
        max = 128;
    } else {
        err_set(ERR_INVALID, "import_allow entry '%.*s': '%s' is not an "
                             "IPv4 or IPv6 address", (int)len, s, text);
        return -1;
    }
    prefix = max;
    if (slash && str_to_int64(slash + 1, 0, max, "prefix length",
                              &prefix) < 0) {
        err_set(ERR_INVALID, "import_allow entry '%.*s': prefix length "
                             "must be 0 to %u", (int)len, s, max);
        return -1;
    }
    /* Bits past the prefix would be ignored silently; a typo such as
     * "10.1.2.3/8" for "10.1.2.3/32" must not widen the list unseen. */
    for (i = (unsigned)prefix; i < max; i++) {
        if (b[i / 8] & (0x80 >> (i % 8))) {
            err_set(ERR_INVALID, "import_allow entry '%.*s' has address "
                                 "bits set past its prefix length",
                    (int)len, s);
            return -1;
        }
    }
    fetch_addr_from(family, b, &out->net);
    out->prefix = (unsigned)prefix;
    /* A mapped prefix (::ffff:10.0.0.0/104) covers IPv4 addresses. */
    if (family == AF_INET6 && out->net.family == AF_INET)
        out->prefix = prefix >= 96 ? (unsigned)prefix - 96 : 0;
    return 0;
}

/*
 * Parse the comma-separated list @allow (NULL or blank: empty) into a new
 * array in *out (caller frees with xfree()) of *n entries. 0, or -1 with
 * ERR_INVALID naming the bad entry (*out NULL).
 */
static int
fetch_allow_parse(const char *allow, struct fetch_cidr **out, size_t *n)
{
    struct fetch_cidr *v = NULL;
    size_t count = 0;
    const char *p = allow;

    *out = NULL;
    *n = 0;
    if (!allow || allow[strspn(allow, " \t")] == '\0')
        return 0;
    for (;;) {
        const char *start, *end;
        size_t len;

        len = strcspn(p, ",");
        start = p;
        end = p + len;
        while (start < end && (*start == ' ' || *start == '\t'))
            start++;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        v = xrealloc(v, (count + 1) * sizeof(*v));
        if (fetch_cidr_parse(start, (size_t)(end - start), &v[count]) < 0) {
            xfree(v);
            return -1;
        }
        count++;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    *out = v;
    *n = count;
    return 0;
}

/* Parse @allow only to report what is wrong with it (fetch.h). */
int
fetch_allow_check(const char *allow)
{
    struct fetch_cidr *v;
    size_t n;

    if (fetch_allow_parse(allow, &v, &n) < 0)
        return -1;
    xfree(v);
    return 0;
}

/*
 * Copy @url into @out for messages: without user name and password, and
 * cut at FETCH_URL_SHOW bytes. Never fails.
 */
static void
fetch_url_show(const char *url, char *out, size_t size)
{
    CURLU *u = curl_url();
    char *clean = NULL;

    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
                 CURLUE_OK) {
        curl_url_set(u, CURLUPART_USER, NULL, 0);
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
        if (curl_url_get(u, CURLUPART_URL, &clean, 0) != CURLUE_OK)
            clean = NULL;
    }
    snprintf(out, size, "%.*s%s", FETCH_URL_SHOW, clean ? clean : url,
             strlen(clean ? clean : url) > FETCH_URL_SHOW ? "..." : "");
    curl_free(clean);
    curl_url_cleanup(u);
}

/*
 * The checks of fetch_url_check() with an already parsed allow list.
 * 0, or -1 with err_set().
 */
static int
fetch_check_parsed(const char *url, const struct fetch_cidr *allow,
                   size_t nallow)
{
    CURLU *u;
    CURLUcode uc;
    char *scheme = NULL, *host = NULL;
    char show[FETCH_URL_SHOW + 8];
    char msg[200];
    unsigned char b[16];
    struct fetch_addr a;
    size_t hlen;
    int rc = -1;

    fetch_url_show(url, show, sizeof(show));
    u = curl_url();
    if (!u) {
        err_set(ERR_INTERNAL, "cannot check URL '%s': out of memory", show);
        return -1;
    }
    /* NON_SUPPORT_SCHEME: let any scheme parse so that "gopher:" gets
     * the clear "not allowed" message below, not "malformed". */
    uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        err_set(ERR_INVALID, "invalid URL '%s': %s", show,
                curl_url_strerror(uc));
        goto cleanup;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        err_set(ERR_INVALID, "invalid URL '%s': no scheme", show);
        goto cleanup;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        err_set(ERR_INVALID, "URL scheme '%s' is not allowed: only http and "
                             "https", scheme);
        goto cleanup;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        host[0] == '\0') {
        err_set(ERR_INVALID, "invalid URL '%s': no host", show);
        goto cleanup;
    }
    /* A literal address is judged now; a name is judged after libcurl
     * resolves it (fetch_opensocket_cb), since no lookup is made here. */
    hlen = strlen(host);
    if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
        host[hlen - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, b) != 1) {
            err_set(ERR_INVALID, "invalid URL '%s': bad IPv6 address", show);
            goto cleanup;
        }
        fetch_addr_from(AF_INET6, b, &a);
    } else if (inet_pton(AF_INET, host, b) == 1) {
        fetch_addr_from(AF_INET, b, &a);
    } else {
        rc = 0;
        goto cleanup;
    }
    if (fetch_addr_judge(&a, allow, nallow, msg, sizeof(msg)) < 0) {
        err_set(ERR_FORBIDDEN, "%s", msg);
        goto cleanup;
    }
    rc = 0;
 cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* The pre-flight check of fetch.h; @p may be NULL (no allow list). */
int
fetch_url_check(const char *url, const struct fetch_policy *p)
{
    struct fetch_cidr *allow;
    size_t nallow;
    int rc;

    if (!url) {
        err_set(ERR_INVALID, "no URL given");
        return -1;
    }
    if (fetch_allow_parse(p ? p->allow : NULL, &allow, &nallow) < 0)
        return -1;
    rc = fetch_check_parsed(url, allow, nallow);
    xfree(allow);
    return rc;
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: every connection libcurl makes, after name
 * resolution and for redirects, comes through here. A forbidden address
 * gets no socket, so nothing is ever sent to it; libcurl then tries the
 * name's other addresses or fails with CURLE_COULDNT_CONNECT.
 */
static curl_socket_t
fetch_opensocket_cb(void *opaque, curlsocktype purpose,
                    struct curl_sockaddr *sa)
{
    struct fetch_ctx *c = opaque;
    const struct sockaddr *addr = &sa->addr;
    struct fetch_addr a;
    curl_socket_t fd;

    (void)purpose;
    if (sa->family == AF_INET &&
        sa->addrlen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;

        fetch_addr_from(AF_INET, &in->sin_addr, &a);
    } else if (sa->family == AF_INET6 &&
               sa->addrlen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;

        fetch_addr_from(AF_INET6, &in6->sin6_addr, &a);
    } else {
        /* Unix sockets and anything else: never a download target. */
        c->forbidden = true;
        snprintf(c->forbidden_msg, sizeof(c->forbidden_msg),
                 "address family %d is not allowed for downloads",
                 sa->family);
        return CURL_SOCKET_BAD;
    }
    if (fetch_addr_judge(&a, c->allow, c->nallow, c->forbidden_msg,
                         sizeof(c->forbidden_msg)) < 0) {
        c->forbidden = true;
        log_debug("refused to connect: %s", c->forbidden_msg);
        return CURL_SOCKET_BAD;
    }
    /* What matters for the error is the last attempt: a name with a
     * refused and an allowed address that fails to connect is an I/O
     * error, not a policy one. */
    c->forbidden = false;
    fd = socket(sa->family, sa->socktype | SOCK_CLOEXEC, sa->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* CURLOPT_WRITEFUNCTION: check the status and the size, then hand the
 * bytes to the sink. Returning less than given stops the transfer. */
static size_t
fetch_write_cb(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct fetch_ctx *c = opaque;
    size_t n = size * nmemb;
    long status = 0;

    /* Redirect bodies never get here (libcurl skips them while following);
     * an error page is not the file the caller asked for. */
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        c->bad_status = true;
        return 0;
    }
    if (!c->have_total) {
        curl_off_t cl = -1;

        c->have_total = true;
        if (curl_easy_getinfo(c->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                              &cl) == CURLE_OK && cl > 0)
            c->total = (uint64_t)cl;
    }
    if (c->max_bytes && (n > c->max_bytes || c->bytes > c->max_bytes - n)) {
        c->too_large = true;
        return 0;
    }
    if (n && c->sink->write(c->sink->opaque, data, n) < 0) {
        c->sink_failed = true;
        return 0;
    }
    c->bytes += n;
    return n;
}

/* CURLOPT_XFERINFOFUNCTION: libcurl calls this often during a transfer
 * and at least once a second while waiting; poll the abort flag and
 * report progress at most every FETCH_PROGRESS_MS. Non-zero aborts. */
static int
fetch_xferinfo_cb(void *opaque, curl_off_t dltotal, curl_off_t dlnow,
                  curl_off_t ultotal, curl_off_t ulnow)
{
    struct fetch_ctx *c = opaque;
    int64_t now;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (c->sink->aborting && c->sink->aborting(c->sink->opaque)) {
        c->aborted = true;
        return 1;
    }
    if (c->sink->progress) {
        now = time_mono_ms();
        if (now - c->last_progress >= FETCH_PROGRESS_MS) {
            c->last_progress = now;
            c->sink->progress(c->sink->opaque, c->bytes, c->total);
        }
    }
    return 0;
}

/* The scheme of @url for the "not allowed" message ("?" when none). */
static void
fetch_scheme_of(const char *url, char *out, size_t size)
{
    size_t n = url ? strcspn(url, ":/?#") : 0;

    if (n == 0 || url[n] != ':')
        str_copy(out, "?", size);
    else
        snprintf(out, size, "%.*s", (int)(n < 32 ? n : 32), url);
}

/* Turn an HTTP @status that is not 2xx into the error (fetch.h). */
static void
fetch_status_error(long status, const char *show)
{
    if (status == 404 || status == 410)
        err_set(ERR_NOT_FOUND, "cannot download '%s': HTTP %ld (not found)",
                show, status);
    else
        err_set(ERR_IO, "cannot download '%s': HTTP %ld", show, status);
}

/*
 * After curl_easy_perform() returned @rc: set the one error that says
 * why the transfer failed (or did not deliver a 2xx body). 0 when it
 * succeeded, else -1.
 */
static int
fetch_result_error(struct fetch_ctx *c, CURLcode rc, const char *errbuf,
                   const char *show, const struct fetch_policy *p)
{
    long status = 0;
    char *eff = NULL;
    char scheme[40];

    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (c->sink_failed)
        return -1;   /* the sink's own error stands */
    if (c->aborted) {
        err_set(ERR_ABORTED, "download of '%s' aborted", show);
        return -1;
    }
    /* libcurl refuses on Content-Length before looking at the status; a
     * large error page is still the error it stands for. */
    if (rc == CURLE_FILESIZE_EXCEEDED && (status < 200 || status > 299)) {
        fetch_status_error(status, show);
        return -1;
    }
    if (c->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        err_set(ERR_TOO_LARGE, "download of '%s' is larger than the limit "
                               "of %llu bytes", show,
                (unsigned long long)c->max_bytes);
        return -1;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        err_set(ERR_TIMEOUT, "download of '%s' did not finish within %lld "
                             "ms", show, (long long)(p ? p->timeout_ms : 0));
        return -1;
    }
    if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
        /* Only a redirect can get here: the first URL was checked. */
        curl_easy_getinfo(c->h, CURLINFO_EFFECTIVE_URL, &eff);
        fetch_scheme_of(eff, scheme, sizeof(scheme));
        err_set(ERR_INVALID, "URL scheme '%s' is not allowed: only http and "
                             "https (redirect from '%s')", scheme, show);
        return -1;
    }
    if (c->forbidden && rc == CURLE_COULDNT_CONNECT) {
        err_set(ERR_FORBIDDEN, "%s", c->forbidden_msg);
        return -1;
    }
    if (c->bad_status || (rc == CURLE_OK && (status < 200 || status > 299))) {
        fetch_status_error(status, show);
        return -1;
    }
    if (rc == CURLE_TOO_MANY_REDIRECTS) {
        err_set(ERR_IO, "cannot download '%s': more than %ld redirects",
                show, FETCH_MAX_REDIRS);
        return -1;
    }
    if (rc != CURLE_OK) {
        err_set(ERR_IO, "cannot download '%s': %s", show,
                errbuf[0] ? errbuf : curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* Set the options of @h for one transfer with context @c. 0 or -1. */
static int
fetch_setopts(CURL *h, const char *url, const struct fetch_policy *p,
              struct fetch_ctx *c, char *errbuf)
{
    CURLcode rc = CURLE_OK;
    int64_t timeout = p ? p->timeout_ms : 0;

    /* Each call is checked: an option this libcurl lacks must not be
     * ignored silently, since several of them are the policy. */
#define SETOPT(opt, val)                                                      \
    do {                                                                      \
        if (rc == CURLE_OK)                                                   \
            rc = curl_easy_setopt(h, opt, val);                               \
    } while (0)
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
    SETOPT(CURLOPT_MAXREDIRS, FETCH_MAX_REDIRS);
    SETOPT(CURLOPT_PROXY, "");
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_USERAGENT, "ovmm/" OVMM_VERSION);
    SETOPT(CURLOPT_OPENSOCKETFUNCTION, fetch_opensocket_cb);
    SETOPT(CURLOPT_OPENSOCKETDATA, c);
    SETOPT(CURLOPT_WRITEFUNCTION, fetch_write_cb);
    SETOPT(CURLOPT_WRITEDATA, c);
    SETOPT(CURLOPT_XFERINFOFUNCTION, fetch_xferinfo_cb);
    SETOPT(CURLOPT_XFERINFODATA, c);
    SETOPT(CURLOPT_NOPROGRESS, 0L);
    if (c->max_bytes)
        SETOPT(CURLOPT_MAXFILESIZE_LARGE,
               (curl_off_t)(c->max_bytes > INT64_MAX ? INT64_MAX
                                                     : c->max_bytes));
    if (timeout > 0)
        SETOPT(CURLOPT_TIMEOUT_MS, (long)(timeout > LONG_MAX ? LONG_MAX
                                                             : timeout));
#undef SETOPT
    if (rc != CURLE_OK) {
        err_set(ERR_INTERNAL, "cannot set up download: %s",
                curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/*
 * One download (fetch.h): the pre-flight check, one easy handle set up
 * by fetch_setopts(), the transfer, and the outcome turned into one
 * error by fetch_result_error(). @p may be NULL (no limits, no allow
 * list). Runs on the caller's thread; blocks until the end.
 */
int
fetch_url(const char *url, const struct fetch_policy *p,
          const struct fetch_sink *sink, struct fetch_result *res)
{
    struct fetch_ctx c;
    struct fetch_cidr *allow = NULL;
    size_t nallow = 0;
    char errbuf[CURL_ERROR_SIZE];
    char show[FETCH_URL_SHOW + 8];
    CURLcode rc;
    long status = 0;
    char *ctype = NULL, *eff = NULL;
    int ret = -1;

    memset(&c, 0, sizeof(c));
    if (res)
        memset(res, 0, sizeof(*res));
    if (!url || !sink || !ALWAYS(sink->write)) {
        err_set(ERR_INVALID, "download needs a URL and a sink");
        return -1;
    }
    if (fetch_allow_parse(p ? p->allow : NULL, &allow, &nallow) < 0)
        return -1;
    if (fetch_check_parsed(url, allow, nallow) < 0)
        goto cleanup;
    fetch_url_show(url, show, sizeof(show));
    c.h = curl_easy_init();
    if (!c.h) {
        err_set(ERR_INTERNAL, "cannot download '%s': no curl handle", show);
        goto cleanup;
    }
    c.sink = sink;
    c.allow = allow;
    c.nallow = nallow;
    c.max_bytes = p ? p->max_bytes : 0;
    c.last_progress = time_mono_ms();
    errbuf[0] = '\0';
    if (fetch_setopts(c.h, url, p, &c, errbuf) < 0)
        goto cleanup;
    rc = curl_easy_perform(c.h);
    if (fetch_result_error(&c, rc, errbuf, show, p) < 0) {
        log_debug("download of '%s' failed: %s", show, err_message());
        goto cleanup;
    }
    if (res) {
        curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
        res->http_status = status;
        res->bytes = c.bytes;
        if (curl_easy_getinfo(c.h, CURLINFO_CONTENT_TYPE, &ctype) ==
                CURLE_OK && ctype)
            str_copy(res->content_type, ctype, sizeof(res->content_type));
        if (curl_easy_getinfo(c.h, CURLINFO_EFFECTIVE_URL, &eff) ==
                CURLE_OK && eff)
            str_copy(res->effective_url, eff, sizeof(res->effective_url));
    }
    ret = 0;
 cleanup:
    if (c.h)
        curl_easy_cleanup(c.h);
    xfree(allow);
    return ret;
}

/* The value of hex digit @ch, or -1. */
static int
fetch_hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The last path segment of @url, decoded and made safe as a file name
 * (fetch.h). Works on the text alone: no URL parser, never fails. */
void
fetch_url_basename(const char *url, char *buf, size_t size)
{
    const char *path, *end, *seg, *q, *sep;
    size_t n = 0;

    if (size == 0)
        return;
    buf[0] = '\0';
    if (!url)
        return;
    /* Skip "scheme://authority"; what is left up to '?' or '#' is the
     * path, and its last segment the name. */
    sep = strstr(url, "://");
    path = sep ? sep + 3 + strcspn(sep + 3, "/?#") : url;
    end = path + strcspn(path, "?#");
    seg = path;
    for (q = path; q < end; q++)
        if (*q == '/')
            seg = q + 1;
    for (q = seg; q < end && n + 1 < size; q++) {
        unsigned char ch = (unsigned char)*q;
        int hi, lo;

        if (ch == '%' && end - q >= 3 && (hi = fetch_hexval(q[1])) >= 0 &&
            (lo = fetch_hexval(q[2])) >= 0) {
            ch = (unsigned char)(hi * 16 + lo);
            q += 2;
        }
        /* A decoded "/" (%2F), a backslash or a control character must
         * not turn the name into a path or hide in logs. */
        if (ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f)
            ch = '_';
        buf[n++] = (char)ch;
    }
    /* Do not end inside a UTF-8 sequence cut by the size limit. */
    if (q < end) {
        size_t k = n, need;
        unsigned char lead;

        while (k > 0 && ((unsigned char)buf[k - 1] & 0xc0) == 0x80)
            k--;
        lead = k > 0 ? (unsigned char)buf[k - 1] : 0;
        if (lead >= 0xc0) {
            need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
            if (n - (k - 1) < need)
                n = k - 1;
        }
    }
    buf[n] = '\0';
    if (strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0)
        buf[0] = '\0';
}
