/* fuzz_dispatch — command dispatch through the real server, in-process.
 *
 * LLVMFuzzerInitialize wires the modules as server/main.c does (one worker,
 * share-nothing; PERCORE_FUZZ_THREADS / PERCORE_FUZZ_POLICY override) and runs
 * worker_run on a thread of its own, listening on a free loopback port. Each
 * input is written to a fresh TCP connection, which is then half-closed; the
 * harness reads the replies until the server has closed the connection. So an
 * input goes through everything a client's bytes go through: read, parse,
 * queue, precheck, the scheduler, the handlers (scripts included), replies,
 * the output buffer and the close. The replies must be well-formed RESP2/3 (a
 * stream the server may cut short when it closes with output pending).
 *
 * Between inputs the state goes back to a fixed point, so an input replays the
 * same way: every runtime option is reset (config_set_runtime, any thread),
 * the users too (acl_load_text: the default user alone), then FLUSHALL (and SCRIPT FLUSH after scripts) runs on a second, long-lived
 * "admin" connection. The configuration keeps one input small and quick:
 * maxmemory 32mb (allkeys-lru), proto-max-bulk-len 1mb, a 4mb hard output limit,
 * busy-reply-threshold 20 ms and a 16mb Lua limit; inputs that would CONFIG
 * SET those (or loglevel), SHUTDOWN the server, or ask SRANDMEMBER, ZRANDMEMBER
 * or HRANDFIELD for more than 100000 repeated members are rejected before they
 * run (the harness parses them with the server's own parser).
 *
 * A script that never returns: after 1 s the harness sends SCRIPT KILL on the
 * admin connection; if the script has written (UNKILLABLE) and still runs 2 s
 * later, the server is shut down (which stops scripts) and started afresh.
 * Anything else that does not answer is a hang for libFuzzer's -timeout.
 * At exit the server is shut down and every module torn down, so
 * LeakSanitizer sees only what the server leaked. PERCORE_FUZZ_SHOW=1 prints
 * each input's replies (to check a seed). Seeds: corpus/dispatch. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acl.h"
#include "all_commands.h"
#include "client.h"
#include "command.h"
#include "config.h"
#include "fuzz_util.h"
#include "log.h"
#include "scheduler.h"
#include "script.h"
#include "server.h"
#include "store.h"
#include "worker.h"

/* Runtime options held at these values (the others at their defaults). */
static const struct {
    const char *key, *value;
    int locked; /* an input may not CONFIG SET it */
} fuzz_opts[] = {
    {"loglevel", "warning", 1},
    {"maxmemory", "32mb", 1},
    {"maxmemory-policy", "allkeys-lru", 0},
    {"proto-max-bulk-len", "1mb", 1},
    {"client-query-buffer-limit", "1mb", 1},
    {"client-output-buffer-limit", "normal 4mb 0 0", 1},
    {"busy-reply-threshold", "20", 1},
    {"memory-limit", "16mb", 1},
};
#define NFUZZ_OPTS (sizeof fuzz_opts / sizeof fuzz_opts[0])

#define REPLY_KEEP (16u << 20) /* replies kept for checking; the rest is drained */
#define KILL_AFTER_MS 1000     /* no end of replies yet: SCRIPT KILL */
#define RESTART_AFTER_MS 3000  /* still none: restart the server */

static pthread_t server_thread;
static int server_port, admin_fd = -1;
static int nthreads = 1;
static int show_replies; /* PERCORE_FUZZ_SHOW=1: print each input's replies */

static uint64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- configuration --------------------------------------------------------- */

static void set_arg(const char *section, const char *key, const char *value)
{
    char name[128], err[512];
    snprintf(name, sizeof name, "%s.%s", section, key);
    if (config_set_arg(name, value, err, sizeof err) != 0)
        fuzz_fail("setup: %s", err);
}

static void reset_runtime(void)
{
    const config_opt_t *opts[CONFIG_NOPTS];
    sv_t vals[CONFIG_NOPTS];
    int n = 0, bad = 0;
    for (int i = 0; i < CONFIG_NOPTS; i++) {
        const config_opt_t *o = &config_opts[i];
        if (!(o->flags & CFGF_RUNTIME))
            continue;
        const char *v = o->def;
        for (size_t j = 0; j < NFUZZ_OPTS; j++)
            if (strcmp(fuzz_opts[j].key, o->name) == 0)
                v = fuzz_opts[j].value;
        opts[n] = o;
        vals[n++] = (sv_t){v, strlen(v)};
    }
    char err[256];
    if (config_set_runtime(n, opts, vals, &bad, err, sizeof err) != 0)
        fuzz_fail("resetting %s: %s", opts[bad]->name, err);
}

