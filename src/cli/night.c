/* The first half of `prep render` and `prep cut --catalog`: a catalogue and its captures
 * counted up to a cut instant. */
#include "cli.h"

#include <stdlib.h>

int cli_night_load(const char *cmd, const char *catalog, const char *actas_dir, const char *at_s, cli_night *n)
{
    n->cat = NULL;
    n->tally = NULL;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_catalog_load(catalog, &n->cat, &d);
    if (e) {
        prep_diags_print(&d, stderr, 50);
        fprintf(stderr, "prep %s: cannot load catalogue %s: %s\n", cmd, catalog, prep_err_text(e));
        goto fail;
    }
    if (prep_time_parse(at_s, n->cat->timezone, &n->at)) {
        fprintf(stderr, "prep %s: --at '%s' is not a time (YYYY-MM-DD HH:MM[:SS])\n", cmd, at_s);
        goto fail;
    }
    if ((e = prep_tally_new(n->cat, &n->tally))) {
        fprintf(stderr, "prep %s: %s\n", cmd, prep_err_text(e));
        goto fail;
    }
    size_t captured = 0, expected = 0;
    for (uint32_t el = 0; el < n->cat->n_elections; el++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.csv", actas_dir, n->cat->elections[el].id);
        prep_actas *s = NULL;
        prep_diags_free(&d);
        prep_diags_init(&d);
        e = prep_actas_load(path, n->cat, el, &s, &d);
        if (d.total) prep_diags_print(&d, stderr, 20);
        if (e) {
            fprintf(stderr, "prep %s: cannot read %s: %s\n", cmd, path, prep_err_text(e));
            goto fail;
        }
        prep_tally_cursor cur;
        size_t applied = 0;
        if (!(e = prep_tally_cursor_init(&cur, s))) {
            e = prep_tally_apply_until(n->tally, s, &cur, n->at, &applied);
            prep_tally_cursor_free(&cur);
        }
        prep_actas_free(s);
        if (e) {
            fprintf(stderr, "prep %s: %s: %s\n", cmd, path, prep_err_text(e));
            goto fail;
        }
        prep_summary sum;
        prep_tally_summary(n->tally, el, 0, &sum);
        captured += (size_t)sum.capturadas;
        expected += (size_t)sum.esperadas;
        fprintf(stderr, "prep %s: %s: %zu captures in the cut\n", cmd, path, applied);
    }
    /* The final cut: the window has closed, or no expected acta can still arrive. */
    n->final_cut = n->at >= n->cat->window_close || captured == expected;
    prep_diags_free(&d);
    return 0;
fail:
    prep_diags_free(&d);
    cli_night_free(n);
    return -1;
}

int cli_night_load_published(const char *cmd, const char *file, const char *cand, const char *at_s, cli_night *n)
{
    n->cat = NULL;
    n->tally = NULL;
    prep_diags d;
    prep_diags_init(&d);
    prep_actas *s = NULL;
    prep_tally_cursor cur = {0};
    prep_err e = prep_actas_derive_catalog(file, cand, &n->cat, &d);
    if (e) {
        prep_diags_print(&d, stderr, 30);
        fprintf(stderr, "prep %s: cannot derive a catalogue from %s: %s\n", cmd, file, prep_err_text(e));
        goto fail;
    }
    prep_diags_free(&d);
    prep_diags_init(&d);
    e = prep_actas_load(file, n->cat, 0, &s, &d);
    if (d.total) prep_diags_print(&d, stderr, 20);
    if (e) {
        fprintf(stderr, "prep %s: cannot read %s: %s\n", cmd, file, prep_err_text(e));
        goto fail;
    }
    if (at_s && prep_time_parse(at_s, n->cat->timezone, &n->at)) {
        fprintf(stderr, "prep %s: --at '%s' is not a time (YYYY-MM-DD HH:MM[:SS])\n", cmd, at_s);
        goto fail;
    }
    if (!at_s) { /* the file's cut, else its latest capture */
        n->at = s->hdr.present ? s->hdr.cut : PREP_TIME_NONE;
        for (size_t i = 0; n->at == PREP_TIME_NONE && i < s->n; i++)
            if (prep_actas_instant(&s->v[i]) != PREP_TIME_NONE && (i == 0 || prep_actas_instant(&s->v[i]) > n->at))
                n->at = prep_actas_instant(&s->v[i]);
        if (n->at == PREP_TIME_NONE) {
            fprintf(stderr, "prep %s: %s states no cut and no capture time: give --at\n", cmd, file);
            goto fail;
        }
    }
    size_t applied = 0;
    if ((e = prep_tally_new(n->cat, &n->tally)) || (e = prep_tally_cursor_init(&cur, s)) ||
        (e = prep_tally_apply_until(n->tally, s, &cur, n->at, &applied))) {
        fprintf(stderr, "prep %s: %s: %s\n", cmd, file, prep_err_text(e));
        goto fail;
    }
    prep_summary sum;
    prep_tally_summary(n->tally, 0, 0, &sum);
    n->final_cut = n->at >= n->cat->window_close || sum.capturadas == sum.esperadas;
    fprintf(stderr, "prep %s: %s: %zu captures in the cut (a catalogue derived from the file)\n", cmd, file, applied);
    prep_tally_cursor_free(&cur);
    prep_actas_free(s);
    prep_diags_free(&d);
    return 0;
fail:
    prep_tally_cursor_free(&cur);
    prep_actas_free(s);
    prep_diags_free(&d);
    cli_night_free(n);
    return -1;
}

void cli_night_free(cli_night *n)
{
    prep_tally_free(n->tally);
    prep_catalog_free(n->cat);
    n->tally = NULL;
    n->cat = NULL;
}
