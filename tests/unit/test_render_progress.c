/* render: the night's progress (issue 16 item 3). A series of cuts through the cutter's
 * path (apply the captures up to each instant, render with the series so far, carry the
 * series on with prep_render_progress_add) publishes avance/<id>.json files whose every point
 * equals a recount made here from the database CSV of that cut (header block, and the
 * counted rows' vote columns summed per contender); a restart that reads the series back
 * from the last published file continues it byte for byte; a damaged series keeps what
 * was readable and the cut still renders; the chart stays within 6 KB at 300 points and
 * the Querétaro election pages within the 30 KB first view; the bytes are deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <zlib.h>

#include "prep/render.h"
#include "prep/sim.h"
#include "test_render_util.h"

#define NCUTS 8

/* ---------------------------------------------------------------- an independent recount */
typedef struct recount {
    long long esp, cont, ln, c_cs, s_cs;
    long long votes[16]; /* per contender of gub (candidacies), from the counted rows */
    int k;
} recount;

static char *field(char *line, int n) /* the n-th '|' field of line (0-based), NUL-terminated in place */
{
    char *s = line;
    for (int i = 0; i < n && s; i++) {
        s = strchr(s, '|');
        if (s) s++;
    }
    if (!s) return NULL;
    char *e = strpbrk(s, "|\n");
    if (e) *e = 0;
    return s;
}

static int col_index(const char *head, const char *name)
{
    char *h = strdup(head);
    int i = 0, found = -1;
    for (char *tok = strtok(h, "|\n"); tok; tok = strtok(NULL, "|\n"), i++)
        if (!strcmp(tok, name)) found = i;
    free(h);
    return found;
}

/* Does column name (a party id, or C_A_B a combination) belong to contender label ("A-B")?
 * Every party of the column must be one of the label's. */
static int col_of(const char *col, const char *label)
{
    char cp[128], lp[128];
    snprintf(cp, sizeof cp, "%s", strncmp(col, "C_", 2) ? col : col + 2);
    snprintf(lp, sizeof lp, "-%s-", label);
    char *save = NULL;
    for (char *p = strtok_r(cp, "_", &save); p; p = strtok_r(NULL, "_", &save)) {
        char want[64];
        snprintf(want, sizeof want, "-%s-", p);
        if (!strstr(lp, want)) return 0;
    }
    return 1;
}

