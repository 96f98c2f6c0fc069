/*
 * fetch.h - downloads from URLs for imports (virtual disks, ISOs,
 * templates, assemblies), over libcurl.
 *
 * DESIGN (DESIGN.md section 7, docs/STORAGE.md "Imports"): only http and
 * https, also after redirects (at most 5); a size limit (the body may not
 * exceed it: ERR_TOO_LARGE) and a time limit (ERR_TIMEOUT); and no
 * loopback, private, link-local, unique-local, CGNAT, multicast,
 * unspecified or otherwise non-public target unless the administrator's
 * allow-list (CIDR list, config `import_allow`) holds the address. The
 * check is made on the address curl is about to connect to (its
 * open-socket callback), for every connection including redirects, so a
 * name that resolves to a forbidden address is refused too, and no
 * traffic ever reaches a forbidden address. Proxies from the environment
 * are ignored (CURLOPT_PROXY ""). TLS certificates are verified.
 *
 * The body is pushed to a sink in chunks; the sink returning -1 stops the
 * transfer with the sink's error. Progress is reported at most every
 * 250 ms. @aborting is polled during the transfer (and while waiting for
 * the server): true stops it with ERR_ABORTED.
 *
 * Thread-safety: fetch_global_init() once from the main thread before
 * any thread calls fetch_url(); then fetch_url() is reentrant.
 */
#ifndef OVMM_UTIL_FETCH_H
#define OVMM_UTIL_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fetch_policy {
    uint64_t max_bytes;        /* 0: no limit */
    int64_t timeout_ms;        /* whole transfer; 0: no limit */
    const char *allow;         /* comma-separated CIDRs ("127.0.0.1/32,
                                  ::1/128,10.0.0.0/8"), NULL or "": none */
};

struct fetch_sink {
    /* Receive @len bytes. 0, or -1 with err_set() to stop. */
    int (*write)(void *opaque, const void *buf, size_t len);
    /* May be NULL. @total 0 when unknown. */
    void (*progress)(void *opaque, uint64_t done, uint64_t total);
    /* May be NULL. */
    bool (*aborting)(void *opaque);
    void *opaque;
};

struct fetch_result {
    long http_status;          /* final status (200) */
    uint64_t bytes;            /* body bytes delivered */
    char content_type[128];    /* "" when none */
    char effective_url[1024];  /* after redirects */
};

/* curl_global_init(); 0 or -1. */
int fetch_global_init(void);
void fetch_global_cleanup(void);

/*
 * Check @url before any transfer: well-formed (curl URL API), scheme
 * http or https, a host; a literal IP address host is also checked
 * against @p (no DNS lookup is made here). 0, or -1 with ERR_INVALID
 * ("URL scheme 'ftp' is not allowed: only http and https") or
 * ERR_FORBIDDEN ("address 10.0.0.1 is private; not in import_allow").
 */
int fetch_url_check(const char *url, const struct fetch_policy *p);

/*
 * Validate @allow (a CIDR list as in struct fetch_policy). 0, or -1
 * with ERR_INVALID naming the bad entry. (For the config loader.)
 */
int fetch_allow_check(const char *allow);

/*
 * Download @url into @sink. 0 when the whole body arrived with a 2xx
 * status; else -1 with err_set(): ERR_INVALID / ERR_FORBIDDEN (as
 * fetch_url_check, also for redirect targets and resolved addresses),
 * ERR_TOO_LARGE (body or Content-Length over max_bytes), ERR_TIMEOUT,
 * ERR_ABORTED, ERR_NOT_FOUND (HTTP 404), ERR_IO (other HTTP status or
 * transfer error, with curl's message), or the sink's error. @res may be
 * NULL.
 */
int fetch_url(const char *url, const struct fetch_policy *p,
              const struct fetch_sink *sink, struct fetch_result *res);

/* The file name part of @url's path ("a.iso" for "http://h/x/a.iso?q"),
 * percent-decoded, "" when none; at most @size-1 bytes into @buf. Never
 * contains '/'. */
void fetch_url_basename(const char *url, char *buf, size_t size);

#endif
