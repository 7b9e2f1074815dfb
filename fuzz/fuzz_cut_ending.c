/* libFuzzer target: how a complete file of a kind ends (src/cut/ending.c), what prep cut
 * --from refuses as a file cut short. The first byte picks the kind and a chunk size, the
 * rest is the file: the verdict must not depend on how the file is read in chunks (as the
 * cutter reads it, 64 KiB at a time, or one byte at a time), and the tail gathered must be
 * the file's last bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cut/cut_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verdict(const char *path, const uint8_t *p, size_t n, size_t chunk, unsigned char tail[CUT_END_TAIL],
                   size_t *tn)
{
    cut_end_json j = {0};
    *tn = 0;
    for (size_t at = 0; at < n; at += chunk) {
        size_t len = n - at < chunk ? n - at : chunk;
        cut_end_push(tail, tn, p + at, len);
        cut_end_json_feed(&j, p + at, len);
    }
    cut_end_kind k = cut_end_kind_of(path);
    return cut_end_ok(k, tail, *tn) && (k != CUT_END_JSON || cut_end_json_closed(&j));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *paths[] = {"a/index.html", "m.svg", "datos.json", "gub.csv", "logo.png",
                                  "f.jpg",        "acta.pdf", "d.zip",    "x.gz",    "LEEME"};
    if (!size) return 0;
    const char *path = paths[data[0] % 10];
    size_t chunk = (size_t)(data[0] / 10) + 1;
    data++, size--;
    unsigned char t1[CUT_END_TAIL], t2[CUT_END_TAIL];
    size_t n1, n2;
    int a = verdict(path, data, size, 65536, t1, &n1), b = verdict(path, data, size, chunk, t2, &n2);
    size_t want = size < CUT_END_TAIL ? size : CUT_END_TAIL;
    if (a != b || n1 != want || n2 != want) abort();
    if (want && (memcmp(t1, data + size - want, want) || memcmp(t2, t1, want))) abort();
    return 0;
}
