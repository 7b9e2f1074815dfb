/* render: the night's progress — one series per election of the points of the cuts so far
 * (include/prep/render.h, docs/formats/site.md "Progress series"): the series file
 * avance/<election-id>.json (writer and parser) and the progress chart with its table on
 * each election's page.
 *
 * The series is carried by the caller from cut to cut (prep_render_opts.progress); render
 * adds the point of the cut it publishes from the tally, so the last point is the page's own
 * figures. A point keeps counts, not percentages: the page computes every percentage from
 * them with the same truncation as its other figures. */
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

#define FORMAT_LINE "{\"formato\":\"prep-avance/1\","
#define POINTS_LINE "\"puntos\":["
#define END_LINE "]}"

typedef struct ppoint {
    uint64_t seq;
    prep_time at;
    int64_t cont, esp, part, ln, total;
} ppoint;

typedef struct pseries {
    ppoint *v;
    int64_t *votes; /* n * k: each point's contenders' votes */
    size_t n, cap;
} pseries;

struct prep_render_progress {
    const prep_catalog *c;
    uint32_t *k;      /* per election: contenders */
    uint32_t **party; /* per election, per contender: the party whose colour it wears (NONE: independent) */
    char **head;      /* per election: its lines 2 and 3 (process, election, contenders), as written */
    char ***label;    /* per election, per contender: its label ("PAN", "PAN-QI", "Independiente") */
    pseries *s;
};

/* ---------------------------------------------------------------- contenders */
static uint32_t n_contenders(const prep_catalog *c, uint32_t e, int *by_party)
{
    const prep_cat_election *el = &c->elections[e];
    *by_party = !prep_catalog_one_unit(c, e);
    if (!*by_party) return el->cand_first[1] - el->cand_first[0];
    uint32_t n = 0;
    for (uint32_t j = 0; j < el->n_cols; j++)
        if (el->cols[j].kind == PREP_CAT_COL_PARTY) n++;
    return n;
}

/* Contender i of election e: its label (owned) and colour party. */
static char *contender(const prep_catalog *c, uint32_t e, uint32_t i, uint32_t *party)
{
    const prep_cat_election *el = &c->elections[e];
    int by_party;
    n_contenders(c, e, &by_party);
    if (by_party) {
        uint32_t n = 0;
        for (uint32_t j = 0; j < el->n_cols; j++)
            if (el->cols[j].kind == PREP_CAT_COL_PARTY && n++ == i) {
                *party = el->cols[j].parties[0];
                return prep_xstrdup(c->parties[*party].id);
            }
        *party = PREP_CAT_NONE;
        return prep_xstrdup("?");
    }
    const prep_cat_candidacy *cd = &c->candidacies[el->cand_index[el->cand_first[0] + i]];
    if (cd->kind == PREP_CAT_CAND_PARTY) {
        *party = cd->ref;
        return prep_xstrdup(c->parties[cd->ref].id);
    }
    if (cd->kind == PREP_CAT_CAND_COALITION) {
        const prep_cat_coalition *co = &c->coalitions[cd->ref];
        prep_buf b;
        prep_buf_init(&b, 0);
        for (uint32_t p = 0; p < co->n_parties; p++) {
            if (p) prep_buf_putc(&b, '-');
            prep_buf_puts(&b, c->parties[co->parties[p]].id);
        }
        *party = co->n_parties ? co->parties[0] : PREP_CAT_NONE;
        char *s = prep_buf_steal(&b, NULL);
        return s ? s : prep_xstrdup("?");
    }
    *party = PREP_CAT_NONE;
    return prep_xstrdup("Independiente");
}

void prep_render_progress_free(prep_render_progress *p)
{
    if (!p) return;
    for (uint32_t e = 0; p->c && e < p->c->n_elections; e++) {
        if (p->label && p->label[e])
            for (uint32_t i = 0; i < p->k[e]; i++) free(p->label[e][i]);
        if (p->label) free(p->label[e]);
        if (p->party) free(p->party[e]);
        if (p->head) free(p->head[e]);
        if (p->s) {
            free(p->s[e].v);
            free(p->s[e].votes);
        }
    }
    free(p->k);
    free(p->party);
    free(p->head);
    free(p->label);
    free(p->s);
    free(p);
}