/* Back to the default user alone, allowed everything, and an empty ACL LOG:
 * an input may have changed users (the admin connection is the default user). */
static void reset_users(void)
{
    static const char users[] = "user default on nopass ~* &* +@all\n";
    buf_t err;
    buf_init(&err);
    if (acl_load_text("fuzz", users, sizeof users - 1, &err) != 0)
        fuzz_fail("resetting the users: %s", buf_cstr(&err));
    buf_free(&err);
    acl_apply_requirepass();
    acl_log_reset();
}

static void configure(void)
{
    char err[512];
    const char *env_threads = getenv("PERCORE_FUZZ_THREADS");
    const char *env_policy = getenv("PERCORE_FUZZ_POLICY");
    config_defaults();
    set_arg("server", "threads", env_threads ? env_threads : "1");
    set_arg("server", "pin-threads", "no");
    set_arg("server", "bind", "127.0.0.1");
    set_arg("scheduler", "policy", env_policy ? env_policy : "share-nothing");
    for (size_t j = 0; j < NFUZZ_OPTS; j++) {
        const config_opt_t *o = config_lookup(fuzz_opts[j].key, strlen(fuzz_opts[j].key));
        set_arg(o->section, o->name, fuzz_opts[j].value);
    }
    if (config_finalize(1, err, sizeof err) != 0)
        fuzz_fail("setup: %s", err);
    nthreads = config_get_int(CFG_THREADS);
}

/* ---- the server ------------------------------------------------------------ */

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sl) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &sl) != 0)
        fuzz_fail("no free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

static void *server_main(void *arg)
{
    (void)arg;
    worker_run();
    return NULL;
}

static void server_start(void)
{
    char err[512], port[16];
    if (server_setup(nthreads, 0, NULL) != 0)
        fuzz_fail("setup: workers or scheduler");
    for (int tries = 0;; tries++) {
        server_port = free_port();
        snprintf(port, sizeof port, "%d", server_port);
        set_arg("server", "port", port);
        if (worker_listen(cfg.bind, server_port, 16, err, sizeof err) == 0)
            break;
        if (tries == 20)
            fuzz_fail("setup: %s", err);
    }
    if (pthread_create(&server_thread, NULL, server_main, NULL) != 0)
        fuzz_fail("setup: cannot start the server thread");
}

static void server_stop(void)
{
    if (admin_fd >= 0)
        close(admin_fd);
    admin_fd = -1;
    worker_request_shutdown();
    pthread_join(server_thread, NULL);
    server_teardown();
}

static void at_exit(void)
{
    server_stop();
    config_teardown();
    log_teardown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    show_replies = getenv("PERCORE_FUZZ_SHOW") != NULL;
    if (show_replies)
        fuzz_escaped_max = 100000;
    configure();
    log_setup(config_get_int(CFG_LOGLEVEL), cfg.logfile);
    server.start_ms = now_ms();
    memset(server.run_id, 'f', sizeof server.run_id - 1);
    server.allocator = "libc";
    server_start();
    atexit(at_exit);
    return 0;
}

/* ---- connections ----------------------------------------------------------- */

static int dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)server_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fuzz_fail("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        /* libFuzzer's SIGALRM (its -timeout clock) may interrupt connect(),
         * which then completes in the background. */
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = errno;
        socklen_t len = sizeof err;
        if (err == EINTR) {
            while (poll(&p, 1, 5000) < 0 && errno == EINTR)
                ;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
        }
        if (err)
            fuzz_fail("cannot connect to the server: %s", strerror(err));
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Send req on the admin connection and read until the reply holds `want`
 * (a suffix); returns the reply in out, or -1 when the connection failed. */
static int admin_call(const char *req, const char *want, buf_t *out, uint64_t timeout_ms)
{
    if (admin_fd < 0)
        admin_fd = dial();
    size_t n = strlen(req), wn = strlen(want);
    for (size_t sent = 0; sent < n;) {
        ssize_t w = send(admin_fd, req + sent, n - sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EINTR)
            return -1;
        sent += w > 0 ? (size_t)w : 0;
    }
    out->len = 0;
    uint64_t until = ms_now() + timeout_ms;
    while (out->len < wn || memcmp(out->data + out->len - wn, want, wn) != 0) {
        struct pollfd p = {.fd = admin_fd, .events = POLLIN};
        uint64_t now = ms_now();
        if (now >= until)
            return -1;
        int rc = poll(&p, 1, (int)(until - now));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            return -1;
        buf_reserve(out, 4096);
        ssize_t got = recv(admin_fd, out->data + out->len, out->cap - out->len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        out->len += (size_t)got;
    }
    return 0;
}

static void admin_reset(void)
{
    close(admin_fd);
    admin_fd = -1;
}

/* ---- the replies ----------------------------------------------------------- */

/* The line at p[0..n) up to its "\r\n": its length, or -1 when the stream ends
 * first. A bare '\r' or '\n' inside a line is a protocol error. */
static long line_len(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n')
            fuzz_fail("a reply line holds a bare \\n");
        if (p[i] == '\r') {
            if (i + 1 == n)
                return -1;
            if (p[i + 1] != '\n')
                fuzz_fail("a reply line holds a bare \\r");
            return (long)i;
        }
    }
    return -1;
}

static long long line_number(const char *p, long len, long long min)
{
    long i = p[0] == '-';
    long long v = 0;
    if (i == len || len - i > 19)
        fuzz_fail("bad number in a reply header: \"%.*s\"", (int)len, p);
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            fuzz_fail("bad number in a reply header: \"%.*s\"", (int)len, p);
        v = v * 10 + (p[i] - '0');
    }
    v = p[0] == '-' ? -v : v;
    if (v < min)
        fuzz_fail("%lld in a reply header", v);
    return v;
}

