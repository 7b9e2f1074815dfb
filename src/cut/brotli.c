/* One-shot brotli with the encoder's large blocks kept per thread (include/prep/cut.h,
 * "brotli"). Every page is compressed again on every cut, by `prep export` and by each
 * `prep serve` that loads the cut, and an encoder at quality 5 allocates a hash table of
 * 1 MiB and more on each call. Where such blocks get a mapping of their own (prep serve
 * maps every block of 1 MiB or more: src/http/server.c), each call mapped, faulted in and
 * unmapped them again: in integ/serve_switch, page faults under the encoder were 30 % of
 * the server's CPU and the encoder 38 %. A thread now keeps the blocks its last calls
 * freed and hands them to the next call. */
#include "prep/cut.h"

#include <brotli/encode.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define BR_KEEP_MIN ((size_t)4 << 10) /* smaller blocks are malloc's business */
#define BR_KEEP_N 16                   /* blocks kept per thread */
#define BR_KEEP_BYTES ((size_t)8 << 20) /* and their bytes at most */

typedef union br_head {
    size_t size;
    max_align_t align;
} br_head;

typedef struct br_keep {
    br_head *blk[BR_KEEP_N];
    size_t n, bytes;
} br_keep;

static pthread_key_t br_key;
static pthread_once_t br_once = PTHREAD_ONCE_INIT;
static int br_key_ok;

static void br_keep_free(void *p)
{
    br_keep *k = p;
    if (!k) return;
    for (size_t i = 0; i < k->n; i++) free(k->blk[i]);
    free(k);
}

static void br_key_make(void) { br_key_ok = pthread_key_create(&br_key, br_keep_free) == 0; }

static br_keep *br_keep_get(void)
{
    pthread_once(&br_once, br_key_make);
    if (!br_key_ok) return NULL;
    br_keep *k = pthread_getspecific(br_key);
    if (!k && (k = calloc(1, sizeof *k)) != NULL && pthread_setspecific(br_key, k) != 0) {
        free(k);
        k = NULL;
    }
    return k;
}

/* The smallest kept block that holds size bytes without wasting half of it. */
static void *br_alloc(void *opaque, size_t size)
{
    br_keep *k = opaque;
    if (k && size >= BR_KEEP_MIN) {
        size_t best = k->n;
        for (size_t i = 0; i < k->n; i++)
            if (k->blk[i]->size >= size && k->blk[i]->size / 2 <= size &&
                (best == k->n || k->blk[i]->size < k->blk[best]->size))
                best = i;
        if (best < k->n) {
            br_head *h = k->blk[best];
            memmove(k->blk + best, k->blk + best + 1, (k->n - best - 1) * sizeof *k->blk);
            k->n--;
            k->bytes -= h->size;
            return h + 1;
        }
    }
    if (size > SIZE_MAX - sizeof(br_head)) return NULL;
    br_head *h = malloc(sizeof *h + size);
    if (!h) return NULL; /* brotli fails the call; the caller goes without the variant */
    h->size = size;
    return h + 1;
}

/* Kept in the order freed; a block that does not fit pushes out the oldest, so that
 * blocks kept from a large input (a 4 MB CSV's ring buffer) cannot fill the room and leave
 * every later call's hash table to be mapped again. */
static void br_free(void *opaque, void *p)
{
    if (!p) return;
    br_keep *k = opaque;
    br_head *h = (br_head *)p - 1;
    if (!k || h->size < BR_KEEP_MIN || h->size > BR_KEEP_BYTES) {
        free(h);
        return;
    }
    size_t drop = 0, bytes = k->bytes;
    while (drop < k->n && (k->n - drop >= BR_KEEP_N || bytes + h->size > BR_KEEP_BYTES)) bytes -= k->blk[drop++]->size;
    for (size_t i = 0; i < drop; i++) free(k->blk[i]);
    memmove(k->blk, k->blk + drop, (k->n - drop) * sizeof *k->blk);
    k->n -= drop;
    k->bytes = bytes + h->size;
    k->blk[k->n++] = h;
}

int prep_cut_brotli(int quality, int lgwin, const void *in, size_t n, void *out, size_t *outn)
{
    if (n == 0) { /* as BrotliEncoderCompress: the one-byte empty stream */
        if (*outn < 1) return -1;
        *(uint8_t *)out = 6;
        *outn = 1;
        return 0;
    }
    br_keep *k = br_keep_get();
    BrotliEncoderState *s = BrotliEncoderCreateInstance(br_alloc, br_free, k);
    if (!s) return -1;
    int ok = BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, (uint32_t)quality) &&
             BrotliEncoderSetParameter(s, BROTLI_PARAM_LGWIN, (uint32_t)lgwin) &&
             BrotliEncoderSetParameter(s, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT) &&
             BrotliEncoderSetParameter(s, BROTLI_PARAM_SIZE_HINT, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
    size_t avail_in = n, avail_out = *outn;
    const uint8_t *next_in = in;
    uint8_t *next_out = out;
    ok = ok && BrotliEncoderCompressStream(s, BROTLI_OPERATION_FINISH, &avail_in, &next_in, &avail_out, &next_out,
                                           NULL) &&
         BrotliEncoderIsFinished(s);
    BrotliEncoderDestroyInstance(s);
    if (!ok) return -1;
    *outn -= avail_out;
    return 0;
}