prep_err prep_render_progress_new(const prep_catalog *c, prep_render_progress **out)
{
    prep_render_progress *p = prep_xcalloc(1, sizeof *p);
    uint32_t ne = c->n_elections ? c->n_elections : 1;
    p->c = c;
    p->k = prep_xcalloc(ne, sizeof *p->k);
    p->party = prep_xcalloc(ne, sizeof *p->party);
    p->head = prep_xcalloc(ne, sizeof *p->head);
    p->label = prep_xcalloc(ne, sizeof *p->label);
    p->s = prep_xcalloc(ne, sizeof *p->s);
    for (uint32_t e = 0; e < c->n_elections; e++) {
        int bp;
        uint32_t k = n_contenders(c, e, &bp);
        p->k[e] = k;
        p->party[e] = prep_xcalloc(k ? k : 1, sizeof **p->party);
        p->label[e] = prep_xcalloc(k ? k : 1, sizeof **p->label);
        rbuf r;
        rb_init(&r);
        /* process and election ids are [A-Za-z0-9_-] (catalogue rule) */
        rb_printf(&r, "\"proceso\":\"%s\",\"eleccion\":\"%s\",\n\"contendientes\":[", c->process_id,
                  c->elections[e].id);
        for (uint32_t i = 0; i < k; i++) {
            p->label[e][i] = contender(c, e, i, &p->party[e][i]);
            if (i) rb_puts(&r, ",");
            rb_json_str(&r, p->label[e][i]);
        }
        rb_puts(&r, "],");
        if (r.err) {
            rb_free(&r);
            prep_render_progress_free(p);
            return PREP_ERR_NOMEM;
        }
        p->head[e] = prep_buf_steal(&r.b, NULL);
    }
    *out = p;
    return PREP_OK;
}

size_t prep_render_progress_len(const prep_render_progress *p, uint32_t e)
{
    return p && e < p->c->n_elections ? p->s[e].n : 0;
}

void prep_render_progress_path(const prep_catalog *c, uint32_t e, char *out, size_t n)
{
    snprintf(out, n, "avance/%s.json", c->elections[e].id);
}

/* ---------------------------------------------------------------- points */
/* The point of cut `cut` of election e from tally t; votes gets the k contenders' votes. */
static void point_of(const prep_render_progress *p, const prep_tally *t, uint32_t e, const prep_render_cut *cut,
                     ppoint *pt, int64_t *votes)
{
    const prep_catalog *c = p->c;
    const prep_cat_election *el = &c->elections[e];
    const prep_tally_agg *a = prep_tally_get(t, e, PREP_TALLY_NATION, 0);
    prep_cat_specials_mode m = c->rules.specials;
    int with = m == PREP_CAT_SPECIALS_INCLUDE || (m == PREP_CAT_SPECIALS_FINAL_ONLY && cut->final_cut);
    memset(pt, 0, sizeof *pt);
    pt->seq = cut->seq;
    pt->at = cut->at;
    pt->cont = a->contabilizadas;
    pt->esp = a->esperadas;
    pt->part = with ? a->votos_c_cs : a->votos_s_cs;
    pt->ln = a->lista_nominal;
    for (uint32_t j = 0; j < el->n_cols; j++) pt->total += a->votes[j];
    uint32_t k = p->k[e];
    if (prep_catalog_one_unit(prep_tally_catalog(t), e)) {
        if (k) prep_tally_candidacy_votes(t, e, 0, a, votes, k);
        return;
    }
    uint32_t i = 0;
    for (uint32_t j = 0; j < el->n_cols && i < k; j++)
        if (el->cols[j].kind == PREP_CAT_COL_PARTY) votes[i++] = a->party_votes[el->cols[j].parties[0]];
}

static void series_push(pseries *s, uint32_t k, const ppoint *pt, const int64_t *votes)
{
    if (s->n == PREP_RENDER_PROGRESS_MAX_POINTS) { /* the oldest point goes */
        memmove(s->v, s->v + 1, (s->n - 1) * sizeof *s->v);
        if (k) memmove(s->votes, s->votes + k, (s->n - 1) * k * sizeof *s->votes);
        s->n--;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = prep_xrealloc(s->v, s->cap * sizeof *s->v);
        s->votes = prep_xrealloc(s->votes, s->cap * (k ? k : 1) * sizeof *s->votes);
    }
    s->v[s->n] = *pt;
    if (k) memcpy(s->votes + s->n * k, votes, k * sizeof *votes);
    s->n++;
}

