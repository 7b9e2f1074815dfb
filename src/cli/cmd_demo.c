/* prep demo: the live election-night drill on this machine (DESIGN.md; the README's first
 * command). A temporary institute with the simulated Querétaro 2021 catalogue and night
 * makes a signed drill cut every few real seconds, each standing for 5 minutes of the
 * night; two broadcasters take every cut through their pull links and serve it over
 * HTTPS on loopback — one with `prep serve`, one with Apache httpd from an exported
 * docroot when apache2 is installed — and the monitor board watches both. Prints the
 * URLs to open, then runs until Ctrl-C (or --duration) and cleans up after itself.
 *
 * Every part runs as its own process of this same binary (or apache2), exactly as an
 * operator would run it; their logs go to DIR/logs/. A part that dies is named and
 * started again (backoff 1, 2, 4 ... 30 s); Apache starts once the first cut is exported,
 * however long that takes, instead of after a fixed wait. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prep/cut.h"
#include "prep/registry.h"

extern char **environ;

#define MAX_CHILDREN 8

typedef struct child {
    const char *name;
    pid_t pid;
    char log[4096];
    char **argv;      /* owned copy, to start it again */
    time_t restart_at; /* 0: running (or done); else when to start it again */
    int restarts;
} child;

typedef struct demo {
    char dir[4096];
    char self[4096];
    int keep;
    child ch[MAX_CHILDREN];
    int n;
} demo;

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static char *fmt(char *out, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static char *fmt(char *out, size_t n, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(out, n, f, ap);
    va_end(ap);
    return out;
}

static pid_t start_child(child *c);

/* Starts argv with stdout+stderr to DIR/logs/<name>.log. */
static pid_t spawn(demo *dm, const char *name, char *const argv[])
{
    if (dm->n == MAX_CHILDREN) return -1;
    child *c = &dm->ch[dm->n];
    memset(c, 0, sizeof *c);
    c->name = name;
    fmt(c->log, sizeof c->log, "%s/logs/%s.log", dm->dir, name);
    size_t n = 0;
    while (argv[n]) n++;
    c->argv = prep_xcalloc(n + 1, sizeof *c->argv);
    for (size_t i = 0; i < n; i++) c->argv[i] = prep_xstrdup(argv[i]);
    pid_t pid = start_child(c);
    if (pid < 0) {
        for (size_t i = 0; i < n; i++) free(c->argv[i]);
        free(c->argv);
        c->argv = NULL;
        return -1;
    }
    dm->n++;
    return pid;
}

static pid_t start_child(child *c)
{
    char *const *argv = c->argv;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, c->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r) {
        fprintf(stderr, "prep demo: cannot start %s: %s\n", argv[0], strerror(r));
        return -1;
    }
    c->pid = pid;
    c->restart_at = 0;
    return pid;
}

static void free_children(demo *dm)
{
    for (int i = 0; i < dm->n; i++) {
        for (size_t k = 0; dm->ch[i].argv && dm->ch[i].argv[k]; k++) free(dm->ch[i].argv[k]);
        free(dm->ch[i].argv);
        dm->ch[i].argv = NULL;
    }
}

/* Runs a step to completion (its output to the step's log). 0 when it exits 0. */
static int run(demo *dm, const char *name, char *const argv[])
{
    pid_t pid = spawn(dm, name, argv);
    if (pid < 0) return -1;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    dm->n--; /* finished: not a child to stop later */
    for (size_t k = 0; dm->ch[dm->n].argv && dm->ch[dm->n].argv[k]; k++) free(dm->ch[dm->n].argv[k]);
    free(dm->ch[dm->n].argv);
    dm->ch[dm->n].argv = NULL;
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        fprintf(stderr, "prep demo: step '%s' failed; its log: %s\n", name, dm->ch[dm->n].log);
        return -1;
    }
    return 0;
}

static void stop_all(demo *dm)
{
    for (int i = dm->n - 1; i >= 0; i--)
        if (dm->ch[i].pid > 0) kill(dm->ch[i].pid, SIGTERM);
    for (int tries = 0; tries < 50; tries++) {
        int alive = 0;
        for (int i = 0; i < dm->n; i++) {
            if (dm->ch[i].pid <= 0) continue;
            if (waitpid(dm->ch[i].pid, NULL, WNOHANG) == dm->ch[i].pid) dm->ch[i].pid = 0;
            else alive++;
        }
        if (!alive) return;
        usleep(100000);
    }
    for (int i = 0; i < dm->n; i++)
        if (dm->ch[i].pid > 0) {
            kill(dm->ch[i].pid, SIGKILL);
            waitpid(dm->ch[i].pid, NULL, 0);
        }
}

