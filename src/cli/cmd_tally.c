/* prep tally: count actas into results; write the official database; check a real file.
 *
 * With --catalog: --actas is a directory of <election-id>.csv captures files (as written by
 * `prep sim actas`) or one file with --election; captures up to --at enter the cut.
 * Without --catalog: --actas is one real PREP results file; its catalogue is derived from
 * its rows, and the summary block recomputed from the rows is printed in the file's own
 * layout beside a comparison with the block the file states. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "prep/tally.h"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Prints the block: election name, cut line, names, values (sep-separated). */
static void print_block(FILE *f, const char *name, const char *cut_text, char sep, const char *const *names,
                        size_t n_names, char vals[13][32])
{
    fprintf(f, "%s\n%s\n", name, cut_text);
    for (size_t i = 0; i < 13; i++) fprintf(f, "%s%c", i < n_names ? names[i] : prep_summary_names[i], i == 12 ? '\n' : sep);
    for (size_t i = 0; i < 13; i++) fprintf(f, "%s%c", vals[i], i == 12 ? '\n' : sep);
}

static int tally_real_file(const char *path, const char *cand, int check)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err e = prep_actas_derive_catalog(path, cand, &c, &d);
    if (e) {
        prep_diags_print(&d, stderr, 30);
        fprintf(stderr, "prep tally: cannot derive a catalogue from %s: %s\n", path, prep_err_str(e));
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    prep_diags_free(&d);
    prep_diags_init(&d);
    prep_actas *s = NULL;
    e = prep_actas_load(path, c, 0, &s, &d);
    if (d.total) prep_diags_print(&d, stderr, 30);
    if (e) {
        fprintf(stderr, "prep tally: cannot read %s: %s\n", path, prep_err_str(e));
        prep_diags_free(&d);
        prep_catalog_free(c);
        return CLI_USAGE;
    }
    prep_tally *t = NULL;
    prep_tally_cursor cur = {0};
    int rc = CLI_OK;
    if ((e = prep_tally_new(c, &t)) || (e = prep_tally_cursor_init(&cur, s)) ||
        (e = prep_tally_apply_until(t, s, &cur, INT64_MAX, NULL))) {
        fprintf(stderr, "prep tally: %s\n", prep_err_str(e));
        rc = CLI_USAGE;
        goto out;
    }
    /* The final cut is the one after which no expected acta can still arrive: every
     * expected acta captured (docs/formats/actas.md, "Participation"). */
    prep_summary sum;
    prep_tally_summary(t, 0, 0, &sum);
    prep_tally_summary(t, 0, sum.capturadas == sum.esperadas, &sum);
    char vals[13][32];
    prep_summary_values(c, &sum, vals);
    const char *name = s->hdr.present && s->hdr.election_name ? s->hdr.election_name : c->elections[0].name;
    const char *cut = s->hdr.present && s->hdr.cut_text ? s->hdr.cut_text : "";
    print_block(stdout, name, cut, s->sep, (const char *const *)s->hdr.summary_names, s->hdr.n_summary, vals);
    if (s->rows_bad) fprintf(stderr, "prep tally: %zu of %zu rows were unreadable and left out\n", s->rows_bad, s->rows_read);
    if (s->hdr.present && s->hdr.n_summary == 13) {
        int diff = 0;
        for (int i = 0; i < 13; i++)
            if (strcmp(vals[i], s->hdr.summary_values[i])) {
                fprintf(stderr, "prep tally: %s: file says %s, rows give %s\n", s->hdr.summary_names[i],
                        s->hdr.summary_values[i], vals[i]);
                diff++;
            }
        if (!diff) fprintf(stderr, "prep tally: all 13 figures equal the file's own summary block\n");
        if (diff && check) rc = CLI_CHECK_FAILED;
    } else if (check) {
        fprintf(stderr, "prep tally: --check: the file has no summary block to compare with\n");
        rc = CLI_CHECK_FAILED;
    }
out:
    prep_tally_cursor_free(&cur);
    prep_tally_free(t);
    prep_actas_free(s);
    prep_catalog_free(c);
    prep_diags_free(&d);
    return rc;
}

