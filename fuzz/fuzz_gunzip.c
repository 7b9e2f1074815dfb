/* libFuzzer target: the bounded inflate a broadcaster runs on every gzip'd object and
 * patch it is sent (prep_cut_gunzip; the receiver's file path is the same reader over a
 * file descriptor, src/cut/wire.c). The first input byte picks the output bound (0..255
 * times 97 bytes), the rest is the gzip file. Besides "no crash, no leak, no UB", checks
 * against zlib's own inflate of the same bytes, driven here without any of the reader's
 * code: the reader accepts exactly the inputs that are one whole gzip member with nothing
 * after it and that inflate to at most the bound, and then its bytes are zlib's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "prep/cut.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* zlib alone: 1 and *out (at most max + 1 bytes kept) when in is one member, nothing after. */
static int reference(const uint8_t *in, size_t n, size_t max, unsigned char **out, size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + 15) != Z_OK) abort();
    size_t cap = max + 1;
    *out = malloc(cap ? cap : 1);
    if (!*out) abort();
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    int r = inflate(&z, Z_FINISH);
    *outn = cap - z.avail_out;
    int ok = r == Z_STREAM_END && z.avail_in == 0 && *outn <= max;
    inflateEnd(&z);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t max = (size_t)data[0] * 97;
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    char *out = NULL;
    size_t outn = 0;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_gunzip(in, n, max, &out, &outn, "fuzz", &d);
    unsigned char *ref = NULL;
    size_t refn = 0;
    int ok = reference(in, n, max, &ref, &refn);
    if (e == PREP_OK) {
        if (!ok || outn != refn || outn > max || memcmp(out, ref, outn)) abort();
        if (d.n) abort(); /* success says nothing */
    } else {
        if (e != PREP_ERR_VERIFY || ok) abort(); /* refused only what zlib refuses too */
        if (!d.n || (strcmp(d.v[0].kind, "oversize") && strcmp(d.v[0].kind, "truncated") &&
                     strcmp(d.v[0].kind, "bad-gzip")))
            abort(); /* every refusal names one of its three kinds */
        if (out) abort();
    }
    free(out);
    free(ref);
    prep_diags_free(&d);
    return 0;
}
