/*
 * ipmi.c - see ipmi.h: ipmitool as an argv child with a deadline, and
 * Wake-on-LAN.
 *
 * DESIGN: one function, run_ipmitool(), owns the child: it builds the
 * argv and the environment, spawns, reads both pipes until they close and
 * the child exits, and kills the child's process group at the deadline or
 * on cancel. Everything ipmitool says is kept in fixed buffers (what does
 * not fit is read and dropped), so a chatty or hostile child cannot make
 * us allocate without bound. Nothing here logs a password or passes one
 * in argv.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/err.h"
#include "util/ipmi.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("ipmi");

extern char **environ;

/* What we keep of each output stream; the rest is read and dropped. */
#define OUT_MAX 4096
/* Longest error message quoted from ipmitool. */
#define MSG_MAX 400
/* How often the cancel callback is polled. */
#define TICK_MS 100

const char *
ipmi_power_action_str(enum ipmi_power_action a)
{
    switch (a) {
    case IPMI_POWER_ON:
        return "on";
    case IPMI_POWER_SOFT:
        return "soft";
    case IPMI_POWER_CYCLE:
        return "cycle";
    case IPMI_POWER_OFF:
        return "off";
    }
    return "?";
}

static bool
host_char(char ch, bool v6)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' ||
           (v6 && ch == ':');
}

/* Copy @len bytes of @s as a host into @host after checking them. */
static int
host_take(const char *addr, const char *s, size_t len, bool v6, char *host,
          size_t hsize)
{
    size_t i;

    if (len == 0 || len > IPMI_HOST_MAX || len >= hsize) {
        err_set(ERR_INVALID, "IPMI address '%s' must name a host of 1 to %d "
                             "characters", addr, IPMI_HOST_MAX);
        return -1;
    }
    if (!host_char(s[0], v6) || s[0] == '-' || s[0] == '.' || s[0] == '_') {
        err_set(ERR_INVALID, "IPMI address '%s' must start with a letter or "
                             "a digit", addr);
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (!host_char(s[i], v6)) {
            err_set(ERR_INVALID, "IPMI address '%s' has a character that no "
                                 "host name or address has", addr);
            return -1;
        }
    }
    memcpy(host, s, len);
    host[len] = '\0';
    return 0;
}

int
ipmi_address_parse(const char *addr, char *host, size_t hsize, int *port)
{
    const char *colon, *hs = addr;
    size_t hlen;
    int64_t p;
    bool v6 = false;

    *port = 0;
    if (!addr || !*addr) {
        err_set(ERR_INVALID, "an IPMI address must not be empty");
        return -1;
    }
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');

        if (!close || (close[1] && close[1] != ':')) {
            err_set(ERR_INVALID, "IPMI address '%s': write an IPv6 address "
                                 "with a port as [address]:port", addr);
            return -1;
        }
        hs = addr + 1;
        hlen = (size_t)(close - hs);
        v6 = true;
        colon = close[1] ? close + 1 : NULL;
    } else {
        colon = strchr(addr, ':');
        if (colon && strchr(colon + 1, ':')) {
            /* A bare IPv6 address: no port. */
            colon = NULL;
            v6 = true;
        }
        hlen = colon ? (size_t)(colon - addr) : strlen(addr);
    }
    if (host_take(addr, hs, hlen, v6, host, hsize) < 0)
        return -1;
    if (colon) {
        if (str_to_int64(colon + 1, 1, 65535, "the IPMI port", &p) < 0)
            return -1;
        *port = (int)p;
    }
    return 0;
}

int
ipmi_user_check(const char *user)
{
    size_t i, n = strlen(user);

    if (n == 0 || n > IPMI_USER_MAX || user[0] == '-') {
        err_set(ERR_INVALID, "an IPMI user name has 1 to %d characters and "
                             "does not start with '-'", IPMI_USER_MAX);
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (user[i] < 0x20 || user[i] > 0x7e) {
            err_set(ERR_INVALID, "an IPMI user name has printable ASCII "
                                 "characters only");
            return -1;
        }
    }
    return 0;
}