static void recount_csv(const char *csv, const char *const *labels, int k, recount *rc)
{
    memset(rc, 0, sizeof *rc);
    rc->k = k;
    char *text = strdup(csv);
    char *lines[8] = {0};
    char *save = NULL, *l = NULL;
    for (int i = 0; i < 6; i++) lines[i] = strtok_r(i ? NULL : text, "\n", &save);
    /* lines: sep, name, instant, header names, header values, column names */
    char *hn = lines[3], *hv = strdup(lines[4]);
    const char *names[] = {"ACTAS_ESPERADAS", "ACTAS_CONTABILIZADAS", "LISTA_NOMINAL_ACTAS_CONTABILIZADAS",
                           "TOTAL_VOTOS_C_CS", "TOTAL_VOTOS_S_CS"};
    long long *dst[] = {&rc->esp, &rc->cont, &rc->ln, &rc->c_cs, &rc->s_cs};
    for (int i = 0; i < 5; i++) {
        char *copy = strdup(hv);
        int ci = col_index(hn, names[i]);
        assert_true(ci >= 0);
        *dst[i] = atoll(field(copy, ci));
        free(copy);
    }
    free(hv);
    char *cols = lines[5];
    int first = col_index(cols, "TOTAL_VOTOS_SACADOS") + 1, last = col_index(cols, "NO_REGISTRADOS");
    int counted = col_index(cols, "CONTABILIZADA");
    assert_true(first > 0 && last > first && counted > 0);
    for (l = strtok_r(NULL, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *c1 = strdup(l);
        int is_counted = !strcmp(field(c1, counted), "1");
        free(c1);
        if (!is_counted) continue;
        for (int j = first; j < last; j++) {
            char *cv = strdup(l), *cn = strdup(cols);
            long long v = atoll(field(cv, j)); /* "SIN DATO" and "-" count 0 */
            const char *name = field(cn, j);
                for (int c = 0; c < k; c++)
                if (col_of(name, labels[c])) rc->votes[c] += v;
            free(cv);
            free(cn);
        }
    }
    free(text);
}

/* ---------------------------------------------------------------- reading a series file here */
typedef struct tpoint {
    long long seq, cont, esp, part, ln, total, votes[16];
    int nv;
    char iso[40];
} tpoint;

/* The points of an avance/<id>.json text, read with sscanf (not with prep_render_progress_parse). */
static int read_points(const char *text, tpoint *out, int max, char labels[16][32], int *nl)
{
    const char *c = strstr(text, "\"contendientes\":[");
    assert_non_null(c);
    c += strlen("\"contendientes\":[");
    *nl = 0;
    while (*c == '"') {
        const char *e = strchr(c + 1, '"');
        snprintf(labels[*nl], 32, "%.*s", (int)(e - c - 1), c + 1);
        (*nl)++;
        c = e + 1;
        if (*c == ',') c++;
    }
    int n = 0;
    for (const char *l = strstr(text, "\"puntos\":[\n") + 11; *l == '[' && n < max; l = strchr(l, '\n') + 1) {
        tpoint *p = &out[n++];
        int used = 0;
        assert_int_equal(sscanf(l, "[%lld,\"%39[^\"]\",%lld,%lld,%lld,%lld,%lld,[%n", &p->seq, p->iso, &p->cont,
                                &p->esp, &p->part, &p->ln, &p->total, &used),
                         7);
        const char *v = l + used;
        p->nv = 0;
        while (*v != ']') {
            p->votes[p->nv++] = strtoll(v, (char **)&v, 10);
            if (*v == ',') v++;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- the night */
typedef struct night {
    prep_catalog *c;
    prep_actas *sets[3];
    prep_tally *t;
    prep_tally_cursor cur[3];
} night;

static void night_open(night *n, prep_sim_scale scale)
{
    memset(n, 0, sizeof *n);
    assert_int_equal(prep_sim_catalog(scale, 7, &n->c), PREP_OK);
    assert_true(n->c->n_elections <= 3);
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    o.seed = 7;
    assert_int_equal(prep_sim_actas(n->c, &o, n->sets), PREP_OK);
    assert_int_equal(prep_tally_new(n->c, &n->t), PREP_OK);
    for (uint32_t e = 0; e < n->c->n_elections; e++) assert_int_equal(prep_tally_cursor_init(&n->cur[e], n->sets[e]), PREP_OK);
}

static void night_apply(night *n, prep_time at)
{
    for (uint32_t e = 0; e < n->c->n_elections; e++)
        assert_int_equal(prep_tally_apply_until(n->t, n->sets[e], &n->cur[e], at, NULL), PREP_OK);
}

static void night_close(night *n)
{
    for (uint32_t e = 0; e < n->c->n_elections; e++) {
        prep_tally_cursor_free(&n->cur[e]);
        prep_actas_free(n->sets[e]);
    }
    prep_tally_free(n->t);
    prep_catalog_free(n->c);
}

static prep_render_cut cut_at(uint64_t seq, prep_time at, int final_cut)
{
    prep_render_cut k = {.seq = seq, .at = at, .drill = 1, .process_name = NULL, .valid_until = PREP_TIME_NONE,
                         .final_cut = final_cut};
    return k;
}

static uint32_t election_of(const prep_catalog *c, const char *id)
{
    for (uint32_t e = 0; e < c->n_elections; e++)
        if (!strcmp(c->elections[e].id, id)) return e;
    fail_msg("no election %s", id);
    return 0;
}

/* Renders cut seq of the night with the series p (may be NULL); returns the site. */
static void render(night *n, prep_render_cache *cache, const prep_render_progress *p, const prep_render_cut *k, prep_site *s)
{
    prep_render_opts o;
    prep_render_opts_init(&o);
    o.progress = p;
    prep_render_stats st;
    assert_int_equal(prep_render_site(n->t, k, &o, cache, s, &st), PREP_OK);
    prep_tally_clear_dirty(n->t);
}

static void test_series_equals_recount(void **state)
{
    (void)state;
    night n;
    night_open(&n, PREP_SIM_SCALE_TINY);
    uint32_t gub = election_of(n.c, "gub");
    prep_render_progress *p;
    assert_int_equal(prep_render_progress_new(n.c, &p), PREP_OK);
    prep_render_cache *cache;
    assert_int_equal(prep_render_cache_new(&cache), PREP_OK);
    recount rc[NCUTS], ro[2][NCUTS];
    static const char *const others[] = {"ayu", "dip"};
    char *last_series = NULL, *restart_page = NULL, *restart_series = NULL;
    prep_time span = n.c->window_close - n.c->window_open;
    for (int i = 0; i < NCUTS; i++) {
        /* cut 5 comes one second after cut 4: nothing new, the chart's body stays cached */
        prep_time at = n.c->window_open + span * (i == 4 ? 4 : i + 1) / (NCUTS + 2) + (i == 4);
        night_apply(&n, at);
        prep_render_cut k = cut_at((uint64_t)i + 1, at, 0);
        prep_site s;
        prep_render_site_init(&s);
        render(&n, cache, p, &k, &s);
        /* the incremental site (bodies from the cache) is the site rendered from nothing */
        prep_site fresh;
        prep_render_site_init(&fresh);
        render(&n, NULL, p, &k, &fresh);
        assert_int_equal(fresh.n, s.n);
        for (size_t f = 0; f < s.n; f++) {
            assert_string_equal(fresh.v[f].path, s.v[f].path);
            assert_int_equal(fresh.v[f].len, s.v[f].len);
            assert_memory_equal(fresh.v[f].data, s.v[f].data, s.v[f].len);
        }
        prep_render_site_free(&fresh);
        char *csv = tr_page(&s, "base-de-datos/gub.csv"), *series = tr_page(&s, "avance/gub.json");
        assert_non_null(csv);
        assert_non_null(series);
        /* the embedded tree carries the same series (its page links to it relatively) */
        char *emb = tr_page(&s, "embebido/avance/gub.json");
        assert_string_equal(emb, series);
        free(emb);
        tpoint pts[NCUTS + 1];
        char labels[16][32];
        int nl;
        assert_int_equal(read_points(series, pts, NCUTS + 1, labels, &nl), i + 1);
        const char *lp[16];
        for (int j = 0; j < nl; j++) lp[j] = labels[j];
        recount_csv(csv, lp, nl, &rc[i]);
        /* every point so far equals the recount of its own cut's database */
        for (int j = 0; j <= i; j++) {
            const tpoint *q = &pts[j];
            assert_int_equal(q->seq, j + 1);
            assert_int_equal(q->esp, rc[j].esp);
            assert_int_equal(q->cont, rc[j].cont);
            assert_int_equal(q->ln, rc[j].ln);
            assert_int_equal(q->total, rc[j].c_cs);
            prep_cat_specials_mode m = n.c->rules.specials;
            assert_int_equal(q->part, m == PREP_CAT_SPECIALS_INCLUDE ? rc[j].c_cs : rc[j].s_cs);
            assert_int_equal(q->nv, nl);
            for (int c = 0; c < nl; c++) {
                assert_int_equal(q->votes[c], rc[j].votes[c]);
            }
        }
        /* the party-contender elections: every point's figures equal its cut's header block */
        for (int o = 0; o < 2; o++) {
            char cp[64], sp[64];
            snprintf(cp, sizeof cp, "base-de-datos/%s.csv", others[o]);
            snprintf(sp, sizeof sp, "avance/%s.json", others[o]);
            char *ocsv = tr_page(&s, cp), *oser = tr_page(&s, sp);
            assert_non_null(ocsv);
            assert_non_null(oser);
            recount_csv(ocsv, NULL, 0, &ro[o][i]);
            tpoint op[NCUTS + 1];
            char ol[16][32];
            int onl;
            assert_int_equal(read_points(oser, op, NCUTS + 1, ol, &onl), i + 1);
            for (int j = 0; j <= i; j++) {
                assert_int_equal(op[j].seq, j + 1);
                assert_int_equal(op[j].esp, ro[o][j].esp);
                assert_int_equal(op[j].cont, ro[o][j].cont);
                assert_int_equal(op[j].ln, ro[o][j].ln);
                assert_int_equal(op[j].total, ro[o][j].c_cs);
                assert_int_equal(op[j].nv, onl);
            }
            free(ocsv);
            free(oser);
        }
        if (i == NCUTS - 1) {
            /* the last point is the page's own figures: "N de M (pct)" of the summary */
            char *pg = tr_page(&s, "gubernatura/index.html");
            char want[128], a[32], b[32];
            tr_commas(rc[i].cont, a);
            tr_commas(rc[i].esp, b);
            snprintf(want, sizeof want, "<dd>%s de %s (", a, b);
            assert_non_null(strstr(pg, want));
            assert_non_null(strstr(pg, "<h2>Avance de la noche</h2>"));
            restart_page = pg;
            restart_series = strdup(series);
        }
        if (i == NCUTS - 2) last_series = strdup(series);
        free(csv);
        free(series);
        prep_render_site_free(&s);
        if (i < NCUTS - 1) assert_int_equal(prep_render_progress_add(p, n.t, &k), PREP_OK);
        assert_int_equal(prep_render_progress_len(p, gub), (size_t)(i < NCUTS - 1 ? i + 1 : i));
    }
    /* a restart: a new process reads every election's series of cut NCUTS-1 back and renders
     * cut NCUTS again from scratch (new cache): the same series and page bytes */
    prep_render_progress *p2;
    assert_int_equal(prep_render_progress_new(n.c, &p2), PREP_OK);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_render_progress_parse(p2, gub, "avance/gub.json", last_series, strlen(last_series), &d), PREP_OK);
    assert_int_equal(prep_render_progress_len(p2, gub), NCUTS - 1);
    prep_render_cut k = cut_at(NCUTS, n.c->window_open + span * NCUTS / (NCUTS + 2), 0);
    prep_site s;
    prep_render_site_init(&s);
    render(&n, NULL, p2, &k, &s);
    char *series = tr_page(&s, "avance/gub.json"), *pg = tr_page(&s, "gubernatura/index.html");
    assert_string_equal(series, restart_series);
    assert_string_equal(pg, restart_page);
    free(series);
    free(pg);
    prep_render_site_free(&s);
    prep_diags_free(&d);
    free(last_series);
    free(restart_series);
    free(restart_page);
    prep_render_progress_free(p2);
    prep_render_progress_free(p);
    prep_render_cache_free(cache);
    night_close(&n);
}

/* ---------------------------------------------------------------- damaged series */
static void test_damaged_series(void **state)
{
    (void)state;
    night n;
    night_open(&n, PREP_SIM_SCALE_TINY);
    uint32_t gub = election_of(n.c, "gub");
    prep_render_progress *p;
    assert_int_equal(prep_render_progress_new(n.c, &p), PREP_OK);
    prep_time span = n.c->window_close - n.c->window_open;
    for (int i = 0; i < 5; i++) {
        prep_time at = n.c->window_open + span * (i + 1) / 8;
        night_apply(&n, at);
        prep_render_cut k = cut_at((uint64_t)i + 1, at, 0);
        assert_int_equal(prep_render_progress_add(p, n.t, &k), PREP_OK);
    }
    prep_render_cut k6 = cut_at(6, n.c->window_open + span * 6 / 8, 0);
    night_apply(&n, k6.at);
    prep_site s;
    prep_render_site_init(&s);
    render(&n, NULL, p, &k6, &s);
    char *good = tr_page(&s, "avance/gub.json"); /* 6 points: lines 5..10, "]}" on 11 */
    prep_render_site_free(&s);
    prep_render_progress *q;
    assert_int_equal(prep_render_progress_new(n.c, &q), PREP_OK);
    prep_diags d;

    /* cut off in the middle of the 4th point: the 3 before it are kept, line 8 is named */
    const char *l8 = good;
    for (int i = 0; i < 7; i++) l8 = strchr(l8, '\n') + 1;
    prep_diags_init(&d);
    assert_int_equal(prep_render_progress_parse(q, gub, "x.json", good, (size_t)(l8 - good) + 10, &d), PREP_ERR_PARSE);
    assert_int_equal(prep_render_progress_len(q, gub), 3);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].file, "x.json");
    assert_int_equal(d.v[0].line, 8);
    prep_diags_free(&d);

    /* a point out of order (seq 2 -> 9 then 3): the ones before it kept, "order" */
    char *bad = strdup(good);
    char *l6 = strchr(strchr(strchr(strchr(strchr(bad, '\n') + 1, '\n') + 1, '\n') + 1, '\n') + 1, '\n') + 1;
    assert_int_equal(l6[1], '2');
    l6[1] = '9';
    prep_diags_init(&d);
    assert_int_equal(prep_render_progress_parse(q, gub, "x.json", bad, strlen(bad), &d), PREP_ERR_INVALID);
    assert_int_equal(prep_render_progress_len(q, gub), 2);
    assert_string_equal(d.v[0].kind, "order");
    assert_int_equal(d.v[0].line, 7);
    prep_diags_free(&d);
    free(bad);

    /* another election's series, and garbage: nothing kept */
    uint32_t other = gub == 0 ? 1 : 0;
    prep_diags_init(&d);
    assert_int_equal(prep_render_progress_parse(q, other, "x.json", good, strlen(good), &d), PREP_ERR_INVALID);
    assert_int_equal(prep_render_progress_len(q, other), 0);
    assert_string_equal(d.v[0].kind, "other-series");
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(prep_render_progress_parse(q, gub, "x.json", "\x00\xff{", 3, &d), PREP_ERR_PARSE);
    assert_int_equal(prep_render_progress_len(q, gub), 0);
    assert_int_equal(d.v[0].line, 1);
    prep_diags_free(&d);

    /* the whole text reads back whole; the cut after a damaged one still renders and
     * publishes what was kept plus its own point */
    prep_diags_init(&d);
    assert_int_equal(prep_render_progress_parse(q, gub, "x.json", good, strlen(good), &d), PREP_OK);
    assert_int_equal(prep_render_progress_len(q, gub), 6);
    assert_int_equal(prep_render_progress_parse(q, gub, "x.json", good, (size_t)(l8 - good) + 10, &d), PREP_ERR_PARSE);
    prep_diags_free(&d);
    prep_render_cut k7 = cut_at(7, n.c->window_open + span * 7 / 8, 0);
    night_apply(&n, k7.at);
    prep_render_site_init(&s);
    render(&n, NULL, q, &k7, &s);
    char *after = tr_page(&s, "avance/gub.json");
    tpoint pts[8];
    char labels[16][32];
    int nl;
    assert_int_equal(read_points(after, pts, 8, labels, &nl), 4);
    assert_int_equal(pts[2].seq, 3);
    assert_int_equal(pts[3].seq, 7);
    free(after);
    prep_render_site_free(&s);
    free(good);
    prep_render_progress_free(q);
    prep_render_progress_free(p);
    night_close(&n);
}

/* ---------------------------------------------------------------- size at Querétaro scale */
static size_t gz_size(const void *p, size_t n)
{
    uLongf cap = compressBound((uLong)n) + 64;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return SIZE_MAX;
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t total = cap - z.avail_out;
    deflateEnd(&z);
    free(out);
    return rc == Z_STREAM_END ? total : SIZE_MAX;
}

/* The progress figure of a page: from its <h2> to the figure's end. */
static size_t chart_bytes(const char *pg)
{
    const char *a = strstr(pg, "<h2>Avance de la noche</h2>");
    assert_non_null(a);
    const char *svg = strstr(a, "<svg "), *end = strstr(a, "</svg>");
    assert_non_null(svg);
    assert_non_null(end);
    return (size_t)(end + 6 - svg);
}

static void test_300_cuts_queretaro(void **state)
{
    (void)state;
    night n;
    night_open(&n, PREP_SIM_SCALE_QRO2021);
    prep_render_progress *p;
    assert_int_equal(prep_render_progress_new(n.c, &p), PREP_OK);
    prep_time span = n.c->window_close - n.c->window_open;
    for (int i = 0; i < 299; i++) {
        prep_time at = n.c->window_open + span * (i + 1) / 300;
        night_apply(&n, at);
        prep_render_cut k = cut_at((uint64_t)i + 1, at, 0);
        assert_int_equal(prep_render_progress_add(p, n.t, &k), PREP_OK);
    }
    night_apply(&n, n.c->window_close);
    prep_render_cut k = cut_at(300, n.c->window_close, 1);
    prep_site s1, s2;
    prep_render_site_init(&s1);
    prep_render_site_init(&s2);
    render(&n, NULL, p, &k, &s1);
    render(&n, NULL, p, &k, &s2);
    size_t css = 0, js = 0;
    for (size_t i = 0; i < s1.n; i++)
        if (!strncmp(s1.v[i].path, "assets/", 7)) {
            if (strstr(s1.v[i].path, ".css")) css = gz_size(s1.v[i].data, s1.v[i].len);
            else js = gz_size(s1.v[i].data, s1.v[i].len);
        }
    /* deterministic: the same inputs give the same bytes, file by file */
    assert_int_equal(s1.n, s2.n);
    for (size_t i = 0; i < s1.n; i++) {
        assert_string_equal(s1.v[i].path, s2.v[i].path);
        assert_int_equal(s1.v[i].len, s2.v[i].len);
        assert_memory_equal(s1.v[i].data, s2.v[i].data, s1.v[i].len);
    }
    for (uint32_t e = 0; e < n.c->n_elections; e++) {
        char path[160], sp[96];
        snprintf(path, sizeof path, "%s/index.html", n.c->elections[e].slug);
        prep_render_progress_path(n.c, e, sp, sizeof sp);
        char *pg = tr_page(&s1, path), *series = tr_page(&s1, sp);
        assert_non_null(pg);
        assert_non_null(series);
        size_t cb = chart_bytes(pg), first_view = gz_size(pg, strlen(pg)) + css + js;
        print_message("%s: chart %zu bytes, first view %zu bytes gzipped, series %zu bytes (%d points)\n", path, cb,
                      first_view, strlen(series), 300);
        assert_true(cb <= 6000);
        assert_true(first_view <= 30000);
        /* readable at 320 px: a viewBox, no fixed width */
        const char *svg = strstr(strstr(pg, "<h2>Avance de la noche</h2>"), "<svg ");
        assert_true(!strncmp(svg, "<svg viewBox=\"0 0 400 ", 22));
        assert_non_null(strstr(svg, "width=\"100%\" role=\"img\""));
        /* the table lists the drawn points, the series keeps all 300 */
        tpoint *pts = calloc(301, sizeof *pts);
        char labels[16][32];
        int nl;
        assert_int_equal(read_points(series, pts, 301, labels, &nl), 300);
        /* the chart draws the cuts whose figures changed (counted here from the series) */
        int changed = 0;
        for (int j = 0; j < 300; j++)
            changed += !j || memcmp(&pts[j].cont, &pts[j - 1].cont, 5 * sizeof pts[j].cont) ||
                       memcmp(pts[j].votes, pts[j - 1].votes, sizeof pts[j].votes);
        char want[96];
        snprintf(want, sizeof want, "(%d de %d cortes con cifras nuevas)", changed < 36 ? changed : 36, changed);
        print_message("%s: %d of 300 cuts changed a figure\n", path, changed);
        assert_non_null(strstr(pg, want));
        free(pts);
        free(pg);
        free(series);
    }
    prep_render_site_free(&s1);
    prep_render_site_free(&s2);
    prep_render_progress_free(p);
    night_close(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_equals_recount),
        cmocka_unit_test(test_damaged_series),
        cmocka_unit_test(test_300_cuts_queretaro),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
