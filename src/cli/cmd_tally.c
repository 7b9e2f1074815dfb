/* prep tally: count actas into results; write the official database; check a real file.
 *
 * With --catalog: --actas is a directory of <election-id>.csv captures files (as written by
 * `prep sim actas`) or one file with --election; captures up to --at enter the cut.
 * Without --catalog: --actas is one real PREP results file; its catalogue is derived from
 * its rows, and the summary block recomputed from the rows is printed in the file's own
 * layout beside a comparison with the block the file states. */
#include "cli.h"
#include "tally_units.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "prep/tally.h"

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Prints the block: election name, cut line, names, values (sep-separated). The file's
 * own names in its own order, each with the value the rows give for it (empty for a name
 * that is no figure); the canonical thirteen when the file has none. */
static void print_block(FILE *f, const char *name, const char *cut_text, char sep, const char *const *names,
                        size_t n_names, char vals[13][32])
{
    fprintf(f, "%s\n%s\n", name, cut_text);
    size_t n = n_names ? n_names : 13;
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%c", n_names ? names[i] : prep_actas_summary_names[i], i + 1 == n ? '\n' : sep);
    for (size_t i = 0; i < n; i++) {
        int k = n_names ? prep_actas_summary_index(names[i]) : (int)i;
        fprintf(f, "%s%c", k >= 0 ? vals[k] : "", i + 1 == n ? '\n' : sep);
    }
}

/* The name the file's block gives figure i (its own spelling), or the canonical one. */
static const char *stated_name(const prep_actas_header *h, int i)
{
    for (size_t k = 0; k < h->n_summary; k++)
        if (prep_actas_summary_index(h->summary_names[k]) == i) return h->summary_names[k];
    return prep_actas_summary_names[i];
}

/* Figure i as the file writes it and as the rows give it: the same text, or the same
 * number (a file may write a percentage of 0 as "0", or drop trailing zeros). */
static int same_figure(int i, const char *file, const char *rows)
{
    int64_t a, b;
    return !strcmp(file, rows) ||
           (!prep_actas_figure_parse(file, i, &a) && !prep_actas_figure_parse(rows, i, &b) && a == b);
}