prep_err prep_render_progress_add(prep_render_progress *p, const prep_tally *t, const prep_render_cut *cut)
{
    if (!p || !t || !cut || prep_tally_catalog(t) != p->c) return PREP_ERR_INVALID;
    for (uint32_t e = 0; e < p->c->n_elections; e++) {
        pseries *s = &p->s[e];
        while (s->n && (s->v[s->n - 1].seq >= cut->seq || s->v[s->n - 1].at > cut->at)) s->n--;
        int64_t *votes = prep_xcalloc(p->k[e] ? p->k[e] : 1, sizeof *votes);
        ppoint pt;
        point_of(p, t, e, cut, &pt, votes);
        series_push(s, p->k[e], &pt, votes);
        free(votes);
    }
    return PREP_OK;
}

/* The points render publishes for election e: the kept history (before this cut in
 * sequence and time, at most MAX - 1 of the newest) and this cut's point. */
typedef struct pview {
    const pseries *s;
    size_t from, n_hist, n;
    ppoint cur;
    int64_t *cur_votes; /* owned */
    uint32_t k;
} pview;

static void view_open(pview *v, const prep_render_progress *p, const prep_tally *t, uint32_t e, const prep_render_cut *cut)
{
    memset(v, 0, sizeof *v);
    v->s = &p->s[e];
    v->k = p->k[e];
    size_t nh = v->s->n;
    while (nh && (v->s->v[nh - 1].seq >= cut->seq || v->s->v[nh - 1].at > cut->at)) nh--;
    v->from = nh >= PREP_RENDER_PROGRESS_MAX_POINTS ? nh - (PREP_RENDER_PROGRESS_MAX_POINTS - 1) : 0;
    v->n_hist = nh - v->from;
    v->n = v->n_hist + 1;
    v->cur_votes = prep_xcalloc(v->k ? v->k : 1, sizeof *v->cur_votes);
    point_of(p, t, e, cut, &v->cur, v->cur_votes);
}

static const ppoint *view_at(const pview *v, size_t i, const int64_t **votes)
{
    if (i < v->n_hist) {
        *votes = v->s->votes + (v->from + i) * v->k;
        return &v->s->v[v->from + i];
    }
    *votes = v->cur_votes;
    return &v->cur;
}

/* ---------------------------------------------------------------- the series file */
static void write_series(const prep_render_progress *p, uint32_t e, const pview *v, rbuf *r)
{
    const prep_catalog *c = p->c;
    rb_puts(r, FORMAT_LINE "\n");
    rb_puts(r, p->head[e]);
    rb_puts(r, "\n" POINTS_LINE "\n");
    for (size_t i = 0; i < v->n; i++) {
        const int64_t *vo = NULL;
        const ppoint *pt = view_at(v, i, &vo);
        char iso[40];
        if (prep_time_format(pt->at, c->timezone, PREP_TS_ISO_OFF, iso, sizeof iso)) iso[0] = 0;
        rb_printf(r, "[%llu,\"%s\",%lld,%lld,%lld,%lld,%lld,[", (unsigned long long)pt->seq, iso,
                  (long long)pt->cont, (long long)pt->esp, (long long)pt->part, (long long)pt->ln,
                  (long long)pt->total);
        for (uint32_t j = 0; j < v->k; j++) rb_printf(r, j ? ",%lld" : "%lld", (long long)vo[j]);
        rb_puts(r, i + 1 < v->n ? "]],\n" : "]]\n");
    }
    rb_puts(r, END_LINE "\n");
}

/* Adds avance/<id>.json of every election to the site (render_site.c calls it when
 * o->progress is set). */
prep_err progress_files(const prep_render_progress *p, const prep_tally *t, const prep_render_cut *cut,
                        prep_err (*add)(void *ctx, char *path, char *data, size_t len), void *ctx)
{
    if (p->c != prep_tally_catalog(t)) return PREP_ERR_INVALID;
    for (uint32_t e = 0; e < p->c->n_elections; e++) {
        pview v;
        view_open(&v, p, t, e, cut);
        rbuf r;
        rb_init(&r);
        write_series(p, e, &v, &r);
        free(v.cur_votes);
        if (r.err) {
            prep_err err = r.err;
            rb_free(&r);
            return err;
        }
        char path[128];
        prep_render_progress_path(p->c, e, path, sizeof path);
        size_t len;
        char *data = prep_buf_steal(&r.b, &len);
        prep_err err = add(ctx, prep_xstrdup(path), data, len);
        if (err) return err;
    }
    return PREP_OK;
}

