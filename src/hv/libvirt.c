/*
 * libvirt.c - the hypervisor driver over libvirt (hv_libvirt, see hv.h);
 * the only file that includes <libvirt/...>.
 *
 * DESIGN
 *
 * Process-wide setup, once (pthread_once, before the first open): libxml2
 * and libvirt are initialized, libvirt's default event loop is registered
 * (it must be before any connection is opened, or keepalive and close
 * callbacks never fire) and a process-wide error handler is installed.
 * Then one background thread, "the event thread", runs
 * virEventRunDefaultImpl() in a loop: it sends keepalive probes and runs
 * close callbacks for every connection. It is started by the first open
 * and stopped by hv_shutdown(), which wakes it with a zero timer and
 * joins it; a later open starts it again. It runs with every signal
 * blocked, so signals keep going to the threads that wait for them.
 *
 * Errors: libvirt would print every error to stderr. Our handler
 * (virSetErrorFunc for the process, virConnSetErrorFunc per connection)
 * instead records it with err_set() in the thread that made the failing
 * call (libvirt dispatches errors on the way out of the public API call,
 * in the caller's thread), mapping libvirt's code: VIR_ERR_NO_SUPPORT and
 * friends -> ERR_UNSUPPORTED, authentication failures -> ERR_AUTH, a
 * broken connection -> ERR_UNREACHABLE (lv_code()). The function that made
 * the call then sets the final error with its own context and libvirt's
 * message (lv_fail()); a call on a connection that is no longer alive is
 * always ERR_UNREACHABLE, and any failure of virConnectOpenAuth() that is
 * not an authentication failure is ERR_UNREACHABLE. libxml2, which libvirt
 * uses to read XML, prints I/O warnings through its per-thread generic
 * error function: open() silences it for the calling thread.
 *
 * Credentials: reach libvirt only through the auth callback of
 * virConnectOpenAuth(), which answers VIR_CRED_AUTHNAME/USERNAME with the
 * user name and VIR_CRED_PASSPHRASE/NOECHOPROMPT with the password, and
 * refuses anything else (such as a prompt to accept an unknown SSH host
 * key). The password is never put into a URI, an argv or a log line.
 *
 * Liveness: keepalive (virConnectSetKeepAlive(c, 5, 3): a probe after 5 s
 * of silence, dead after 3 unanswered ones) on drivers that support it
 * (remote URIs; the in-process test driver does not, which is fine), and
 * a close callback that sets `dead` from the event thread. alive() is
 * "!dead && virConnectIsAlive()". close() unregisters the callback first;
 * libvirt holds the callback's lock while calling it, so afterwards no
 * call can be running and the struct can be freed.
 *
 * Simulated hosts (test:///<abs path>): libvirt's test driver reports the
 * real machine's hostname, no host UUID and a fixed sysinfo sample for
 * every node file, so node_facts() reads the host's identity (hostname,
 * UUID, CPU, BIOS, system) from the `<ovmm:host>` element that
 * hv_sim_generate() wrote into the file (hv/sim.c describes it; SIM_NS
 * below must match it). Two other fallbacks exist for what the test
 * driver leaves out, and real hosts never take them: free memory (a file
 * has no NUMA cells, so virNodeGetFreeMemory() fails; we use the node's
 * memory less the running domains'), and the vcpu/balloon/cpu fields of
 * the bulk domain stats (the test driver returns only state.*; we ask
 * virDomainGetInfo() for a domain whose record lacks them).
 *
 * Storage (hv.h, "storage: repositories and the files in them"):
 * repositories are libvirt storage pools and files are volumes; the
 * section "storage" below has its own DESIGN. A test:/// connection's
 * storage is hv/simstore.c on real files instead, since the test driver
 * keeps volumes in memory and can neither upload nor resize them.
 *
 * Host networking (hv.h, "host networking"): bonds, VLAN devices and
 * bridges are libvirt host interfaces; the section "host networking"
 * below has its own DESIGN. A test:/// connection edits its node file
 * (hv/simnet.c) instead, since the test driver forgets what a connection
 * defines when it closes.
 *
 * Threads: a struct hv_conn is used by one thread at a time (hv.h);
 * `dead` is atomic because the event thread writes it. The globals are
 * guarded by lv_once and lv_loop_lock as noted on each.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <sodium.h>

#include "hv/hv.h"
#include "hv/simnet.h"
#include "hv/simstore.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/err.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("hv");

/*
 * The code for "cannot connect / the connection died" (hv.h). One place,
 * so that it can become a server-specific code without a hunt.
 */
#define LV_ERR_DOWN ERR_UNREACHABLE

/* The namespace of the identity element in a simulated host's node file;
 * hv/sim.c writes it with the same URI. */
#define SIM_NS "urn:ovmm:sim:1"

struct hv_conn {
    virConnectPtr conn;        /* immutable after open */
    char *uri;                 /* immutable after open; holds no secret */
    char *sim_path;            /* immutable: node file of test:///<path> */
    bool close_cb;             /* immutable: close callback registered */
    atomic_bool dead;          /* set by the close callback (event thread) */
};

DEFINE_AUTOPTR(xmlDoc, xmlFreeDoc)
DEFINE_AUTOPTR(xmlXPathContext, xmlXPathFreeContext)
DEFINE_AUTOPTR(xmlXPathObject, xmlXPathFreeObject)

/* ---- process-wide setup and the event thread ---- */

static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static int lv_init_rc = -1;               /* written once under lv_once */
static char lv_init_msg[256];             /* written once under lv_once */

static pthread_mutex_t lv_loop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t lv_loop_thread;          /* protected by lv_loop_lock */
static bool lv_loop_running;              /* protected by lv_loop_lock */
static atomic_bool lv_loop_stop;          /* atomic */

/* libvirt error code -> ours (before lv_fail() adds context). */
static enum err_code
lv_code(int code)
{
    switch (code) {
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_ARGUMENT_UNSUPPORTED:
    case VIR_ERR_CONFIG_UNSUPPORTED:
        return ERR_UNSUPPORTED;
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_AUTH_UNAVAILABLE:
        return ERR_AUTH;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_RPC:
    case VIR_ERR_SYSTEM_ERROR:
    case VIR_ERR_AGENT_UNRESPONSIVE:
        return LV_ERR_DOWN;
    case VIR_ERR_OPERATION_TIMEOUT:
        return ERR_TIMEOUT;
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_NETWORK:
    case VIR_ERR_NO_INTERFACE:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
        return ERR_NOT_FOUND;
    case VIR_ERR_OPERATION_INVALID:
        return ERR_STATE;
    case VIR_ERR_STORAGE_VOL_EXIST:
        return ERR_EXISTS;
    case VIR_ERR_INVALID_ARG:
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
        return ERR_INVALID;
    default:
        return ERR_INTERNAL;
    }
}

/*
 * libvirt's error callback (process-wide and per connection): record the
 * error in the calling thread instead of printing it. Runs in the thread
 * whose libvirt call failed.
 */
static void
lv_error_handler(void *opaque, virErrorPtr e)
{
    (void)opaque;
    if (!e || e->code == VIR_ERR_OK)
        return;
    if (e->level == VIR_ERR_WARNING) {
        log_debug("libvirt warning: %s", e->message ? e->message : "");
        return;
    }
    err_set(lv_code(e->code), "%s",
            e->message ? e->message : "unknown libvirt error");
}

/* libxml2's generic error printer, silenced (see DESIGN). */
static void
lv_xml_quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void
lv_init_once(void)
{
    xmlInitParser();
    /* Before anything that can fail, so nothing goes to stderr. */
    virSetErrorFunc(NULL, lv_error_handler);
    if (virInitialize() < 0) {
        str_copy(lv_init_msg, err_message(), sizeof(lv_init_msg));
        return;
    }
    if (virEventRegisterDefaultImpl() < 0) {
        str_copy(lv_init_msg, err_message(), sizeof(lv_init_msg));
        return;
    }
    lv_init_rc = 0;
}

static void *
lv_loop_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&lv_loop_stop)) {
        if (virEventRunDefaultImpl() < 0) {
            log_warnx("libvirt event loop failed: %s", err_message());
            err_clear();
            usleep(100 * 1000);
        }
    }
    return NULL;
}

/* Initialize once and make sure the event thread runs. 0 or -1. */
static int
lv_start(void)
{
    sigset_t all, old;
    int rc = 0, e;

    pthread_once(&lv_once, lv_init_once);
    if (lv_init_rc < 0) {
        err_set(ERR_INTERNAL, "cannot initialize libvirt: %s", lv_init_msg);
        return -1;
    }
    pthread_mutex_lock(&lv_loop_lock);
    if (!lv_loop_running) {
        atomic_store(&lv_loop_stop, false);
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        e = pthread_create(&lv_loop_thread, NULL, lv_loop_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (e != 0) {
            err_set(ERR_INTERNAL, "cannot start the libvirt event thread: %s",
                    strerror(e));
            rc = -1;
        } else {
            lv_loop_running = true;
        }
    }
    pthread_mutex_unlock(&lv_loop_lock);
    return rc;
}

/* A timer that only wakes the event loop up. */
static void
lv_wake(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

void
hv_shutdown(void)
{
    int timer;

    pthread_mutex_lock(&lv_loop_lock);
    if (lv_loop_running) {
        atomic_store(&lv_loop_stop, true);
        /* virEventAddTimeout() wakes the loop; it runs the timer, returns
         * and sees the flag. */
        timer = virEventAddTimeout(0, lv_wake, NULL, NULL);
        pthread_join(lv_loop_thread, NULL);
        if (timer >= 0)
            virEventRemoveTimeout(timer);
        lv_loop_running = false;
        err_clear();
    }
    pthread_mutex_unlock(&lv_loop_lock);
}

/* ---- errors ---- */

/* The calling thread's error, kept across a call that must not change it. */
static void
lv_err_save(struct err *saved)
{
    *saved = *err_get();
}

static void
lv_err_restore(const struct err *saved)
{
    if (saved->code == ERR_OK)
        err_clear();
    else
        err_set_full(saved->code, saved->file, saved->func, saved->line, "%s",
                     saved->message);
}

static bool lv_alive(struct hv_conn *c);

/*
 * A libvirt call on @c failed: set the final error, "cannot <what> '<uri>':
 * <libvirt's message>", with the code the handler recorded, or
 * LV_ERR_DOWN when the connection is gone.
 */
static void
lv_fail(struct hv_conn *c, const char *what)
{
    char msg[sizeof(((struct err *)0)->message)];
    enum err_code code = err_code();

    str_copy(msg, code != ERR_OK ? err_message() : "unknown libvirt error",
             sizeof(msg));
    if (code == ERR_OK)
        code = ERR_INTERNAL;
    if (!lv_alive(c))
        code = LV_ERR_DOWN;
    err_set(code, "cannot %s '%s': %s", what, c->uri, msg);
}

/* ---- small XML helpers (libxml2) ---- */

#define LV_XML_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

/* Parse @xml (from libvirt); NULL on error, with nothing printed. */
static xmlDoc *
lv_xml_parse(const char *xml)
{
    return xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL,
                         LV_XML_OPTS);
}

/* Parse the file @path; NULL on error, with nothing printed. */
static xmlDoc *
lv_xml_read(const char *path)
{
    return xmlReadFile(path, NULL, LV_XML_OPTS);
}

/* A new XPath context for @doc, with our sim namespace bound to "ovmm". */
static xmlXPathContext *
lv_xpath_new(xmlDoc *doc)
{
    xmlXPathContext *x = xmlXPathNewContext(doc);

    if (x)
        xmlXPathRegisterNs(x, (const xmlChar *)"ovmm",
                           (const xmlChar *)SIM_NS);
    return x;
}

/*
 * The string value of XPath @expr ("string(...)") into @out of @size
 * bytes, without leading and trailing white space; "" when there is none.
 */
static void
lv_xp_str(xmlXPathContext *x, const char *expr, char *out, size_t size)
{
    AUTOPTR(xmlXPathObject) xmlXPathObject *o = NULL;
    const char *s, *end;
    size_t n;

    out[0] = '\0';
    o = xmlXPathEvalExpression((const xmlChar *)expr, x);
    if (!o || o->type != XPATH_STRING || !o->stringval)
        return;
    s = (const char *)o->stringval;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
                       end[-1] == '\n' || end[-1] == '\r'))
        end--;
    n = (size_t)(end - s);
    if (n >= size)
        n = size - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* lv_xp_str() that overwrites @out only when the value is not empty. */
static void
lv_xp_set(xmlXPathContext *x, const char *expr, char *out, size_t size)
{
    char tmp[512];

    lv_xp_str(x, expr, tmp, sizeof(tmp));
    if (tmp[0])
        str_copy(out, tmp, size);
}

/* The integer value (0 to 1000000) of XPath @expr into @out; unchanged
 * when it is not one. */
static void
lv_xp_int(xmlXPathContext *x, const char *expr, int *out)
{
    char tmp[32], *end;
    long v;

    lv_xp_str(x, expr, tmp, sizeof(tmp));
    if (!tmp[0])
        return;
    v = strtol(tmp, &end, 10);
    if (*end == '\0' && v >= 0 && v <= 1000000)
        *out = (int)v;
}

/* ---- connections ---- */

/* Answer libvirt's credential requests from the struct hv_auth. */
static int
lv_auth_cb(virConnectCredentialPtr cred, unsigned int ncred, void *opaque)
{
    const struct hv_auth *auth = opaque;
    unsigned int i;

    for (i = 0; i < ncred; i++) {
        const char *answer = NULL;

        switch (cred[i].type) {
        case VIR_CRED_AUTHNAME:
        case VIR_CRED_USERNAME:
            answer = auth ? auth->username : NULL;
            break;
        case VIR_CRED_PASSPHRASE:
        case VIR_CRED_NOECHOPROMPT:
            answer = auth ? auth->password : NULL;
            break;
        default:
            break;
        }
        if (!answer) {
            log_debug("libvirt asked for a credential of type %d that we "
                      "do not have", cred[i].type);
            return -1;
        }
        /* libvirt frees the result with free(3); xstrdup() is malloc(3). */
        cred[i].result = xstrdup(answer);
        cred[i].resultlen = (unsigned int)strlen(answer);
    }
    return 0;
}

static void
lv_close_cb(virConnectPtr conn, int reason, void *opaque)
{
    struct hv_conn *c = opaque;
    static const char *const reasons[] = { "I/O error", "end of file",
                                           "keepalive timeout",
                                           "closed by the client" };

    (void)conn;
    atomic_store(&c->dead, true);
    log_warnx("connection to '%s' closed: %s", c->uri,
              reason >= 0 && reason < 4 ? reasons[reason] : "unknown reason");
}

/* The node file of a "test:///<abs path>" URI (decoded); NULL for any
 * other URI, test:///default and remote test URIs. Caller frees. */
