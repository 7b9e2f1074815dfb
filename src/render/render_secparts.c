/* render: a national section page (seccion/EE/NNNN/index.html) and its datos.json, one
 * part per election.
 *
 * Such a page holds every election of the section (presidencia, senadurías, diputaciones).
 * As one body part, a capture of any one acta of the section re-sent the whole body: in the
 * busiest national cut, 10,840 captures re-sent 168.7 MB of section pages and 76.2 MB of
 * their datos.json. Split, the page is
 *   pre, nav, crumbs, heading + election 1 | election 2 | ... | election n + "</main>", post | stamp
 * and its datos.json
 *   unit + '"elecciones":[' + election 1 | ,election 2 | ... | ,election n + "]," | head (per cut)
 * so a capture changes only its election's part (and the stamp, shared by every page). The
 * assembled bytes are those of the unsplit page: the separators are inside the parts. The
 * page's fixed start (pre and the heading, ~1,650 bytes) and the JSON's unit (~180) ride
 * with the first election, its footer (post, ~360) with the last, rather than in parts of
 * their own: a part costs a manifest field (~70 bytes) in every cut, an object and a store
 * check each, and 71,049 pages have them (measured: with them apart, 12 parts per section,
 * the busiest cut's sign + store took ~1.4x as long; with pre and post apart, 6 parts, its
 * manifest was 69.1 MB against 59.2 and its sign + store ~0.08 CPU s more, for ~1.4 MB less
 * on the wire: pre rides again with every presidencia capture).
 *
 * The parts are not kept in the render cache (71,049 pages, ~1.9 GB at the busiest point,
 * thin_page in render_site.c): the last site (passed back by the caller) holds them, or,
 * once the cutter has shed them (render_shed.c), their hashes. A part whose election the
 * tally did not mark dirty in the section is taken from the last site's page (copied, or
 * named by hash when the store holds it); only the dirty elections' parts are rendered. Without a usable last page
 * (first render, a caller that does not pass it back, another layout) every part is. */
#include <stdlib.h>
#include <string.h>

#include "render_internal.h"

size_t sec_split(const rsite *s, const rpage *p)
{
    uint32_t ne = s->c->n_elections;
    if (!s->c->national || p->kind != PG_SECALL || ne == 0) return 0;
    /* the page's parts (one per election, the stamp) within the cut's limit; the datos.json
     * has as many */
    return page_parts(ne, 1, 0) <= PREP_RENDER_PARTS_MAX ? ne : 0;
}

void sec_mark(const rsite *s, const prep_tally *t, int all, uint8_t *sec_need)
{
    const prep_catalog *c = s->c;
    size_t ne = c->n_elections;
    if (all) {
        memset(sec_need, 1, (size_t)c->n_sections * ne);
        return;
    }
    for (uint32_t e = 0; e < ne; e++) {
        const uint32_t *idx;
        size_t k = prep_tally_dirty_list(t, e, PREP_TALLY_SECTION, &idx);
        for (size_t i = 0; i < k; i++) sec_need[(size_t)idx[i] * ne + e] = 1;
    }
}

/* The last site's file at path if it has n_parts parts (borrowed), else NULL. */
static const prep_site_file *old_file(prep_site *old, const char *path, size_t n_parts)
{
    if (!old->n || !path) return NULL;
    const prep_site_file *f = site_find_near(old, path);
    return f && f->data && f->n_parts == n_parts ? f : NULL;
}

/* The parts of a new file taken from the last one: copied, or named by hash when the
 * store holds them (render_shed.c). */
typedef struct sec_taken {
    uint32_t same;   /* parts taken from the last file */
    uint32_t stored; /* of them, held by the store only */
    unsigned char sha[PREP_RENDER_PARTS_MAX][32]; /* the stored ones', in part order */
    size_t n_sha;
} sec_taken;

/* Ends part k in r: its length is what r grew by since *mark. */
static void part_end(const rbuf *r, size_t *mark, size_t *part, size_t k)
{
    part[k] = r->b.len - *mark;
    *mark = r->b.len;
}

/* Part k of the last file f into the new one: its hash when the store holds it, else its
 * bytes into r. */
static void old_take(const prep_site_file *f, size_t k, rbuf *r, size_t *mark, size_t *part, sec_taken *tk)
{
    tk->same |= 1u << k;
    if ((f->stored >> k) & 1u) {
        memcpy(tk->sha[tk->n_sha++], f->stored_sha[site_stored_rank(f->stored, k)], 32);
        tk->stored |= 1u << k;
        part[k] = f->part_len[k];
        return;
    }
    rb_put(r, (const char *)f->data + site_data_off(f, k), f->part_len[k]);
    part_end(r, mark, part, k);
}

/* Adds r's bytes to out as path (taken), a composed file of n parts (those of tk->stored
 * by hash only); the last site's copy is freed first. */