static int tally_real_file(const char *path, const char *cand, int check)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err e = prep_actas_derive_catalog(path, cand, &c, &d);
    prep_diags_print(&d, stderr, 30); /* its errors, or what it left out or split */
    if (e) {
        fprintf(stderr, "prep tally: cannot derive a catalogue from %s: %s\n", path, prep_err_text(e));
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    prep_diags_free(&d);
    prep_diags_init(&d);
    prep_actas *s = NULL;
    e = prep_actas_load(path, c, 0, &s, &d);
    if (d.total) prep_diags_print(&d, stderr, 30);
    if (e) {
        fprintf(stderr, "prep tally: cannot read %s: %s\n", path, prep_err_text(e));
        prep_diags_free(&d);
        prep_catalog_free(c);
        return CLI_USAGE;
    }
    prep_tally *t = NULL;
    prep_tally_cursor cur = {0};
    int rc = CLI_OK;
    if ((e = prep_tally_new(c, &t)) || (e = prep_tally_cursor_init(&cur, s)) ||
        (e = prep_tally_apply_until(t, s, &cur, INT64_MAX, NULL))) {
        fprintf(stderr, "prep tally: %s\n", prep_err_text(e));
        rc = CLI_USAGE;
        goto out;
    }
    /* The final cut is the one after which no expected acta can still arrive: every
     * expected acta captured (docs/formats/actas.md, "Participation"). */
    prep_summary sum;
    prep_tally_summary(t, 0, 0, &sum);
    prep_tally_summary(t, 0, sum.capturadas == sum.esperadas, &sum);
    char vals[13][32];
    prep_actas_summary_values(c, &sum, vals);
    const char *name = s->hdr.present && s->hdr.election_name ? s->hdr.election_name : c->elections[0].name;
    const char *cut = s->hdr.present && s->hdr.cut_text ? s->hdr.cut_text : "";
    print_block(stdout, name, cut, s->sep, (const char *const *)s->hdr.summary_names, s->hdr.n_summary, vals);
    if (s->rows_bad) { /* the figures are of the other rows: not the file's (exit 1; 2 when no row is read) */
        fprintf(stderr, "prep tally: %zu of %zu rows were unreadable and left out: the figures above are of the "
                        "others\n", s->rows_bad, s->rows_read);
        rc = s->rows_bad == s->rows_read ? CLI_USAGE : CLI_CHECK_FAILED;
    }
    size_t stated = 0;
    for (int i = 0; i < 13; i++) stated += prep_actas_header_value(&s->hdr, i) != NULL;
    if (s->hdr.present && stated) {
        /* each figure by its name, in whatever order the file writes them */
        int diff = 0;
        for (int i = 0; i < 13; i++) {
            const char *v = prep_actas_header_value(&s->hdr, i);
            if (!v) {
                fprintf(stderr, "prep tally: %s: not in the file's summary block, rows give %s\n",
                        prep_actas_summary_names[i], vals[i]);
                diff++;
            } else if (!same_figure(i, v, vals[i])) {
                fprintf(stderr, "prep tally: %s: file says %s, rows give %s\n", stated_name(&s->hdr, i), v, vals[i]);
                diff++;
            }
        }
        for (size_t k = 0; k < s->hdr.n_summary; k++)
            if (prep_actas_summary_index(s->hdr.summary_names[k]) < 0)
                fprintf(stderr, "prep tally: %s: the file's summary block also states this (%s); it is no PREP "
                                "figure, not compared\n",
                        s->hdr.summary_names[k], s->hdr.summary_values[k] ? s->hdr.summary_values[k] : "");
        if (!diff) fprintf(stderr, "prep tally: all 13 figures equal the file's own summary block\n");
        else if (!check)
            fprintf(stderr, "prep tally: `prep tally --actas %s --check --audit` names the rows behind each "
                            "difference\n", path);
        if (diff && check && rc == CLI_OK) rc = CLI_CHECK_FAILED;
    } else if (check) {
        fprintf(stderr, "prep tally: --check: the file has no summary block to compare with\n");
        if (rc == CLI_OK) rc = CLI_CHECK_FAILED;
    }
out:
    prep_tally_cursor_free(&cur);
    prep_tally_free(t);
    prep_actas_free(s);
    prep_catalog_free(c);
    prep_diags_free(&d);
    return rc;
}

/* --rules SPEC: a preset name, then ",key=value" overrides (prep_catalog_rules_set); or only
 * overrides, on the "ine" preset. */
static int parse_rules_spec(const char *spec, prep_rules *r)
{
    char buf[512], msg[400];
    snprintf(buf, sizeof buf, "%s", spec);
    prep_catalog_rules_preset("ine", r);
    char *save = NULL;
    int first = 1;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), first = 0) {
        char *eq = strchr(t, '=');
        if (!eq && first) {
            if (prep_catalog_rules_set(r, "profile", t, msg, sizeof msg)) goto bad;
            continue;
        }
        if (!eq) {
            snprintf(msg, sizeof msg, "'%s' is not key=value", t);
            goto bad;
        }
        *eq = 0;
        if (prep_catalog_rules_set(r, t, eq + 1, msg, sizeof msg)) goto bad;
    }
    return 0;
bad:
    fprintf(stderr, "prep tally: --rules: %s\n", msg);
    return -1;
}

/* --column "NAME=ignore,NAME=vote": mappings for columns the reader does not know. */
typedef struct colmap {
    char buf[1024];
    const char *name[32];
    int vote[32];
    size_t n;
} colmap;