static char *
lv_sim_path(const char *uri)
{
    const char *p;
    char *out, *o;
    size_t n;

    if (!str_has_prefix(uri, "test:///"))
        return NULL;
    p = uri + strlen("test://");
    n = strcspn(p, "?#");
    out = xstrndup(p, n);
    if (strcmp(out, "/default") == 0) {
        xfree(out);
        return NULL;
    }
    /* Percent-decode in place (hv_uri_for() encodes unusual bytes). */
    for (p = o = out; *p; p++) {
        unsigned hi, lo;

        if (p[0] == '%' && sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

static struct hv_conn *
lv_open(const char *uri, const struct hv_auth *auth)
{
    int credtypes[] = { VIR_CRED_AUTHNAME, VIR_CRED_USERNAME,
                        VIR_CRED_PASSPHRASE, VIR_CRED_NOECHOPROMPT };
    struct hv_auth creds = { NULL, NULL };
    virConnectAuth va;
    virConnectPtr conn;
    struct hv_conn *c;

    if (!uri || !*uri) {
        err_set(ERR_INVALID, "cannot connect to a hypervisor: empty URI");
        return NULL;
    }
    if (lv_start() < 0)
        return NULL;
    if (auth)
        creds = *auth;
    va.credtype = credtypes;
    va.ncredtype = sizeof(credtypes) / sizeof(credtypes[0]);
    va.cb = lv_auth_cb;
    va.cbdata = &creds;

    xmlSetGenericErrorFunc(NULL, lv_xml_quiet);
    err_clear();
    conn = virConnectOpenAuth(uri, &va, 0);
    if (!conn) {
        char msg[sizeof(((struct err *)0)->message)];
        enum err_code code = err_code() == ERR_AUTH ? ERR_AUTH : LV_ERR_DOWN;

        str_copy(msg, err_code() != ERR_OK ? err_message()
                                           : "unknown libvirt error",
                 sizeof(msg));
        err_set(code, "cannot connect to '%s': %s", uri, msg);
        return NULL;
    }

    c = xcalloc(1, sizeof(*c));
    c->conn = conn;
    c->uri = xstrdup(uri);
    c->sim_path = lv_sim_path(uri);
    atomic_init(&c->dead, false);
    virConnSetErrorFunc(conn, NULL, lv_error_handler);
    if (virConnectSetKeepAlive(conn, 5, 3) < 0)
        log_debug("no keepalive on '%s': %s", uri, err_message());
    if (virConnectRegisterCloseCallback(conn, lv_close_cb, c, NULL) < 0)
        log_debug("no close callback on '%s': %s", uri, err_message());
    else
        c->close_cb = true;
    err_clear();
    log_debug("connected to '%s'", uri);
    return c;
}

static void
lv_close(struct hv_conn *c)
{
    struct err saved;

    if (!c)
        return;
    lv_err_save(&saved);
    if (c->close_cb)
        virConnectUnregisterCloseCallback(c->conn, lv_close_cb);
    virConnectClose(c->conn);
    lv_err_restore(&saved);
    xfree(c->uri);
    xfree(c->sim_path);
    xfree(c);
}

static bool
lv_alive(struct hv_conn *c)
{
    struct err saved;
    bool alive;

    if (!c || atomic_load(&c->dead))
        return false;
    lv_err_save(&saved);
    alive = virConnectIsAlive(c->conn) == 1;
    lv_err_restore(&saved);
    return alive;
}

/* ---- node facts ---- */

void
hv_node_facts_release(struct hv_node_facts *f)
{
    size_t i;

    if (!f)
        return;
    for (i = 0; i < f->ncapabilities; i++)
        xfree(f->capabilities[i]);
    xfree(f->capabilities);
    xfree(f->nics);
    xfree(f->disks);
    memset(f, 0, sizeof(*f));
    f->cpu_family = f->cpu_model = f->cpu_stepping = -1;
}

/* "Intel" (libvirt's name) -> "GenuineIntel" (CPUID's); others kept. */
static void
lv_set_vendor(struct hv_node_facts *f, const char *v)
{
    if (!v[0])
        return;
    if (strcmp(v, "Intel") == 0 || strstr(v, "Intel(R)"))
        str_copy(f->cpu_vendor, "GenuineIntel", sizeof(f->cpu_vendor));
    else if (strcmp(v, "AMD") == 0 || strstr(v, "Advanced Micro Devices"))
        str_copy(f->cpu_vendor, "AuthenticAMD", sizeof(f->cpu_vendor));
    else if (strcmp(v, "Hygon") == 0)
        str_copy(f->cpu_vendor, "HygonGenuine", sizeof(f->cpu_vendor));
    else
        str_copy(f->cpu_vendor, v, sizeof(f->cpu_vendor));
}

/* Add capability @s unless it is there already. */
static void
lv_add_capability(struct hv_node_facts *f, const char *s)
{
    size_t i;

    for (i = 0; i < f->ncapabilities; i++) {
        if (strcmp(f->capabilities[i], s) == 0)
            return;
    }
    f->capabilities = xrealloc(f->capabilities, (f->ncapabilities + 1) *
                                                    sizeof(char *));
    f->capabilities[f->ncapabilities++] = xstrdup(s);
}

/*
 * From the capabilities XML: host UUID, arch, CPU vendor/model/signature,
 * and the guest types as capability strings ("XEN_3_0_PVM_x86_64",
 * "HVM_x86_64"). Also turns hv_type "qemu" into "kvm" when KVM guests are
 * offered. 0 or -1 (ERR_INTERNAL: not XML).
 */
static int
lv_parse_caps(struct hv_conn *c, const char *xml, struct hv_node_facts *f)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = lv_xml_parse(xml);
    AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;
    AUTOPTR(xmlXPathObject) xmlXPathObject *guests = NULL;
    AUTOPTR(xmlXPathObject) xmlXPathObject *kvm = NULL;
    char vendor[64];
    bool xen = strcmp(f->hv_type, "xen") == 0;
    int i, n;

    if (!doc || !(x = lv_xpath_new(doc))) {
        err_set(ERR_INTERNAL, "cannot parse the capabilities of '%s'",
                c->uri);
        return -1;
    }
    lv_xp_set(x, "string(/capabilities/host/uuid)", f->uuid, sizeof(f->uuid));
    lv_xp_set(x, "string(/capabilities/host/cpu/arch)", f->arch,
              sizeof(f->arch));
    lv_xp_str(x, "string(/capabilities/host/cpu/vendor)", vendor,
              sizeof(vendor));
    lv_set_vendor(f, vendor);
    lv_xp_set(x, "string(/capabilities/host/cpu/model)", f->cpu_model_name,
              sizeof(f->cpu_model_name));
    lv_xp_int(x, "string(/capabilities/host/cpu/signature/@family)",
              &f->cpu_family);
    lv_xp_int(x, "string(/capabilities/host/cpu/signature/@model)",
              &f->cpu_model);
    lv_xp_int(x, "string(/capabilities/host/cpu/signature/@stepping)",
              &f->cpu_stepping);

    kvm = xmlXPathEvalExpression(
        (const xmlChar *)"count(/capabilities/guest/arch/domain"
                         "[@type='kvm'])", x);
    if (strcmp(f->hv_type, "qemu") == 0 && kvm &&
        kvm->type == XPATH_NUMBER && kvm->floatval > 0)
        str_copy(f->hv_type, "kvm", sizeof(f->hv_type));

    guests = xmlXPathEvalExpression((const xmlChar *)"/capabilities/guest",
                                    x);
    n = guests && guests->nodesetval ? guests->nodesetval->nodeNr : 0;
    for (i = 0; i < n; i++) {
        char os[32], arch[32], kind[32], cap[96];

        x->node = guests->nodesetval->nodeTab[i];
        lv_xp_str(x, "string(os_type)", os, sizeof(os));
        lv_xp_str(x, "string(arch/@name)", arch, sizeof(arch));
        if (!os[0] || !arch[0])
            continue;
        if (strcmp(os, "xen") == 0) {
            str_copy(kind, "PVM", sizeof(kind));
        } else if (strcmp(os, "xenpvh") == 0) {
            str_copy(kind, "PVH", sizeof(kind));
        } else {
            /* "hvm" -> "HVM", and so on for types we do not know. */
            str_copy(kind, os, sizeof(kind));
            for (char *p = kind; *p; p++) {
                if (*p >= 'a' && *p <= 'z')
                    *p = (char)(*p - 'a' + 'A');
            }
        }
        snprintf(cap, sizeof(cap), "%s%s_%s", xen ? "XEN_3_0_" : "", kind,
                 arch);
        lv_add_capability(f, cap);
    }
    return 0;
}

/* "Type 0, Family 6, Model 85, Stepping 4" (SMBIOS) -> the numbers. */
static void
lv_parse_signature(const char *sig, struct hv_node_facts *f)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        { "Family ", offsetof(struct hv_node_facts, cpu_family) },
        { "Model ", offsetof(struct hv_node_facts, cpu_model) },
        { "Stepping ", offsetof(struct hv_node_facts, cpu_stepping) },
    };
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *p = strstr(sig, keys[i].key);
        int *dst = (int *)(void *)((char *)f + keys[i].off);
        char *end;
        long v;

        if (!p || *dst >= 0)
            continue;
        v = strtol(p + strlen(keys[i].key), &end, 10);
        if (end != p + strlen(keys[i].key) && v >= 0 && v < 100000)
            *dst = (int)v;
    }
}

/* From the sysinfo XML: BIOS, system and (as a fallback) processor data.
 * Unparsable sysinfo is ignored (nothing is required from it). */
static void
lv_parse_sysinfo(const char *xml, struct hv_node_facts *f)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = lv_xml_parse(xml);
    AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;
    char buf[128];

    if (!doc || !(x = lv_xpath_new(doc)))
        return;
    lv_xp_set(x, "string(/sysinfo/bios/entry[@name='vendor'])",
              f->bios_vendor, sizeof(f->bios_vendor));
    lv_xp_set(x, "string(/sysinfo/bios/entry[@name='version'])",
              f->bios_version, sizeof(f->bios_version));
    lv_xp_set(x, "string(/sysinfo/bios/entry[@name='date'])", f->bios_date,
              sizeof(f->bios_date));
    lv_xp_set(x, "string(/sysinfo/system/entry[@name='manufacturer'])",
              f->manufacturer, sizeof(f->manufacturer));
    lv_xp_set(x, "string(/sysinfo/system/entry[@name='product'])",
              f->product, sizeof(f->product));
    lv_xp_set(x, "string(/sysinfo/system/entry[@name='serial'])", f->serial,
              sizeof(f->serial));
    if (!f->uuid[0])
        lv_xp_set(x, "string(/sysinfo/system/entry[@name='uuid'])", f->uuid,
                  sizeof(f->uuid));
    /* The processor's brand string beats libvirt's CPU model name. */
    lv_xp_set(x, "string(/sysinfo/processor[1]/entry[@name='version'])",
              f->cpu_model_name, sizeof(f->cpu_model_name));
    if (!f->cpu_vendor[0]) {
        lv_xp_str(x,
                  "string(/sysinfo/processor[1]/entry[@name='manufacturer'])",
                  buf, sizeof(buf));
        lv_set_vendor(f, buf);
    }
    lv_xp_str(x, "string(/sysinfo/processor[1]/entry[@name='signature'])",
              buf, sizeof(buf));
    lv_parse_signature(buf, f);
}

/*
 * The identity hv_sim_generate() wrote into the node file @path
 * (hv/sim.c): overrides what the test driver made up. Missing element or
 * unreadable file: nothing changes (a hand-written test file).
 */
static void
lv_read_sim_identity(const char *path, struct hv_node_facts *f)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = lv_xml_read(path);
    AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;
    char uuid[64];

    if (!doc || !(x = lv_xpath_new(doc))) {
        log_warnx("cannot read the identity of simulated host '%s'", path);
        return;
    }
    lv_xp_str(x, "string(/node/ovmm:host/ovmm:uuid)", uuid, sizeof(uuid));
    if (!uuid[0]) {
        log_debug("node file '%s' has no <ovmm:host> identity", path);
        return;
    }
    str_copy(f->uuid, uuid, sizeof(f->uuid));
    lv_xp_set(x, "string(/node/ovmm:host/ovmm:hostname)", f->hostname,
              sizeof(f->hostname));
    lv_xp_set(x, "string(/node/ovmm:host/ovmm:cpu/@vendor)", f->cpu_vendor,
              sizeof(f->cpu_vendor));
    lv_xp_set(x, "string(/node/ovmm:host/ovmm:cpu)", f->cpu_model_name,
              sizeof(f->cpu_model_name));
    lv_xp_int(x, "string(/node/ovmm:host/ovmm:cpu/@family)", &f->cpu_family);
    lv_xp_int(x, "string(/node/ovmm:host/ovmm:cpu/@model)", &f->cpu_model);
    lv_xp_int(x, "string(/node/ovmm:host/ovmm:cpu/@stepping)",
              &f->cpu_stepping);
    lv_xp_set(x, "string(/node/ovmm:host/ovmm:bios/@vendor)", f->bios_vendor,
              sizeof(f->bios_vendor));
    lv_xp_set(x, "string(/node/ovmm:host/ovmm:bios/@version)",
              f->bios_version, sizeof(f->bios_version));
    lv_xp_set(x, "string(/node/ovmm:host/ovmm:bios/@date)", f->bios_date,
              sizeof(f->bios_date));
    lv_xp_set(x, "string(/node/ovmm:host/ovmm:system/@manufacturer)",
              f->manufacturer, sizeof(f->manufacturer));
    lv_xp_set(x, "string(/node/ovmm:host/ovmm:system/@product)", f->product,
              sizeof(f->product));
    lv_xp_set(x, "string(/node/ovmm:host/ovmm:system/@serial)", f->serial,
              sizeof(f->serial));
}

/* A UUID made from the SHA-256 of @s (last resort, see node_facts). */
static void
lv_uuid_from(const char *s, char *out, size_t size)
{
    unsigned char md[crypto_hash_sha256_BYTES];
    char hex[33];

    crypto_hash_sha256(md, (const unsigned char *)s, strlen(s));
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x40);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    hex_encode(md, 16, hex);
    snprintf(out, size, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

/* Interfaces: name, MAC, up, MTU. Cannot list them on a live
 * connection: none. 0, or -1 when the connection is gone. */
static int lvn_list_conn(struct hv_conn *c, virConnectPtr conn,
                         struct hv_iface **out, size_t *n);

/*
 * The host's physical ports: the ethernet interfaces it lists, also those
 * inside a bridge or bond made on it (lvn_list_conn()), never the bonds,
 * VLAN devices and bridges themselves, which are not ports discovery
 * makes (ovmm makes them: docs/NETWORKS.md).
 */
static int
lv_nics(struct hv_conn *c, struct hv_node_facts *f)
{
    struct hv_iface *ifs = NULL;
    size_t n = 0, i;

    if (lvn_list_conn(c, c->conn, &ifs, &n) < 0) {
        if (lv_alive(c)) {
            /* Discovery goes on without them (e.g. a host with no
             * interface driver); only a lost connection fails it. */
            if (err_code() == ERR_UNSUPPORTED)
                log_debug("'%s' lists no interfaces: %s", c->uri,
                          err_message());
            else
                log_warnx("cannot list the interfaces of '%s': %s", c->uri,
                          err_message());
            err_clear();
            return 0;
        }
        return -1;
    }
    f->nics = xcalloc(n + 1, sizeof(*f->nics));
    for (i = 0; i < n; i++) {
        struct hv_nic *nic;

        if (ifs[i].type != HV_IF_ETHERNET)
            continue;
        nic = &f->nics[f->nnics++];
        str_copy(nic->name, ifs[i].name, sizeof(nic->name));
        str_copy(nic->mac, ifs[i].mac, sizeof(nic->mac));
        nic->mtu = ifs[i].mtu;
        nic->up = ifs[i].active;
    }
    xfree(ifs);
    err_clear();
    return 0;
}

/* True for the storage pool types that are local to the host (not
 * network or SAN storage, which are repositories, not local disks). */
static bool
lv_pool_local(const char *type)
{
    static const char *const local[] = { "dir", "fs", "logical", "disk",
                                         "zfs" };
    size_t i;

    for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        if (strcmp(type, local[i]) == 0)
            return true;
    }
    return false;
}

/* Local storage pools: name, type, target path, capacity; as lv_nics()
 * when they cannot be listed. */
static int
lv_disks(struct hv_conn *c, struct hv_node_facts *f)
{
    virStoragePoolPtr *pools = NULL;
    int i, n;

    n = virConnectListAllStoragePools(c->conn, &pools, 0);
    if (n < 0) {
        if (lv_alive(c)) {
            if (err_code() == ERR_UNSUPPORTED)
                log_debug("'%s' lists no storage pools: %s", c->uri,
                          err_message());
            else
                log_warnx("cannot list the storage pools of '%s': %s",
                          c->uri, err_message());
            err_clear();
            return 0;
        }
        lv_fail(c, "list the storage pools of");
        return -1;
    }
    f->disks = xcalloc((size_t)n, sizeof(*f->disks));
    for (i = 0; i < n; i++) {
        char *xml = virStoragePoolGetXMLDesc(pools[i], 0);
        const char *name = virStoragePoolGetName(pools[i]);
        char type[32] = "", path[512] = "";
        virStoragePoolInfo info;

        if (xml) {
            AUTOPTR(xmlDoc) xmlDoc *doc = lv_xml_parse(xml);
            AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;

            if (doc && (x = lv_xpath_new(doc))) {
                lv_xp_str(x, "string(/pool/@type)", type, sizeof(type));
                lv_xp_str(x, "string(/pool/target/path)", path, sizeof(path));
            }
            xfree(xml);
        }
        if (lv_pool_local(type)) {
            struct hv_disk *d = &f->disks[f->ndisks++];

            str_copy(d->name, name ? name : "", sizeof(d->name));
            str_copy(d->type, type, sizeof(d->type));
            str_copy(d->path, path, sizeof(d->path));
            if (virStoragePoolGetInfo(pools[i], &info) == 0) {
                d->capacity_bytes = info.capacity;
                d->allocation_bytes = info.allocation;
            }
        }
        virStoragePoolFree(pools[i]);
    }
    xfree(pools);
    err_clear();
    return 0;
}