/* ---------------------------------------------------------------- the parser */
typedef struct pin {
    const char *name;
    const char *s, *end; /* the current line [s, end) */
    long line;
    prep_diags *d;
} pin;

static prep_err pfail(pin *in, const char *at, prep_err err, const char *kind, const char *what)
{
    long col = at ? (long)(at - in->s) + 1 : 0;
    prep_diags_add(in->d, in->name, in->line ? in->line : 1, col, kind, "%s", what); /* empty text: line 1 */
    return err;
}

/* A whole number of at most 15 digits (no sign, no leading zero but "0"). */
static int p_num(const char **q, const char *end, int64_t *out)
{
    const char *s = *q;
    int64_t v = 0;
    size_t n = 0;
    while (s + n < end && s[n] >= '0' && s[n] <= '9' && n < 16) v = v * 10 + (s[n++] - '0');
    if (!n || n > 15 || (n > 1 && s[0] == '0')) return -1;
    *q = s + n;
    *out = v;
    return 0;
}

static int p_char(const char **q, const char *end, char ch)
{
    if (*q >= end || **q != ch) return -1;
    (*q)++;
    return 0;
}

/* One point line into pt and votes (k of them); *more set when it ends with ','. */
static prep_err parse_point(pin *in, const prep_catalog *c, uint32_t k, ppoint *pt, int64_t *votes, int *more)
{
    const char *q = in->s, *end = in->end;
    int64_t f[6];
    if (p_char(&q, end, '[') || p_num(&q, end, &f[0]) || p_char(&q, end, ',') || p_char(&q, end, '"'))
        return pfail(in, q, PREP_ERR_PARSE, "syntax",
                     "expected a point: [seq,\"instant\",... (a number, then a quoted instant)");
    const char *iso = q;
    while (q < end && *q != '"' && q - iso < 40) q++;
    if (q >= end || *q != '"')
        return pfail(in, iso, PREP_ERR_PARSE, "syntax", "the instant is not a quoted string of at most 40 bytes");
    char isob[48], again[48];
    memcpy(isob, iso, (size_t)(q - iso));
    isob[q - iso] = 0;
    if (prep_time_parse(isob, "UTC", &pt->at) ||
        prep_time_format(pt->at, c->timezone, PREP_TS_ISO_OFF, again, sizeof again) || strcmp(again, isob))
        return pfail(in, iso, PREP_ERR_PARSE, "instant",
                     "the instant is not an ISO 8601 time with the offset of the process's zone "
                     "(2021-06-06T23:05:00-05:00)");
    q++;
    for (int i = 1; i < 6; i++)
        if (p_char(&q, end, ',') || p_num(&q, end, &f[i]))
            return pfail(in, q, PREP_ERR_PARSE, "syntax", "expected ',' and a whole number (the counts of the point)");
    if (p_char(&q, end, ',') || p_char(&q, end, '['))
        return pfail(in, q, PREP_ERR_PARSE, "syntax", "expected ',[' before the contenders' votes");
    int64_t sum = 0;
    for (uint32_t j = 0; j < k; j++) {
        if ((j && p_char(&q, end, ',')) || p_num(&q, end, &votes[j]))
            return pfail(in, q, PREP_ERR_PARSE, "syntax", "expected one whole number per contender");
        sum += votes[j];
    }
    if (p_char(&q, end, ']') || p_char(&q, end, ']'))
        return pfail(in, q, PREP_ERR_PARSE, "syntax", "expected ']]' after the contenders' votes (one per contender)");
    *more = q < end && *q == ',';
    if (*more) q++;
    if (q != end) return pfail(in, q, PREP_ERR_PARSE, "syntax", "unexpected text after the point");
    pt->seq = (uint64_t)f[0];
    pt->cont = f[1];
    pt->esp = f[2];
    pt->part = f[3];
    pt->ln = f[4];
    pt->total = f[5];
    if (!pt->seq) return pfail(in, in->s + 1, PREP_ERR_INVALID, "rule", "the sequence number must be 1 or more");
    if (pt->cont > pt->esp)
        return pfail(in, in->s, PREP_ERR_INVALID, "rule", "more actas counted than expected");
    if (sum > pt->total)
        return pfail(in, in->s, PREP_ERR_INVALID, "rule", "the contenders' votes add up to more than the total");
    return PREP_OK;
}

