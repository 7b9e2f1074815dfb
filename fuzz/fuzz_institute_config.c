/* libFuzzer target: the institute daemon's JSON config (include/prep/institute.h).
 * Any bytes: parse, and on success the fields keep their documented ranges. */
#include <stdint.h>
#include <stdlib.h>

#include "prep/institute.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prep_institute_config c;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_institute_config_parse(data, size, "fuzz", &c, &d);
    if (e == PREP_OK) {
        if (!c.catalog || !c.actas || !c.key || !c.store) abort();
        if (c.parallel < 1 || c.parallel > 64 || c.retries < 0 || c.retries > 20 || c.backoff_ms < 10 ||
            c.max_cuts < 0)
            abort();
        if (c.clock_start && !(c.seconds_per_cut >= 0.5 && c.seconds_per_cut <= 3600)) abort();
        if (c.pull_listen && !c.registry) abort();
    } else if (d.n == 0) {
        abort(); /* a refusal always says why */
    }
    prep_institute_config_free(&c);
    prep_diags_free(&d);
    return 0;
}