/*
 * Test-driver fallback for free memory (see DESIGN): the node's memory
 * less what its running domains use. Real hosts never get here.
 */
static uint64_t
lv_sim_free_memory(struct hv_conn *c, uint64_t total_kib)
{
    virDomainPtr *doms = NULL;
    uint64_t used = 0;
    int i, n;

    n = virConnectListAllDomains(c->conn, &doms,
                                 VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    for (i = 0; i < n; i++) {
        virDomainInfo info;

        if (virDomainGetInfo(doms[i], &info) == 0)
            used += info.memory;
        virDomainFree(doms[i]);
    }
    if (n >= 0)
        xfree(doms);
    err_clear();
    return used < total_kib ? total_kib - used : 0;
}

static int
lv_node_facts(struct hv_conn *c, struct hv_node_facts *out)
{
    struct hv_node_facts f;
    virNodeInfo ni;
    unsigned long version = 0;
    unsigned long long free_bytes;
    const char *type;
    char *s;

    memset(&f, 0, sizeof(f));
    f.cpu_family = f.cpu_model = f.cpu_stepping = -1;
    err_clear();

    if (virNodeGetInfo(c->conn, &ni) < 0) {
        lv_fail(c, "get the node info of");
        goto fail;
    }
    f.cpus = ni.cpus;
    f.mhz = ni.mhz;
    f.sockets = ni.sockets * (ni.nodes ? ni.nodes : 1);
    f.cores_per_socket = ni.cores;
    f.threads_per_core = ni.threads;
    f.memory_kib = ni.memory;

    if (!(s = virConnectGetHostname(c->conn))) {
        lv_fail(c, "get the host name of");
        goto fail;
    }
    str_copy(f.hostname, s, sizeof(f.hostname));
    xfree(s);

    if (!(type = virConnectGetType(c->conn))) {
        lv_fail(c, "get the hypervisor type of");
        goto fail;
    }
    str_copy(f.hv_type, type, sizeof(f.hv_type));
    for (char *p = f.hv_type; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    if (virConnectGetVersion(c->conn, &version) == 0)
        snprintf(f.hv_version, sizeof(f.hv_version), "%lu.%lu.%lu",
                 version / 1000000, version / 1000 % 1000, version % 1000);
    err_clear();

    if (!(s = virConnectGetCapabilities(c->conn))) {
        lv_fail(c, "get the capabilities of");
        goto fail;
    }
    if (lv_parse_caps(c, s, &f) < 0) {
        xfree(s);
        goto fail;
    }
    xfree(s);

    /* Sysinfo is optional: some drivers (libxl) do not report it. */
    if ((s = virConnectGetSysinfo(c->conn, 0))) {
        lv_parse_sysinfo(s, &f);
        xfree(s);
    } else if (!lv_alive(c)) {
        lv_fail(c, "get the sysinfo of");
        goto fail;
    }
    err_clear();

    free_bytes = virNodeGetFreeMemory(c->conn);
    if (free_bytes > 0)
        f.free_memory_kib = free_bytes / 1024;
    else if (c->sim_path)
        f.free_memory_kib = lv_sim_free_memory(c, f.memory_kib);
    else if (!lv_alive(c)) {
        lv_fail(c, "get the free memory of");
        goto fail;
    }
    err_clear();

    if (lv_nics(c, &f) < 0 || lv_disks(c, &f) < 0)
        goto fail;

    if (c->sim_path)
        lv_read_sim_identity(c->sim_path, &f);
    if (!f.uuid[0]) {
        /* Real libvirt always reports one; a hand-written test file does
         * not. Something stable is better than nothing: hv.h promises a
         * UUID. */
        lv_uuid_from(c->uri, f.uuid, sizeof(f.uuid));
        log_warnx("'%s' reports no host UUID; using '%s' derived from its "
                  "URI", c->uri, f.uuid);
    }
    *out = f;
    return 0;

 fail:
    hv_node_facts_release(&f);
    return -1;
}

/* ---- domain stats ---- */

static enum hv_dom_state
lv_state(int s)
{
    switch (s) {
    case VIR_DOMAIN_RUNNING: return HV_DOM_RUNNING;
    case VIR_DOMAIN_BLOCKED: return HV_DOM_BLOCKED;
    case VIR_DOMAIN_PAUSED: return HV_DOM_PAUSED;
    case VIR_DOMAIN_SHUTDOWN: return HV_DOM_SHUTDOWN;
    case VIR_DOMAIN_SHUTOFF: return HV_DOM_SHUTOFF;
    case VIR_DOMAIN_CRASHED: return HV_DOM_CRASHED;
    case VIR_DOMAIN_PMSUSPENDED: return HV_DOM_PMSUSPENDED;
    default: return HV_DOM_NOSTATE;
    }
}

static int
lv_domain_stats(struct hv_conn *c, struct hv_dom_stat **out, size_t *nout)
{
    virDomainStatsRecordPtr *recs = NULL;
    struct hv_dom_stat *stats;
    int i, n;

    *out = NULL;
    *nout = 0;
    err_clear();
    n = virConnectGetAllDomainStats(c->conn,
                                    VIR_DOMAIN_STATS_STATE |
                                        VIR_DOMAIN_STATS_CPU_TOTAL |
                                        VIR_DOMAIN_STATS_BALLOON |
                                        VIR_DOMAIN_STATS_VCPU,
                                    &recs, 0);
    if (n < 0) {
        lv_fail(c, "get the domain statistics of");
        return -1;
    }
    stats = n ? xcalloc((size_t)n, sizeof(*stats)) : NULL;
    for (i = 0; i < n; i++) {
        virDomainStatsRecordPtr r = recs[i];
        struct hv_dom_stat *st = &stats[i];
        const char *name = virDomainGetName(r->dom);
        int state = VIR_DOMAIN_NOSTATE;
        unsigned vcpus = 0;
        unsigned long long mem = 0, cpu = 0;
        int have_vcpus, have_mem, have_cpu;
        virDomainInfo info;

        if (virDomainGetUUIDString(r->dom, st->uuid) < 0)
            st->uuid[0] = '\0';
        str_copy(st->name, name ? name : "", sizeof(st->name));
        virTypedParamsGetInt(r->params, r->nparams, "state.state", &state);
        have_vcpus = virTypedParamsGetUInt(r->params, r->nparams,
                                           "vcpu.current", &vcpus);
        have_mem = virTypedParamsGetULLong(r->params, r->nparams,
                                           "balloon.current", &mem);
        have_cpu = virTypedParamsGetULLong(r->params, r->nparams, "cpu.time",
                                           &cpu);
        /* Fallback for drivers that leave the vcpu and balloon groups out
         * altogether (the test driver reports only state.*): ask the
         * domain itself. A real host that reports them but no cpu.time
         * (a domain that is not running) costs no extra call. */
        if (have_vcpus != 1 && have_mem != 1 &&
            virDomainGetInfo(r->dom, &info) == 0) {
            if (have_vcpus != 1)
                vcpus = info.nrVirtCpu;
            if (have_mem != 1)
                mem = info.memory;
            if (have_cpu != 1)
                cpu = info.cpuTime;
        }
        st->state = lv_state(state);
        st->vcpus = vcpus;
        st->memory_kib = mem;
        st->cpu_time_ns = cpu;
    }
    virDomainStatsRecordListFree(recs);
    err_clear();
    *out = stats;
    *nout = (size_t)n;
    return 0;
}

/* ---- storage (hv.h "storage: repositories and the files in them") ----
 *
 * DESIGN: a test:/// connection's storage is simulated on real files
 * (hv/simstore.c): every op below starts by handing such a connection
 * over, after the name checks both paths share. For any other
 * connection a repository mount is a set of libvirt storage pools:
 *
 *   ovmm-<id>            the root: netfs (source host:/E[/share], mounted
 *                        on /OVS/Repositories/<id>), fs of format ocfs2
 *                        (source the LUN's device, mounted there too) or
 *                        dir (<D>[/share])
 *   ovmm-<id>-<Subdir>   one dir pool per subdirectory, <root>/<Subdir>
 *
 * The root pool is persistent and autostarted, so a mount survives a
 * reboot of the host. The subdirectory pools are persistent but started
 * on demand (lvs_repo_pool()), after the root, so that none of them can
 * look into the empty mount point of an NFS repository whose mount
 * failed. Pools are refreshed before every lookup, because other hosts
 * create files in shared repositories behind libvirt's back. Files are
 * volumes; names reach libvirt only inside XML we escape.
 *
 * A look at a file system without a mount (fs_probe, and creating the
 * share of a new NFS repository) uses transient pools named ovmm-probe
 * and ovmm-probe-share under LVS_PROBE_DIR, destroyed afterwards; when an
 * active pool already serves the same source it is used instead, since
 * libvirt refuses two pools on one source.
 *
 * OCFS2 on a LUN (struct hv_fs "ocfs2"; UNTESTED here: there is no
 * iSCSI target in the test set-up, and the test driver has no iscsi or
 * fs backend, so test:/// hosts take hv/simstore.c): the host logs in to
 * the target through a transient iscsi pool ovmm-iscsi-<hash of
 * host:port/iqn> (lvs_iscsi_login()), left running, since other LUNs of
 * the target may be in use; after a reboot of the host the login and
 * so the mount are gone until a mount is asked for again. fs_make is
 * libvirt's mkfs: a transient fs pool built with NO_OVERWRITE, which
 * passes neither label nor cluster to mkfs.ocfs2. Mounting OCFS2 needs
 * the host's cluster stack (o2cb) configured, which ovmm does not do.
 * fs_wipe is not possible here (ERR_UNSUPPORTED). The device name is the
 * by-path name udev gives the LUN, which holds the portal's address as
 * the session has it: the access host should be that IP address.
 *
 * Limits of the libvirt path (a volume cannot be renamed): an upload is
 * written under its final name, and file_write replaces a file by delete
 * and create, so neither is atomic as on simulated storage. file_copy is
 * one server-side call (virStorageVolCreateXMLFrom) that cannot be
 * interrupted: @aborting is asked before and after it, and between
 * chunks only when the server refuses the copy and we stream it through
 * this process instead (download + upload).
 */

#define LVS_MOUNT_DIR "/OVS/Repositories"
#define LVS_PROBE_DIR "/OVS/Probe"
#define LVS_PROBE_POOL "ovmm-probe"
#define LVS_PROBE_SHARE_POOL "ovmm-probe-share"
#define LVS_MKFS_DIR "/OVS/Mkfs"
#define LVS_CHUNK (1024 * 1024)
#define LVS_OVSREPO_MAX (64 * 1024)

DEFINE_AUTOPTR(virStoragePool, virStoragePoolFree)
DEFINE_AUTOPTR(virStorageVol, virStorageVolFree)
DEFINE_AUTOPTR(virStream, virStreamFree)

struct hv_upload {
    struct hv_conn *c;                /* the connection, borrowed */
    struct hv_simstore_upload *sim;   /* test:/// connections */
    virStorageVolPtr vol;             /* libvirt: the volume being written */
    virStreamPtr st;                  /* libvirt: its upload stream */
    char *name;                       /* the file's name, for messages */
};

/* Keep the calling thread's error message but give it code @code (a
 * libvirt failure that means, in context, "not found" or "unreachable"). */
static void
lvs_recode(enum err_code code)
{
    char msg[sizeof(((struct err *)0)->message)];

    str_copy(msg, err_message(), sizeof(msg));
    err_set(code, "%s", msg);
}

/*
 * lv_fail() with a formatted @what ("create 'x' in repository 'y' on").
 * A system error on a connection that is still alive is a file operation
 * failing on the server (ERR_IO), not a lost connection: only a dead
 * connection is LV_ERR_DOWN after this.
 */
static void lvs_fail(struct hv_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lvs_fail(struct hv_conn *c, const char *fmt, ...)
{
    char *AUTOFREE what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = xvasprintf(fmt, ap);
    va_end(ap);
    lv_fail(c, what);
    if (err_code() == LV_ERR_DOWN && lv_alive(c))
        lvs_recode(ERR_IO);
}

/* @s with the XML special characters escaped, for attribute values and
 * text. Caller frees. */
static char *
lvs_xml_esc(const char *s)
{
    size_t n = 0;
    const char *p;
    char *out, *o;

    for (p = s; *p; p++)
        n += (*p == '&' || *p == '<' || *p == '>' || *p == '\'' ||
              *p == '"') ? 6 : 1;
    out = o = xmalloc(n + 1);
    for (p = s; *p; p++) {
        const char *rep = NULL;

        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '\'': rep = "&apos;"; break;
        case '"': rep = "&quot;"; break;
        default: break;
        }
        if (rep) {
            memcpy(o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* The pool name of directory @dir of repository @id. Caller frees. */
static char *
lvs_pool_name(const char *id, enum hv_repo_dir dir)
{
    if (dir == HV_DIR_ROOT)
        return xasprintf("ovmm-%s", id);
    return xasprintf("ovmm-%s-%s", id, hv_repo_dir_name(dir));
}

/* XML of a dir pool @name on @path. Caller frees. */
static char *
lvs_dir_pool_xml(const char *name, const char *path)
{
    char *AUTOFREE n = lvs_xml_esc(name), *AUTOFREE p = lvs_xml_esc(path);

    return xasprintf("<pool type='dir'><name>%s</name>"
                     "<target><path>%s</path></target></pool>", n, p);
}

/* XML of a netfs pool @name mounting @host:@dir on @target. Caller
 * frees. */
static char *
lvs_netfs_pool_xml(const char *name, const char *host, const char *dir,
                   const char *target)
{
    char *AUTOFREE n = lvs_xml_esc(name), *AUTOFREE h = lvs_xml_esc(host);
    char *AUTOFREE d = lvs_xml_esc(dir), *AUTOFREE t = lvs_xml_esc(target);

    return xasprintf("<pool type='netfs'><name>%s</name>"
                     "<source><host name='%s'/><dir path='%s'/>"
                     "<format type='nfs'/></source>"
                     "<target><path>%s</path></target></pool>", n, h, d, t);
}

/* XML of an fs pool @name mounting the OCFS2 file system on @device on
 * @target. Caller frees. */
static char *
lvs_ocfs2_pool_xml(const char *name, const char *device, const char *target)
{
    char *AUTOFREE n = lvs_xml_esc(name), *AUTOFREE d = lvs_xml_esc(device);
    char *AUTOFREE t = lvs_xml_esc(target);

    return xasprintf("<pool type='fs'><name>%s</name>"
                     "<source><device path='%s'/><format type='ocfs2'/>"
                     "</source><target><path>%s</path></target></pool>", n,
                     d, t);
}

/* FNV-1a 64 of @s: short, stable names for pools keyed by long
 * strings. */
static uint64_t
lvs_fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* The name of our iscsi pool for target @iqn at @host:@port, the same
 * for every caller ("ovmm-iscsi-<16 hex>"). Caller frees. */
static char *
lvs_iscsi_pool_name(const char *host, unsigned port, const char *iqn)
{
    char *AUTOFREE key = xasprintf("%s:%u/%s", host, port ? port : 3260,
                                   iqn);

    return xasprintf("ovmm-iscsi-%016llx",
                     (unsigned long long)lvs_fnv(key));
}

/* XML of a transient iscsi pool @name for target @iqn at @host:@port.
 * Caller frees. */
static char *
lvs_iscsi_pool_xml(const char *name, const char *host, unsigned port,
                   const char *iqn)
{
    char *AUTOFREE n = lvs_xml_esc(name), *AUTOFREE h = lvs_xml_esc(host);
    char *AUTOFREE i = lvs_xml_esc(iqn);

    return xasprintf("<pool type='iscsi'><name>%s</name><source>"
                     "<host name='%s' port='%u'/><device path='%s'/>"
                     "</source><target><path>/dev/disk/by-path</path>"
                     "</target></pool>", n, h, port ? port : 3260, i);
}

/*
 * Look pool @name up: 1 with *out (caller frees with virStoragePoolFree),
 * 0 when there is no such pool, -1 on error.
 */
static int
lvs_pool_lookup(struct hv_conn *c, const char *name, virStoragePoolPtr *out)
{
    err_clear();
    *out = virStoragePoolLookupByName(c->conn, name);
    if (*out)
        return 1;
    if (err_code() == ERR_NOT_FOUND && lv_alive(c)) {
        err_clear();
        return 0;
    }
    lvs_fail(c, "look up storage pool '%s' on", name);
    return -1;
}

/* Look volume @name up in @pool: 1 with *out (caller frees), 0 when
 * absent, -1 on error. */
static int
lvs_vol_lookup(struct hv_conn *c, virStoragePoolPtr pool, const char *name,
               virStorageVolPtr *out)
{
    err_clear();
    *out = virStorageVolLookupByName(pool, name);
    if (*out)
        return 1;
    if (err_code() == ERR_NOT_FOUND && lv_alive(c)) {
        err_clear();
        return 0;
    }
    lvs_fail(c, "look up volume '%s' on", name);
    return -1;
}

/*
 * The active, refreshed pool of directory @dir of repository @id: the
 * root pool must be active (else ERR_NOT_FOUND: not mounted here); a
 * subdirectory's pool is started when it is not yet. Caller frees *out.
 */
static int
lvs_repo_pool(struct hv_conn *c, const char *id, enum hv_repo_dir dir,
              virStoragePoolPtr *out)
{
    AUTOPTR(virStoragePool) virStoragePool *root = NULL;
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    char *AUTOFREE rname = lvs_pool_name(id, HV_DIR_ROOT);
    char *AUTOFREE name = lvs_pool_name(id, dir);
    int rc;

    *out = NULL;
    if ((rc = lvs_pool_lookup(c, rname, &root)) < 0)
        return -1;
    if (rc == 0 || virStoragePoolIsActive(root) != 1) {
        if (!lv_alive(c)) {
            lvs_fail(c, "find repository '%s' on", id);
            return -1;
        }
        err_set(ERR_NOT_FOUND, "repository '%s' is not mounted on '%s'", id,
                c->uri);
        return -1;
    }
    if (dir == HV_DIR_ROOT) {
        pool = steal_ptr(&root);
    } else {
        if ((rc = lvs_pool_lookup(c, name, &pool)) < 0)
            return -1;
        if (rc == 0) {
            err_set(ERR_NOT_FOUND, "repository '%s' has no '%s' on '%s'", id,
                    hv_repo_dir_name(dir), c->uri);
            return -1;
        }
        err_clear();
        if (virStoragePoolIsActive(pool) != 1 &&
            virStoragePoolCreate(pool, 0) < 0) {
            lvs_fail(c, "open '%s' of repository '%s' on",
                     hv_repo_dir_name(dir), id);
            if (err_code() != LV_ERR_DOWN)
                lvs_recode(ERR_NOT_FOUND);
            return -1;
        }
    }
    err_clear();
    if (virStoragePoolRefresh(pool, 0) < 0) {
        lvs_fail(c, "refresh repository '%s' on", id);
        return -1;
    }
    *out = steal_ptr(&pool);
    return 0;
}

/* The volume @name in @pool of repository @id: ERR_NOT_FOUND when it is
 * absent. Caller frees *out. */
static int
lvs_repo_vol(struct hv_conn *c, virStoragePoolPtr pool, const char *id,
             const char *name, virStorageVolPtr *out)
{
    int rc = lvs_vol_lookup(c, pool, name, out);

    if (rc == 0)
        err_set(ERR_NOT_FOUND, "file '%s' not found in repository '%s' on "
                "'%s'", name, id, c->uri);
    return rc == 1 ? 0 : -1;
}

/* The directory part of @path ("" for a bare name), into @out. */
static void
lvs_dirname(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;

    if (n >= size)
        n = size - 1;
    memcpy(out, path, n);
    out[n] = '\0';
}

/* A decimal number from XPath @expr, 0 when absent. */
static uint64_t
lvs_xp_u64(xmlXPathContext *x, const char *expr)
{
    char tmp[32];

    lv_xp_str(x, expr, tmp, sizeof(tmp));
    return tmp[0] ? strtoull(tmp, NULL, 10) : 0;
}

/*
 * Facts of volume @vol (hv.h struct hv_file) from its XML; *is_dir when
 * it is a directory rather than a file. 0 or -1.
 */
static int
lvs_vol_facts(struct hv_conn *c, virStorageVolPtr vol, struct hv_file *f,
              bool *is_dir)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = NULL;
    AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;
    char *AUTOFREE xml = NULL;
    char type[16], fmt[32], path[1024], bpath[1024];
    char dir[1024], bdir[1024];
    const char *name = virStorageVolGetName(vol);

    memset(f, 0, sizeof(*f));
    err_clear();
    if (!(xml = virStorageVolGetXMLDesc(vol, 0))) {
        lvs_fail(c, "describe volume '%s' on", name ? name : "?");
        return -1;
    }
    if (!(doc = lv_xml_parse(xml)) || !(x = lv_xpath_new(doc))) {
        err_set(ERR_INTERNAL, "cannot parse the XML of volume '%s' on '%s'",
                name ? name : "?", c->uri);
        return -1;
    }
    lv_xp_str(x, "string(/volume/name)", f->name, sizeof(f->name));
    lv_xp_str(x, "string(/volume/@type)", type, sizeof(type));
    lv_xp_str(x, "string(/volume/target/format/@type)", fmt, sizeof(fmt));
    lv_xp_str(x, "string(/volume/target/path)", path, sizeof(path));
    lv_xp_str(x, "string(/volume/backingStore/path)", bpath, sizeof(bpath));
    f->capacity_bytes = lvs_xp_u64(x, "string(/volume/capacity)");
    f->allocation_bytes = lvs_xp_u64(x, "string(/volume/allocation)");
    *is_dir = strcmp(type, "dir") == 0;
    /* The same names as simulated storage: libvirt probes ISO images
     * by content, we also go by the name. */
    if (strcmp(fmt, "qcow2") == 0 || strcmp(fmt, "iso") == 0)
        str_copy(f->format, fmt, sizeof(f->format));
    else if (str_has_prefix(fmt, "raw") || !fmt[0])
        str_copy(f->format, strlen(f->name) > 4 &&
                 strcmp(f->name + strlen(f->name) - 4, ".iso") == 0 ? "iso"
                                                                   : "raw",
                 sizeof(f->format));
    if (bpath[0] == '/' && path[0] == '/') {
        lvs_dirname(path, dir, sizeof(dir));
        lvs_dirname(bpath, bdir, sizeof(bdir));
        if (strcmp(dir, bdir) == 0)
            str_copy(f->backing, strrchr(bpath, '/') + 1, sizeof(f->backing));
    }
    return 0;
}

/* Send all @len bytes of @buf on stream @st. 0 or -1 (error set). */
static int
lvs_send_all(struct hv_conn *c, virStreamPtr st, const char *buf, size_t len,
             const char *name)
{
    int n;

    while (len > 0) {
        err_clear();
        n = virStreamSend(st, buf, len > LVS_CHUNK ? LVS_CHUNK : len);
        if (n < 0) {
            lvs_fail(c, "write '%s' on", name);
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Read volume @vol whole, at most @max bytes (more: ERR_INVALID), into
 * *data (NUL-terminated, caller frees) and *len. 0 or -1.
 */
static int
lvs_vol_read(struct hv_conn *c, virStorageVolPtr vol, const char *name,
             size_t max, char **data, size_t *len)
{
    AUTOPTR(virStream) virStream *st = NULL;
    char *AUTOFREE buf = NULL;
    size_t n = 0, cap = 4096;
    struct err saved;
    int r;

    *data = NULL;
    *len = 0;
    err_clear();
    if (!(st = virStreamNew(c->conn, 0)) ||
        virStorageVolDownload(vol, st, 0, 0, 0) < 0) {
        lvs_fail(c, "read '%s' on", name);
        return -1;
    }
    buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap > max)
                break;
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        err_clear();
        r = virStreamRecv(st, buf + n, cap - n);
        if (r < 0) {
            lvs_fail(c, "read '%s' on", name);
            lv_err_save(&saved);
            virStreamAbort(st);
            lv_err_restore(&saved);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max) {
        virStreamAbort(st);
        err_set(ERR_INVALID, "cannot read '%s': larger than %zu bytes", name,
                max);
        return -1;
    }
    err_clear();
    if (virStreamFinish(st) < 0) {
        lvs_fail(c, "read '%s' on", name);
        return -1;
    }
    buf[n] = '\0';
    *data = steal_ptr(&buf);
    *len = n;
    return 0;
}

/* Delete volume @vol, keeping the calling thread's error (cleanup after
 * a failure). */
static void
lvs_vol_discard(virStorageVolPtr vol)
{
    struct err saved;

    lv_err_save(&saved);
    if (virStorageVolDelete(vol, 0) < 0)
        log_warnx("cannot remove volume '%s': %s", virStorageVolGetName(vol),
                  err_message());
    lv_err_restore(&saved);
}

/*
 * Create volume @name in @pool from XML made of the arguments: a raw
 * volume of @capacity with @allocation, or qcow2 with an optional
 * backing file at @bpath of format @bfmt. Caller frees *out. 0 or -1.
 */
static int
lvs_vol_create(struct hv_conn *c, virStoragePoolPtr pool, const char *name,
               const char *format, uint64_t capacity, uint64_t allocation,
               const char *bpath, const char *bfmt, virStorageVolPtr *out)
{
    char *AUTOFREE n = lvs_xml_esc(name), *AUTOFREE xml = NULL;
    char *AUTOFREE bp = bpath ? lvs_xml_esc(bpath) : NULL;
    char *AUTOFREE backing = NULL;

    if (bp)
        backing = xasprintf("<backingStore><path>%s</path>"
                            "<format type='%s'/></backingStore>", bp, bfmt);
    xml = xasprintf("<volume type='file'><name>%s</name>"
                    "<capacity unit='bytes'>%llu</capacity>"
                    "<allocation unit='bytes'>%llu</allocation>"
                    "<target><format type='%s'/></target>%s</volume>",
                    n, (unsigned long long)capacity,
                    (unsigned long long)allocation, format,
                    backing ? backing : "");
    err_clear();
    if (!(*out = virStorageVolCreateXML(pool, xml, 0))) {
        lvs_fail(c, "create '%s' on", name);
        return -1;
    }
    return 0;
}

/* ERR_EXISTS when @name is a volume of @pool; 0 when it is free. */
static int
lvs_vol_absent(struct hv_conn *c, virStoragePoolPtr pool, const char *id,
               const char *name)
{
    AUTOPTR(virStorageVol) virStorageVol *vol = NULL;
    int rc = lvs_vol_lookup(c, pool, name, &vol);

    if (rc == 1)
        err_set(ERR_EXISTS, "file '%s' exists in repository '%s' on '%s'",
                name, id, c->uri);
    return rc == 0 ? 0 : -1;
}

/* Normalized path: no trailing '/' (but "/" stays), for comparisons. */
static void
lvs_norm_path(const char *in, char *out, size_t size)
{
    size_t n;

    str_copy(out, in, size);
    n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
}

/*
 * True when pool @pool serves a source: it is a netfs pool of
 * @host:@dir (@host non-NULL), or (@host NULL) its target is @dir or it
 * is an fs pool on the device @dir (an OCFS2 LUN; no target is ever a
 * device name, so the two cannot be confused).
 */
static bool
lvs_pool_is(virStoragePoolPtr pool, const char *host, const char *dir)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = NULL;
    AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;
    char *AUTOFREE xml = virStoragePoolGetXMLDesc(pool, 0);
    char type[16] = "", h[256] = "", d[1024] = "", t[1024] = "";
    char dev[1024] = "", want[1024], have[1024];

    if (!xml || !(doc = lv_xml_parse(xml)) || !(x = lv_xpath_new(doc)))
        return false;
    lv_xp_str(x, "string(/pool/@type)", type, sizeof(type));
    lv_xp_str(x, "string(/pool/source/host/@name)", h, sizeof(h));
    lv_xp_str(x, "string(/pool/source/dir/@path)", d, sizeof(d));
    lv_xp_str(x, "string(/pool/target/path)", t, sizeof(t));
    lv_xp_str(x, "string(/pool/source/device/@path)", dev, sizeof(dev));
    lvs_norm_path(dir, want, sizeof(want));
    lvs_norm_path(host ? d : t, have, sizeof(have));
    if (host && (strcmp(type, "netfs") != 0 || strcmp(h, host) != 0))
        return false;
    if (!host && strcmp(type, "fs") == 0 && strcmp(dev, dir) == 0)
        return true;
    return strcmp(have, want) == 0;
}

/*
 * An active pool already serving a source (lvs_pool_is()). 1 with *out
 * (caller frees), 0 when there is none, -1 on error.
 */
static int
lvs_find_active_pool(struct hv_conn *c, const char *host, const char *dir,
                     virStoragePoolPtr *out)
{
    virStoragePoolPtr *pools = NULL;
    int i, n, found = 0;

    *out = NULL;
    err_clear();
    n = virConnectListAllStoragePools(c->conn, &pools,
                                      VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
    if (n < 0) {
        lvs_fail(c, "list the storage pools of");
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (!found && lvs_pool_is(pools[i], host, dir)) {
            *out = pools[i];
            found = 1;
        } else {
            virStoragePoolFree(pools[i]);
        }
    }
    xfree(pools);
    err_clear();
    return found;
}

/*
 * A transient pool @name from @xml (@build: make its target first), or
 * an active pool already on the same source (then *owned is false and
 * the caller must not destroy it). A stale transient pool of that name,
 * left by an earlier failure, is destroyed first. Caller frees *out.
 */
static int
lvs_probe_pool(struct hv_conn *c, const char *name, const char *xml,
               const char *host, const char *dir, bool build,
               virStoragePoolPtr *out, bool *owned)
{
    AUTOPTR(virStoragePool) virStoragePool *stale = NULL;
    int rc;

    *owned = false;
    if ((rc = lvs_find_active_pool(c, host, dir, out)) != 0)
        return rc < 0 ? -1 : 0;
    if ((rc = lvs_pool_lookup(c, name, &stale)) < 0)
        return -1;
    if (rc == 1 && virStoragePoolIsActive(stale) == 1)
        virStoragePoolDestroy(stale);
    err_clear();
    *out = virStoragePoolCreateXML(c->conn, xml,
                                   build ? VIR_STORAGE_POOL_CREATE_WITH_BUILD
                                         : 0);
    if (!*out) {
        lvs_fail(c, "look at '%s' from", dir);
        if (err_code() != LV_ERR_DOWN)
            lvs_recode(ERR_NOT_FOUND);
        return -1;
    }
    *owned = true;
    return 0;
}

/* Destroy the transient pool @pool when we own it, keeping the calling
 * thread's error; frees it. */
static void
lvs_probe_end(virStoragePoolPtr pool, bool owned)
{
    struct err saved;

    if (!pool)
        return;
    lv_err_save(&saved);
    if (owned && virStoragePoolDestroy(pool) < 0)
        log_warnx("cannot remove probe pool '%s': %s",
                  virStoragePoolGetName(pool), err_message());
    virStoragePoolFree(pool);
    lv_err_restore(&saved);
}

/* Make directory @share of NFS export @fs (a new repository's root)
 * through transient pools: mount the export, build a dir pool there. */
static int
lvs_nfs_mkdir(struct hv_conn *c, const struct hv_fs *fs, const char *share)
{
    char *AUTOFREE xml = lvs_netfs_pool_xml(LVS_PROBE_POOL, fs->host,
                                            fs->path, LVS_PROBE_DIR);
    char *AUTOFREE sdir = hv_store_path_join(LVS_PROBE_DIR, share);
    char *AUTOFREE sxml = NULL;
    virStoragePoolPtr base = NULL, sp = NULL;
    bool own_base = false, own_sp = false;
    char target[1024] = LVS_PROBE_DIR;
    int rc = -1;

    if (lvs_probe_pool(c, LVS_PROBE_POOL, xml, fs->host, fs->path, true,
                       &base, &own_base) < 0)
        return -1;
    if (!own_base) {
        /* The export is mounted already: build below its mount point. */
        char *bx = virStoragePoolGetXMLDesc(base, 0);
        AUTOPTR(xmlDoc) xmlDoc *doc = bx ? lv_xml_parse(bx) : NULL;
        AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;

        if (doc && (x = lv_xpath_new(doc)))
            lv_xp_str(x, "string(/pool/target/path)", target, sizeof(target));
        xfree(bx);
        xfree(sdir);
        sdir = hv_store_path_join(target, share);
    }
    sxml = lvs_dir_pool_xml(LVS_PROBE_SHARE_POOL, sdir);
    if (lvs_probe_pool(c, LVS_PROBE_SHARE_POOL, sxml, NULL, sdir, true, &sp,
                       &own_sp) < 0)
        goto cleanup;
    rc = 0;

 cleanup:
    lvs_probe_end(sp, own_sp);
    lvs_probe_end(base, own_base);
    return rc;
}

/* Space of the active pool @pool. */
static int
lvs_pool_space(struct hv_conn *c, virStoragePoolPtr pool,
               struct hv_space *out)
{
    virStoragePoolInfo info;

    err_clear();
    if (virStoragePoolGetInfo(pool, &info) < 0) {
        lvs_fail(c, "get the space of pool '%s' on",
                 virStoragePoolGetName(pool));
        return -1;
    }
    out->capacity_bytes = info.capacity;
    out->available_bytes = info.available;
    return 0;
}

/*
 * Define (when missing) and start (when inactive) pool @name from @xml;
 * @build builds it before starting; @autostart marks it so. A pool this
 * call defined is undefined again when it cannot start. Caller frees
 * *out. 0 or -1.
 */
static int
lvs_pool_ensure(struct hv_conn *c, const char *name, const char *xml,
                bool build, bool autostart, virStoragePoolPtr *out)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    bool defined = false;
    struct err saved;
    int rc;

    *out = NULL;
    if ((rc = lvs_pool_lookup(c, name, &pool)) < 0)
        return -1;
    err_clear();
    if (rc == 0) {
        if (!(pool = virStoragePoolDefineXML(c->conn, xml, 0))) {
            lvs_fail(c, "define storage pool '%s' on", name);
            return -1;
        }
        defined = true;
    }
    if (virStoragePoolIsActive(pool) != 1) {
        if (build && virStoragePoolBuild(pool, 0) < 0) {
            lvs_fail(c, "build storage pool '%s' on", name);
            goto fail;
        }
        if (virStoragePoolCreate(pool, 0) < 0) {
            lvs_fail(c, "start storage pool '%s' on", name);
            goto fail;
        }
    }
    if (autostart && virStoragePoolSetAutostart(pool, 1) < 0)
        log_warnx("cannot autostart storage pool '%s' on '%s': %s", name,
                  c->uri, err_message());
    err_clear();
    *out = steal_ptr(&pool);
    return 0;

 fail:
    if (defined) {
        lv_err_save(&saved);
        virStoragePoolUndefine(pool);
        lv_err_restore(&saved);
    }
    return -1;
}

/* Stop and forget pool @name (absent: nothing to do); @remove also
 * deletes its (empty) directory first. 0 or -1. */
static int
lvs_pool_drop(struct hv_conn *c, const char *name, bool remove)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    int rc;

    if ((rc = lvs_pool_lookup(c, name, &pool)) <= 0)
        return rc;
    err_clear();
    if (virStoragePoolIsActive(pool) == 1 && virStoragePoolDestroy(pool) < 0) {
        lvs_fail(c, "stop storage pool '%s' on", name);
        return -1;
    }
    /* A directory that cannot go (missing, or holding hidden files)
     * does not stop the rest. */
    if (remove && virStoragePoolDelete(pool, 0) < 0)
        log_warnx("cannot remove the directory of storage pool '%s' on "
                  "'%s': %s", name, c->uri, err_message());
    err_clear();
    if (virStoragePoolUndefine(pool) < 0) {
        lvs_fail(c, "undefine storage pool '%s' on", name);
        return -1;
    }
    return 0;
}

/*
 * Log this host in to the iSCSI target of LUN @l: start our iscsi pool
 * for it (lvs_iscsi_pool_name()) unless it runs already. The pool is
 * left running, since the LUN's device lives only as long as the login.
 * 0, or -1 (ERR_NOT_FOUND when the target cannot be logged in to).
 * Untested (see DESIGN).
 */
static int
lvs_iscsi_login(struct hv_conn *c, const struct hv_store_lun *l)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    char *AUTOFREE name = lvs_iscsi_pool_name(l->host, l->port, l->iqn);
    char *AUTOFREE xml = NULL;
    int rc;

    if ((rc = lvs_pool_lookup(c, name, &pool)) < 0)
        return -1;
    err_clear();
    if (rc == 1 && virStoragePoolIsActive(pool) == 1)
        return 0;
    if (rc == 1) {
        rc = virStoragePoolCreate(pool, 0);
    } else {
        xml = lvs_iscsi_pool_xml(name, l->host, l->port, l->iqn);
        pool = virStoragePoolCreateXML(c->conn, xml, 0);
        rc = pool ? 0 : -1;
    }
    if (rc < 0) {
        lvs_fail(c, "log in to iSCSI target '%s' at '%s' from", l->iqn,
                 l->host);
        if (err_code() != LV_ERR_DOWN)
            lvs_recode(ERR_NOT_FOUND);
        return -1;
    }
    return 0;
}

/* hv_storage_ops.nfs_exports (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_nfs_exports(struct hv_conn *c, const char *host, char ***out, size_t *n)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = NULL;
    AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;
    AUTOPTR(xmlXPathObject) xmlXPathObject *o = NULL;
    char *AUTOFREE h = NULL, *AUTOFREE spec = NULL, *AUTOFREE xml = NULL;
    char **v = NULL;
    size_t count = 0;
    int i;

    *out = NULL;
    *n = 0;
    if (hv_store_check_host(host) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_nfs_exports(c->sim_path, host, out, n);
    h = lvs_xml_esc(host);
    spec = xasprintf("<source><host name='%s'/></source>", h);
    err_clear();
    if (!(xml = virConnectFindStoragePoolSources(c->conn, "netfs", spec, 0))) {
        lvs_fail(c, "list the NFS exports of '%s' from", host);
        if (err_code() == ERR_INTERNAL || err_code() == ERR_IO)
            lvs_recode(ERR_UNREACHABLE);
        return -1;
    }
    if (!(doc = lv_xml_parse(xml)) || !(x = lv_xpath_new(doc)) ||
        !(o = xmlXPathEvalExpression(
              (const xmlChar *)"/sources/source/dir/@path", x))) {
        err_set(ERR_INTERNAL, "cannot parse the NFS exports of '%s' from "
                "'%s'", host, c->uri);
        return -1;
    }
    for (i = 0; o->nodesetval && i < o->nodesetval->nodeNr; i++) {
        xmlChar *s = xmlNodeGetContent(o->nodesetval->nodeTab[i]);

        if (s && s[0]) {
            v = xrealloc(v, (count + 1) * sizeof(*v));
            v[count++] = xstrdup((const char *)s);
        }
        xmlFree(s);
    }
    *out = v;
    *n = count;
    return 0;
}

/* hv_storage_ops.iscsi_targets (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_iscsi_targets(struct hv_conn *c, const char *host, unsigned port,
                  char ***out, size_t *n)
{
    AUTOPTR(xmlDoc) xmlDoc *doc = NULL;
    AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;
    AUTOPTR(xmlXPathObject) xmlXPathObject *o = NULL;
    char *AUTOFREE h = NULL, *AUTOFREE spec = NULL, *AUTOFREE xml = NULL;
    char **v = NULL;
    size_t count = 0;
    int i;

    *out = NULL;
    *n = 0;
    if (hv_store_check_host(host) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_iscsi_targets(c->sim_path, host, out, n);
    h = lvs_xml_esc(host);
    spec = xasprintf("<source><host name='%s' port='%u'/></source>", h,
                     port ? port : 3260);
    err_clear();
    if (!(xml = virConnectFindStoragePoolSources(c->conn, "iscsi", spec,
                                                 0))) {
        lvs_fail(c, "list the iSCSI targets of '%s' from", host);
        if (err_code() == ERR_INTERNAL || err_code() == ERR_IO)
            lvs_recode(ERR_UNREACHABLE);
        return -1;
    }
    if (!(doc = lv_xml_parse(xml)) || !(x = lv_xpath_new(doc)) ||
        !(o = xmlXPathEvalExpression(
              (const xmlChar *)"/sources/source/device/@path", x))) {
        err_set(ERR_INTERNAL, "cannot parse the iSCSI targets of '%s' from "
                "'%s'", host, c->uri);
        return -1;
    }
    for (i = 0; o->nodesetval && i < o->nodesetval->nodeNr; i++) {
        xmlChar *s = xmlNodeGetContent(o->nodesetval->nodeTab[i]);

        if (s && s[0] && hv_store_check_iqn((const char *)s) == 0) {
            v = xrealloc(v, (count + 1) * sizeof(*v));
            v[count++] = xstrdup((const char *)s);
        }
        err_clear();
        xmlFree(s);
    }
    *out = v;
    *n = count;
    return 0;
}

/* hv_storage_ops.iscsi_luns (hv.h): a transient iscsi pool for the
 * target, its volumes, the pool destroyed -- unless our login pool
 * (lvs_iscsi_login()) runs already: then it is refreshed and kept, as a
 * repository on a LUN of the target needs it (and libvirt refuses a
 * second pool on one target). test:/// hosts: hv/simstore.c. */
static int
lvs_iscsi_luns(struct hv_conn *c, const char *host, unsigned port,
               const char *iqn, struct hv_lun **out, size_t *n)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    char *AUTOFREE xml = NULL, *AUTOFREE name = NULL;
    virStorageVolPtr *vols = NULL;
    struct hv_lun *v = NULL;
    struct err saved;
    bool owned = false;
    int i, nv, rc = -1, r;

    *out = NULL;
    *n = 0;
    if (hv_store_check_host(host) < 0 || hv_store_check_iqn(iqn) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_iscsi_luns(c->sim_path, host, iqn, out, n);
    name = lvs_iscsi_pool_name(host, port, iqn);
    if ((r = lvs_pool_lookup(c, name, &pool)) < 0)
        return -1;
    err_clear();
    if (r == 1 && virStoragePoolIsActive(pool) == 1) {
        if (virStoragePoolRefresh(pool, 0) < 0) {
            lvs_fail(c, "refresh iSCSI target '%s' on", iqn);
            return -1;
        }
    } else {
        if (pool)
            virStoragePoolFree(steal_ptr(&pool));
        xml = lvs_iscsi_pool_xml(name, host, port, iqn);
        err_clear();
        if (!(pool = virStoragePoolCreateXML(c->conn, xml, 0))) {
            lvs_fail(c, "log in to iSCSI target '%s' at '%s' from", iqn,
                     host);
            if (err_code() != LV_ERR_DOWN)
                lvs_recode(ERR_NOT_FOUND);
            return -1;
        }
        owned = true;
    }
    if ((nv = virStoragePoolListAllVolumes(pool, &vols, 0)) < 0) {
        lvs_fail(c, "list the LUNs of iSCSI target '%s' on", iqn);
        goto out;
    }
    v = nv > 0 ? xcalloc((size_t)nv, sizeof(*v)) : NULL;
    for (i = 0; i < nv; i++) {
        virStorageVolInfo info;
        const char *vn = virStorageVolGetName(vols[i]);
        const char *key = virStorageVolGetKey(vols[i]);
        unsigned a = 0, b = 0, lun = 0;

        memset(&info, 0, sizeof(info));
        virStorageVolGetInfo(vols[i], &info);
        /* Volume names are "unit:0:0:N": N is the LUN number. */
        if (vn && sscanf(vn, "unit:%u:%u:%u", &a, &b, &lun) != 3)
            lun = (unsigned)i;
        str_copy(v[*n].page83, key ? key : (vn ? vn : ""),
                 sizeof(v[*n].page83));
        str_copy(v[*n].vendor, "", sizeof(v[*n].vendor));
        v[*n].size_bytes = info.capacity;
        v[*n].lun = lun;
        (*n)++;
    }
    *out = v;
    v = NULL;
    rc = 0;
 out:
    for (i = 0; vols && i < nv; i++)
        virStorageVolFree(vols[i]);
    xfree(vols);
    xfree(v);
    if (owned) {
        lv_err_save(&saved);
        virStoragePoolDestroy(pool);
        lv_err_restore(&saved);
    }
    return rc;
}

/* hv_storage_ops.fs_probe (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_fs_probe(struct hv_conn *c, const struct hv_fs *fs, const char *share,
             struct hv_space *space, char **ovsrepo)
{
    bool nfs = fs && fs->kind && strcmp(fs->kind, "nfs") == 0;
    bool ocfs2 = fs && fs->kind && strcmp(fs->kind, "ocfs2") == 0;
    char *AUTOFREE xml = NULL, *AUTOFREE sxml = NULL, *AUTOFREE sdir = NULL;
    char *AUTOFREE data = NULL;
    struct hv_store_lun lun;
    virStoragePoolPtr base = NULL, sp = NULL;
    AUTOPTR(virStorageVol) virStorageVol *vol = NULL;
    bool own_base = false, own_sp = false;
    char target[1024];
    size_t len;
    int rc = -1, r;

    *ovsrepo = NULL;
    memset(space, 0, sizeof(*space));
    if (hv_store_check_fs(fs, share) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_fs_probe(c->sim_path, fs, share, space, ovsrepo);
    share = share ? share : "";
    if (nfs) {
        xml = lvs_netfs_pool_xml(LVS_PROBE_POOL, fs->host, fs->path,
                                 LVS_PROBE_DIR);
    } else if (ocfs2) {
        /* Logged in first, for the LUN's device to exist; then mounted
         * like an export (building an fs pool without flags only makes
         * its mount point: libvirt runs mkfs only when asked to). */
        if (hv_store_parse_lun(fs->path, &lun) < 0 ||
            lvs_iscsi_login(c, &lun) < 0)
            return -1;
        xml = lvs_ocfs2_pool_xml(LVS_PROBE_POOL, fs->path, LVS_PROBE_DIR);
    } else {
        xml = lvs_dir_pool_xml(LVS_PROBE_POOL, fs->path);
    }
    if (lvs_probe_pool(c, LVS_PROBE_POOL, xml, nfs ? fs->host : NULL,
                       fs->path, nfs || ocfs2, &base, &own_base) < 0)
        return -1;
    if (lvs_pool_space(c, base, space) < 0)
        goto cleanup;
    /* .ovsrepo is at the root of the share: the probe pool itself, or a
     * second one on the share's directory (none there: no repository). */
    if (share[0]) {
        char *bx = virStoragePoolGetXMLDesc(base, 0);
        AUTOPTR(xmlDoc) xmlDoc *doc = bx ? lv_xml_parse(bx) : NULL;
        AUTOPTR(xmlXPathContext) xmlXPathContext *x = NULL;

        str_copy(target, nfs ? LVS_PROBE_DIR : fs->path, sizeof(target));
        if (doc && (x = lv_xpath_new(doc)))
            lv_xp_str(x, "string(/pool/target/path)", target, sizeof(target));
        xfree(bx);
        sdir = hv_store_path_join(target, share);
        sxml = lvs_dir_pool_xml(LVS_PROBE_SHARE_POOL, sdir);
        if (lvs_probe_pool(c, LVS_PROBE_SHARE_POOL, sxml, NULL, sdir, false,
                           &sp, &own_sp) < 0) {
            if (err_code() == LV_ERR_DOWN)
                goto cleanup;
            err_clear();
            rc = 0;
            goto cleanup;
        }
    }
    err_clear();
    if (virStoragePoolRefresh(sp ? sp : base, 0) < 0) {
        lvs_fail(c, "refresh the probe pool on");
        goto cleanup;
    }
    if ((r = lvs_vol_lookup(c, sp ? sp : base, ".ovsrepo", &vol)) < 0)
        goto cleanup;
    if (r == 1) {
        if (lvs_vol_read(c, vol, ".ovsrepo", LVS_OVSREPO_MAX, &data,
                         &len) < 0)
            goto cleanup;
        *ovsrepo = steal_ptr(&data);
    }
    rc = 0;

 cleanup:
    lvs_probe_end(sp, own_sp);
    lvs_probe_end(base, own_base);
    return rc;
}

/* hv_storage_ops.repo_mount (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_repo_mount(struct hv_conn *c, const char *repo_id, const struct hv_fs *fs,
               const char *share, bool build)
{
    bool nfs = fs && fs->kind && strcmp(fs->kind, "nfs") == 0;
    bool ocfs2 = fs && fs->kind && strcmp(fs->kind, "ocfs2") == 0;
    char *AUTOFREE name = NULL, *AUTOFREE xml = NULL;
    char *AUTOFREE src = NULL, *AUTOFREE root = NULL;
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    struct hv_store_lun lun;
    int i, rc;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_fs(fs, share) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_repo_mount(c->sim_path, repo_id, fs, share,
                                      build);
    share = share ? share : "";
    name = lvs_pool_name(repo_id, HV_DIR_ROOT);
    if (nfs) {
        if (build && share[0] && lvs_nfs_mkdir(c, fs, share) < 0)
            return -1;
        src = hv_store_path_join("", fs->path);
        if (share[0]) {
            char *tmp = hv_store_path_join(src, share);

            xfree(src);
            src = tmp;
        }
        if (!src[0]) {
            xfree(src);
            src = xstrdup("/");
        }
        root = xasprintf("%s/%s", LVS_MOUNT_DIR, repo_id);
        xml = lvs_netfs_pool_xml(name, fs->host, src, root);
    } else if (ocfs2) {
        /* As NFS, with the LUN's device for the export (share is ""):
         * log in, then an fs pool mounts it. Untested (see DESIGN). */
        if (hv_store_parse_lun(fs->path, &lun) < 0 ||
            lvs_iscsi_login(c, &lun) < 0)
            return -1;
        src = xstrdup(fs->path);
        root = xasprintf("%s/%s", LVS_MOUNT_DIR, repo_id);
        xml = lvs_ocfs2_pool_xml(name, fs->path, root);
    } else {
        src = hv_store_path_join("", fs->path);
        root = hv_store_path_join(src[0] ? src : "/", share);
        xml = lvs_dir_pool_xml(name, root);
    }
    /* Mounted already: from this file system, or refused. */
    if ((rc = lvs_pool_lookup(c, name, &pool)) < 0)
        return -1;
    if (rc == 1 && !lvs_pool_is(pool, nfs ? fs->host : NULL,
                                nfs || ocfs2 ? src : root)) {
        err_set(ERR_STATE, "cannot mount repository '%s' on '%s': it is "
                "mounted from another file system", repo_id, c->uri);
        return -1;
    }
    if (pool)
        virStoragePoolFree(steal_ptr(&pool));
    /* A netfs or fs pool is always built: that only makes its mount
     * point (an fs pool's build runs mkfs only when flags ask for it). */
    if (lvs_pool_ensure(c, name, xml, build || nfs || ocfs2, true,
                        &pool) < 0) {
        if (!build && !nfs && !ocfs2 && err_code() != LV_ERR_DOWN)
            lvs_recode(ERR_NOT_FOUND);
        return -1;
    }
    for (i = 1; i < HV_DIR_COUNT; i++) {
        AUTOPTR(virStoragePool) virStoragePool *sub = NULL;
        char *AUTOFREE sname = lvs_pool_name(repo_id, (enum hv_repo_dir)i);
        char *AUTOFREE spath = xasprintf("%s/%s", root,
                                         hv_repo_dir_name((enum hv_repo_dir)i));
        char *AUTOFREE sxml = lvs_dir_pool_xml(sname, spath);

        if (lvs_pool_ensure(c, sname, sxml, build, false, &sub) < 0) {
            if (build || err_code() == LV_ERR_DOWN)
                return -1;
            /* An existing repository without this directory: the pool
             * stays defined, and using it says what is missing. */
            log_warnx("%s", err_message());
            err_clear();
        }
    }
    log_debug("repository '%s' mounted on '%s'", repo_id, c->uri);
    return 0;
}

