/* prep check: the gathering layer (reads this machine, runs a few commands, probes HTTPS)
 * and the report (text table, JSON). Everything it learns goes through the pure item
 * functions of check_items.c and check_fw.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_int.h"

/* ---------------------------------------------------------------- machine access */
static char *read_text(const char *path, size_t max, size_t *len)
{
    char *data = NULL;
    size_t n = 0;
    if (prep_read_file(path, max, &data, &n) != PREP_OK) return NULL;
    if (len) *len = n;
    return data;
}

static const char *const sbin_dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin", NULL};

/* Full path of an executable in the usual directories (static buffer per call site). */
static int find_exe(const char *name, char *out, size_t outsz)
{
    for (size_t i = 0; sbin_dirs[i]; i++) {
        snprintf(out, outsz, "%s/%s", sbin_dirs[i], name);
        if (access(out, X_OK) == 0) return 1;
    }
    return 0;
}

/* Runs argv (argv[0] a full path) with stdin from /dev/null, stdout and stderr captured
 * together (at most max bytes, the rest read and dropped), killed after timeout_ms.
 * Returns the output (owned) or NULL; *status gets the exit status (-1: killed/failed). */
static char *run_cmd(char *const argv[], size_t max, int timeout_ms, int *status)
{
    int p[2];
    *status = -1;
    if (pipe2(p, O_CLOEXEC)) return NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return NULL;
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0);
        dup2(p[1], 1);
        dup2(p[1], 2);
        char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(p[1]);
    prep_buf b;
    prep_buf_init(&b, max + 1);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int killed = 0;
    for (;;) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= timeout_ms) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        struct pollfd pf = {p[0], POLLIN, 0};
        int r = poll(&pf, 1, (int)(timeout_ms - el));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        char tmp[4096];
        ssize_t n = read(p[0], tmp, sizeof tmp);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (b.len < max) prep_buf_append(&b, tmp, (size_t)n > max - b.len ? max - b.len : (size_t)n);
    }
    close(p[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!killed && WIFEXITED(st)) *status = WEXITSTATUS(st);
    if (!b.data) prep_buf_puts(&b, "");
    return prep_buf_steal(&b, NULL);
}

/* Runs NAME ARGS... found in the usual directories; NULL if not installed. */
static char *run_tool(const char *name, const char *a1, const char *a2, const char *a3, size_t max, int *status)
{
    char path[256];
    *status = -1;
    if (!find_exe(name, path, sizeof path)) return NULL;
    char *argv[5] = {path, (char *)a1, (char *)a2, (char *)a3, NULL};
    return run_cmd(argv, max, 10000, status);
}

/* Newline-separated names of running processes (/proc/PID/comm), owned; NULL if /proc
 * cannot be read. *prep_serve set when a process runs "prep serve". */
static char *list_procs(int *prep_serve)
{
    DIR *d = opendir("/proc");
    if (!d) return NULL;
    prep_buf b;
    prep_buf_init(&b, 4 << 20);
    prep_buf_puts(&b, "");
    struct dirent *e;
    *prep_serve = 0;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        char path[300], comm[64];
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(comm, sizeof comm, f)) {
            comm[strcspn(comm, "\n")] = '\0';
            prep_buf_printf(&b, "%s\n", comm);
            if (!strcmp(comm, "prep")) {
                char cl[256];
                snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
                FILE *g = fopen(path, "r");
                if (g) {
                    size_t n = fread(cl, 1, sizeof cl - 1, g);
                    cl[n] = '\0';
                    size_t a0 = strnlen(cl, n);
                    if (a0 + 1 < n && !strcmp(cl + a0 + 1, "serve")) *prep_serve = 1;
                    fclose(g);
                }
            }
        }
        fclose(f);
    }
    closedir(d);
    return prep_buf_steal(&b, NULL);
}

/* Listeners on port from /proc/net/tcp and tcp6; -1 when neither is readable. */
static int listeners(unsigned port)
{
    int total = -1;
    static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *t = read_text(files[i], PREP_CHECK_TEXT_MAX, &len);
        if (!t) continue;
        int n = prep_check_tcp_listeners(t, len, port);
        free(t);
        if (n >= 0) total = (total < 0 ? 0 : total) + n;
    }
    return total;
}

