/* The attack suite, modelled on TUF's threat list. Each test starts from an institute
 * store with cuts 1 and 2 and a broadcaster whose active cut is 1, tampers with what is
 * offered (or with the broadcaster's store), and asserts three things: the receive is
 * refused with the expected reason (diag kind), the reason is in the store's log, and
 * the last good cut is still active and still verifies. Most tests then deliver the
 * honest cut and check it is accepted: a refusal poisons nothing. */
#include "test_cut_util.h"

#include <zlib.h>

typedef struct fx {
    char *t, *inst, *recv, *inc;
    prep_cut_seckey live, drill, rogue;
    prep_cut_pubkey live_pk, drill_pk, rogue_pk;
    prep_cut_policy pol;
    site s;
    prep_diags d;
    prep_cut_active before;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->t = tmpdir_new();
    f->inst = pathf("%s/inst", f->t);
    f->recv = pathf("%s/recv", f->t);
    f->inc = pathf("%s/incoming", f->t);
    key_from_seed(11, &f->live, &f->live_pk);
    key_from_seed(12, &f->drill, &f->drill_pk);
    key_from_seed(13, &f->rogue, &f->rogue_pk);
    prep_diags_init(&f->d);
    site_init(&f->s, 6);
    uint64_t seq;
    assert_int_equal(make_cut(f->inst, &f->s, &f->live, PREP_CUT_LIVE, T0, 3600, &seq, &f->d), PREP_OK);
    site_set(&f->s, "gubernatura/seccion-0002/index.html", "<p>acta capturada</p>%0300d", 2);
    site_set(&f->s, "datos/QRO_GUB_2021.csv", "CLAVE_CASILLA|TOTAL\n22-0002-B|310\n");
    assert_int_equal(make_cut(f->inst, &f->s, &f->live, PREP_CUT_LIVE, T0 + 300, 3600, &seq, &f->d), PREP_OK);
    policy_for(&f->pol, &f->live_pk, T0 + 400);
    deliver(f->inst, 1, f->recv, f->inc);
    assert_int_equal(prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &f->d), PREP_OK);
    /* What the attacker intercepts: the honest delivery of cut 2 (2 new objects). */
    assert_int_equal(deliver(f->inst, 2, f->recv, f->inc), 2);
    assert_int_equal(prep_cut_active_read(f->recv, &f->before, &f->d), PREP_OK);
    assert_int_equal(f->before.seq, 1);
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    rm_rf(f->t);
    site_free(&f->s);
    prep_diags_free(&f->d);
    free(f->t), free(f->inst), free(f->recv), free(f->inc);
    free(f);
    return 0;
}

/* Receive, expect refusal with kind, the log line, the unchanged active cut. */
static void expect_refusal(fx *f, const char *kind)
{
    prep_diags_free(&f->d);
    prep_diags_init(&f->d);
    prep_cut_active before;
    assert_int_equal(prep_cut_active_read(f->recv, &before, NULL), PREP_OK);
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &f->d);
    if (e != PREP_ERR_VERIFY) {
        prep_diags_print(&f->d, stderr, 5);
        fail_msg("expected refusal '%s', got %s", kind, prep_err_str(e));
    }
    if (!prep_diags_find(&f->d, kind)) {
        prep_diags_print(&f->d, stderr, 5);
        fail_msg("expected diag kind '%s'", kind);
    }
    char *line = log_last_line(f->recv);
    assert_non_null(line);
    if (!strstr(line, "refused") || !strstr(line, kind)) fail_msg("log line does not name '%s': %s", kind, line);
    free(line);
    prep_cut_active after;
    assert_int_equal(prep_cut_active_read(f->recv, &after, NULL), PREP_OK);
    assert_int_equal(after.seq, before.seq);
    assert_string_equal(after.manifest_sha256, before.manifest_sha256);
}

/* The store still verifies as a whole chain. */
static void expect_store_good(fx *f)
{
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_verify(f->recv, 0, &f->pol, NULL, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    prep_diags_free(&d);
}

/* The honest cut 2 is still accepted afterwards. */
static void expect_honest_accepted(fx *f)
{
    deliver(f->inst, 2, f->recv, f->inc);
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f->recv), 2);
    prep_diags_free(&d);
    expect_store_good(f);
}

static void refused_then_honest(fx *f, const char *kind)
{
    expect_refusal(f, kind);
    expect_store_good(f);
    expect_honest_accepted(f);
}

/* ---------------------------------------------------------------- tampering tools */
static char *inc_path(fx *f, const char *rel) { return pathf("%s/%s", f->inc, rel); }

/* Path of one incoming object (the first found). */
static char *some_incoming_object(fx *f)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find %s/objects -type f | sort | head -n 1", f->inc);
    FILE *p = popen(cmd, "r");
    char buf[1024] = "";
    assert_non_null(fgets(buf, sizeof buf, p));
    pclose(p);
    buf[strcspn(buf, "\n")] = 0;
    return prep_xstrdup(buf);
}