/* hv_storage_ops.repo_unmount (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_repo_unmount(struct hv_conn *c, const char *repo_id)
{
    int i;

    if (hv_store_check_id(repo_id) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_repo_unmount(c->sim_path, repo_id);
    /* The subdirectories first: the root may be the mount under them. */
    for (i = HV_DIR_COUNT - 1; i >= 0; i--) {
        char *AUTOFREE name = lvs_pool_name(repo_id, (enum hv_repo_dir)i);

        if (lvs_pool_drop(c, name, false) < 0)
            return -1;
    }
    return 0;
}

/* hv_storage_ops.repo_mounted (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_repo_mounted(struct hv_conn *c, const char *repo_id)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    char *AUTOFREE name = NULL;
    int rc;

    if (hv_store_check_id(repo_id) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_repo_mounted(c->sim_path, repo_id);
    name = lvs_pool_name(repo_id, HV_DIR_ROOT);
    if ((rc = lvs_pool_lookup(c, name, &pool)) <= 0)
        return rc;
    err_clear();
    rc = virStoragePoolIsActive(pool);
    if (rc < 0)
        lvs_fail(c, "check storage pool '%s' on", name);
    return rc;
}

/* hv_storage_ops.repo_space (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_repo_space(struct hv_conn *c, const char *repo_id, struct hv_space *out)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;

    memset(out, 0, sizeof(*out));
    if (hv_store_check_id(repo_id) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_repo_space(c->sim_path, repo_id, out);
    if (lvs_repo_pool(c, repo_id, HV_DIR_ROOT, &pool) < 0)
        return -1;
    return lvs_pool_space(c, pool, out);
}

/*
 * The first file (not directory) volume of directory @dir of repository
 * @id into @first: 1 when there is one, 0 when empty or when the
 * directory has no pool, -1 on error.
 */
