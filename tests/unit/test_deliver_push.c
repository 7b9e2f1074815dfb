/* prep deliver, push: the pure parts (what to send given the last delivered cut, temp
 * names, URL checks and building, rename commands, backoff, state) and the engine
 * against a closed port. Transfers to real servers: tests/integ/deliver_push.sh. */
#include "test_cut_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "prep/deliver.h"

static const prep_cut_mode LIVE = PREP_CUT_LIVE;

/* ---------------------------------------------------------------- fixtures */
typedef struct fx {
    char *dir, *store;
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    site s;
} fx;

/* A store with cuts 1..ncuts; cut k (k >= 2) changes index.html and page k-1. */
static void fx_make(fx *f, int ncuts)
{
    f->dir = tmpdir_new();
    f->store = pathf("%s/store", f->dir);
    key_from_seed(11, &f->sk, &f->pk);
    site_init(&f->s, 40);
    prep_diags d;
    prep_diags_init(&d);
    for (int k = 1; k <= ncuts; k++) {
        if (k >= 2) {
            char p[64];
            site_set(&f->s, "index.html", "<!doctype html><title>PREP</title><p>Corte %d</p>%0400d", k, 0);
            snprintf(p, sizeof p, "gubernatura/seccion-%04d/index.html", k - 1);
            site_set(&f->s, p, "<!doctype html><title>Sección %d</title><p>%d actas</p>%0300d", k - 1, k, 0);
        }
        uint64_t seq = 0;
        assert_int_equal(make_cut(f->store, &f->s, &f->sk, LIVE, T0 + 300 * k, 24 * 3600, &seq, &d), PREP_OK);
        assert_int_equal(seq, (uint64_t)k);
    }
    prep_diags_free(&d);
}

static void fx_free(fx *f)
{
    rm_rf(f->dir);
    free(f->dir);
    free(f->store);
    site_free(&f->s);
}

/* What a push leaves in the broadcaster's incoming area, made locally: every file of
 * the plan at its remote name. */
static void apply_plan(const prep_deliver_plan *p, const char *incoming)
{
    for (size_t i = 0; i < p->n; i++) {
        const prep_deliver_file *f = &p->files[i];
        char *to = pathf("%s/%s", incoming, f->remote);
        char *slash = strrchr(to, '/');
        *slash = 0;
        assert_int_equal(prep_mkdirs(to), PREP_OK);
        *slash = '/';
        if (f->data)
            write_bytes(to, f->data, (size_t)f->size);
        else
            copy_file_to(f->local, to);
        free(to);
    }
}

static size_t count_kind(const prep_deliver_plan *p, prep_deliver_file_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) n += p->files[i].kind == k;
    return n;
}

/* ---------------------------------------------------------------- plans */
static void test_plan_fresh_sends_all(void **st)
{
    (void)st;
    fx f;
    fx_make(&f, 1);
    prep_deliver_plan p;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_deliver_plan_make(f.store, 0, 1, &p, &d), PREP_OK);
    /* Site: index.html, LEEME.txt, the csv and 40 pages, all different bytes -> 43
     * objects; then one manifest and one signature. */
    assert_int_equal(p.objects, 43);
    assert_int_equal(p.n, 45);
    assert_int_equal(p.cuts, 1);
    assert_int_equal(count_kind(&p, PREP_DELIVER_PATCH), 0);
    assert_int_equal(p.files[43].kind, PREP_DELIVER_MANIFEST);
    assert_string_equal(p.files[43].remote, "cuts/1/manifest");
    assert_int_equal(p.files[44].kind, PREP_DELIVER_SIG);
    assert_string_equal(p.files[44].remote, "cuts/1/manifest.sig");
    uint64_t sum = 0;
    for (size_t i = 0; i < p.n; i++) sum += p.files[i].size;
    assert_int_equal(p.bytes, sum);
    /* Object names are the store's layout: objects/aa/<62 hex>. */
    assert_int_equal(strncmp(p.files[0].remote, "objects/", 8), 0);
    assert_int_equal(strlen(p.files[0].remote), 8 + 2 + 1 + 62);
    /* It is exactly what an empty broadcaster needs. */
    char *in = pathf("%s/in", f.dir), *bs = pathf("%s/bstore", f.dir);
    apply_plan(&p, in);
    prep_cut_policy pol;
    policy_for(&pol, &f.pk, T0 + 400);
    assert_int_equal(prep_cut_receive(bs, in, &pol, NULL, &d), PREP_OK);
    assert_int_equal(active_seq(bs), 1);
    free(in), free(bs);
    prep_deliver_plan_free(&p);
    prep_diags_free(&d);
    fx_free(&f);
}