static int parse_colmap(const char *spec, colmap *m)
{
    snprintf(m->buf, sizeof m->buf, "%s", spec);
    char *save = NULL;
    for (char *t = strtok_r(m->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strrchr(t, '=');
        if (!eq || (strcmp(eq + 1, "ignore") && strcmp(eq + 1, "vote")) || eq == t || m->n == 32) {
            fprintf(stderr, "prep tally: --column: '%s' is not NAME=ignore or NAME=vote (at most 32)\n", t);
            return -1;
        }
        *eq = 0;
        m->name[m->n] = t;
        m->vote[m->n++] = !strcmp(eq + 1, "vote");
    }
    return 0;
}

static json_t *rows_json(const prep_filecheck_row *v, size_t n, int audit)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "line", (json_int_t)v[i].line, "clave_acta",
                              v[i].clave_acta, "kind", v[i].kind, "contabilizada", v[i].flag, "observaciones",
                              v[i].observaciones, "text", v[i].text);
        if (o && audit) json_object_set_new(o, "rule_status", json_string(v[i].rule));
        json_array_append_new(a, o ? o : json_null());
    }
    return a;
}

static int print_check_json(const char *path, const prep_filecheck_report *r, const prep_diags *d)
{
    json_t *root = json_object();
    json_object_set_new(root, "file", json_string(path));
    json_object_set_new(root, "election", json_string(r->election));
    json_object_set_new(root, "cut", json_string(r->cut_text));
    json_object_set_new(root, "layout", json_string(r->layout));
    char inc[96];
    prep_catalog_rules_inconsistent_text(r->rules.inconsistent, inc, sizeof inc);
    json_object_set_new(root, "rules",
                        json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:b, s:i}", "profile", r->rules.name, "source",
                                  r->rules_source, "inferred", r->rules_inferred, "inconsistent", inc,
                                  "no_counted_out_of_catalog", r->rules.no_counted_out_of_catalog,
                                  "no_counted_no_acta", r->rules.no_counted_no_acta, "participation_specials",
                                  prep_catalog_rules_specials_name(r->rules.specials), "cap_representatives",
                                  r->rules.cap_representatives, "special_ballots",
                                  (json_int_t)r->rules.special_ballots));
    json_object_set_new(root, "rows", json_integer((json_int_t)r->rows));
    json_object_set_new(root, "rows_unreadable", json_integer((json_int_t)r->rows_bad));
    json_object_set_new(root, "rows_arrived", json_integer((json_int_t)r->rows_arrived));
    json_object_set_new(root, "vote_columns", json_integer((json_int_t)r->n_vote_cols));
    json_object_set_new(root, "final_cut", json_boolean(r->final_cut));
    json_t *figs = json_array();
    for (int i = 0; i < 13; i++) {
        const prep_filecheck_figure *f = &r->fig[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(f->name));
        json_object_set_new(o, "stated", f->has_stated ? json_string(f->stated) : json_null());
        json_object_set_new(o, "computed", json_string(f->computed));
        json_object_set_new(o, "equal", f->has_stated ? json_boolean(f->equal) : json_null());
        if (f->note[0]) json_object_set_new(o, "note", json_string(f->note));
        if (f->n_lines) {
            json_t *l = json_array();
            for (size_t k = 0; k < f->n_lines; k++) json_array_append_new(l, json_integer(f->lines[k]));
            json_object_set_new(o, "lines", l);
        }
        json_array_append_new(figs, o);
    }
    json_object_set_new(root, "figures", figs);
    json_object_set_new(root, "contradictions", rows_json(r->findings, r->n_findings, 0));
    if (r->audit || r->audit_not_recomputable) {
        json_object_set_new(root, "audit", rows_json(r->audit, r->n_audit, 1));
        json_object_set_new(root, "audit_not_recomputable", json_integer((json_int_t)r->audit_not_recomputable));
    }
    json_t *errs = json_array();
    for (size_t i = 0; d && i < d->n; i++)
        json_array_append_new(errs, json_pack("{s:s, s:i, s:i, s:s, s:s}", "file", d->v[i].file, "line",
                                              (json_int_t)d->v[i].line, "column", (json_int_t)d->v[i].col, "kind",
                                              d->v[i].kind, "message", d->v[i].msg));
    json_object_set_new(root, "diagnostics", errs);
    json_object_set_new(root, "ok", json_boolean(prep_actas_filecheck_report_ok(r)));
    char *txt = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!txt) return -1;
    puts(txt);
    free(txt);
    return 0;
}