static int
lvs_dir_first(struct hv_conn *c, const char *id, enum hv_repo_dir dir,
              char *first, size_t size)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    virStorageVolPtr *vols = NULL;
    int i, n, found = 0;

    if (lvs_repo_pool(c, id, dir, &pool) < 0) {
        if (err_code() != ERR_NOT_FOUND)
            return -1;
        err_clear();
        return 0;
    }
    err_clear();
    if ((n = virStoragePoolListAllVolumes(pool, &vols, 0)) < 0) {
        lvs_fail(c, "list '%s' of repository '%s' on", hv_repo_dir_name(dir),
                 id);
        return -1;
    }
    for (i = 0; i < n; i++) {
        virStorageVolInfo info;

        if (!found && virStorageVolGetInfo(vols[i], &info) == 0 &&
            info.type != VIR_STORAGE_VOL_DIR) {
            str_copy(first, virStorageVolGetName(vols[i]), size);
            found = 1;
        }
        virStorageVolFree(vols[i]);
    }
    xfree(vols);
    err_clear();
    return found;
}

/* hv_storage_ops.repo_destroy (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_repo_destroy(struct hv_conn *c, const char *repo_id)
{
    AUTOPTR(virStoragePool) virStoragePool *root = NULL;
    AUTOPTR(virStorageVol) virStorageVol *vol = NULL;
    char first[256];
    int i, r;

    if (hv_store_check_id(repo_id) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_repo_destroy(c->sim_path, repo_id);
    if (lvs_repo_pool(c, repo_id, HV_DIR_ROOT, &root) < 0)
        return -1;
    for (i = 1; i < HV_DIR_COUNT; i++) {
        r = lvs_dir_first(c, repo_id, (enum hv_repo_dir)i, first,
                          sizeof(first));
        if (r < 0)
            return -1;
        if (r == 1) {
            err_set(ERR_STATE, "repository not empty: %s/%s",
                    hv_repo_dir_name((enum hv_repo_dir)i), first);
            return -1;
        }
    }
    /* Each subdirectory pool removes its directory; then .ovsrepo; the
     * root stays (it may be the export or the local directory itself). */
    for (i = HV_DIR_COUNT - 1; i >= 1; i--) {
        char *AUTOFREE name = lvs_pool_name(repo_id, (enum hv_repo_dir)i);

        if (lvs_pool_drop(c, name, true) < 0)
            return -1;
    }
    if ((r = lvs_vol_lookup(c, root, ".ovsrepo", &vol)) < 0)
        return -1;
    err_clear();
    if (r == 1 && virStorageVolDelete(vol, 0) < 0) {
        lvs_fail(c, "remove '.ovsrepo' of repository '%s' on", repo_id);
        return -1;
    }
    return lvs_repo_unmount(c, repo_id);
}

