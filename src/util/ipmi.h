/*
 * ipmi.h - power control of servers out of band: IPMI through the
 * `ipmitool` program, and Wake-on-LAN.
 *
 * DESIGN (DESIGN.md section 7, "no shell, ever: argv only"): ipmitool runs
 * as a child made with posix_spawnp() from an argv array -- never through
 * a shell -- with stdin on /dev/null, its own process group, an empty
 * signal mask and default dispositions (the daemon blocks SIGTERM and
 * ignores SIGPIPE; a child must not inherit that), and every descriptor
 * above stderr closed. The password never appears on a command line: it
 * travels in the child's environment as IPMI_PASSWORD and ipmitool reads
 * it with -E. stdout and stderr come back through pipes, read with poll()
 * into bounded buffers; when the deadline passes, or the caller's cancel
 * callback says so (a job being aborted), the child's process group --
 * whose id is the child's pid -- is killed with SIGKILL and reaped. An
 * error message quotes ipmitool's stderr with control characters replaced
 * and any occurrence of the password masked, so the password cannot reach
 * a job, a transcript or a log even from a misbehaving ipmitool.
 *
 * Wake-on-LAN is one UDP datagram (the 102-byte magic packet: six 0xff
 * bytes, then the MAC sixteen times) sent with SO_BROADCAST to a
 * configurable address and port (wol_address, wol_port).
 *
 * Thread-safe: no state; each call owns its child and descriptors. Calls
 * block for up to their timeout, so they belong on job workers, never on
 * HTTP threads.
 */
#ifndef OVMM_IPMI_H
#define OVMM_IPMI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest host part of an IPMI address, and of a user name (IPMI 2.0). */
#define IPMI_HOST_MAX 255
#define IPMI_USER_MAX 16
/* Longest IPMI 2.0 password. */
#define IPMI_PASSWORD_MAX 20
/* Bytes of a Wake-on-LAN magic packet. */
#define IPMI_WOL_PACKET_LEN 102

/* Where and how to reach one BMC. All strings borrowed. */
struct ipmi_target {
    const char *host;       /* address or name, without the port */
    int port;               /* UDP port; 0: ipmitool's default (623) */
    const char *user;       /* -U; NULL or "": none (anonymous) */
    const char *password;   /* clear text, passed as IPMI_PASSWORD; NULL:
                               none */
    int cipher_suite;       /* -C; -1: let ipmitool choose */
    int64_t timeout_ms;     /* one ipmitool run; then it is killed */
    /* Polled about every 100 ms while ipmitool runs: true kills it and
     * the call fails with ERR_ABORTED. NULL: never. */
    bool (*cancel)(void *cls);
    void *cancel_cls;
};

/* `chassis power <action>`. */
enum ipmi_power_action {
    IPMI_POWER_ON,     /* on */
    IPMI_POWER_SOFT,   /* soft: ACPI shutdown of the operating system */
    IPMI_POWER_CYCLE,  /* cycle: off, then on */
    IPMI_POWER_OFF,    /* off: at once, no shutdown */
};

/* The ipmitool word for @a ("on", "soft", "cycle", "off"). */
const char *ipmi_power_action_str(enum ipmi_power_action a);

/*
 * Check and split an IPMI address as users write it: "host", "host:port"
 * or "[v6 address]:port" (a bare IPv6 address has no port). The host is
 * letters, digits, '.', '-', '_' and, for IPv6, ':' -- starting with a
 * letter or a digit, so it can never look like an option -- at most
 * IPMI_HOST_MAX characters; the port is 1..65535. @host (@hsize bytes)
 * receives the host, *port the port or 0. 0, or -1 with ERR_INVALID.
 */
int ipmi_address_parse(const char *addr, char *host, size_t hsize,
                       int *port);
/* 0 when @user is a usable IPMI user name (1..IPMI_USER_MAX printable
 * ASCII characters, not starting with '-'), else -1 with ERR_INVALID. */
int ipmi_user_check(const char *user);
/* 0 when @pw is a usable IPMI password (at most IPMI_PASSWORD_MAX
 * printable ASCII characters), else -1 with ERR_INVALID. */
int ipmi_password_check(const char *pw);

/*
 * Run `ipmitool -I lanplus -H host [-p port] [-U user] [-C n] -E chassis
 * power <action>`. 0 on exit status 0; -1 with ERR_UNREACHABLE and
 * ipmitool's message when it failed, ERR_TIMEOUT when it was killed at
 * the deadline, ERR_ABORTED when cancelled, ERR_IO when it could not be
 * started (e.g. not installed).
 */
int ipmi_power(const struct ipmi_target *t, enum ipmi_power_action a);
/* `chassis power status`: *on receives the chassis power state. Errors as
 * ipmi_power(); output that is neither "on" nor "off" is ERR_UNREACHABLE. */
int ipmi_power_status(const struct ipmi_target *t, bool *on);

/*
 * Fill @out with the magic packet for @mac ("aa:bb:cc:dd:ee:ff", '-' also
 * accepted as the separator). 0, or -1 with ERR_INVALID.
 */
int ipmi_wol_packet(const char *mac, unsigned char out[IPMI_WOL_PACKET_LEN]);
/*
 * Send the magic packet for @mac to @address (a numeric IPv4 or IPv6
 * address, e.g. 255.255.255.255) UDP port @port, with SO_BROADCAST.
 * 0, or -1 with ERR_INVALID (bad MAC or address) or ERR_IO.
 */
int ipmi_wol_send(const char *mac, const char *address, int port);

#endif