/* ---------------------------------------------------------------- HTTPS probe */
static void probe_err(prep_check_tls_probe *p, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[120] = "";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    snprintf(p->err, sizeof p->err, "%s%s%s", what, buf[0] ? ": " : "", buf);
    ERR_clear_error();
}

static int connect_timeout(const struct addrinfo *ai, int timeout_ms, char *err, size_t errsz)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        snprintf(err, errsz, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
        snprintf(err, errsz, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    struct pollfd pf = {fd, POLLOUT, 0};
    int r = poll(&pf, 1, timeout_ms);
    int so = 0;
    socklen_t sl = sizeof so;
    if (r <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) || so) {
        snprintf(err, errsz, "connect: %s", r == 0 ? "timed out" : strerror(so ? so : errno));
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

void prep_check_tls_probe_run(const char *url, int timeout_ms, prep_check_tls_probe *p)
{
    memset(p, 0, sizeof *p);
    p->not_after = PREP_TIME_NONE;
    p->now = (int64_t)time(NULL);
    snprintf(p->url, sizeof p->url, "%s", url);
    if (strncmp(url, "https://", 8) != 0) {
        snprintf(p->err, sizeof p->err, "not an https:// URL");
        return;
    }
    char host[256], port[8] = "443", path[512] = "/";
    const char *h = url + 8, *hend;
    if (*h == '[') {
        hend = strchr(h, ']');
        if (!hend || (size_t)(hend - h - 1) >= sizeof host) {
            snprintf(p->err, sizeof p->err, "bad IPv6 host");
            return;
        }
        memcpy(host, h + 1, (size_t)(hend - h - 1));
        host[hend - h - 1] = '\0';
        hend++;
    } else {
        hend = h + strcspn(h, ":/");
        if ((size_t)(hend - h) >= sizeof host || hend == h) {
            snprintf(p->err, sizeof p->err, "bad host");
            return;
        }
        memcpy(host, h, (size_t)(hend - h));
        host[hend - h] = '\0';
    }
    if (*hend == ':') {
        size_t n = strcspn(hend + 1, "/");
        if (n == 0 || n >= sizeof port) {
            snprintf(p->err, sizeof p->err, "bad port");
            return;
        }
        memcpy(port, hend + 1, n);
        port[n] = '\0';
        hend += 1 + n;
    }
    if (*hend == '/') snprintf(path, sizeof path, "%s", hend);
    for (const char *c = path; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
            snprintf(p->err, sizeof p->err, "bad path");
            return;
        }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int gr = getaddrinfo(host, port, &hints, &res);
    if (gr) {
        snprintf(p->err, sizeof p->err, "resolve %.60s: %.80s", host, gai_strerror(gr));
        return;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) fd = connect_timeout(ai, timeout_ms, p->err, sizeof p->err);
    freeaddrinfo(res);
    if (fd < 0) return;
    p->connected = 1;
    p->err[0] = '\0';
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (!ssl) {
        probe_err(p, "TLS setup");
        goto out;
    }
    SSL_CTX_set_default_verify_paths(ctx);
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL); /* the result is read and reported below */
    unsigned char in6[16];
    int is_ip = inet_pton(AF_INET, host, in6) == 1 || inet_pton(AF_INET6, host, in6) == 1;
    if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    } else {
        SSL_set_tlsext_host_name(ssl, host);
        SSL_set1_host(ssl, host);
    }
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_set_alpn_protos(ssl, alpn, sizeof alpn - 1);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        probe_err(p, "TLS handshake");
        goto out;
    }
    p->handshake = 1;
    snprintf(p->tls_version, sizeof p->tls_version, "%s", SSL_get_version(ssl));
    snprintf(p->cipher, sizeof p->cipher, "%s", SSL_get_cipher_name(ssl));
    const unsigned char *ap;
    unsigned apl;
    SSL_get0_alpn_selected(ssl, &ap, &apl);
    if (apl && apl < sizeof p->alpn) {
        memcpy(p->alpn, ap, apl);
        p->alpn[apl] = '\0';
    }
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (cert) {
        struct tm tm;
        const ASN1_TIME *na = X509_get0_notAfter(cert);
        if (na && ASN1_TIME_to_tm(na, &tm) == 1) p->not_after = (int64_t)timegm(&tm);
        X509_free(cert);
    }
    long vr = SSL_get_verify_result(ssl);
    p->verify_ok = vr == X509_V_OK;
    snprintf(p->verify_msg, sizeof p->verify_msg, "%s", X509_verify_cert_error_string(vr));
    char req[1024];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: prep-check\r\nConnection: close\r\n\r\n",
                      path, host);
    if (rl > 0 && (size_t)rl < sizeof req && SSL_write(ssl, req, rl) == rl) {
        char buf[512];
        int n = SSL_read(ssl, buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = '\0';
            int st = 0;
            if (sscanf(buf, "HTTP/%*d.%*d %3d", &st) == 1 && st >= 100 && st <= 599) p->http_status = st;
        }
    }
    if (!p->http_status) snprintf(p->err, sizeof p->err, "no HTTP status line in the answer");
    SSL_shutdown(ssl);