int
ipmi_password_check(const char *pw)
{
    size_t i, n = strlen(pw);

    if (n > IPMI_PASSWORD_MAX) {
        err_set(ERR_INVALID, "an IPMI password has at most %d characters "
                             "(IPMI 2.0)", IPMI_PASSWORD_MAX);
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (pw[i] < 0x20 || pw[i] > 0x7e) {
            err_set(ERR_INVALID, "an IPMI password has printable ASCII "
                                 "characters only");
            return -1;
        }
    }
    return 0;
}

/* Output kept from one stream of the child. */
struct sink {
    int fd;          /* read end, -1 once closed */
    char buf[OUT_MAX];
    size_t len;      /* bytes kept, < OUT_MAX */
};

/* Read what @s->fd has; close it at EOF or error. */
static void
sink_read(struct sink *s)
{
    char tmp[1024];
    ssize_t r;
    size_t room;

    r = read(s->fd, tmp, sizeof(tmp));
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (r <= 0) {
        close(s->fd);
        s->fd = -1;
        return;
    }
    room = sizeof(s->buf) - 1 - s->len;
    if ((size_t)r < room)
        room = (size_t)r;
    memcpy(s->buf + s->len, tmp, room);
    s->len += room;
    s->buf[s->len] = '\0';
}

/*
 * Turn the child's stderr (or stdout when stderr is empty) into one line
 * for a message: the password masked, control characters and runs of
 * blanks made single spaces, at most MSG_MAX bytes.
 */
