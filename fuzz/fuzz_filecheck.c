/* libFuzzer target: checking a published results file (prep_actas_check) on arbitrary
 * bytes, with the audit on. It must never crash, hang or leak; a refusal always comes
 * with a diag; on success every row is counted once (read or unreadable), every
 * computed figure is written, the counts are consistent with each other, and an
 * unreadable row is never a pass. Seeds: fuzz/corpus/filecheck/ (one file of each
 * layout family, and the real files' shapes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prep/actas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_filecheck_report r;
    prep_filecheck_opts o = {.audit = 1};
    prep_err e = prep_actas_check("fuzz.csv", (const char *)data, size, &o, &r, &d);
    if (e) {
        if (!d.total) abort(); /* a refusal names what is wrong */
    } else {
        if (r.rows_bad > r.rows || r.rows_arrived > r.rows - r.rows_bad) abort();
        if (r.rows_bad && d.total == 0) abort();
        if (r.rows_bad && prep_actas_filecheck_report_ok(&r)) abort();
        if (r.n_equal > r.n_stated || r.n_stated > 13) abort();
        for (int i = 0; i < 13; i++) {
            if (!r.fig[i].computed[0] || !r.fig[i].name) abort();
            if (r.fig[i].equal && !r.fig[i].has_stated) abort();
        }
        /* esperadas + fuera = rows of actas, capturadas <= esperadas */
        long long esp = atoll(r.fig[0].computed), fuera = atoll(r.fig[2].computed), cap = atoll(r.fig[3].computed),
                  cont = atoll(r.fig[5].computed), reg = atoll(r.fig[1].computed);
        if (cap > esp || cont > cap || reg != cap + fuera) abort();
        for (size_t i = 0; i < r.n_audit; i++)
            if (!r.audit[i].line || !r.audit[i].kind[0]) abort();
    }
    prep_actas_filecheck_report_free(&r);
    prep_diags_free(&d);
    return 0;
}
