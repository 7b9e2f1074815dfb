/* prep render: the publication of one cut, written to a directory (previews, Apache
 * docroots, browser tests). --actas is a directory of <election-id>.csv captures files
 * (as `prep sim actas` writes them); captures up to --at enter the cut. Without --catalog,
 * --actas is a published results file and the site is that file's cut, counted with a
 * catalogue derived from it (cli_night_load_published).
 *
 * Files are written plainly (no fsync per file): this is a preview. The production path
 * is `prep cut` (signed, stored) and `prep export` (atomic directory swap). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "prep/render.h"

/* A preview's file: written in place (no fsync: nothing is published from here); every
 * failure recorded (prep_io_fail) for prep_err_text. */
static int write_plain(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        prep_io_fail("create", path, errno);
        return -1;
    }
    int bad = prep_write_all(fd, data, len, path) != PREP_OK;
    if (close(fd) && !bad) {
        prep_io_fail("close", path, errno);
        bad = 1;
    }
    return bad ? -1 : 0;
}

/* Writes every file of the site under dir, making the directories. */
static int write_site(const prep_site *s, const char *dir)
{
    char path[4096], sub[4096], made[4096] = "";
    for (size_t i = 0; i < s->n; i++) {
        const prep_site_file *f = &s->v[i];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, f->path) >= sizeof path) return -1;
        snprintf(sub, sizeof sub, "%s", path);
        char *slash = strrchr(sub, '/');
        if (slash) {
            *slash = 0;
            /* files come sorted by path: a directory's files are together */
            if (strcmp(sub, made)) {
                if (prep_mkdirs(sub)) return -1;
                snprintf(made, sizeof made, "%s", sub);
            }
        }
        if (write_plain(path, f->data, f->len)) {
            fprintf(stderr, "prep render: %s\n", prep_err_text(PREP_ERR_IO));
            return -1;
        }
    }
    return 0;
}

int cmd_render(int argc, char **argv)
{
    cli_opt opts[] = {
        {"catalog", "FILE", "the process catalogue; without it, --actas is a published PREP results file", NULL},
        {"actas", "PATH", "captures: a directory of <election-id>.csv files, or one published results file (required)",
         NULL},
        {"candidaturas", "FILE", "without --catalog: the results file's candidacy catalogue (names)", NULL},
        {"at", "TIME",
         "cut instant, local time of the process, e.g. \"2021-06-06 23:05\" (required with --catalog; without it, "
         "default: the cut the file states)",
         NULL},
        {"out", "DIR", "where to write the site (required; created if missing)", NULL},
        {"seq", "N", "the cut's sequence number shown on every page (default 1)", NULL},
        {"drill", NULL, "a drill cut: every page carries a SIMULACRO banner", NULL},
        {"final", NULL, "the final cut (participation rule for special casillas)", NULL},
        {"pubkey", "FILE", "the institute's signify public key, shown on \"Como verificar\"", NULL},
        {"no-embedded", NULL, "do not write the embebido/ tree (pages for iframes)", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help;
    char err[256];
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep render: %s\n", err);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "render", "--catalog FILE --actas DIR --at TIME --out DIR [--seq N] [--drill]\n"
                  "       prep render --actas RESULTS.csv --out DIR [--candidaturas FILE] [--at TIME]",
                  "Renders the public site of one cut (every page of every election, the CSV\n"
                  "database and LEEME, the assets) into a directory. Layout and URLs:\n"
                  "docs/formats/site.md. Without --catalog, the site of a published PREP results\n"
                  "file: its cut, counted with a catalogue derived from it (docs/formats/actas.md,\n"
                  "\"Published files\"). Serve the directory over HTTP to browse it (pages link\n"
                  "to directories, served from their index.html).",
                  opts);
        return CLI_OK;
    }
    const char *catp = cli_get(opts, "catalog"), *actas = cli_get(opts, "actas"), *at_s = cli_get(opts, "at"),
               *outd = cli_get(opts, "out"), *seq_s = cli_get(opts, "seq"), *pub = cli_get(opts, "pubkey");
    if (!actas || !outd || (catp && !at_s)) {
        fprintf(stderr, "prep render: --actas and --out are required, and --at with --catalog (see --help)\n");
        return CLI_USAGE;
    }
    const char *cand = cli_get(opts, "candidaturas");
    if (cand && catp) {
        fprintf(stderr, "prep render: --candidaturas is for a published results file, without --catalog\n");
        return CLI_USAGE;
    }
    int64_t seq = 1;
    if (seq_s && (prep_parse_i64(seq_s, &seq) || seq < 1)) {
        fprintf(stderr, "prep render: --seq '%s' is not a number >= 1\n", seq_s);
        return CLI_USAGE;
    }
    char *pubtext = NULL;
    prep_site site;
    prep_render_site_init(&site);
    int rc = CLI_USAGE;
    cli_night night;
    if (catp ? cli_night_load("render", catp, actas, at_s, &night)
             : cli_night_load_published("render", actas, cand, at_s, &night))
        return CLI_USAGE;
    prep_err e;
    if (pub) {
        size_t len;
        /* a signify public key is two short lines; refuse anything much larger */
        if (prep_read_file(pub, 1 << 20, &pubtext, &len) || len > 4096 || !prep_utf8_valid(pubtext, len)) {
            fprintf(stderr, "prep render: cannot read --pubkey %s (a signify public key file, at most 4 KiB)\n", pub);
            goto out;
        }
    }
    prep_render_cut cut = {.seq = (uint64_t)seq,
                           .at = night.at,
                           .drill = cli_get(opts, "drill") != NULL,
                           .process_name = NULL,
                           .valid_until = PREP_TIME_NONE,
                           .final_cut = cli_get(opts, "final") != NULL || night.final_cut};
    prep_render_opts ro;
    prep_render_opts_init(&ro);
    ro.embedded = cli_get(opts, "no-embedded") == NULL;
    ro.pubkey = pubtext;
    prep_render_stats st;
    if ((e = prep_render_site(night.tally, &cut, &ro, NULL, &site, &st))) {
        fprintf(stderr, "prep render: %s\n", prep_err_text(e));
        goto out;
    }
    if (prep_mkdirs(outd) || write_site(&site, outd)) {
        fprintf(stderr, "prep render: cannot write the site under %s\n", outd);
        goto out;
    }
    fprintf(stderr, "prep render: %zu files (%zu pages), %llu bytes written to %s\n", st.files, st.pages,
            (unsigned long long)st.bytes, outd);
    rc = CLI_OK;
out:
    prep_render_site_free(&site);
    cli_night_free(&night);
    free(pubtext);
    return rc;
}
