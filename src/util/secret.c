/*
 * secret.c - see secret.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util/alloc.h"
#include "util/err.h"
#include "util/secret.h"

#define PREFIX "sb1:"

static unsigned char key[crypto_secretbox_KEYBYTES];
static int have_key;

static int
read_all(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int
secret_init(const char *path)
{
    int fd;

    if (sodium_init() < 0) {
        err_set(ERR_INTERNAL, "cannot initialize libsodium");
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        int rc = read_all(fd, key, sizeof(key));

        close(fd);
        if (rc < 0) {
            err_set(ERR_IO, "secret key '%s' is damaged (not %zu bytes)",
                    path, sizeof(key));
            return -1;
        }
        have_key = 1;
        return 0;
    }
    if (errno != ENOENT) {
        err_set(ERR_IO, "cannot read secret key '%s': %s", path,
                strerror(errno));
        return -1;
    }
    crypto_secretbox_keygen(key);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
        fsync(fd) < 0) {
        err_set(ERR_IO, "cannot write secret key '%s': %s", path,
                strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return -1;
    }
    close(fd);
    have_key = 1;
    return 0;
}

char *
secret_seal(const char *plain)
{
    size_t plen = strlen(plain), blen = crypto_secretbox_NONCEBYTES +
                                        crypto_secretbox_MACBYTES + plen;
    unsigned char *box;
    size_t b64len = sodium_base64_ENCODED_LEN(blen,
                                              sodium_base64_VARIANT_ORIGINAL);
    char *out;

    if (!have_key) {
        err_set(ERR_INTERNAL, "secrets are not initialized");
        return NULL;
    }
    box = xmalloc(blen);
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES,
                          (const unsigned char *)plain, plen, box, key);
    out = xmalloc(strlen(PREFIX) + b64len);
    memcpy(out, PREFIX, strlen(PREFIX));
    sodium_bin2base64(out + strlen(PREFIX), b64len, box, blen,
                      sodium_base64_VARIANT_ORIGINAL);
    xfree(box);
    return out;
}

char *
secret_open(const char *sealed)
{
    size_t len, blen = 0, plen;
    unsigned char *box;
    char *plain;

    if (!have_key) {
        err_set(ERR_INTERNAL, "secrets are not initialized");
        return NULL;
    }
    if (!sealed || strncmp(sealed, PREFIX, strlen(PREFIX)) != 0) {
        err_set(ERR_INVALID, "not a sealed secret");
        return NULL;
    }
    sealed += strlen(PREFIX);
    len = strlen(sealed);
    box = xmalloc(len + 1);
    if (sodium_base642bin(box, len + 1, sealed, len, NULL, &blen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        xfree(box);
        err_set(ERR_INVALID, "a sealed secret is damaged");
        return NULL;
    }
    plen = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    plain = xmalloc(plen + 1);
    if (crypto_secretbox_open_easy((unsigned char *)plain,
                                   box + crypto_secretbox_NONCEBYTES,
                                   blen - crypto_secretbox_NONCEBYTES, box,
                                   key) != 0) {
        xfree(box);
        sodium_memzero(plain, plen + 1);
        xfree(plain);
        err_set(ERR_INVALID, "a sealed secret does not open with this "
                             "Manager's key");
        return NULL;
    }
    plain[plen] = '\0';
    xfree(box);
    return plain;
}