int cmd_tally(int argc, char **argv)
{
    cli_opt opts[] = {
        {"actas", "PATH", "captures: a directory of <election-id>.csv, or one file (required)", NULL},
        {"catalog", "FILE", "the process catalogue; without it PATH is a real results file", NULL},
        {"candidaturas", "FILE", "without --catalog: the file's candidacy catalogue (names)", NULL},
        {"election", "ID", "with one file and --catalog: which election it holds", NULL},
        {"at", "TIME", "cut instant, local time of the process (default: everything)", NULL},
        {"final", NULL, "treat this cut as the final one (participation rule)", NULL},
        {"db-out", "DIR", "also write the official database of the cut (CSV per election + LEEME)", NULL},
        {"check", NULL, "without --catalog: exit 1 if a recomputed figure differs from the file", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help;
    char err[256];
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep tally: %s\n", err);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "tally", "--actas PATH [--catalog FILE] [--at TIME] [--db-out DIR] ...",
                  "Counts actas by the Anexo 13 rules and prints each election's summary block\n"
                  "(the header block of the official database). Without --catalog, PATH is a\n"
                  "published PREP results file: the block is recomputed from its rows and\n"
                  "compared with the one the file states.", opts);
        return CLI_OK;
    }
    const char *actas = cli_get(opts, "actas"), *catp = cli_get(opts, "catalog");
    if (!actas) {
        fprintf(stderr, "prep tally: --actas PATH is required\n");
        return CLI_USAGE;
    }
    if (!catp) return tally_real_file(actas, cli_get(opts, "candidaturas"), cli_get(opts, "check") != NULL);

    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err e = prep_catalog_load(catp, &c, &d);
    if (e) {
        prep_diags_print(&d, stderr, 50);
        fprintf(stderr, "prep tally: cannot load catalogue %s: %s\n", catp, prep_err_str(e));
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    prep_time at = INT64_MAX;
    const char *at_s = cli_get(opts, "at");
    if (at_s && prep_time_parse(at_s, c->timezone, &at)) {
        fprintf(stderr, "prep tally: --at '%s' is not a time (YYYY-MM-DD HH:MM[:SS])\n", at_s);
        prep_catalog_free(c);
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    const char *dbout = cli_get(opts, "db-out");
    const char *el_id = cli_get(opts, "election");
    int dir = is_dir(actas);
    if (!dir && !el_id) {
        fprintf(stderr, "prep tally: %s is a file: say which election it holds with --election ID\n", actas);
        prep_catalog_free(c);
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    prep_tally *t = NULL;
    int rc = CLI_OK;
    if ((e = prep_tally_new(c, &t))) goto fail;
    if (dbout && prep_mkdirs(dbout)) {
        fprintf(stderr, "prep tally: cannot create %s\n", dbout);
        rc = CLI_USAGE;
        goto done;
    }
    prep_time cut = at == INT64_MAX ? prep_time_now() : at;
    for (uint32_t el = 0; el < c->n_elections; el++) {
        if (el_id && strcmp(el_id, c->elections[el].id)) continue;
        char path[4096];
        if (dir) snprintf(path, sizeof path, "%s/%s.csv", actas, c->elections[el].id);
        else snprintf(path, sizeof path, "%s", actas);
        prep_actas *s = NULL;
        prep_diags_free(&d);
        prep_diags_init(&d);
        e = prep_actas_load(path, c, el, &s, &d);
        if (d.total) prep_diags_print(&d, stderr, 20);
        if (e) {
            fprintf(stderr, "prep tally: cannot read %s: %s\n", path, prep_err_str(e));
            rc = CLI_USAGE;
            continue;
        }
        prep_tally_cursor cur;
        size_t applied = 0;
        if (!(e = prep_tally_cursor_init(&cur, s))) {
            e = prep_tally_apply_until(t, s, &cur, at, &applied);
            prep_tally_cursor_free(&cur);
        }
        if (e) {
            prep_actas_free(s);
            goto fail;
        }
        prep_summary sum;
        prep_tally_summary(t, el, 0, &sum);
        int final = cli_get(opts, "final") || (at != INT64_MAX && at >= c->window_close) ||
                    sum.capturadas == sum.esperadas;
        prep_tally_summary(t, el, final, &sum);
        char vals[13][32], cut_text[64];
        prep_summary_values(c, &sum, vals);
        prep_time_format(cut, c->timezone, PREP_TS_HEADER, cut_text, sizeof cut_text);
        print_block(stdout, c->elections[el].name, cut_text, c->csv_sep, prep_summary_names, 13, vals);
        printf("\n");
        fprintf(stderr, "prep tally: %s: %zu captures applied, %zu unreadable rows\n", path, applied, s->rows_bad);
        if (dbout) {
            prep_buf b;
            prep_buf_init(&b, 0);
            e = prep_db_write_csv(t, el, cut, final, &b);
            snprintf(path, sizeof path, "%s/%s.csv", dbout, c->elections[el].id);
            if (!e) e = prep_write_file_atomic(path, b.data, b.len);
            prep_buf_free(&b);
            if (e) {
                prep_actas_free(s);
                goto fail;
            }
        }
        prep_actas_free(s);
    }
    if (dbout) {
        prep_buf b;
        prep_buf_init(&b, 0);
        char path[4096];
        snprintf(path, sizeof path, "%s/LEEME.txt", dbout);
        e = prep_db_write_leeme(c, &b);
        if (!e) e = prep_write_file_atomic(path, b.data, b.len);
        prep_buf_free(&b);
        if (e) goto fail;
        fprintf(stderr, "prep tally: database written to %s\n", dbout);
    }
    goto done;
fail:
    fprintf(stderr, "prep tally: %s\n", prep_err_str(e));
    rc = CLI_USAGE;
done:
    prep_tally_free(t);
    prep_catalog_free(c);
    prep_diags_free(&d);
    return rc;
}