/* qsort() comparator for struct hv_file by name. */
static int
lvs_cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct hv_file *)a)->name,
                  ((const struct hv_file *)b)->name);
}

/* hv_storage_ops.file_list (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_file_list(struct hv_conn *c, const char *repo_id, enum hv_repo_dir dir,
              struct hv_file **out, size_t *nout)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    virStorageVolPtr *vols = NULL;
    struct hv_file *v = NULL;
    size_t count = 0;
    int i, n, rc = 0;

    *out = NULL;
    *nout = 0;
    if (hv_store_check_id(repo_id) < 0 || hv_store_check_dir(dir) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_file_list(c->sim_path, repo_id, dir, out, nout);
    if (lvs_repo_pool(c, repo_id, dir, &pool) < 0)
        return -1;
    err_clear();
    if ((n = virStoragePoolListAllVolumes(pool, &vols, 0)) < 0) {
        lvs_fail(c, "list '%s' of repository '%s' on", hv_repo_dir_name(dir),
                 repo_id);
        return -1;
    }
    v = n ? xcalloc((size_t)n, sizeof(*v)) : NULL;
    for (i = 0; i < n; i++) {
        const char *name = virStorageVolGetName(vols[i]);
        bool is_dir = false;

        if (rc == 0 && name && hv_store_name_ok(dir, name)) {
            if (lvs_vol_facts(c, vols[i], &v[count], &is_dir) < 0) {
                /* Gone between the listing and now: not an error. */
                if (err_code() == ERR_NOT_FOUND)
                    err_clear();
                else
                    rc = -1;
            } else if (!is_dir) {
                count++;
            }
        }
        virStorageVolFree(vols[i]);
    }
    xfree(vols);
    if (rc < 0) {
        xfree(v);
        return -1;
    }
    if (count > 1)
        qsort(v, count, sizeof(*v), lvs_cmp_file);
    if (count == 0) {
        xfree(v);
        v = NULL;
    }
    *out = v;
    *nout = count;
    return 0;
}

/* hv_storage_ops.file_info (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_file_info(struct hv_conn *c, const char *repo_id, enum hv_repo_dir dir,
              const char *name, struct hv_file *out)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    AUTOPTR(virStorageVol) virStorageVol *vol = NULL;
    bool is_dir = false;

    memset(out, 0, sizeof(*out));
    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_file_info(c->sim_path, repo_id, dir, name, out);
    if (lvs_repo_pool(c, repo_id, dir, &pool) < 0 ||
        lvs_repo_vol(c, pool, repo_id, name, &vol) < 0 ||
        lvs_vol_facts(c, vol, out, &is_dir) < 0)
        return -1;
    if (is_dir) {
        memset(out, 0, sizeof(*out));
        err_set(ERR_NOT_FOUND, "file '%s' not found in repository '%s' on "
                "'%s'", name, repo_id, c->uri);
        return -1;
    }
    return 0;
}

/* hv_storage_ops.file_create (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_file_create(struct hv_conn *c, const char *repo_id, enum hv_repo_dir dir,
                const char *name, uint64_t capacity, bool sparse,
                const char *format, const char *backing)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    AUTOPTR(virStorageVol) virStorageVol *bvol = NULL;
    AUTOPTR(virStorageVol) virStorageVol *vol = NULL;
    char *AUTOFREE bpath = NULL;
    bool qcow2 = format && strcmp(format, "qcow2") == 0;
    bool has_backing = backing && backing[0];
    const char *bfmt = "raw";
    struct hv_file bf;
    bool is_dir;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0 ||
        (has_backing && hv_store_check_name(dir, backing) < 0))
        return -1;
    if (c->sim_path)
        return hv_simstore_file_create(c->sim_path, repo_id, dir, name,
                                       capacity, sparse, format, backing);
    if (format && strcmp(format, "raw") != 0 && !qcow2) {
        err_set(ERR_INVALID, "cannot create '%s': unknown format", name);
        return -1;
    }
    if (has_backing && !qcow2) {
        err_set(ERR_INVALID, "cannot create '%s': only a qcow2 volume has a "
                "backing file", name);
        return -1;
    }
    if (lvs_repo_pool(c, repo_id, dir, &pool) < 0 ||
        lvs_vol_absent(c, pool, repo_id, name) < 0)
        return -1;
    if (has_backing) {
        if (lvs_repo_vol(c, pool, repo_id, backing, &bvol) < 0 ||
            lvs_vol_facts(c, bvol, &bf, &is_dir) < 0)
            return -1;
        err_clear();
        if (!(bpath = virStorageVolGetPath(bvol))) {
            lvs_fail(c, "get the path of '%s' on", backing);
            return -1;
        }
        if (strcmp(bf.format, "qcow2") == 0)
            bfmt = "qcow2";
        if (capacity == 0)
            capacity = bf.capacity_bytes;
    }
    return lvs_vol_create(c, pool, name, qcow2 ? "qcow2" : "raw", capacity,
                          qcow2 || sparse ? 0 : capacity, bpath, bfmt, &vol);
}

/*
 * The fallback of file_copy when the server refuses a server-side copy:
 * stream @src through this process into the new volume @name of @dpool,
 * holes kept as holes when @sparse, asking @aborting between chunks. On
 * failure or abort the new volume is removed.
 */
static int
lvs_copy_stream(struct hv_conn *c, virStorageVolPtr src,
                const struct hv_file *sf, virStoragePoolPtr dpool,
                const char *name, bool sparse,
                bool (*aborting)(void *opaque), void *opaque)
{
    AUTOPTR(virStorageVol) virStorageVol *dst = NULL;
    AUTOPTR(virStream) virStream *in = NULL;
    AUTOPTR(virStream) virStream *out = NULL;
    char *AUTOFREE buf = xmalloc(LVS_CHUNK);
    bool raw = strcmp(sf->format, "qcow2") != 0;
    unsigned dflags = sparse ? VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM : 0;
    unsigned uflags = sparse ? VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM : 0;
    struct err saved;
    long long hole;
    int r;

    /* A raw copy gets its size (and, not sparse, its blocks) up front; an
     * image of another format is its bytes, so it starts empty. */
    if (lvs_vol_create(c, dpool, name, "raw", raw ? sf->capacity_bytes : 0,
                       raw && !sparse ? sf->capacity_bytes : 0, NULL, NULL,
                       &dst) < 0)
        return -1;
    err_clear();
    if (!(in = virStreamNew(c->conn, 0)) || !(out = virStreamNew(c->conn, 0)) ||
        virStorageVolDownload(src, in, 0, 0, dflags) < 0) {
        lvs_fail(c, "copy to '%s' on", name);
        goto fail;
    }
    if (virStorageVolUpload(dst, out, 0, 0, uflags) < 0) {
        lvs_fail(c, "copy to '%s' on", name);
        lv_err_save(&saved);
        virStreamAbort(in);
        lv_err_restore(&saved);
        goto fail;
    }
    for (;;) {
        if (aborting && aborting(opaque)) {
            err_set(ERR_ABORTED, "copy to '%s' aborted", name);
            goto abort;
        }
        err_clear();
        r = virStreamRecvFlags(in, buf, LVS_CHUNK,
                               sparse ? VIR_STREAM_RECV_STOP_AT_HOLE : 0);
        if (r == -3) {
            if (virStreamRecvHole(in, &hole, 0) < 0 ||
                virStreamSendHole(out, hole, 0) < 0) {
                lvs_fail(c, "copy to '%s' on", name);
                goto abort;
            }
            continue;
        }
        if (r < 0) {
            lvs_fail(c, "copy to '%s' on", name);
            goto abort;
        }
        if (r == 0)
            break;
        if (lvs_send_all(c, out, buf, (size_t)r, name) < 0)
            goto abort;
    }
    err_clear();
    if (virStreamFinish(in) < 0) {
        lvs_fail(c, "copy to '%s' on", name);
        lv_err_save(&saved);
        virStreamAbort(out);
        lv_err_restore(&saved);
        goto fail;
    }
    if (virStreamFinish(out) < 0) {
        lvs_fail(c, "copy to '%s' on", name);
        goto fail;
    }
    return 0;

 abort:
    lv_err_save(&saved);
    virStreamAbort(in);
    virStreamAbort(out);
    lv_err_restore(&saved);
 fail:
    lvs_vol_discard(dst);
    return -1;
}