static void test_plan_next_sends_only_new(void **st)
{
    (void)st;
    fx f;
    fx_make(&f, 2);
    prep_deliver_plan p;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_deliver_plan_make(f.store, 1, 2, &p, &d), PREP_OK);
    /* Cut 2 changed index.html and page 1: two new objects, a patch (2 of 43 entries
     * changed: far smaller than the manifest), the signature. */
    assert_int_equal(p.objects, 2);
    assert_int_equal(p.n, 4);
    assert_int_equal(p.files[2].kind, PREP_DELIVER_PATCH);
    assert_string_equal(p.files[2].remote, "cuts/2/manifest.patch");
    char *mp = pathf("%s/cuts/2/manifest", f.store);
    size_t mlen;
    char *m = read_all(mp, &mlen);
    assert_true(p.files[2].size < mlen);
    assert_string_equal(p.files[3].remote, "cuts/2/manifest.sig");
    /* A broadcaster holding cut 1 activates cut 2 from exactly this. */
    char *in1 = pathf("%s/in1", f.dir), *in2 = pathf("%s/in2", f.dir), *bs = pathf("%s/bstore", f.dir);
    deliver(f.store, 1, bs, in1);
    prep_cut_policy pol;
    policy_for(&pol, &f.pk, T0 + 700);
    assert_int_equal(prep_cut_receive(bs, in1, &pol, NULL, &d), PREP_OK);
    apply_plan(&p, in2);
    prep_cut_result r;
    assert_int_equal(prep_cut_receive(bs, in2, &pol, &r, &d), PREP_OK);
    assert_int_equal(active_seq(bs), 2);
    assert_int_equal(r.objects_copied, 2);
    free(m), free(mp), free(in1), free(in2), free(bs);
    prep_deliver_plan_free(&p);
    prep_diags_free(&d);
    fx_free(&f);
}

static void test_plan_up_to_date(void **st)
{
    (void)st;
    fx f;
    fx_make(&f, 2);
    prep_deliver_plan p;
    assert_int_equal(prep_deliver_plan_make(f.store, 2, 2, &p, NULL), PREP_OK);
    assert_int_equal(p.n, 0);
    assert_int_equal(p.bytes, 0);
    assert_true(prep_is_sha256_hex(p.manifest_sha256));
    prep_deliver_plan_free(&p);
    fx_free(&f);
}

/* Five cuts behind: the batch carries cuts 2..6 (receive refuses a gap), their patches
 * chained, and the union of their new objects: cut k (2..6) brings index.html (new
 * each time) and page k-1 -> 5 + 5 = 10 objects, each sent once. */
static void test_plan_catch_up_five_behind(void **st)
{
    (void)st;
    fx f;
    fx_make(&f, 6);
    prep_deliver_plan p;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_deliver_plan_make(f.store, 1, 6, &p, &d), PREP_OK);
    assert_int_equal(p.cuts, 5);
    assert_int_equal(p.objects, 10);
    assert_int_equal(count_kind(&p, PREP_DELIVER_PATCH), 5);
    assert_int_equal(count_kind(&p, PREP_DELIVER_SIG), 5);
    /* Signatures last, ascending: the newest cut's is the very last file. */
    for (size_t i = 0; i < 5; i++) assert_int_equal(p.files[p.n - 5 + i].kind, PREP_DELIVER_SIG);
    assert_string_equal(p.files[p.n - 1].remote, "cuts/6/manifest.sig");
    assert_string_equal(p.files[p.n - 5].remote, "cuts/2/manifest.sig");
    /* The broadcaster at cut 1 takes the batch and ends on cut 6. */
    char *in1 = pathf("%s/in1", f.dir), *in2 = pathf("%s/in2", f.dir), *bs = pathf("%s/bstore", f.dir);
    deliver(f.store, 1, bs, in1);
    prep_cut_policy pol;
    policy_for(&pol, &f.pk, T0 + 1900);
    assert_int_equal(prep_cut_receive(bs, in1, &pol, NULL, &d), PREP_OK);
    apply_plan(&p, in2);
    prep_cut_result r;
    assert_int_equal(prep_cut_receive(bs, in2, &pol, &r, &d), PREP_OK);
    assert_int_equal(r.accepted, 5);
    assert_int_equal(active_seq(bs), 6);
    prep_deliver_plan_free(&p);
    /* Only the newest cut's objects would not do: receive checks every cut of a batch. */
    assert_int_equal(prep_deliver_plan_make(f.store, 5, 6, &p, &d), PREP_OK);
    assert_int_equal(p.objects, 2);
    free(in1), free(in2), free(bs);
    prep_deliver_plan_free(&p);
    prep_diags_free(&d);
    fx_free(&f);
}