out:
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
    close(fd);
}

/* ---------------------------------------------------------------- firewall gathering */
/* The ruleset of this machine (or of opts->nft_json); NULL with note when none is readable. */
static prep_check_fw *gather_fw(const prep_check_opts *o, char *note, size_t notesz)
{
    prep_check_fw *fw = prep_check_fw_new();
    if (!fw) return NULL;
    prep_diags d;
    prep_diags_init(&d);
    int got = 0;
    note[0] = '\0';
    if (o->nft_json) {
        size_t len;
        char *t = read_text(o->nft_json, PREP_CHECK_TEXT_MAX, &len);
        if (t && prep_check_fw_add_nft_json(fw, t, len, o->nft_json, &d) == PREP_OK) {
            got = 1;
            snprintf(note, notesz, "nft JSON from %s", o->nft_json);
        } else {
            snprintf(note, notesz, "%s: %s", o->nft_json, d.n ? d.v[0].msg : "not readable");
        }
        free(t);
    } else {
        int st;
        char *t = run_tool("nft", "-j", "list", "ruleset", PREP_CHECK_TEXT_MAX, &st);
        if (t && st == 0 && prep_check_fw_add_nft_json(fw, t, strlen(t), "nft -j list ruleset", &d) == PREP_OK) {
            got = 1;
            snprintf(note, notesz, "nft -j list ruleset");
        } else if (t) {
            snprintf(note, notesz, "nft -j list ruleset failed%s: %.80s", geteuid() ? " (not root)" : "", t);
        } else {
            snprintf(note, notesz, "no nft");
        }
        free(t);
        /* iptables-legacy rules do not show in nft: read them too when nft shows no input chain */
        if (!prep_check_fw_input_chains(fw)) {
            static const struct { const char *tool; int fam; } ipt[] = {{"iptables-save", 4}, {"ip6tables-save", 6}};
            for (size_t i = 0; i < 2; i++) {
                char *s = run_tool(ipt[i].tool, NULL, NULL, NULL, PREP_CHECK_TEXT_MAX, &st);
                if (s && st == 0 && prep_check_fw_add_iptables(fw, s, strlen(s), ipt[i].fam, ipt[i].tool, &d) == PREP_OK) {
                    if (!got) note[0] = '\0';
                    got = 1;
                    size_t l = strlen(note);
                    snprintf(note + l, notesz - l, "%s%s", l ? ", " : "", ipt[i].tool);
                }
                free(s);
            }
        }
    }
    prep_diags_free(&d);
    if (!got) {
        prep_check_fw_free(fw);
        return NULL;
    }
    return fw;
}

static void add_port(unsigned *ports, size_t *n, unsigned p)
{
    for (size_t i = 0; i < *n; i++)
        if (ports[i] == p) return;
    if (*n < PREP_CHECK_MAX_PORTS * 2) ports[(*n)++] = p;
}