static prep_err sec_add(const prep_render_opts *o, prep_site *old, prep_site *out, char *path, const char *mt,
                        int is_page, int fresh, rbuf *r, const size_t *part, size_t n, const sec_taken *tk,
                        size_t prefix)
{
    unsigned char(*ssha)[32] = NULL;
    if (!r->err && tk->n_sha && !(ssha = malloc(tk->n_sha * sizeof *ssha))) r->err = PREP_ERR_NOMEM;
    if (r->err) {
        free(path);
        return r->err;
    }
    if (tk->n_sha) memcpy(ssha, tk->sha, tk->n_sha * sizeof *ssha);
    old_drop(old, path);
    size_t len, whole = 0;
    char *data = prep_buf_steal(&r->b, &len);
    /* the buffer grew by doubling: give the tail back (71,049 pages and as many datos.json
     * stay in the site until the next cut) */
    char *fit = realloc(data, len + 1);
    if (fit) data = fit;
    for (size_t k = 0; k < n; k++) whole += part[k];
    prep_err err = site_add(out, path, data, whole, mt, is_page, fresh);
    if (err) {
        free(ssha);
        return err;
    }
    prep_site_file *f = &out->v[out->n - 1];
    f->n_parts = (uint8_t)n;
    memcpy(f->part_len, part, n * sizeof *part);
    f->same_parts = tk->same; /* the parts taken from the last site's file */
    f->hash_prefix = (uint8_t)prefix;
    f->stored = tk->stored;
    f->stored_sha = ssha;
    f->sheddable = (1u << prefix) - 1u; /* the parts before the per-cut one */
    if (o->shed) site_file_shed(f, f->sheddable, o->shed, o->shed_ctx, NULL); /* as made (a restart) */
    return PREP_OK;
}

prep_err sec_page_emit(rctx *x, const void *ci, sec_frame_fn frame, const rpage *p, const void *stamp, size_t slen,
                       int fresh, prep_site *old, prep_site *out, rbuf *r)
{
    size_t ne = sec_split(x->s, p), np = page_parts(ne, 1, 0), stamp_at = page_part_stamp(ne, 1, 0);
    const uint8_t *need = x->sec_need + (size_t)p->idx * ne;
    char *path = rpath(p->dir, "index.html", "");
    if (!path) return PREP_ERR_NOMEM;
    const prep_site_file *of = old_file(old, path, np);
    size_t part[PREP_RENDER_PARTS_MAX], mark = 0, total = slen + 4096;
    if (of) total += of->len; /* the whole file: its new parts are about its old ones' size */
    rb_reset(r);
    if (!r->err) r->err = prep_buf_reserve(&r->b, total); /* one allocation when the last page is at hand */
    x->chart_no = 0;
    sec_taken tk = {0};
    for (size_t k = 0; k < np; k++) {
        if (k == stamp_at) {
            rb_put(r, stamp, slen);
        } else if (of && !need[k]) { /* election k unchanged: the last page's part */
            old_take(of, k, r, &mark, part, &tk);
            continue;
        } else {
            if (k == 0) {
                frame(x, ci, p, SEC_FRAME_PRE, r);
                frame(x, ci, p, SEC_FRAME_NAV, r); /* the body's start, as on every page */
                secall_head(x, p, r);
            }
            secall_election(x, p, (uint32_t)k, r);
            if (k + 1 == ne) {
                rb_puts(r, "</main>"); /* the body's end, as on every page */
                frame(x, ci, p, SEC_FRAME_POST, r);
            }
        }
        part_end(r, &mark, part, k);
    }
    return sec_add(x->o, old, out, path, "text/html; charset=utf-8", 1, fresh, r, part, np, &tk, stamp_at);
}

prep_err sec_json_emit(rctx *x, const rpage *p, const void *head, size_t hlen, prep_site *old, prep_site *out,
                       rbuf *r)
{
    size_t ne = sec_split(x->s, p), np = JSON_PARTS(ne);
    const uint8_t *need = x->sec_need + (size_t)p->idx * ne;
    int clean = 1;
    for (size_t e = 0; e < ne; e++) clean &= !need[e];
    prep_err err = PREP_OK;
    /* nothing changed and the head kept its length: the last buffer, the new head in place */
    if (clean) {
        int ru = reuse_file(old, out, p->dir, "datos.json", "", "application/json", 0, (uint8_t)np,
                            JSON_PART_HEAD(ne), head, hlen, JSON_PART_HEAD(ne), hlen, &err);
        if (ru) return ru < 0 ? err : PREP_OK;
    }
    char *path = rpath(p->dir, "datos.json", "");
    if (!path) return PREP_ERR_NOMEM;
    const prep_site_file *of = old_file(old, path, np);
    size_t part[PREP_RENDER_PARTS_MAX], mark = 0, total = hlen + 1024;
    if (of) total += of->len; /* the whole file: its new parts are about its old ones' size */
    rb_reset(r);
    if (!r->err) r->err = prep_buf_reserve(&r->b, total);
    sec_taken tk = {0};
    for (size_t k = 0; k < np; k++) {
        long e = k < (size_t)JSON_PART_BODY + ne ? (long)(k - JSON_PART_BODY) : -1;
        if (k == JSON_PART_HEAD(ne)) {
            rb_put(r, head, hlen);
        } else if (of && (e < 0 || !need[e])) {
            old_take(of, k, r, &mark, part, &tk);
            continue;
        } else {
            if (e == 0) od_secall_unit(x, p, r);
            od_secall_election(x, p, (uint32_t)e, r);
        }
        part_end(r, &mark, part, k);
    }
    return sec_add(x->o, old, out, path, "application/json", 0, 0, r, part, np, &tk, JSON_PART_HEAD(ne));
}
