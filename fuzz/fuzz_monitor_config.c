/* libFuzzer target: the monitor's JSON config parser and its line:column locator. A config
 * that parses has every value in its documented range and unique, well-formed ids and
 * URLs; a refused one leaves the config empty; every diag's position lies inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/monitor/monitor_internal.h"
#include "prep/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 8;
    prep_monitor_config c;
    prep_err e = prep_monitor_config_parse(data, size, "fuzz", "/base", &c, &d);
    long lines = 1;
    for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
    for (size_t i = 0; i < d.n; i++)
        if (d.v[i].line < 0 || d.v[i].line > lines + 1 || d.v[i].col < 0 || (size_t)d.v[i].col > size + 2) abort();
    if (e == PREP_OK) {
        if (d.n) abort();
        if (c.sample < 2 || c.sample > PREP_MONITOR_SAMPLE_MAX || c.interval_seconds < 5 ||
            c.red_lag_seconds < c.amber_lag_seconds || c.parallel < 1 || c.parallel > 64 || c.history < 1)
            abort();
        if (!c.store[0] || !c.out[0] || c.n > PREP_MONITOR_TARGETS_MAX) abort();
        for (size_t i = 0; i < c.n; i++) {
            size_t ul = strlen(c.targets[i].url);
            if (!c.targets[i].id[0] || strncmp(c.targets[i].url, "https://", 8) || c.targets[i].url[ul - 1] != '/')
                abort();
            for (size_t j = 0; j < i; j++)
                if (!strcmp(c.targets[i].id, c.targets[j].id)) abort();
        }
    } else if (c.n || c.targets) {
        abort();
    }
    prep_monitor_config_free(&c);
    prep_diags_free(&d);
    return 0;
}