static void
clean_message(const char *in, const char *password, char *out, size_t size)
{
    size_t plen = password ? strlen(password) : 0, o = 0;
    const char *p = in;
    bool space = true;   /* suppress leading blanks */

    while (*p && o + 5 < size) {
        if (plen && strncmp(p, password, plen) == 0) {
            memcpy(out + o, "****", 4);
            o += 4;
            p += plen;
            space = false;
            continue;
        }
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ' ') {
            if (!space)
                out[o++] = ' ';
            space = true;
        } else {
            out[o++] = *p;
            space = false;
        }
        p++;
    }
    while (o && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

/* The environment for the child: ours without any IPMI_PASSWORD, plus
 * IPMI_PASSWORD=@password. Caller frees the array and its last entry. */
static char **
child_env(const char *password)
{
    size_t n = 0, i, k = 0;
    char **env;

    while (environ && environ[n])
        n++;
    env = xcalloc(n + 2, sizeof(*env));
    for (i = 0; i < n; i++) {
        if (!str_has_prefix(environ[i], "IPMI_PASSWORD="))
            env[k++] = environ[i];
    }
    env[k] = xasprintf("IPMI_PASSWORD=%s", password ? password : "");
    return env;
}

static void
child_env_free(char **env)
{
    size_t k = 0;

    if (!env)
        return;
    while (env[k + 1])
        k++;
    /* The last entry is ours; wipe the password before freeing it. */
    memset(env[k], 0, strlen(env[k]));
    xfree(env[k]);
    xfree(env);
}

/*
 * Run ipmitool for @t with the words @cmd (NULL-terminated) after the
 * connection options. *status receives the exit status (-1: killed);
 * @out and @err what it wrote (NUL-terminated, truncated). 0 when it
 * ran to an exit, -1 with err_set() when it could not be started, was
 * killed at the deadline or cancelled.
 */
static int
run_ipmitool(const struct ipmi_target *t, const char *const *cmd,
             int *status, struct sink *out, struct sink *err)
{
    const char *argv[24];
    char portbuf[16], suitebuf[16];
    int pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dflt;
    char **env = NULL;
    int64_t deadline;
    size_t n = 0, i;
    pid_t pid;
    int rc, st = 0, ret = -1;
    bool exited = false, killed = false, cancelled = false, ioerr = false;

    argv[n++] = "ipmitool";
    argv[n++] = "-I";
    argv[n++] = "lanplus";
    argv[n++] = "-H";
    argv[n++] = t->host;
    if (t->port > 0) {
        snprintf(portbuf, sizeof(portbuf), "%d", t->port);
        argv[n++] = "-p";
        argv[n++] = portbuf;
    }
    if (t->user && *t->user) {
        argv[n++] = "-U";
        argv[n++] = t->user;
    }
    if (t->cipher_suite >= 0) {
        snprintf(suitebuf, sizeof(suitebuf), "%d", t->cipher_suite);
        argv[n++] = "-C";
        argv[n++] = suitebuf;
    }
    argv[n++] = "-E";   /* the password comes from IPMI_PASSWORD */
    for (i = 0; cmd[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
        argv[n++] = cmd[i];
    argv[n] = NULL;

    out->fd = err->fd = -1;
    out->len = err->len = 0;
    out->buf[0] = err->buf[0] = '\0';
    if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
        err_set(ERR_IO, "cannot run 'ipmitool': pipe: %s", strerror(errno));
        goto fail_pipes;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGINT);
    sigaddset(&dflt, SIGHUP);
    sigaddset(&dflt, SIGCHLD);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dflt);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    env = child_env(t->password);
    /* argv is not modified by the child; the cast is posix_spawn's. */
    rc = posix_spawnp(&pid, "ipmitool", &fa, &at, (char *const *)(void *)argv,
                      env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    child_env_free(env);
    close(pout[1]);
    close(perr[1]);
    pout[1] = perr[1] = -1;
    if (rc != 0) {
        err_set(ERR_IO, "cannot run 'ipmitool': %s (is the ipmitool package "
                        "installed?)", strerror(rc));
        goto fail_pipes;
    }
    out->fd = pout[0];
    err->fd = perr[0];
    pout[0] = perr[0] = -1;
    log_debug("ipmitool %s %s: pid %ld", cmd[0], cmd[1] ? cmd[1] : "",
              (long)pid);

    deadline = time_mono_ms() + t->timeout_ms;
    while (!exited) {
        struct pollfd pf[2];
        nfds_t np = 0;
        int64_t left = deadline - time_mono_ms();

        if (left <= 0) {
            killed = true;
            break;
        }
        if (t->cancel && t->cancel(t->cancel_cls)) {
            cancelled = true;
            break;
        }
        if (out->fd >= 0)
            pf[np++] = (struct pollfd){ .fd = out->fd, .events = POLLIN };
        if (err->fd >= 0)
            pf[np++] = (struct pollfd){ .fd = err->fd, .events = POLLIN };
        if (np == 0) {
            /* Both streams closed: wait for the exit, a tick at a time. */
            pid_t w = waitpid(pid, &st, WNOHANG);

            if (w == pid) {
                exited = true;
                break;
            }
            if (w < 0 && errno != EINTR) {
                err_set(ERR_IO, "cannot wait for 'ipmitool': %s",
                        strerror(errno));
                ioerr = true;
                break;
            }
            usleep(10 * 1000);
            continue;
        }
        rc = poll(pf, np, (int)(left < TICK_MS ? left : TICK_MS));
        if (rc < 0 && errno != EINTR) {
            err_set(ERR_IO, "cannot read from 'ipmitool': %s",
                    strerror(errno));
            ioerr = true;
            break;
        }
        for (i = 0; rc > 0 && i < np; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            sink_read(pf[i].fd == out->fd ? out : err);
        }
    }
    if (!exited) {
        /* The child's process group id is its pid (setpgroup 0). */
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    if (out->fd >= 0)
        close(out->fd);
    if (err->fd >= 0)
        close(err->fd);
    out->fd = err->fd = -1;
    if (cancelled) {
        err_set(ERR_ABORTED, "ipmitool was stopped: the job was aborted");
        return -1;
    }
    if (ioerr)
        return -1;
    if (killed) {
        err_set(ERR_TIMEOUT, "ipmitool did not finish within %lld ms and "
                             "was killed (host '%s')",
                (long long)t->timeout_ms, t->host);
        return -1;
    }
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return 0;

 fail_pipes:
    for (i = 0; i < 2; i++) {
        if (pout[i] >= 0)
            close(pout[i]);
        if (perr[i] >= 0)
            close(perr[i]);
    }
    return ret;
}

/* The ERR_UNREACHABLE error for a failed run of `chassis power @what`. */
static int
failed(const struct ipmi_target *t, const char *what, int status,
       const struct sink *out, const struct sink *err)
{
    char msg[MSG_MAX + 8];

    clean_message(err->len ? err->buf : out->buf, t->password, msg,
                  sizeof(msg));
    err_set(ERR_UNREACHABLE, "IPMI 'chassis power %s' on '%s' failed "
                             "(ipmitool exit status %d): %s",
            what, t->host, status, msg[0] ? msg : "no message");
    return -1;
}

int
ipmi_power(const struct ipmi_target *t, enum ipmi_power_action a)
{
    const char *cmd[] = { "chassis", "power", ipmi_power_action_str(a),
                          NULL };
    struct sink out, err;
    int status = -1;

    if (run_ipmitool(t, cmd, &status, &out, &err) < 0)
        return -1;
    if (status != 0)
        return failed(t, cmd[2], status, &out, &err);
    log_info("IPMI 'chassis power %s' sent to '%s'", cmd[2], t->host);
    return 0;
}

int
ipmi_power_status(const struct ipmi_target *t, bool *on)
{
    const char *cmd[] = { "chassis", "power", "status", NULL };
    struct sink out, err;
    char msg[MSG_MAX + 8];
    int status = -1;

    if (run_ipmitool(t, cmd, &status, &out, &err) < 0)
        return -1;
    if (status != 0)
        return failed(t, "status", status, &out, &err);
    /* "Chassis Power is on" / "Chassis Power is off" */
    if (strstr(out.buf, "Power is on")) {
        *on = true;
        return 0;
    }
    if (strstr(out.buf, "Power is off")) {
        *on = false;
        return 0;
    }
    clean_message(out.buf, t->password, msg, sizeof(msg));
    err_set(ERR_UNREACHABLE, "IPMI 'chassis power status' on '%s' gave no "
                             "power state: '%s'", t->host, msg);
    return -1;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
ipmi_wol_packet(const char *mac, unsigned char out[IPMI_WOL_PACKET_LEN])
{
    unsigned char m[6];
    size_t i;
    int hi, lo;

    if (!mac || strlen(mac) != 17)
        goto bad;
    for (i = 0; i < 6; i++) {
        hi = hexval(mac[3 * i]);
        lo = hexval(mac[3 * i + 1]);
        if (hi < 0 || lo < 0)
            goto bad;
        if (i < 5 && mac[3 * i + 2] != ':' && mac[3 * i + 2] != '-')
            goto bad;
        m[i] = (unsigned char)(hi << 4 | lo);
    }
    memset(out, 0xff, 6);
    for (i = 0; i < 16; i++)
        memcpy(out + 6 + 6 * i, m, 6);
    return 0;

 bad:
    err_set(ERR_INVALID, "'%s' is not a MAC address (aa:bb:cc:dd:ee:ff)",
            mac ? mac : "");
    return -1;
}

int
ipmi_wol_send(const char *mac, const char *address, int port)
{
    unsigned char pkt[IPMI_WOL_PACKET_LEN];
    struct addrinfo hints, *ai = NULL;
    char portbuf[16];
    int fd = -1, on = 1, rc, ret = -1;
    ssize_t w;

    if (ipmi_wol_packet(mac, pkt) < 0)
        return -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    rc = getaddrinfo(address, portbuf, &hints, &ai);
    if (rc != 0) {
        err_set(ERR_INVALID, "Wake-on-LAN address '%s' port %d: %s", address,
                port, gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err_set(ERR_IO, "cannot send Wake-on-LAN to '%s': socket: %s",
                address, strerror(errno));
        goto out;
    }
    if (ai->ai_family == AF_INET &&
        setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof(on)) < 0) {
        err_set(ERR_IO, "cannot send Wake-on-LAN to '%s': SO_BROADCAST: %s",
                address, strerror(errno));
        goto out;
    }
    do {
        w = sendto(fd, pkt, sizeof(pkt), 0, ai->ai_addr, ai->ai_addrlen);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)sizeof(pkt)) {
        err_set(ERR_IO, "cannot send Wake-on-LAN to '%s' port %d: %s",
                address, port, w < 0 ? strerror(errno) : "short write");
        goto out;
    }
    log_info("Wake-on-LAN packet for %s sent to %s port %d", mac, address,
             port);
    ret = 0;
 out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    return ret;
}
