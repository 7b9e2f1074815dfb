/* prep_cut_brotli (include/prep/cut.h, "brotli"): the encoder with its large blocks kept
 * per thread gives the same bytes as libbrotlienc's own one-shot BrotliEncoderCompress,
 * and libbrotlidec gives back the input, whatever the order and sizes of the calls before
 * it in the thread (a block kept from a large input serves a small one and the other way
 * round), in several threads at once, and with an output buffer too small (-1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <brotli/decode.h>
#include <brotli/encode.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/cut.h"

/* Text like a page of results: tags, names and numbers, pseudo-random from seed. */
static uint8_t *page_text(size_t n, unsigned seed)
{
    static const char *w[] = {"<tr><td>", "</td><td class=\"num\">", "Quer\xC3\xA9taro", "casilla ",
                              "secci\xC3\xB3n ", "votos", "</td></tr>\n", "PAN", "MORENA", "acta "};
    uint8_t *b = malloc(n + 1);
    assert_non_null(b);
    size_t at = 0;
    uint32_t x = seed * 2654435761u + 1;
    while (at < n) {
        x = x * 1103515245u + 12345u;
        char tok[48];
        int k = (x >> 16) % 3 ? snprintf(tok, sizeof tok, "%s", w[(x >> 8) % 10])
                               : snprintf(tok, sizeof tok, "%u", (x >> 4) % 100000);
        for (int i = 0; i < k && at < n; i++) b[at++] = (uint8_t)tok[i];
    }
    return b;
}

/* prep_cut_brotli's bytes equal BrotliEncoderCompress's, and they decode to in. */
static void check_one(const uint8_t *in, size_t n, int q)
{
    size_t cap = BrotliEncoderMaxCompressedSize(n);
    if (cap == 0) cap = 16; /* n == 0 */
    uint8_t *a = malloc(cap), *b = malloc(cap), *d = malloc(n + 1);
    assert_true(a && b && d);
    size_t an = cap, bn = cap, dn = n + 1;
    assert_int_equal(prep_cut_brotli(q, 22, in, n, a, &an), 0);
    assert_true(BrotliEncoderCompress(q, 22, BROTLI_MODE_TEXT, n, in, &bn, b));
    assert_int_equal(an, bn);
    assert_memory_equal(a, b, an);
    assert_int_equal(BrotliDecoderDecompress(an, a, &dn, d), BROTLI_DECODER_RESULT_SUCCESS);
    assert_int_equal(dn, n);
    if (n) assert_memory_equal(d, in, n);
    free(a);
    free(b);
    free(d);
}

static const size_t sizes[] = {0, 1, 3000, 70000, 300000, 2500000, 40, 1200000, 5000};

static void test_same_bytes_any_order(void **state)
{
    (void)state;
    /* twice over, so that every size follows blocks kept from every other */
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            uint8_t *in = page_text(sizes[i], (unsigned)(i + 10 * round));
            check_one(in, sizes[i], 5);
            check_one(in, sizes[i], 6);
            if (sizes[i] <= 5000) check_one(in, sizes[i], 11);
            free(in);
        }
}

static void test_too_small(void **state)
{
    (void)state;
    uint8_t *in = page_text(20000, 3);
    for (size_t i = 0; i < 20000; i++) in[i] = (uint8_t)(in[i] * 131u + i * 7u); /* little to gain */
    uint8_t out[64];
    size_t on = sizeof out;
    assert_int_equal(prep_cut_brotli(5, 22, in, 20000, out, &on), -1);
    free(in);
    check_one((const uint8_t *)"x", 1, 5); /* and the thread's next call is right */
}

static void *worker(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    for (int k = 0; k < 6; k++) {
        size_t n = sizes[(t + (unsigned)k) % (sizeof sizes / sizeof *sizes)];
        uint8_t *in = page_text(n, t * 100 + (unsigned)k);
        check_one(in, n, 5);
        free(in);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    for (uintptr_t i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes_any_order),
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
