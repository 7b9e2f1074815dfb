/* Incremental cut maker: see cutter.h. */
#include "cutter.h"
#include "cut_files.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A rendered file's parts go to the cut as they are (memcpy of part_len below). */
_Static_assert(PREP_RENDER_PARTS_MAX == PREP_CUT_PARTS_MAX, "render and cut agree on the parts of a file");

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cutter_close(cutter *c)
{
    if (c->cat)
        for (uint32_t i = 0; i < c->cat->n_elections; i++) {
            if (c->cursors) prep_tally_cursor_free(&c->cursors[i]);
            if (c->sets) prep_actas_free(c->sets[i]);
        }
    free(c->cursors);
    free(c->sets);
    free(c->actas_sig);
    prep_render_site_free(&c->site);
    free(c->files);
    prep_render_cache_free(c->cache);
    prep_cut_hash_cache_free(c->hashes);
    prep_render_progress_free(c->progress);
    prep_tally_free(c->tally);
    prep_catalog_free(c->cat);
    prep_cut_seckey_wipe(&c->key);
    free(c->pubtext);
    free(c->store);
    free(c->actas_dir);
    free(c->cat_path);
    free(c->made_counts);
    prep_buf_free(&c->overridden);
    memset(c, 0, sizeof *c);
}

/* 0 and the signature of path, or -1 (errno). */
static int file_sig(const char *path, cutter_file_sig *s)
{
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    *s = (cutter_file_sig){(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
                           (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec};
    return 0;
}

/* The catalogue's file as it is now: its signature, and its SHA-256 into sha ("" when it
 * cannot be read). */
static void catalog_seen(const char *path, cutter_file_sig *sig, char sha[65])
{
    char *ct = NULL;
    size_t cl = 0;
    if (file_sig(path, sig)) memset(sig, 0, sizeof *sig);
    sha[0] = 0;
    if (prep_read_file(path, (size_t)1 << 30, &ct, &cl) == PREP_OK) prep_sha256_hex(ct, cl, sha);
    free(ct);
}

/* 1 when c's catalogue file is no longer the one it read, or cannot be looked at (*now:
 * as it is). */
static int catalog_moved(const cutter *c, cutter_file_sig *now)
{
    return file_sig(c->cat_path, now) || memcmp(now, &c->cat_sig, sizeof *now) != 0;
}

int cutter_actas_changed(const cutter *c, char *which, size_t whichsz)
{
    cutter_file_sig now;
    if (c->cat_path && catalog_moved(c, &now)) {
        snprintf(which, whichsz, "%s", c->cat_path);
        return 1;
    }
    for (uint32_t el = 0; c->cat && c->actas_sig && el < c->cat->n_elections; el++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.csv", c->actas_dir, c->cat->elections[el].id);
        if (file_sig(path, &now) == 0 && !memcmp(&now, &c->actas_sig[el], sizeof now)) continue;
        snprintf(which, whichsz, "%s", path);
        return 1;
    }
    return 0;
}

/* One reading of every election's actas file. */
typedef struct cutter_sets {
    prep_actas **sets;        /* owned, one per election */
    prep_tally_cursor *cursors; /* owned, fresh */
    cutter_file_sig *sig;     /* owned: each file as it was before it was read */
    prep_buf overridden;      /* what an override would let through of these files */
    size_t bad, conflicts, open;
} cutter_sets;

static void sets_free(const cutter *c, cutter_sets *r)
{
    for (uint32_t i = 0; r->sets && i < c->cat->n_elections; i++) {
        prep_tally_cursor_free(&r->cursors[i]);
        prep_actas_free(r->sets[i]);
    }
    free(r->sets);
    free(r->cursors);
    free(r->sig);
    prep_buf_free(&r->overridden);
    memset(r, 0, sizeof *r);
}

/* c takes r's files in place of the ones it read (none when opening): their sets, cursors,
 * signatures and override lines (a cutter's are its files', none of earlier cuts'). */
static void sets_adopt(cutter *c, cutter_sets *r)
{
    cutter_sets was = {.sets = c->sets, .cursors = c->cursors, .sig = c->actas_sig, .overridden = c->overridden};
    sets_free(c, &was);
    c->sets = r->sets;
    c->cursors = r->cursors;
    c->actas_sig = r->sig;
    c->overridden = r->overridden;
}

/* Reads c->actas_dir's files with c's catalogue (diags printed as they come). 0, or -1
 * (said; r left empty) when a file cannot be read at all. */
static int read_sets(const cutter *c, const char *cmd, cutter_sets *r)
{
    memset(r, 0, sizeof *r);
    prep_buf_init(&r->overridden, 1 << 20);
    uint32_t n = c->cat->n_elections;
    r->sets = prep_xcalloc(n ? n : 1, sizeof *r->sets);
    r->cursors = prep_xcalloc(n ? n : 1, sizeof *r->cursors);
    r->sig = prep_xcalloc(n ? n : 1, sizeof *r->sig);
    prep_diags d;
    prep_diags_init(&d);
    for (uint32_t el = 0; el < n; el++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.csv", c->actas_dir, c->cat->elections[el].id);
        /* before reading: a file written meanwhile is then seen as changed at the next cut */
        if (file_sig(path, &r->sig[el])) memset(&r->sig[el], 0, sizeof r->sig[el]);
        prep_diags_free(&d);
        prep_diags_init(&d);
        prep_err e = prep_actas_load(path, c->cat, el, &r->sets[el], &d);
        if (!e) {
            size_t k = prep_actas_conflicts(r->sets[el], path, &d);
            r->conflicts += k;
            r->bad += r->sets[el]->rows_bad;
            if (r->sets[el]->open_line) { /* a row cut short can have the right field count */
                prep_diags_add(&d, path, r->sets[el]->open_line, 0, "unterminated",
                               "the last row has no end of line: cut short, or still being written (the next cut "
                               "reads it whole)");
                r->open++;
                prep_buf_printf(&r->overridden, "%s: the last row, with no end of line, read as it is\n", path);
            }
            if (r->sets[el]->rows_bad)
                prep_buf_printf(&r->overridden, "%s: %zu unreadable row(s) left out\n", path, r->sets[el]->rows_bad);
            if (k) prep_buf_printf(&r->overridden, "%s: %zu conflicting capture(s), the later line kept\n", path, k);
        }
        if (d.total) prep_diags_print(&d, stderr, 20);
        if (!e) e = prep_tally_cursor_init(&r->cursors[el], r->sets[el]);
        if (e) {
            fprintf(stderr, "prep %s: cannot read %s: %s\n", cmd, path, prep_err_text(e));
            prep_diags_free(&d);
            sets_free(c, r);
            return -1;
        }
    }
    prep_diags_free(&d);
    return 0;
}

/* 1 (said) when the files read have rows that are unreadable, cut short or in conflict
 * and c has no override reason: nothing is cut from them. */
static int refuse_sets(const cutter *c, const char *cmd, const cutter_sets *r)
{
    if (!(r->bad || r->conflicts || r->open) || c->override_reason) return 0;
    fprintf(stderr,
            "prep %s: refusing to cut: %zu unreadable row(s), %zu row(s) cut short at the end of a file and %zu "
            "conflicting capture(s) in %s (above); nothing is signed and the active cut stays. Mend the "
            "captures, or %s to publish without them (the reason is published in the cut)\n",
            cmd, r->bad, r->open, r->conflicts, c->actas_dir,
            strcmp(cmd, "cut") ? "make the cut with prep cut --override-reason TEXT" : "pass --override-reason TEXT");
    return 1;
}

int cutter_open(cutter *c, const char *cmd, const char *catalog, const char *actas_dir, const char *key,
                const char *pubkey, const char *store, int drill, const char *override_reason)
{
    memset(c, 0, sizeof *c);
    prep_buf_init(&c->overridden, 1 << 20);
    c->override_reason = override_reason;
    c->drill = drill;
    c->cat_path = prep_xstrdup(catalog);
    catalog_seen(catalog, &c->cat_sig, c->cat_sha);
    c->applied_until = PREP_TIME_NONE;
    c->cursor_at = PREP_TIME_NONE;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_catalog_load(catalog, &c->cat, &d);
    if (e) {
        prep_diags_print(&d, stderr, 50);
        fprintf(stderr, "prep %s: cannot load catalogue %s: %s\n", cmd, catalog, prep_err_text(e));
        goto fail;
    }
    if (c->cat->rules.published) { /* before the key: nothing of this catalogue is signed */
        char where[32] = "";
        if (c->cat->rules_published_line) snprintf(where, sizeof where, "%ld:", c->cat->rules_published_line);
        fprintf(stderr,
                "%s:%s [rules] published = yes: prep %s signs an institute's own captures, and this says they are "
                "a results file already published (a derived catalogue's rule, whose leniencies election night "
                "must not have: docs/formats/actas.md, \"Published files\"); nothing is signed. Remove the line, "
                "or use the institute's own catalogue\n",
                catalog, where, cmd);
        prep_diags_free(&d);
        cutter_close(c);
        return -2;
    }
    if ((e = prep_cut_seckey_load(key, &c->key, &d))) {
        prep_diags_print(&d, stderr, 5);
        fprintf(stderr, "prep %s: cannot load key %s: %s\n", cmd, key, prep_err_text(e));
        goto fail;
    }
    if ((c->key.mark == PREP_CUT_KEY_DRILL && !drill) || (c->key.mark == PREP_CUT_KEY_LIVE && drill)) {
        /* every cut would be refused (key-mode): said once, at start */
        fprintf(stderr, "%s: key-mode: a %s key cannot sign %s cuts; drill and live cuts use different keys%s\n", key,
                drill ? "live" : "drill", drill ? "drill" : "live",
                drill ? "" : " (a drill: \"drill\": true in prep institute's config, --drill for prep cut)");
        goto fail;
    }
    size_t publen = 0;
    if (pubkey && (prep_read_file(pubkey, 4096, &c->pubtext, &publen) || !prep_utf8_valid(c->pubtext, publen))) {
        fprintf(stderr, "prep %s: cannot read public key %s (a signify public key file, at most 4 KiB)\n", cmd,
                pubkey);
        goto fail;
    }
    if (pubkey) { /* the pages tell readers to check the cut with this key: it must be the signer's */
        prep_cut_pubkey given, own;
        prep_diags_free(&d);
        prep_diags_init(&d);
        if ((e = prep_cut_pubkey_parse(c->pubtext, publen, pubkey, &given, &d))) {
            prep_diags_print(&d, stderr, 5);
            fprintf(stderr, "prep %s: cannot read public key %s: %s\n", cmd, pubkey, prep_err_text(e));
            goto fail;
        }
        prep_cut_seckey_public(&c->key, &own);
        if (memcmp(&given, &own, sizeof given) != 0) {
            char gh[17], oh[17];
            prep_cut_keynum_hex(given.keynum, gh);
            prep_cut_keynum_hex(own.keynum, oh);
            fprintf(stderr,
                    "%s: key-pair: this public key (key %s) is not the one of the signing key %s (key %s): the pages "
                    "would tell readers to verify the cut with a key that did not sign it; nothing is signed\n",
                    pubkey, gh, key, oh);
            goto fail;
        }
    }
    if ((e = prep_tally_new(c->cat, &c->tally)) || (e = prep_render_cache_new(&c->cache)) ||
        (e = prep_cut_hash_cache_new(&c->hashes))) {
        fprintf(stderr, "prep %s: %s\n", cmd, prep_err_text(e));
        goto fail;
    }
    c->actas_dir = prep_xstrdup(actas_dir);
    c->store = prep_xstrdup(store);
    prep_diags_free(&d);
    cutter_sets r;
    if (read_sets(c, cmd, &r)) goto fail;
    sets_adopt(c, &r);
    if (refuse_sets(c, cmd, &r)) {
        cutter_close(c);
        return -2;
    }
    return 0;
fail:
    prep_diags_free(&d);
    cutter_close(c);
    return -1;
}

/* New captures of one instant looked through for one the tally applied, at most. */
#define SETS_INSTANT_SCAN 4096

/* Whether r's captures continue what c's tally holds. c made the active cut (its site at
 * hand), and for every election each capture its cursor applied (those up to
 * c->cursor_at) is among r's of the same instant, saying the same
 * (prep_actas_capture_same). Within an instant the order may differ (an export ordered by
 * time alone): only one acta's captures have an order that counts, and two of one acta
 * at one instant with different content are a conflict, refused before. r's others up to
 * that instant were written late: their indices go to late[el] (owned), their count to
 * n_late[el]; r's cursor up to that instant to prefix[el]. 1 then; 0 when one the tally
 * applied is gone or changed. */
static int sets_continue(const cutter *c, const cutter_sets *r, size_t *prefix, uint32_t **late, size_t *n_late)
{
    if (!c->made_seq || !c->site.n || c->cursor_at == PREP_TIME_NONE) return 0;
    for (uint32_t el = 0; el < c->cat->n_elections; el++) {
        const prep_actas *os = c->sets[el], *ns = r->sets[el];
        const prep_tally_cursor *oc = &c->cursors[el], *nc = &r->cursors[el];
        size_t np = 0;
        while (np < nc->n && prep_actas_instant(&ns->v[nc->order[np]]) <= c->cursor_at) np++;
        if (np < oc->next) return 0;
        uint8_t *used = prep_xcalloc(np + 1, 1);
        size_t from = 0; /* new captures before it are used, or of an earlier instant */
        int ok = 1;
        for (size_t j = 0; ok && j < oc->next; j++) {
            const prep_acta *o = &os->v[oc->order[j]];
            prep_time t = prep_actas_instant(o);
            while (from < np && (used[from] || prep_actas_instant(&ns->v[nc->order[from]]) < t)) from++;
            size_t k = from;
            for (size_t seen = 0; k < np && prep_actas_instant(&ns->v[nc->order[k]]) == t; k++, seen++) {
                if (seen == SETS_INSTANT_SCAN) k = np - 1; /* too many at one instant: the old path */
                else if (!used[k] && prep_actas_capture_same(os, o, ns, &ns->v[nc->order[k]])) break;
            }
            if (k >= np || prep_actas_instant(&ns->v[nc->order[k]]) != t) ok = 0;
            /* a row whose key names no acta is known to the tally by its line: moved, the
             * tally would take another row for it (helper-36's audit) */
            else if (o->line != ns->v[nc->order[k]].line && prep_tally_key_by_line(o)) ok = 0;
            else used[k] = 1;
        }
        if (ok) {
            late[el] = prep_xcalloc(np - oc->next + 1, sizeof *late[el]);
            for (size_t k = 0; k < np; k++)
                if (!used[k]) late[el][n_late[el]++] = nc->order[k];
        }
        free(used);
        if (!ok) return 0;
        prefix[el] = np;
    }
    return 1;
}

int cutter_reload(cutter *c, const char *cmd, size_t *fresh, size_t *late_applied)
{
    *fresh = *late_applied = 0;
    /* another catalogue (edited during the night): a new cutter reads it, and its first
     * cut compares it with the active cut's (catalogue-changed), as a restart would. Its
     * file is read only when it is no longer the one read: the actas files change before
     * every cut of a live night, the catalogue almost never */
    cutter_file_sig now;
    if (catalog_moved(c, &now)) {
        char sha[65];
        catalog_seen(c->cat_path, &now, sha);
        if (strcmp(sha, c->cat_sha)) return 0;
        c->cat_sig = now; /* the same bytes (touched, or written again): not read again */
    }
    cutter_sets r;
    if (read_sets(c, cmd, &r)) return -1;
    if (refuse_sets(c, cmd, &r)) {
        sets_free(c, &r);
        return -1;
    }
    uint32_t n = c->cat->n_elections;
    size_t *prefix = prep_xcalloc(n ? n : 1, sizeof *prefix), *n_late = prep_xcalloc(n ? n : 1, sizeof *n_late);
    uint32_t **late = prep_xcalloc(n ? n : 1, sizeof *late);
    int ok = sets_continue(c, &r, prefix, late, n_late);
    /* captures written late: applied where the tally's capture of their acta is older */
    for (uint32_t el = 0; ok && el < n; el++)
        for (size_t i = 0; ok && i < n_late[el]; i++) {
            const prep_acta *a = &r.sets[el]->v[late[el][i]];
            int applied = 0;
            ok = prep_tally_apply_late(c->tally, el, a, prep_acta_votes(r.sets[el], a), &applied) == PREP_OK;
            *late_applied += (size_t)applied;
        }
    for (uint32_t el = 0; el < n; el++) free(late[el]);
    free(late);
    free(n_late);
    if (!ok) {
        free(prefix);
        sets_free(c, &r);
        return 0;
    }
    for (uint32_t el = 0; el < n; el++) {
        r.cursors[el].next = prefix[el];
        *fresh += r.cursors[el].n - r.cursors[el].next;
    }
    free(prefix);
    sets_adopt(c, &r); /* as a cutter opened on these files would have them */
    return 1;
}

/* After a cut is made: what the next cut's count check compares with while it is active
 * (the figures its database header block carries, from the same tally). */
static void remember_made(cutter *c, prep_time instant)
{
    prep_cut_active a;
    prep_diags d;
    prep_diags_init(&d);
    c->made_seq = 0;
    if (!c->made_counts) c->made_counts = prep_xcalloc((size_t)c->cat->n_elections * 2 + 1, sizeof *c->made_counts);
    if (prep_cut_active_read(c->store, &a, &d) == PREP_OK) {
        for (uint32_t el = 0; el < c->cat->n_elections; el++) {
            prep_summary sum;
            prep_tally_summary(c->tally, el, 0, &sum);
            c->made_counts[2 * el] = sum.capturadas;
            c->made_counts[2 * el + 1] = sum.contabilizadas;
        }
        c->made_seq = a.seq;
        c->made_instant = instant;
        memcpy(c->made_sha, a.manifest_sha256, sizeof c->made_sha);
    }
    prep_diags_free(&d);
}

int cutter_integrity_refused(prep_err e, const prep_diags *d)
{
    static const char *const kinds[] = {"captures-behind",         "count-decreased",        "published-acta-missing",
                                        "published-acta-older",    "published-acta-changed", "published-acta-replaced",
                                        "catalogue-changed",       "catalogue-note"};
    for (size_t i = 0; e == PREP_ERR_VERIFY && i < PREP_ARRAY_LEN(kinds); i++)
        if (prep_diags_find(d, kinds[i])) return 1;
    return 0;
}

/* prep_render_site_shed's hashes: the parts of the cut just made with hash cache ctx. */
static int part_sha(void *ctx, const char *path, size_t n_parts, size_t k, const void *bytes, size_t len,
                    unsigned char md[32])
{
    return prep_cut_hash_cache_part(ctx, path, n_parts, k, len, md);
}

/* The first render's shedding after a restart: the bytes are part k of path in the cut the
 * hash cache was seeded with (hashed and compared). */
static int part_held(void *ctx, const char *path, size_t n_parts, size_t k, const void *bytes, size_t len,
                     unsigned char md[32])
{
    return prep_cut_hash_cache_holds(ctx, path, n_parts, k, bytes, len, md);
}

/* 1 when the store holds every object of the active cut m, each hashed (a restarted
 * cutter's first cut: ~2 GB at national scale). The hash cache is seeded with that cut only
 * then: seeded, the cut trusts the store for every part it names again. A store damaged
 * since (an object deleted, truncated, a byte flipped on disk) has each damaged object
 * moved to STORE/damaged/ and makes instead a cut that hashes every file and writes what
 * is missing: what a broadcaster fetches is whole again from this cut on. */
static int store_whole(const char *store, const prep_cut_manifest *m)
{
    const char *first = NULL;
    long bad = prep_cut_store_lacks(store, m, 1, &first);
    if (bad > 0)
        prep_log(PREP_LOG_WARN,
                 "%s: the store lacks or holds damaged %ld object(s) of the active cut %llu (the first of %s): this cut "
                 "hashes every file and writes what is missing (prep verify --store names them all)",
                 store, bad, (unsigned long long)m->meta.seq, first);
    return bad == 0;
}

prep_err cutter_cut(cutter *c, prep_time at, prep_time instant, cutter_stats *st, prep_diags *d)
{
    memset(st, 0, sizeof *st);
    double cpu0 = cpu_now();
    if (c->applied_until != PREP_TIME_NONE && at < c->applied_until) at = c->applied_until;
    /* captures are published within the catalogue's window (convocatoria I.a): an instant
     * outside it is a mistyped --at or clock (a year off would sign a "final" cut that
     * every later, correct cut then falls behind). Before any capture is applied. */
    if (at < c->cat->window_open || at > c->cat->window_close) {
        char a[64] = "", wo[64] = "", wc[64] = "";
        prep_time_format(at, c->cat->timezone, PREP_TS_ISO_OFF, a, sizeof a);
        prep_time_format(c->cat->window_open, c->cat->timezone, PREP_TS_ISO_OFF, wo, sizeof wo);
        prep_time_format(c->cat->window_close, c->cat->timezone, PREP_TS_ISO_OFF, wc, sizeof wc);
        prep_diags_add(d, c->cat_path ? c->cat_path : "catalogue", 0, 0, "outside-window",
                       "the captures' instant %s is outside the catalogue's publication window, %s to %s%s", a, wo, wc,
                       c->override_reason ? " (overridden)" : "; nothing is signed (--override-reason TEXT makes the "
                                                             "cut and publishes the reason)");
        if (!c->override_reason) return PREP_ERR_INVALID;
        prep_buf_printf(&c->overridden, "cut at %s, outside the window %s to %s\n", a, wo, wc);
    }
    size_t captured = 0, expected = 0;
    prep_err e = PREP_OK;
    for (uint32_t el = 0; el < c->cat->n_elections && !e; el++) {
        size_t applied = 0;
        e = prep_tally_apply_until(c->tally, c->sets[el], &c->cursors[el], at, &applied);
        st->captures += applied;
        if (!e && (c->cursor_at == PREP_TIME_NONE || at > c->cursor_at)) c->cursor_at = at;
        prep_summary sum;
        prep_tally_summary(c->tally, el, 0, &sum);
        captured += (size_t)sum.capturadas;
        expected += (size_t)sum.esperadas;
    }
    if (e) return e;
    /* counts never go backwards without a reason (a truncated captures file would) */
    size_t decreased = 0;
    prep_cut_manifest am; /* the active cut's manifest, read once for every election */
    prep_diags ld;
    prep_diags_init(&ld);
    prep_cut_active act0;
    /* the active cut is the one this cutter made last, its site at hand: its counts are known */
    int own = c->made_seq && c->site.n && prep_cut_active_read(c->store, &act0, &ld) == PREP_OK &&
              act0.seq == c->made_seq && !strcmp(act0.manifest_sha256, c->made_sha);
    int have_active = !own && prep_cut_load(c->store, 0, &am, &ld) == PREP_OK;
    prep_diags_free(&ld);
    /* the active cut's signature, checked once for all that is read from it below: a chain
     * continues only under the key that signed it (prep_cut_make checks it too, after the
     * render; here it is refused before) */
    if (have_active && prep_cut_check_signer(c->store, &am, &c->key, d)) {
        prep_cut_manifest_free(&am);
        return PREP_ERR_VERIFY;
    }
    /* a cut instant before the active cut's is refused as such, before its captures are
     * compared with that cut's (they would seem to be missing, the file blamed) */
    prep_time shown = instant == PREP_TIME_NONE ? at : instant;
    if ((own || have_active) && shown < (own ? c->made_instant : am.meta.instant)) {
        char pi[64] = "";
        prep_time_format(own ? c->made_instant : am.meta.instant, c->cat->timezone, PREP_TS_ISO_OFF, pi, sizeof pi);
        prep_diags_add(d, c->store, 0, 0, "instant-regress",
                       "the cut instant is before the active cut's (%s): cuts go forward in time; nothing is signed",
                       pi);
        if (have_active) prep_cut_manifest_free(&am);
        return PREP_ERR_INVALID;
    }
    /* each election's figures in the active cut, and with a cut read back (not this
     * cutter's own last), the actas its database published (cutter_past.c): read once */
    size_t missing = 0;
    int behind = 0; /* the captures' clock behind the active cut's: said once, nothing else blamed */
    for (uint32_t el = 0; (own || have_active) && el < c->cat->n_elections; el++) {
        int64_t pc = 0, pn = 0;
        prep_actas *pub = NULL;
        int known = own || !cutter_published_read(c, &am, el, &pub, &pc, &pn);
        if (pub && !behind) behind = cutter_published_behind(c, am.meta.seq, pub, at, d);
        if (pub && !behind) missing += cutter_published_missing(c, am.meta.seq, el, pub, at, d);
        if (own) {
            pc = c->made_counts[2 * el];
            pn = c->made_counts[2 * el + 1];
        }
        prep_actas_free(pub);
        if (!known || behind) continue;
        prep_summary sum;
        prep_tally_summary(c->tally, el, 0, &sum);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.csv", c->actas_dir, c->cat->elections[el].id);
        const struct {
            const char *name;
            int64_t was, now;
        } fig[] = {{"ACTAS_CAPTURADAS", pc, sum.capturadas}, {"ACTAS_CONTABILIZADAS", pn, sum.contabilizadas}};
        for (size_t k = 0; k < PREP_ARRAY_LEN(fig); k++)
            if (fig[k].now < fig[k].was) {
                decreased++;
                prep_diags_add(d, path, 0, 0, "count-decreased",
                               "%s of %s would go from %lld in the active cut to %lld: captures are missing from "
                               "the file (truncated or replaced?)",
                               fig[k].name, c->cat->elections[el].id, (long long)fig[k].was, (long long)fig[k].now);
                if (c->override_reason)
                    prep_buf_printf(&c->overridden, "%s: %s %s %lld -> %lld\n", path, c->cat->elections[el].id,
                                fig[k].name, (long long)fig[k].was, (long long)fig[k].now);
            }
    }
    /* with the same catalogue (cutter_past.c) */
    missing += (size_t)behind;
    if (have_active && cutter_catalog_changed(c, am.meta.seq, d)) missing++;
    /* no last site (a restart, or after a failed cut) over a cut of ours (its signature
     * checked above): the hash cache learns that cut, so the render sheds what it holds as
     * it goes and the site is never whole in memory (a national site at the close is ~3 GB) */
    int whole = have_active && !c->site.n && store_whole(c->store, &am);
    if (have_active && !c->site.n && !whole) {
        /* a cache this cutter stamped with that cut (its site lost with a failed cut) would
         * still trust every part the cut names, the ones just moved aside included */
        prep_cut_hash_cache_free(c->hashes);
        c->hashes = NULL;
        if (prep_cut_hash_cache_new(&c->hashes)) {
            prep_cut_manifest_free(&am);
            return PREP_ERR_NOMEM;
        }
    }
    int shed_as_made = whole && prep_cut_hash_cache_seed(c->hashes, &am) == PREP_OK;
    /* the night's progress series, read back from that cut at the first cut */
    prep_err pe =
        c->progress ? PREP_OK : cutter_progress_load(c->cat, c->store, have_active ? &am : NULL, &c->progress);
    if (have_active) prep_cut_manifest_free(&am);
    if (pe) return pe;
    if (decreased && !c->override_reason) return PREP_ERR_VERIFY;
    if (missing && !c->override_reason) return PREP_ERR_VERIFY;
    c->applied_until = at;
    if (instant == PREP_TIME_NONE) instant = at;
    int final_cut = at >= c->cat->window_close || captured == expected;

    prep_cut_active act;
    uint64_t next = 1;
    prep_diags ad;
    prep_diags_init(&ad);
    if (prep_cut_active_read(c->store, &act, &ad) == PREP_OK) next = act.seq + 1;
    prep_diags_free(&ad);
    int64_t valid_for = c->valid_for ? c->valid_for : 3 * (int64_t)(c->cat->cut_interval ? c->cat->cut_interval : 300);

    char elections[1024] = "";
    for (uint32_t i = 0; i < c->cat->n_elections; i++) {
        size_t l = strlen(elections);
        snprintf(elections + l, sizeof elections - l, "%s%s", i ? " " : "", c->cat->elections[i].id);
    }
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = c->cat->process_id;
    p.elections = elections;
    p.zone = c->cat->timezone;
    p.mode = c->drill ? PREP_CUT_DRILL : PREP_CUT_LIVE;
    p.instant = instant;
    p.valid_for = valid_for;
    p.expect_seq = next;

    prep_render_cut rc = {.seq = next, .at = instant, .drill = c->drill, .process_name = NULL,
                          .valid_until = instant + valid_for, .final_cut = final_cut};
    if (c->override_reason && c->overridden.len) {
        rc.override_reason = c->override_reason;
        rc.overridden = c->overridden.data;
    }
    prep_render_opts ro;
    prep_render_opts_init(&ro);
    ro.pubkey = c->pubtext;
    ro.difusores = c->difusores;
    ro.n_difusores = c->n_difusores;
    ro.progress = c->progress;
    if (shed_as_made) {
        ro.shed = part_held;
        ro.shed_ctx = c->hashes;
    }
    /* the last cut's site, passed back: its pages whose numbers did not change keep their
     * buffers, only the stamp rewritten (docs/formats/site.md, "Incremental rendering") */
    prep_site site = c->site;
    prep_render_site_init(&c->site);
    prep_render_stats rs;
    e = prep_render_site(c->tally, &rc, &ro, c->cache, &site, &rs);
    if (!e) {
        /* the cache now holds these bodies: the marks are consumed */
        prep_tally_clear_dirty(c->tally);
        prep_cut_file *files = cli_cut_files(&site, &c->files, &c->files_cap);
        p.hash_cache = c->hashes;
        e = prep_cut_make(c->store, &p, files, site.n, &c->key, &st->seq, d);
        /* the cut holds every part now: the site kept for the next render keeps the hashes of
         * the big ones instead of their bytes (docs/formats/site.md, "Reusing the last site") */
        if (!e) prep_render_site_shed(&site, part_sha, c->hashes, NULL);
        /* the series the next cut continues: this cut's point, as render added it */
        if (!e) e = prep_render_progress_add(c->progress, c->tally, &rc);
    }
    st->files = rs.files;
    st->pages = rs.pages;
    st->bytes = rs.bytes;
    st->final_cut = final_cut;
    st->held = 0;
    if (e) prep_render_site_free(&site);
    else c->site = site;
    if (!e) remember_made(c, instant);
    if (!e) cutter_catalog_note(c);
    for (size_t i = 0; i < c->site.n; i++) st->held += prep_render_site_file_data_len(&c->site.v[i]);
    st->cpu_seconds = cpu_now() - cpu0;
    return e;
}
