/* prep sim catalog | prep sim actas: election-night drills' inputs. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "prep/sim.h"

static int parse_seed(const char *s, uint64_t *seed)
{
    int64_t v;
    if (!s) return 0;
    if (prep_parse_i64(s, &v) || v < 0) return -1;
    *seed = (uint64_t)v;
    return 0;
}

static int sim_catalog(int argc, char **argv)
{
    cli_opt opts[] = {
        {"out", "FILE", "where to write the catalogue (required)", NULL},
        {"scale", "NAME", "qro2021 (default): Querétaro 2021; national: the federal layout (32 entities, 300 districts); national-small: the same with few sections (tests); tiny: for tests", NULL},
        {"seed", "N", "random seed (default 1); same seed, same catalogue", NULL},
        {"geojson", "FILE", "add the map from this INEGI GeoJSON: qro2021 its municipalities (CVE_MUN), a national "
                            "scale its entities (state_code)", NULL},
        {"rules", "PROFILE", "the counting-rule profile of the [rules] section (default ine; "
                             "docs/formats/actas.md \"Rule profiles\")", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help;
    char err[256];
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep sim catalog: %s\n", err);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "sim catalog", "--out FILE [--scale qro2021|national|national-small|tiny] [--seed N] [--geojson FILE] [--rules PROFILE]",
                  "Writes a realistic election catalogue (docs/formats/catalog.md, docs/formats/sim.md).\n"
                  "With --geojson it also holds the map (qro2021: of its municipalities; a national\n"
                  "scale: of its entities), projected and simplified from the GeoJSON now, so pages\n"
                  "never fetch it.", opts);
        return CLI_OK;
    }
    const char *out = cli_get(opts, "out"), *scale_s = cli_get(opts, "scale");
    uint64_t seed = 1;
    if (!out) {
        fprintf(stderr, "prep sim catalog: --out FILE is required\n");
        return CLI_USAGE;
    }
    if (parse_seed(cli_get(opts, "seed"), &seed)) {
        fprintf(stderr, "prep sim catalog: --seed must be a whole number >= 0\n");
        return CLI_USAGE;
    }
    prep_sim_scale scale = PREP_SIM_SCALE_QRO2021;
    if (scale_s && !strcmp(scale_s, "national")) scale = PREP_SIM_SCALE_NATIONAL;
    else if (scale_s && !strcmp(scale_s, "national-small")) scale = PREP_SIM_SCALE_NATIONAL_SMALL;
    else if (scale_s && !strcmp(scale_s, "tiny")) scale = PREP_SIM_SCALE_TINY;
    else if (scale_s && strcmp(scale_s, "qro2021")) {
        fprintf(stderr, "prep sim catalog: unknown --scale '%s' (qro2021, national, national-small or tiny)\n", scale_s);
        return CLI_USAGE;
    }
    const char *rules = cli_get(opts, "rules");
    prep_rules pr;
    if (rules && prep_catalog_rules_preset(rules, &pr)) {
        fprintf(stderr, "prep sim catalog: --rules '%s' is not a preset (", rules);
        for (size_t i = 0; prep_catalog_rules_preset_name(i); i++) fprintf(stderr, "%s%s", i ? ", " : "", prep_catalog_rules_preset_name(i));
        fprintf(stderr, ")\n");
        return CLI_USAGE;
    }
    const char *geojson = cli_get(opts, "geojson");
    if (geojson && scale == PREP_SIM_SCALE_TINY) {
        fprintf(stderr, "prep sim catalog: --geojson goes with --scale qro2021 or a national scale\n");
        return CLI_USAGE;
    }
    int entity_map = geojson && scale != PREP_SIM_SCALE_QRO2021; /* a national scale: the entity map */
    prep_buf text;
    prep_buf_init(&text, 0);
    prep_diags gd;
    prep_diags_init(&gd);
    prep_err e = prep_sim_catalog_text_geo(scale, seed, entity_map ? NULL : geojson, &text, &gd);
    if (!e && entity_map) e = prep_sim_catalog_add_entity_map(&text, geojson, &gd);
    if (e && gd.total) {
        prep_diags_print(&gd, stderr, 20);
        fprintf(stderr, "prep sim catalog: cannot build the map from %s: %s\n", geojson, prep_err_text(e));
        prep_diags_free(&gd);
        prep_buf_free(&text);
        return CLI_USAGE;
    }
    prep_diags_free(&gd);
    if (!e && rules) e = prep_buf_printf(&text, "\n[rules]\nprofile = %s\n", rules);
    if (!e) e = prep_write_file_atomic(out, text.data, text.len);
    if (e) {
        fprintf(stderr, "prep sim catalog: cannot write %s: %s\n", out, prep_err_text(e));
        prep_buf_free(&text);
        return CLI_USAGE;
    }
    prep_catalog *c = NULL;
    prep_diags d;
    prep_diags_init(&d);
    e = prep_catalog_parse(out, text.data, text.len, &c, &d);
    prep_buf_free(&text);
    if (e) {
        prep_diags_print(&d, stderr, 20);
        prep_diags_free(&d);
        fprintf(stderr, "prep sim catalog: the generated catalogue does not validate (a bug)\n");
        return CLI_CHECK_FAILED;
    }
    uint64_t ln = 0;
    for (uint32_t i = 0; i < c->n_casillas; i++) ln += c->casillas[i].lista_nominal;
    uint32_t shapes = 0;
    size_t path_bytes = 0;
    for (uint32_t i = 0; c->entity_shape && i < c->n_entities; i++) /* a national catalogue's map */
        if (c->entity_shape[i]) shapes++, path_bytes += strlen(c->entity_shape[i]);
    for (uint32_t i = 0; c->municipality_shape && i < c->n_municipalities; i++)
        if (c->municipality_shape[i]) shapes++, path_bytes += strlen(c->municipality_shape[i]);
    printf("%s: %s, %u elections, %u parties, ", out, c->process_id, c->n_elections, c->n_parties);
    if (c->national) printf("%u entities, ", c->n_entities);
    printf("%u districts, %u municipalities, %u sections, %u casillas, lista nominal %llu",
           c->n_districts, c->n_municipalities,
           c->n_sections, c->n_casillas, (unsigned long long)ln);
    if (c->has_map)
        printf(", map %ux%u with %u shapes (%zu bytes of path data)", c->map_viewbox[2], c->map_viewbox[3], shapes,
               path_bytes);
    printf("\n");
    prep_catalog_free(c);
    prep_diags_free(&d);
    return CLI_OK;
}