static void flip_byte(const char *path, long at)
{
    size_t n;
    char *b = read_all(path, &n);
    assert_non_null(b);
    if (at < 0) at += (long)n;
    assert_true((size_t)at < n);
    b[at] ^= 0x01;
    chmod(path, 0644);
    write_bytes(path, b, n);
    free(b);
}

/* The honest manifest text of cut seq (owned). */
static char *manifest_text(fx *f, uint64_t seq, size_t *n)
{
    char *p = pathf("%s/cuts/%llu/manifest", f->inst, (unsigned long long)seq);
    char *b = read_all(p, n);
    free(p);
    assert_non_null(b);
    return b;
}

/* text with the first occurrence of from replaced by to (lengths in bytes; to may hold NUL). */
static char *replace_n(const char *text, size_t tn, const char *from, const char *to, size_t ton, size_t *outn)
{
    const char *at = strstr(text, from);
    if (!at) fail_msg("'%s' not in the manifest", from);
    size_t fl = strlen(from), pre = (size_t)(at - text);
    char *o = malloc(tn - fl + ton + 1);
    memcpy(o, text, pre);
    memcpy(o + pre, to, ton);
    memcpy(o + pre + ton, at + fl, tn - pre - fl);
    *outn = tn - fl + ton;
    o[*outn] = 0;
    return o;
}

static char *replace(const char *text, size_t tn, const char *from, const char *to, size_t *outn)
{
    return replace_n(text, tn, from, to, strlen(to), outn);
}

/* Puts text as incoming cut seq's manifest, signed by key k. */
static void offer_signed(fx *f, uint64_t seq, const char *text, size_t n, const prep_cut_seckey *k)
{
    char *dir = pathf("%s/cuts/%llu", f->inc, (unsigned long long)seq);
    assert_int_equal(prep_mkdirs(dir), PREP_OK);
    char *mp = pathf("%s/manifest", dir), *sp = pathf("%s/manifest.sig", dir);
    write_bytes(mp, text, n);
    prep_cut_sig sig;
    assert_int_equal(prep_cut_sign(k, text, n, &sig), PREP_OK);
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_cut_sig_format(&sig, "tampered", &b), PREP_OK);
    write_bytes(sp, b.data, b.len);
    prep_buf_free(&b);
    free(dir), free(mp), free(sp);
}

/* Cut 2's manifest with one substitution, re-signed by k, offered. */
static void offer_edited(fx *f, const char *from, const char *to, size_t ton, const prep_cut_seckey *k)
{
    size_t n, on;
    char *m = manifest_text(f, 2, &n);
    char *e = replace_n(m, n, from, to, ton, &on);
    offer_signed(f, 2, e, on, k);
    free(m), free(e);
}

static void keynum_line(const prep_cut_seckey *k, char out[40])
{
    char h[17];
    prep_cut_keynum_hex(k->keynum, h);
    snprintf(out, 40, "# key: %s", h);
}

/* ---------------------------------------------------------------- 1-3: flipped bytes */
static void test_flipped_byte_in_object(void **state)
{
    fx *f = *state;
    char *o = some_incoming_object(f);
    flip_byte(o, 10);
    free(o);
    refused_then_honest(f, "hash-mismatch");
    /* The damaged bytes never reached objects/: no object has a wrong name. */
    assert_int_equal(sh("cd %s/objects && for f in */*; do h=$(sha256sum < $f | cut -c1-64); "
                        "[ \"$h\" = \"${f%%%%/*}${f#*/}\" ] || exit 1; done",
                        f->recv),
                     0);
}

static void test_flipped_byte_in_manifest(void **state)
{
    fx *f = *state;
    char *m = inc_path(f, "cuts/2/manifest");
    flip_byte(m, -10); /* inside the last path */
    free(m);
    refused_then_honest(f, "bad-signature");
}

static void test_flipped_byte_in_signature(void **state)
{
    fx *f = *state;
    char *sp = inc_path(f, "cuts/2/manifest.sig");
    size_t n;
    char *b = read_all(sp, &n);
    /* 50 characters into the base64 line: the signature bytes, not the keynum. */
    char *line = strchr(b, '\n') + 1;
    line[50] = line[50] == 'A' ? 'B' : 'A';
    write_bytes(sp, b, n);
    free(b), free(sp);
    refused_then_honest(f, "bad-signature");
}

/* ---------------------------------------------------------------- 4-7: missing / extra */
static void test_missing_object(void **state)
{
    fx *f = *state;
    char *o = some_incoming_object(f);
    assert_int_equal(unlink(o), 0);
    free(o);
    refused_then_honest(f, "missing-object");
}

