/* prep check: the pure item functions (everything but the firewall, which is in
 * check_fw.c). Each reads texts the caller hands in and fills one item. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_int.h"

/* ---------------------------------------------------------------- helpers */
const char *prep_check_verdict_name(prep_check_verdict v)
{
    switch (v) {
    case PREP_CHECK_PASS: return "pass";
    case PREP_CHECK_FAIL: return "fail";
    default: return "cannot-tell";
    }
}

void chk_item(prep_check_item *it, const char *id, const char *req)
{
    it->id = id;
    it->requirement = req;
    it->verdict = PREP_CHECK_UNKNOWN;
    it->evidence[0] = '\0';
}

static void ev_v(prep_check_item *it, const char *sep, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
static void ev_v(prep_check_item *it, const char *sep, const char *fmt, va_list ap)
{
    size_t l = strnlen(it->evidence, sizeof it->evidence);
    if (l >= sizeof it->evidence - 1) return;
    if (sep && l) {
        int k = snprintf(it->evidence + l, sizeof it->evidence - l, "%s", sep);
        if (k < 0) return;
        l = strnlen(it->evidence, sizeof it->evidence);
    }
    vsnprintf(it->evidence + l, sizeof it->evidence - l, fmt, ap);
    /* keep it one line: control characters from the machine's texts become spaces */
    for (char *c = it->evidence + l; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
}

void chk_ev(prep_check_item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ev_v(it, NULL, fmt, ap);
    va_end(ap);
}

void chk_ev_sep(prep_check_item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ev_v(it, "; ", fmt, ap);
    va_end(ap);
}

void chk_lines_init(chk_lines *l, const char *text, size_t len)
{
    l->p = text;
    l->end = text ? text + len : NULL;
}

int chk_lines_next(chk_lines *l, char *buf, size_t bufsz, int *trunc)
{
    if (!l->p || l->p >= l->end) return 0;
    const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
    const char *e = nl ? nl : l->end;
    size_t n = (size_t)(e - l->p);
    if (n && e[-1] == '\r') n--;
    *trunc = n >= bufsz;
    if (n >= bufsz) n = bufsz - 1;
    memcpy(buf, l->p, n);
    buf[n] = '\0';
    /* an embedded NUL ends the line's useful part; that is enough for these texts */
    l->p = nl ? nl + 1 : l->end;
    return 1;
}

size_t chk_len(const char *text) { return text ? strnlen(text, PREP_CHECK_TEXT_MAX) : 0; }

int chk_list_has(const char *list, const char *name)
{
    if (!list) return 0;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, name, n) == 0) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* Case-insensitive prefix test. */
static int has_prefix_ci(const char *s, const char *pre)
{
    return strncasecmp(s, pre, strlen(pre)) == 0;
}

/* ---------------------------------------------------------------- OS */
/* One os-release value: unquotes "..." (with \ escapes) or '...'. */
static void osr_value(const char *v, char *out, size_t outsz)
{
    size_t o = 0;
    if (*v == '"' || *v == '\'') {
        char q = *v++;
        while (*v && *v != q && o + 1 < outsz) {
            if (q == '"' && *v == '\\' && v[1]) v++;
            out[o++] = *v++;
        }
    } else {
        while (*v && !isspace((unsigned char)*v) && o + 1 < outsz) out[o++] = *v++;
    }
    out[o] = '\0';
}

void prep_check_os(const char *text, size_t len, const char *machine, prep_check_item *out)
{
    chk_item(out, "os", "CentOS 8, 64 bits, up to date");
    if (!text) {
        chk_ev(out, "/etc/os-release not readable");
        return;
    }
    char id[64] = "", ver[64] = "", pretty[128] = "", like[128] = "", line[PREP_CHECK_LINE_MAX];
    chk_lines l;
    int trunc;
    chk_lines_init(&l, text, len);
    while (chk_lines_next(&l, line, sizeof line, &trunc)) {
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (*s == '#' || !*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(s, "ID")) osr_value(v, id, sizeof id);
        else if (!strcmp(s, "VERSION_ID")) osr_value(v, ver, sizeof ver);
        else if (!strcmp(s, "PRETTY_NAME")) osr_value(v, pretty, sizeof pretty);
        else if (!strcmp(s, "ID_LIKE")) osr_value(v, like, sizeof like);
    }
    if (!id[0]) {
        chk_ev(out, "/etc/os-release has no ID");
        return;
    }
    int is64 = machine && strstr(machine, "64") != NULL;
    int major8 = (ver[0] == '8' && (ver[1] == '\0' || ver[1] == '.'));
    chk_ev(out, "%s (ID=%s VERSION_ID=%s)", pretty[0] ? pretty : id, id, ver[0] ? ver : "?");
    chk_ev_sep(out, "machine %s", machine && *machine ? machine : "unknown");
    int el8_rebuild = !strcmp(id, "rhel") || !strcmp(id, "rocky") || !strcmp(id, "almalinux") || !strcmp(id, "ol");
    if (!strcmp(id, "centos") && major8 && is64) {
        out->verdict = PREP_CHECK_PASS;
    } else if (el8_rebuild && major8 && is64) {
        out->verdict = PREP_CHECK_PASS;
        chk_ev_sep(out, "an EL8 rebuild binary-compatible with CentOS 8, not CentOS itself");
    } else {
        out->verdict = PREP_CHECK_FAIL;
        if (!is64) chk_ev_sep(out, "not 64-bit");
        if (strcmp(id, "centos") && !el8_rebuild) chk_ev_sep(out, "the call names CentOS 8");
        else if (!major8) chk_ev_sep(out, "the call names version 8");
    }
    if (out->verdict == PREP_CHECK_PASS) chk_ev_sep(out, "whether it is up to date is not checked");
}

/* ---------------------------------------------------------------- /proc/net/tcp */
int prep_check_tcp_listeners(const char *text, size_t len, unsigned port)
{
    if (!text) return -1;
    char line[PREP_CHECK_LINE_MAX];
    chk_lines l;
    int trunc, first = 1, n = 0;
    chk_lines_init(&l, text, len);
    while (chk_lines_next(&l, line, sizeof line, &trunc)) {
        if (first) {
            first = 0;
            if (!strstr(line, "local_address")) return -1;
            continue;
        }
        /* "  0: 00000000:07E8 00000000:0000 0A ..." */
        char *s = line;
        while (*s == ' ') s++;
        if (!*s) continue;
        char *colon = strchr(s, ':');
        if (!colon) return -1;
        char *loc = colon + 1;
        while (*loc == ' ') loc++;
        char *pc = strchr(loc, ':');
        if (!pc) return -1;
        char *endp;
        unsigned long p = strtoul(pc + 1, &endp, 16);
        if (endp == pc + 1 || *endp != ' ') return -1;
        char *rem = endp;
        while (*rem == ' ') rem++;
        char *st = strchr(rem, ' ');
        if (!st) return -1;
        while (*st == ' ') st++;
        unsigned long state = strtoul(st, &endp, 16);
        if (endp == st) return -1;
        if (state == 0x0A && p == port) n++;
    }
    return first ? -1 : n;
}

/* ---------------------------------------------------------------- web server */
/* Finds "NAME/VERSION" in text (e.g. "Apache/2.4.71"); copies VERSION. */
static int find_version(const char *text, const char *name, char *ver, size_t vsz)
{
    if (!text) return 0;
    const char *p = strstr(text, name);
    if (!p) return 0;
    p += strlen(name);
    size_t o = 0;
    while (*p && (isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_') && o + 1 < vsz) ver[o++] = *p++;
    ver[o] = '\0';
    return o > 0;
}

void prep_check_web(const char *apache_v, const char *nginx_v, int l443, int l80, int prep_serve,
                    prep_check_item *out)
{
    chk_item(out, "web", "Apache 2.x, up to date");
    char av[32] = "", nv[32] = "";
    int apache = find_version(apache_v, "Apache/", av, sizeof av);
    int nginx = find_version(nginx_v, "nginx/", nv, sizeof nv);
    if (apache) chk_ev(out, "Apache %s installed", av);
    else chk_ev(out, "no Apache httpd found");
    if (nginx) chk_ev_sep(out, "nginx %s installed", nv);
    if (prep_serve) chk_ev_sep(out, "prep serve running");
    if (l443 >= 0) chk_ev_sep(out, "%d listener(s) on :443", l443);
    else chk_ev_sep(out, "listeners on :443 unknown");
    if (l80 >= 0) chk_ev_sep(out, "%d on :80", l80);
    if (apache && av[0] == '2' && av[1] == '.') {
        out->verdict = PREP_CHECK_PASS;
    } else {
        out->verdict = PREP_CHECK_FAIL;
        if (apache) chk_ev_sep(out, "the call names Apache 2.x");
        else if (nginx || prep_serve) chk_ev_sep(out, "the call names Apache 2.x (nginx or prep serve may serve, but declare it)");
    }
}

/* ---------------------------------------------------------------- SSH */
/* Value of a keyword in sshd -T (lower-case "key value") or sshd_config ("Key value",
 * first one wins, stops at the first Match block). */
static int sshd_value(const char *text, const char *key, char *val, size_t vsz)
{
    if (!text) return 0;
    char line[PREP_CHECK_LINE_MAX];
    chk_lines l;
    int trunc;
    chk_lines_init(&l, text, chk_len(text));
    while (chk_lines_next(&l, line, sizeof line, &trunc)) {
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (*s == '#' || !*s) continue;
        if (has_prefix_ci(s, "match") && isspace((unsigned char)s[5])) return 0;
        size_t kl = strlen(key);
        if (strncasecmp(s, key, kl) == 0 && (isspace((unsigned char)s[kl]) || s[kl] == '=')) {
            s += kl;
            while (isspace((unsigned char)*s) || *s == '=') s++;
            size_t o = 0;
            while (*s && !isspace((unsigned char)*s) && o + 1 < vsz) val[o++] = (char)tolower((unsigned char)*s++);
            val[o] = '\0';
            return o > 0;
        }
    }
    return 0;
}

size_t prep_check_sshd_ports(const char *text, unsigned *ports, size_t max)
{
    if (!text) return 0;
    char line[PREP_CHECK_LINE_MAX];
    chk_lines l;
    int trunc;
    size_t n = 0;
    chk_lines_init(&l, text, chk_len(text));
    while (chk_lines_next(&l, line, sizeof line, &trunc)) {
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (has_prefix_ci(s, "match") && isspace((unsigned char)s[5])) break;
        if (!has_prefix_ci(s, "port") || !(isspace((unsigned char)s[4]) || s[4] == '=')) continue;
        s += 4;
        while (isspace((unsigned char)*s) || *s == '=') s++;
        char *e;
        unsigned long p = strtoul(s, &e, 10);
        if (e == s || p == 0 || p > 65535) continue;
        int dup = 0;
        for (size_t i = 0; i < n; i++) dup |= ports[i] == p;
        if (!dup && n < max) ports[n++] = (unsigned)p;
    }
    return n;
}

void prep_check_ssh(const char *sshd_t, const char *sshd_config, const char *ssh_v, int sshd_present,
                    prep_check_item *out)
{
    chk_item(out, "ssh", "SSH 2.x, up to date");
    if (!sshd_present) {
        out->verdict = PREP_CHECK_FAIL;
        chk_ev(out, "no sshd found");
        return;
    }
    char ver[32] = "";
    int major = 0, minor = 0;
    if (find_version(ssh_v, "OpenSSH_", ver, sizeof ver)) {
        sscanf(ver, "%d.%d", &major, &minor);
        chk_ev(out, "OpenSSH %s", ver);
    } else {
        chk_ev(out, "sshd present, version unknown");
    }
    const char *cfg = sshd_t ? sshd_t : sshd_config;
    const char *src = sshd_t ? "sshd -T" : sshd_config ? "sshd_config" : NULL;
    char proto[16] = "", pw[16] = "", root[32] = "";
    int have_proto = sshd_value(cfg, "protocol", proto, sizeof proto);
    unsigned ports[8];
    size_t np = prep_check_sshd_ports(cfg, ports, 8);
    if (src) {
        chk_ev_sep(out, "%s: port", src);
        if (!np) chk_ev(out, " 22 (default)");
        for (size_t i = 0; i < np; i++) chk_ev(out, "%s%u", i ? "," : " ", ports[i]);
        if (sshd_value(cfg, "passwordauthentication", pw, sizeof pw)) chk_ev(out, ", passwordauthentication %s", pw);
        if (sshd_value(cfg, "permitrootlogin", root, sizeof root)) chk_ev(out, ", permitrootlogin %s", root);
    } else {
        chk_ev_sep(out, "configuration not readable");
    }
    int v2 = (major > 7 || (major == 7 && minor >= 4)) || (have_proto && !strcmp(proto, "2"));
    if (have_proto && strchr(proto, '1')) {
        out->verdict = PREP_CHECK_FAIL;
        chk_ev_sep(out, "protocol %s allows SSH 1", proto);
    } else if (v2) {
        out->verdict = PREP_CHECK_PASS;
        chk_ev_sep(out, "protocol 2 only");
    } else {
        out->verdict = PREP_CHECK_UNKNOWN;
        chk_ev_sep(out, "protocol version not known");
    }
    /* sshd's compiled-in default is "yes" when the file does not say */
    if (src && strcmp(pw, "no") != 0) chk_ev_sep(out, "recommended: PasswordAuthentication no");
}

/* ---------------------------------------------------------------- NTP */
static const char *const ntp_daemons[] = {"chronyd", "ntpd", "systemd-timesyn", "openntpd", "timemaster", "ptp4l", NULL};

void prep_check_ntp(const prep_check_clock *clk, const char *procs, prep_check_item *out)
{
    chk_item(out, "ntp", "an NTP client, clock synchronised");
    const char *daemon = NULL;
    for (size_t i = 0; ntp_daemons[i] && !daemon; i++)
        if (chk_list_has(procs, ntp_daemons[i])) daemon = ntp_daemons[i];
    if (!clk || !clk->ok) {
        chk_ev(out, "adjtimex failed (errno %d)", clk ? clk->err : 0);
        if (daemon) chk_ev_sep(out, "%s running", daemon);
        return;
    }
    int unsync = (clk->status & 0x0040) != 0; /* STA_UNSYNC */
    /* the kernel caps maxerror at NTP_PHASE_LIMIT, 16 s, and then calls the clock unsynchronised */
    int huge = clk->maxerror_us >= 16000000L;
    chk_ev(out, "kernel clock %s (status 0x%04x, maxerror %ld us, esterror %ld us)",
           unsync || huge ? "NOT synchronised" : "synchronised", (unsigned)clk->status, clk->maxerror_us,
           clk->esterror_us);
    if (daemon) chk_ev_sep(out, "client: %s running", daemon);
    else if (procs) chk_ev_sep(out, "no NTP client process visible (chronyd, ntpd, systemd-timesyncd)");
    if (unsync || huge) {
        out->verdict = PREP_CHECK_FAIL;
    } else {
        out->verdict = PREP_CHECK_PASS;
        if (!daemon) chk_ev_sep(out, "something disciplines the clock (a container's host, perhaps)");
    }
}

/* ---------------------------------------------------------------- disk */
void prep_check_disk(const char *path, int ok, int err, uint64_t avail, uint64_t total, prep_check_item *out)
{
    chk_item(out, "disk", "20 GB free disk");
    if (!ok) {
        chk_ev(out, "statvfs(%s) failed (errno %d)", path ? path : "?", err);
        return;
    }
    /* two decimals of SI gigabytes, by integer arithmetic */
    uint64_t cgb = avail / UINT64_C(10000000);
    chk_ev(out, "%s: %" PRIu64 ".%02" PRIu64 " GB free of %" PRIu64 " GB", path, cgb / 100, cgb % 100,
           total / UINT64_C(1000000000));
    out->verdict = avail >= PREP_CHECK_DISK_MIN_BYTES ? PREP_CHECK_PASS : PREP_CHECK_FAIL;
    if (out->verdict == PREP_CHECK_FAIL) chk_ev_sep(out, "needs 20 GB (20,000,000,000 bytes)");
}

/* ---------------------------------------------------------------- RAM */
void prep_check_ram(const char *text, size_t len, prep_check_item *out)
{
    chk_item(out, "ram", "64 GB RAM");
    if (!text) {
        chk_ev(out, "/proc/meminfo not readable");
        return;
    }
    char line[PREP_CHECK_LINE_MAX];
    chk_lines l;
    int trunc;
    chk_lines_init(&l, text, len);
    while (chk_lines_next(&l, line, sizeof line, &trunc)) {
        if (strncmp(line, "MemTotal:", 9) != 0) continue;
        char *s = line + 9, *e;
        while (*s == ' ' || *s == '\t') s++;
        if (!isdigit((unsigned char)*s)) break;
        unsigned long long kib = strtoull(s, &e, 10);
        while (*e == ' ') e++;
        if (strcmp(e, "kB") != 0 || kib > (1ULL << 50)) break;
        /* GiB with two decimals: kib * 100 / 2^20 */
        unsigned long long cg = kib * 100 / (1024ULL * 1024);
        chk_ev(out, "MemTotal %llu kB = %llu.%02llu GiB", kib, cg / 100, cg % 100);
        if (kib >= PREP_CHECK_RAM_MIN_MEMTOTAL_KIB) {
            out->verdict = PREP_CHECK_PASS;
        } else {
            out->verdict = PREP_CHECK_FAIL;
            chk_ev_sep(out, "needs 64 GiB installed (MemTotal >= %llu kB, 97.5 %% of 64 GiB)",
                       (unsigned long long)(PREP_CHECK_RAM_MIN_MEMTOTAL_KIB));
        }
        return;
    }
    chk_ev(out, "/proc/meminfo has no readable MemTotal line");
}

/* ---------------------------------------------------------------- CPU */
#define CPU_MAX_IDS 4096

void prep_check_cpu(const char *text, size_t len, long nproc, long max_khz, prep_check_item *out)
{
    chk_item(out, "cpu", "2 x 4 cores at 2.4 GHz");
    long logical = 0;
    long mhz_cur = 0, mhz_model = 0;
    /* distinct (physical id, core id) pairs */
    static const size_t cap = CPU_MAX_IDS;
    long *pairs = text ? malloc(cap * 2 * sizeof *pairs) : NULL;
    size_t npairs = 0;
    long phys = -1, core = -1;
    int have_topo = 0, overflow = 0;
    if (text && pairs) {
        char line[PREP_CHECK_LINE_MAX];
        chk_lines l;
        int trunc;
        chk_lines_init(&l, text, len);
        int more = 1;
        while (more) {
            more = chk_lines_next(&l, line, sizeof line, &trunc);
            if (!more || !line[0]) { /* end of one processor's block */
                if (phys >= 0 && core >= 0) {
                    have_topo = 1;
                    int seen = 0;
                    for (size_t i = 0; i < npairs && !seen; i++) seen = pairs[2 * i] == phys && pairs[2 * i + 1] == core;
                    if (!seen) {
                        if (npairs < cap) {
                            pairs[2 * npairs] = phys;
                            pairs[2 * npairs + 1] = core;
                            npairs++;
                        } else {
                            overflow = 1;
                        }
                    }
                }
                phys = core = -1;
                continue;
            }
            char *colon = strchr(line, ':');
            if (!colon) continue;
            char *k = line, *v = colon + 1;
            *colon = '\0';
            prep_trim(k);
            while (*v == ' ' || *v == '\t') v++;
            char *e;
            if (!strcmp(k, "processor")) {
                logical++;
            } else if (!strcmp(k, "physical id")) {
                long x = strtol(v, &e, 10);
                if (e != v && x >= 0) phys = x;
            } else if (!strcmp(k, "core id")) {
                long x = strtol(v, &e, 10);
                if (e != v && x >= 0) core = x;
            } else if (!strcmp(k, "cpu MHz")) {
                double x = strtod(v, &e);
                if (e != v && x > 0 && x < 1e6 && (long)x > mhz_cur) mhz_cur = (long)x;
            } else if (!strcmp(k, "model name")) {
                const char *at = strstr(v, "@ ");
                if (at) {
                    double g = strtod(at + 2, &e);
                    if (e != at + 2 && g > 0 && g < 100 && (!strncmp(e, "GHz", 3))) mhz_model = (long)(g * 1000 + 0.5);
                }
            }
        }
    }
    /* sockets: distinct physical ids among the kept pairs */
    size_t sockets = 0;
    for (size_t i = 0; i < npairs; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = pairs[2 * j] == pairs[2 * i];
        sockets += !seen;
    }
    free(pairs);
    long cores = have_topo && !overflow ? (long)npairs : -1;
    if (!logical && nproc > 0) logical = nproc;
    long mhz = max_khz > 0 ? max_khz / 1000 : mhz_model ? mhz_model : mhz_cur;
    const char *mhz_src = max_khz > 0 ? "cpufreq max" : mhz_model ? "model name" : mhz_cur ? "cpu MHz, current" : NULL;
    if (cores > 0) chk_ev(out, "%ld physical core(s) on %zu socket(s), %ld logical CPU(s)", cores, sockets, logical);
    else if (logical > 0) chk_ev(out, "%ld logical CPU(s), physical cores unknown", logical);
    else chk_ev(out, "CPU count unknown");
    if (mhz_src) chk_ev_sep(out, "clock %ld MHz (%s)", mhz, mhz_src);
    else chk_ev_sep(out, "clock unknown");
    int cores_fail = (cores > 0 && cores < PREP_CHECK_CORES_MIN) || (cores <= 0 && logical > 0 && logical < PREP_CHECK_CORES_MIN);
    int clock_fail = mhz_src && mhz < PREP_CHECK_MHZ_MIN;
    if (cores_fail || clock_fail) {
        out->verdict = PREP_CHECK_FAIL;
        if (cores_fail) chk_ev_sep(out, "needs 8 cores (2 x 4)");
        if (clock_fail) chk_ev_sep(out, "needs 2.4 GHz");
    } else if (cores >= PREP_CHECK_CORES_MIN && mhz_src) {
        out->verdict = PREP_CHECK_PASS;
    } else {
        out->verdict = PREP_CHECK_UNKNOWN;
    }
}

/* ---------------------------------------------------------------- HTTPS */
void prep_check_https(const prep_check_tls_probe *p, prep_check_item *out)
{
    chk_item(out, "https", "HTTPS open to any origin (answering)");
    if (!p->connected) {
        chk_ev(out, "%s: no answer (%s)", p->url, p->err[0] ? p->err : "not connected");
        return;
    }
    if (!p->handshake) {
        out->verdict = PREP_CHECK_FAIL;
        chk_ev(out, "%s: TCP connects but TLS fails (%s)", p->url, p->err[0] ? p->err : "handshake");
        return;
    }
    chk_ev(out, "%s: %s %s", p->url, p->tls_version, p->cipher);
    if (p->alpn[0]) chk_ev(out, " alpn %s", p->alpn);
    if (p->http_status) chk_ev_sep(out, "HTTP %d", p->http_status);
    else chk_ev_sep(out, "no HTTP answer");
    int expired = 0;
    if (p->not_after != PREP_TIME_NONE) {
        char ts[40];
        time_t t = (time_t)p->not_after;
        struct tm tm;
        if (gmtime_r(&t, &tm) && strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S UTC", &tm)) chk_ev_sep(out, "certificate expires %s", ts);
        expired = p->not_after <= p->now;
        if (!expired) chk_ev(out, " (in %" PRId64 " days)", (p->not_after - p->now) / 86400);
        else chk_ev(out, " (EXPIRED)");
    } else {
        chk_ev_sep(out, "certificate expiry unknown");
    }
    chk_ev_sep(out, "certificate %s", p->verify_ok ? "verifies" : "does not verify");
    if (!p->verify_ok && p->verify_msg[0]) chk_ev(out, " (%s)", p->verify_msg);
    if (expired) out->verdict = PREP_CHECK_FAIL;
    else if (p->http_status) out->verdict = PREP_CHECK_PASS;
    else out->verdict = PREP_CHECK_FAIL;
}

/* ---------------------------------------------------------------- dpkg, IDS */
int prep_check_dpkg_installed(const char *status, size_t len, const char *name, char *version, size_t vsz)
{
    if (!status || !name) return 0;
    char line[PREP_CHECK_LINE_MAX];
    chk_lines l;
    int trunc, in = 0, installed = 0;
    char ver[64] = "";
    chk_lines_init(&l, status, len);
    int more = 1;
    while (more) {
        more = chk_lines_next(&l, line, sizeof line, &trunc);
        if (!more || !line[0]) {
            if (in && installed) {
                if (version && vsz) snprintf(version, vsz, "%s", ver);
                return 1;
            }
            in = installed = 0;
            ver[0] = '\0';
            continue;
        }
        if (!strncmp(line, "Package: ", 9)) in = !strcmp(prep_trim(line + 9), name);
        else if (!strncmp(line, "Status: ", 8)) installed = !strcmp(prep_trim(line + 8), "install ok installed");
        else if (!strncmp(line, "Version: ", 9)) snprintf(ver, sizeof ver, "%s", prep_trim(line + 9));
    }
    return 0;
}

/* The IDS the check knows. daemon = 1: must be running; 0: runs from cron and counts
 * when installed with its database (state). Process names are as /proc/PID/comm shows
 * them (15 bytes at most). */
typedef struct ids_def {
    const char *name;
    const char *pkgs[3];
    const char *bins[3];
    const char *procs[4];
    const char *state[3];
    int daemon;
} ids_def;

static const ids_def ids_known[] = {
    {"Wazuh/OSSEC", {"wazuh-agent", "wazuh-manager", "ossec-hids"}, {"/var/ossec/bin/wazuh-control", "/var/ossec/bin/ossec-control", NULL},
     {"wazuh-agentd", "wazuh-analysisd", "ossec-agentd", "ossec-analysisd"}, {NULL, NULL, NULL}, 1},
    {"AIDE", {"aide", NULL, NULL}, {"/usr/bin/aide", "/usr/sbin/aide", NULL}, {NULL, NULL, NULL, NULL},
     {"/var/lib/aide/aide.db", "/var/lib/aide/aide.db.gz", NULL}, 0},
    {"Tripwire", {"tripwire", NULL, NULL}, {"/usr/sbin/tripwire", NULL, NULL}, {NULL, NULL, NULL, NULL},
     {"/var/lib/tripwire", NULL, NULL}, 0},
    {"Samhain", {"samhain", NULL, NULL}, {"/usr/sbin/samhain", NULL, NULL}, {"samhain", NULL, NULL, NULL}, {NULL, NULL, NULL}, 1},
    {"fail2ban", {"fail2ban", NULL, NULL}, {"/usr/bin/fail2ban-server", NULL, NULL}, {"fail2ban-server", NULL, NULL, NULL},
     {NULL, NULL, NULL}, 1},
    {"Suricata", {"suricata", NULL, NULL}, {"/usr/bin/suricata", "/usr/sbin/suricata", NULL}, {"Suricata-Main", "suricata", NULL, NULL},
     {NULL, NULL, NULL}, 1},
    {"Snort", {"snort", NULL, NULL}, {"/usr/sbin/snort", "/usr/bin/snort", NULL}, {"snort", NULL, NULL, NULL}, {NULL, NULL, NULL}, 1},
    {"CrowdSec", {"crowdsec", NULL, NULL}, {"/usr/bin/crowdsec", NULL, NULL}, {"crowdsec", NULL, NULL, NULL}, {NULL, NULL, NULL}, 1},
};

const char *const *prep_check_ids_paths(void)
{
    static const char *paths[32];
    if (!paths[0]) {
        size_t n = 0;
        for (size_t i = 0; i < PREP_ARRAY_LEN(ids_known); i++) {
            for (size_t j = 0; j < 3; j++)
                if (ids_known[i].bins[j] && n < 31) paths[n++] = ids_known[i].bins[j];
            for (size_t j = 0; j < 3; j++)
                if (ids_known[i].state[j] && n < 31) paths[n++] = ids_known[i].state[j];
        }
        paths[n] = NULL;
    }
    return paths;
}

void prep_check_ids(const char *dpkg, size_t len, const char *procs, const char *present, prep_check_item *out)
{
    chk_item(out, "ids", "an intrusion detection system");
    int any_installed = 0;
    for (size_t i = 0; i < PREP_ARRAY_LEN(ids_known); i++) {
        const ids_def *d = &ids_known[i];
        int installed = 0, running = 0, state = 0;
        char ver[64] = "";
        for (size_t j = 0; j < 3 && d->pkgs[j]; j++)
            if (prep_check_dpkg_installed(dpkg, len, d->pkgs[j], ver, sizeof ver)) installed = 1;
        for (size_t j = 0; j < 3 && d->bins[j]; j++)
            if (chk_list_has(present, d->bins[j])) installed = 1;
        for (size_t j = 0; j < 4 && d->procs[j]; j++)
            if (chk_list_has(procs, d->procs[j])) running = 1;
        for (size_t j = 0; j < 3 && d->state[j]; j++)
            if (chk_list_has(present, d->state[j])) state = 1;
        if (!installed && !running) continue;
        any_installed = 1;
        if (d->daemon) {
            chk_ev_sep(out, "%s%s%s %s", d->name, ver[0] ? " " : "", ver, running ? "running" : "installed, NOT running");
            if (running) out->verdict = PREP_CHECK_PASS;
        } else {
            chk_ev_sep(out, "%s%s%s installed, %s", d->name, ver[0] ? " " : "", ver,
                       state ? "database present" : "NO database (never initialised)");
            if (state) out->verdict = PREP_CHECK_PASS;
        }
    }
    if (out->verdict == PREP_CHECK_PASS) return;
    if (!any_installed) chk_ev(out, "none of wazuh/ossec, aide, tripwire, samhain, fail2ban, suricata, snort, crowdsec found");
    /* nothing found is a fail only when we could look: processes or packages readable */
    out->verdict = (procs || dpkg || present) ? PREP_CHECK_FAIL : PREP_CHECK_UNKNOWN;
}