/* ---------------------------------------------------------------- run */
void prep_check_run(const prep_check_opts *o, prep_check_report *r)
{
    memset(r, 0, sizeof *r);
    size_t len;
    int st, prep_serve = 0;
    char *procs = list_procs(&prep_serve);

    /* os */
    char *t = read_text("/etc/os-release", 1 << 20, &len);
    if (!t) t = read_text("/usr/lib/os-release", 1 << 20, &len);
    struct utsname un;
    int unok = uname(&un) == 0;
    prep_check_os(t, t ? len : 0, unok ? un.machine : NULL, &r->items[r->n++]);
    free(t);

    /* web */
    char *apache = run_tool("apache2", "-v", NULL, NULL, 4096, &st);
    if (!apache) apache = run_tool("httpd", "-v", NULL, NULL, 4096, &st);
    char *nginx = run_tool("nginx", "-v", NULL, NULL, 4096, &st);
    prep_check_web(apache, nginx, listeners(443), listeners(80), prep_serve, &r->items[r->n++]);
    free(apache);
    free(nginx);

    /* ssh */
    char sshd[256];
    int have_sshd = find_exe("sshd", sshd, sizeof sshd);
    char *sshd_t = NULL;
    if (have_sshd && geteuid() == 0) {
        sshd_t = run_tool("sshd", "-T", NULL, NULL, 1 << 20, &st);
        if (sshd_t && st != 0) {
            free(sshd_t);
            sshd_t = NULL;
        }
    }
    char *sshd_cfg = read_text("/etc/ssh/sshd_config", 1 << 20, NULL);
    char *ssh_v = run_tool("ssh", "-V", NULL, NULL, 4096, &st);
    prep_check_ssh(sshd_t, sshd_cfg, ssh_v, have_sshd, &r->items[r->n++]);
    unsigned ports[PREP_CHECK_MAX_PORTS * 2];
    size_t np = 0;
    add_port(ports, &np, 21);
    add_port(ports, &np, 990);
    add_port(ports, &np, 22);
    unsigned sp[8];
    size_t nsp = prep_check_sshd_ports(sshd_t ? sshd_t : sshd_cfg, sp, 8);
    for (size_t i = 0; i < nsp; i++) add_port(ports, &np, sp[i]);
    free(sshd_t);
    free(sshd_cfg);
    free(ssh_v);
    char *vsftpd = read_text("/etc/vsftpd.conf", 1 << 20, NULL);
    if (!vsftpd) vsftpd = read_text("/etc/vsftpd/vsftpd.conf", 1 << 20, NULL);
    if (vsftpd) {
        const char *lp = strstr(vsftpd, "\nlisten_port=");
        if (lp) {
            long v = strtol(lp + 13, NULL, 10);
            if (v > 0 && v < 65536) add_port(ports, &np, (unsigned)v);
        }
        free(vsftpd);
    }
    for (size_t i = 0; i < o->n_extra_ports; i++) add_port(ports, &np, o->extra_ports[i]);

    /* ntp */
    prep_check_clock clk;
    memset(&clk, 0, sizeof clk);
    struct timex tx;
    memset(&tx, 0, sizeof tx);
    if (adjtimex(&tx) >= 0) {
        clk.ok = 1;
        clk.status = tx.status;
        clk.maxerror_us = tx.maxerror;
        clk.esterror_us = tx.esterror;
    } else {
        clk.err = errno;
    }
    prep_check_ntp(&clk, procs, &r->items[r->n++]);

    /* disk */
    const char *path = o->path ? o->path : "/";
    struct statvfs sv;
    int ok = statvfs(path, &sv) == 0;
    int err = ok ? 0 : errno;
    prep_check_disk(path, ok, err, ok ? (uint64_t)sv.f_bavail * sv.f_frsize : 0, ok ? (uint64_t)sv.f_blocks * sv.f_frsize : 0,
                    &r->items[r->n++]);

    /* ram */
    t = read_text("/proc/meminfo", 1 << 20, &len);
    prep_check_ram(t, t ? len : 0, &r->items[r->n++]);
    free(t);

    /* cpu */
    t = read_text("/proc/cpuinfo", PREP_CHECK_TEXT_MAX, &len);
    long khz = 0;
    char *f = read_text("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", 64, NULL);
    if (f) {
        khz = strtol(f, NULL, 10);
        free(f);
    }
    prep_check_cpu(t, t ? len : 0, sysconf(_SC_NPROCESSORS_ONLN), khz > 0 ? khz : 0, &r->items[r->n++]);
    free(t);

    /* https */
    prep_check_tls_probe probe;
    prep_check_tls_probe_run(o->url ? o->url : "https://127.0.0.1/", o->timeout_ms > 0 ? o->timeout_ms : 5000, &probe);
    prep_check_https(&probe, &r->items[r->n++]);

    /* firewall */
    char note[200];
    prep_check_fw *fw = gather_fw(o, note, sizeof note);
    prep_check_firewall(fw, note, o->institute_ip, ports, np, &r->items[r->n++]);
    prep_check_fw_free(fw);

    /* ids */
    char *dpkg = read_text("/var/lib/dpkg/status", PREP_CHECK_TEXT_MAX, &len);
    size_t dlen = dpkg ? len : 0;
    prep_buf present;
    prep_buf_init(&present, 1 << 16);
    prep_buf_puts(&present, "");
    for (const char *const *pp = prep_check_ids_paths(); *pp; pp++)
        if (access(*pp, F_OK) == 0) prep_buf_printf(&present, "%s\n", *pp);
    prep_check_ids(dpkg, dlen, procs, present.data, &r->items[r->n++]);
    prep_buf_free(&present);
    free(dpkg);
    free(procs);
}