/* A child that died on its own is named and started again after a backoff (1, 2, 4 ...
 * 30 s): a drill keeps every part running, as a night would need. */
static void reap(demo *dm)
{
    time_t now = time(NULL);
    for (int i = 0; i < dm->n; i++) {
        child *c = &dm->ch[i];
        int st;
        if (c->pid > 0 && waitpid(c->pid, &st, WNOHANG) == c->pid) {
            int delay = c->restarts < 5 ? 1 << c->restarts : 30;
            fprintf(stderr, "prep demo: %s stopped (%s %d); its log: %s; starting it again in %d s\n", c->name,
                    WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), c->log, delay);
            c->pid = 0;
            c->restart_at = now + delay;
        }
        if (c->pid == 0 && c->restart_at && now >= c->restart_at && !stop_flag) {
            c->restarts++;
            if (start_child(c) > 0) fprintf(stderr, "prep demo: %s started again (%d)\n", c->name, c->restarts);
            else c->restart_at = now + 30;
        }
    }
}

static int free_port(int want)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(attempt ? 0 : want)),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (fd < 0) return -1;
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            socklen_t sl = sizeof sa;
            getsockname(fd, (struct sockaddr *)&sa, &sl);
            close(fd);
            return ntohs(sa.sin_port);
        }
        close(fd);
    }
    return -1;
}

static int write_text(const char *path, const char *text)
{
    if (prep_write_file_atomic(path, text, strlen(text)) == PREP_OK) return 0;
    fprintf(stderr, "prep demo: %s\n", prep_err_text(PREP_ERR_IO));
    return -1;
}

static uint64_t active_seq(const char *store)
{
    prep_cut_active a;
    prep_diags d;
    prep_diags_init(&d);
    uint64_t s = prep_cut_active_read(store, &a, &d) == PREP_OK ? a.seq : 0;
    prep_diags_free(&d);
    return s;
}

/* Registers one pull broadcaster, active, and returns its token. */
static int register_pull(prep_registry *reg, const char *id, const char *name, const char *kind, const char *url,
                         char token[PREP_REGISTRY_TOKEN_HEX + 1])
{
    prep_registry_input in;
    prep_registry_input_init(&in);
    struct {
        const char *k, *v;
    } f[] = {
        {"id", id},
        {"name", name},
        {"kind", kind},
        {"website", "https://www.example.mx/"},
        {"publication-url", url},
        {"legal-name", "Representante legal (simulacro)"},
        {"legal-phone", "442 000 0000"},
        {"legal-mobile", "442 000 0001"},
        {"legal-email", "legal@example.mx"},
        {"tech-name", "Responsable técnico (simulacro)"},
        {"tech-phone", "442 000 0002"},
        {"tech-mobile", "442 000 0003"},
        {"tech-email", "ti@example.mx"},
        {"method", "pull"},
    };
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = PREP_OK;
    for (size_t i = 0; i < sizeof f / sizeof *f && !e; i++) e = prep_registry_input_set(&in, f[i].k, f[i].v, "demo", 0, &d);
    char got[64];
    if (!e) e = prep_registry_add(reg, &in, "prep demo", prep_time_now(), token, got, &d);
    static const prep_registry_status steps[] = {PREP_REGISTRY_INFRA_VERIFIED, PREP_REGISTRY_APPROVED, PREP_REGISTRY_ACTIVE};
    for (size_t i = 0; i < 3 && !e; i++)
        e = prep_registry_transition(reg, id, steps[i], "prep demo", "drill", prep_time_now(), &d);
    if (e) prep_diags_print(&d, stderr, 5);
    prep_diags_free(&d);
    prep_registry_input_free(&in);
    return e ? -1 : 0;
}

static int have_exe(const char *p) { return access(p, X_OK) == 0; }

