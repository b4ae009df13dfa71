/* percore-sub — the receiving end of bench/events.sh's PUBLISH fan-out: N
 * connections SUBSCRIBE to one channel; the program counts the messages each
 * receives and exits once every connection has had M of them (or after
 * --timeout seconds), printing
 *   received=<all messages> seconds=<first to last> per_s=<received/seconds>
 * "ready" goes to stdout once every SUBSCRIBE is confirmed, so that the
 * script starts the publisher only then. One thread, one epoll set; replies
 * are parsed by hiredis's reader, as percore-bench does (bench/percore-bench/
 * conn.c). Exit status: 0 done, 1 timed out or a connection failed, 2 usage. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    redisContext *ctx;
    redisReader *reader;
    long got;
} sub_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: percore-sub [--host H] [--port P] [--subscribers N] [--channel C]\n"
                    "                   [--messages M] [--timeout SEC]\n"
                    "N connections SUBSCRIBE to C; exit when each has received M messages.\n"
                    "Defaults: 127.0.0.1 6379, 100 subscribers, channel fanout, 10000, 60 s.\n");
    return 2;
}

/* 1 when r is a Pub/Sub "message" (the connections speak RESP2: Debian 12's
 * hiredis 0.14 has no RESP3). */
static int is_message(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
           r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len == 7 &&
           memcmp(r->element[0]->str, "message", 7) == 0;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *channel = "fanout";
    long port = 6379, nsubs = 100, want = 10000;
    double timeout = 60;
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'h'},     {"port", required_argument, NULL, 'p'},
        {"subscribers", required_argument, NULL, 'n'}, {"channel", required_argument, NULL, 'c'},
        {"messages", required_argument, NULL, 'm'}, {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'h': host = optarg; break;
        case 'p': port = strtol(optarg, NULL, 10); break;
        case 'n': nsubs = strtol(optarg, NULL, 10); break;
        case 'c': channel = optarg; break;
        case 'm': want = strtol(optarg, NULL, 10); break;
        case 't': timeout = strtod(optarg, NULL); break;
        default: return usage();
        }
    }
    if (optind != argc || port <= 0 || port > 65535 || nsubs <= 0 || nsubs > 100000 || want <= 0 ||
        timeout <= 0)
        return usage();

    sub_t *subs = calloc((size_t)nsubs, sizeof *subs);
    int ep = epoll_create1(0);
    if (!subs || ep < 0) {
        perror("percore-sub");
        return 1;
    }
    for (long i = 0; i < nsubs; i++) {
        sub_t *s = &subs[i];
        s->ctx = redisConnect(host, (int)port);
        if (!s->ctx || s->ctx->err) {
            fprintf(stderr, "percore-sub: connect %s:%ld: %s\n", host, port,
                    s->ctx ? s->ctx->errstr : "out of memory");
            return 1;
        }
        redisReply *r = redisCommand(s->ctx, "SUBSCRIBE %s", channel);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
            fprintf(stderr, "percore-sub: SUBSCRIBE failed: %s\n",
                    r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply") : s->ctx->errstr);
            return 1;
        }
        freeReplyObject(r);
        /* From here on the socket is read by the epoll loop, with a reader of
         * our own (the context's may hold nothing: SUBSCRIBE's reply was all). */
        s->reader = redisReaderCreate();
        fcntl(s->ctx->fd, F_SETFL, fcntl(s->ctx->fd, F_GETFL) | O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, s->ctx->fd, &ev) != 0) {
            perror("percore-sub: epoll_ctl");
            return 1;
        }
    }
    printf("ready\n");
    fflush(stdout);

    long done = 0, received = 0;
    double first = 0, last = 0, give_up = now_s() + timeout;
    static char buf[1 << 16];
    struct epoll_event evs[256];
    while (done < nsubs) {
        double left = give_up - now_s();
        if (left <= 0)
            break;
        int n = epoll_wait(ep, evs, 256, (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR) {
            perror("percore-sub: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            sub_t *s = evs[i].data.ptr;
            ssize_t got = read(s->ctx->fd, buf, sizeof buf);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                fprintf(stderr, "percore-sub: a subscriber's connection closed after %ld messages\n",
                        s->got);
                return 1;
            }
            if (got <= 0)
                continue;
            if (redisReaderFeed(s->reader, buf, (size_t)got) != REDIS_OK) {
                fprintf(stderr, "percore-sub: protocol error: %s\n", s->reader->errstr);
                return 1;
            }
            void *rep;
            while (redisReaderGetReply(s->reader, &rep) == REDIS_OK && rep) {
                if (is_message(rep)) {
                    if (!received)
                        first = now_s();
                    received++;
                    if (++s->got == want)
                        done++;
                }
                freeReplyObject(rep);
            }
            last = now_s();
        }
    }
    double secs = received > 1 ? last - first : 0;
    printf("received=%ld seconds=%.6f per_s=%.0f\n", received, secs, secs > 0 ? received / secs : 0);
    for (long i = 0; i < nsubs; i++) {
        redisReaderFree(subs[i].reader);
        redisFree(subs[i].ctx);
    }
    free(subs);
    close(ep);
    if (done < nsubs) {
        fprintf(stderr, "percore-sub: timed out: %ld of %ld subscribers got %ld messages\n", done,
                nsubs, want);
        return 1;
    }
    return 0;
}
