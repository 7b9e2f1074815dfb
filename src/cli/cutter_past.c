/* The cutter's check that what the active cut published is still in the captures: every
 * acta its database lists as captured must still have, in the files now read, the capture
 * it published (same instant, same values) or a later correction (docs/institute.md,
 * "Input integrity"). A file of another night, rows removed by hand, a published capture
 * edited in place, or a catalogue swapped for one without those casillas would otherwise
 * be signed whenever the totals do not go down. Read at the first cut of a cutter over a
 * store: the one-shot prep cut --catalog, a restarted daemon, and the daemon's new cutter
 * whenever an actas file changed (cutter_actas_changed); a cutter's later cuts come from
 * the captures it read, so they cannot lose an acta. */
#include "cutter.h"
#include "catalog_note.h"

#include <stdlib.h>
#include <string.h>

/* ACTAS_CAPTURADAS and ACTAS_CONTABILIZADAS of a database's header block: 0, or -1. */
static int header_counts(const prep_actas_header *h, int64_t *cap, int64_t *cont)
{
    const char *vc = prep_actas_header_value(h, 3), *vn = prep_actas_header_value(h, 5);
    return vc && vn && !prep_parse_i64(vc, cap) && !prep_parse_i64(vn, cont) ? 0 : -1;
}

int cutter_published_read(const cutter *c, const prep_cut_manifest *am, uint32_t el, prep_actas **pub, int64_t *cap,
                          int64_t *cont)
{
    *pub = NULL;
    char path[256];
    snprintf(path, sizeof path, "base-de-datos/%s.csv", c->cat->elections[el].id);
    const prep_cut_entry *en = prep_cut_manifest_find(am, path);
    if (!en) return -1;
    char *data = NULL;
    size_t len = 0;
    prep_err e = prep_cut_file_read(c->store, en, (uint64_t)1 << 32, &data, &len);
    char label[600];
    snprintf(label, sizeof label, "%s (cut %llu)", path, (unsigned long long)am->meta.seq);
    int counts = -1;
    if (!e) {
        e = prep_actas_parse(label, data, len, c->cat, el, pub, NULL);
        if (!e) {
            counts = header_counts(&(*pub)->hdr, cap, cont);
        } else { /* the rows do not read with this catalogue (another catalogue's columns,
                  * which the catalogue check names): the counts from the header block alone */
            prep_diags hd;
            prep_diags_init(&hd);
            prep_actas_header h;
            if (prep_actas_read_header(label, data, len < 65536 ? len : 65536, &h, &hd) == PREP_OK) {
                counts = header_counts(&h, cap, cont);
                prep_actas_header_free(&h);
            }
            prep_diags_free(&hd);
        }
    }
    free(data);
    if (e) {
        *pub = NULL;
        prep_log(PREP_LOG_WARN, "%s: %s cannot be read back (%s): the actas it published are not compared%s",
                 c->store, label, prep_err_text(e), counts ? ", nor its counts" : "");
    }
    return counts;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cutter_published_behind(cutter *c, uint64_t seq, const prep_actas *pub, prep_time at, prep_diags *d)
{
    prep_time last = PREP_TIME_NONE;
    for (size_t i = 0; i < pub->n; i++) {
        prep_time t = prep_actas_instant(&pub->v[i]);
        if (t != PREP_TIME_NONE && (last == PREP_TIME_NONE || t > last)) last = t;
    }
    if (last == PREP_TIME_NONE || last <= at) return 0;
    char a[64] = "", l[64] = "";
    prep_time_format(at, c->cat->timezone, PREP_TS_ISO_OFF, a, sizeof a);
    prep_time_format(last, c->cat->timezone, PREP_TS_ISO_OFF, l, sizeof l);
    prep_diags_add(d, c->store, 0, 0, "captures-behind",
                   "the active cut %llu published captures up to %s, and this cut takes the captures up to %s: it "
                   "would take some back. A drill's clock started again behind its cuts? (clock.start after %s, or a "
                   "new store); nothing is signed",
                   (unsigned long long)seq, l, a, l);
    return 1;
}

/* 1 when captures a (as the active cut published it) and b (read now, at the same
 * instant) hold other values: votes, total, or the reason there is no acta. */
static int capture_differs(const prep_actas *pub, const prep_acta *a, const prep_actas *now, const prep_acta *b,
                           uint32_t n_cols)
{
    if (a->no_acta != b->no_acta || a->total_asentado != b->total_asentado) return 1;
    return memcmp(prep_acta_votes(pub, a), prep_acta_votes(now, b), (size_t)n_cols * sizeof(int32_t)) != 0;
}

/* The in-catalogue captures of a file up to a cut, by acta (casilla, rp) and instant. */
typedef struct cap_ix {
    size_t slot; /* casilla * 2 + rp */
    prep_time t;
    uint32_t line;
    size_t i; /* in the set */
} cap_ix;

static int cmp_cap(const void *x, const void *y)
{
    const cap_ix *a = x, *b = y;
    if (a->slot != b->slot) return a->slot < b->slot ? -1 : 1;
    if (a->t != b->t) return a->t < b->t ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* How published acta a stands in the captures now (v[lo..hi), its acta's, by instant). */
enum { PUB_KEPT, PUB_MISSING, PUB_OLDER, PUB_CHANGED, PUB_REPLACED };

static int published_state(const prep_actas *pub, const prep_acta *a, const prep_actas *now, const cap_ix *v,
                           size_t lo, size_t hi, uint32_t n_cols, size_t *at_row)
{
    if (lo == hi) return PUB_MISSING;
    prep_time ta = prep_actas_instant(a);
    *at_row = v[hi - 1].i;
    if (v[hi - 1].t < ta) return PUB_OLDER; /* its latest capture is older than the published one */
    int same_instant = 0;
    for (size_t k = lo; k < hi; k++) {
        if (v[k].t != ta) continue;
        same_instant = 1;
        *at_row = v[k].i;
        if (!capture_differs(pub, a, now, &now->v[v[k].i], n_cols)) return PUB_KEPT;
    }
    return same_instant ? PUB_CHANGED : PUB_REPLACED;
}

size_t cutter_published_missing(cutter *c, uint64_t seq, uint32_t el, const prep_actas *pub, prep_time at,
                                prep_diags *d)
{
    uint32_t nc = c->cat->n_casillas, n_cols = c->cat->elections[el].n_cols;
    const prep_actas *now = c->sets[el];
    cap_ix *v = prep_xcalloc(now->n + 1, sizeof *v);
    size_t nv = 0;
    /* out of the catalogue, an acta is known by its CLAVE_ACTA only */
    const char **ooc = prep_xcalloc(now->n + 1, sizeof *ooc);
    size_t n_ooc = 0;
    for (size_t i = 0; i < now->n; i++) {
        const prep_acta *a = &now->v[i];
        prep_time t = prep_actas_instant(a);
        if (t != PREP_TIME_NONE && t > at) continue; /* not in this cut */
        if (a->casilla < nc) v[nv++] = (cap_ix){(size_t)a->casilla * 2 + (a->rp ? 1 : 0), t, a->line, i};
        else ooc[n_ooc++] = a->clave_acta;
    }
    qsort(v, nv, sizeof *v, cmp_cap);
    qsort(ooc, n_ooc, sizeof *ooc, cmp_str);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.csv", c->actas_dir, c->cat->elections[el].id);
    size_t bad = 0, replaced = 0, in_cat = 0, shown = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < pub->n; i++) {
            const prep_acta *a = &pub->v[i];
            const char *key = a->clave_acta;
            int st = PUB_MISSING;
            size_t row = 0;
            if (a->casilla < nc) {
                size_t slot = (size_t)a->casilla * 2 + (a->rp ? 1 : 0), lo = 0, hi = nv;
                while (lo < hi) { /* the first of the acta's captures */
                    size_t m = lo + (hi - lo) / 2;
                    if (v[m].slot < slot) lo = m + 1;
                    else hi = m;
                }
                hi = lo;
                while (hi < nv && v[hi].slot == slot) hi++;
                st = published_state(pub, a, now, v, lo, hi, n_cols, &row);
                in_cat += !pass;
            } else if (bsearch(&key, ooc, n_ooc, sizeof *ooc, cmp_str)) {
                st = PUB_KEPT;
            }
            if (st == PUB_KEPT) continue;
            /* the first pass counts; the second names them, the replaced ones only when they
             * are too many to be the night's corrections */
            if (!pass) {
                if (st == PUB_REPLACED) replaced++;
                else bad++;
                continue;
            }
            if (st == PUB_REPLACED && replaced * 10 <= in_cat) continue;
            if (++shown > 20) continue;
            char was[64] = "";
            prep_time_format(prep_actas_instant(a), c->cat->timezone, PREP_TS_ISO_OFF, was, sizeof was);
            long line = st == PUB_MISSING ? 0 : (long)now->v[row].line;
            if (st == PUB_MISSING)
                prep_diags_add(d, path, 0, 0, "published-acta-missing",
                               "acta %s (casilla %s) was published as captured in the active cut %llu and has no "
                               "capture in this file up to this cut: rows removed, or a file of another night?",
                               key[0] ? key : "?", a->clave_casilla, (unsigned long long)seq);
            else if (st == PUB_OLDER)
                prep_diags_add(d, path, line, 0, "published-acta-older",
                               "acta %s was published in the active cut %llu as captured at %s; this file's latest "
                               "capture of it is older: the published capture is gone (a file of another night?)",
                               key, (unsigned long long)seq, was);
            else if (st == PUB_CHANGED)
                prep_diags_add(d, path, line, 0, "published-acta-changed",
                               "acta %s was published in the active cut %llu as captured at %s with other values than "
                               "this row of the same instant: a published capture edited in place? (a correction is "
                               "a new capture, with its own later time)",
                               key, (unsigned long long)seq, was);
            else
                prep_diags_add(d, path, line, 0, "published-acta-replaced",
                               "acta %s was published in the active cut %llu as captured at %s; that capture is no "
                               "longer in this file, only later ones (%zu of the %zu actas published are so: more "
                               "than corrections; a file of another night?)",
                               key, (unsigned long long)seq, was, replaced, in_cat);
        }
    }
    size_t here = bad + (replaced * 10 > in_cat ? replaced : 0);
    if (shown > 20)
        prep_diags_add(d, path, 0, 0, "published-acta-missing", "... and %zu more actas of the active cut",
                       shown - 20);
    if (here && c->override_reason)
        prep_buf_printf(&c->overridden, "%s: %zu acta(s) published in cut %llu no longer captured as published\n",
                        path, here, (unsigned long long)seq);
    free(ooc);
    free(v);
    return here;
}

/* STORE/catalog (catalog_note.c) */
static char *catalog_note_path(const cutter *c)
{
    size_t n = strlen(c->store) + sizeof "/catalog";
    char *p = prep_xmalloc(n);
    snprintf(p, n, "%s/catalog", c->store);
    return p;
}

int cutter_catalog_changed(cutter *c, uint64_t active_seq, prep_diags *d)
{
    char *p = catalog_note_path(c), *text = NULL, was[65] = "";
    size_t len = 0;
    prep_err re = prep_read_file(p, 4096, &text, &len);
    /* byte for byte what cutter_catalog_note writes: a damaged, hand-edited or unreadable
     * note is not read as "no note" (that would skip the check without a word); only a
     * store without one (older stores) is not checked */
    if (re == PREP_OK) cutter_catalog_note_parse(text, len, was); /* was "" when damaged */
    if (re != PREP_ERR_NOTFOUND && !was[0]) {
        free(text);
        c->cat_noted = 0; /* written again after a cut made over it */
        prep_diags_add(d, p, 1, 0, "catalogue-note",
                       "is not the note of the catalogue the active cut %llu was made with (\"prep-catalog-of-cuts 1\" "
                       "and a SHA-256 line, written by the cutter): this catalogue cannot be compared with that cut's%s",
                       (unsigned long long)active_seq,
                       c->override_reason ? " (overridden: the note is written again after this cut)"
                                          : "; nothing is signed (--override-reason TEXT publishes with this "
                                            "catalogue and writes the note again; removing the file skips the check)");
        if (c->override_reason)
            prep_buf_printf(&c->overridden, "%s: unreadable; catalogue not compared with cut %llu's\n", p,
                            (unsigned long long)active_seq);
        free(p);
        return !c->override_reason;
    }
    free(text);
    int changed = was[0] && strcmp(was, c->cat_sha) != 0;
    if (changed) {
        c->cat_noted = 0; /* written again after a cut made over it */
        prep_diags_add(d, c->cat_path, 0, 0, "catalogue-changed",
                       "this catalogue (SHA-256 %.16s...) is not the one the active cut %llu was made with (%.16s..., "
                       "%s): another catalogue changes the expected actas, the lista nominal and the names%s",
                       c->cat_sha, (unsigned long long)active_seq, was, p,
                       c->override_reason ? " (overridden)" : "; nothing is signed (--override-reason TEXT publishes "
                                                             "with it, the reason in the cut)");
        if (c->override_reason)
            prep_buf_printf(&c->overridden, "%s: another catalogue than cut %llu's\n", c->cat_path,
                            (unsigned long long)active_seq);
    }
    free(p);
    return changed && !c->override_reason;
}

void cutter_catalog_note(cutter *c)
{
    if (c->cat_noted) return;
    char *p = catalog_note_path(c), text[CUTTER_CATALOG_NOTE_MAX];
    int n = cutter_catalog_note_text(c->cat_sha, text);
    if (prep_write_file_atomic(p, text, (size_t)n) == PREP_OK) c->cat_noted = 1;
    else prep_log(PREP_LOG_WARN, "%s: cannot write: %s (the next cutter cannot tell its catalogue changed)", p,
                  prep_err_text(PREP_ERR_IO));
    free(p);
}