int cmd_demo(int argc, char **argv)
{
    cli_opt opts[] = {
        {"dir", "DIR", "work here (kept afterwards) instead of a temporary directory (removed)", NULL},
        {"seconds-per-cut", "S", "real seconds between cuts, each standing for 5 minutes of the night (default 10)", NULL},
        {"duration", "S", "stop by itself after S seconds (default: run until Ctrl-C)", NULL},
        {"scale", "NAME", "qro2021 (default): Querétaro 2021; national: the federal night (32 entities, 300 districts, three elections); national-small: the same map with few sections; tiny: a few casillas (tests)", NULL},
        {"geojson", "FILE", "the map: INEGI municipality GeoJSON (qro2021) or the 32 entities' (national scales)", NULL},
        {"port", "N", "first HTTPS port to try (default 8443: broadcasters on 8443 and 8444, links on 9443)", NULL},
        {"no-apache", NULL, "do not start the Apache broadcaster even if apache2 is installed", NULL},
        {"store-keep", "N", "every store keeps the objects of its N newest cuts (default 24; older cuts keep their "
                            "manifest and signature), and Apache's docroot archives 2 cuts whole", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help = 0;
    char err[256];
    const char *syn = "[--seconds-per-cut S] [--duration S] [--dir DIR] [--scale qro2021|national|national-small|tiny] [--geojson FILE] "
                      "[--port N] [--no-apache] [--store-keep N]";
    const char *sum =
        "The live election-night drill on loopback: an institute making a signed drill cut every few\n"
        "seconds from the simulated Querétaro 2021 night (each cut stands for 5 minutes), two\n"
        "broadcasters taking every cut through their pull links and serving it over HTTPS (prep serve\n"
        "with a self-signed certificate, and Apache httpd from an exported docroot if apache2 is\n"
        "installed), and the monitor board. Prints the URLs to open; Ctrl-C stops and cleans up.";
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep demo: %s\n", err);
        cli_usage(stderr, "demo", syn, sum, opts);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "demo", syn, sum, opts);
        return CLI_OK;
    }
    double spc = 10;
    int64_t duration = 0, port0 = 8443, keep = 24;
    const char *v;
    if ((v = cli_get(opts, "seconds-per-cut")) && (sscanf(v, "%lf", &spc) != 1 || spc < 1 || spc > 600)) {
        fprintf(stderr, "prep demo: --seconds-per-cut must be between 1 and 600\n");
        return CLI_USAGE;
    }
    if (cli_int("demo", "duration", cli_get(opts, "duration"), 1, 365 * 86400, &duration) < 0 ||
        cli_int("demo", "port", cli_get(opts, "port"), 1024, 65000, &port0) < 0 ||
        cli_int("demo", "store-keep", cli_get(opts, "store-keep"), 2, 100000, &keep) < 0)
        return CLI_USAGE;
    const char *scale = cli_get(opts, "scale") ? cli_get(opts, "scale") : "qro2021";
    if (strcmp(scale, "qro2021") && strcmp(scale, "tiny") && strcmp(scale, "national") &&
        strcmp(scale, "national-small")) {
        fprintf(stderr, "prep demo: --scale is qro2021, national, national-small or tiny\n");
        return CLI_USAGE;
    }
    int national = !strncmp(scale, "national", 8);
    if (!strcmp(scale, "tiny") && cli_get(opts, "geojson")) {
        fprintf(stderr, "prep demo: --geojson goes with --scale qro2021 (municipalities) or national (entities)\n");
        return CLI_USAGE;
    }

    demo dm;
    memset(&dm, 0, sizeof dm);
    ssize_t sl = readlink("/proc/self/exe", dm.self, sizeof dm.self - 1);
    if (sl <= 0) {
        fprintf(stderr, "prep demo: cannot find this program's path (/proc/self/exe)\n");
        return CLI_USAGE;
    }
    dm.self[sl] = '\0';
    if (cli_get(opts, "dir")) {
        fmt(dm.dir, sizeof dm.dir, "%s", cli_get(opts, "dir"));
        if (mkdir(dm.dir, 0755) && errno != EEXIST) {
            fprintf(stderr, "prep demo: cannot create %s: %s\n", dm.dir, strerror(errno));
            return CLI_USAGE;
        }
        dm.keep = 1;
    } else {
        fmt(dm.dir, sizeof dm.dir, "/tmp/prep-demo-XXXXXX");
        if (!mkdtemp(dm.dir)) {
            fprintf(stderr, "prep demo: cannot create a temporary directory: %s\n", strerror(errno));
            return CLI_USAGE;
        }
    }
    chmod(dm.dir, 0755); /* Apache's worker user reads the docroot below it */
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char p[16][4096];
    int rc = CLI_USAGE;
    prep_registry *reg = NULL;
    const char *D = dm.dir, *S = dm.self;
    mkdir(fmt(p[0], sizeof p[0], "%s/logs", D), 0755);
    mkdir(fmt(p[0], sizeof p[0], "%s/tls", D), 0755);
    mkdir(fmt(p[0], sizeof p[0], "%s/uaq", D), 0755);
    mkdir(fmt(p[0], sizeof p[0], "%s/diario", D), 0755);
    mkdir(fmt(p[0], sizeof p[0], "%s/board", D), 0755);

    printf("prep demo: preparing the drill in %s (logs in %s/logs/)\n", D, D);
    fflush(stdout);
    /* 1. the institute's inputs: catalogue, the night's actas, a drill key */
    const char *geo = cli_get(opts, "geojson");
    char *cat_argv[] = {(char *)S, "sim", "catalog", "--scale", (char *)scale, "--out",
                        fmt(p[1], sizeof p[1], "%s/catalogo.cat", D), geo ? "--geojson" : NULL, (char *)geo, NULL};
    char *act_argv[] = {(char *)S, "sim", "actas", "--catalog", p[1], "--out", fmt(p[2], sizeof p[2], "%s/actas", D),
                        "--seed", "2021", NULL};
    char *key_argv[] = {(char *)S, "keygen", "--out", fmt(p[3], sizeof p[3], "%s/%s-simulacro", D, national ? "ine" : "ieeq"), "--drill", NULL};
    if (run(&dm, "sim-catalog", cat_argv) || run(&dm, "sim-actas", act_argv) || run(&dm, "keygen", key_argv)) goto out;
    fmt(p[4], sizeof p[4], "%s/tls/cert.pem", D);
    fmt(p[5], sizeof p[5], "%s/tls/key.pem", D);
    if (cli_selfsigned(p[4], p[5], "localhost")) {
        fprintf(stderr, "prep demo: cannot make the drill's TLS certificate\n");
        goto out;
    }
    chmod(p[5], 0640);

    /* 2. ports: the broadcasters' HTTPS sites and the institute's pull links */
    int pa = free_port((int)port0), pb = free_port((int)port0 + 1), pl = free_port((int)port0 + 1000);
    int apache = !cli_get(opts, "no-apache") && have_exe("/usr/sbin/apache2");
    int apache_pending = 0; /* Apache starts once its docroot exists (the first export) */
    if (pa < 0 || pb < 0 || pl < 0) {
        fprintf(stderr, "prep demo: no free loopback port\n");
        goto out;
    }

    /* 3. the registry: two pull broadcasters, active */
    char tok_a[PREP_REGISTRY_TOKEN_HEX + 1], tok_b[PREP_REGISTRY_TOKEN_HEX + 1];
    prep_diags d;
    prep_diags_init(&d);
    fmt(p[6], sizeof p[6], "%s/difusores.db", D);
    if (prep_registry_open(p[6], NULL, &reg, &d)) {
        prep_diags_print(&d, stderr, 5);
        prep_diags_free(&d);
        goto out;
    }
    prep_diags_free(&d);
    char url_a[128], url_b[128];
    fmt(url_a, sizeof url_a, "https://127.0.0.1:%d/", pa);
    fmt(url_b, sizeof url_b, "https://127.0.0.1:%d/", pb);
    /* The ids (uaq, diario) name directories and logs; the names follow the scale. */
    const char *name_a = national ? "Universidad Nacional Autónoma de México (simulacro)"
                                  : "Universidad Autónoma de Querétaro (simulacro)";
    const char *name_b = national ? "Diario nacional (simulacro, Apache)" : "Diario de Querétaro (simulacro, Apache)";
    if (register_pull(reg, "uaq", name_a, "universidad", url_a, tok_a) ||
        (apache && register_pull(reg, "diario", name_b, "medio", url_b, tok_b)))
        goto out;
    prep_registry_close(reg);
    reg = NULL;

    /* 4. the institute. Every store keeps the objects of its newest cuts only (store_keep,
     * --store-keep), and Apache's docroot archives 2 cuts whole: every cut changes every
     * page, so without retention an accelerated Querétaro drill grew ~1.5 GB a minute (a
     * plain Debian 12's 8 GB /tmp full in ~5 minutes). What still grows is each store's
     * manifests and signatures, kept for the chain (~13 MB a cut at Querétaro scale). */
    char cfg[8192], keeps[24];
    fmt(keeps, sizeof keeps, "%lld", (long long)keep);
    fmt(cfg, sizeof cfg,
        "{\n  \"catalog\": \"%s\",\n  \"actas\": \"%s\",\n  \"key\": \"%s.key\",\n  \"pubkey\": \"%s.pub\",\n"
        "  \"store\": \"%s/instituto\",\n  \"drill\": true,\n  \"registry\": \"%s\",\n  \"store_keep\": %s,\n"
        "  \"clock\": {\"start\": \"2021-06-06 20:05\", \"seconds_per_cut\": %g},\n"
        "  \"pull\": {\"listen\": \"127.0.0.1:%d\", \"tls_cert\": \"%s\", \"tls_key\": \"%s\"}\n}\n",
        p[1], p[2], p[3], p[3], D, p[6], keeps, spc, pl, p[4], p[5]);
    fmt(p[7], sizeof p[7], "%s/instituto.json", D);
    if (write_text(p[7], cfg)) goto out;
    char *inst_argv[] = {(char *)S, "institute", "--config", p[7], NULL};
    if (spawn(&dm, "instituto", inst_argv) < 0) goto out;

    /* 5. broadcaster A: prep serve, pulling */
    char link_a[256], link_b[256], la[64], pubf[4200];
    fmt(link_a, sizeof link_a, "https://127.0.0.1:%d/pull/%s/", pl, tok_a);
    fmt(link_b, sizeof link_b, "https://127.0.0.1:%d/pull/%s/", pl, tok_b);
    fmt(la, sizeof la, "127.0.0.1:%d", pa);
    fmt(pubf, sizeof pubf, "%s.pub", p[3]);
    fmt(p[8], sizeof p[8], "%s/uaq/store", D);
    fmt(p[9], sizeof p[9], "%s/uaq/access.log", D);
    /* the broadcasters poll their links a few times per cut (2 s, the default, when a cut
     * stands for 5 real minutes; 250 ms at one cut per second), so they stay within one
     * cut of the institute on an accelerated night too */
    char every[16];
    fmt(every, sizeof every, "%d", spc * 250 < 2000 ? (int)(spc * 250) : 2000);
    char *serve_argv[] = {(char *)S,      "serve",    "--store",    p[8],     "--tls-listen", la,
                          "--tls-cert",   p[4],       "--tls-key",  p[5],     "--pull",       link_a,
                          "--pull-ca",    p[4],       "--pubkey",   pubf,     "--drill",      "--access-log",
                          p[9],           "--threads", "1",         "--pull-every", every, "--store-keep",
                          keeps,          NULL};
    if (spawn(&dm, "difusor-uaq-serve", serve_argv) < 0) goto out;

    /* 6. broadcaster B: a pulling receiver that keeps an exported docroot, and Apache */
    char lb[64];
    fmt(lb, sizeof lb, "127.0.0.1:%d", pb);
    if (apache) {
        fmt(p[10], sizeof p[10], "%s/diario/store", D);
        fmt(p[11], sizeof p[11], "%s/diario/docroot", D);
        fmt(p[12], sizeof p[12], "%s/diario/apache", D);
        mkdir(p[12], 0755);
        /* the archive keeps 2 cuts whole instead of the default 8, and one served tree
         * besides the current one (each pins its archived cut whole): a Querétaro cut in the
         * docroot is ~0.6 GB with its twins, a national one ~2.5 GB */
        char *recv_argv[] = {(char *)S,  "receive", "--store", p[10],     "--pull",       link_b, "--pull-ca", p[4],
                             "--pubkey", pubf,      "--drill", "--export", p[11],         "--link", "--keep",  "1",
                             "--poll-ms", every,    "--archive-full",      "2",           "--store-keep", keeps, NULL};
        if (spawn(&dm, "difusor-diario-receive", recv_argv) < 0) goto out;
        /* Apache wants its docroot to exist when it starts: it is started by the loop below
         * once the first export is there, however long that takes (a Querétaro-scale
         * first export takes minutes) */
        fmt(p[13], sizeof p[13], "%s/httpd.conf", p[12]);
        apache_pending = 1;
    }

    /* 7. the monitor board */
    char mcfg[8192];
    fmt(mcfg, sizeof mcfg,
        "{\n  \"store\": \"%s/instituto\",\n  \"out\": \"%s/board\",\n  \"interval_seconds\": %g,\n"
        "  \"sample\": 10,\n  \"broadcasters\": [\n    {\"id\": \"uaq\", \"url\": \"%s\", \"ca_file\": \"%s\"}%s",
        D, D, spc < 5 ? 5 : spc, url_a, p[4], apache ? ",\n" : "\n");
    if (apache) {
        size_t l = strlen(mcfg);
        fmt(mcfg + l, sizeof mcfg - l, "    {\"id\": \"diario\", \"url\": \"%s\", \"ca_file\": \"%s\"}\n", url_b, p[4]);
    }
    size_t l = strlen(mcfg);
    fmt(mcfg + l, sizeof mcfg - l, "  ]\n}\n");
    fmt(p[14], sizeof p[14], "%s/monitor.json", D);
    if (write_text(p[14], mcfg)) goto out;
    char *mon_argv[] = {(char *)S, "monitor", "--config", p[14], NULL};
    if (spawn(&dm, "monitor", mon_argv) < 0) goto out;

    printf("\nprep demo: the drill is running (a cut every %g s stands for 5 minutes of the night).\n", spc);
    printf("  difusor 1, prep serve:   %s   (self-signed certificate: accept it in the browser)\n", url_a);
    if (apache) printf("  difusor 2, Apache httpd: %s  (from its first exported cut on)\n", url_b);
    else printf("  difusor 2, Apache httpd: not started (%s)\n", cli_get(opts, "no-apache") ? "--no-apache" : "apache2 is not installed");
    printf("  tablero del monitor:     file://%s/board/index.html\n", D);
    printf("  check a cut yourself:    curl -sk %sSHA256SUMS  (signed with %s)\n", url_a, pubf);
    printf("  Ctrl-C stops the drill and removes %s%s\n\n", D, dm.keep ? " (kept: --dir)" : "");
    fflush(stdout);

    time_t t0 = time(NULL);
    uint64_t last_i = 0, last_a = 0, last_b = 0;
    fmt(p[15], sizeof p[15], "%s/instituto", D);
    while (!stop_flag && (!duration || time(NULL) - t0 < duration)) {
        usleep(250000);
        reap(&dm);
        struct stat dst;
        if (apache_pending && stat(p[11], &dst) == 0) {
            apache_pending = 0;
            char *conf_argv[] = {(char *)S,     "apache",     "--docroot",  p[11], "--server-name", "localhost",
                                 "--listen",    lb,           "--tls-cert", p[4],  "--tls-key",     p[5],
                                 "--standalone", p[12],       NULL};
            /* the config goes to a file: run the step with stdout there */
            posix_spawn_file_actions_t fa;
            posix_spawn_file_actions_init(&fa);
            posix_spawn_file_actions_addopen(&fa, 1, p[13], O_WRONLY | O_CREAT | O_TRUNC, 0644);
            pid_t cp;
            int cst = 1;
            if (posix_spawn(&cp, S, &fa, NULL, conf_argv, environ) == 0) waitpid(cp, &cst, 0);
            posix_spawn_file_actions_destroy(&fa);
            char *ap_argv[] = {"/usr/sbin/apache2", "-d", p[12], "-f", p[13], "-DFOREGROUND", NULL};
            if (cst) fprintf(stderr, "prep demo: prep apache failed; Apache broadcaster skipped\n");
            else if (spawn(&dm, "difusor-diario-apache", ap_argv) > 0)
                printf("prep demo: [%4lds] the first cut is exported: Apache started\n", (long)(time(NULL) - t0));
        }
        uint64_t si = active_seq(p[15]), sa_ = active_seq(p[8]), sb = apache ? active_seq(p[10]) : 0;
        if (si != last_i || sa_ != last_a || sb != last_b) {
            printf("prep demo: [%4lds] instituto corte %llu | uaq (prep serve) corte %llu", (long)(time(NULL) - t0),
                   (unsigned long long)si, (unsigned long long)sa_);
            if (apache) printf(" | diario (Apache) corte %llu", (unsigned long long)sb);
            printf("\n");
            fflush(stdout);
            last_i = si;
            last_a = sa_;
            last_b = sb;
        }
    }
    rc = CLI_OK;
out:
    prep_registry_close(reg);
    printf("prep demo: stopping\n");
    fflush(stdout);
    stop_all(&dm);
    free_children(&dm);
    if (!dm.keep) prep_rm_tree(dm.dir);
    return rc;
}
