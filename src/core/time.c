/* prep core: time in a named zone (tz database), hashing, deterministic randomness.
 * Zone conversions switch TZ under a lock and cache the zone last used: the tz database
 * is the only source of offsets (Mexico's rules changed in 2022; never hard-code -5). */
#include "prep/core.h"

#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static char tz_current[128];

/* Caller holds tz_lock. */
static void tz_use(const char *tz)
{
    if (!tz || !*tz) tz = "UTC";
    if (strcmp(tz_current, tz) == 0) return;
    snprintf(tz_current, sizeof tz_current, "%s", tz);
    setenv("TZ", tz, 1);
    tzset();
}

prep_time prep_time_now(void) { return (prep_time)time(NULL); }

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* Parses "(UTC-5)", "(UTC+05:30)", "-05:00", "+0530", "Z" at *p into seconds east of UTC. */
static int parse_offset(const char *p, long *off)
{
    while (*p == ' ') p++;
    int paren = 0;
    if (*p == '(') paren = 1, p++;
    if (!strncmp(p, "UTC", 3) || !strncmp(p, "GMT", 3)) p += 3;
    if (*p == 'Z' && !paren) {
        *off = 0;
        return p[1] == 0 ? 0 : -1;
    }
    if (*p != '+' && *p != '-') {
        if (paren && *p == ')') {
            *off = 0;
            return p[1] == 0 ? 0 : -1;
        }
        return -1;
    }
    int sign = *p++ == '-' ? -1 : 1;
    int h = 0, m = 0, nd = 0;
    while (p[nd] >= '0' && p[nd] <= '9') nd++;
    if (nd == 1 || nd == 2) {
        digits(&p, nd, &h);
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &m)) return -1;
        }
    } else if (nd == 4) {
        digits(&p, 2, &h);
        digits(&p, 2, &m);
    } else
        return -1;
    if (paren) {
        if (*p != ')') return -1;
        p++;
    }
    while (*p == ' ') p++;
    if (*p) return -1;
    if (h > 14 || m > 59) return -1;
    *off = sign * (h * 3600L + m * 60L);
    return 0;
}

/* Days from 1970-01-01 to y-m-d: the year counted from March (so that the leap day is the
 * last of its year), in 400-year eras of 146097 days. */
int64_t prep_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void prep_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int prep_time_meridiem(const char **pp)
{
    const char *p = *pp;
    while (*p == ' ') p++;
    char c = (char)(*p | 0x20);
    if (c != 'a' && c != 'p') return 0;
    const char *q = p + 1;
    if (*q == '.') q++;
    while (*q == ' ') q++;
    if ((*q | 0x20) != 'm') return 0;
    q++;
    if (*q == '.') q++;
    if (*q && *q != ' ' && *q != '(') return 0;
    *pp = q;
    return c == 'a' ? 1 : 2;
}

/* The last hours whose wall-clock start prep_time_parse resolved, per thread: a file's
 * rows give three instants each, nearly all in the hour before (a national night's 1.5
 * million went through mktime, ~6 % of reading its files). */
#define HOUR_MEMO 4
static _Thread_local struct {
    char tz[64];
    int64_t key; /* days since 1970-01-01 * 24 + hour, local */
    time_t base; /* the UTC instant of its start */
    int set;
} hour_memo[HOUR_MEMO];
static _Thread_local unsigned hour_next;

static int hour_known(const char *tz, int64_t key, time_t *base)
{
    if (!tz || !*tz) tz = "UTC";
    for (int i = 0; i < HOUR_MEMO; i++)
        if (hour_memo[i].set && hour_memo[i].key == key && !strcmp(hour_memo[i].tz, tz)) {
            *base = hour_memo[i].base;
            return 1;
        }
    return 0;
}

static void hour_keep(const char *tz, int64_t key, time_t base)
{
    if (!tz || !*tz) tz = "UTC";
    if (strlen(tz) >= sizeof hour_memo[0].tz) return;
    unsigned i = hour_next++ % HOUR_MEMO;
    snprintf(hour_memo[i].tz, sizeof hour_memo[i].tz, "%s", tz);
    hour_memo[i].key = key;
    hour_memo[i].base = base;
    hour_memo[i].set = 1;
}