/* hv_storage_ops.file_copy (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_file_copy(struct hv_conn *c, const char *src_repo,
              enum hv_repo_dir src_dir, const char *src_name,
              const char *dst_repo, enum hv_repo_dir dst_dir,
              const char *dst_name, bool sparse,
              bool (*aborting)(void *opaque), void *opaque)
{
    AUTOPTR(virStoragePool) virStoragePool *spool = NULL;
    AUTOPTR(virStoragePool) virStoragePool *dpool = NULL;
    AUTOPTR(virStorageVol) virStorageVol *src = NULL;
    AUTOPTR(virStorageVol) virStorageVol *dst = NULL;
    char *AUTOFREE n = NULL, *AUTOFREE xml = NULL;
    struct hv_file sf;
    const char *fmt;
    bool is_dir;

    if (hv_store_check_id(src_repo) < 0 ||
        hv_store_check_name(src_dir, src_name) < 0 ||
        hv_store_check_id(dst_repo) < 0 ||
        hv_store_check_name(dst_dir, dst_name) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_file_copy(c->sim_path, src_repo, src_dir,
                                     src_name, dst_repo, dst_dir, dst_name,
                                     sparse, aborting, opaque);
    if (lvs_repo_pool(c, src_repo, src_dir, &spool) < 0 ||
        lvs_repo_vol(c, spool, src_repo, src_name, &src) < 0 ||
        lvs_vol_facts(c, src, &sf, &is_dir) < 0 ||
        lvs_repo_pool(c, dst_repo, dst_dir, &dpool) < 0 ||
        lvs_vol_absent(c, dpool, dst_repo, dst_name) < 0)
        return -1;
    if (aborting && aborting(opaque)) {
        err_set(ERR_ABORTED, "copy of '%s' aborted", src_name);
        return -1;
    }
    fmt = strcmp(sf.format, "qcow2") == 0 ? "qcow2" : "raw";
    n = lvs_xml_esc(dst_name);
    xml = xasprintf("<volume type='file'><name>%s</name>"
                    "<capacity unit='bytes'>%llu</capacity>"
                    "<allocation unit='bytes'>%llu</allocation>"
                    "<target><format type='%s'/></target></volume>",
                    n, (unsigned long long)sf.capacity_bytes,
                    (unsigned long long)(sparse ? 0 : sf.capacity_bytes),
                    fmt);
    err_clear();
    dst = virStorageVolCreateXMLFrom(dpool, xml, src, 0);
    if (!dst) {
        if (err_code() != ERR_UNSUPPORTED || !lv_alive(c)) {
            lvs_fail(c, "copy '%s' to '%s' on", src_name, dst_name);
            return -1;
        }
        log_debug("'%s' copies no volume across pools (%s); streaming "
                  "'%s' instead", c->uri, err_message(), src_name);
        return lvs_copy_stream(c, src, &sf, dpool, dst_name, sparse,
                               aborting, opaque);
    }
    if (aborting && aborting(opaque)) {
        err_set(ERR_ABORTED, "copy of '%s' aborted", src_name);
        lvs_vol_discard(dst);
        return -1;
    }
    return 0;
}

/* hv_storage_ops.file_resize (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_file_resize(struct hv_conn *c, const char *repo_id, enum hv_repo_dir dir,
                const char *name, uint64_t capacity)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    AUTOPTR(virStorageVol) virStorageVol *vol = NULL;
    struct hv_file f;
    bool is_dir;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_file_resize(c->sim_path, repo_id, dir, name,
                                       capacity);
    if (lvs_repo_pool(c, repo_id, dir, &pool) < 0 ||
        lvs_repo_vol(c, pool, repo_id, name, &vol) < 0 ||
        lvs_vol_facts(c, vol, &f, &is_dir) < 0)
        return -1;
    if (strcmp(f.format, "raw") != 0 && strcmp(f.format, "qcow2") != 0) {
        err_set(ERR_INVALID, "cannot resize '%s': not a raw or qcow2 volume",
                name);
        return -1;
    }
    if (capacity < f.capacity_bytes) {
        err_set(ERR_INVALID, "cannot resize '%s' to %llu bytes: it has %llu "
                "and volumes only grow", name, (unsigned long long)capacity,
                (unsigned long long)f.capacity_bytes);
        return -1;
    }
    if (capacity == f.capacity_bytes)
        return 0;
    err_clear();
    if (virStorageVolResize(vol, capacity, 0) < 0) {
        lvs_fail(c, "resize '%s' on", name);
        return -1;
    }
    return 0;
}

/* hv_storage_ops.file_delete (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_file_delete(struct hv_conn *c, const char *repo_id, enum hv_repo_dir dir,
                const char *name)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    AUTOPTR(virStorageVol) virStorageVol *vol = NULL;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_file_delete(c->sim_path, repo_id, dir, name);
    if (lvs_repo_pool(c, repo_id, dir, &pool) < 0 ||
        lvs_repo_vol(c, pool, repo_id, name, &vol) < 0)
        return -1;
    err_clear();
    if (virStorageVolDelete(vol, 0) < 0) {
        lvs_fail(c, "delete '%s' on", name);
        return -1;
    }
    return 0;
}

/* hv_storage_ops.file_read (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_file_read(struct hv_conn *c, const char *repo_id, enum hv_repo_dir dir,
              const char *name, size_t max, char **data, size_t *len)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    AUTOPTR(virStorageVol) virStorageVol *vol = NULL;

    *data = NULL;
    *len = 0;
    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_file_read(c->sim_path, repo_id, dir, name, max,
                                     data, len);
    if (lvs_repo_pool(c, repo_id, dir, &pool) < 0 ||
        lvs_repo_vol(c, pool, repo_id, name, &vol) < 0)
        return -1;
    return lvs_vol_read(c, vol, name, max, data, len);
}

/* hv_storage_ops.file_write (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_file_write(struct hv_conn *c, const char *repo_id, enum hv_repo_dir dir,
               const char *name, const void *data, size_t len)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    AUTOPTR(virStorageVol) virStorageVol *old = NULL;
    AUTOPTR(virStorageVol) virStorageVol *vol = NULL;
    AUTOPTR(virStream) virStream *st = NULL;
    int r;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_file_write(c->sim_path, repo_id, dir, name, data,
                                      len);
    if (lvs_repo_pool(c, repo_id, dir, &pool) < 0)
        return -1;
    /* No rename in libvirt: replace by delete and create (see DESIGN). */
    if ((r = lvs_vol_lookup(c, pool, name, &old)) < 0)
        return -1;
    err_clear();
    if (r == 1 && virStorageVolDelete(old, 0) < 0) {
        lvs_fail(c, "replace '%s' on", name);
        return -1;
    }
    if (lvs_vol_create(c, pool, name, "raw", len, 0, NULL, NULL, &vol) < 0)
        return -1;
    if (len == 0)
        return 0;
    err_clear();
    if (!(st = virStreamNew(c->conn, 0)) ||
        virStorageVolUpload(vol, st, 0, len, 0) < 0) {
        lvs_fail(c, "write '%s' on", name);
        lvs_vol_discard(vol);
        return -1;
    }
    if (lvs_send_all(c, st, data, len, name) < 0) {
        struct err saved;

        lv_err_save(&saved);
        virStreamAbort(st);
        lv_err_restore(&saved);
        lvs_vol_discard(vol);
        return -1;
    }
    err_clear();
    if (virStreamFinish(st) < 0) {
        lvs_fail(c, "write '%s' on", name);
        lvs_vol_discard(vol);
        return -1;
    }
    return 0;
}

/* Free an upload handle's libvirt objects and the handle. */
static void
lvs_upload_free(struct hv_upload *u)
{
    if (u->st)
        virStreamFree(u->st);
    if (u->vol)
        virStorageVolFree(u->vol);
    xfree(u->name);
    xfree(u);
}

/* hv_storage_ops.upload_begin (hv.h); test:/// hosts: hv/simstore.c. */
static struct hv_upload *
lvs_upload_begin(struct hv_conn *c, const char *repo_id, enum hv_repo_dir dir,
                 const char *name)
{
    AUTOPTR(virStoragePool) virStoragePool *pool = NULL;
    struct hv_upload *u;

    if (hv_store_check_id(repo_id) < 0 || hv_store_check_name(dir, name) < 0)
        return NULL;
    u = xcalloc(1, sizeof(*u));
    u->c = c;
    u->name = xstrdup(name);
    if (c->sim_path) {
        if (!(u->sim = hv_simstore_upload_begin(c->sim_path, repo_id, dir,
                                                name)))
            goto fail;
        return u;
    }
    if (lvs_repo_pool(c, repo_id, dir, &pool) < 0 ||
        lvs_vol_absent(c, pool, repo_id, name) < 0 ||
        lvs_vol_create(c, pool, name, "raw", 0, 0, NULL, NULL, &u->vol) < 0)
        goto fail;
    err_clear();
    if (!(u->st = virStreamNew(c->conn, 0)) ||
        virStorageVolUpload(u->vol, u->st, 0, 0, 0) < 0) {
        lvs_fail(c, "upload '%s' to", name);
        lvs_vol_discard(u->vol);
        goto fail;
    }
    return u;

 fail:
    lvs_upload_free(u);
    return NULL;
}

/* hv_storage_ops.upload_write (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_upload_write(struct hv_upload *u, const void *buf, size_t len)
{
    if (u->sim)
        return hv_simstore_upload_write(u->sim, buf, len);
    return lvs_send_all(u->c, u->st, buf, len, u->name);
}

/* hv_storage_ops.upload_finish (hv.h); test:/// hosts: hv/simstore.c. */
static int
lvs_upload_finish(struct hv_upload *u)
{
    int rc = 0;

    if (u->sim) {
        rc = hv_simstore_upload_finish(u->sim);
        u->sim = NULL;
        lvs_upload_free(u);
        return rc;
    }
    err_clear();
    if (virStreamFinish(u->st) < 0) {
        struct err saved;

        lvs_fail(u->c, "finish the upload of '%s' to", u->name);
        lv_err_save(&saved);
        virStreamAbort(u->st);
        lv_err_restore(&saved);
        lvs_vol_discard(u->vol);
        rc = -1;
    }
    lvs_upload_free(u);
    return rc;
}

/* hv_storage_ops.upload_cancel (hv.h); test:/// hosts: hv/simstore.c. */
static void
lvs_upload_cancel(struct hv_upload *u)
{
    struct err saved;

    if (!u)
        return;
    if (u->sim) {
        hv_simstore_upload_cancel(u->sim);
    } else {
        lv_err_save(&saved);
        virStreamAbort(u->st);
        lv_err_restore(&saved);
        lvs_vol_discard(u->vol);
    }
    lvs_upload_free(u);
}

/* Check that @fs is an OCFS2 file system on a LUN, for fs_make and
 * fs_wipe; parse its device into @l. 0, or -1 with ERR_INVALID. */
static int
lvs_ocfs2_check(const struct hv_fs *fs, struct hv_store_lun *l)
{
    if (!fs || !fs->kind || strcmp(fs->kind, "ocfs2") != 0) {
        err_set(ERR_INVALID, "invalid file system: only an OCFS2 file "
                "system on a LUN can be made or wiped");
        return -1;
    }
    if (hv_store_check_fs(fs, "") < 0)
        return -1;
    return hv_store_parse_lun(fs->path, l);
}

/*
 * hv_storage_ops.fs_make (hv.h); test:/// hosts: hv/simstore.c. Real
 * hosts (untested, see DESIGN): log in to the target, then a transient
 * fs pool on the LUN built with NO_OVERWRITE -- libvirt probes the
 * device (blkid) and runs mkfs.ocfs2 only when it holds no file system --
 * started (mounted) and destroyed again. libvirt passes mkfs no options,
 * so @label and @cluster are not used there.
 */