/* ---------------------------------------------------------------- report */
void prep_check_count(const prep_check_report *r, size_t *pass, size_t *fail, size_t *unknown)
{
    *pass = *fail = *unknown = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->items[i].verdict == PREP_CHECK_PASS) (*pass)++;
        else if (r->items[i].verdict == PREP_CHECK_FAIL) (*fail)++;
        else (*unknown)++;
    }
}

void prep_check_print_text(const prep_check_report *r, FILE *f)
{
    fprintf(f, "prep check: the call's section II (minimum infrastructure of a broadcaster's server)\n\n");
    fprintf(f, "%-9s %-12s %s\n", "item", "verdict", "evidence / requirement");
    for (size_t i = 0; i < r->n; i++) {
        const prep_check_item *it = &r->items[i];
        const char *v = it->verdict == PREP_CHECK_PASS ? "pass" : it->verdict == PREP_CHECK_FAIL ? "FAIL" : "CANNOT TELL";
        fprintf(f, "%-9s %-12s %s\n", it->id, v, it->evidence);
        fprintf(f, "%-9s %-12s required: %s\n", "", "", it->requirement);
    }
    size_t p, fl, u;
    prep_check_count(r, &p, &fl, &u);
    fprintf(f, "\n%zu pass, %zu fail, %zu cannot tell\n", p, fl, u);
    if (u) {
        fprintf(f, "CANNOT TELL:");
        for (size_t i = 0; i < r->n; i++)
            if (r->items[i].verdict == PREP_CHECK_UNKNOWN) fprintf(f, " %s", r->items[i].id);
        fprintf(f, " - not a pass: check these by hand before declaring them on Anexo 1\n");
    }
    fprintf(f, "Not checkable by software (declare on Anexo 1): dedicated server, SSD, redundant power\n"
               "supply and network card, 10 Mbps synchronous link, fixed public IP, regulated supply,\n"
               "UPS, emergency generator.\n");
}

char *prep_check_json(const prep_check_report *r)
{
    json_t *root = json_object(), *items = json_array(), *sum = json_object();
    if (!root || !items || !sum) {
        json_decref(root);
        json_decref(items);
        json_decref(sum);
        return NULL;
    }
    json_object_set_new(root, "check", json_string("prep-check-1"));
    for (size_t i = 0; i < r->n; i++) {
        const prep_check_item *it = &r->items[i];
        json_t *o = json_object();
        if (!o) continue;
        json_object_set_new(o, "id", json_string(it->id));
        json_object_set_new(o, "verdict", json_string(prep_check_verdict_name(it->verdict)));
        /* evidence comes from the machine: pass it through as valid UTF-8 or escape it */
        json_t *ev = json_string(it->evidence);
        if (!ev) {
            char *lat = prep_latin1_to_utf8(it->evidence, strlen(it->evidence), NULL);
            ev = json_string(lat ? lat : "");
            free(lat);
        }
        json_object_set_new(o, "evidence", ev);
        json_object_set_new(o, "requirement", json_string(it->requirement));
        json_array_append_new(items, o);
    }
    json_object_set_new(root, "items", items);
    size_t p, f, u;
    prep_check_count(r, &p, &f, &u);
    json_object_set_new(sum, "pass", json_integer((json_int_t)p));
    json_object_set_new(sum, "fail", json_integer((json_int_t)f));
    json_object_set_new(sum, "cannot_tell", json_integer((json_int_t)u));
    json_object_set_new(root, "summary", sum);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}