int prep_time_parse(const char *s, const char *tz, prep_time *out)
{
    if (!s) return -1;
    while (*s == ' ') s++;
    const char *p = s;
    int Y, M, D, h = 0, mi = 0, se = 0;
    if ((p[0] >= '0' && p[1] >= '0' && p[2] == '/') || (p[0] >= '0' && p[0] <= '9' && p[1] == '/')) {
        /* DD/MM/YYYY, or D/M/YYYY with the leading zeros dropped (a cut line "3/6/2019") */
        int dn = p[1] == '/' ? 1 : 2;
        if (digits(&p, dn, &D) || *p++ != '/') return -1;
        int mn = p[0] >= '0' && p[0] <= '9' && p[1] == '/' ? 1 : 2;
        if (digits(&p, mn, &M) || *p++ != '/' || digits(&p, 4, &Y)) return -1;
    } else {
        if (digits(&p, 4, &Y)) return -1;
        char sep = *p;
        if (sep != '-' && sep != '/') return -1;
        p++;
        if (digits(&p, 2, &M) || *p++ != sep || digits(&p, 2, &D)) return -1;
    }
    if (*p == ' ' || *p == 'T') {
        p++;
        /* H:MM as a spreadsheet writes it ("7/6/2021 1:51") or HH:MM */
        if (digits(&p, p[0] >= '0' && p[0] <= '9' && p[1] == ':' ? 1 : 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &se)) return -1;
            if (*p == '.' && p[1] >= '0' && p[1] <= '9') { /* fractional seconds (Campeche 2021: .000000), dropped */
                p++;
                for (int n = 0; *p >= '0' && *p <= '9'; p++)
                    if (++n > 9) return -1;
            }
        }
        int half = prep_time_meridiem(&p);
        if (half && (h < 1 || h > 12)) return -1;
        if (half) h = h % 12 + (half == 2 ? 12 : 0);
    } else if (*p != 0)
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || se > 60) return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (D > mdays[M - 1]) return -1;
    if (M == 2 && D == 29 && !((Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0)) return -1;
    while (*p == ' ') p++;
    int64_t local = prep_days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + se;
    if (*p) {
        long off;
        if (parse_offset(p, &off)) return -1;
        *out = local - off;
        return 0;
    }
    /* Wall clock in tz: mktime under the zone, or the hour's start remembered */
    int64_t key = prep_days_from_civil(Y, M, D) * 24 + h;
    time_t base;
    if (hour_known(tz, key, &base)) {
        *out = (prep_time)base + mi * 60 + se;
        return 0;
    }
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    tm.tm_isdst = -1;
    pthread_mutex_lock(&tz_lock);
    tz_use(tz);
    time_t t = mktime(&tm);
    time_t edge[3]; /* h - 1, h, h + 1 o'clock */
    for (int i = 0; i < 3; i++) {
        struct tm e = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h - 1 + i, .tm_isdst = -1};
        edge[i] = mktime(&e);
    }
    pthread_mutex_unlock(&tz_lock);
    if (t == (time_t)-1 && !(Y == 1969 && M == 12 && D == 31)) return -1;
    /* an hour with no change of offset in or next to it: any time in it is its start and
     * the minutes (a change inside, a repeated or a skipped hour breaks one of these) */
    if (edge[1] - edge[0] == 3600 && edge[2] - edge[1] == 3600 && t == edge[1] + mi * 60 + se)
        hour_keep(tz, key, edge[1]);
    *out = (prep_time)t;
    return 0;
}

/* t broken down in zone tz (the process's TZ is switched under tz_lock). 0, or -1. */
static int local_tm(prep_time t, const char *tz, struct tm *tm)
{
    time_t tt = (time_t)t;
    pthread_mutex_lock(&tz_lock);
    tz_use(tz);
    struct tm *r = localtime_r(&tt, tm);
    pthread_mutex_unlock(&tz_lock);
    return r ? 0 : -1;
}

int prep_time_utcoff(prep_time t, const char *tz, long *off)
{
    struct tm tm;
    if (local_tm(t, tz, &tm)) return -1;
    *off = tm.tm_gmtoff;
    return 0;
}

/* Appenders for prep_time_format: written by hand, not snprintf (a national section page
 * shows three instants for each of its casillas' actas). */
static char *put_num(char *o, long v, int width)
{
    if (v < 0) {
        *o++ = '-'; /* as printf's %0Nd: the sign counts in the width */
        width--;
    }
    return prep_put_dec(o, v < 0 ? 0ul - (unsigned long)v : (unsigned long)v, width);
}

