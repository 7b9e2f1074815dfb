/* Pure helpers over request field values: path normalisation, Accept-Encoding
 * negotiation, If-None-Match, If-Range and Range (docs/internals/http1.md). */
#include <string.h>

#include "prep/http.h"
#include "http_internal.h"


static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* ------------------------------------------------------------------ paths */

int prep_http_path_normalize(const char *path, size_t len, char *out, size_t cap, size_t *out_len)
{
    if (cap == 0) return 414;
    out[0] = '\0';
    size_t max = cap - 1 < PREP_HTTP_PATH_MAX ? cap - 1 : PREP_HTTP_PATH_MAX;
    if (len > 0 && path[0] != '/') return 400;
    size_t o = 0, i = 0;
    /* Each loop turn handles one segment: the bytes after a '/' up to the next '/'
     * (decoded: "%2F" is a separator too, so "..%2F" is caught as a ".." segment). */
    unsigned char seg_buf[PREP_HTTP_PATH_MAX + 1];
    int trailing = 1; /* the path ends with a separator (or is empty) */
    while (i < len) {
        size_t sn = 0;
        int by_sep = 0;
        while (i < len) {
            unsigned char c = (unsigned char)path[i];
            size_t step = 1;
            if (c == '%') {
                if (len - i < 3) return 400;
                int h = hexval((unsigned char)path[i + 1]), l = hexval((unsigned char)path[i + 2]);
                if (h < 0 || l < 0) return 400;
                c = (unsigned char)(h * 16 + l);
                if (c == 0) return 400;
                step = 3;
            }
            i += step;
            if (c == '/') {
                by_sep = 1;
                break;
            }
            if (c < 0x20 || c == 0x7f || c == '\\') return 400;
            if (sn >= PREP_HTTP_PATH_MAX) return 414;
            seg_buf[sn++] = c;
        }
        if (sn == 0 || (sn == 1 && seg_buf[0] == '.')) {
            trailing = 1; /* "//" collapses, "." is dropped */
            continue;
        }
        if (sn == 2 && seg_buf[0] == '.' && seg_buf[1] == '.') return 400;
        size_t need = sn + (o > 0 ? 1 : 0);
        if (o + need > max) return 414;
        if (o > 0) out[o++] = '/';
        memcpy(out + o, seg_buf, sn);
        o += sn;
        trailing = by_sep;
    }
    if (trailing) {
        static const char idx[] = "index.html";
        size_t need = (sizeof idx - 1) + (o > 0 ? 1 : 0);
        if (o + need > max) return 414;
        if (o > 0) out[o++] = '/';
        memcpy(out + o, idx, sizeof idx - 1);
        o += sizeof idx - 1;
    }
    out[o] = '\0';
    if (out_len) *out_len = o;
    return 0;
}

/* ------------------------------------------------------------------ Accept-Encoding */

static void skip_ows(const char *p, size_t n, size_t *i)
{
    while (*i < n && (p[*i] == ' ' || p[*i] == '\t')) (*i)++;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths. */
static int parse_q(const char *p, size_t n, size_t *i)
{
    if (*i >= n) return -1;
    char d = p[*i];
    if (d != '0' && d != '1') return -1;
    (*i)++;
    int q = (d - '0') * 1000, scale = 100, digits = 0;
    if (*i < n && p[*i] == '.') {
        (*i)++;
        while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
            if (++digits > 3) return -1;
            q += (p[*i] - '0') * scale;
            scale /= 10;
            (*i)++;
        }
    }
    return q > 1000 ? -1 : q;
}

enum { C_IDENTITY, C_GZIP, C_BR, C_STAR, C_N };

/* Fills q[C_*] with explicit weights (-1: not named). Returns 0, or -1 if malformed. */
static int parse_ae(const char *p, size_t n, int q[C_N])
{
    for (int k = 0; k < C_N; k++) q[k] = -1;
    size_t i = 0;
    for (;;) {
        skip_ows(p, n, &i);
        if (i >= n) return 0;
        if (p[i] == ',') {
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && is_tchar((unsigned char)p[i])) i++;
        if (i == s) return -1;
        size_t tl = i - s;
        int w = 1000;
        skip_ows(p, n, &i);
        if (i < n && p[i] == ';') {
            i++;
            skip_ows(p, n, &i);
            if (i + 1 >= n || http_lower((unsigned char)p[i]) != 'q' || p[i + 1] != '=') return -1;
            i += 2;
            w = parse_q(p, n, &i);
            if (w < 0) return -1;
            skip_ows(p, n, &i);
        }
        if (i < n && p[i] != ',') return -1;
        int c = -1;
        if (http_ieq(p + s, tl, "identity")) c = C_IDENTITY;
        else if (http_ieq(p + s, tl, "gzip") || http_ieq(p + s, tl, "x-gzip")) c = C_GZIP;
        else if (http_ieq(p + s, tl, "br")) c = C_BR;
        else if (tl == 1 && p[s] == '*') c = C_STAR;
        if (c >= 0 && q[c] < 0) q[c] = w; /* the first mention counts */
    }
}

