/* prep serve: which deflate chunk makes each part of a page, and the chunks compressed with
 * the bytes before them (docs/internals/serve.md, "Chunks compressed with the bytes before
 * them").
 *
 * A page's gzip answer is its parts' raw deflate chunks joined into one gzip member. A
 * chunk compressed alone cannot refer back into the parts before it, and a national
 * section page is a head part and three election blocks of the same markup: joined alone,
 * its chunks were 59 % larger than the page gzipped whole. So a page's own parts, from the
 * second, are compressed with the page's bytes before them (up to the 32 KiB window) as
 * zlib's preset dictionary: the reader's inflater has those bytes as its history, because
 * the chunks are one deflate stream. Such a chunk is valid only after exactly those bytes,
 * so its entry in the part table is keyed by the part and by the SHA-256 of the hashes of
 * the parts before it.
 *
 * Parts many files share (the stamp, the same on every page and new every cut, and the
 * chrome after it) are compressed alone, once, and so is every part after such a part
 * (the bytes before it may change every cut): otherwise each cut would compress the stamp,
 * the tail, or a whole page after a stamp placed first, once per page. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "site_internal.h"

prep_err site_chunks_plan(prep_serve_version *v, site_file *f, site_part **fill, size_t *n_fill, size_t *n_made)
{
    f->chunk = v->file_parts + v->n_file_parts;
    v->n_file_parts += f->n_parts;
    f->dict = 0;
    f->dict_fill = 0;
    /* Only a page that gets a gzip member uses dictionaries: its identity is inflated
     * from the chunks in order (site_copy_chunks). */
    int chain = !v->opts.chunks_alone && f->compressible && f->size >= SITE_COMPRESS_MIN && f->size <= SITE_COMPRESS_MAX;
    char keys[PREP_CUT_PARTS_MAX * 64];
    for (size_t k = 0; k < f->n_parts; k++) {
        site_part *p = f->part[k];
        if (p->uses > SITE_DICT_SHARED) chain = 0;
        memcpy(keys + k * 64, p->sha256, 64);
        if (!chain || k == 0) {
            /* the part's own chunk, compressed alone */
            if (!p->alone) {
                p->alone = 1;
                if (!p->defl && !p->err) {
                    ++*n_made;
                    if (p->ready) fill[(*n_fill)++] = p; /* read by an earlier load */
                }
            }
            f->chunk[k] = p;
            continue;
        }
        char ctx[65];
        prep_sha256_hex(keys, k * 64, ctx);
        site_part *c = site_parts_chunk(v->tab, p->sha256, p->len, ctx);
        if (!c) return PREP_ERR_NOMEM; /* chunks listed so far are the version's to free */
        if (c->mark == v->tab->serial) {
            site_part_unref(c); /* listed already: the version holds one reference */
        } else {
            c->mark = v->tab->serial;
            v->parts[v->n_parts++] = c;
            if (!c->ready && !c->err) {
                ++*n_made;
                f->dict_fill |= (uint16_t)(1u << k); /* this file compresses it */
            }
        }
        f->chunk[k] = c;
        f->dict = 1;
    }
    return PREP_OK;
}

/* Marks the chunks from part `from` on that f must compress failed with err (part `from`
 * could not be read: the first of them is its own chunk, which names it). */
static void dict_fail(site_file *f, size_t from, int err)
{
    for (size_t k = from; k < f->n_parts; k++)
        if (f->dict_fill & (1u << k)) f->chunk[k]->err = err;
}

void site_chunks_fill_dict(site_file *f, const char *store, void *zs, site_scratch *sc, site_scratch *fb)
{
    size_t last = 0;
    uint64_t total = 0;
    for (size_t k = 0; k < f->n_parts; k++)
        if (f->dict_fill & (1u << k)) last = k;
    for (size_t k = 0; k <= last; k++) total += f->part[k]->len;
    uint8_t *buf = site_scratch_get(fb, total);
    if (!buf) {
        dict_fail(f, 0, PART_NOMEM);
        return;
    }
    uint64_t off = 0;
    for (size_t k = 0; k <= last; k++) {
        const site_part *p = f->part[k];
        const uint8_t *b = NULL;
        int r = p->err ? p->err : !p->ready ? PART_MISSING : PART_OK;
        if (r == PART_OK) r = site_part_bytes(p, store, sc, &b);
        if (r == PART_OK && !p->data) { /* read again from the store: check it */
            char got[65];
            prep_sha256_hex(b, (size_t)p->len, got);
            if (strcmp(got, p->sha256) != 0) r = PART_HASH;
        }
        if (r != PART_OK) {
            dict_fail(f, k, r);
            return;
        }
        memcpy(buf + off, b, (size_t)p->len);
        site_part *c = f->chunk[k];
        if ((f->dict_fill & (1u << k)) && !c->ready && !c->err) {
            if (site_chunk_deflate(c, zs, buf, (size_t)off, buf + off, p->len) != 0) {
                c->err = PART_NOMEM;
            } else {
                c->crc = p->crc;
                c->ready = 1;
            }
        }
        off += p->len;
    }
}

int site_copy_chunks(const site_file *f, uint64_t off, uint64_t len, uint8_t *dst)
{
    /* The chunks are one deflate stream: inflate from the page's start up to the end of
     * the range, into dst when the range starts at 0, else into a buffer whose tail is
     * kept. */
    uint64_t want = off + len;
    uint8_t *out = off ? malloc((size_t)want + 1) : dst;
    if (!out) return -1;
    z_stream z;
    memset(&z, 0, sizeof z);
    int rc = inflateInit2(&z, -15) == Z_OK ? 0 : -1;
    int zinit = rc == 0;
    z.next_out = out;
    z.avail_out = (uInt)want;
    for (size_t i = 0; i < f->n_parts && rc == 0 && z.avail_out > 0; i++) {
        const site_part *c = f->chunk[i];
        if (!c->defl) {
            rc = -1;
            break;
        }
        z.next_in = c->defl;
        z.avail_in = c->defl_len;
        int r = inflate(&z, Z_SYNC_FLUSH);
        if (r != Z_OK && r != Z_BUF_ERROR) rc = -1;
    }
    if (rc == 0 && z.total_out != want) rc = -1;
    if (zinit) inflateEnd(&z);
    if (off) {
        if (rc == 0) memcpy(dst, out + off, (size_t)len);
        free(out);
    }
    return rc;
}
