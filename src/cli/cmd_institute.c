/* prep institute: the institute's daemon (DESIGN.md; issue "delivery network").
 *
 * In the publication window it makes one cut every cut interval aligned to the clock
 * (:00, :05, ...), or, for drills, one cut every N real seconds standing for the interval
 * of simulated time; after each cut a delivery thread pushes the newest cut to every
 * active broadcaster (latest wins: a round that is still running when a cut is made is
 * followed by one for the newest cut, never by one per missed cut); the pull links are
 * served all along. The registry is read again at each cut and each delivery round, so a
 * block takes effect at once (the pull server asks it on every request).
 *
 * Config: JSON (docs/institute.md). */
#include "cli.h"
#include "cutter.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "prep/deliver.h"
#include "prep/institute.h"
#include "prep/pull.h"
#include "prep/registry.h"

typedef prep_institute_config inst_config; /* include/prep/institute.h */

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Sleeps until the wall clock reaches t (seconds, may be fractional), waking early on a
 * signal. Returns 0 when reached, -1 when stopped. */
static int sleep_until(double t)
{
    for (;;) {
        if (stop_flag) return -1;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        double left = t - ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
        if (left <= 0) return 0;
        if (left > 0.2) left = 0.2;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(left * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* This thread's CPU seconds (the pull link's threads run beside it). */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- config */

static int load_config(const char *path, inst_config *c)
{
    memset(c, 0, sizeof *c);
    char *text = NULL;
    size_t len = 0;
    prep_err e = prep_read_file(path, PREP_INSTITUTE_CONFIG_MAX, &text, &len);
    if (e) {
        fprintf(stderr, "prep institute: cannot read %s: %s\n", path, prep_err_text(e));
        return -1;
    }
    prep_diags d;
    prep_diags_init(&d);
    e = prep_institute_config_parse(text, len, path, c, &d);
    free(text);
    if (e) prep_diags_print(&d, stderr, 20);
    prep_diags_free(&d);
    return e ? -1 : 0;
}

/* ---------------------------------------------------------------- delivery */
/* Each push broadcaster has its own latest-wins loop: when a cut is made, every target
 * that is idle gets a push of the newest cut on a worker thread (at most `parallel` at
 * once); a target still busy with an older cut gets the newest when it finishes, never
 * one push per missed cut. So a slow or failing broadcaster (an FTPS server costs a TLS
 * handshake per file; a down one costs its retries) never delays the others' next cut,
 * which a single round for all targets did: the round lasted as long as its slowest
 * target (found by tests/integ/delivery_e2e.sh: an SFTP broadcaster stuck at cut 1 for
 * 30 s while the first FTPS push of 200 files ran). */
typedef struct tslot {
    char id[64];
    uint64_t tried;   /* newest cut a push was started for */
    int busy;         /* a worker is pushing to it */
    int finished;     /* the worker is done and must be joined */
    pthread_t th;
} tslot;

typedef struct delivery {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t latest; /* newest cut made */
    int dirty;       /* a new cut, or a worker finished: look at the targets again */
    int behind;      /* some target has not been tried with the latest cut yet */
    int quit;        /* no more cuts */
    unsigned running;
    tslot *slots;
    size_t nslots, cap;
    const inst_config *c;
    const char *db;
    const char *secrets;
} delivery;

typedef struct push_job {
    delivery *dv;
    size_t slot;
    uint64_t seq;
    prep_deliver_target t; /* a copy (holds the FTPS password: wiped when done) */
} push_job;

static const char *method_label(prep_deliver_method m) { return m == PREP_DELIVER_SFTP ? "SFTP" : "FTPS"; }

static void *push_worker(void *arg)
{
    push_job *j = arg;
    delivery *dv = j->dv;
    prep_deliver_opts o;
    prep_deliver_opts_init(&o);
    o.parallel = 1;
    o.retries = (unsigned)dv->c->retries;
    o.backoff_ms = (uint64_t)dv->c->backoff_ms;
    o.no_gzip = dv->c->push_raw;
    prep_deliver_result res;
    memset(&res, 0, sizeof res);
    prep_diags d;
    prep_diags_init(&d);
    time_t t0 = time(NULL);
    prep_err e = prep_deliver_push(dv->c->store, j->seq, &j->t, 1, &o, &res, &d);
    if (e && e != PREP_ERR_IO && res.status != PREP_DELIVER_FAILED) {
        res.status = PREP_DELIVER_FAILED;
        if (!res.error[0]) snprintf(res.error, sizeof res.error, "%s", d.n ? d.v[0].msg : prep_err_text(e));
    }
    prep_registry_delivery rec = {0};
    snprintf(rec.difusor, sizeof rec.difusor, "%s", j->t.id);
    rec.seq = res.seq ? res.seq : j->seq;
    rec.method = j->t.method;
    rec.started = (prep_time)t0;
    rec.finished = (prep_time)time(NULL);
    snprintf(rec.status, sizeof rec.status, "%s",
             res.status == PREP_DELIVER_DONE ? "ok" : res.status == PREP_DELIVER_UPTODATE ? "up-to-date" : "failed");
    rec.bytes = res.bytes;
    rec.objects = res.objects;
    snprintf(rec.error, sizeof rec.error, "%s", res.error);
    prep_diags rd;
    prep_diags_init(&rd);
    prep_registry *reg = NULL;
    if (prep_registry_open(dv->db, dv->secrets, &reg, &rd) || prep_registry_delivery_record(reg, &rec, &rd)) {
        prep_diags_print(&rd, stderr, 5);
        fprintf(stderr, "prep institute: corte %llu: cannot record the delivery to %s\n", (unsigned long long)rec.seq,
                rec.difusor);
    }
    prep_registry_close(reg);
    prep_diags_free(&rd);
    if (res.status == PREP_DELIVER_FAILED)
        fprintf(stderr, "prep institute: corte %llu: entrega a %s falló: %s\n", (unsigned long long)rec.seq, rec.difusor,
                res.error);
    else if (res.status == PREP_DELIVER_UPTODATE)
        printf("prep institute: corte %llu: %s ya lo tenía\n", (unsigned long long)rec.seq, rec.difusor);
    else {
        char from[48];
        if (res.from) snprintf(from, sizeof from, "desde %llu", (unsigned long long)res.from);
        else snprintf(from, sizeof from, "completo");
        printf("prep institute: corte %llu entregado a %s por %s (%s, %zu cortes): %zu archivos, %zu objetos, "
               "%llu bytes en %.2f s\n",
               (unsigned long long)rec.seq, rec.difusor, method_label(j->t.method), from, res.cuts, res.files,
               res.objects, (unsigned long long)res.bytes, res.seconds);
    }
    fflush(stdout);
    prep_diags_free(&d);
    explicit_bzero(&j->t, sizeof j->t);
    pthread_mutex_lock(&dv->mu);
    dv->slots[j->slot].busy = 0;
    dv->slots[j->slot].finished = 1;
    dv->running--;
    dv->dirty = 1;
    pthread_cond_broadcast(&dv->cv);
    pthread_mutex_unlock(&dv->mu);
    free(j);
    return NULL;
}

/* The slot of target id (added when new). Called with the mutex held. */
static size_t slot_of(delivery *dv, const char *id)
{
    for (size_t i = 0; i < dv->nslots; i++)
        if (!strcmp(dv->slots[i].id, id)) return i;
    if (dv->nslots == dv->cap) {
        dv->cap = dv->cap ? dv->cap * 2 : 16;
        dv->slots = prep_xrealloc(dv->slots, dv->cap * sizeof *dv->slots);
    }
    tslot *s = &dv->slots[dv->nslots];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    return dv->nslots++;
}

/* Joins the workers that are done. Called with the mutex held (they no longer need it). */
static void join_finished(delivery *dv)
{
    for (size_t i = 0; i < dv->nslots; i++)
        if (dv->slots[i].finished) {
            pthread_join(dv->slots[i].th, NULL);
            dv->slots[i].finished = 0;
        }
}

/* Starts a push of seq to every idle target behind it. Called with the mutex held; drops
 * it while reading the registry. */
static void start_pushes(delivery *dv, uint64_t seq)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_registry *reg = NULL;
    prep_deliver_target *t = NULL;
    size_t n = 0;
    pthread_mutex_unlock(&dv->mu);
    int bad = prep_registry_open(dv->db, dv->secrets, &reg, &d) || prep_registry_targets(reg, &t, &n, &d);
    prep_registry_close(reg);
    pthread_mutex_lock(&dv->mu);
    if (bad) {
        prep_diags_print(&d, stderr, 5);
        fprintf(stderr, "prep institute: corte %llu: cannot read the registry's targets\n", (unsigned long long)seq);
        dv->behind = 1;
    } else {
        dv->behind = 0;
        for (size_t i = 0; i < n; i++) {
            if (t[i].method == PREP_DELIVER_PULL) continue; /* pull broadcasters fetch by themselves */
            size_t k = slot_of(dv, t[i].id);
            tslot *s = &dv->slots[k];
            if (s->tried >= seq) continue;
            if (s->busy || s->finished || dv->running >= (unsigned)dv->c->parallel) {
                dv->behind = 1;
                continue;
            }
            push_job *j = prep_xcalloc(1, sizeof *j);
            j->dv = dv;
            j->slot = k;
            j->seq = seq;
            j->t = t[i];
            if (pthread_create(&s->th, NULL, push_worker, j)) {
                explicit_bzero(&j->t, sizeof j->t);
                free(j);
                dv->behind = 1;
                continue;
            }
            s->busy = 1;
            s->tried = seq;
            dv->running++;
        }
    }
    if (t) explicit_bzero(t, n * sizeof *t);
    free(t);
    prep_diags_free(&d);
}

static void *delivery_main(void *arg)
{
    delivery *dv = arg;
    pthread_mutex_lock(&dv->mu);
    for (;;) {
        join_finished(dv);
        /* the operator interrupted: no new pushes (the running ones end by themselves) */
        if (stop_flag) break;
        if (dv->dirty && dv->latest) {
            dv->dirty = 0;
            start_pushes(dv, dv->latest);
            continue;
        }
        /* after the last cut, every target is still given it */
        if (dv->quit && !dv->behind && !dv->running) break;
        pthread_cond_wait(&dv->cv, &dv->mu);
    }
    while (dv->running) pthread_cond_wait(&dv->cv, &dv->mu);
    join_finished(dv);
    pthread_mutex_unlock(&dv->mu);
    return NULL;
}

/* The "Difusores oficiales" page lists the active broadcasters of the registry. */
typedef struct roster {
    prep_registry_difusor *v;
    size_t n;
    prep_render_difusor *r;
    size_t nr;
} roster;

static void roster_free(roster *ro)
{
    if (ro->v) prep_registry_difusor_list_free(ro->v, ro->n);
    free(ro->r);
    memset(ro, 0, sizeof *ro);
}

static void roster_load(roster *ro, const char *db, const char *secrets)
{
    roster_free(ro);
    prep_diags d;
    prep_diags_init(&d);
    prep_registry *reg = NULL;
    if (!prep_registry_open(db, secrets, &reg, &d) && !prep_registry_list(reg, &ro->v, &ro->n, &d)) {
        ro->r = prep_xcalloc(ro->n ? ro->n : 1, sizeof *ro->r);
        for (size_t i = 0; i < ro->n; i++)
            if (ro->v[i].status == PREP_REGISTRY_ACTIVE) {
                ro->r[ro->nr].name = ro->v[i].v[PREP_REGISTRY_F_name];
                ro->r[ro->nr].url = ro->v[i].v[PREP_REGISTRY_F_publication_url];
                ro->nr++;
            }
    }
    prep_registry_close(reg);
    prep_diags_free(&d);
}

/* ---------------------------------------------------------------- retention */
/* "store_keep": N after each cut: the N newest cuts keep their objects; older cuts keep
 * their manifest and signature, so the chain verifies and the pull link still serves
 * them (docs/institute.md, "Store retention"). Every broadcaster whose active cut is at most
 * N - 1 cuts behind the newest can still take the chain after it, even while the next cut
 * is made (N between cuts), which is all it asks for (cuts/<seq>/manifest, .patch, .sig of
 * each later cut, and their objects). A failure is
 * reported (a full disk named as such) and never holds up the next cut; it runs after a
 * failed cut too. */
static void store_retention(const inst_config *c)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_gc_result g;
    prep_err e = prep_cut_store_gc(c->store, c->store_keep, &g, &d);
    if (e) {
        prep_diags_print(&d, stderr, 5);
        fprintf(stderr, "prep institute: store retention (store_keep %u) failed: %s; tried again after the next cut, "
                        "which is made on time all the same\n",
                c->store_keep, prep_err_text(e));
    } else if (g.cuts_pruned || g.objects_removed) {
        printf("prep institute: almac\xC3\xA9n: %zu cortes reducidos a manifiesto y firma, %zu objetos borrados "
               "(%llu bytes)\n",
               g.cuts_pruned, g.objects_removed, (unsigned long long)g.bytes_removed);
        fflush(stdout);
    }
    prep_diags_free(&d);
}