static int sim_actas(int argc, char **argv)
{
    cli_opt opts[] = {
        {"catalog", "FILE", "the process catalogue (required)", NULL},
        {"out", "DIR", "directory to write one captures file per election, <id>.csv (required)", NULL},
        {"seed", "N", "random seed (default 1); same seed, same night", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help;
    char err[256];
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep sim actas: %s\n", err);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "sim actas", "--catalog FILE --out DIR [--seed N]",
                  "Simulates a whole election night: every acta's captures in the official PREP\n"
                  "layout, with capture times on a realistic curve and a realistic share of\n"
                  "inconsistencies and corrections (docs/formats/sim.md).", opts);
        return CLI_OK;
    }
    const char *catp = cli_get(opts, "catalog"), *out = cli_get(opts, "out");
    if (!catp || !out) {
        fprintf(stderr, "prep sim actas: --catalog FILE and --out DIR are required\n");
        return CLI_USAGE;
    }
    prep_sim_night_opts o;
    prep_sim_night_defaults(&o);
    if (parse_seed(cli_get(opts, "seed"), &o.seed)) {
        fprintf(stderr, "prep sim actas: --seed must be a whole number >= 0\n");
        return CLI_USAGE;
    }
    prep_catalog *c = NULL;
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_catalog_load(catp, &c, &d);
    if (e) {
        prep_diags_print(&d, stderr, 50);
        fprintf(stderr, "prep sim actas: cannot load catalogue %s: %s\n", catp, prep_err_text(e));
        prep_diags_free(&d);
        return CLI_USAGE;
    }
    prep_diags_free(&d);
    if (prep_mkdirs(out)) {
        fprintf(stderr, "prep sim actas: cannot create directory %s\n", out);
        prep_catalog_free(c);
        return CLI_USAGE;
    }
    prep_actas **sets = prep_xcalloc(c->n_elections, sizeof *sets);
    e = prep_sim_actas(c, &o, sets);
    int rc = CLI_OK;
    for (uint32_t el = 0; !e && el < c->n_elections; el++) {
        prep_buf b;
        prep_buf_init(&b, 0);
        e = prep_actas_write_columns(c, el, &b);
        for (size_t i = 0; i < sets[el]->n && !e; i++)
            e = prep_actas_write_row(c, el, &sets[el]->v[i], prep_acta_votes(sets[el], &sets[el]->v[i]), &b);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.csv", out, c->elections[el].id);
        if (!e) e = prep_write_file_atomic(path, b.data, b.len);
        if (!e) fprintf(stderr, "prep sim actas: %s: %zu captures (%s)\n", path, sets[el]->n, c->elections[el].name);
        prep_buf_free(&b);
    }
    if (e) {
        fprintf(stderr, "prep sim actas: %s\n", prep_err_text(e));
        rc = CLI_USAGE;
    }
    for (uint32_t el = 0; el < c->n_elections; el++)
        if (sets[el]) prep_actas_free(sets[el]);
    free(sets);
    prep_catalog_free(c);
    return rc;
}

static void sim_usage(FILE *f)
{
    fprintf(f, "usage: prep sim catalog --out FILE [--scale qro2021|national|national-small|tiny] [--seed N] [--geojson FILE] [--rules PROFILE]\n"
               "       prep sim actas --catalog FILE --out DIR [--seed N]\n"
               "Simulates an election process for drills and benchmarks; see --help of each.\n");
}

int cmd_sim(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "catalog")) return sim_catalog(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "actas")) return sim_actas(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "--man")) {
        cli_man_text(stdout, "sim", NULL, sim_usage, NULL, 0);
        return CLI_OK;
    }
    FILE *f = (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) ? stdout : stderr;
    sim_usage(f);
    return f == stdout ? CLI_OK : CLI_USAGE;
}