/* The store's retention ("store_keep" of the institute): a target at most N cuts behind
 * still gets its chain; one further behind gets a named refusal, not a missing file. */
static void test_plan_after_retention(void **st)
{
    (void)st;
    fx f;
    fx_make(&f, 6);
    prep_deliver_plan p;
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_gc_result g;
    assert_int_equal(prep_cut_store_gc(f.store, 3, &g, &d), PREP_OK); /* 4..6 keep their objects */
    assert_int_equal(g.cuts_pruned, 3);
    assert_int_equal(prep_deliver_plan_make(f.store, 3, 6, &p, &d), PREP_OK); /* 3 behind */
    assert_int_equal(p.cuts, 3);
    prep_deliver_plan_free(&p);
    assert_int_equal(prep_deliver_plan_make(f.store, 0, 6, &p, &d), PREP_OK); /* an empty store: whole */
    prep_deliver_plan_free(&p);
    assert_int_equal(prep_deliver_plan_make(f.store, 1, 6, &p, &d), PREP_ERR_NOTFOUND); /* 5 behind */
    const prep_diag *x = prep_diags_find(&d, "pruned");
    assert_non_null(x);
    assert_non_null(strstr(x->msg, "cut 2 of its catch-up chain"));
    assert_int_equal(p.n, 0);
    prep_deliver_plan_free(&p);
    prep_diags_free(&d);
    fx_free(&f);
}

static void test_plan_errors(void **st)
{
    (void)st;
    fx f;
    fx_make(&f, 2);
    prep_deliver_plan p;
    prep_diags d;
    prep_diags_init(&d);
    /* A cut the store does not have. */
    assert_int_not_equal(prep_deliver_plan_make(f.store, 0, 7, &p, &d), PREP_OK);
    assert_non_null(prep_diags_find(&d, "missing-cut"));
    assert_int_equal(p.n, 0);
    /* A base the store lost (cut 1 removed): cut 2 is sent whole. */
    char *c1 = pathf("%s/cuts/1", f.store);
    assert_int_equal(sh("rm -rf '%s'", c1), 0);
    assert_int_equal(prep_deliver_plan_make(f.store, 1, 2, &p, &d), PREP_OK);
    assert_int_equal(p.from, 0);
    assert_int_equal(p.objects, 43);
    assert_int_equal(count_kind(&p, PREP_DELIVER_MANIFEST), 1);
    free(c1);
    prep_deliver_plan_free(&p);
    prep_diags_free(&d);
    fx_free(&f);
}

/* ---------------------------------------------------------------- targets and names */
static prep_deliver_target sftp_target(const char *url)
{
    prep_deliver_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "canal-7");
    t.method = PREP_DELIVER_SFTP;
    snprintf(t.url, sizeof t.url, "%s", url);
    snprintf(t.ssh_key, sizeof t.ssh_key, "/etc/prep/id_ed25519");
    snprintf(t.ssh_host_sha256, sizeof t.ssh_host_sha256, "%s", "nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8");
    return t;
}

static prep_deliver_target ftp_target(const char *url)
{
    prep_deliver_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.id, sizeof t.id, "radio-uaq");
    t.method = PREP_DELIVER_FTPS;
    snprintf(t.url, sizeof t.url, "%s", url);
    return t;
}