/* Moves in to the next line; 0 at the end of the text. */
static int next_line(pin *in, const char *text_end)
{
    const char *s = in->end < text_end ? in->end + 1 : text_end;
    if (in->line == 0) s = in->s;
    if (s >= text_end) return 0;
    const char *nl = memchr(s, '\n', (size_t)(text_end - s));
    in->s = s;
    in->end = nl ? nl : text_end;
    in->line++;
    return 1;
}

static int line_is(const pin *in, const char *want)
{
    size_t n = strlen(want);
    return (size_t)(in->end - in->s) == n && !memcmp(in->s, want, n);
}

prep_err prep_render_progress_parse(prep_render_progress *p, uint32_t e, const char *name, const char *data, size_t len,
                             prep_diags *d)
{
    if (!p || e >= p->c->n_elections) return PREP_ERR_INVALID;
    pseries *s = &p->s[e];
    s->n = 0;
    pin in = {.name = name ? name : "avance.json", .s = data, .end = data, .line = 0, .d = d};
    const char *text_end = data + len;
    const char *head = p->head[e], *nl = strchr(head, '\n');
    if (!next_line(&in, text_end) || !line_is(&in, FORMAT_LINE))
        return pfail(&in, in.s, PREP_ERR_PARSE, "format", "line 1 is not '" FORMAT_LINE "' (not a prep-avance/1 series)");
    size_t hl = (size_t)(nl - head);
    if (!next_line(&in, text_end) || (size_t)(in.end - in.s) != hl || memcmp(in.s, head, hl))
        return pfail(&in, in.s, PREP_ERR_INVALID, "other-series", "another process or election than this catalogue's");
    if (!next_line(&in, text_end) || !line_is(&in, nl + 1))
        return pfail(&in, in.s, PREP_ERR_INVALID, "contenders", "the contenders differ from this catalogue's election");
    if (!next_line(&in, text_end) || !line_is(&in, POINTS_LINE))
        return pfail(&in, in.s, PREP_ERR_PARSE, "syntax", "expected '" POINTS_LINE "'");
    uint32_t k = p->k[e];
    int64_t *votes = prep_xcalloc(k ? k : 1, sizeof *votes);
    prep_err err = PREP_OK;
    int more = 1, first = 1;
    while (!err) {
        if (!next_line(&in, text_end)) {
            err = pfail(&in, NULL, PREP_ERR_PARSE, "truncated", "the series ends before its closing ']}'");
            break;
        }
        if (line_is(&in, END_LINE)) {
            if (more && !first) err = pfail(&in, in.s, PREP_ERR_PARSE, "syntax", "']}' after a ',': a point is missing");
            else if (in.end != text_end && in.end + 1 != text_end)
                err = pfail(&in, in.end, PREP_ERR_PARSE, "syntax", "text after the closing ']}'");
            break;
        }
        if (!more) {
            err = pfail(&in, in.s, PREP_ERR_PARSE, "syntax", "a point after the last one (the previous line has no ',')");
            break;
        }
        ppoint pt;
        if ((err = parse_point(&in, p->c, k, &pt, votes, &more))) break;
        if (s->n && (pt.seq <= s->v[s->n - 1].seq || pt.at < s->v[s->n - 1].at)) {
            err = pfail(&in, in.s, PREP_ERR_INVALID, "order", "points must go in increasing sequence and time");
            break;
        }
        if (s->n >= PREP_RENDER_PROGRESS_MAX_POINTS) {
            err = pfail(&in, in.s, PREP_ERR_LIMIT, "limit",
                        "more points than a series keeps (PREP_RENDER_PROGRESS_MAX_POINTS)");
            break;
        }
        series_push(s, k, &pt, votes);
        first = 0;
    }
    free(votes);
    return err;
}

/* ---------------------------------------------------------------- the chart */
#define CH_W 400
#define CH_X0 46   /* plot area: x in [CH_X0, CH_X0 + CH_PW], y in [CH_Y0, CH_Y0 + CH_PH] for 100 %..0 % */
#define CH_PW 344
#define CH_Y0 10
#define CH_PH 180
#define DRAW_MAX 36   /* points drawn (and listed in the table); the series file has them all */
#define LEAD_MAX 4    /* contenders drawn: those that led at some point, the latest leaders first */