int prep_http_negotiate(const char *ae, size_t len, unsigned have, int https,
                        prep_http_coding *out)
{
    *out = PREP_HTTP_IDENTITY;
    int q[C_N];
    if (ae == NULL || parse_ae(ae, len, q) != 0) return 0; /* absent or malformed */
    int eff[3];
    for (int c = C_IDENTITY; c <= C_BR; c++) {
        if (q[c] >= 0) eff[c] = q[c];
        else if (q[C_STAR] >= 0) eff[c] = q[C_STAR];
        else eff[c] = c == C_IDENTITY ? 1 : 0; /* identity: acceptable, least preferred */
    }
    if (!(have & PREP_HTTP_HAVE_BR) || !https) eff[C_BR] = 0;
    if (!(have & PREP_HTTP_HAVE_GZIP)) eff[C_GZIP] = 0;
    int best = -1, best_q = 0;
    static const int order[3] = {C_BR, C_GZIP, C_IDENTITY};
    for (int k = 0; k < 3; k++) {
        int c = order[k];
        if (eff[c] > best_q) {
            best = c;
            best_q = eff[c];
        }
    }
    if (best < 0) return 406;
    *out = best == C_BR ? PREP_HTTP_BR : best == C_GZIP ? PREP_HTTP_GZIP : PREP_HTTP_IDENTITY;
    return 0;
}

/* ------------------------------------------------------------------ entity-tags */

/* Reads one entity-tag at p[*i]: [ "W/" ] DQUOTE *etagc DQUOTE. Sets the opaque-tag
 * (with quotes) and weakness. Returns 0 or -1. */
static int read_etag(const char *p, size_t n, size_t *i, const char **op, size_t *ol, int *weak)
{
    *weak = 0;
    if (*i + 1 < n && p[*i] == 'W' && p[*i + 1] == '/') {
        *weak = 1;
        *i += 2;
    }
    if (*i >= n || p[*i] != '"') return -1;
    size_t s = (*i)++;
    while (*i < n && p[*i] != '"') {
        unsigned char c = (unsigned char)p[*i];
        if (c < 0x21 || c == 0x7f) return -1; /* etagc = %x21 / %x23-7E / obs-text */
        (*i)++;
    }
    if (*i >= n) return -1;
    (*i)++;
    *op = p + s;
    *ol = *i - s;
    return 0;
}

int prep_http_if_none_match(const char *list, size_t len, const char *etag, size_t etag_len)
{
    size_t i = 0, e = 0;
    const char *mo;
    size_t ml;
    int mweak;
    if (read_etag(etag, etag_len, &e, &mo, &ml, &mweak) != 0 || e != etag_len) return 0;
    skip_ows(list, len, &i);
    size_t j = len;
    while (j > i && (list[j - 1] == ' ' || list[j - 1] == '\t')) j--;
    if (j - i == 1 && list[i] == '*') return 1;
    int matched = 0, any = 0;
    for (;;) {
        skip_ows(list, len, &i);
        if (i >= len) return any ? matched : 0;
        if (list[i] == ',') {
            i++;
            continue;
        }
        const char *op;
        size_t ol;
        int weak;
        if (read_etag(list, len, &i, &op, &ol, &weak) != 0) return 0;
        any = 1;
        if (ol == ml && memcmp(op, mo, ml) == 0) matched = 1; /* weak comparison */
        skip_ows(list, len, &i);
        if (i < len && list[i] != ',') return 0;
    }
}

int prep_http_if_range(const char *value, size_t len, const char *etag, size_t etag_len)
{
    size_t i = 0, e = 0;
    const char *mo, *op;
    size_t ml, ol;
    int mweak, weak;
    if (read_etag(etag, etag_len, &e, &mo, &ml, &mweak) != 0 || e != etag_len || mweak) return 0;
    skip_ows(value, len, &i);
    if (read_etag(value, len, &i, &op, &ol, &weak) != 0 || weak) return 0; /* dates too */
    skip_ows(value, len, &i);
    if (i != len) return 0;
    return ol == ml && memcmp(op, mo, ml) == 0; /* strong comparison */
}

/* ------------------------------------------------------------------ Range */

/* 1*DIGIT, saturating at UINT64_MAX. Returns the digit count. */
static size_t read_u64(const char *p, size_t n, size_t *i, uint64_t *v)
{
    size_t s = *i;
    uint64_t x = 0;
    while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
        unsigned d = (unsigned)(p[*i] - '0');
        x = (x > (UINT64_MAX - d) / 10) ? UINT64_MAX : x * 10 + d;
        (*i)++;
    }
    *v = x;
    return *i - s;
}

prep_http_range_kind prep_http_range(const char *value, size_t len, uint64_t size,
                                     uint64_t *first, uint64_t *last)
{
    size_t i = 0;
    if (len < 6 || !http_ieq(value, 6, "bytes=")) return PREP_HTTP_RANGE_IGNORE;
    i = 6;
    if (memchr(value + i, ',', len - i)) return PREP_HTTP_RANGE_IGNORE; /* several */
    skip_ows(value, len, &i);
    uint64_t a = 0, b = 0;
    if (i < len && value[i] == '-') {
        i++;
        if (read_u64(value, len, &i, &b) == 0) return PREP_HTTP_RANGE_IGNORE;
        skip_ows(value, len, &i);
        if (i != len) return PREP_HTTP_RANGE_IGNORE;
        if (b == 0 || size == 0) return PREP_HTTP_RANGE_UNSATISFIABLE;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return PREP_HTTP_RANGE_PARTIAL;
    }
    if (read_u64(value, len, &i, &a) == 0) return PREP_HTTP_RANGE_IGNORE;
    if (i >= len || value[i] != '-') return PREP_HTTP_RANGE_IGNORE;
    i++;
    int has_last = read_u64(value, len, &i, &b) > 0;
    skip_ows(value, len, &i);
    if (i != len) return PREP_HTTP_RANGE_IGNORE;
    if (has_last && b < a) return PREP_HTTP_RANGE_IGNORE; /* invalid: RFC 9110 §14.1.1 */
    if (a >= size) return PREP_HTTP_RANGE_UNSATISFIABLE;
    *first = a;
    *last = (!has_last || b >= size) ? size - 1 : b;
    return PREP_HTTP_RANGE_PARTIAL;
}