static void test_target_check(void **st)
{
    (void)st;
    char err[300];
    prep_deliver_target t = sftp_target("sftp://prep@difusor.example.mx:2222/srv/prep/incoming/");
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), 0);
    t = sftp_target("sftp://prep@[::1]:22/in/");
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), 0);
    t = ftp_target("ftp://127.0.0.1:2121/incoming/");
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), 0);
    t = ftp_target("ftp://127.0.0.1/");
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), 0);

    struct {
        int sftp;
        const char *url;
        const char *why; /* a word the message must hold */
    } bad[] = {
        {0, "ftps://127.0.0.1/in/", "implicit"},
        {1, "sftp://127.0.0.1/in/", "user"},
        {1, "sftp://prep@127.0.0.1/in", "end with '/'"},
        {1, "sftp://prep@127.0.0.1/a/../b/", "'..'"},
        {1, "sftp://prep@127.0.0.1/~/in/", "'~'"},
        {1, "sftp://prep@127.0.0.1/a%20b/", "'%'"},
        {0, "ftp://127.0.0.1/in/?x", "'?'"},
        {0, "ftp://127.0.0.1:70000/in/", "70000"},
        {0, "ftp://127.0.0.1:/in/", "port"},
        {0, "ftp://user@127.0.0.1/in/", "user field"},
        {0, "ftp://127.0.0.1/a//b/", "//"},
        {0, "ftp://127.0.0.1", "no path"},
        {0, "http://127.0.0.1/in/", "ftp://"},
        {0, "ftp://ex ample/in/", "not allowed"},
        {0, "ftp://[::1/in/", "IPv6"},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(bad); i++) {
        t = bad[i].sftp ? sftp_target(bad[i].url) : ftp_target(bad[i].url);
        err[0] = 0;
        assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), -1);
        if (!strstr(err, bad[i].why)) fail_msg("%s: message '%s' lacks '%s'", bad[i].url, err, bad[i].why);
    }
    /* SFTP without a pin, with a malformed pin, without a key; a bad id; a pull target. */
    t = sftp_target("sftp://prep@127.0.0.1/in/");
    t.ssh_host_sha256[0] = 0;
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), -1);
    assert_non_null(strstr(err, "pinned host key"));
    snprintf(t.ssh_host_sha256, sizeof t.ssh_host_sha256, "SHA256:abc");
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), -1);
    t = sftp_target("sftp://prep@127.0.0.1/in/");
    t.ssh_key[0] = 0;
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), -1);
    assert_non_null(strstr(err, "private key"));
    t = ftp_target("ftp://127.0.0.1/in/");
    snprintf(t.id, sizeof t.id, "Canal 7");
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), -1);
    t = ftp_target("ftp://127.0.0.1/in/");
    t.method = PREP_DELIVER_PULL;
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), -1);
    /* The password never appears in a message. */
    t = ftp_target("ftp://127.0.0.1:99999/in/");
    snprintf(t.password, sizeof t.password, "s3cr3t-pw");
    assert_int_equal(prep_deliver_target_check(&t, err, sizeof err), -1);
    assert_null(strstr(err, "s3cr3t-pw"));
}