/* The contender leading point pt (votes vo), or UINT32_MAX when none or a tie. */
static uint32_t leader(const ppoint *pt, const int64_t *vo, uint32_t k)
{
    if (!pt->cont) return UINT32_MAX;
    uint32_t best = UINT32_MAX;
    int64_t bv = 0;
    int tie = 0;
    for (uint32_t j = 0; j < k; j++) {
        if (vo[j] > bv) {
            bv = vo[j];
            best = j;
            tie = 0;
        } else if (vo[j] == bv && bv > 0) {
            tie = 1;
        }
    }
    return tie ? UINT32_MAX : best;
}

/* Which points are drawn: at most DRAW_MAX, evenly spread, the first and the last always. */
static size_t drawn(size_t n, size_t *idx)
{
    if (n <= DRAW_MAX) {
        for (size_t i = 0; i < n; i++) idx[i] = i;
        return n;
    }
    for (size_t i = 0; i < DRAW_MAX; i++) idx[i] = i * (n - 1) / (DRAW_MAX - 1);
    return DRAW_MAX;
}

/* The points where the figures changed: the first, and each whose counts or votes differ
 * from the point before it, into keep (v->n slots); returns their count. A cut that changed
 * nothing adds no point to the chart (the series file keeps every cut), so the election
 * page's body stays the same, and stays cached, until a figure changes. */
static size_t changed_points(const pview *v, size_t *keep)
{
    size_t n = 0;
    const ppoint *prev = NULL;
    const int64_t *pvo = NULL;
    for (size_t i = 0; i < v->n; i++) {
        const int64_t *vo = NULL;
        const ppoint *pt = view_at(v, i, &vo);
        if (!prev || pt->cont != prev->cont || pt->esp != prev->esp || pt->part != prev->part || pt->ln != prev->ln ||
            pt->total != prev->total || (v->k && memcmp(vo, pvo, v->k * sizeof *vo)))
            keep[n++] = i;
        prev = pt;
        pvo = vo;
    }
    return n;
}

static int ch_x(const pview *v, size_t i, size_t nd, const size_t *idx)
{
    const int64_t *vo = NULL;
    prep_time a0 = view_at(v, idx[0], &vo)->at, a1 = view_at(v, idx[nd - 1], &vo)->at;
    prep_time at = view_at(v, idx[i], &vo)->at;
    if (a1 <= a0) return nd > 1 ? CH_X0 + (int)(i * CH_PW / (nd - 1)) : CH_X0 + CH_PW;
    return CH_X0 + (int)((at - a0) * CH_PW / (a1 - a0));
}

static int ch_y(int64_t num, int64_t den)
{
    if (den <= 0 || num <= 0) return CH_Y0 + CH_PH;
    if (num > den) num = den;
    return CH_Y0 + CH_PH - (int)(num * CH_PH / den);
}

/* One line: what (0 actas, 1 participation, 2 contender j) over the drawn points. */
static void ch_line(rbuf *r, const pview *v, const size_t *idx, size_t nd, int what, uint32_t j, const char *attrs)
{
    rb_printf(r, "<polyline fill=\"none\" %s points=\"", attrs);
    int first = 1;
    for (size_t i = 0; i < nd; i++) {
        const int64_t *vo = NULL;
        const ppoint *pt = view_at(v, idx[i], &vo);
        /* a share of nothing is no point: participation and shares start at the first count */
        if ((what == 1 && !pt->ln) || (what == 2 && !pt->total)) continue;
        int y = what == 0 ? ch_y(pt->cont, pt->esp) : what == 1 ? ch_y(pt->part, pt->ln) : ch_y(vo[j], pt->total);
        rb_printf(r, first ? "%d,%d" : " %d,%d", ch_x(v, i, nd, idx), y);
        first = 0;
    }
    rb_puts(r, "\"/>");
}

/* "23:05" (or "06/06 23:05" when with_day) of t in the process's zone. */
static void hhmm(const prep_catalog *c, prep_time t, int with_day, char out[16])
{
    char iso[40];
    out[0] = 0;
    if (prep_time_format(t, c->timezone, PREP_TS_ISO, iso, sizeof iso) || strlen(iso) < 16) return;
    if (with_day) snprintf(out, 16, "%.2s/%.2s %.5s", iso + 8, iso + 5, iso + 11);
    else snprintf(out, 16, "%.5s", iso + 11);
}