static void print_check_text(const char *path, const prep_filecheck_report *r)
{
    printf("%s\n%s | %s\nlayout: %s\nrules: %s%s%s\n", path, r->election, r->cut_text, r->layout, r->rules_source,
           r->rules_inferred[0] ? "; from the file's figures: " : "", r->rules_inferred);
    printf("%zu rows (%zu arrived, %zu unreadable), %zu vote columns\n\n", r->rows, r->rows_arrived, r->rows_bad,
           r->n_vote_cols);
    printf("%-36s %14s %14s  %s\n", "figure", "file says", "rows give", "");
    for (int i = 0; i < 13; i++) {
        const prep_filecheck_figure *f = &r->fig[i];
        printf("%-36s %14s %14s  %s\n", f->name, f->has_stated ? f->stated : "-", f->computed,
               !f->has_stated ? "not stated" : f->equal ? "equal" : "DIFFERS");
        if (f->note[0]) {
            printf("    %s", f->note);
            for (size_t k = 0; k < f->n_lines; k++) printf("%s%u", k ? ", " : "; lines ", f->lines[k]);
            printf("\n");
        }
    }
    if (r->n_findings) {
        printf("\nwhere the file contradicts itself (%zu rows):\n", r->n_findings);
        for (size_t i = 0; i < r->n_findings; i++)
            printf("  line %-7u %-16s %-28s %s\n", r->findings[i].line, r->findings[i].clave_acta,
                   r->findings[i].kind, r->findings[i].text);
    }
    if (r->audit || r->audit_not_recomputable) {
        printf("\naudit: %zu rows where the institute's flag and the rules (%s) disagree", r->n_audit, r->rules.name);
        if (r->audit_not_recomputable)
            printf("; %zu not-counted rows have every vote field written 0 (not recomputable)",
                   r->audit_not_recomputable);
        printf("\n");
        if (r->n_audit)
            printf("  %-7s %-18s %-4s %-34s %-24s %s\n", "line", "acta", "flag", "OBSERVACIONES", "rules give", "why");
        for (size_t i = 0; i < r->n_audit; i++) {
            const prep_filecheck_row *a = &r->audit[i];
            printf("  %-7u %-18s %-4s %-34.34s %-24s %s\n", a->line, a->clave_acta, a->flag, a->observaciones,
                   a->rule, a->text);
        }
    }
    printf("\n%s: %zu of %zu stated figures equal%s\n", prep_actas_filecheck_report_ok(r) ? "PASS" : "FAIL", r->n_equal,
           r->n_stated, r->rows_bad ? ", some rows unreadable" : "");
}

