/* The gzip representation of a composed file, made of its parts (include/prep/cut.h,
 * "gzip of composed files"): used by `prep export` for the .gz twins of pages and by
 * `prep serve` for the gzip responses, so the two cannot drift apart. */
#include "prep/cut.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void *prep_cut_gz_deflater_new(void)
{
    z_stream *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    /* windowBits -15: raw deflate (no zlib or gzip wrapper) with the window gzip uses. */
    if (deflateInit2(z, PREP_CUT_GZ_LEVEL, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(z);
        return NULL;
    }
    return z;
}

void prep_cut_gz_deflater_free(void *zs)
{
    if (!zs) return;
    deflateEnd(zs);
    free(zs);
}

int prep_cut_gz_chunk(void *zs, const void *in, size_t n, unsigned char **out, size_t *outn)
{
    return prep_cut_gz_chunk_dict(zs, NULL, 0, in, n, out, outn);
}

int prep_cut_gz_chunk_dict(void *zs, const void *dict, size_t dict_len, const void *in, size_t n,
                           unsigned char **out, size_t *outn)
{
    *out = NULL;
    *outn = 0;
    void *own = zs ? NULL : prep_cut_gz_deflater_new();
    z_stream *z = zs ? zs : own;
    if (!z || (zs && deflateReset(z) != Z_OK)) return -1;
    /* The window is 32 KiB: zlib would use only the dictionary's last 32 KiB anyway. */
    if (dict_len > 32768) {
        dict = (const unsigned char *)dict + (dict_len - 32768);
        dict_len = 32768;
    }
    if (dict_len && deflateSetDictionary(z, dict, (uInt)dict_len) != Z_OK) {
        prep_cut_gz_deflater_free(own);
        return -1;
    }
    /* deflateBound covers Z_FINISH; a sync flush adds at most an empty stored block. */
    size_t cap = deflateBound(z, (uLong)n) + 16;
    unsigned char *b = malloc(cap);
    int ok = 0;
    if (b) {
        z->next_in = (Bytef *)in;
        z->avail_in = (uInt)n;
        z->next_out = b;
        z->avail_out = (uInt)cap;
        ok = deflate(z, Z_SYNC_FLUSH) == Z_OK && z->avail_in == 0 && z->avail_out > 0;
    }
    size_t len = cap - (b ? z->avail_out : cap);
    prep_cut_gz_deflater_free(own);
    if (!ok) {
        free(b);
        return -1;
    }
    unsigned char *s = realloc(b, len ? len : 1);
    *out = s ? s : b;
    *outn = len;
    return 0;
}

static void put_le32(unsigned char *d, uint32_t x)
{
    for (int i = 0; i < 4; i++) d[i] = (unsigned char)(x >> (8 * i));
}

size_t prep_cut_gz_member(unsigned char *dst, const unsigned char *const *chunk, const size_t *chunk_len,
                          const uint32_t *crc, const uint64_t *raw_len, size_t n, uint64_t size)
{
    /* The header zlib writes for windowBits 31 at level 6: no mtime, XFL 0, OS 3 (unix). */
    static const unsigned char head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    size_t at = 0;
    memcpy(dst, head, sizeof head);
    at += sizeof head;
    uLong c = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(dst + at, chunk[i], chunk_len[i]);
        at += chunk_len[i];
        c = i == 0 ? crc[0] : crc32_combine(c, crc[i], (z_off_t)raw_len[i]);
    }
    /* A final fixed-Huffman block with no data: BFINAL 1, BTYPE 01, end-of-block code. */
    dst[at++] = 0x03;
    dst[at++] = 0x00;
    put_le32(dst + at, (uint32_t)c);
    put_le32(dst + at + 4, (uint32_t)(size & 0xffffffffu));
    return at + 8;
}