static void ch_svg(rctx *x, rbuf *r, const prep_render_progress *p, uint32_t e, const pview *v, const size_t *idx, size_t nd,
                   const uint32_t *lead, size_t nl)
{
    unsigned id = ++x->chart_no;
    int h = CH_Y0 + CH_PH + 50 + 22 * (int)((nl + 1) / 2);
    rb_printf(r,
              "<figure class=\"avance\"><svg viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" "
              "aria-labelledby=\"g%ut g%ud\" font-family=\"sans-serif\" font-size=\"15\">"
              "<title id=\"g%ut\">Avance de la noche</title>"
              "<desc id=\"g%ud\">Gr\xC3\xA1""fica de l\xC3\xADneas por corte: actas contabilizadas, participaci\xC3\xB3n "
              "y porcentaje de votos de cada candidatura que ha encabezado; las cifras est\xC3\xA1n en la tabla "
              "siguiente.</desc><g stroke=\"#ccc\">",
              CH_W, h, id, id, id, id);
    for (int g = 0; g <= 4; g++)
        rb_printf(r, "<path d=\"M%d %dh%d\"/>", CH_X0, CH_Y0 + g * CH_PH / 4, CH_PW);
    rb_puts(r, "</g>");
    for (int g = 0; g <= 4; g++)
        rb_printf(r, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%d%%</text>", CH_X0 - 4, CH_Y0 + g * CH_PH / 4 + 4,
                  100 - 25 * g);
    char t0[16], t1[16];
    const int64_t *vo = NULL;
    hhmm(p->c, view_at(v, idx[0], &vo)->at, 0, t0);
    hhmm(p->c, view_at(v, idx[nd - 1], &vo)->at, 0, t1);
    int ya = CH_Y0 + CH_PH + 20;
    rb_printf(r, "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", CH_X0, ya,
              t0, CH_X0 + CH_PW, ya, t1);
    for (size_t i = 0; i < nl; i++) { /* a dark edge under each colour: light party colours stay visible */
        char a[64];
        snprintf(a, sizeof a, "stroke=\"%s\" stroke-width=\"3\"",
                 p->party[e][lead[i]] == PREP_CAT_NONE ? RENDER_INDEP_COLOR : p->c->parties[p->party[e][lead[i]]].color);
        rb_printf(r, "<g stroke-linejoin=\"round\">");
        ch_line(r, v, idx, nd, 2, lead[i], "stroke=\"#333\" stroke-width=\"5\"");
        ch_line(r, v, idx, nd, 2, lead[i], a);
        rb_puts(r, "</g>");
    }
    ch_line(r, v, idx, nd, 0, 0, "stroke=\"#0b4f9c\" stroke-width=\"3\"");
    ch_line(r, v, idx, nd, 1, 0, "stroke=\"#333\" stroke-width=\"2\" stroke-dasharray=\"6 4\"");
    /* legend */
    int yl = ya + 26;
    rb_printf(r, "<path d=\"M%d %dh24\" stroke=\"#0b4f9c\" stroke-width=\"3\"/><text x=\"%d\" y=\"%d\">Actas "
                 "contabilizadas</text><path d=\"M%d %dh24\" stroke=\"#333\" stroke-width=\"2\" "
                 "stroke-dasharray=\"6 4\"/><text x=\"%d\" y=\"%d\">Participaci\xC3\xB3n</text>",
              CH_X0, yl - 5, CH_X0 + 30, yl, CH_X0 + 196, yl - 5, CH_X0 + 226, yl);
    for (size_t i = 0; i < nl; i++) {
        int lx = CH_X0 + (int)(i % 2) * 196, ly = yl + 22 * (int)(i / 2 + 1);
        uint32_t pp = p->party[e][lead[i]];
        rb_printf(r,
                  "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"10\" fill=\"%s\" stroke=\"#333\"/>"
                  "<text x=\"%d\" y=\"%d\">",
                  lx, ly - 11, pp == PREP_CAT_NONE ? RENDER_INDEP_COLOR : p->c->parties[pp].color, lx + 30, ly);
        rb_esc(r, p->label[e][lead[i]]);
        rb_puts(r, "</text>");
    }
    rb_puts(r, "</svg></figure>");
}