static void test_extra_object(void **state)
{
    fx *f = *state;
    /* A well-named object no manifest mentions (SHA-256 of "evil"). */
    char h[65];
    prep_sha256_hex("evil", 4, h);
    char *dir = pathf("%s/objects/%.2s", f->inc, h);
    assert_int_equal(prep_mkdirs(dir), PREP_OK);
    char *p = pathf("%s/%s", dir, h + 2);
    write_bytes(p, "evil", 4);
    free(dir), free(p);
    refused_then_honest(f, "extra-file");
    char *inrecv = pathf("%s/objects/%.2s/%s", f->recv, h, h + 2);
    assert_int_not_equal(access(inrecv, F_OK), 0);
    free(inrecv);
}

static void test_extra_file_in_cut(void **state)
{
    fx *f = *state;
    char *p = inc_path(f, "cuts/2/tracker.js");
    write_bytes(p, "alert(1)", 8);
    free(p);
    refused_then_honest(f, "extra-file");
}

static void test_extra_file_at_top(void **state)
{
    fx *f = *state;
    char *p = inc_path(f, "index.html");
    write_bytes(p, "<p>fake</p>", 11);
    free(p);
    refused_then_honest(f, "extra-file");
}

/* ---------------------------------------------------------------- 8-10: sizes */
static void test_object_larger_than_declared(void **state)
{
    fx *f = *state;
    char *o = some_incoming_object(f);
    FILE *fp = fopen(o, "ab");
    fputs("and more and more", fp);
    fclose(fp);
    free(o);
    refused_then_honest(f, "oversize");
}

static void test_endless_object_sparse(void **state)
{
    fx *f = *state;
    /* 64 GiB of "data" (sparse): refused from its size without reading it. */
    char *o = some_incoming_object(f);
    assert_int_equal(truncate(o, (off_t)64 << 30), 0);
    free(o);
    refused_then_honest(f, "oversize");
}

static void test_endless_object_fifo(void **state)
{
    fx *f = *state;
    /* A FIFO never ends: it must be refused as not a regular file, not read. */
    char *o = some_incoming_object(f);
    unlink(o);
    assert_int_equal(mkfifo(o, 0644), 0);
    free(o);
    refused_then_honest(f, "not-regular");
}

static void test_truncated_object(void **state)
{
    fx *f = *state;
    char *o = some_incoming_object(f);
    assert_int_equal(truncate(o, 5), 0);
    free(o);
    refused_then_honest(f, "truncated");
}

/* ---------------------------------------------------------------- 11-14: keys and modes */
static void test_unknown_key(void **state)
{
    fx *f = *state;
    char kl[40], rl[40];
    keynum_line(&f->live, kl);
    keynum_line(&f->rogue, rl);
    offer_edited(f, kl, rl, strlen(rl), &f->rogue);
    refused_then_honest(f, "unknown-key");
}

static void test_key_named_differs_from_signer(void **state)
{
    fx *f = *state;
    /* The manifest claims the drill key, but the live key signed it. */
    char kl[40], dl[40];
    keynum_line(&f->live, kl);
    keynum_line(&f->drill, dl);
    offer_edited(f, kl, dl, strlen(dl), &f->live);
    refused_then_honest(f, "key-mismatch");
}

static void test_drill_cut_signed_by_drill_key(void **state)
{
    fx *f = *state;
    /* A genuine drill cut (drill key, mode drill): a live broadcaster does not trust the drill key. */
    size_t n, n1, n2;
    char *m = manifest_text(f, 2, &n);
    char kl[40], dl[40];
    keynum_line(&f->live, kl);
    keynum_line(&f->drill, dl);
    char *a = replace(m, n, "# mode: live", "# mode: drill", &n1);
    char *b = replace(a, n1, kl, dl, &n2);
    offer_signed(f, 2, b, n2, &f->drill);
    free(m), free(a), free(b);
    refused_then_honest(f, "unknown-key");
}

static void test_drill_cut_offered_as_live(void **state)
{
    fx *f = *state;
    /* Marked drill but signed with the live key (an operator's mistake): still refused. */
    offer_edited(f, "# mode: live", "# mode: drill", 13, &f->live);
    refused_then_honest(f, "mode");
}

/* ---------------------------------------------------------------- 15-18: sequence and chain */
static void test_rollback(void **state)
{
    fx *f = *state;
    expect_honest_accepted(f); /* active 2 */
    uint64_t seq;
    site_set(&f->s, "index.html", "corte 3");
    assert_int_equal(make_cut(f->inst, &f->s, &f->live, PREP_CUT_LIVE, T0 + 600, 3600, &seq, &f->d), PREP_OK);
    deliver(f->inst, 3, f->recv, f->inc);
    f->pol.now = T0 + 700;
    assert_int_equal(prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &f->d), PREP_OK);
    /* Replaying the genuine, validly signed cut 2. */
    deliver(f->inst, 2, f->recv, f->inc);
    expect_refusal(f, "rollback");
    assert_int_equal(active_seq(f->recv), 3);
    expect_store_good(f);
}