static void test_names_and_commands(void **st)
{
    (void)st;
    char out[700], cmds[2][600];
    prep_deliver_target s = sftp_target("sftp://prep@127.0.0.1:2222/srv/in/");
    prep_deliver_target f = ftp_target("ftp://127.0.0.1:2121/incoming/");
    assert_int_equal(prep_deliver_temp_name("objects/ab/cdef", "0123456789abcdef", out, sizeof out), 0);
    assert_string_equal(out, "objects/ab/cdef.tmp-0123456789abcdef");
    assert_int_equal(prep_deliver_temp_name("cuts/7/manifest.sig", "9f", out, sizeof out), 0);
    assert_string_equal(out, "cuts/7/manifest.sig.tmp-9f");
    assert_int_equal(prep_deliver_temp_name("x", "", out, sizeof out), -1);           /* empty tag */
    assert_int_equal(prep_deliver_temp_name("x", "XYZ", out, sizeof out), -1);        /* not hex */
    assert_int_equal(prep_deliver_temp_name("x", "0123456789abcdef0", out, sizeof out), -1); /* 17 */
    assert_int_equal(prep_deliver_temp_name("objects/ab/cdef", "01", out, 10), -1);  /* does not fit */

    assert_int_equal(prep_deliver_file_url(&s, "cuts/7/manifest.tmp-01", out, sizeof out), 0);
    assert_string_equal(out, "sftp://prep@127.0.0.1:2222/srv/in/cuts/7/manifest.tmp-01");
    assert_int_equal(prep_deliver_file_url(&f, "objects/ab/cd", out, sizeof out), 0);
    assert_string_equal(out, "ftp://127.0.0.1:2121/incoming/objects/ab/cd");
    assert_int_equal(prep_deliver_file_url(&f, "objects/ab/cd", out, 20), -1);

    /* SFTP: absolute paths, remove first (rename cannot overwrite; '*' = may fail). */
    assert_int_equal(prep_deliver_rename_cmds(&s, "cuts/7/manifest.tmp-01", "cuts/7/manifest", cmds, 600), 2);
    assert_string_equal(cmds[0], "*rm /srv/in/cuts/7/manifest");
    assert_string_equal(cmds[1], "rename /srv/in/cuts/7/manifest.tmp-01 /srv/in/cuts/7/manifest");
    /* FTPS: names in the directory libcurl changed into. */
    assert_int_equal(prep_deliver_rename_cmds(&f, "objects/ab/cd.tmp-01", "objects/ab/cd", cmds, 600), 2);
    assert_string_equal(cmds[0], "RNFR cd.tmp-01");
    assert_string_equal(cmds[1], "RNTO cd");
}

static void test_backoff_schedule(void **st)
{
    (void)st;
    /* base 1000, cap 8000: the window is 1000, 2000, 4000, 8000, 8000...; equal jitter
     * keeps its upper half: [w/2, w). */
    assert_int_equal(prep_deliver_backoff_ms(0, 1000, 8000, 0.5), 0);
    assert_int_equal(prep_deliver_backoff_ms(1, 1000, 8000, 0.0), 500);   /* 1000 - 500 + 0 */
    assert_int_equal(prep_deliver_backoff_ms(1, 1000, 8000, 0.5), 750);   /* 500 + 500*0.5 */
    assert_int_equal(prep_deliver_backoff_ms(2, 1000, 8000, 0.0), 1000);  /* w 2000 */
    assert_int_equal(prep_deliver_backoff_ms(3, 1000, 8000, 0.5), 3000);  /* w 4000: 2000 + 1000 */
    assert_int_equal(prep_deliver_backoff_ms(4, 1000, 8000, 0.0), 4000);  /* w 8000 */
    assert_int_equal(prep_deliver_backoff_ms(9, 1000, 8000, 0.0), 4000);  /* capped */
    assert_true(prep_deliver_backoff_ms(60, 1000, 8000, 0.999) < 8000);   /* no overflow, below cap */
    assert_true(prep_deliver_backoff_ms(200, 1000, UINT64_MAX, 0.0) >= 1000);
    /* Out-of-range randomness is clamped. */
    assert_int_equal(prep_deliver_backoff_ms(1, 1000, 8000, -3.0), 500);
    assert_true(prep_deliver_backoff_ms(1, 1000, 8000, 7.0) < 1000);
    /* Non-decreasing lower bounds. */
    uint64_t prev = 0;
    for (unsigned a = 1; a < 20; a++) {
        uint64_t lo = prep_deliver_backoff_ms(a, 250, 30000, 0.0);
        assert_true(lo >= prev);
        prev = lo;
    }
}

/* The streams' schedule: 5 objects, then manifest (5), patch-less second manifest (6),
 * signatures (7, 8). Objects go out over every free stream; the rest one at a time. */
