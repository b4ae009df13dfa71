/* Unit tests of netutil: the loopback rule of protected mode, the DENIED
 * refusal (text, close, counter), and tcp-keepalive's socket options. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "netutil.h"

static int loopback4(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return net_is_loopback((struct sockaddr *)&a);
}

static int loopback6(const char *ip)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return net_is_loopback((struct sockaddr *)&a);
}

static void test_loopback(void **state)
{
    assert_true(loopback4("127.0.0.1"));
    assert_true(loopback4("127.1.2.3"));
    assert_true(loopback4("127.255.255.255"));
    assert_false(loopback4("128.0.0.1"));
    assert_false(loopback4("126.255.255.255"));
    assert_false(loopback4("10.0.0.1"));
    assert_false(loopback4("0.0.0.0"));
    assert_false(loopback4("192.0.2.127"));
    assert_true(loopback6("::1"));
    assert_true(loopback6("::ffff:127.0.0.1"));
    assert_true(loopback6("::ffff:127.9.9.9"));
    assert_false(loopback6("::ffff:10.0.0.1"));
    assert_false(loopback6("::"));
    assert_false(loopback6("::2"));
    assert_false(loopback6("fe80::1"));
    assert_false(loopback6("::127.0.0.1")); /* IPv4-compatible, not mapped */
    struct sockaddr un = {.sa_family = AF_UNIX};
    assert_false(net_is_loopback(&un));
}

static int getint(int fd, int level, int opt)
{
    int v = -1;
    socklen_t l = sizeof v;
    assert_int_equal(getsockopt(fd, level, opt, &v, &l), 0);
    return v;
}

static void test_keepalive(void **state)
{
    static const struct {
        int secs, idle, intvl;
    } cases[] = {{300, 300, 100}, {7, 7, 2}, {2, 2, 1}, {1, 1, 1}, {32767, 32767, 10922}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(net_keepalive(fd, cases[i].secs), 0);
        assert_int_equal(getint(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
        assert_int_equal(getint(fd, IPPROTO_TCP, TCP_KEEPIDLE), cases[i].idle);
        assert_int_equal(getint(fd, IPPROTO_TCP, TCP_KEEPINTVL), cases[i].intvl);
        assert_int_equal(getint(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
        close(fd);
    }
    /* 0 (off) leaves the socket as it was */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(net_keepalive(fd, 0), 0);
    assert_int_equal(getint(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
    close(fd);
}

/* A connected pair: *server is what accept() would give, *client its peer. */
static void pair(int *server, int *client)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *server = sv[0];
    *client = sv[1];
}

static size_t read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
        n += (size_t)r;
    return n;
}

static void test_protected_refuse(void **state)
{
    char err[256];
    config_defaults();
    struct sockaddr_in remote = {.sin_family = AF_INET, .sin_port = htons(4321)};
    struct sockaddr_in local = remote;
    inet_pton(AF_INET, "192.0.2.7", &remote.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
    int s, c;

    /* loopback: accepted, fd untouched */
    pair(&s, &c);
    assert_int_equal(net_protected_refuse(s, (struct sockaddr *)&local, 0), 0);
    assert_int_equal(write(s, "x", 1), 1);
    close(s);
    close(c);

    /* another address, no password, protected: DENIED, closed */
    pair(&s, &c);
    assert_int_equal(net_protected_refuse(s, (struct sockaddr *)&remote, 0), 1);
    char buf[4096];
    size_t n = read_all(c, buf, sizeof buf - 1);
    buf[n] = '\0';
    close(c);
    const char *head = "-DENIED percore is running in protected mode because protected mode is "
                       "enabled and no password is set for the default user. In this mode "
                       "connections are only accepted from the loopback interface. ";
    assert_memory_equal(buf, head, strlen(head));
    assert_non_null(strstr(buf, "'CONFIG SET protected-mode no'"));
    assert_non_null(strstr(buf, "'--protected-mode no'"));
    assert_string_equal(buf + n - strlen("from the outside.\r\n"), "from the outside.\r\n");
    assert_null(memchr(buf, '\n', n - 1)); /* one line */

    /* the default user has a password (the caller says), or protected-mode
     * no: accepted */
    pair(&s, &c);
    assert_int_equal(net_protected_refuse(s, (struct sockaddr *)&remote, 1), 0);
    close(s);
    close(c);
    assert_int_equal(config_set_arg("security.protected-mode", "no", err, sizeof err), 0);
    pair(&s, &c);
    assert_int_equal(net_protected_refuse(s, (struct sockaddr *)&remote, 0), 0);
    close(s);
    close(c);
    config_teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_keepalive),
        cmocka_unit_test(test_protected_refuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