static void test_same_sequence_other_content(void **state)
{
    fx *f = *state;
    expect_honest_accepted(f); /* active 2 */
    /* A second, validly signed cut 2 with other content (equivocation). */
    size_t n, on;
    char *m = manifest_text(f, 2, &n);
    char *e = replace(m, n, "# elections: gubernatura diputaciones ayuntamientos", "# elections: gubernatura", &on);
    offer_signed(f, 2, e, on, &f->live);
    free(m), free(e);
    expect_refusal(f, "conflict");
    assert_int_equal(active_seq(f->recv), 2);
    expect_store_good(f);
}

static void test_broken_chain(void **state)
{
    fx *f = *state;
    size_t n;
    char *m = manifest_text(f, 2, &n);
    char *prev = strstr(m, "# previous: ") + 12;
    char wrong[65];
    memcpy(wrong, prev, 64);
    wrong[64] = 0;
    char right[65];
    memcpy(right, wrong, 65);
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    free(m);
    offer_edited(f, right, wrong, 64, &f->live);
    refused_then_honest(f, "chain-broken");
}

static void test_chain_gap(void **state)
{
    fx *f = *state;
    uint64_t seq;
    site_set(&f->s, "index.html", "corte 3");
    assert_int_equal(make_cut(f->inst, &f->s, &f->live, PREP_CUT_LIVE, T0 + 600, 3600, &seq, &f->d), PREP_OK);
    deliver(f->inst, 3, f->recv, f->inc); /* cut 2 never delivered */
    f->pol.now = T0 + 700;
    refused_then_honest(f, "chain-gap");
}

/* ---------------------------------------------------------------- 19-20: clock */
static void test_future_instant(void **state)
{
    fx *f = *state;
    /* The cut says 20:05; this clock says 19:58: 420 s ahead, beyond the 300 s skew. */
    f->pol.now = T0 + 300 - 420;
    expect_refusal(f, "future-instant");
    expect_store_good(f);
    f->pol.now = T0 + 300 - 299; /* within the skew: accepted */
    expect_honest_accepted(f);
}

static void test_past_validity_horizon(void **state)
{
    fx *f = *state;
    /* Cut 2 is valid until 21:05 (T0 + 300 + 3600); the clock is one second later. */
    f->pol.now = T0 + 300 + 3600 + 1;
    expect_refusal(f, "expired");
    expect_store_good(f);
    /* Frozen at cut 1, which is past its own horizon too: the pages say "desactualizado". */
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f->recv, 0, &m, NULL), PREP_OK);
    assert_int_equal(prep_cut_is_stale(&m, f->pol.now), 1);
    assert_int_equal(prep_cut_is_stale(&m, T0 + 3600), 0);
    prep_cut_manifest_free(&m);
}

static void test_catch_up_through_expired_cuts(void **state)
{
    fx *f = *state;
    /* Back from an outage: cut 2 (valid until T0 + 3900) has expired, cut 3 (made at
     * T0 + 4000) is current. The batch 2+3 is accepted; cut 2 alone is not. */
    uint64_t seq;
    site_set(&f->s, "index.html", "corte 3");
    assert_int_equal(make_cut(f->inst, &f->s, &f->live, PREP_CUT_LIVE, T0 + 4000, 3600, &seq, &f->d), PREP_OK);
    f->pol.now = T0 + 4100;
    expect_refusal(f, "expired"); /* the incoming area holds cut 2 only */
    char *inc3 = pathf("%s/inc3", f->t);
    deliver(f->inst, 3, f->recv, inc3);
    assert_int_equal(sh("cp -r %s/cuts/3 %s/cuts/ && cp -rn %s/objects/. %s/objects/", inc3, f->inc, inc3, f->inc), 0);
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_result res;
    assert_int_equal(prep_cut_receive(f->recv, f->inc, &f->pol, &res, &d), PREP_OK);
    assert_int_equal(res.accepted, 2);
    assert_int_equal(active_seq(f->recv), 3);
    prep_diags_free(&d);
    expect_store_good(f);
    free(inc3);
}

/* ---------------------------------------------------------------- 21-23: path traversal */
static void test_path_dotdot(void **state)
{
    fx *f = *state;
    offer_edited(f, "  LEEME.txt", "  ../../etc/cron.d/x", 20, &f->live);
    refused_then_honest(f, "bad-path");
}

static void test_path_absolute(void **state)
{
    fx *f = *state;
    offer_edited(f, "  LEEME.txt", "  /etc/passwd", 13, &f->live);
    refused_then_honest(f, "bad-path");
}

static void test_path_nul(void **state)
{
    fx *f = *state;
    offer_edited(f, "  LEEME.txt", "  LEEME\0.txt", 12, &f->live);
    refused_then_honest(f, "bad-path");
}

