/* The broadcaster's pull loop, shared by `prep serve --pull` (on a thread beside the
 * server) and `prep receive --pull` (in the foreground, exporting for Apache). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The store's retention after a round (--store-keep N): the N newest cuts keep their
 * objects, older ones their manifest and signature. It runs after the export (which
 * archives the cuts it skipped from their objects), and also after a failed export: the
 * served tree only needs the active cut, which the retention never touches, and on a full
 * disk the space it frees is what lets the next export through. A failure is reported
 * (its diags name the path; a full disk reads "no space left on device"), once per distinct
 * failure, and tried again every round until it works; it never keeps the loop from taking
 * the next cut. Returns 0 done, -1 failed. */
static int pull_gc(const cli_pull *p, char last_err[512])
{
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_gc_result g;
    prep_err e = prep_cut_store_gc(p->store, p->store_keep, &g, &d);
    if (e) {
        /* each distinct failure once, not once per poll */
        char msg[512];
        snprintf(msg, 512, "%s", d.n ? d.v[0].msg : prep_err_text(e));
        if (strcmp(msg, last_err)) {
            prep_diags_print(&d, stderr, 5);
            fprintf(stderr, "prep %s: store retention (--store-keep %u) failed: %s; tried again each round, "
                            "the next cut is taken all the same\n",
                    p->cmd, p->store_keep, prep_err_text(e));
            snprintf(last_err, 512, "%s", msg);
        }
    } else if (last_err[0]) {
        fprintf(stderr, "prep %s: store retention working again\n", p->cmd);
        last_err[0] = '\0';
    }
    if (!e && (g.cuts_pruned || g.objects_removed)) {
        printf("prep %s: store: %zu cortes pruned to their manifest, %zu objetos removed (%llu bytes)\n", p->cmd,
               g.cuts_pruned, g.objects_removed, (unsigned long long)g.bytes_removed);
        fflush(stdout);
    }
    prep_diags_free(&d);
    return e ? -1 : 0;
}

/* An export refused for an object of the active cut that is missing or damaged (a byte
 * flipped on this broadcaster's disk): once per active cut, every damaged object of it is
 * moved to STORE/damaged/ (prep_cut_store_lacks, which logs each one), so that the next cut
 * pulled finds it missing and fetches it again instead of trusting it by its size and
 * failing its export for it in turn. *done: the cut it last ran for. */
static void export_repair(const cli_pull *p, uint64_t *done)
{
    prep_cut_active a;
    prep_diags q;
    prep_diags_init(&q);
    int known = prep_cut_active_read(p->store, &a, &q) == PREP_OK;
    prep_diags_free(&q);
    if (!known || a.seq == *done) return;
    *done = a.seq;
    uint64_t seq = 0;
    char first[PREP_CUT_PATH_MAX + 1];
    long bad = prep_cut_store_repair_active(p->store, &seq, first, sizeof first);
    if (bad > 0)
        fprintf(stderr,
                "prep %s: cut %llu: %ld object(s) missing or damaged (the first of %s); the damaged ones are "
                "moved to %s/" PREP_CUT_DAMAGED_DIR "/ and the next cut pulled fetches them again\n",
                p->cmd, (unsigned long long)seq, bad, first, p->store);
}

/* 1 when STORE/damaged/ changed since *seen (its change time, updated): an object was moved
 * there (by this loop's export, the server's load, a cutter), so the next round takes the
 * active cut again for what the store now lacks (prep_pull_opts.heal): without a next cut
 * (the night's last), nothing else would bring it back. */
static int damaged_changed(const char *store, int64_t *seen)
{
    int64_t t = prep_cut_store_changed(store, PREP_CUT_DAMAGED_DIR);
    if (!t || t == *seen) return 0;
    *seen = t;
    return 1;
}

int cli_pull_loop(cli_pull *p, volatile sig_atomic_t *stop)
{
    uint64_t repaired = 0;  /* the active cut export_repair last ran for */
    int64_t damaged = 0;    /* STORE/damaged/'s change time last seen */
    char etag[65] = "", last_err[512] = "", last_gc_err[512] = "";
    prep_pull_opts o = {.url = p->url, .ca_file = p->ca_file, .store = p->store, .policy = p->policy};
    int gc_pending = p->store_keep != 0; /* the first round applies it to what the store holds */
    while (!*stop) {
        prep_diags d;
        prep_diags_init(&d);
        prep_pull_result r;
        if (damaged_changed(p->store, &damaged)) {
            o.heal = 1;
            etag[0] = '\0'; /* the state again, though unchanged */
        }
        prep_err e = prep_pull_once(&o, etag, &r, &d);
        if (o.heal && e != PREP_ERR_IO) { /* done, or refused: not asked again every round */
            if (!e && r.objects_fetched && r.active_after == r.active_before)
                fprintf(stderr, "prep %s: pull: took %zu object(s) of the active cut %llu again (moved aside as damaged)\n",
                        p->cmd, r.objects_fetched, (unsigned long long)r.active_after);
            o.heal = 0;
        }
        if (e) {
            /* say each distinct problem once, not once per poll */
            char msg[512];
            const prep_diag *g = d.n ? &d.v[0] : NULL;
            snprintf(msg, sizeof msg, "%s: %s", g ? g->kind : prep_err_text(e), g ? g->msg : "");
            if (strcmp(msg, last_err)) {
                fprintf(stderr, "prep %s: pull: %s\n", p->cmd, msg);
                if (d.n > 1) prep_diags_print(&d, stderr, 5);
                snprintf(last_err, sizeof last_err, "%s", msg);
            }
        } else {
            if (last_err[0]) fprintf(stderr, "prep %s: pull: working again\n", p->cmd);
            last_err[0] = '\0';
        }
        if (r.patches_refused)
            fprintf(stderr, "prep %s: pull: %zu manifest patch%s from the link did not apply; took the whole manifest\n",
                    p->cmd, r.patches_refused, r.patches_refused == 1 ? "" : "es");
        if (r.active_after != r.active_before) {
            printf("prep %s: pulled corte %llu (%zu cortes, %zu of them as manifest patches, %zu objetos, %zu of them "
                   "gzip'd, %llu bytes)\n",
                   p->cmd, (unsigned long long)r.active_after, r.cuts_fetched, r.patches_fetched, r.objects_fetched,
                   r.gz_fetched, (unsigned long long)r.bytes_fetched);
            fflush(stdout);
        }
        if (p->export_dir && (r.active_after != r.active_before || (p->export_pending && r.active_after))) {
            prep_diags xd;
            prep_diags_init(&xd);
            prep_err xe = prep_cut_export(p->store, p->export_dir, p->export_opts, &xd);
            if (xe) {
                prep_diags_print(&xd, stderr, 5);
                fprintf(stderr, "prep %s: export to %s failed: %s\n", p->cmd, p->export_dir, prep_err_text(xe));
                if (xe == PREP_ERR_VERIFY) export_repair(p, &repaired);
            } else {
                printf("prep %s: exported corte %llu to %s\n", p->cmd, (unsigned long long)r.active_after,
                       p->export_dir);
                fflush(stdout);
            }
            p->export_pending = xe != PREP_OK;
            prep_diags_free(&xd);
        }
        if (p->store_keep && r.active_after && (r.active_after != r.active_before || gc_pending))
            gc_pending = pull_gc(p, last_gc_err) != 0;
        prep_diags_free(&d);
        for (long waited = 0; waited < p->every_ms && !*stop; waited += 50) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}