static void test_sched_objects_parallel_rest_in_order(void **st)
{
    (void)st;
    prep_deliver_sched s;
    assert_int_equal(prep_deliver_sched_init(&s, 9, 5), PREP_OK);
    /* 3 streams: objects 0, 1, 2 start at once. */
    assert_int_equal(prep_deliver_sched_next(&s), 0);
    assert_int_equal(prep_deliver_sched_next(&s), 1);
    assert_int_equal(prep_deliver_sched_next(&s), 2);
    assert_int_equal(s.inflight, 3);
    /* Object 1 ends first: its stream takes object 3. */
    prep_deliver_sched_end(&s, 1, 1);
    assert_int_equal(prep_deliver_sched_next(&s), 3);
    prep_deliver_sched_end(&s, 0, 1);
    assert_int_equal(prep_deliver_sched_next(&s), 4);
    /* Every object has started: file 5 (a manifest) must wait for 2, 3 and 4. */
    assert_int_equal(prep_deliver_sched_next(&s), PREP_DELIVER_SCHED_NONE);
    prep_deliver_sched_end(&s, 2, 1);
    prep_deliver_sched_end(&s, 4, 1);
    assert_int_equal(prep_deliver_sched_next(&s), PREP_DELIVER_SCHED_NONE); /* 3 in flight */
    prep_deliver_sched_end(&s, 3, 1);
    assert_int_equal(s.done, 5);
    /* Then one at a time, in plan order, the last signature last. */
    assert_int_equal(prep_deliver_sched_next(&s), 5);
    assert_int_equal(prep_deliver_sched_next(&s), PREP_DELIVER_SCHED_NONE);
    prep_deliver_sched_end(&s, 5, 1);
    assert_int_equal(prep_deliver_sched_next(&s), 6);
    prep_deliver_sched_end(&s, 6, 1);
    assert_int_equal(prep_deliver_sched_next(&s), 7);
    assert_int_equal(prep_deliver_sched_next(&s), PREP_DELIVER_SCHED_NONE);
    prep_deliver_sched_end(&s, 7, 1);
    assert_int_equal(prep_deliver_sched_next(&s), 8);
    prep_deliver_sched_end(&s, 8, 1);
    assert_int_equal(s.done, 9);
    assert_int_equal(s.inflight, 0);
    assert_int_equal(prep_deliver_sched_next(&s), PREP_DELIVER_SCHED_NONE);
    prep_deliver_sched_free(&s);
}

/* A failed file is pending again and is the next one sent; no manifest or signature goes
 * while any object is missing, even when the failure comes after all objects started. */
static void test_sched_failure_resumes_at_failed(void **st)
{
    (void)st;
    prep_deliver_sched s;
    assert_int_equal(prep_deliver_sched_init(&s, 6, 4), PREP_OK);
    for (size_t i = 0; i < 4; i++) assert_int_equal(prep_deliver_sched_next(&s), i);
    prep_deliver_sched_end(&s, 0, 1);
    prep_deliver_sched_end(&s, 2, 0); /* object 2 failed */
    prep_deliver_sched_end(&s, 1, 0); /* object 1 failed too */
    prep_deliver_sched_end(&s, 3, 1);
    assert_int_equal(s.done, 2);
    assert_int_equal(s.inflight, 0);
    /* The retry: 1 and 2, lowest first; then nothing until both are done. */
    assert_int_equal(prep_deliver_sched_next(&s), 1);
    assert_int_equal(prep_deliver_sched_next(&s), 2);
    assert_int_equal(prep_deliver_sched_next(&s), PREP_DELIVER_SCHED_NONE);
    prep_deliver_sched_end(&s, 2, 1);
    assert_int_equal(prep_deliver_sched_next(&s), PREP_DELIVER_SCHED_NONE);
    prep_deliver_sched_end(&s, 1, 1);
    assert_int_equal(prep_deliver_sched_next(&s), 4); /* manifest */
    prep_deliver_sched_end(&s, 4, 0);                 /* failed: it again, not the sig */
    assert_int_equal(prep_deliver_sched_next(&s), 4);
    prep_deliver_sched_end(&s, 4, 1);
    assert_int_equal(prep_deliver_sched_next(&s), 5);
    /* Ending a file that is not in flight changes nothing. */
    prep_deliver_sched_end(&s, 0, 0);
    prep_deliver_sched_end(&s, 99, 1);
    assert_int_equal(s.done, 5);
    prep_deliver_sched_end(&s, 5, 1);
    assert_int_equal(s.done, 6);
    prep_deliver_sched_free(&s);

    /* No objects (a cut that only changed nothing new): strictly sequential. objects > n
     * is clamped. */
    assert_int_equal(prep_deliver_sched_init(&s, 2, 0), PREP_OK);
    assert_int_equal(prep_deliver_sched_next(&s), 0);
    assert_int_equal(prep_deliver_sched_next(&s), PREP_DELIVER_SCHED_NONE);
    prep_deliver_sched_free(&s);
    assert_int_equal(prep_deliver_sched_init(&s, 2, 7), PREP_OK);
    assert_int_equal(s.objects, 2);
    assert_int_equal(prep_deliver_sched_next(&s), 0);
    assert_int_equal(prep_deliver_sched_next(&s), 1);
    prep_deliver_sched_free(&s);
}