static void ch_table(rctx *x, rbuf *r, const prep_render_progress *p, uint32_t e, const pview *v, const size_t *idx,
                     size_t nd, size_t nc, const uint32_t *lead, size_t nl)
{
    rb_printf(r, "<details><summary>Tabla de la gr\xC3\xA1""fica (%zu de %zu cortes con cifras nuevas)</summary><div class=\"avance-t\" "
                 "role=\"region\" aria-label=\"Tabla del avance por corte\" tabindex=\"0\"><table><caption>Avance "
                 "por corte</caption><thead><tr><th scope=\"col\">Corte</th><th scope=\"col\">Actas "
                 "contabilizadas</th><th scope=\"col\">Participaci\xC3\xB3n</th>",
              nd, nc);
    for (size_t i = 0; i < nl; i++) {
        rb_puts(r, "<th scope=\"col\">");
        rb_esc(r, p->label[e][lead[i]]);
        rb_puts(r, "</th>");
    }
    rb_puts(r, "</tr></thead><tbody>");
    for (size_t i = nd; i-- > 0;) { /* newest first */
        const int64_t *vo = NULL;
        const ppoint *pt = view_at(v, idx[i], &vo);
        char t[16], iso[40];
        hhmm(p->c, pt->at, 1, t);
        if (prep_time_format(pt->at, p->c->timezone, PREP_TS_ISO_OFF, iso, sizeof iso)) iso[0] = 0;
        /* data-l: the column's name, shown before each figure where phones stack the row */
        rb_printf(r, "<tr><th scope=\"row\">%llu<br/><time datetime=\"%s\">%s</time></th><td data-l=\"Actas\">",
                  (unsigned long long)pt->seq, iso, t);
        rb_pct(r, pt->cont, pt->esp, x->dec);
        rb_puts(r, "</td><td data-l=\"Participaci\xC3\xB3n\">");
        rb_pct(r, pt->part, pt->ln, x->dec);
        for (size_t j = 0; j < nl; j++) {
            rb_puts(r, "</td><td data-l=\"");
            rb_esc(r, p->label[e][lead[j]]);
            rb_puts(r, "\">");
            rb_pct(r, vo[lead[j]], pt->total, x->dec);
        }
        rb_puts(r, "</td></tr>");
    }
    rb_puts(r, "</tbody></table></div><p class=\"nota\">La serie completa, un punto por corte: <a href=\"");
    rb_up(r, 1);
    char path[128];
    prep_render_progress_path(p->c, e, path, sizeof path);
    rb_puts(r, path);
    rb_puts(r, "\">");
    rb_puts(r, path);
    rb_puts(r, "</a>.</p></details>");
}

void block_progress(rctx *x, rbuf *r, uint32_t e)
{
    const prep_render_progress *p = x->o->progress;
    if (!p || p->c != x->c) return;
    pview v;
    view_open(&v, p, x->t, e, x->cut);
    size_t *keep = prep_xcalloc(v.n, sizeof *keep);
    size_t nc = changed_points(&v, keep);
    size_t idx[DRAW_MAX];
    size_t nd = drawn(nc, idx);
    for (size_t i = 0; i < nd; i++) idx[i] = keep[idx[i]];
    free(keep);
    /* contenders that led at any point (of the whole series), the latest leader first */
    uint32_t lead[LEAD_MAX];
    size_t nl = 0;
    for (size_t i = v.n; i-- > 0 && nl < LEAD_MAX;) {
        const int64_t *vo = NULL;
        const ppoint *pt = view_at(&v, i, &vo);
        uint32_t l = leader(pt, vo, v.k);
        if (l == UINT32_MAX) continue;
        int seen = 0;
        for (size_t j = 0; j < nl; j++) seen |= lead[j] == l;
        if (!seen) lead[nl++] = l;
    }
    rb_puts(r, "<h2>Avance de la noche</h2><p class=\"nota\">Actas contabilizadas, participaci\xC3\xB3n y "
               "porcentaje de votos de quien ha encabezado, corte por corte.</p>");
    ch_svg(x, r, p, e, &v, idx, nd, lead, nl);
    ch_table(x, r, p, e, &v, idx, nd, nc, lead, nl);
    free(v.cur_votes);
}