/* ---------------------------------------------------------------- 24-25: symlinks */
static void test_symlink_in_store(void **state)
{
    fx *f = *state;
    /* index.html did not change: cut 2 reuses the object the store already has. */
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(f->recv, 1, &m, NULL), PREP_OK);
    const prep_cut_entry *e = prep_cut_manifest_find(&m, "index.html");
    char p[4096];
    assert_int_equal(prep_cut_object_path(f->recv, e->sha256, p, sizeof p), 0);
    prep_cut_manifest_free(&m);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink("/etc/passwd", p), 0);
    expect_refusal(f, "symlink");
    /* verify names the damage too. */
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_verify(f->recv, 0, &f->pol, NULL, &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "symlink"));
    prep_diags_free(&d);
}

static void test_symlink_in_incoming(void **state)
{
    fx *f = *state;
    char *o = some_incoming_object(f);
    char *keep = pathf("%s/keep", f->t);
    assert_int_equal(rename(o, keep), 0);
    assert_int_equal(symlink(keep, o), 0); /* points at the right bytes, still refused */
    free(o), free(keep);
    refused_then_honest(f, "symlink");
}

/* ---------------------------------------------------------------- 26-28: truncation and limits */
static void test_truncated_manifest(void **state)
{
    fx *f = *state;
    char *mp = inc_path(f, "cuts/2/manifest");
    size_t n;
    char *b = read_all(mp, &n);
    assert_int_equal(truncate(mp, (off_t)(n / 2)), 0); /* not re-signed */
    free(mp);
    expect_refusal(f, "bad-signature");
    /* Even if the institute's key signed a truncated manifest, the parser refuses it. */
    offer_signed(f, 2, b, n - 40, &f->live);
    free(b);
    refused_then_honest(f, "truncated");
}

static void test_ten_million_entries(void **state)
{
    fx *f = *state;
    /* A manifest declaring 10,000,000 files: refused at that line, before any allocation. */
    size_t n;
    char *m = manifest_text(f, 2, &n);
    char *at = strstr(m, "# files: ");
    char old[32];
    snprintf(old, sizeof old, "%.*s", (int)(strchr(at, '\n') - at), at);
    free(m);
    offer_edited(f, old, "# files: 10000000", 17, &f->live);
    expect_refusal(f, "limit");
    /* A 300 MiB manifest file (sparse): refused from its size, never read. */
    char *mp = inc_path(f, "cuts/2/manifest");
    assert_int_equal(truncate(mp, (off_t)300 << 20), 0);
    free(mp);
    expect_refusal(f, "limit");
    /* And a real manifest over a lowered entry limit. */
    f->pol.limits.max_files = 5;
    deliver(f->inst, 2, f->recv, f->inc);
    expect_refusal(f, "limit");
    f->pol.limits.max_files = 1000000;
    expect_store_good(f);
    expect_honest_accepted(f);
}

static void test_oversized_signature_file(void **state)
{
    fx *f = *state;
    char *sp = inc_path(f, "cuts/2/manifest.sig");
    char *junk = calloc(1, 1 << 20);
    memset(junk, 'A', 1 << 20);
    write_bytes(sp, junk, 1 << 20);
    free(junk), free(sp);
    refused_then_honest(f, "sig-envelope");
}

/* ---------------------------------------------------------------- 29-31: manifest content */
static void test_duplicated_path(void **state)
{
    fx *f = *state;
    /* Two entries for LEEME.txt (the second takes the place of datos/..., keeping order). */
    offer_edited(f, "  datos/QRO_GUB_2021.csv", "  LEEME.txt", 11, &f->live);
    refused_then_honest(f, "duplicate-path");
}

static void test_non_utf8_path(void **state)
{
    fx *f = *state;
    offer_edited(f, "  LEEME.txt", "  LEEM\xc9.txt", strlen("  LEEM\xc9.txt"), &f->live); /* Latin-1 'É' */
    refused_then_honest(f, "not-utf8");
}

static void test_other_process(void **state)
{
    fx *f = *state;
    offer_edited(f, "# process: qro2021", "# process: qroo2019", 19, &f->live);
    refused_then_honest(f, "process-mismatch");
}

static void test_sequence_not_its_directory(void **state)
{
    fx *f = *state;
    /* Cut 2's files placed as cut 3. */
    char *a = inc_path(f, "cuts/2"), *b = inc_path(f, "cuts/3");
    assert_int_equal(rename(a, b), 0);
    free(a), free(b);
    refused_then_honest(f, "manifest-field");
}

/* ---------------------------------------------------------------- 34-36: manifest patches */
static void test_patch_honest(void **state)
{
    fx *f = *state;
    make_patch_delivery(f->inst, 2, f->inc);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &d), PREP_OK);
    assert_int_equal(active_seq(f->recv), 2);
    prep_diags_free(&d);
    expect_store_good(f);
}