static char *put_str(char *o, const char *s)
{
    size_t n = strlen(s);
    memcpy(o, s, n);
    return o + n;
}

/* "UTC-5", "UTC+5:30" */
static char *put_utc_label(char *o, long off)
{
    long a = off < 0 ? -off : off;
    o = put_str(o, off < 0 ? "UTC-" : "UTC+");
    o = put_num(o, a / 3600, 0);
    if (a % 3600) {
        *o++ = ':';
        o = put_num(o, (a % 3600) / 60, 2);
    }
    return o;
}

int prep_time_format(prep_time t, const char *tz, prep_ts_style style, char *out, size_t outsz)
{
    static const char *months[] = {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
                                   "agosto", "septiembre", "octubre", "noviembre", "diciembre"};
    struct tm tm;
    if (local_tm(t, tz, &tm)) return -1;
    long off = tm.tm_gmtoff, a = off < 0 ? -off : off;
    char b[160], *o = b; /* the longest: "30 de septiembre de -2147481748, 23:59 (UTC-12:59)" */
    switch (style) {
    case PREP_TS_ISO:
    case PREP_TS_ISO_OFF:
        o = put_num(o, (long)tm.tm_year + 1900, 4);
        *o++ = '-';
        o = put_num(o, tm.tm_mon + 1, 2);
        *o++ = '-';
        o = put_num(o, tm.tm_mday, 2);
        *o++ = style == PREP_TS_ISO ? ' ' : 'T';
        o = put_num(o, tm.tm_hour, 2);
        *o++ = ':';
        o = put_num(o, tm.tm_min, 2);
        *o++ = ':';
        o = put_num(o, tm.tm_sec, 2);
        if (style == PREP_TS_ISO_OFF) {
            *o++ = off < 0 ? '-' : '+';
            o = put_num(o, a / 3600, 2);
            *o++ = ':';
            o = put_num(o, (a % 3600) / 60, 2);
        }
        break;
    case PREP_TS_HEADER:
        o = put_num(o, tm.tm_mday, 2);
        *o++ = '/';
        o = put_num(o, tm.tm_mon + 1, 2);
        *o++ = '/';
        o = put_num(o, (long)tm.tm_year + 1900, 4);
        *o++ = ' ';
        o = put_num(o, tm.tm_hour, 2);
        *o++ = ':';
        o = put_num(o, tm.tm_min, 2);
        o = put_str(o, " (");
        o = put_utc_label(o, off);
        *o++ = ')';
        break;
    case PREP_TS_HUMAN:
        o = put_num(o, tm.tm_mday, 0);
        o = put_str(o, " de ");
        o = put_str(o, months[tm.tm_mon]);
        o = put_str(o, " de ");
        o = put_num(o, (long)tm.tm_year + 1900, 4);
        o = put_str(o, ", ");
        o = put_num(o, tm.tm_hour, 2);
        *o++ = ':';
        o = put_num(o, tm.tm_min, 2);
        o = put_str(o, " (");
        o = put_utc_label(o, off);
        *o++ = ')';
        break;
    default: return -1;
    }
    size_t n = (size_t)(o - b), w = n < outsz ? n : outsz ? outsz - 1 : 0;
    if (outsz) { /* cut short as snprintf cuts it, and -1 */
        memcpy(out, b, w);
        out[w] = 0;
    }
    return n < outsz ? 0 : -1;
}

/* ---------------------------------------------------------------- hashing */
void prep_sha256(const void *p, size_t n, unsigned char md[32])
{
    unsigned int mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
}

void prep_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    prep_sha256(p, n, md);
    prep_hex(md, sizeof md, out);
}

void prep_hex(const void *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = 0;
}

int prep_is_sha256_hex(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
    }
    return i == 64;
}

/* ---------------------------------------------------------------- rng */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void prep_rng_seed(prep_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t prep_rng_next(prep_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t prep_rng_below(prep_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t lim = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = prep_rng_next(r);
    while (x >= lim);
    return x % n;
}

double prep_rng_unit(prep_rng *r) { return (double)(prep_rng_next(r) >> 11) * 0x1.0p-53; }

double prep_rng_normal(prep_rng *r)
{
    double u1 = prep_rng_unit(r), u2 = prep_rng_unit(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int64_t prep_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
