/* The network layer through its API: prep_serve_run in a thread on 127.0.0.1:0 with an
 * empty store, real sockets, prep_serve_stop; and the refusals before serving. */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "prep/serve.h"

typedef struct run_ctx {
    prep_serve_config cfg;
    prep_diags d;
    prep_err e;
} run_ctx;

static void *runner(void *arg)
{
    run_ctx *r = arg;
    r->e = prep_serve_run(&r->cfg, &r->d);
    return NULL;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Sends req and reads until the peer closes (every request here ends the connection). */
static void exchange(int port, const char *req, char *out, size_t cap)
{
    int fd = connect_to(port);
    assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(fd, out + n, cap - 1 - n)) > 0) n += (size_t)r;
    out[n] = 0;
    close(fd);
}

static void test_serve_run_and_stop(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_serve_net.XXXXXX";
    assert_non_null(mkdtemp(dir));
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    run_ctx r;
    prep_serve_config_init(&r.cfg);
    r.cfg.store = dir; /* no cut yet: the waiting version */
    r.cfg.listen = "127.0.0.1:0";
    r.cfg.threads = 1;
    r.cfg.poll_ms = 50;
    r.cfg.status_out = fdopen(pfd[1], "w");
    prep_diags_init(&r.d);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, runner, &r), 0);
    FILE *in = fdopen(pfd[0], "r");
    char line[256];
    int port = 0;
    while (!port && fgets(line, sizeof line, in)) sscanf(line, "prep serve: listening on http://127.0.0.1:%d/", &port);
    assert_true(port > 0);

    char buf[8192];
    exchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(buf, "\r\nconnection: close\r\n"));
    assert_non_null(strstr(buf, "\r\nx-prep-corte: 0\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\nok corte 0\n"));
    assert_null(strstr(buf, "strict-transport-security")); /* plain HTTP: no HSTS */
    /* A parser refusal is answered with its status and security fields, then closed. */
    exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 400 Bad Request\r\n"));
    assert_non_null(strstr(buf, "\r\nx-content-type-options: nosniff\r\n"));
    exchange(port, "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 405 "));
    assert_non_null(strstr(buf, "\r\nallow: GET, HEAD\r\n"));
    exchange(port, "GET / HTTP/2.0\r\nHost: x\r\n\r\n", buf, sizeof buf);
    assert_non_null(strstr(buf, "HTTP/1.1 505 "));
    /* HTTP/1.0 without keep-alive: answered and closed; HEAD has no body. */
    exchange(port, "HEAD /health HTTP/1.0\r\n\r\n", buf, sizeof buf);
    assert_non_null(strstr(buf, "content-length: 11\r\n")); /* "ok corte 0\n" */
    assert_null(strstr(buf, "ok corte"));
    /* /metrics counted the 200s above: /health twice (GET, HEAD) = 2 so far. */
    exchange(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", buf, sizeof buf);
    assert_non_null(strstr(buf, "prep_http_requests_total{status=\"200\"} 2\n"));
    assert_non_null(strstr(buf, "prep_http_requests_total{status=\"400\"} 1\n"));
    assert_non_null(strstr(buf, "prep_http_requests_total{status=\"405\"} 1\n"));
    assert_non_null(strstr(buf, "prep_serve_active_cut_sequence 0\n"));

    prep_serve_stop();
    pthread_join(th, NULL);
    assert_int_equal(r.e, PREP_OK);
    fclose(r.cfg.status_out);
    fclose(in);
    prep_diags_free(&r.d);
    rmdir(dir);
}

/* The listen-address parser: numeric IPv4 "A:P", IPv6 "[A]:P", port 0..65535. */
static void test_parse_addr(void **state)
{
    (void)state;
    struct sockaddr_storage sa;
    socklen_t len = 0;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_http_parse_addr("127.0.0.1:8080", &sa, &len, &d), PREP_OK);
    assert_int_equal(sa.ss_family, AF_INET);
    assert_int_equal(len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *a4 = (const struct sockaddr_in *)&sa;
    assert_int_equal(ntohs(a4->sin_port), 8080);
    assert_int_equal(ntohl(a4->sin_addr.s_addr), 0x7f000001u);
    assert_int_equal(prep_http_parse_addr("[::1]:8443", &sa, &len, &d), PREP_OK);
    assert_int_equal(sa.ss_family, AF_INET6);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&sa;
    assert_int_equal(ntohs(a6->sin6_port), 8443);
    assert_true(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
    assert_int_equal(prep_http_parse_addr("0.0.0.0:0", &sa, &len, &d), PREP_OK);
    assert_int_equal(d.n, 0);

    static const char *const bad[] = {"::1:80", "127.0.0.1", ":80", "127.0.0.1:", "127.0.0.1:65536",
                                      "127.0.0.1:-1", "127.0.0.1:80x", "localhost:80", "[]:80", "[::1:80",
                                      "1.2.3.4.5:80", "127.1:80", "1:80", "0x7f.0.0.1:80", "0177.0.0.1:80",
                                      "127.0.0.1:+80", "127.0.0.1: 80", "127.0.0.1:080000", "[1.2.3.4]:80",
                                      "[fe80::1%lo]:80", "127.0.0.1 :80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prep_diags_init(&d);
        assert_int_equal(prep_http_parse_addr(bad[i], &sa, &len, &d), PREP_ERR_USAGE);
        const prep_diag *g = prep_diags_find(&d, "listen");
        assert_non_null(g);
        assert_string_equal(g->file, bad[i]);
        prep_diags_free(&d);
    }
    prep_diags_init(&d);
    assert_int_equal(prep_http_parse_addr("::1:80", &sa, &len, &d), PREP_ERR_USAGE);
    assert_non_null(strstr(prep_diags_find(&d, "listen")->msg, "brackets"));
    prep_diags_free(&d);
}

static void test_serve_refusals(void **state)
{
    (void)state;
    prep_serve_config c;
    prep_diags d;
    prep_serve_config_init(&c);
    prep_diags_init(&d);
    c.store = "/nonexistent";
    c.listen = "localhost:80"; /* names are not resolved: numeric only */
    assert_int_equal(prep_serve_run(&c, &d), PREP_ERR_USAGE);
    assert_non_null(prep_diags_find(&d, "listen"));
    prep_diags_free(&d);

    prep_diags_init(&d);
    c.listen = "127.0.0.1:70000";
    assert_int_equal(prep_serve_run(&c, &d), PREP_ERR_USAGE);
    assert_non_null(prep_diags_find(&d, "listen"));
    prep_diags_free(&d);

    prep_diags_init(&d);
    c.listen = NULL;
    c.tls_listen = "127.0.0.1:0"; /* no certificate */
    assert_int_equal(prep_serve_run(&c, &d), PREP_ERR_USAGE);
    prep_diags_free(&d);

    prep_diags_init(&d);
    c.tls_cert = "/nonexistent/cert.pem";
    c.tls_key = "/nonexistent/key.pem";
    assert_int_equal(prep_serve_run(&c, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "tls-cert"));
    prep_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_run_and_stop),
        cmocka_unit_test(test_parse_addr),
        cmocka_unit_test(test_serve_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
