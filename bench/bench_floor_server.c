/* bench_floor_server: the least work an HTTP/1.1 server can do per keep-alive request on
 * this machine, so bench_serve.sh can print it beside prep serve and nginx.
 *
 * One thread, level-triggered epoll, TCP_NODELAY; per readable connection one read (one
 * SSL_read over TLS), and for every complete request head in what was read one write of a
 * fixed response of exactly --size bytes, held in memory (always hot in the cache). It
 * parses nothing, looks nothing up and builds nothing: what it costs is the kernel's TCP
 * work on loopback (including the client's receive path, which runs in the sender's
 * context) and, over TLS, OpenSSL's record layer. No real server can cost less per
 * request with the same kernel, OpenSSL and response size; a target below this figure
 * cannot be met by any server built on them (docs/benchmarks.md, "The floor").
 *
 * Usage: bench_floor_server --listen PORT --size BYTES [--tls-cert PEM --tls-key PEM]
 * Prints "listening on 127.0.0.1:PORT" once ready; runs until killed. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "prep/tls.h"

typedef struct conn {
    int fd;
    SSL *ssl;
    int ready;          /* TLS handshake done (always 1 without TLS) */
    char tail[3];       /* the last bytes read, to find a head's end split across reads */
    size_t tail_len;
} conn;

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_floor_server --listen PORT --size BYTES [--tls-cert PEM --tls-key PEM]\n"
               "  Answers every HTTP/1.1 request on 127.0.0.1:PORT with the same response of exactly\n"
               "  BYTES bytes (head included): the per-request CPU floor for bench/bench_serve.sh.\n");
}

/* Counts the request heads ("\r\n\r\n") that end in buf, given the last bytes before it. */
static size_t heads_in(conn *c, const char *buf, size_t n)
{
    char w[6];
    size_t jl = c->tail_len, take = n < 3 ? n : 3, count = 0;
    memcpy(w, c->tail, jl);
    memcpy(w + jl, buf, take);
    for (size_t i = 0; i < jl && i + 4 <= jl + take; i++)
        if (!memcmp(w + i, "\r\n\r\n", 4)) count++;
    for (const char *p = buf; (p = memmem(p, (size_t)(buf + n - p), "\r\n\r\n", 4)) != NULL; p += 4) count++;
    size_t total = jl + n, keep = total < 3 ? total : 3;
    char t[3];
    for (size_t k = 0; k < keep; k++) {
        size_t at = total - keep + k;
        t[k] = at < jl ? c->tail[at] : buf[at - jl];
    }
    memcpy(c->tail, t, keep);
    c->tail_len = keep;
    return count;
}

static void drop(int ep, conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->ssl) SSL_free(c->ssl);
    close(c->fd);
    free(c);
}

int main(int argc, char **argv)
{
    long port = -1, size = -1;
    const char *cert = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_floor_server: %s needs a value\n", argv[i]);
            return 2;
        }
        const char *v = argv[++i];
        char *end;
        if (!strcmp(argv[i - 1], "--listen")) {
            port = strtol(v, &end, 10);
            if (*end || port < 1 || port > 65535) port = -2;
        } else if (!strcmp(argv[i - 1], "--size")) {
            size = strtol(v, &end, 10);
            if (*end || size < 256 || size > (1 << 24)) size = -2;
        } else if (!strcmp(argv[i - 1], "--tls-cert")) {
            cert = v;
        } else if (!strcmp(argv[i - 1], "--tls-key")) {
            key = v;
        } else {
            fprintf(stderr, "bench_floor_server: unknown option %s\n", argv[i - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (port < 0 || size < 0 || (!cert != !key)) {
        fprintf(stderr, "bench_floor_server: %s\n",
                port == -2 ? "--listen: a port 1-65535" : size == -2 ? "--size: 256 to 16777216 bytes"
                : (!cert != !key) ? "--tls-cert and --tls-key go together" : "--listen and --size are required");
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    SSL_CTX *ctx = NULL;
    if (cert) {
        /* As prep serve's TLS context (src/http/tls.c): prep's one TLS policy
         * (include/prep/tls.h: versions, ciphers, groups), read ahead. */
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx || prep_tls_server_policy(ctx, NULL) != PREP_OK ||
            SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "bench_floor_server: TLS setup failed:\n");
            ERR_print_errors_fp(stderr);
            return 1;
        }
        SSL_CTX_set_read_ahead(ctx, 1);
    }

    /* The response: a real head, padded with an x-pad field so the whole is --size bytes. */
    char *resp = malloc((size_t)size + 1);
    if (!resp) return 1;
#define FLOOR_HEAD "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n" \
                   "content-encoding: gzip\r\ncontent-length: %ld\r\nx-pad: %s\r\n\r\n"
    long body = size - 160;
    int head = snprintf(NULL, 0, FLOOR_HEAD, body, "");
    long pad = size - body - head;
    if (pad < 0) {
        fprintf(stderr, "bench_floor_server: --size too small\n");
        return 2;
    }
    char *padding = malloc((size_t)pad + 1);
    if (!padding) return 1;
    memset(padding, 'p', (size_t)pad);
    padding[pad] = 0;
    int hl = snprintf(resp, (size_t)size + 1, FLOOR_HEAD, body, padding);
    if (hl < 0 || hl + body != size) { /* the head is ~120 bytes: cannot happen from 256 up */
        fprintf(stderr, "bench_floor_server: cannot make a %ld-byte response\n", size);
        return 2;
    }
    memset(resp + hl, 'x', (size_t)(size - hl));
    free(padding);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1024)) {
        fprintf(stderr, "bench_floor_server: 127.0.0.1:%ld: %s\n", port, strerror(errno));
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev)) {
        perror("bench_floor_server: epoll");
        return 1;
    }
    printf("listening on 127.0.0.1:%ld (%s, %ld-byte responses)\n", port, ctx ? "TLS" : "plain", size);
    fflush(stdout);

    static char buf[16384];
    for (;;) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            perror("bench_floor_server: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    c->ready = !ctx;
                    if (ctx && (!(c->ssl = SSL_new(ctx)) || !SSL_set_fd(c->ssl, fd))) {
                        drop(ep, c);
                        continue;
                    }
                    if (c->ssl) SSL_set_accept_state(c->ssl);
                    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e)) drop(ep, c);
                }
                continue;
            }
            ssize_t r;
            if (c->ssl) {
                if (!c->ready) {
                    int h = SSL_do_handshake(c->ssl);
                    if (h != 1) {
                        int e = SSL_get_error(c->ssl, h);
                        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) drop(ep, c);
                        continue;
                    }
                    c->ready = 1;
                }
                int k = SSL_read(c->ssl, buf, (int)sizeof buf);
                if (k <= 0) {
                    if (SSL_get_error(c->ssl, k) != SSL_ERROR_WANT_READ) drop(ep, c);
                    continue;
                }
                r = k;
            } else {
                r = read(c->fd, buf, sizeof buf);
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (r <= 0) {
                    drop(ep, c);
                    continue;
                }
            }
            /* A blocking-free bench client reads every response, so a short write does not
             * happen at these sizes; if it does, the connection is dropped (h2load counts
             * it as failed and bench_serve.sh warns). */
            size_t heads = heads_in(c, buf, (size_t)r);
            int bad = 0;
            for (size_t h = 0; h < heads && !bad; h++) {
                if (c->ssl) bad = SSL_write(c->ssl, resp, (int)size) != (int)size;
                else bad = write(c->fd, resp, (size_t)size) != (ssize_t)size;
            }
            if (bad) drop(ep, c);
        }
    }
}