static void test_patch_for_another_base(void **state)
{
    fx *f = *state;
    /* A patch made against cut 2 itself (a receiver that is not where the sender thinks). */
    prep_cut_manifest m2;
    assert_int_equal(prep_cut_load(f->inst, 2, &m2, NULL), PREP_OK);
    prep_buf pb;
    prep_buf_init(&pb, 0);
    assert_int_equal(prep_cut_manifest_diff(&m2, &m2, &pb), PREP_OK);
    char *mp = inc_path(f, "cuts/2/manifest"), *pp = inc_path(f, "cuts/2/manifest.patch");
    unlink(mp);
    write_bytes(pp, pb.data, pb.len);
    prep_buf_free(&pb);
    prep_cut_manifest_free(&m2);
    free(mp), free(pp);
    refused_then_honest(f, "patch-base");
}

static void test_patch_rebuilding_other_bytes(void **state)
{
    fx *f = *state;
    /* A consistent patch (its result line matches what it rebuilds) that makes a manifest
     * the institute did not sign: LEEME.txt pointed at other content. */
    size_t n, on;
    char *m = manifest_text(f, 2, &n);
    char evil[65];
    prep_sha256_hex("Base de datos falsa.\n", 21, evil);
    const char *line = strstr(m, "  LEEME.txt\n") - 64;
    char honest[65];
    memcpy(honest, line, 64);
    honest[64] = 0;
    char *e = replace(m, n, honest, evil, &on);
    char *e2 = replace(e, on, "#f 39 text/plain", "#f 21 text/plain", &on);
    char *e3 = strstr(e2, "# bytes: ");
    unsigned long long total = strtoull(e3 + 9, NULL, 10);
    char from[40], to[40];
    snprintf(from, sizeof from, "# bytes: %llu\n", total);
    snprintf(to, sizeof to, "# bytes: %llu\n", total - 18);
    char *e4 = replace(e2, on, from, to, &on);
    prep_cut_manifest base, evilm;
    assert_int_equal(prep_cut_load(f->inst, 1, &base, NULL), PREP_OK);
    prep_diags d;
    prep_diags_init(&d);
    if (prep_cut_manifest_parse(e4, on, NULL, "evil", &evilm, &d)) {
        prep_diags_print(&d, stderr, 3);
        fail_msg("the tampered manifest should still parse");
    }
    prep_buf pb;
    prep_buf_init(&pb, 0);
    assert_int_equal(prep_cut_manifest_diff(&base, &evilm, &pb), PREP_OK);
    char *mp = inc_path(f, "cuts/2/manifest"), *pp = inc_path(f, "cuts/2/manifest.patch");
    unlink(mp);
    write_bytes(pp, pb.data, pb.len);
    char *dir = pathf("%s/objects/%.2s", f->inc, evil);
    assert_int_equal(prep_mkdirs(dir), PREP_OK);
    char *op = pathf("%s/%s", dir, evil + 2);
    write_bytes(op, "Base de datos falsa.\n", 21);
    refused_then_honest(f, "bad-signature");
    prep_buf_free(&pb);
    prep_cut_manifest_free(&base);
    prep_cut_manifest_free(&evilm);
    prep_diags_free(&d);
    free(m), free(e), free(e2), free(e4), free(mp), free(pp), free(dir), free(op);
}


/* ---------------------------------------------------------------- 37-: the compressed form
 * An object may come as objects/aa/<sha>.gz and a patch as manifest.patch.gz
 * (docs/formats/cut.md §5). Nothing of them is trusted: the inflated bytes are bounded by
 * the signed size + 1 and hashed as if they had come raw. The gzip here is zlib's own
 * (windowBits 31), not the program's. */
static unsigned char *gz_bytes(const void *in, size_t n, size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)n) + 64;
    unsigned char *o = malloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = o;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *outn = cap - z.avail_out;
    deflateEnd(&z);
    return o;
}

/* The incoming object with the most bytes (the section page): its path (owned). */
static char *largest_incoming_object(fx *f)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find %s/objects -type f -printf '%%s %%p\\n' | sort -n | tail -n 1 | cut -d' ' -f2",
             f->inc);
    FILE *p = popen(cmd, "r");
    char buf[1024] = "";
    assert_non_null(fgets(buf, sizeof buf, p));
    pclose(p);
    buf[strcspn(buf, "\n")] = 0;
    return prep_xstrdup(buf);
}

/* Replaces incoming file path by path.gz holding the gzip of bytes (n); returns path.gz. */
static char *put_gz(const char *path, const void *bytes, size_t n)
{
    size_t gn;
    unsigned char *g = gz_bytes(bytes, n, &gn);
    char *gp = pathf("%s.gz", path);
    unlink(path);
    write_bytes(gp, g, gn);
    free(g);
    return gp;
}

