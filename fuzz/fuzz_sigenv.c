/* libFuzzer target: the signify envelope parsers (signature, public key, secret key).
 * A signature that parses is written back and must parse to the same bytes; a secret
 * key that parses must give a public key consistent with its own signature. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prep/cut.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 4;
    prep_cut_sig s, s2;
    if (prep_cut_sig_parse(data, size, "fuzz", &s, &d) == PREP_OK) {
        prep_buf b;
        prep_buf_init(&b, 0);
        if (prep_cut_sig_format(&s, "again", &b) != PREP_OK) abort();
        if (prep_cut_sig_parse(b.data, b.len, "again", &s2, &d) != PREP_OK) abort();
        if (memcmp(&s, &s2, sizeof s) != 0) abort();
        prep_buf_free(&b);
    }
    prep_cut_pubkey pk;
    PREP_IGNORE(prep_cut_pubkey_parse(data, size, "fuzz", &pk, &d)); /* any outcome, no crash */
    prep_cut_seckey sk;
    if (prep_cut_seckey_parse(data, size, "fuzz", &sk, &d) == PREP_OK) {
        prep_cut_pubkey derived;
        prep_cut_seckey_public(&sk, &derived);
        if (prep_cut_sign(&sk, "m", 1, &s) != PREP_OK) abort();
        if (prep_cut_sig_verify(&derived, 1, &s, "m", 1, NULL, "fuzz", &d) != PREP_OK) abort();
        prep_cut_seckey_wipe(&sk);
    }
    prep_diags_free(&d);
    return 0;
}
