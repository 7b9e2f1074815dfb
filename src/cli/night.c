/* The first half of `prep render` and `prep cut --catalog`: a catalogue and its captures
 * counted up to a cut instant. */
#include "cli.h"

#include <stdlib.h>

/* Reads election el's captures from path into the tally up to n->at (a published file:
 * every row, whole), adding its expected and captured actas to *expected / *captured. 0,
 * or -1 with the error printed. */
static int night_apply(const char *cmd, cli_night *n, uint32_t el, const char *path, prep_actas *s, int whole,
                       size_t *expected, size_t *captured)
{
    prep_tally_cursor cur;
    size_t applied = 0;
    prep_err e = prep_tally_cursor_init(&cur, s);
    if (!e) {
        e = prep_tally_apply_until(n->tally, s, &cur, whole ? INT64_MAX : n->at, &applied);
        prep_tally_cursor_free(&cur);
    }
    if (e) {
        fprintf(stderr, "prep %s: %s: %s\n", cmd, path, prep_err_text(e));
        return -1;
    }
    prep_summary sum;
    prep_tally_summary(n->tally, el, 0, &sum);
    *captured += (size_t)sum.capturadas;
    *expected += (size_t)sum.esperadas;
    fprintf(stderr, "prep %s: %s: %zu captures in the cut\n", cmd, path, applied);
    return 0;
}

/* The cut instant: at_s, or (a published file, at_s NULL) the cut its header states, else
 * its latest capture. 0, or -1 with the error printed. */
static int night_at(const char *cmd, cli_night *n, const char *at_s, const prep_actas *s, const char *file)
{
    if (at_s) {
        if (!prep_time_parse(at_s, n->cat->timezone, &n->at)) return 0;
        fprintf(stderr, "prep %s: --at '%s' is not a time (YYYY-MM-DD HH:MM[:SS])\n", cmd, at_s);
        return -1;
    }
    n->at = s && s->hdr.present ? s->hdr.cut : PREP_TIME_NONE;
    int stated = n->at != PREP_TIME_NONE;
    for (size_t i = 0; s && !stated && i < s->n; i++)
        if (prep_actas_instant(&s->v[i]) > n->at) n->at = prep_actas_instant(&s->v[i]); /* NONE is INT64_MIN */
    if (n->at != PREP_TIME_NONE) return 0;
    fprintf(stderr, "prep %s: %s states no cut and no capture time: give --at\n", cmd, file);
    return -1;
}

/* Both loaders: the catalogue n->cat (loaded, or derived from file when actas_dir is NULL),
 * each election's captures, the tally up to the cut. */
static int night_load(const char *cmd, const char *actas_dir, const char *file, const char *at_s, cli_night *n,
                      prep_diags *d)
{
    prep_err e;
    if (actas_dir && night_at(cmd, n, at_s, NULL, NULL)) return -1;
    if ((e = prep_tally_new(n->cat, &n->tally))) {
        fprintf(stderr, "prep %s: %s\n", cmd, prep_err_text(e));
        return -1;
    }
    size_t captured = 0, expected = 0;
    for (uint32_t el = 0; el < n->cat->n_elections; el++) {
        char path[4096];
        if (actas_dir) snprintf(path, sizeof path, "%s/%s.csv", actas_dir, n->cat->elections[el].id);
        else snprintf(path, sizeof path, "%s", file);
        prep_actas *s = NULL;
        prep_diags_free(d);
        prep_diags_init(d);
        e = prep_actas_load(path, n->cat, el, &s, d);
        if (d->total) prep_diags_print(d, stderr, 20);
        if (e) fprintf(stderr, "prep %s: cannot read %s: %s\n", cmd, path, prep_err_text(e));
        if (!e && s->rows_bad) { /* pages of the other rows' figures would pass for the file's */
            fprintf(stderr, "prep %s: %zu of %zu rows of %s cannot be read (above); nothing is written\n", cmd,
                    s->rows_bad, s->rows_read, path);
            e = PREP_ERR_INVALID;
        }
        /* a published file is its cut: every row counts, a verification a few seconds
         * after the stated cut included (Campeche 2021's ayuntamientos: five actas
         * verified at 20:00:05 in the cut of 20:00), as the file's own figures do */
        int whole = !actas_dir && !at_s;
        int bad = e || (!actas_dir && night_at(cmd, n, at_s, s, file)) ||
                  night_apply(cmd, n, el, path, s, whole, &expected, &captured);
        prep_actas_free(s);
        if (bad) return -1;
    }
    /* The final cut: the window has closed, or no expected acta can still arrive. */
    n->final_cut = n->at >= n->cat->window_close || captured == expected;
    return 0;
}

/* The catalogue (loaded from catalog, else derived from file and cand), then night_load. */
static int night_open(const char *cmd, const char *catalog, const char *actas_dir, const char *file, const char *cand,
                      const char *at_s, cli_night *n)
{
    n->cat = NULL;
    n->tally = NULL;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = catalog ? prep_catalog_load(catalog, &n->cat, &d) : prep_actas_derive_catalog(file, cand, &n->cat, &d);
    if (e || !catalog) prep_diags_print(&d, stderr, catalog ? 50 : 30); /* a derive's notes also on success */
    if (e && catalog) fprintf(stderr, "prep %s: cannot load catalogue %s: %s\n", cmd, catalog, prep_err_text(e));
    else if (e) fprintf(stderr, "prep %s: cannot derive a catalogue from %s: %s\n", cmd, file, prep_err_text(e));
    int rc = e ? -1 : night_load(cmd, actas_dir, file, at_s, n, &d);
    prep_diags_free(&d);
    if (rc) cli_night_free(n);
    return rc;
}

int cli_night_load(const char *cmd, const char *catalog, const char *actas_dir, const char *at_s, cli_night *n)
{
    return night_open(cmd, catalog, actas_dir, NULL, NULL, at_s, n);
}

int cli_night_load_published(const char *cmd, const char *file, const char *cand, const char *at_s, cli_night *n)
{
    return night_open(cmd, NULL, NULL, file, cand, at_s, n);
}

void cli_night_free(cli_night *n)
{
    prep_tally_free(n->tally);
    prep_catalog_free(n->cat);
    n->tally = NULL;
    n->cat = NULL;
}