/* Every incoming object (and the patch, when there is one) replaced by its gzip. */
static void gz_everything(fx *f)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "find %s -type f \\( -path '*/objects/*' -o -name manifest.patch \\)", f->inc);
    FILE *p = popen(cmd, "r");
    char buf[1024];
    int n = 0;
    while (fgets(buf, sizeof buf, p)) {
        buf[strcspn(buf, "\n")] = 0;
        size_t bn;
        char *b = read_all(buf, &bn);
        free(put_gz(buf, b, bn));
        free(b);
        n++;
    }
    pclose(p);
    assert_true(n >= 2);
}

static void test_gz_honest(void **state)
{
    fx *f = *state;
    make_patch_delivery(f->inst, 2, f->inc);
    gz_everything(f);
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_result r;
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, &r, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f->recv), 2);
    assert_int_equal(r.objects_copied, 2);
    prep_diags_free(&d);
    /* stored raw: every object's name is the SHA-256 of its bytes */
    assert_int_equal(sh("cd %s/objects && for f in */*; do h=$(sha256sum < $f | cut -c1-64); "
                        "[ \"$h\" = \"${f%%%%/*}${f#*/}\" ] || exit 1; done",
                        f->recv),
                     0);
    expect_store_good(f);
}

/* A gzip bomb small enough to pass the size check: 3 MB of zeros in ~3 KB, offered for a
 * 340-byte object. Inflation stops one byte past the declared size. */
static void test_gz_bomb(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    size_t n = 3u << 20;
    char *z = calloc(1, n);
    free(put_gz(o, z, n));
    free(z), free(o);
    refused_then_honest(f, "oversize");
}

/* A .gz longer than any gzip of the declared size is refused from its size, unread. */
static void test_gz_longer_than_any_gzip(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    char *gp = pathf("%s.gz", o);
    unlink(o);
    int fd = open(gp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)64 << 30), 0); /* sparse 64 GiB */
    close(fd);
    free(gp), free(o);
    refused_then_honest(f, "oversize");
}

static void test_gz_truncated(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    size_t n, gn;
    char *b = read_all(o, &n);
    char *gp = put_gz(o, b, n);
    char *g = read_all(gp, &gn);
    write_bytes(gp, g, gn / 2);
    free(b), free(g), free(gp), free(o);
    refused_then_honest(f, "truncated");
}

/* A whole gzip stream of fewer bytes than declared. */
static void test_gz_shorter_stream(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    size_t n;
    char *b = read_all(o, &n);
    free(put_gz(o, b, n - 1));
    free(b), free(o);
    refused_then_honest(f, "truncated");
}

static void test_gz_trailing_garbage(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    size_t n;
    char *b = read_all(o, &n);
    char *gp = put_gz(o, b, n);
    FILE *fp = fopen(gp, "ab");
    fputs("garbage", fp);
    fclose(fp);
    free(b), free(gp), free(o);
    refused_then_honest(f, "bad-gzip");
}

/* A second gzip member after the first (gzip -dc would print both): refused too. */
static void test_gz_second_member(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    size_t n, gn;
    char *b = read_all(o, &n);
    char *gp = put_gz(o, b, n);
    unsigned char *g2 = gz_bytes("x", 1, &gn);
    FILE *fp = fopen(gp, "ab");
    fwrite(g2, 1, gn, fp);
    fclose(fp);
    free(b), free(g2), free(gp), free(o);
    refused_then_honest(f, "bad-gzip");
}

static void test_gz_corrupt_crc(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    size_t n;
    char *b = read_all(o, &n);
    char *gp = put_gz(o, b, n);
    flip_byte(gp, -6); /* inside the CRC-32 */
    free(b), free(gp), free(o);
    refused_then_honest(f, "bad-gzip");
}

static void test_gz_not_gzip(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    char *gp = pathf("%s.gz", o);
    assert_int_equal(rename(o, gp), 0); /* the raw bytes under the .gz name */
    free(gp), free(o);
    refused_then_honest(f, "bad-gzip");
}

/* A valid gzip of other bytes of the declared size: inflates fine, hashes wrong. */
static void test_gz_of_the_wrong_object(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    size_t n;
    char *b = read_all(o, &n);
    b[n / 2] ^= 1;
    free(put_gz(o, b, n));
    free(b), free(o);
    refused_then_honest(f, "hash-mismatch");
    /* nothing of it reached the store */
    assert_int_equal(sh("cd %s/objects && for f in */*; do h=$(sha256sum < $f | cut -c1-64); "
                        "[ \"$h\" = \"${f%%%%/*}${f#*/}\" ] || exit 1; done",
                        f->recv),
                     0);
}

/* Both forms of one object: the raw one is taken and the .gz is never read (here it is
 * garbage, and the cut is still accepted whole). */