static void test_state_roundtrip(void **st)
{
    (void)st;
    char *dir = tmpdir_new();
    uint64_t seq = 99;
    char sha[65];
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_deliver_state_read(dir, "tv", &seq, sha, &d), PREP_ERR_NOTFOUND);
    assert_int_equal(seq, 0);
    const char *h = "30c52efeda853717041f663a0b55010e10bb4c34bfd708bca19247fc4e63e251";
    assert_int_equal(prep_deliver_state_write(dir, "tv", 41, h), PREP_OK);
    assert_int_equal(prep_deliver_state_read(dir, "tv", &seq, sha, &d), PREP_OK);
    assert_int_equal(seq, 41);
    assert_string_equal(sha, h);
    char *p = pathf("%s/tv/state", dir);
    size_t n;
    char *b = read_all(p, &n);
    assert_string_equal(b, "prep-deliver-state 1\nsequence 41\nmanifest "
                           "30c52efeda853717041f663a0b55010e10bb4c34bfd708bca19247fc4e63e251\n");
    free(b);
    /* Garbage: no state (send everything), said in a diag. */
    write_bytes(p, "sequence: many\n", 15);
    assert_int_equal(prep_deliver_state_read(dir, "tv", &seq, sha, &d), PREP_OK);
    assert_int_equal(seq, 0);
    assert_non_null(prep_diags_find(&d, "state"));
    /* Over 4 KiB: damaged, not absent, whatever errno an earlier call left (ENOENT here). */
    prep_diags_free(&d);
    prep_diags_init(&d);
    char big[5000];
    memset(big, 'x', sizeof big);
    write_bytes(p, big, sizeof big);
    errno = ENOENT;
    assert_int_equal(prep_deliver_state_read(dir, "tv", &seq, sha, &d), PREP_OK);
    assert_int_equal(seq, 0);
    assert_non_null(prep_diags_find(&d, "state"));
    free(p);
    rm_rf(dir);
    free(dir);
    prep_diags_free(&d);
}

/* ---------------------------------------------------------------- the engine, no server */
static int free_closed_port(void)
{
    /* A port nobody listens on: bind :0, read it, close. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    close(fd);
    return ntohs(a.sin_port);
}

typedef struct seen {
    int retries, ends, files;
} seen;

static void count_events(void *ctx, const prep_deliver_progress *p)
{
    seen *s = ctx;
    if (p->event == PREP_DELIVER_EV_RETRY) s->retries++;
    if (p->event == PREP_DELIVER_EV_END) s->ends++;
    if (p->event == PREP_DELIVER_EV_FILE) s->files++;
}

static void test_push_down_target_fails_after_retries(void **st)
{
    (void)st;
    fx f;
    fx_make(&f, 1);
    char url[128];
    snprintf(url, sizeof url, "ftp://127.0.0.1:%d/incoming/", free_closed_port());
    prep_deliver_target t[2] = {ftp_target(url), ftp_target(url)};
    snprintf(t[1].id, sizeof t[1].id, "otro");
    prep_deliver_opts o;
    prep_deliver_opts_init(&o);
    o.retries = 2;
    o.backoff_ms = 20;
    o.connect_timeout = 2;
    o.parallel = 1; /* a failing target sleeping between attempts must not hold the slot */
    seen s = {0};
    o.progress = count_events;
    o.progress_ctx = &s;
    prep_deliver_result r[2];
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_deliver_push(f.store, 0, t, 2, &o, r, &d), PREP_ERR_IO);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].status, PREP_DELIVER_FAILED);
        /* The first try and 2 retries: one per round, though the default 8 FTPS streams
         * each failed to connect in every round. */
        assert_int_equal(r[i].attempts, 3);
        assert_int_equal(r[i].seq, 1);
        assert_int_equal(r[i].files, 0);
        assert_non_null(strstr(r[i].error, "cannot connect"));
    }
    assert_int_equal(s.retries, 4);
    assert_int_equal(s.ends, 2);
    /* No state advanced; one delivery record each. */
    char *sp = pathf("%s/deliver/radio-uaq/state", f.store), *rp = pathf("%s/deliver/radio-uaq/deliveries", f.store);
    assert_int_equal(access(sp, F_OK), -1);
    char *rec = read_all(rp, NULL);
    assert_non_null(rec);
    assert_non_null(strstr(rec, " seq=1 from=0 status=failed "));
    free(rec), free(sp), free(rp);
    prep_diags_free(&d);
    fx_free(&f);
}