/* prep tally --actas FILE --check: the published file against its own header block. */
static int check_real_file(const char *path, const char *rules_spec, const char *columns, int json, int audit,
                           int final_cut)
{
    prep_rules rules;
    colmap cm = {0};
    if (rules_spec && parse_rules_spec(rules_spec, &rules)) return CLI_USAGE;
    if (columns && parse_colmap(columns, &cm)) return CLI_USAGE;
    prep_filecheck_opts o = {.rules = rules_spec ? &rules : NULL, .audit = audit, .final_cut = final_cut, .n_map = cm.n,
                         .map_name = cm.name, .map_vote = cm.vote};
    prep_diags d;
    prep_diags_init(&d);
    prep_filecheck_report r;
    prep_err e = prep_actas_check_file(path, &o, &r, &d);
    int rc;
    if (e) {
        if (json) print_check_json(path, &r, &d);
        prep_diags_print(&d, stderr, 30);
        fprintf(stderr, "prep tally: %s is not understood: %s\n", path, prep_err_text(e));
        rc = CLI_USAGE;
    } else {
        if (!json && d.total) prep_diags_print(&d, stderr, 30);
        if (json) rc = print_check_json(path, &r, &d) ? CLI_USAGE : CLI_OK;
        else {
            print_check_text(path, &r);
            rc = CLI_OK;
        }
        if (rc == CLI_OK && !prep_actas_filecheck_report_ok(&r)) rc = CLI_CHECK_FAILED;
    }
    prep_actas_filecheck_report_free(&r);
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
        {"units-json", "FILE", "with --catalog: also write every election's figures per unit (nation, entity, "
                               "district, section: actas expected, captured, counted, votes per column) as JSON", NULL},
        {"check", NULL, "without --catalog: recount the file's header block from its rows, taking each row's "
                        "CONTABILIZADA as the institute's decision; exit 1 if a figure differs", NULL},
        {"json", NULL, "with --check: one JSON object (each figure's name, stated, computed, equal)", NULL},
        {"audit", NULL, "with --check: also recompute each row's status from its votes and list disagreements",
         NULL},
        {"rules", "SPEC", "with --check: a rule profile (ine, ieec-2021, ...) and ,key=value overrides; default: "
                          "the file's institute's preset, rules its figures show", NULL},
        {"column", "MAP", "with --check: NAME=ignore or NAME=vote for columns the reader does not know, "
                          "comma-separated", NULL},
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
    if (!catp && cli_get(opts, "check"))
        return check_real_file(actas, cli_get(opts, "rules"), cli_get(opts, "column"), cli_get(opts, "json") != NULL,
                               cli_get(opts, "audit") != NULL, cli_get(opts, "final") != NULL);
    if (cli_get(opts, "json") || cli_get(opts, "audit") || cli_get(opts, "rules") || cli_get(opts, "column")) {
        fprintf(stderr, "prep tally: --json, --audit, --rules and --column go with --check on a results file\n");
        return CLI_USAGE;
    }
    if (!catp) return tally_real_file(actas, cli_get(opts, "candidaturas"), 0);

    prep_diags d;
    prep_diags_init(&d);
    prep_catalog *c = NULL;
    prep_err e = prep_catalog_load(catp, &c, &d);
    if (e) {
        prep_diags_print(&d, stderr, 50);
        fprintf(stderr, "prep tally: cannot load catalogue %s: %s\n", catp, prep_err_text(e));
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
            fprintf(stderr, "prep tally: cannot read %s: %s\n", path, prep_err_text(e));
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
        prep_actas_summary_values(c, &sum, vals);
        prep_time_format(cut, c->timezone, PREP_TS_HEADER, cut_text, sizeof cut_text);
        print_block(stdout, c->elections[el].name, cut_text, c->csv_sep, prep_actas_summary_names, 13, vals);
        printf("\n");
        fprintf(stderr, "prep tally: %s: %zu captures applied, %zu unreadable rows\n", path, applied, s->rows_bad);
        if (s->rows_bad && rc == CLI_OK) rc = CLI_CHECK_FAILED; /* figures of the other rows only */
        if (dbout) {
            prep_buf b;
            prep_buf_init(&b, 0);
            e = prep_tally_db_write_csv(t, el, cut, final, &b);
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
    const char *units_json = cli_get(opts, "units-json");
    if (units_json) {
        prep_buf b;
        prep_buf_init(&b, 0);
        e = cli_tally_units_json(c, t, &b);
        if (!e) e = prep_write_file_atomic(units_json, b.data, b.len);
        prep_buf_free(&b);
        if (e) goto fail;
    }
    if (dbout) {
        prep_buf b;
        prep_buf_init(&b, 0);
        char path[4096];
        snprintf(path, sizeof path, "%s/LEEME.txt", dbout);
        e = prep_tally_db_write_leeme(c, &b);
        if (!e) e = prep_write_file_atomic(path, b.data, b.len);
        prep_buf_free(&b);
        if (e) goto fail;
        fprintf(stderr, "prep tally: database written to %s\n", dbout);
    }
    goto done;
fail:
    fprintf(stderr, "prep tally: %s\n", prep_err_text(e));
    rc = CLI_USAGE;
done:
    prep_tally_free(t);
    prep_catalog_free(c);
    prep_diags_free(&d);
    return rc;
}