/* ---------------------------------------------------------------- main */
/* 1 when the schedule can make a cut: "until" after the window opens and after
 * "clock.start", and "clock.start" within the window; else says why (exit 2): a daemon
 * that would never cut is a mistake to refuse at start, not a quiet "no more cuts". */
static int schedule_makes_cuts(const char *config, const prep_catalog *cat, prep_time sim, prep_time until)
{
    char a[64] = "", b[64] = "", wo[64] = "", wc[64] = "";
    prep_time_format(cat->window_open, cat->timezone, PREP_TS_ISO_OFF, wo, sizeof wo);
    prep_time_format(cat->window_close, cat->timezone, PREP_TS_ISO_OFF, wc, sizeof wc);
    prep_time_format(until, cat->timezone, PREP_TS_ISO_OFF, b, sizeof b);
    if (sim != PREP_TIME_NONE) prep_time_format(sim, cat->timezone, PREP_TS_ISO_OFF, a, sizeof a);
    if (sim != PREP_TIME_NONE && (sim < cat->window_open || sim > cat->window_close)) {
        fprintf(stderr, "%s: config-range: \"clock.start\" %s is outside the catalogue's window, %s to %s\n", config, a,
                wo, wc);
        return 0;
    }
    if (until < cat->window_open || (sim != PREP_TIME_NONE && until <= sim)) {
        fprintf(stderr, "%s: config-range: \"until\" %s is before %s %s: no cut would be made\n", config, b,
                sim != PREP_TIME_NONE ? "\"clock.start\"" : "the window's opening", sim != PREP_TIME_NONE ? a : wo);
        return 0;
    }
    return 1;
}

