/*
 * cert.c - make sure the HTTPS certificate and key exist: check a
 * configured pair, or make a self-signed one at first start.
 *
 * DESIGN: the only file that includes OpenSSL headers (libmicrohttpd
 * speaks TLS through GnuTLS; OpenSSL is used only to make and check PEM
 * files). A new key is an EC P-256 key, the certificate X.509 v3,
 * self-signed, valid ten years, with the subjectAltNames browsers and
 * curl check (localhost, 127.0.0.1, ::1 and the configured name). Files
 * are written under temporary names and renamed into place, the key
 * created 0600 with O_EXCL so it is never readable by others even for a
 * moment, so a crash leaves either no file or a whole one. The key is
 * renamed first: a crash between the two renames leaves a lone key, which
 * the next start reports instead of silently pairing it with a new
 * certificate. Runs once on the main thread at start-up; OpenSSL's error
 * queue is cleared before returning so nothing leaks into later calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* OpenSSL's types.h typedefs ERR_STATE, which is also one of our error
 * codes: rename theirs (we never use it) while its headers are read. */
#define ERR_STATE openssl_ERR_STATE
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#undef ERR_STATE

#include "http/http.h"
#include "util/alloc.h"
#include "util/autoptr.h"
#include "util/fs.h"
#include "util/log.h"

LOG_MODULE("http");

DEFINE_AUTOPTR(X509, X509_free)
DEFINE_AUTOPTR(EVP_PKEY, EVP_PKEY_free)
DEFINE_AUTOPTR(BIGNUM, BN_free)
DEFINE_AUTOPTR(GENERAL_NAMES, GENERAL_NAMES_free)
DEFINE_AUTOPTR(X509_EXTENSION, X509_EXTENSION_free)

/* Ten years, in days. */
#define CERT_VALID_DAYS 3650

/* The latest OpenSSL error as text, "unknown error" when the queue is
 * empty. Clears the queue. */
static const char *
ssl_error(char *buf, size_t size)
{
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, buf, size);
    else
        snprintf(buf, size, "unknown error");
    ERR_clear_error();
    return buf;
}

/* Add a DNS or IP general name for @value to @gens. */
static int
add_alt_name(GENERAL_NAMES *gens, const char *value)
{
    GENERAL_NAME *gen;
    ASN1_OCTET_STRING *ip;
    ASN1_IA5STRING *dns;

    ip = a2i_IPADDRESS(value);
    gen = GENERAL_NAME_new();
    if (!gen)
        goto fail;
    if (ip) {
        GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
    } else {
        ERR_clear_error();
        dns = ASN1_IA5STRING_new();
        if (!dns || !ASN1_STRING_set(dns, value, -1)) {
            ASN1_IA5STRING_free(dns);
            GENERAL_NAME_free(gen);
            goto fail;
        }
        GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
    }
    if (!sk_GENERAL_NAME_push(gens, gen)) {
        GENERAL_NAME_free(gen);
        goto fail;
    }
    return 0;

 fail:
    err_set(ERR_INTERNAL, "cannot add subjectAltName '%s'", value);
    return -1;
}

/* Add an extension given in OpenSSL's config syntax ("critical,CA:FALSE"). */
static int
add_ext(X509 *x, int nid, const char *value)
{
    AUTOPTR(X509_EXTENSION) X509_EXTENSION *ext = NULL;
    X509V3_CTX ctx;
    char msg[256];

    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext || !X509_add_ext(x, ext, -1)) {
        err_set(ERR_INTERNAL, "cannot add certificate extension '%s': %s",
                value, ssl_error(msg, sizeof(msg)));
        return -1;
    }
    return 0;
}

/* Make a self-signed certificate for @cn with key @pkey. */
static X509 *
make_cert(EVP_PKEY *pkey, const char *cn)
{
    static const char *const fixed[] = { "localhost", "127.0.0.1", "::1" };
    AUTOPTR(X509) X509 *x = X509_new();
    AUTOPTR(BIGNUM) BIGNUM *serial = BN_new();
    AUTOPTR(GENERAL_NAMES) GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    X509_NAME *name;
    char msg[256];
    size_t i;
    bool cn_listed = false;

    if (!x || !serial || !gens)
        goto ssl_fail;
    if (!X509_set_version(x, X509_VERSION_3) ||
        /* 159 random bits: positive and at most 20 octets (RFC 5280). */
        !BN_rand(serial, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), CERT_VALID_DAYS, 0, NULL) ||
        !X509_set_pubkey(x, pkey))
        goto ssl_fail;
    name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, name))
        goto ssl_fail;

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (strcmp(fixed[i], cn) == 0)
            cn_listed = true;
        if (add_alt_name(gens, fixed[i]) < 0)
            return NULL;
    }
    if (!cn_listed && add_alt_name(gens, cn) < 0)
        return NULL;
    if (!X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
                           X509V3_ADD_DEFAULT))
        goto ssl_fail;
    if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(x, NID_key_usage, "critical,digitalSignature") < 0 ||
        add_ext(x, NID_ext_key_usage, "serverAuth") < 0 ||
        add_ext(x, NID_subject_key_identifier, "hash") < 0)
        return NULL;
    if (!X509_sign(x, pkey, EVP_sha256()))
        goto ssl_fail;
    return steal_ptr(&x);

 ssl_fail:
    err_set(ERR_INTERNAL, "cannot make a certificate for '%s': %s", cn,
            ssl_error(msg, sizeof(msg)));
    return NULL;
}

