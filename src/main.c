/*
 * main.c - ovmmd start-up, signal loop and shutdown.
 *
 * DESIGN: start-up runs in the order of dependencies, and shutdown in the
 * reverse: config -> data-directory lock -> log -> database (migrations,
 * integrity check) -> authentication (first-start administrator) -> TLS
 * certificate -> [detach] -> REST API -> HTTP listening with the Manager
 * STARTING -> start-up work (job recovery, job workers, the monitor,
 * whose first cycle reconciles every server) -> RUNNING. Clients can
 * connect while the Manager is STARTING and read, but every change gets
 * 503 until RUNNING.
 *
 * Threads: libmicrohttpd's own. The main thread blocks SIGTERM, SIGINT
 * and SIGHUP before any thread exists (so they inherit the mask) and
 * takes them synchronously with sigtimedwait(), which also paces
 * housekeeping; no async-signal-safety concerns anywhere.
 *
 * Without --foreground ovmmd detaches: the child does all the start-up
 * and writes its messages into a pipe that the parent copies to its
 * stdout until the child says it is ready, so failures and the
 * first-start password are still seen by whoever started it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "auth/auth.h"
#include "db/db.h"
#include "http/http.h"
#include "hv/hv.h"
#include "jobs/jobs.h"
#include "ovmmd.h"
#include "policy/monitor.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/fetch.h"
#include "util/lockfile.h"
#include "util/ovf.h"
#include "util/secret.h"
#include "util/log.h"
#include "util/str.h"

LOG_MODULE("main");

/* How often housekeeping runs (session purge), in seconds. */
#define HOUSEKEEPING_S 60
/* Running jobs get this long to finish when ovmmd stops, then are
 * aborted (their completed operations undone). */
#define JOBS_STOP_GRACE_MS 10000
/* The line a detached child sends its parent once it serves. */
#define READY_LINE "\001ovmmd-ready\n"

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: ovmmd [options]                 run the Manager\n"
            "       ovmmd backup FILE [options]     online backup of the database\n"
            "       ovmmd restore FILE [options]    replace the database (ovmmd stopped)\n"
            "       ovmmd user add NAME [--role administrator|operator|read-only]\n"
            "       ovmmd user passwd|lock|unlock NAME\n"
            "       ovmmd user list\n"
            "options:\n"
            "  --config FILE       read FILE (see packaging/ovmmd.conf)\n"
            "  --data-dir DIR      data directory (default ./var)\n"
            "  --listen ADDR:PORT  HTTPS address (default 127.0.0.1:7002)\n"
            "  --foreground        stay in the foreground, log to stderr too\n"
            "  --set KEY=VALUE     set any configuration key\n"
            "  --simulate N        provide N simulated servers sim-1..N\n"
            "  --version, --help\n"
            "Passwords for 'user add' and 'user passwd' are read from stdin.\n");
}