/* The stream must be a sequence of RESP2/RESP3 values; it may stop anywhere.
 * Each header is checked, and each bulk's length against its "\r\n" (an
 * aggregate's count is not: the stream may end before its elements). */
static void check_replies(const char *p, size_t n)
{
    size_t pos = 0;
    while (pos < n) {
        char t = p[pos];
        long len = line_len(p + pos + 1, n - pos - 1);
        if (len < 0)
            return;
        const char *line = p + pos + 1;
        pos += 1 + (size_t)len + 2;
        long long v;
        switch (t) {
        case '+':
        case '-':
        case ',':
            break;
        case ':':
        case '(':
            line_number(line, len, LLONG_MIN);
            break;
        case '_':
            if (len)
                fuzz_fail("a null reply with a body");
            break;
        case '#':
            if (len != 1 || (line[0] != 't' && line[0] != 'f'))
                fuzz_fail("a boolean reply that is not t or f");
            break;
        case '$':
        case '!':
        case '=':
            v = line_number(line, len, t == '$' ? -1 : 0);
            if (v < 0)
                break;
            if (n - pos < (size_t)v + 2)
                return;
            if (t == '=' && (v < 4 || p[pos + 3] != ':'))
                fuzz_fail("a verbatim reply without its format");
            if (p[pos + v] != '\r' || p[pos + v + 1] != '\n')
                fuzz_fail("a bulk reply of %lld bytes not followed by \\r\\n", v);
            pos += (size_t)v + 2;
            break;
        case '*':
        case '~':
        case '>':
            line_number(line, len, t == '*' ? -1 : 0);
            break;
        case '%':
        case '|':
            line_number(line, len, 0);
            break;
        default:
            fuzz_fail("a reply starts with 0x%02x", (unsigned char)t);
        }
    }
}

/* ---- the input -------------------------------------------------------------- */

enum { INPUT_RUN, INPUT_REJECT, INPUT_SCRIPTS };

/* A count below -100000: SRANDMEMBER s -9223372036854775807 asks for that
 * many replies, and gets them (Redis too would build them; the output limit
 * is checked only once the reply is complete): gigabytes, not a bug. */
static int huge_negative(sv_t v)
{
    char num[32];
    if (v.len == 0 || v.len >= sizeof num || v.p[0] != '-')
        return 0;
    memcpy(num, v.p, v.len);
    num[v.len] = '\0';
    return strtoll(num, NULL, 10) < -100000;
}

/* Parse the input as the server will (same parser, same limits), to refuse
 * what would change the fixed configuration or stop the server, and to know
 * whether scripts may have been cached. */
