/* libFuzzer target: the progress series parser (prep_render_progress_parse, the avance/<id>.json a
 * cutter reads back from the newest stored cut). The catalogue is the simulated tiny one
 * (seed 7: elections gub, ayu, dip); the input is parsed as the series of gub.
 * Checks: no crash, leak or UB; a refused input has exactly one diag naming the file and
 * a line; never more than PREP_RENDER_PROGRESS_MAX_POINTS points; and an accepted series carried
 * through render (one more cut of an empty tally) is published so that it reads back
 * whole, with the cut's own point and at most the points it was given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/render.h"
#include "prep/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prep_catalog *cat;
static prep_tally *tally;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    if (!cat && (prep_sim_catalog(PREP_SIM_SCALE_TINY, 7, &cat) || prep_tally_new(cat, &tally))) abort();
    prep_render_progress *p;
    if (prep_render_progress_new(cat, &p)) abort();
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_render_progress_parse(p, 0, "fuzz.json", (const char *)data, size, &d);
    size_t n = prep_render_progress_len(p, 0);
    if (n > PREP_RENDER_PROGRESS_MAX_POINTS) abort();
    if (e && (d.n != 1 || strcmp(d.v[0].file, "fuzz.json") || d.v[0].line < 1)) abort();
    if (!e && d.n) abort();
    if (!e) {
        prep_render_cut k = {.seq = UINT64_C(999999999999), .at = cat->window_close, .drill = 1,
                             .valid_until = PREP_TIME_NONE};
        prep_render_opts o;
        prep_render_opts_init(&o);
        o.embedded = 0;
        o.progress = p;
        prep_site s;
        prep_render_site_init(&s);
        if (prep_render_site(tally, &k, &o, NULL, &s, NULL)) abort();
        char path[96];
        prep_render_progress_path(cat, 0, path, sizeof path);
        const prep_site_file *f = prep_render_site_find(&s, path);
        if (!f) abort();
        prep_render_progress *q;
        if (prep_render_progress_new(cat, &q)) abort();
        if (prep_render_progress_parse(q, 0, "again.json", (const char *)f->data, f->len, &d)) abort();
        /* points after the cut's instant are dropped (a clock that starts over), never more */
        size_t got = prep_render_progress_len(q, 0);
        if (got < 1 || got > n + 1 || got > PREP_RENDER_PROGRESS_MAX_POINTS) abort();
        prep_render_progress_free(q);
        prep_render_site_free(&s);
    }
    prep_diags_free(&d);
    prep_render_progress_free(p);
    return 0;
}
