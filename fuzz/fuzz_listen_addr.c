/* libFuzzer target: the listen-address parser shared by prep serve (--listen,
 * --tls-listen) and the institute's pull links (prep_http_parse_addr, src/http/server.c).
 * Checks: no crash or leak (ASan); a refusal is PREP_ERR_USAGE with a "listen" diag naming
 * the input; an acceptance is an IPv4 or IPv6 socket address of the right length whose
 * port is the one written, and that address printed back ("A:P" or "[A]:P") parses to
 * the same address (the round trip). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_http_parse_addr(s, sa, len, &d);
    if (e != PREP_OK && e != PREP_ERR_USAGE) abort();
    if (e != PREP_OK) {
        const prep_diag *g = prep_diags_find(&d, "listen");
        if (!g || !g->msg || !g->msg[0] || strcmp(g->file, s)) abort();
    } else if (d.n) {
        abort();
    }
    prep_diags_free(&d);
    return e == PREP_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 512) return 0;
    char s[513];
    memcpy(s, data, size);
    s[size] = 0;
    struct sockaddr_storage sa;
    socklen_t len = 0;
    if (!parse(s, &sa, &len)) return 0;

    char host[INET6_ADDRSTRLEN], again[INET6_ADDRSTRLEN + 16];
    unsigned port;
    if (sa.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&sa;
        if (len != sizeof *a || !inet_ntop(AF_INET, &a->sin_addr, host, sizeof host)) abort();
        port = ntohs(a->sin_port);
        snprintf(again, sizeof again, "%s:%u", host, port);
    } else if (sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&sa;
        if (len != sizeof *a || !inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host)) abort();
        port = ntohs(a->sin6_port);
        if (a->sin6_scope_id) return 0; /* "%scope" is not printed by inet_ntop: no round trip */
        snprintf(again, sizeof again, "[%s]:%u", host, port);
    } else {
        abort();
    }
    /* The port is the decimal after the last ':' as written. */
    const char *colon = strrchr(s, ':');
    if (!colon || strtol(colon + 1, NULL, 10) != (long)port) abort();

    struct sockaddr_storage sb;
    socklen_t lb = 0;
    if (!parse(again, &sb, &lb) || lb != len || sb.ss_family != sa.ss_family) abort();
    if (sa.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&sa, *b = (const struct sockaddr_in *)&sb;
        if (a->sin_port != b->sin_port || memcmp(&a->sin_addr, &b->sin_addr, sizeof a->sin_addr)) abort();
    } else {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&sa, *b = (const struct sockaddr_in6 *)&sb;
        if (a->sin6_port != b->sin6_port || memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr)) abort();
    }
    return 0;
}