static void test_gz_both_forms(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    char *gp = pathf("%s.gz", o);
    write_bytes(gp, "not gzip", 8);
    free(gp), free(o);
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_receive(f->recv, f->inc, &f->pol, NULL, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(active_seq(f->recv), 2);
    prep_diags_free(&d);
    expect_store_good(f);
}

static void test_gz_extra(void **state)
{
    fx *f = *state;
    char h[65];
    prep_sha256_hex("evil", 4, h);
    char *dir = pathf("%s/objects/%.2s", f->inc, h);
    assert_int_equal(prep_mkdirs(dir), PREP_OK);
    char *p = pathf("%s/%s", dir, h + 2);
    write_bytes(p, "evil", 4);
    free(put_gz(p, "evil", 4));
    free(dir), free(p);
    refused_then_honest(f, "extra-file");
}

static void test_gz_symlink(void **state)
{
    fx *f = *state;
    char *o = largest_incoming_object(f);
    size_t n;
    char *b = read_all(o, &n);
    char *gp = put_gz(o, b, n);
    char *real = pathf("%s/elsewhere.gz", f->t);
    assert_int_equal(rename(gp, real), 0);
    assert_int_equal(symlink(real, gp), 0);
    free(b), free(gp), free(real), free(o);
    refused_then_honest(f, "symlink");
}

static void test_gz_patch_truncated(void **state)
{
    fx *f = *state;
    make_patch_delivery(f->inst, 2, f->inc);
    char *pp = inc_path(f, "cuts/2/manifest.patch");
    size_t n, gn;
    char *b = read_all(pp, &n);
    char *gp = put_gz(pp, b, n);
    char *g = read_all(gp, &gn);
    write_bytes(gp, g, gn - 9);
    free(b), free(g), free(gp), free(pp);
    refused_then_honest(f, "truncated");
}

/* A patch that inflates past the manifest limit: stopped there. */
static void test_gz_patch_bomb(void **state)
{
    fx *f = *state;
    make_patch_delivery(f->inst, 2, f->inc);
    char *pp = inc_path(f, "cuts/2/manifest.patch");
    size_t n = 3u << 20;
    char *z = calloc(1, n);
    free(put_gz(pp, z, n));
    free(z), free(pp);
    f->pol.limits.max_manifest_bytes = 1u << 20;
    expect_refusal(f, "oversize");
    expect_store_good(f);
    prep_cut_limits_default(&f->pol.limits);
    expect_honest_accepted(f);
}

static void test_gz_patch_both_forms(void **state)
{
    fx *f = *state;
    make_patch_delivery(f->inst, 2, f->inc);
    char *pp = inc_path(f, "cuts/2/manifest.patch");
    size_t n;
    char *b = read_all(pp, &n);
    size_t gn;
    unsigned char *g = gz_bytes(b, n, &gn);
    char *gp = pathf("%s.gz", pp);
    write_bytes(gp, g, gn);
    free(b), free(g), free(gp), free(pp);
    refused_then_honest(f, "extra-file");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_flipped_byte_in_object),
        T(test_flipped_byte_in_manifest),
        T(test_flipped_byte_in_signature),
        T(test_missing_object),
        T(test_extra_object),
        T(test_extra_file_in_cut),
        T(test_extra_file_at_top),
        T(test_object_larger_than_declared),
        T(test_endless_object_sparse),
        T(test_endless_object_fifo),
        T(test_truncated_object),
        T(test_unknown_key),
        T(test_key_named_differs_from_signer),
        T(test_drill_cut_signed_by_drill_key),
        T(test_drill_cut_offered_as_live),
        T(test_rollback),
        T(test_same_sequence_other_content),
        T(test_broken_chain),
        T(test_chain_gap),
        T(test_future_instant),
        T(test_past_validity_horizon),
        T(test_catch_up_through_expired_cuts),
        T(test_path_dotdot),
        T(test_path_absolute),
        T(test_path_nul),
        T(test_symlink_in_store),
        T(test_symlink_in_incoming),
        T(test_truncated_manifest),
        T(test_ten_million_entries),
        T(test_oversized_signature_file),
        T(test_duplicated_path),
        T(test_non_utf8_path),
        T(test_other_process),
        T(test_sequence_not_its_directory),
        T(test_patch_honest),
        T(test_patch_for_another_base),
        T(test_patch_rebuilding_other_bytes),
        T(test_gz_honest),
        T(test_gz_bomb),
        T(test_gz_longer_than_any_gzip),
        T(test_gz_truncated),
        T(test_gz_shorter_stream),
        T(test_gz_trailing_garbage),
        T(test_gz_second_member),
        T(test_gz_corrupt_crc),
        T(test_gz_not_gzip),
        T(test_gz_of_the_wrong_object),
        T(test_gz_both_forms),
        T(test_gz_extra),
        T(test_gz_symlink),
        T(test_gz_patch_truncated),
        T(test_gz_patch_bomb),
        T(test_gz_patch_both_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