static void captures_unreadable(const prep_institute_config *c)
{
    fprintf(stderr,
            "prep institute: ALERT: the captures in %s cannot be read as they are now (above): no cut at this "
            "slot, the active cut stays; they are read again at the next\n",
            c->actas);
}

/* Before a cut: when an actas file changed since it was read (a live night's captures
 * written as they come; a file replaced), they are all read again. Files that only grew
 * (every capture of the last cut still there, the same) continue the cutter: the next cut
 * costs what changed. Otherwise a new cutter takes them, and its first cut checks them
 * against the active cut as a restarted daemon's does (cutter_past.c). 1 when a cutter is
 * ready; 0 (said, and tried again at the next slot) when the files cannot be read as they
 * are now: nothing is cut from the captures read before, as if current. */
static int reread_captures(cutter *cu, const prep_institute_config *c, const prep_catalog **cat)
{
    char which[4096] = "";
    if (cu->cat && !cutter_actas_changed(cu, which, sizeof which)) return 1;
    if (cu->cat) {
        printf("prep institute: %s changed since it was read: reading the captures again\n", which);
        fflush(stdout);
        size_t fresh = 0, late = 0;
        double t0 = thread_cpu();
        int r = cutter_reload(cu, "institute", &fresh, &late);
        if (r < 0) {
            captures_unreadable(c);
            return 0;
        }
        if (r > 0) {
            printf("prep institute: the captures of the last cut are as they were; %zu capture(s) after it, %zu "
                   "written late (dated before it) counted now: the next cut continues from the last (read in %.2f "
                   "s CPU)\n",
                   fresh, late, thread_cpu() - t0);
            fflush(stdout);
            return 1;
        }
        cutter_close(cu);
        if (cutter_open(cu, "institute", c->catalog, c->actas, c->key, c->pubkey, c->store, c->drill, NULL)) {
            captures_unreadable(c);
            return 0;
        }
        printf("prep institute: captures up to the last cut (or the catalogue) changed: a new cutter read them (%.2f "
               "s CPU); they are checked against the active cut, and the next cut is made whole\n",
               thread_cpu() - t0);
        fflush(stdout);
    } else if (cutter_open(cu, "institute", c->catalog, c->actas, c->key, c->pubkey, c->store, c->drill, NULL)) {
        captures_unreadable(c);
        return 0;
    }
    *cat = cu->cat;
    return 1;
}