static int scan_input(const uint8_t *data, size_t size)
{
    resp_limits_t lim = {
        .max_bulk = config_get_u64(CFG_PROTO_MAX_BULK_LEN),
        .max_args = 1024 * 1024,
        .max_inline = 64 * 1024,
    };
    char *copy = xmalloc(size ? size : 1);
    memcpy(copy, data, size);
    argvec_t args = {0};
    int verdict = INPUT_RUN;
    for (size_t off = 0; off < size && verdict != INPUT_REJECT;) {
        resp_parse_t res;
        args.n = 0;
        if (resp_parse_request(copy + off, size - off, &lim, &args, &res) != RESP_OK)
            break;
        off += res.consumed;
        if (res.argc == 0)
            continue;
        sv_t *a = args.v;
        if (sv_eq_ci(a[0], "shutdown"))
            verdict = INPUT_REJECT;
        else if ((sv_eq_ci(a[0], "srandmember") || sv_eq_ci(a[0], "zrandmember") ||
                  sv_eq_ci(a[0], "hrandfield")) &&
                 res.argc > 2 && huge_negative(a[2]))
            verdict = INPUT_REJECT;
        else if (sv_eq_ci(a[0], "eval") || sv_eq_ci(a[0], "evalsha") ||
                 sv_eq_ci(a[0], "eval_ro") || sv_eq_ci(a[0], "evalsha_ro") ||
                 sv_eq_ci(a[0], "script"))
            verdict = INPUT_SCRIPTS;
        else if (sv_eq_ci(a[0], "config") && res.argc > 2 && sv_eq_ci(a[1], "set")) {
            for (int i = 2; i < res.argc; i += 2) {
                const config_opt_t *o = config_lookup(a[i].p, a[i].len);
                for (size_t j = 0; o && j < NFUZZ_OPTS; j++)
                    if (fuzz_opts[j].locked && strcmp(fuzz_opts[j].key, o->name) == 0)
                        verdict = INPUT_REJECT;
            }
        }
    }
    argvec_free(&args);
    free(copy);
    return verdict;
}

/* SCRIPT KILL; restart the server when the script cannot be killed. */
static int unstick(int stage, const uint8_t *data, size_t size)
{
    buf_t r;
    buf_init(&r);
    if (stage == 0) {
        reset_runtime(); /* the input may have raised busy-reply-threshold */
        if (admin_call("SCRIPT KILL\r\n", "\r\n", &r, 2000) != 0)
            admin_reset();
    } else {
        fprintf(stderr, "fuzz_dispatch: the server is stuck (a script that wrote and loops?); "
                        "restarting it\n");
        fuzz_print_escaped("the input", (const char *)data, size);
        server_stop();
        server_start();
    }
    buf_free(&r);
    return stage + 1;
}

/* Write the input, half-close, read until the server closes the connection. */
static void converse(const uint8_t *data, size_t size, buf_t *replies)
{
    int fd = dial(), stage = 0;
    size_t sent = 0;
    int writing = 1;
    uint64_t start = ms_now();
    if (size == 0) {
        shutdown(fd, SHUT_WR);
        writing = 0;
    }
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (writing ? POLLOUT : 0)};
        int rc = poll(&p, 1, 100);
        if (rc == 0) {
            uint64_t waited = ms_now() - start;
            if ((stage == 0 && waited > KILL_AFTER_MS) ||
                (stage == 1 && waited > RESTART_AFTER_MS))
                stage = unstick(stage, data, size);
            if (stage == 2)
                break; /* the old server and its end of the connection are gone */
            continue;
        }
        if (rc < 0 && errno == EINTR)
            continue;
        if (writing && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
            if (sent == size || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                shutdown(fd, SHUT_WR);
                writing = 0;
            }
        }
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            char chunk[16384];
            ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                break; /* closed (or reset: closed with our input unread) */
            if (n > 0 && replies->len + (size_t)n <= REPLY_KEEP)
                buf_append(replies, chunk, (size_t)n);
        }
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int verdict = scan_input(data, size);
    if (verdict == INPUT_REJECT)
        return -1;
    buf_t replies;
    buf_init(&replies);
    converse(data, size, &replies);
    if (show_replies)
        fuzz_print_escaped("replies", replies.data, replies.len);
    if (replies.len < REPLY_KEEP)
        check_replies(replies.data, replies.len);
    buf_free(&replies);

    reset_runtime();
    reset_users();
    const char *req = verdict == INPUT_SCRIPTS ? "FLUSHALL\r\nSCRIPT FLUSH\r\n" : "FLUSHALL\r\n";
    const char *want = verdict == INPUT_SCRIPTS ? "+OK\r\n+OK\r\n" : "+OK\r\n";
    buf_t r;
    buf_init(&r);
    /* The input may have killed the admin connection (CLIENT KILL): dial again. */
    if (admin_call(req, want, &r, 5000) != 0) {
        admin_reset();
        if (admin_call(req, want, &r, 5000) != 0)
            fuzz_fail("the server did not answer FLUSHALL: \"%.*s\"", (int)r.len, r.data);
    }
    buf_free(&r);
    return 0;
}
