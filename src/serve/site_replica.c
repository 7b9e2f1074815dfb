/* prep serve behind a load balancer: the "seen cut" marker (docs/scale-out.md).
 *
 * Several replicas behind HAProxy switch to a new cut at slightly different moments (each
 * polls its own store). A reader who got cut N+1 from replica A must never get cut N from
 * replica B afterwards: results going backwards look like tampering. The proxy remembers,
 * per client address, the newest x-prep-corte it forwarded, and puts it first in the query
 * of every request it sends to a replica: "?prep_visto=N&<the client's query>". A replica
 * serving a cut older than N refuses the request (503, retry-after: 1) instead of
 * answering from its older cut, and the proxy retries it on another replica
 * (retry-on 503, option redispatch 1). The same marker on GET /health/cut is the proxy's
 * health check: 200 while the replica's cut is at least N (the newest cut the proxy has
 * forwarded to anyone), 503 while it lags, so a lagging replica is taken out of rotation
 * until it catches up. The marker is stripped before the request reaches the site, so a
 * page and its lookup (seccion/?n=N) never see it. This file only parses; the answers
 * are built in site_respond.c. */
#include <string.h>

#include "prep/serve.h"

int prep_serve_seen_take(prep_http_slice query, uint64_t *seen, prep_http_slice *rest)
{
    static const char name[] = PREP_SERVE_SEEN_PARAM "=";
    const size_t nl = sizeof name - 1;
    *seen = 0;
    *rest = query;
    if (!query.p || query.len < nl || memcmp(query.p, name, nl)) return 0;
    size_t i = nl;
    uint64_t n = 0;
    while (i < query.len && query.p[i] >= '0' && query.p[i] <= '9') {
        if (i - nl >= PREP_SERVE_SEEN_DIGITS) return 0; /* too long: not a marker */
        n = n * 10 + (uint64_t)(query.p[i] - '0');
        i++;
    }
    if (i < query.len && query.p[i] != '&') return 0; /* "prep_visto=5x": not a marker */
    *seen = n;
    if (i < query.len) i++; /* the '&' */
    if (i == query.len)
        *rest = (prep_http_slice){NULL, 0}; /* nothing else: as if no query had been sent */
    else
        *rest = (prep_http_slice){query.p + i, query.len - i};
    return 1;
}