int cmd_institute(int argc, char **argv)
{
    cli_opt opts[] = {
        {"config", "FILE", "the institute's JSON config (docs/institute.md) (required)", NULL},
        {"print-tokens", NULL, "(no daemon) print each pull broadcaster's link path prefix and exit", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help = 0;
    char err[256];
    const char *syn = "--config FILE";
    const char *sum =
        "The institute's daemon: in the publication window, one signed cut every cut interval aligned\n"
        "to the clock (:00, :05, ...) — or, with \"clock\" in the config, one cut every few real seconds\n"
        "standing for the interval of simulated time (drills) — each delivered to every active\n"
        "broadcaster over SFTP/FTPS (newest cut wins), while the per-broadcaster pull links are served.\n"
        "Runs until the window's last cut and then keeps serving the links, until SIGINT/SIGTERM.\n"
        "With \"store_keep\": N the store keeps the objects of the N newest cuts only (older cuts keep\n"
        "their manifest and signature): a broadcaster fewer than N cuts behind always catches up\n"
        "(docs/institute.md, \"Store retention\"). Before each cut the actas files are read again\n"
        "when one changed (a live night's captures, written as they come), and checked against\n"
        "the active cut. One daemon per store: it holds STORE/institute.lock.";
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep institute: %s\n", err);
        cli_usage(stderr, "institute", syn, sum, opts);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "institute", syn, sum, opts);
        return CLI_OK;
    }
    if (!cli_get(opts, "config")) {
        fprintf(stderr, "prep institute: --config FILE is required\n");
        return CLI_USAGE;
    }
    inst_config c;
    const char *config_path = cli_get(opts, "config");
    if (load_config(config_path, &c)) {
        prep_institute_config_free(&c);
        return CLI_USAGE;
    }
    if (c.registry && !c.secrets) { /* owned by c like the rest */
        size_t n = strlen(c.registry) + sizeof ".secrets";
        c.secrets = prep_xmalloc(n);
        snprintf(c.secrets, n, "%s.secrets", c.registry);
    }
    cutter cu;
    if (cutter_open(&cu, "institute", c.catalog, c.actas, c.key, c.pubkey, c.store, c.drill, NULL)) {
        prep_institute_config_free(&c);
        return CLI_USAGE;
    }
    /* one daemon per store: two race for every cut's sequence */
    int slock = cli_store_lock("institute", c.store, "institute");
    if (slock < 0) {
        cutter_close(&cu);
        prep_institute_config_free(&c);
        return CLI_USAGE;
    }
    const prep_catalog *cat = cu.cat;
    int64_t interval = cat->cut_interval ? cat->cut_interval : 300;
    prep_time until = cat->window_close;
    if (c.until && prep_time_parse(c.until, cat->timezone, &until)) {
        fprintf(stderr, "%s: \"until\" '%s' is not a time\n", config_path, c.until);
        cutter_close(&cu);
        prep_institute_config_free(&c);
        return CLI_USAGE;
    }
    prep_time sim = PREP_TIME_NONE;
    if (c.clock_start && prep_time_parse(c.clock_start, cat->timezone, &sim)) {
        fprintf(stderr, "%s: \"clock.start\" '%s' is not a time\n", config_path, c.clock_start);
        cutter_close(&cu);
        prep_institute_config_free(&c);
        return CLI_USAGE;
    }
    if (!schedule_makes_cuts(config_path, cat, sim, until)) {
        cutter_close(&cu);
        prep_institute_config_free(&c);
        return CLI_USAGE;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* once, before any thread: the push workers' prep_deliver_push calls then only take
     * references to libcurl's global state, never set it up or tear it down concurrently */
    if (prep_deliver_curl_acquire(NULL) != PREP_OK) {
        fprintf(stderr, "prep institute: libcurl cannot be initialised\n");
        return CLI_CHECK_FAILED;
    }

    int rc = CLI_OK;
    prep_diags d;
    prep_diags_init(&d);
    prep_registry *preg = NULL;
    prep_pull_server *ps = NULL;
    if (c.pull_listen) {
        if (prep_registry_open(c.registry, c.secrets, &preg, &d)) {
            prep_diags_print(&d, stderr, 5);
            fprintf(stderr, "prep institute: cannot open the registry %s\n", c.registry);
            rc = CLI_USAGE;
            goto out;
        }
        prep_pull_server_opts po = {.listen = c.pull_listen, .tls_cert = c.pull_cert, .tls_key = c.pull_key,
                                    .store = c.store, .authorize = prep_registry_pull_authorize, .ctx = preg,
                                    .wire_wait = 1}; /* each cut is compressed right after it is made */
        if (prep_pull_server_start(&po, &ps, &d)) {
            prep_diags_print(&d, stderr, 5);
            fprintf(stderr, "prep institute: cannot serve the pull links on %s\n", c.pull_listen);
            rc = CLI_USAGE;
            goto out;
        }
        printf("prep institute: enlaces de descarga en %s://%s/pull/<token>/\n", c.pull_cert ? "https" : "http",
               c.pull_listen);
    }
    delivery dv = {.c = &c, .db = c.registry, .secrets = c.secrets};
    pthread_mutex_init(&dv.mu, NULL);
    pthread_cond_init(&dv.cv, NULL);
    pthread_t dth;
    int have_dth = c.registry && pthread_create(&dth, NULL, delivery_main, &dv) == 0;
    roster ro = {0};

    /* When to cut: include/prep/institute.h "the schedule" (unit-tested with a fake clock). */
    prep_institute_sched sch;
    prep_institute_sched_init(&sch, interval, cat->window_open, cat->window_close, until, sim, c.seconds_per_cut,
                         c.max_cuts, wall_now());
    char when[64];
    printf("prep institute: %s, un corte cada %lld s%s; primer corte %s\n", c.drill ? "SIMULACRO" : "en vivo",
           (long long)interval, sim != PREP_TIME_NONE ? " simulados (reloj acelerado)" : "",
           (prep_time_format(sch.next, cat->timezone, PREP_TS_HEADER, when, sizeof when), when));
    fflush(stdout);
    double due;
    prep_time next;
    while (!stop_flag && prep_institute_sched_next(&sch, &due, &next)) {
        if (sleep_until(due)) break;
        if (!reread_captures(&cu, &c, &cat)) {
            prep_institute_sched_done(&sch, 0, 0);
            continue;
        }
        if (c.registry) {
            roster_load(&ro, c.registry, c.secrets);
            cu.difusores = ro.r;
            cu.n_difusores = ro.nr;
        }
        cutter_stats st;
        prep_diags_free(&d);
        prep_diags_init(&d);
        /* a drill's accelerated clock: captures of the simulated instant, signed at the
         * real moment (broadcasters check instants against their own clocks) */
        prep_time instant = sim != PREP_TIME_NONE ? prep_time_now() : next;
        prep_err e = cutter_cut(&cu, next, instant, &st, &d);
        prep_time_format(next, cat->timezone, PREP_TS_HEADER, when, sizeof when);
        if (cutter_integrity_refused(e, &d)) {
            prep_diags_print(&d, stderr, 10);
            fprintf(stderr,
                    "prep institute: ALERT: the cut of %s is refused: counts would go below the active cut's, or "
                    "actas it published are no longer captured (above); nothing is signed, the active cut stays, the next one is tried on time. A cut "
                    "that must go out anyway: prep cut --override-reason TEXT\n",
                    when);
        } else if (e) {
            prep_diags_print(&d, stderr, 5);
            fprintf(stderr, "prep institute: the cut of %s failed: %s; the next one is tried on time\n", when,
                    prep_err_text(e));
        } else {
            printf("prep institute: corte %llu (%s%s): %zu archivos, %.1f MB (%.1f MB en memoria), %zu capturas nuevas, "
                   "%.2f s CPU%s\n",
                   (unsigned long long)st.seq, sim != PREP_TIME_NONE ? "noche simulada hasta " : "", when, st.files,
                   (double)st.bytes / 1e6, (double)st.held / 1e6, st.captures, st.cpu_seconds,
                   st.final_cut ? ", corte final" : "");
            fflush(stdout);
            /* the new objects' compressed forms, once for every broadcaster (push and pull
             * links send them; docs/delivery.md "Compressed transfer"); a failure costs
             * bytes on the wire only */
            prep_cut_wire_result wr;
            prep_diags wd;
            prep_diags_init(&wd);
            double w0 = thread_cpu();
            if (prep_cut_wire_prepare(c.store, st.seq, 0, &wr, &wd) == PREP_OK) {
                printf("prep institute: corte %llu comprimido para envio: %zu objetos nuevos, %.1f MB -> %.1f MB, "
                       "%.2f s CPU\n",
                       (unsigned long long)st.seq, wr.objects, (double)wr.raw_bytes / 1e6, (double)wr.gz_bytes / 1e6,
                       thread_cpu() - w0);
                fflush(stdout);
            } else {
                prep_diags_print(&wd, stderr, 3);
            }
            prep_diags_free(&wd);
            if (have_dth) {
                pthread_mutex_lock(&dv.mu);
                dv.latest = st.seq;
                dv.dirty = 1;
                pthread_cond_broadcast(&dv.cv);
                pthread_mutex_unlock(&dv.mu);
            }
            if (c.store_keep) store_retention(&c);
        }
        /* what the cut freed beyond what the next one reuses, unless its site was shed (core.h) */
        if (e || st.held == st.bytes) prep_mem_trim_above(PREP_MEM_CUTTER_SLACK);
        /* also after a failed cut: on a full disk the space it frees lets the next one through */
        if (e && c.store_keep) store_retention(&c);
        prep_institute_sched_done(&sch, !e, !e && st.final_cut);
    }
    if (!stop_flag) {
        printf("prep institute: no more cuts (%d made); serving the links until SIGINT/SIGTERM\n", sch.cuts);
        fflush(stdout);
        if (!c.max_cuts || ps) while (!stop_flag) sleep_until(wall_now() + 0.2);
    }
    if (have_dth) {
        pthread_mutex_lock(&dv.mu);
        dv.quit = 1;
        pthread_cond_broadcast(&dv.cv);
        pthread_mutex_unlock(&dv.mu);
        pthread_join(dth, NULL);
    }
    free(dv.slots);
    pthread_mutex_destroy(&dv.mu);
    pthread_cond_destroy(&dv.cv);
    roster_free(&ro);
out:
    close(slock); /* the store's lock: the process is done with the store */
    prep_pull_server_stop(ps);
    prep_registry_close(preg);
    prep_diags_free(&d);
    cutter_close(&cu);
    prep_institute_config_free(&c);
    prep_deliver_curl_release();
    return rc;
}