static int
lvs_fs_make(struct hv_conn *c, const struct hv_fs *fs, const char *label,
            const char *cluster)
{
    AUTOPTR(virStoragePool) virStoragePool *stale = NULL;
    char *AUTOFREE name = NULL, *AUTOFREE target = NULL;
    char *AUTOFREE xml = NULL;
    virStoragePoolPtr pool;
    struct hv_store_lun l;
    struct err saved;
    virErrorPtr ve;
    uint64_t hash;
    int code, rc;

    if (lvs_ocfs2_check(fs, &l) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_fs_make(c->sim_path, fs, label, cluster);
    if (lvs_iscsi_login(c, &l) < 0)
        return -1;
    hash = lvs_fnv(fs->path);
    name = xasprintf("ovmm-mkfs-%016llx", (unsigned long long)hash);
    target = xasprintf("%s/%016llx", LVS_MKFS_DIR, (unsigned long long)hash);
    xml = lvs_ocfs2_pool_xml(name, fs->path, target);
    /* A pool of ours left by an earlier failure goes first. */
    if ((rc = lvs_pool_lookup(c, name, &stale)) < 0)
        return -1;
    if (rc == 1 && virStoragePoolIsActive(stale) == 1)
        virStoragePoolDestroy(stale);
    err_clear();
    pool = virStoragePoolCreateXML(
        c->conn, xml, VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE);
    if (!pool) {
        /* libvirt keeps its own copy of the error for the thread. */
        ve = virGetLastError();
        code = ve ? ve->code : VIR_ERR_OK;
        lvs_fail(c, "make a file system on LUN '%s' from", fs->path);
        if (err_code() == LV_ERR_DOWN)
            return -1;
        if (code == VIR_ERR_STORAGE_POOL_BUILT)
            lvs_recode(ERR_EXISTS);     /* a file system is there */
        else if (strstr(err_message(), "does not exist"))
            lvs_recode(ERR_NOT_FOUND);  /* no such device on the host */
        return -1;
    }
    lv_err_save(&saved);
    if (virStoragePoolDestroy(pool) < 0)
        log_warnx("cannot unmount the new file system of LUN '%s' on '%s': "
                  "%s", fs->path, c->uri, err_message());
    virStoragePoolFree(pool);
    lv_err_restore(&saved);
    log_info("OCFS2 file system made on LUN '%s' from '%s'", fs->path,
             c->uri);
    return 0;
}

/*
 * hv_storage_ops.fs_wipe (hv.h); test:/// hosts: hv/simstore.c. The
 * table is shared by every connection, so the slot is set, and real
 * hosts answer ERR_UNSUPPORTED: libvirt cannot wipe a file system
 * signature, and ovmm runs no commands on hosts.
 */
static int
lvs_fs_wipe(struct hv_conn *c, const struct hv_fs *fs)
{
    struct hv_store_lun l;

    if (lvs_ocfs2_check(fs, &l) < 0)
        return -1;
    if (c->sim_path)
        return hv_simstore_fs_wipe(c->sim_path, fs);
    err_set(ERR_UNSUPPORTED, "cannot wipe the file system of LUN '%s' on "
            "'%s': not supported on this server, the OCFS2 signature stays "
            "on the LUN", fs->path, c->uri);
    return -1;
}

static const struct hv_storage_ops lvs_storage = {
    .nfs_exports = lvs_nfs_exports,
    .iscsi_targets = lvs_iscsi_targets,
    .iscsi_luns = lvs_iscsi_luns,
    .fs_probe = lvs_fs_probe,
    .repo_mount = lvs_repo_mount,
    .repo_unmount = lvs_repo_unmount,
    .repo_mounted = lvs_repo_mounted,
    .repo_space = lvs_repo_space,
    .repo_destroy = lvs_repo_destroy,
    .file_list = lvs_file_list,
    .file_info = lvs_file_info,
    .file_create = lvs_file_create,
    .file_copy = lvs_file_copy,
    .file_resize = lvs_file_resize,
    .file_delete = lvs_file_delete,
    .file_read = lvs_file_read,
    .file_write = lvs_file_write,
    .upload_begin = lvs_upload_begin,
    .upload_write = lvs_upload_write,
    .upload_finish = lvs_upload_finish,
    .upload_cancel = lvs_upload_cancel,
    .fs_make = lvs_fs_make,
    .fs_wipe = lvs_fs_wipe,
};

/* ---- host networking: bonds, VLAN devices, bridges ----
 *
 * DESIGN (hv.h, "host networking"; the rules and the XML are hv/simnet.c's,
 * shared with simulated hosts, so both paths refuse the same things):
 *
 * iface_list: virConnectListAllInterfaces, each interface's persistent
 * definition (VIR_INTERFACE_XML_INACTIVE: a bond's mode and ports are in
 * it, not always in the live state; the test driver, which refuses the
 * flag, is asked without it) read into a flat list with what is
 * nested in it, the MAC from virInterfaceGetMACString when the
 * definition has none. On a simulated host the list comes from a fresh
 * connection to the node file, not from the caller's: that one parsed
 * the file when it was opened, maybe before the last edit, and a fresh
 * one reports exactly what libvirt makes of the file now.
 *
 * A define on a real host: list, check (hv_net_plan()), then inside one
 * interface change (virInterfaceChangeBegin .. Commit; a driver without
 * transactions goes on without one) virInterfaceDefineXML and
 * virInterfaceCreate; on failure the new interface is destroyed and
 * undefined and the change rolled back, so nothing stays. A remove:
 * check, destroy (when active), undefine; then whatever the removed bond
 * or bridge was made of and the host no longer lists on its own is
 * defined and started again from the list taken before (netcf drops a
 * bridge's and a bond's members with it; the test driver keeps them, so
 * there this does nothing). Untested on real hosts (no netcf host in the
 * test environment): the ChangeBegin of a host whose last change was
 * left open (ovmmd died in the middle) fails with ERR_STATE until someone
 * runs `virsh iface-commit` or `iface-rollback` there; a member defined
 * again has no IP configuration.
 *
 * A simulated host: hv_simnet_apply() edits the node file under its
 * directory's lock, and before the edited file replaces the old one,
 * lvn_sim_verify() opens it with the test driver and looks the interface
 * up, so a file the test driver would refuse (which would make the host
 * unreachable) is never installed.
 */

DEFINE_AUTOPTR(virInterface, virInterfaceFree)

/* lv_fail() with a formatted @what ("define interface 'x' on"). */
static void lvn_fail(struct hv_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lvn_fail(struct hv_conn *c, const char *fmt, ...)
{
    char *AUTOFREE what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = xvasprintf(fmt, ap);
    va_end(ap);
    lv_fail(c, what);
}

/* "test://" + @path, percent-encoding what a URI path cannot hold as it
 * is (as hv_uri_for() does). Caller frees. */
static char *
lvn_test_uri(const char *path)
{
    static const char keep[] = "abcdefghijklmnopqrstuvwxyz"
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789/._-~+";
    size_t i, o = 0, len = strlen(path);
    char *out = xmalloc(strlen("test://") + 3 * len + 1);

    memcpy(out, "test://", strlen("test://"));
    o = strlen("test://");
    for (i = 0; i < len; i++) {
        if (strchr(keep, path[i])) {
            out[o++] = path[i];
        } else {
            snprintf(out + o, 4, "%%%02X", (unsigned)(unsigned char)path[i]);
            o += 3;
        }
    }
    out[o] = '\0';
    return out;
}

/* A private connection to @uri (a test:/// node file), with libxml2
 * quiet in this thread. NULL with err_set() (libvirt's message). */
static virConnectPtr
lvn_open_private(const char *uri)
{
    xmlSetGenericErrorFunc(NULL, lv_xml_quiet);
    err_clear();
    return virConnectOpen(uri);
}

/* The interfaces of @conn (@c's, or a private one to its node file) into
 * *out / *n (hv_net_ops.iface_list). */
static int
lvn_list_conn(struct hv_conn *c, virConnectPtr conn, struct hv_iface **out,
              size_t *n)
{
    virInterfacePtr *ifs = NULL;
    struct hv_net_list l;
    int i, k;

    *out = NULL;
    *n = 0;
    err_clear();
    k = virConnectListAllInterfaces(conn, &ifs, 0);
    if (k < 0) {
        lv_fail(c, "list the interfaces of");
        return -1;
    }
    hv_net_list_init(&l);
    for (i = 0; i < k; i++) {
        const char *mac = virInterfaceGetMACString(ifs[i]);
        char *xml = virInterfaceGetXMLDesc(ifs[i],
                                           VIR_INTERFACE_XML_INACTIVE);
        bool active = virInterfaceIsActive(ifs[i]) == 1;

        /* The test driver has only one definition and refuses the
         * flag. */
        if (!xml)
            xml = virInterfaceGetXMLDesc(ifs[i], 0);

        if (xml) {
            if (hv_net_list_add_xml(&l, xml, active, mac) < 0)
                log_warnx("ignoring interface '%s' of '%s': %s",
                          virInterfaceGetName(ifs[i]), c->uri,
                          err_message());
            xfree(xml);
        } else {
            /* Gone since it was listed, most likely. */
            log_debug("no definition of interface '%s' on '%s': %s",
                      virInterfaceGetName(ifs[i]), c->uri, err_message());
        }
        virInterfaceFree(ifs[i]);
    }
    xfree(ifs);
    err_clear();
    hv_net_list_finish(&l);
    hv_net_list_steal(&l, out, n);
    return 0;
}

/* hv_net_ops.iface_list (hv.h; DESIGN above). */
static int
lvn_iface_list(struct hv_conn *c, struct hv_iface **out, size_t *n)
{
    virConnectPtr conn;
    int rc;

    *out = NULL;
    *n = 0;
    if (!c->sim_path)
        return lvn_list_conn(c, c->conn, out, n);
    if (!(conn = lvn_open_private(c->uri))) {
        char msg[sizeof(((struct err *)0)->message)];

        str_copy(msg, err_code() != ERR_OK ? err_message()
                                           : "unknown libvirt error",
                 sizeof(msg));
        err_set(LV_ERR_DOWN, "cannot list the interfaces of '%s': %s",
                c->uri, msg);
        return -1;
    }
    rc = lvn_list_conn(c, conn, out, n);
    virConnectClose(conn);
    return rc;
}

/* hv_simnet_verify_fn: does the test driver open the edited node file
 * @path and list @name exactly when @present? (DESIGN above) */
static int
lvn_sim_verify(const char *path, const char *name, bool present,
               void *opaque)
{
    struct hv_conn *c = opaque;
    char *AUTOFREE uri = lvn_test_uri(path);
    virConnectPtr conn;
    virInterfacePtr ifc;
    bool found;

    if (!(conn = lvn_open_private(uri))) {
        char msg[sizeof(((struct err *)0)->message)];

        str_copy(msg, err_code() != ERR_OK ? err_message()
                                           : "unknown libvirt error",
                 sizeof(msg));
        err_set(ERR_INTERNAL, "cannot change interface '%s' of '%s': the "
                "edited node file does not load: %s", name, c->uri, msg);
        return -1;
    }
    ifc = virInterfaceLookupByName(conn, name);
    found = ifc != NULL;
    if (ifc)
        virInterfaceFree(ifc);
    virConnectClose(conn);
    err_clear();
    if (found != present) {
        err_set(ERR_INTERNAL, "cannot change interface '%s' of '%s': the "
                "edited node file %s it", name, c->uri,
                present ? "does not list" : "still lists");
        return -1;
    }
    return 0;
}

/*
 * Begin an interface change on @c: 1 begun, 0 when the driver has no
 * transactions (go on without), -1 with err_set().
 */
static int
lvn_begin(struct hv_conn *c)
{
    err_clear();
    if (virInterfaceChangeBegin(c->conn, 0) == 0)
        return 1;
    if (err_code() == ERR_UNSUPPORTED && lv_alive(c)) {
        log_debug("no interface transactions on '%s': %s", c->uri,
                  err_message());
        err_clear();
        return 0;
    }
    lv_fail(c, "begin a network change on");
    return -1;
}

/* Roll back the change begun on @c (when @txn), keeping the caller's
 * error. */
static void
lvn_rollback(struct hv_conn *c, int txn)
{
    struct err saved;

    if (txn != 1)
        return;
    lv_err_save(&saved);
    if (virInterfaceChangeRollback(c->conn, 0) < 0)
        log_warnx("cannot roll back the network change on '%s': %s", c->uri,
                  err_message());
    lv_err_restore(&saved);
}

/* Commit the change begun on @c (when @txn). 0 or -1. */
static int
lvn_commit(struct hv_conn *c, int txn)
{
    if (txn != 1)
        return 0;
    err_clear();
    if (virInterfaceChangeCommit(c->conn, 0) < 0) {
        lv_fail(c, "commit the network change on");
        return -1;
    }
    return 0;
}

/* Destroy (when active) and undefine @ifc, keeping the caller's error:
 * the undoing of a define that failed half-way. */
static void
lvn_discard(struct hv_conn *c, virInterfacePtr ifc)
{
    struct err saved;

    lv_err_save(&saved);
    if (virInterfaceIsActive(ifc) == 1)
        virInterfaceDestroy(ifc, 0);
    if (virInterfaceUndefine(ifc) < 0)
        log_warnx("cannot undefine interface '%s' of '%s': %s",
                  virInterfaceGetName(ifc), c->uri, err_message());
    lv_err_restore(&saved);
}

/* Define and start @xml (interface @name) on a real host; no transaction
 * of its own. 0 or -1 with nothing left defined. */
static int
lvn_define_one(struct hv_conn *c, const char *name, const char *xml)
{
    AUTOPTR(virInterface) virInterface *ifc = NULL;

    err_clear();
    if (!(ifc = virInterfaceDefineXML(c->conn, xml, 0))) {
        lvn_fail(c, "define interface '%s' on", name);
        return -1;
    }
    if (virInterfaceCreate(ifc, 0) < 0) {
        lvn_fail(c, "start interface '%s' on", name);
        lvn_discard(c, ifc);
        return -1;
    }
    return 0;
}

/* A define (@r: bond, vlan or bridge) on @c, either path. */
static int
lvn_define(struct hv_conn *c, const struct hv_net_req *r)
{
    struct hv_iface *AUTOFREE ifs = NULL;
    char *AUTOFREE xml = NULL;
    size_t n;
    int txn;

    if (c->sim_path)
        return hv_simnet_apply(c->sim_path, r, lvn_sim_verify, c);
    if (lvn_list_conn(c, c->conn, &ifs, &n) < 0 ||
        hv_net_plan(r, ifs, n, &xml) < 0)
        return -1;
    if ((txn = lvn_begin(c)) < 0)
        return -1;
    if (lvn_define_one(c, r->name, xml) < 0) {
        lvn_rollback(c, txn);
        return -1;
    }
    if (lvn_commit(c, txn) < 0) {
        AUTOPTR(virInterface) virInterface *ifc =
            virInterfaceLookupByName(c->conn, r->name);

        if (ifc)
            lvn_discard(c, ifc);
        lvn_rollback(c, txn);
        return -1;
    }
    log_info("interface '%s' defined and started on '%s'", r->name, c->uri);
    return 0;
}

/* On a real host after @f was removed: define again, on its own, each of
 * its members the host no longer lists (DESIGN above). 0 or -1. */
static int
lvn_restore_members(struct hv_conn *c, const struct hv_iface *f,
                    const struct hv_iface *ifs, size_t n)
{
    unsigned i;

    if (f->type != HV_IF_BOND && f->type != HV_IF_BRIDGE)
        return 0;
    for (i = 0; i < 2; i++) {
        const char *m = f->over[i];
        const struct hv_iface *mf = NULL;
        char *AUTOFREE xml = NULL;
        virInterfacePtr ifc;
        size_t k;

        if (!m[0])
            continue;
        ifc = virInterfaceLookupByName(c->conn, m);
        if (ifc) {
            virInterfaceFree(ifc);
            continue;
        }
        err_clear();
        for (k = 0; k < n && !mf; k++) {
            if (strcmp(ifs[k].name, m) == 0)
                mf = &ifs[k];
        }
        if (!mf)
            continue;
        xml = hv_net_member_xml(mf, ifs, n);
        if (lvn_define_one(c, m, xml) < 0)
            return -1;
        log_info("interface '%s' of removed '%s' defined again on '%s'", m,
                 f->name, c->uri);
    }
    return 0;
}

/* hv_net_ops.iface_remove on a real host (after the checks). */
static int
lvn_remove_real(struct hv_conn *c, const struct hv_net_req *r,
                const struct hv_iface *ifs, size_t n)
{
    AUTOPTR(virInterface) virInterface *ifc = NULL;
    const struct hv_iface *f = NULL;
    bool destroyed = false;
    size_t i;
    int txn;

    for (i = 0; i < n && !f; i++) {
        if (strcmp(ifs[i].name, r->name) == 0)
            f = &ifs[i];
    }
    if (NEVER(!f)) {
        err_set(ERR_INTERNAL, "cannot remove interface '%s': not listed",
                r->name);
        return -1;
    }
    if ((txn = lvn_begin(c)) < 0)
        return -1;
    err_clear();
    if (!(ifc = virInterfaceLookupByName(c->conn, r->name))) {
        lvn_fail(c, "find interface '%s' on", r->name);
        goto fail;
    }
    if (virInterfaceIsActive(ifc) == 1) {
        if (virInterfaceDestroy(ifc, 0) < 0) {
            lvn_fail(c, "stop interface '%s' on", r->name);
            goto fail;
        }
        destroyed = true;
    }
    if (virInterfaceUndefine(ifc) < 0) {
        lvn_fail(c, "undefine interface '%s' on", r->name);
        goto fail;
    }
    destroyed = false;          /* nothing to start again: it is gone */
    if (lvn_restore_members(c, f, ifs, n) < 0 || lvn_commit(c, txn) < 0)
        goto fail;
    log_info("interface '%s' removed from '%s'", r->name, c->uri);
    return 0;

 fail:
    if (destroyed) {
        struct err saved;

        lv_err_save(&saved);
        virInterfaceCreate(ifc, 0);
        lv_err_restore(&saved);
    }
    lvn_rollback(c, txn);
    return -1;
}

/* hv_net_ops.bond_define (hv.h). */
static int
lvn_bond_define(struct hv_conn *c, const char *name, const char *mode,
                const char *port1, const char *port2, unsigned mtu,
                const struct hv_ipconf *ip)
{
    struct hv_net_req r;

    if (hv_net_req_bond(&r, name, mode, port1, port2, mtu, ip) < 0)
        return -1;
    return lvn_define(c, &r);
}

/* hv_net_ops.vlan_define (hv.h). */
static int
lvn_vlan_define(struct hv_conn *c, const char *parent, unsigned tag,
                const struct hv_ipconf *ip)
{
    struct hv_net_req r;

    if (hv_net_req_vlan(&r, parent, tag, ip) < 0)
        return -1;
    return lvn_define(c, &r);
}

/* hv_net_ops.bridge_define (hv.h). */
static int
lvn_bridge_define(struct hv_conn *c, const char *name, const char *over,
                  const struct hv_ipconf *ip)
{
    struct hv_net_req r;

    if (hv_net_req_bridge(&r, name, over, ip) < 0)
        return -1;
    return lvn_define(c, &r);
}

/* hv_net_ops.iface_remove (hv.h). */
static int
lvn_iface_remove(struct hv_conn *c, const char *name)
{
    struct hv_iface *AUTOFREE ifs = NULL;
    struct hv_net_req r;
    char *AUTOFREE xml = NULL;
    size_t n;

    if (hv_net_req_remove(&r, name) < 0)
        return -1;
    if (c->sim_path)
        return hv_simnet_apply(c->sim_path, &r, lvn_sim_verify, c);
    if (lvn_list_conn(c, c->conn, &ifs, &n) < 0 ||
        hv_net_plan(&r, ifs, n, &xml) < 0)
        return -1;
    return lvn_remove_real(c, &r, ifs, n);
}

static const struct hv_net_ops lvn_net = {
    .iface_list = lvn_iface_list,
    .bond_define = lvn_bond_define,
    .vlan_define = lvn_vlan_define,
    .bridge_define = lvn_bridge_define,
    .iface_remove = lvn_iface_remove,
};

const struct hv_driver hv_libvirt = {
    .name = "libvirt",
    .open = lv_open,
    .close = lv_close,
    .alive = lv_alive,
    .node_facts = lv_node_facts,
    .domain_stats = lv_domain_stats,
    .storage = &lvs_storage,
    .net = &lvn_net,
};