static char *
under(const char *dir, const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

void
paths_init(struct paths *p, const struct config *c)
{
    const char *d = c->data_dir;

    p->db = under(d, "ovmm.db");
    p->lock = under(d, "ovmmd.lock");
    if (str_eq(c->log_file, "-"))
        p->log = NULL;
    else
        p->log = *c->log_file ? xstrdup(c->log_file) : under(d, "logs/ovmmd.log");
    p->cert = *c->tls_cert ? xstrdup(c->tls_cert) : under(d, "tls/server.crt");
    p->key = *c->tls_key ? xstrdup(c->tls_key) : under(d, "tls/server.key");
    p->admin_pw = under(d, "admin-password");
    p->port = under(d, "ovmmd.port");
    p->http_port = under(d, "ovmmd.http-port");
    p->web_root = xstrdup(*c->web_root ? c->web_root : OVMM_WEB_ROOT);
    p->secret_key = under(d, "secret.key");
    p->sim_dir = under(d, "sim");
    p->tmp_dir = under(d, "tmp");
}

void
paths_release(struct paths *p)
{
    xfree(p->db);
    xfree(p->lock);
    xfree(p->log);
    xfree(p->cert);
    xfree(p->key);
    xfree(p->admin_pw);
    xfree(p->port);
    xfree(p->http_port);
    xfree(p->web_root);
    xfree(p->secret_key);
    xfree(p->sim_dir);
    xfree(p->tmp_dir);
    memset(p, 0, sizeof(*p));
}

/* Write @text to @path atomically with @mode. */
static int
write_file(const char *path, const char *text, mode_t mode)
{
    char *AUTOFREE tmp = xasprintf("%s.tmp", path);
    size_t len = strlen(text);
    int fd;

    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        goto fail;
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        goto fail;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        goto fail;
    }
    return 0;

 fail:
    err_set(ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    return -1;
}

/*
 * On the first start (no users at all) create the administrator 'admin'
 * with a random password, print it once and keep it 0600 in the data
 * directory so it can be read again by whoever owns the directory.
 */
static int
bootstrap_admin(struct db *db, const struct paths *p)
{
    char *AUTOFREE pw = NULL;
    char *AUTOFREE hash = NULL;
    char *AUTOFREE line = NULL;
    int64_t n;

    if (db_user_count(db, &n) < 0)
        return -1;
    if (n > 0)
        return 0;
    pw = auth_password_generate();
    hash = auth_password_hash(pw);
    if (!hash)
        return -1;
    line = xasprintf("%s\n", pw);
    if (write_file(p->admin_pw, line, 0600) < 0)
        return -1;
    if (db_user_create(db, "admin", "administrator", hash, NULL, NULL) < 0)
        return -1;
    printf("ovmmd: created administrator 'admin' with password: %s\n"
           "ovmmd: (the password is also in '%s', readable only by you)\n",
           pw, p->admin_pw);
    fflush(stdout);
    log_info("first start: created administrator 'admin' (password in '%s')",
             p->admin_pw);
    return 0;
}

static int
write_port(const char *path, unsigned port)
{
    char text[16];

    snprintf(text, sizeof(text), "%u\n", port);
    return write_file(path, text, 0644);
}

/*
 * Detach: fork; the parent copies the child's start-up output (a pipe on
 * the child's stdout and stderr) to its own stdout and exits 0 when the
 * child sends READY_LINE, 1 when the pipe closes without it.
 */
static int
detach(void)
{
    int pfd[2], devnull;
    pid_t pid;

    if (pipe(pfd) < 0)
        fatal("cannot create a pipe");
    pid = fork();
    if (pid < 0)
        fatal("cannot fork");
    if (pid > 0) {
        char buf[512];
        size_t rl = strlen(READY_LINE);
        ssize_t n;

        close(pfd[1]);
        while ((n = read(pfd[0], buf, sizeof(buf))) > 0) {
            if ((size_t)n >= rl && memcmp(buf + n - rl, READY_LINE, rl) == 0) {
                fwrite(buf, 1, (size_t)n - rl, stdout);
                fflush(stdout);
                _exit(0);
            }
            fwrite(buf, 1, (size_t)n, stdout);
            fflush(stdout);
        }
        fflush(stdout);
        waitpid(pid, NULL, 0);
        _exit(1);
    }
    close(pfd[0]);
    setsid();
    devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    dup2(pfd[1], STDOUT_FILENO);
    dup2(pfd[1], STDERR_FILENO);
    close(pfd[1]);
    return 0;
}

/* Tell the parent we are up and stop writing to the pipe. */
static void
detach_done(void)
{
    int devnull = open("/dev/null", O_WRONLY);

    fputs(READY_LINE, stdout);
    fflush(stdout);
    if (devnull >= 0) {
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
        close(devnull);
    }
}

/* Wait for a signal in @set for up to @ms; returns the signal or 0. */
static int
wait_signal(const sigset_t *set, int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    int sig;

    do {
        sig = sigtimedwait(set, NULL, &ts);
    } while (sig < 0 && errno == EINTR);
    return sig < 0 ? 0 : sig;
}

static int
run_daemon(struct config *c, const char *config_path, bool foreground)
{
    struct paths p;
    struct db *db = NULL;
    struct http_server *http = NULL;
    struct auth_conf ac;
    struct http_conf hc;
    struct api_conf apc;
    struct jobs_conf jc;
    bool jobs_running = false;
    struct monitor *mon = NULL;
    enum log_level level;
    sigset_t sigs;
    char *AUTOFREE host = NULL;
    int lockfd = -1, ret = 1, sig;
    bool wrote_ports = false;
    int64_t start_ms, until;
    bool stop = false;

    paths_init(&p, c);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (fs_mkdir_p(c->data_dir, 0700) < 0) {
        fprintf(stderr, "ovmmd: %s\n", err_message());
        goto cleanup;
    }
    lockfd = lockfile_acquire(p.lock, c->data_dir);
    if (lockfd < 0) {
        fprintf(stderr, "ovmmd: %s\n", err_message());
        goto cleanup;
    }
    if (!foreground) {
        detach();
        lockfile_write_pid(lockfd);
    }
    if (log_level_parse(c->log_level, &level) < 0)
        level = LOG_LEVEL_INFO;
    if (p.log && fs_mkdir_parent(p.log, 0700) < 0) {
        fprintf(stderr, "ovmmd: %s\n", err_message());
        goto cleanup;
    }
    if (log_open(p.log, foreground, level) < 0) {
        fprintf(stderr, "ovmmd: %s\n", err_message());
        goto cleanup;
    }
    start_ms = time_mono_ms();
    log_info("ovmmd %s starting on data directory '%s' (pid %ld)",
             OVMM_VERSION, c->data_dir, (long)getpid());

    db = db_open(p.db);
    if (!db) {
        log_errorx("cannot open the inventory: %s", err_message());
        fprintf(stderr, "ovmmd: %s\n", err_message());
        goto cleanup;
    }
    apc = (struct api_conf){
        .db = db,
        .default_host = c->listen,
        .session_lifetime_s = c->session_lifetime,
        .max_list_limit = c->list_limit_max,
        .default_list_limit = c->list_limit_default,
        .job_wait_max = c->job_wait_max,
        .job_diagnostics = c->job_diagnostics,
        .hv_uri_template = c->hv_uri_template,
        .sim_dir = c->simulate > 0 ? p.sim_dir : NULL,
        .agent_login = c->agent_login,
        .default_agent_password = c->default_agent_password,
        .ipmi_timeout_ms = c->ipmi_timeout * 1000,
        .ipmi_cipher_suite = (int)c->ipmi_cipher_suite,
        .power_confirm_ms = c->power_confirm_timeout * 1000,
        .wol_address = c->wol_address,
        .wol_port = (int)c->wol_port,
        .import_allow = c->import_allow,
        .import_max_bytes = c->import_max_size,
        .import_timeout_ms = c->import_timeout * 1000,
        .tmp_dir = p.tmp_dir,
    };
    api_init(&apc);
    jc = (struct jobs_conf){
        .db = db,
        .workers = c->job_workers ? (int)c->job_workers
                                  : (int)sysconf(_SC_NPROCESSORS_ONLN) + 1,
        .priority_workers = (int)c->job_priority_workers,
        .lock_timeout_ms = c->job_lock_timeout * 1000,
        .retention_ms = c->job_retention_days * 86400 * 1000,
        .event_retention_ms = c->event_retention_days * 86400 * 1000,
    };
    if (jobs_init(&jc) < 0)
        goto fail_msg;
    if (api_set_run_state(RUN_STARTING) < 0 ||
        db_manager_set_info(db, c->manager_name, OVMM_VERSION) < 0)
        goto fail_msg;

    ac = (struct auth_conf){
        .max_failures = c->login_max_failures,
        .lockout_ms = c->login_lockout_seconds * 1000,
        .session_idle_ms = c->session_idle_timeout * 1000,
        .session_lifetime_ms = c->session_lifetime * 1000,
        .strength = c->password_strength,
    };
    if (auth_init(db, &ac) < 0 || bootstrap_admin(db, &p) < 0)
        goto fail_msg;
    if (secret_init(p.secret_key) < 0)
        goto fail_msg;
    /* Imports (docs/STORAGE.md): libcurl and libxml2's parser, set up once
     * here before any job thread exists. */
    if (fetch_global_init() < 0)
        goto fail_msg;
    ovf_global_init();
    if (c->simulate > 0) {
        char *AUTOFREE seed = db_manager_id(db);

        if (!seed || hv_sim_generate(p.sim_dir, (unsigned)c->simulate,
                                     seed) < 0)
            goto fail_msg;
        log_info("simulating %lld server(s): sim-1 .. sim-%lld (node files "
                 "in '%s')", (long long)c->simulate, (long long)c->simulate,
                 p.sim_dir);
    }

    /* The host part of listen: "[::1]:7002" -> "::1", "a.b:7002" -> "a.b". */
    if (c->listen[0] == '[') {
        host = xstrdup(c->listen + 1);
        host[strcspn(host, "]")] = '\0';
    } else {
        host = xstrdup(c->listen);
        if (strchr(host, ':'))
            *strrchr(host, ':') = '\0';
    }
    if (http_cert_ensure(p.cert, p.key, *host ? host : "localhost") < 0)
        goto fail_msg;

    hc = (struct http_conf){
        .listen = c->listen,
        .http_listen = c->http_listen,
        .cert_file = p.cert,
        .key_file = p.key,
        .tls = true,
        .max_body = (size_t)c->max_body_bytes,
        .timeout_s = (unsigned)c->connection_timeout,
        .max_conns = (unsigned)c->max_connections,
        .max_conns_per_ip = (unsigned)c->max_connections_per_ip,
        .threads = c->http_threads ? (unsigned)c->http_threads
                                   : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
        .web_root = p.web_root,
    };
    http = http_server_start(&hc);
    if (!http)
        goto fail_msg;
    wrote_ports = true;
    if (write_port(p.port, http_server_port(http, false)) < 0)
        goto fail_msg;
    if (*c->http_listen &&
        write_port(p.http_port, http_server_port(http, true)) < 0)
        goto fail_msg;
    log_info("listening on https://%s (port %u)%s", c->listen,
             http_server_port(http, false),
             *c->http_listen ? ", HTTP redirector on" : "");

    /* Start-up work: stale sessions; jobs a crash interrupted are undone
     * and failed, no lock survives; then the workers start and the jobs
     * still queued run again. Changes stay refused until RUNNING. */
    if (db_session_purge(db, time_now_ms(), c->session_idle_timeout * 1000) < 0)
        log_warnx("cannot purge sessions: %s", err_message());
    if (jobs_recover() < 0 || jobs_start() < 0)
        goto fail_msg;
    jobs_running = true;
    /* Monitoring: its first cycle is the start-up reconciliation
     * (docs/MONITORING.md). It writes through db/ on its own threads and
     * never waits on the job engine or HTTP. */
    if (c->monitor_interval > 0) {
        struct monitor_conf mc = {
            .db = db,
            .interval_ms = c->monitor_interval * 1000,
            .timeout_ms = c->monitor_timeout * 1000,
            .threads = (int)c->monitor_threads,
        };

        mon = monitor_new(&mc);
        if (!mon || monitor_start(mon) < 0)
            goto fail_msg;
    } else {
        log_info("monitoring is off (monitor_interval = 0)");
    }

    /* startup_delay_ms: stay STARTING (a testing aid), still obeying
     * SIGTERM. */
    until = time_mono_ms() + c->startup_delay_ms;
    while (!stop && time_mono_ms() < until) {
        sig = wait_signal(&sigs, until - time_mono_ms());
        if (sig == SIGTERM || sig == SIGINT)
            stop = true;
    }
    if (!stop) {
        if (api_set_run_state(RUN_RUNNING) < 0)
            goto fail_msg;
        log_info("ready in %lld ms", (long long)(time_mono_ms() - start_ms));
        printf("ovmmd %s is RUNNING: console https://%s:%u/ovm/console/ , "
               "REST https://%s:%u%s (user 'admin')\n", OVMM_VERSION, host,
               http_server_port(http, false), host,
               http_server_port(http, false), API_BASE);
        fflush(stdout);
        if (!foreground)
            detach_done();
    }

    while (!stop) {
        sig = wait_signal(&sigs, HOUSEKEEPING_S * 1000);
        switch (sig) {
        case SIGTERM:
        case SIGINT:
            log_info("signal %d: stopping", sig);
            stop = true;
            break;
        case SIGHUP:
            if (config_path && config_reload(c, config_path) < 0)
                log_warnx("config reload failed: %s", err_message());
            if (log_level_parse(c->log_level, &level) == 0)
                log_set_level(level);
            if (log_reopen() < 0)
                log_warnx("%s", err_message());
            log_info("SIGHUP: configuration reloaded, log reopened");
            break;
        default:
            if (db_session_purge(db, time_now_ms(),
                                 c->session_idle_timeout * 1000) < 0)
                log_warnx("cannot purge sessions: %s", err_message());
            break;
        }
    }

    /* Graceful stop: no new connections, in-flight requests finish;
     * running jobs get a grace period, then are aborted and undone;
     * queued jobs stay queued for the next start. */
    if (api_set_run_state(RUN_STOPPING) < 0)
        log_warnx("cannot record STOPPING: %s", err_message());
    http_server_quiesce(http);
    monitor_free(mon);
    mon = NULL;
    jobs_stop(JOBS_STOP_GRACE_MS);
    jobs_running = false;
    http_server_stop(http);
    http = NULL;
    ret = 0;
    log_info("stopped");
    goto cleanup;

 fail_msg:
    log_errorx("start-up failed: %s", err_message());
    fprintf(stderr, "ovmmd: %s\n", err_message());
 cleanup:
    monitor_free(mon);
    if (jobs_running)
        jobs_stop(0);
    http_server_stop(http);
    /* Only our own: a refused second daemon must not touch the first's. */
    if (wrote_ports) {
        unlink(p.port);
        unlink(p.http_port);
    }
    api_shutdown();
    auth_shutdown();
    hv_shutdown();
    fetch_global_cleanup();
    db_close(db);
    lockfile_release(lockfd);
    paths_release(&p);
    log_close();
    return ret;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "data-dir", required_argument, NULL, 'd' },
        { "listen", required_argument, NULL, 'l' },
        { "foreground", no_argument, NULL, 'f' },
        { "set", required_argument, NULL, 's' },
        { "role", required_argument, NULL, 'r' },
        { "simulate", required_argument, NULL, 'S' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct config c;
    const char *config_path = NULL;
    bool foreground = false;
    char **sets;
    size_t nsets = 0, i;
    const char *data_dir = NULL, *listen = NULL, *role = NULL;
    const char *simulate = NULL;
    int opt, ret;

    /* Options may follow subcommands ("ovmmd user add bob --data-dir x"):
     * GNU getopt permutes them to the front. --role belongs to "user add"
     * but is parsed here for that reason. */
    sets = xcalloc((size_t)argc, sizeof(*sets));
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 's':
            sets[nsets++] = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 'S':
            simulate = optarg;
            break;
        case 'V':
            printf("ovmmd %s\n", OVMM_VERSION);
            xfree(sets);
            return 0;
        case 'h':
            usage(stdout);
            xfree(sets);
            return 0;
        default:
            usage(stderr);
            xfree(sets);
            return 2;
        }
    }
    config_init(&c);
    if (!config_path)
        config_path = getenv("OVMMD_CONFIG");
    if (config_path && config_load(&c, config_path) < 0)
        goto fail;
    for (i = 0; i < nsets; i++) {
        char *AUTOFREE kv = xstrdup(sets[i]);
        char *eq = strchr(kv, '=');

        if (!eq) {
            err_set(ERR_CONFIG, "--set needs KEY=VALUE, not '%s'", sets[i]);
            goto fail;
        }
        *eq = '\0';
        if (config_set(&c, kv, eq + 1) < 0)
            goto fail;
    }
    if ((data_dir && config_set(&c, "data_dir", data_dir) < 0) ||
        (listen && config_set(&c, "listen", listen) < 0) ||
        (simulate && config_set(&c, "simulate", simulate) < 0))
        goto fail;
    xfree(sets);
    sets = NULL;

    if (optind < argc)
        ret = admin_main(&c, role, argc - optind, argv + optind);
    else
        ret = run_daemon(&c, config_path, foreground);
    config_release(&c);
    return ret;

 fail:
    fprintf(stderr, "ovmmd: %s\n", err_message());
    xfree(sets);
    config_release(&c);
    return 2;
}