static void test_push_refuses_bad_target_before_sending(void **st)
{
    (void)st;
    fx f;
    fx_make(&f, 1);
    prep_deliver_target t = ftp_target("ftps://127.0.0.1/in/");
    prep_deliver_result r;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_deliver_push(f.store, 0, &t, 1, NULL, &r, &d), PREP_ERR_INVALID);
    const prep_diag *g = prep_diags_find(&d, "target");
    assert_non_null(g);
    assert_non_null(strstr(g->msg, "radio-uaq"));
    /* A cut that is not there. */
    t = ftp_target("ftp://127.0.0.1/in/");
    assert_int_not_equal(prep_deliver_push(f.store, 9, &t, 1, NULL, &r, &d), PREP_OK);
    assert_non_null(prep_diags_find(&d, "missing-cut"));
    prep_diags_free(&d);
    fx_free(&f);
}

/* A target whose state says it has the cut: up to date, nothing sent, no connection. */
static void test_push_up_to_date(void **st)
{
    (void)st;
    fx f;
    fx_make(&f, 2);
    prep_cut_active a;
    assert_int_equal(prep_cut_active_read(f.store, &a, NULL), PREP_OK);
    char *sd = pathf("%s/state", f.dir);
    assert_int_equal(prep_deliver_state_write(sd, "radio-uaq", 2, a.manifest_sha256), PREP_OK);
    prep_deliver_target t = ftp_target("ftp://127.0.0.1:1/in/");
    prep_deliver_opts o;
    prep_deliver_opts_init(&o);
    o.state_dir = sd;
    prep_deliver_result r;
    assert_int_equal(prep_deliver_push(f.store, 0, &t, 1, &o, &r, NULL), PREP_OK);
    assert_int_equal(r.status, PREP_DELIVER_UPTODATE);
    assert_int_equal(r.from, 2);
    assert_int_equal(r.files, 0);
    /* A state naming another manifest (a rebuilt store): not trusted. */
    assert_int_equal(prep_deliver_state_write(sd, "radio-uaq", 2, "00c52efeda853717041f663a0b55010e10bb4c34bfd708bca19247fc4e63e251"), PREP_OK);
    o.retries = 0;
    o.connect_timeout = 1;
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_deliver_push(f.store, 0, &t, 1, &o, &r, &d), PREP_ERR_IO);
    assert_int_equal(r.from, 0);
    assert_non_null(prep_diags_find(&d, "state"));
    prep_diags_free(&d);
    free(sd);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_fresh_sends_all),
        cmocka_unit_test(test_plan_next_sends_only_new),
        cmocka_unit_test(test_plan_up_to_date),
        cmocka_unit_test(test_plan_catch_up_five_behind),
        cmocka_unit_test(test_plan_errors),
        cmocka_unit_test(test_plan_after_retention),
        cmocka_unit_test(test_target_check),
        cmocka_unit_test(test_names_and_commands),
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_sched_objects_parallel_rest_in_order),
        cmocka_unit_test(test_sched_failure_resumes_at_failed),
        cmocka_unit_test(test_state_roundtrip),
        cmocka_unit_test(test_push_down_target_fails_after_retries),
        cmocka_unit_test(test_push_refuses_bad_target_before_sending),
        cmocka_unit_test(test_push_up_to_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
