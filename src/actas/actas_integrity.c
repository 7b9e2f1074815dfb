/* prep actas: input integrity at the institute. Conflicting captures of one acta, and the
 * header block of a published database read on its own (the previous cut's figures, which
 * the next cut must not go below). docs/formats/actas.md, "Integrity". */
#include "actas_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int same_acta_cmp(const prep_acta *a, const prep_acta *b)
{
    if (a->casilla != b->casilla) return a->casilla < b->casilla ? -1 : 1;
    if (a->rp != b->rp) return a->rp < b->rp ? -1 : 1; /* a special casilla's MR and RP actas */
    if (a->casilla == PREP_CAT_NONE) {
        int c = strcmp(a->clave_acta, b->clave_acta);
        if (c) return c;
    }
    return 0;
}

static int cmp_idx(const void *pa, const void *pb, void *ctx)
{
    const prep_actas *s = ctx;
    const prep_acta *a = &s->v[*(const uint32_t *)pa], *b = &s->v[*(const uint32_t *)pb];
    int c = same_acta_cmp(a, b);
    if (c) return c;
    prep_time ta = prep_actas_instant(a), tb = prep_actas_instant(b);
    if (ta != tb) return ta < tb ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

/* The first difference between two captures, or NULL when they say the same. */
static const char *differs(const prep_actas *s, const prep_acta *a, const prep_acta *b, char *buf, size_t n)
{
    const prep_cat_election *el = &s->cat->elections[s->election];
    const int32_t *va = prep_acta_votes(s, a), *vb = prep_acta_votes(s, b);
    for (uint32_t j = 0; j < el->n_cols; j++)
        if (va[j] != vb[j]) {
            char ta[16], tb[16];
            prep_actas_vote_text(va[j], ta);
            prep_actas_vote_text(vb[j], tb);
            snprintf(buf, n, "%s is %s in one and %s in the other", el->cols[j].name, ta, tb);
            return buf;
        }
    static const struct {
        const char *name;
        size_t off;
    } f32[] = {
        {"TOTAL_BOLETAS_SOBRANTES", offsetof(prep_acta, boletas_sobrantes)},
        {"TOTAL_PERSONAS_VOTARON", offsetof(prep_acta, personas_votaron)},
        {"TOTAL_REP_PARTIDO_CI_VOTARON", offsetof(prep_acta, rep_votaron)},
        {"TOTAL_VOTOS_SACADOS", offsetof(prep_acta, votos_sacados)},
        {"TOTAL_VOTOS_ASENTADO", offsetof(prep_acta, total_asentado)},
    };
    for (size_t k = 0; k < PREP_ARRAY_LEN(f32); k++) {
        int32_t x, y;
        memcpy(&x, (const char *)a + f32[k].off, sizeof x);
        memcpy(&y, (const char *)b + f32[k].off, sizeof y);
        if (x != y) {
            snprintf(buf, n, "%s is %d in one and %d in the other", f32[k].name, (int)x, (int)y);
            return buf;
        }
    }
    if (a->no_acta != b->no_acta) {
        snprintf(buf, n, "OBSERVACIONES says sin acta in one and not in the other");
        return buf;
    }
    if (strcmp(a->sha, b->sha)) {
        snprintf(buf, n, "SHA (the acta's image) differs");
        return buf;
    }
    return NULL;
}

/* A field added to prep_acta must be compared below (line and votes_off stay aside). */
_Static_assert(sizeof(prep_acta) == 296, "prep_acta changed: compare the new field in prep_actas_capture_same");

int prep_actas_capture_same(const prep_actas *sa, const prep_acta *a, const prep_actas *sb, const prep_acta *b)
{
    if (sa->cat != sb->cat || sa->election != sb->election) return 0;
    const int32_t *va = prep_acta_votes(sa, a), *vb = prep_acta_votes(sb, b);
    uint32_t n_cols = sa->cat->elections[sa->election].n_cols;
    if (n_cols && memcmp(va, vb, n_cols * sizeof *va)) return 0;
    return a->casilla == b->casilla && a->section_id == b->section_id && a->district_id == b->district_id &&
           a->municipality_id == b->municipality_id && a->tipo_casilla == b->tipo_casilla &&
           a->id_casilla == b->id_casilla && a->ext_contigua == b->ext_contigua && a->urban == b->urban &&
           a->boletas_sobrantes == b->boletas_sobrantes && a->personas_votaron == b->personas_votaron &&
           a->rep_votaron == b->rep_votaron && a->votos_sacados == b->votos_sacados &&
           a->total_asentado == b->total_asentado && a->total_calculado == b->total_calculado &&
           a->lista_nominal == b->lista_nominal && a->representatives == b->representatives && a->rp == b->rp &&
           a->no_acta == b->no_acta && a->status == b->status && a->contabilizada == b->contabilizada &&
           a->obs_stated == b->obs_stated && a->tipo_marked == b->tipo_marked && a->cotejada == b->cotejada &&
           a->acopio == b->acopio && a->captura == b->captura && a->verificacion == b->verificacion &&
           !strcmp(a->clave_casilla, b->clave_casilla) && !strcmp(a->clave_acta, b->clave_acta) &&
           !strcmp(a->mecanismo, b->mecanismo) && !strcmp(a->sha, b->sha) && !strcmp(a->origen, b->origen) &&
           !strcmp(a->digitalizacion, b->digitalizacion) && !strcmp(a->tipo_documento, b->tipo_documento);
}

size_t prep_actas_conflicts(const prep_actas *s, const char *name, prep_diags *d)
{
    if (!s || s->n < 2) return 0;
    uint32_t *ix = prep_xcalloc(s->n, sizeof *ix);
    for (size_t i = 0; i < s->n; i++) ix[i] = (uint32_t)i;
    qsort_r(ix, s->n, sizeof *ix, cmp_idx, (void *)s);
    size_t n = 0;
    for (size_t i = 1; i < s->n; i++) {
        const prep_acta *a = &s->v[ix[i - 1]], *b = &s->v[ix[i]];
        if (same_acta_cmp(a, b) || prep_actas_instant(a) != prep_actas_instant(b)) continue;
        char why[160];
        if (!differs(s, a, b, why, sizeof why)) continue; /* the same capture twice: harmless */
        const char *key = a->clave_acta[0] ? a->clave_acta : a->clave_casilla;
        prep_diags_add(d, name, (long)b->line, 1, "conflicting-duplicate",
                       "acta %s is captured twice at the same instant with different content (lines %u and %u: "
                       "%s): which one counts is not knowable",
                       key, (unsigned)a->line, (unsigned)b->line, why);
        n++;
    }
    free(ix);
    return n;
}

prep_err prep_actas_read_header(const char *name, const char *data, size_t len, prep_actas_header *out,
                                prep_diags *d)
{
    memset(out, 0, sizeof *out);
    out->cut = PREP_TIME_NONE;
    char *text = NULL;
    actas_lines it;
    actas_layout lay;
    prep_err e = actas_begin(name, data, len, NULL, &text, &it, &lay, NULL, d);
    if (e) return e;
    *out = lay.hdr;
    memset(&lay.hdr, 0, sizeof lay.hdr);
    actas_layout_free(&lay);
    free(text);
    return PREP_OK;
}

void prep_actas_header_free(prep_actas_header *h)
{
    if (h) actas_header_free(h);
}