/*
 * Write @path through "@path.tmp" (created with O_EXCL and @mode) and
 * rename it into place. Exactly one of @pkey / @x is written.
 */
static int
write_pem(const char *path, mode_t mode, EVP_PKEY *pkey, X509 *x)
{
    AUTOFREE char *tmp = xasprintf("%s.tmp", path);
    char msg[256];
    FILE *f = NULL;
    int fd, ok;

    /* A leftover from a crash is ours and incomplete by definition. */
    if (unlink(tmp) < 0 && errno != ENOENT) {
        err_set(ERR_IO, "cannot remove '%s': %s", tmp, strerror(errno));
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              mode);
    if (fd < 0) {
        err_set(ERR_IO, "cannot create '%s': %s", tmp, strerror(errno));
        return -1;
    }
    /* The umask may have narrowed @mode; the certificate must be 0644. */
    if (fchmod(fd, mode) < 0) {
        err_set(ERR_IO, "cannot set mode of '%s': %s", tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    f = fdopen(fd, "w");
    if (!f) {
        err_set(ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
        close(fd);
        goto fail;
    }
    if (pkey)
        ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
    else
        ok = PEM_write_X509(f, x);
    if (!ok) {
        err_set(ERR_IO, "cannot write '%s': %s", tmp,
                ssl_error(msg, sizeof(msg)));
        goto fail;
    }
    if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
        err_set(ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
        goto fail;
    }
    ok = fclose(f);
    f = NULL;
    if (ok != 0) {
        err_set(ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        err_set(ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path,
                strerror(errno));
        goto fail;
    }
    return 0;

 fail:
    if (f)
        fclose(f);
    unlink(tmp);
    return -1;
}

/* fsync the directory holding @path so the renames survive a crash. */
static void
sync_parent(const char *path)
{
    AUTOFREE char *copy = xstrdup(path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return;
    if (fsync(fd) < 0)
        log_warn("cannot sync directory of '%s'", path);
    close(fd);
}

static int
cert_create(const char *cert_file, const char *key_file, const char *cn)
{
    AUTOPTR(EVP_PKEY) EVP_PKEY *pkey = NULL;
    AUTOPTR(X509) X509 *x = NULL;
    char msg[256];

    if (fs_mkdir_parent(cert_file, 0700) < 0 ||
        fs_mkdir_parent(key_file, 0700) < 0)
        return -1;
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!pkey) {
        err_set(ERR_INTERNAL, "cannot generate a P-256 key: %s",
                ssl_error(msg, sizeof(msg)));
        return -1;
    }
    x = make_cert(pkey, cn);
    if (!x)
        return -1;
    if (write_pem(key_file, 0600, pkey, NULL) < 0)
        return -1;
    if (write_pem(cert_file, 0644, NULL, x) < 0) {
        unlink(key_file);
        return -1;
    }
    sync_parent(key_file);
    sync_parent(cert_file);
    log_info("made a self-signed certificate for '%s' in '%s'", cn,
             cert_file);
    return 0;
}

/* Load the existing pair and check that they belong together. */
static int
cert_check(const char *cert_file, const char *key_file)
{
    AUTOPTR(EVP_PKEY) EVP_PKEY *pkey = NULL;
    AUTOPTR(X509) X509 *x = NULL;
    struct stat st;
    char msg[256];
    FILE *f;

    f = fopen(cert_file, "re");
    if (!f) {
        err_set(ERR_IO, "cannot open TLS certificate '%s': %s", cert_file,
                strerror(errno));
        return -1;
    }
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x) {
        err_set(ERR_CONFIG, "cannot load TLS certificate '%s': %s",
                cert_file, ssl_error(msg, sizeof(msg)));
        return -1;
    }
    f = fopen(key_file, "re");
    if (!f) {
        err_set(ERR_IO, "cannot open TLS key '%s': %s", key_file,
                strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
        log_warnx("TLS key '%s' is readable by others (mode %04o)", key_file,
                  (unsigned)(st.st_mode & 07777));
    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!pkey) {
        err_set(ERR_CONFIG, "cannot load TLS key '%s': %s", key_file,
                ssl_error(msg, sizeof(msg)));
        return -1;
    }
    if (X509_check_private_key(x, pkey) != 1) {
        ERR_clear_error();
        err_set(ERR_CONFIG, "TLS key '%s' does not match certificate '%s'",
                key_file, cert_file);
        return -1;
    }
    return 0;
}

int
http_cert_ensure(const char *cert_file, const char *key_file, const char *cn)
{
    bool have_cert, have_key;
    int rc;

    if (!cert_file || !*cert_file || !key_file || !*key_file) {
        err_set(ERR_CONFIG, "TLS certificate and key files must be set");
        return -1;
    }
    if (!cn || !*cn)
        cn = "localhost";
    have_cert = access(cert_file, F_OK) == 0;
    have_key = access(key_file, F_OK) == 0;
    if (have_cert && have_key) {
        rc = cert_check(cert_file, key_file);
    } else if (have_cert) {
        err_set(ERR_CONFIG, "TLS key '%s' is missing (certificate '%s' "
                "exists)", key_file, cert_file);
        rc = -1;
    } else if (have_key) {
        err_set(ERR_CONFIG, "TLS certificate '%s' is missing (key '%s' "
                "exists)", cert_file, key_file);
        rc = -1;
    } else {
        rc = cert_create(cert_file, key_file, cn);
    }
    ERR_clear_error();
    return rc;
}
