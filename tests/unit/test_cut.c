/* Unit tests of cuts: keys and signatures (with OpenBSD signify and openssl as independent
 * implementations), the manifest (a known-answer manifest written by hand, hashes from
 * GNU sha256sum), paths, making, verifying, receiving a chain, delta and export (checked
 * with sha256sum -c, signify -V, gzip -d and libbrotlidec). */
#include "test_cut_util.h"

#include <brotli/decode.h>

static const prep_cut_mode LIVE = PREP_CUT_LIVE;

/* ---------------------------------------------------------------- keys */
static void test_keygen_files(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *name = pathf("%s/inst", t);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_keygen(name, PREP_CUT_LIVE, &d), PREP_OK);
    char *kp = pathf("%s.key", name), *pp = pathf("%s.pub", name);
    struct stat sb;
    assert_int_equal(stat(kp, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    prep_cut_seckey sk;
    prep_cut_pubkey pk, derived;
    assert_int_equal(prep_cut_seckey_load(kp, &sk, &d), PREP_OK);
    assert_int_equal(prep_cut_pubkey_load(pp, &pk, &d), PREP_OK);
    assert_int_equal(sk.mark, PREP_CUT_KEY_LIVE);
    prep_cut_seckey_public(&sk, &derived);
    assert_memory_equal(&derived, &pk, sizeof pk);
    /* A second keygen must not overwrite the secret key. */
    assert_int_not_equal(prep_cut_keygen(name, PREP_CUT_LIVE, &d), PREP_OK);
    assert_non_null(prep_diags_find(&d, "exists"));
    prep_cut_seckey sk2;
    assert_int_equal(prep_cut_seckey_load(kp, &sk2, &d), PREP_OK);
    assert_memory_equal(sk.sk, sk2.sk, 64);
    /* Drill keys are marked as such. */
    char *dn = pathf("%s/drill", t), *dk = pathf("%s/drill.key", t);
    assert_int_equal(prep_cut_keygen(dn, PREP_CUT_DRILL, &d), PREP_OK);
    assert_int_equal(prep_cut_seckey_load(dk, &sk2, &d), PREP_OK);
    assert_int_equal(sk2.mark, PREP_CUT_KEY_DRILL);
    assert_memory_not_equal(sk.sk, sk2.sk, 64);

    /* Sign / verify, wrong key, flipped signature. */
    const char msg[] = "hola";
    prep_cut_sig sig;
    assert_int_equal(prep_cut_sign(&sk, msg, 4, &sig), PREP_OK);
    assert_int_equal(prep_cut_sig_verify(&pk, 1, &sig, msg, 4, NULL, "m", &d), PREP_OK);
    prep_cut_pubkey other;
    prep_cut_seckey_public(&sk2, &other);
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(prep_cut_sig_verify(&other, 1, &sig, msg, 4, NULL, "m", &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "unknown-key"));
    sig.sig[10] ^= 1;
    assert_int_equal(prep_cut_sig_verify(&pk, 1, &sig, msg, 4, NULL, "m", &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "bad-signature"));
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(name), free(kp), free(pp), free(dn), free(dk);
}

/* Our keys and signature files, checked by OpenBSD's signify; signify's, checked by us. */
static void test_signify_interop(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    prep_diags d;
    prep_diags_init(&d);
    char *name = pathf("%s/inst", t);
    assert_int_equal(prep_cut_keygen(name, PREP_CUT_LIVE, &d), PREP_OK);
    prep_cut_seckey sk;
    char *kp = pathf("%s.key", name);
    assert_int_equal(prep_cut_seckey_load(kp, &sk, &d), PREP_OK);
    char *msgp = pathf("%s/msg", t);
    const char msg[] = "# prep-cut-manifest 1\nmensaje firmado\n";
    write_bytes(msgp, msg, strlen(msg));
    prep_cut_sig sig;
    assert_int_equal(prep_cut_sign(&sk, msg, strlen(msg), &sig), PREP_OK);
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_cut_sig_format(&sig, "verify with inst.pub", &b), PREP_OK);
    char *sigp = pathf("%s/msg.sig", t);
    write_bytes(sigp, b.data, b.len);
    prep_buf_free(&b);
    /* 1. signify verifies our signature with our public key. */
    assert_int_equal(sh("signify-openbsd -V -q -p %s.pub -m %s", name, msgp), 0);
    /* ... and refuses it over a changed message. */
    write_bytes(msgp, "# prep-cut-manifest 1\nmensaje firmadO\n", strlen(msg));
    assert_int_not_equal(sh("signify-openbsd -V -q -p %s.pub -m %s 2>/dev/null", name, msgp), 0);
    write_bytes(msgp, msg, strlen(msg));

    /* 2. signify signs with our secret key (it insists on the .sec name). */
    assert_int_equal(sh("cp %s.key %s/ours.sec && signify-openbsd -S -s %s/ours.sec -m %s -x %s/by-signify.sig", name, t,
                        t, msgp, t),
                     0);
    char *bs = pathf("%s/by-signify.sig", t);
    size_t n;
    char *sd = read_all(bs, &n);
    prep_cut_sig s2;
    assert_int_equal(prep_cut_sig_parse(sd, n, bs, &s2, &d), PREP_OK);
    prep_cut_pubkey pk;
    char *pp = pathf("%s.pub", name);
    assert_int_equal(prep_cut_pubkey_load(pp, &pk, &d), PREP_OK);
    assert_int_equal(prep_cut_sig_verify(&pk, 1, &s2, msg, strlen(msg), NULL, bs, &d), PREP_OK);
    /* Ed25519 is deterministic: the same key and message give our very signature. */
    assert_memory_equal(s2.sig, sig.sig, 64);
    free(sd);

    /* 3. A key pair made by signify -G: we read both halves, sign, and signify verifies. */
    assert_int_equal(sh("signify-openbsd -G -n -q -c 'made by signify' -p %s/g.pub -s %s/g.sec", t, t), 0);
    char *gs = pathf("%s/g.sec", t), *gp = pathf("%s/g.pub", t);
    prep_cut_seckey gk;
    prep_cut_pubkey gpk, gder;
    assert_int_equal(prep_cut_seckey_load(gs, &gk, &d), PREP_OK);
    assert_int_equal(gk.mark, PREP_CUT_KEY_UNMARKED);
    assert_int_equal(prep_cut_pubkey_load(gp, &gpk, &d), PREP_OK);
    prep_cut_seckey_public(&gk, &gder);
    assert_memory_equal(&gder, &gpk, sizeof gpk);
    assert_int_equal(prep_cut_sign(&gk, msg, strlen(msg), &sig), PREP_OK);
    prep_buf_init(&b, 0);
    assert_int_equal(prep_cut_sig_format(&sig, "by prep", &b), PREP_OK);
    write_bytes(sigp, b.data, b.len);
    prep_buf_free(&b);
    assert_int_equal(sh("signify-openbsd -V -q -p %s -m %s", gp, msgp), 0);
    /* signify's own signature by its key verifies here; under the other key it is unknown. */
    assert_int_equal(sh("signify-openbsd -S -s %s -m %s -x %s/g.sig", gs, msgp, t), 0);
    char *gsig = pathf("%s/g.sig", t);
    sd = read_all(gsig, &n);
    assert_int_equal(prep_cut_sig_parse(sd, n, gsig, &s2, &d), PREP_OK);
    assert_int_equal(prep_cut_sig_verify(&gpk, 1, &s2, msg, strlen(msg), NULL, gsig, &d), PREP_OK);
    assert_int_equal(prep_cut_sig_verify(&pk, 1, &s2, msg, strlen(msg), NULL, gsig, &d), PREP_ERR_VERIFY);
    free(sd);

    /* 4. A passphrase-protected key (kdfrounds != 0) is refused with its reason. */
    size_t kn;
    char *kd = read_all(kp, &kn);
    char *b64 = strchr(kd, '\n') + 1;
    uint8_t rec[104];
    size_t got;
    assert_int_equal(sodium_base642bin(rec, sizeof rec, b64, strlen(b64) - 1, NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(got, 104);
    rec[7] = 42; /* kdfrounds = 42, big-endian */
    char enc[200];
    sodium_bin2base64(enc, sizeof enc, rec, sizeof rec, sodium_base64_VARIANT_ORIGINAL);
    char *es = pathf("%s/e.sec", t);
    char *etext = pathf("untrusted comment: encrypted\n%s\n", enc);
    write_bytes(es, etext, strlen(etext));
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_not_equal(prep_cut_seckey_load(es, &gk, &d), PREP_OK);
    assert_non_null(prep_diags_find(&d, "key-encrypted"));
    /* A damaged key (one flipped bit of the secret) fails its checksum. */
    rec[7] = 0;
    rec[60] ^= 1;
    sodium_bin2base64(enc, sizeof enc, rec, sizeof rec, sodium_base64_VARIANT_ORIGINAL);
    free(etext);
    etext = pathf("untrusted comment: damaged\n%s\n", enc);
    write_bytes(es, etext, strlen(etext));
    assert_int_not_equal(prep_cut_seckey_load(es, &gk, &d), PREP_OK);
    assert_non_null(prep_diags_find(&d, "key-checksum"));
    free(kd), free(etext);

    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(name), free(kp), free(msgp), free(sigp), free(bs), free(pp), free(gs), free(gp), free(gsig), free(es);
}

/* openssl pkeyutl verifies our signature, with the key and signature cut out of the
 * signify files exactly as docs/formats/cut.md tells a citizen to. */
static void test_openssl_interop(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    prep_diags d;
    prep_diags_init(&d);
    char *name = pathf("%s/inst", t);
    assert_int_equal(prep_cut_keygen(name, PREP_CUT_LIVE, &d), PREP_OK);
    prep_cut_seckey sk;
    char *kp = pathf("%s.key", name);
    assert_int_equal(prep_cut_seckey_load(kp, &sk, &d), PREP_OK);
    const char msg[] = "# prep-cut-manifest 1\nlo que se firma\n";
    char *mp = pathf("%s/SHA256SUMS", t);
    write_bytes(mp, msg, strlen(msg));
    prep_cut_sig sig;
    assert_int_equal(prep_cut_sign(&sk, msg, strlen(msg), &sig), PREP_OK);
    prep_buf b;
    prep_buf_init(&b, 0);
    assert_int_equal(prep_cut_sig_format(&sig, "x", &b), PREP_OK);
    char *sp = pathf("%s/SHA256SUMS.sig", t);
    write_bytes(sp, b.data, b.len);
    prep_buf_free(&b);
#define RECIPE "cd %s && " \
                         "(printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'; " \
                         " tail -n 1 inst.pub | base64 -d | tail -c 32) > inst.der && " \
                         "tail -n 1 SHA256SUMS.sig | base64 -d | tail -c 64 > sig.bin && " \
                         "openssl pkeyutl -verify -pubin -inkey inst.der -keyform DER -rawin " \
                         "-in SHA256SUMS -sigfile sig.bin >/dev/null"
    assert_int_equal(sh(RECIPE, t), 0);
    write_bytes(mp, "# prep-cut-manifest 1\nlo que se firmo\n", strlen(msg));
    assert_int_not_equal(sh(RECIPE, t), 0);
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(name), free(kp), free(mp), free(sp);
}

/* RFC 8032 section 7.1, TEST 2: a one-byte message 0x72. */
static void test_rfc8032_vector(void **st)
{
    (void)st;
    const char *pub_hex = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
    const char *sig_hex = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                          "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
    prep_cut_pubkey pk = {{1, 2, 3, 4, 5, 6, 7, 8}, {0}};
    prep_cut_sig sig = {{1, 2, 3, 4, 5, 6, 7, 8}, {0}};
    assert_int_equal(sodium_init() >= 0, 1);
    assert_int_equal(sodium_hex2bin(pk.pk, 32, pub_hex, 64, NULL, NULL, NULL), 0);
    assert_int_equal(sodium_hex2bin(sig.sig, 64, sig_hex, 128, NULL, NULL, NULL), 0);
    const unsigned char m = 0x72;
    assert_int_equal(prep_cut_sig_verify(&pk, 1, &sig, &m, 1, NULL, "rfc8032", NULL), PREP_OK);
    const unsigned char m2 = 0x73;
    assert_int_equal(prep_cut_sig_verify(&pk, 1, &sig, &m2, 1, NULL, "rfc8032", NULL), PREP_ERR_VERIFY);
}

static void test_envelope_errors(void **st)
{
    (void)st;
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_sig s;
    const char *cases[][2] = {
        {"no comment\nRWQ=\n", "sig-envelope"},
        {"untrusted comment: x\n", "sig-envelope"},
        {"untrusted comment: x\nRWQ=\n", "sig-envelope"},
        /* 100 base64 chars of "Ed"... but with a trailing message (embedded signature) */
        {"untrusted comment: x\n"
         "RWQBAgMEBQYHCAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nmsg\n",
         "sig-envelope"},
        /* "RSA" instead of "Ed": 'Rs' */
        {"untrusted comment: x\n"
         "UnMBAgMEBQYHCAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
         "sig-algorithm"},
        /* a non-base64 character */
        {"untrusted comment: x\n"
         "RWQBAgMEBQYHCAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*A=\n",
         "sig-envelope"},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(cases); i++) {
        prep_diags_free(&d);
        prep_diags_init(&d);
        assert_int_not_equal(prep_cut_sig_parse(cases[i][0], strlen(cases[i][0]), "s", &s, &d), PREP_OK);
        if (!prep_diags_find(&d, cases[i][1])) fail_msg("case %zu: no diag '%s'", i, cases[i][1]);
    }
    /* The well-formed one of the set parses: keynum 01..08, zero signature. */
    const char *ok = "untrusted comment: x\n"
                     "RWQBAgMEBQYHCAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    assert_int_equal(prep_cut_sig_parse(ok, strlen(ok), "s", &s, &d), PREP_OK);
    assert_int_equal(s.keynum[0], 1);
    assert_int_equal(s.keynum[7], 8);
    prep_diags_free(&d);
}

/* ---------------------------------------------------------------- manifest */
/* Hand-written expectation. Hashes from GNU sha256sum:
 *   printf '<!doctype html><title>t</title>' | sha256sum -> d3d389ab...921c (31 bytes)
 *   printf '' | sha256sum                                 -> e3b0c442...b855 (0 bytes)
 *   printf 'hello\n' | sha256sum                          -> 5891b5b5...be03 (6 bytes)
 * 31 + 0 + 6 = 37 bytes. T0 = 2021-06-06 20:00 UTC-5; valid for 3600 s -> 21:00.
 * Key seed fill 7 -> keynum 07 08 09 0a 0b 0c 0d 0e. Paths sorted bytewise. */
static const char expected_manifest[] =
    "# prep-cut-manifest 1\n"
    "# process: qro2021\n"
    "# elections: gub\n"
    "# sequence: 1\n"
    "# instant: 2021-06-06T20:00:00-05:00\n"
    "# zone: America/Mexico_City\n"
    "# mode: live\n"
    "# valid-until: 2021-06-06T21:00:00-05:00\n"
    "# previous: none\n"
    "# key: 0708090a0b0c0d0e\n"
    "# files: 3\n"
    "# bytes: 37\n"
    "#f 31 text/html; charset=utf-8\n"
    "d3d389ab09df85360ac6b23facf20e363e1bcdd600facecdf14c597af9f9921c  a/b/index.html\n"
    "#f 0 application/json\n"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.json\n"
    "#f 6 text/plain; charset=utf-8\n"
    "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  hello.txt\n"
    "# end\n";

static void test_manifest_known_answer(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(7, &sk, &pk);
    prep_cut_file f[] = {
        {"hello.txt", "hello\n", 6, NULL, 0, {0}, 0, 0, 0, NULL, NULL},
        {"empty.json", "", 0, NULL, 0, {0}, 0, 0, 0, NULL, NULL},
        {"a/b/index.html", "<!doctype html><title>t</title>", 31, NULL, 0, {0}, 0, 0, 0, NULL, NULL},
    };
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.elections = "gub";
    p.instant = T0;
    p.zone = "America/Mexico_City";
    prep_diags d;
    prep_diags_init(&d);
    uint64_t seq = 0;
    assert_int_equal(prep_cut_make(store, &p, f, 3, &sk, &seq, &d), PREP_OK);
    assert_int_equal(seq, 1);
    char *mp = pathf("%s/cuts/1/manifest", store);
    size_t n;
    char *m = read_all(mp, &n);
    assert_string_equal(m, expected_manifest);
    /* Parse it back. */
    prep_cut_manifest pm;
    assert_int_equal(prep_cut_manifest_parse(m, n, NULL, "m", &pm, &d), PREP_OK);
    assert_int_equal(pm.n, 3);
    assert_int_equal(pm.total_bytes, 37);
    assert_int_equal(pm.meta.seq, 1);
    assert_int_equal(pm.meta.instant, T0);
    assert_int_equal(pm.meta.instant_off, -5 * 3600);
    assert_int_equal(pm.meta.valid_until, T0 + 3600);
    assert_string_equal(pm.meta.previous, "");
    assert_string_equal(pm.meta.elections, "gub");
    const prep_cut_entry *e = prep_cut_manifest_find(&pm, "hello.txt");
    assert_non_null(e);
    assert_int_equal(e->size, 6);
    assert_null(prep_cut_manifest_find(&pm, "nope"));
    /* The stored object is the file, named by its hash. */
    char *op = pathf("%s/objects/58/91b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03", store);
    char *od = read_all(op, &n);
    assert_string_equal(od, "hello\n");
    /* sha256sum -c --strict reads the manifest as it is (objects laid out by export). */
    char *out = pathf("%s/out", t);
    prep_cut_export_opts o;
    prep_cut_export_opts_init(&o);
    assert_int_equal(prep_cut_export(store, out, &o, &d), PREP_OK);
    assert_int_equal(sh("cd %s && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    /* The second cut is chained: previous = SHA-256 of the first manifest's bytes. */
    char first_hash[65];
    prep_sha256_hex(expected_manifest, strlen(expected_manifest), first_hash);
    p.instant = T0 + 300;
    assert_int_equal(prep_cut_make(store, &p, f, 2, &sk, &seq, &d), PREP_OK);
    assert_int_equal(seq, 2);
    prep_cut_manifest m2;
    assert_int_equal(prep_cut_load(store, 0, &m2, &d), PREP_OK);
    assert_string_equal(m2.meta.previous, first_hash);
    assert_int_equal(m2.meta.seq, 2);
    prep_cut_manifest_free(&m2);
    prep_cut_manifest_free(&pm);
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(store), free(mp), free(m), free(op), free(od), free(out);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A path under another path that is a file is refused ("path-conflict"), whatever sorts
 * between them: random sets of paths made of segments that sort before '/' ("a-b", "a.c",
 * "a b") or after it, checked against every pair (P, Q) for Q beginning with P + "/", and
 * the path named must be the first such Q in the manifest's order. */
static void test_manifest_path_conflicts(void **st)
{
    (void)st;
    static const char *const seg[] = {"a", "a-b", "a.c", "a b", "ab", "b", "a0"};
    prep_rng r;
    prep_rng_seed(&r, 38);
    size_t conflicts = 0;
    for (int round = 0; round < 3000; round++) {
        char *v[12];
        size_t n = 0, want = SIZE_MAX;
        size_t k = 1 + prep_rng_below(&r, 10);
        for (size_t i = 0; i < k; i++) {
            char path[64] = "";
            size_t depth = 1 + prep_rng_below(&r, 3);
            for (size_t j = 0; j < depth; j++) {
                const char *sg = seg[prep_rng_below(&r, PREP_ARRAY_LEN(seg))];
                if (j) strcat(path, "/");
                strcat(path, sg);
            }
            int dup = 0;
            for (size_t j = 0; j < n; j++) dup |= !strcmp(v[j], path);
            if (!dup) v[n++] = prep_xstrdup(path);
        }
        qsort(v, n, sizeof *v, cmp_str);
        for (size_t q = 0; q < n && want == SIZE_MAX; q++)
            for (size_t p = 0; p < n; p++) {
                size_t pl = strlen(v[p]);
                if (p != q && !strncmp(v[q], v[p], pl) && v[q][pl] == '/') want = q;
            }
        prep_buf b;
        prep_buf_init(&b, 0);
        /* the known-answer manifest's header, with these files */
        prep_buf_append(&b, expected_manifest, (size_t)(strstr(expected_manifest, "# files: ") - expected_manifest));
        prep_buf_printf(&b, "# files: %zu\n# bytes: 0\n", n);
        for (size_t i = 0; i < n; i++)
            prep_buf_printf(&b, "#f 0 application/octet-stream\n"
                                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  %s\n",
                            v[i]);
        prep_buf_puts(&b, "# end\n");
        prep_diags d;
        prep_diags_init(&d);
        prep_cut_manifest m;
        prep_err e = prep_cut_manifest_parse(b.data, b.len, NULL, "m", &m, &d);
        if (want == SIZE_MAX) {
            if (e != PREP_OK) {
                prep_diags_print(&d, stderr, 3);
                fail_msg("round %d refused", round);
            }
            prep_cut_manifest_free(&m);
        } else {
            conflicts++;
            const prep_diag *g = prep_diags_find(&d, "path-conflict");
            if (e == PREP_OK || !g) fail_msg("round %d: '%s' is under a file, and was not refused", round, v[want]);
            char quoted[80];
            snprintf(quoted, sizeof quoted, "'%s'", v[want]);
            assert_non_null(strstr(g->msg, quoted));
        }
        prep_diags_free(&d);
        prep_buf_free(&b);
        for (size_t i = 0; i < n; i++) free(v[i]);
    }
    assert_true(conflicts > 300 && conflicts < 2700); /* both verdicts asked often */
}

/* Each mutation of the known-answer manifest and the diag kind the parser must give. */
static void test_manifest_parse_errors(void **st)
{
    (void)st;
    struct {
        const char *from, *to, *kind;
    } cases[] = {
        {"# prep-cut-manifest 1", "# prep-cut-manifest 2", "manifest-version"},
        {"# process: qro2021", "# process: qro 2021", "manifest-field"},
        {"# process: qro2021", "# proceso: qro2021", "manifest-syntax"},
        {"# sequence: 1\n", "# sequence: 01\n", "manifest-field"},
        {"# sequence: 1\n", "# sequence: 2\n", "manifest-field"}, /* previous none needs sequence 1 */
        {"20:00:00-05:00", "24:00:00-05:00", "manifest-field"},
        {"# mode: live", "# mode: LIVE", "manifest-field"},
        {"21:00:00-05:00", "19:00:00-05:00", "manifest-field"}, /* valid-until before instant */
        {"# key: 0708090a0b0c0d0e", "# key: 0708090A0B0C0D0E", "manifest-field"},
        {"# files: 3", "# files: 4", "truncated"},
        {"# files: 3", "# files: 2", "size-total"}, /* 31 + 0 of the first two != 37 */
        {"# files: 3", "# files: 10000000", "limit"},
        {"# bytes: 37", "# bytes: 38", "size-total"},
        {"#f 6 text/plain; charset=utf-8", "#f 6 text/plain;charset=utf-8", "manifest-field"},
        {"#f 6 text", "#f 7 text", "size-total"},
        {"  hello.txt", "  ../hello.txt", "bad-path"},
        {"  hello.txt", "  /hello.tx", "bad-path"},
        {"  hello.txt", "  a//hello", "bad-path"},
        {"  hello.txt", "  hello\\txt", "bad-path"},
        {"  hello.txt", "  \xc3\x28hello", "not-utf8"},
        {"  hello.txt", "  hell\x01.txt", "bad-path"},
        {"  hello.txt", "  cortes/1", "bad-path"},
        {"  hello.txt", "  SHA256SUMS", "bad-path"},
        {"  hello.txt", "  empty.json", "duplicate-path"},
        {"  hello.txt", "  a/b/index.htm", "path-order"},
        {"  hello.txt", "  empty.json/x", "path-conflict"},
        {"5891b5b5", "5891B5B5", "manifest-syntax"},
        {"# end\n", "# end\nX\n", "manifest-syntax"},
        {"# end\n", "", "truncated"},
        {"# end\n", "# end", "truncated"},
    };
    prep_diags d;
    for (size_t i = 0; i < PREP_ARRAY_LEN(cases); i++) {
        prep_buf b;
        prep_buf_init(&b, 0);
        const char *at = strstr(expected_manifest, cases[i].from);
        assert_non_null(at);
        prep_buf_append(&b, expected_manifest, (size_t)(at - expected_manifest));
        prep_buf_puts(&b, cases[i].to);
        prep_buf_puts(&b, at + strlen(cases[i].from));
        prep_diags_init(&d);
        prep_cut_manifest m;
        prep_err e = prep_cut_manifest_parse(b.data, b.len, NULL, "m", &m, &d);
        if (e == PREP_OK) fail_msg("case %zu (%s) parsed", i, cases[i].to);
        if (!prep_diags_find(&d, cases[i].kind)) {
            prep_diags_print(&d, stderr, 3);
            fail_msg("case %zu: expected diag '%s'", i, cases[i].kind);
        }
        assert_null(m.entries);
        prep_diags_free(&d);
        prep_buf_free(&b);
    }
    /* A NUL byte inside a path (the line is still one line). */
    prep_buf b;
    prep_buf_init(&b, 0);
    const char *at = strstr(expected_manifest, "hello.txt");
    prep_buf_append(&b, expected_manifest, (size_t)(at - expected_manifest));
    prep_buf_append(&b, "hel\0lo.txt", 10);
    prep_buf_puts(&b, at + 9);
    prep_diags_init(&d);
    prep_cut_manifest m;
    assert_int_not_equal(prep_cut_manifest_parse(b.data, b.len, NULL, "m", &m, &d), PREP_OK);
    assert_non_null(prep_diags_find(&d, "bad-path"));
    assert_non_null(strstr(prep_diags_find(&d, "bad-path")->msg, "NUL"));
    prep_diags_free(&d);
    prep_buf_free(&b);
    /* Cut after any line, or with any byte of a line made a letter, each in a block of its
     * exact size: refused with a diag, and nothing read past the block (the parser reads the
     * bytes in place, not NUL-terminated; the sanitizers' run checks the reads). */
    size_t ml = strlen(expected_manifest);
    for (size_t k = 1; k <= ml; k++) {
        for (int w = 0; w < 2; w++) { /* 0: cut after byte k (a line's end); 1: byte k changed */
            int eol = expected_manifest[k - 1] == '\n';
            if (w == 0 ? !eol || k == ml : eol) continue;
            size_t tl = w == 0 ? k : ml;
            char *t = malloc(tl);
            memcpy(t, expected_manifest, tl);
            if (w == 1) t[k - 1] = t[k - 1] == 'x' ? 'y' : 'x';
            prep_diags_init(&d);
            prep_cut_manifest tm;
            prep_err e = prep_cut_manifest_parse(t, tl, NULL, "m", &tm, &d);
            if (w == 0 && e == PREP_OK) fail_msg("cut after byte %zu: parsed", k);
            if (e != PREP_OK && !d.n) fail_msg("byte %zu: refused without a diag", k);
            if (e == PREP_OK) prep_cut_manifest_free(&tm);
            prep_diags_free(&d);
            free(t);
        }
    }
    /* Lower limits are honoured. */
    prep_cut_limits lim;
    prep_cut_limits_default(&lim);
    lim.max_files = 2;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_manifest_parse(expected_manifest, strlen(expected_manifest), &lim, "m", &m, &d),
                     PREP_ERR_LIMIT);
    lim.max_files = 3;
    lim.max_manifest_bytes = 100;
    assert_int_equal(prep_cut_manifest_parse(expected_manifest, strlen(expected_manifest), &lim, "m", &m, &d),
                     PREP_ERR_LIMIT);
    prep_diags_free(&d);
}

static void test_manifest_patch(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *inst = pathf("%s/inst", t), *recv = pathf("%s/recv", t), *inc = pathf("%s/inc", t);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(9, &sk, &pk);
    prep_diags d;
    prep_diags_init(&d);
    site s;
    site_init(&s, 40);
    uint64_t seq;
    assert_int_equal(make_cut(inst, &s, &sk, PREP_CUT_LIVE, T0, 3600, &seq, &d), PREP_OK);
    /* Cut 2: one page changed, one added; cut 3: one removed (rebuilt site without it). */
    site_set(&s, "gubernatura/seccion-0005/index.html", "<p>cambiada</p>");
    site_set(&s, "gubernatura/seccion-9999/index.html", "<p>nueva</p>");
    assert_int_equal(make_cut(inst, &s, &sk, PREP_CUT_LIVE, T0 + 300, 3600, &seq, &d), PREP_OK);
    site s3;
    memset(&s3, 0, sizeof s3);
    for (size_t i = 0; i < s.n; i++)
        if (strcmp(s.paths[i], "LEEME.txt")) site_set(&s3, s.paths[i], "%s", s.data[i]);
    assert_int_equal(make_cut(inst, &s3, &sk, PREP_CUT_LIVE, T0 + 600, 3600, &seq, &d), PREP_OK);
    prep_cut_manifest m1, m2, m3;
    assert_int_equal(prep_cut_load(inst, 1, &m1, &d), PREP_OK);
    assert_int_equal(prep_cut_load(inst, 2, &m2, &d), PREP_OK);
    assert_int_equal(prep_cut_load(inst, 3, &m3, &d), PREP_OK);
    prep_buf p12, p23, out;
    prep_buf_init(&p12, 0);
    prep_buf_init(&p23, 0);
    assert_int_equal(prep_cut_manifest_diff(&m1, &m2, &p12), PREP_OK);
    assert_int_equal(prep_cut_manifest_diff(&m2, &m3, &p23), PREP_OK);
    /* 3 header lines + 12 manifest header lines + 2 ops of 2 lines + "# end" = 20 lines */
    size_t lines = 0;
    for (size_t i = 0; i < p12.len; i++) lines += p12.data[i] == '\n';
    assert_int_equal(lines, 20);
    assert_non_null(strstr(p23.data, "#- LEEME.txt\n"));
    assert_true(p12.len < m2.raw_len / 3);
    assert_int_equal(prep_cut_manifest_patch(&m1, p12.data, p12.len, NULL, "p12", &out, &d), PREP_OK);
    assert_int_equal(out.len, m2.raw_len);
    assert_memory_equal(out.data, m2.raw, m2.raw_len);
    prep_buf_free(&out);
    assert_int_equal(prep_cut_manifest_patch(&m2, p23.data, p23.len, NULL, "p23", &out, &d), PREP_OK);
    assert_memory_equal(out.data, m3.raw, m3.raw_len);
    prep_buf_free(&out);
    /* Wrong base. */
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(prep_cut_manifest_patch(&m2, p12.data, p12.len, NULL, "p12", &out, &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "patch-base"));
    /* A changed operation no longer rebuilds the signed bytes. */
    char *x = strstr(strstr(p12.data, "# bytes: "), "#f 1"); /* "#f 15 text/html..." */
    assert_non_null(x);
    x[4] = x[4] == '9' ? '8' : '9';
    assert_int_equal(prep_cut_manifest_patch(&m1, p12.data, p12.len, NULL, "p12", &out, &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "patch-mismatch"));
    /* Operations out of order, and removing what is not there. */
    const char *bad[] = {"#- zzz\n#- LEEME.txt\n", "#- nothere.html\n", "garbage\n"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(bad); i++) {
        prep_buf b;
        prep_buf_init(&b, 0);
        const char *ops = strstr(p12.data, "# bytes: ");
        ops = strchr(ops, '\n') + 1;
        prep_buf_append(&b, p12.data, (size_t)(ops - p12.data));
        prep_buf_puts(&b, bad[i]);
        prep_buf_puts(&b, "# end\n");
        prep_diags_free(&d);
        prep_diags_init(&d);
        assert_int_not_equal(prep_cut_manifest_patch(&m1, b.data, b.len, NULL, "bad", &out, &d), PREP_OK);
        assert_non_null(prep_diags_find(&d, "patch-syntax"));
        prep_buf_free(&b);
    }
    /* Receiving by patch: cut 1 whole, then cuts 2 and 3 as patches in one batch
     * (cut 3's base is cut 2 of the same batch). */
    prep_cut_policy pol;
    policy_for(&pol, &pk, T0 + 700);
    deliver(inst, 1, recv, inc);
    assert_int_equal(prep_cut_receive(recv, inc, &pol, NULL, &d), PREP_OK);
    char *inc3 = pathf("%s/inc3", t);
    deliver(inst, 2, recv, inc);
    make_patch_delivery(inst, 2, inc);
    deliver(inst, 3, recv, inc3);
    make_patch_delivery(inst, 3, inc3);
    assert_int_equal(sh("mv %s/cuts/3 %s/cuts/ && cp -rn %s/objects/. %s/objects/ 2>/dev/null; true", inc3, inc, inc3,
                        inc),
                     0);
    prep_cut_result res;
    prep_diags_free(&d);
    prep_diags_init(&d);
    prep_err e = prep_cut_receive(recv, inc, &pol, &res, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(res.accepted, 2);
    assert_int_equal(active_seq(recv), 3);
    /* The store keeps whole manifests: byte-identical to the institute's. */
    assert_int_equal(sh("cmp -s %s/cuts/3/manifest %s/cuts/3/manifest && cmp -s %s/cuts/2/manifest %s/cuts/2/manifest",
                        inst, recv, inst, recv),
                     0);
    assert_int_equal(prep_cut_verify(recv, 0, &pol, NULL, &d), PREP_OK);
    prep_buf_free(&p12);
    prep_buf_free(&p23);
    prep_cut_manifest_free(&m1);
    prep_cut_manifest_free(&m2);
    prep_cut_manifest_free(&m3);
    site_free(&s);
    site_free(&s3);
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(inst), free(recv), free(inc), free(inc3);
}

static void test_paths_and_types(void **st)
{
    (void)st;
    const char *good[] = {"index.html", "a/b/c.html", "secci\xc3\xb3n-0412/index.html", "a b/c", ".well-known/x",
                          "cortes-x/a", "x/cortes/1", "SHA256SUMS.txt", "a/SHA256SUMS"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(good); i++)
        if (prep_cut_path_check(good[i], strlen(good[i]), NULL)) fail_msg("'%s' refused", good[i]);
    const char *bad[] = {"", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "../a", "a\\b", "a\tb", " a", "a /b",
                         "cortes", "cortes/1/x", "SHA256SUMS", "SHA256SUMS.sig", "\xc2\x85x", "\xed\xa0\x80",
                         "\xc0\xaf", "\xff"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(bad); i++) {
        const char *why = NULL;
        if (!prep_cut_path_check(bad[i], strlen(bad[i]), &why)) fail_msg("bad path %zu accepted", i);
        assert_non_null(why);
    }
    char longp[1100];
    memset(longp, 'a', sizeof longp);
    for (int i = 200; i < 1100; i += 200) longp[i] = '/';
    assert_int_equal(prep_cut_path_check(longp, 1024, NULL), 0);
    assert_int_not_equal(prep_cut_path_check(longp, 1025, NULL), 0);
    char seg[300];
    memset(seg, 'b', sizeof seg);
    assert_int_equal(prep_cut_path_check(seg, 255, NULL), 0);
    assert_int_not_equal(prep_cut_path_check(seg, 256, NULL), 0);

    assert_string_equal(prep_cut_media_type("a/index.html", "hola", 4), "text/html; charset=utf-8");
    assert_string_equal(prep_cut_media_type("LEEME.txt", "a\xf1o", 3), "text/plain; charset=iso-8859-1");
    assert_string_equal(prep_cut_media_type("d.CSV", "x", 1), "text/csv; charset=utf-8");
    assert_string_equal(prep_cut_media_type("m.svg", NULL, 0), "image/svg+xml");
    assert_string_equal(prep_cut_media_type("x.json", NULL, 0), "application/json");
    assert_string_equal(prep_cut_media_type("noext", NULL, 0), "application/octet-stream");
    assert_string_equal(prep_cut_media_type(".hidden", NULL, 0), "application/octet-stream");
}

/* ---------------------------------------------------------------- store */
static void test_chain_receive_verify_delta(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *inst = pathf("%s/inst", t), *recv = pathf("%s/recv", t), *inc = pathf("%s/incoming", t);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(3, &sk, &pk);
    prep_diags d;
    prep_diags_init(&d);
    site s;
    site_init(&s, 10); /* 3 + 10 = 13 files */
    uint64_t seq;
    assert_int_equal(make_cut(inst, &s, &sk, LIVE, T0, 3600, &seq, &d), PREP_OK);
    prep_cut_policy pol;
    policy_for(&pol, &pk, T0 + 60);
    /* An empty receiver lacks all 13 objects (all contents differ: the section number). */
    assert_int_equal(deliver(inst, 1, recv, inc), 13);
    prep_cut_result res;
    assert_int_equal(prep_cut_receive(recv, inc, &pol, &res, &d), PREP_OK);
    assert_int_equal(res.accepted, 1);
    assert_int_equal(res.objects_copied, 13);
    assert_int_equal(active_seq(recv), 1);
    /* Cut 2 changes two pages and the LEEME: 3 new objects. */
    site_set(&s, "gubernatura/seccion-0003/index.html", "<p>acta 1</p>");
    site_set(&s, "gubernatura/seccion-0007/index.html", "<p>acta 2</p>");
    site_set(&s, "LEEME.txt", "Corte 2\n");
    assert_int_equal(make_cut(inst, &s, &sk, LIVE, T0 + 300, 3600, &seq, &d), PREP_OK);
    assert_int_equal(seq, 2);
    prep_cut_manifest m2;
    assert_int_equal(prep_cut_load(inst, 2, &m2, &d), PREP_OK);
    prep_cut_delta dl;
    assert_int_equal(prep_cut_delta_compute(recv, &m2, &dl), PREP_OK);
    assert_int_equal(dl.n, 3);
    /* "<p>acta 1</p>" 13 + "<p>acta 2</p>" 13 + "Corte 2\n" 8 = 34 bytes */
    assert_int_equal(dl.bytes, 34);
    assert_int_equal(dl.full_objects, 13);
    assert_int_equal(dl.full_bytes, m2.total_bytes);
    prep_cut_delta_free(&dl);
    prep_cut_manifest_free(&m2);
    assert_int_equal(deliver(inst, 2, recv, inc), 3);
    pol.now = T0 + 360;
    assert_int_equal(prep_cut_receive(recv, inc, &pol, &res, &d), PREP_OK);
    assert_int_equal(res.objects_copied, 3);
    assert_int_equal(res.bytes_copied, 34);
    assert_int_equal(active_seq(recv), 2);
    /* Redelivering the active cut changes nothing. */
    assert_int_equal(prep_cut_receive(recv, inc, &pol, &res, &d), PREP_OK);
    assert_int_equal(res.unchanged, 1);
    assert_int_equal(res.accepted, 0);
    assert_int_equal(res.objects_copied, 0);
    /* ... but takes again what the store lacks of it and the delivery holds (an object
     * moved aside as damaged: prep_pull_opts.heal), and only that */
    prep_cut_manifest ma;
    assert_int_equal(prep_cut_load(recv, 2, &ma, &d), PREP_OK);
    char op[PATH_MAX] = "", ip[PATH_MAX];
    for (size_t i = 0; i < ma.n && !op[0]; i++) { /* a plain file of cut 2 the delivery carries */
        const prep_cut_entry *en = &ma.entries[i];
        if (en->n_parts || prep_cut_object_path(inc, en->sha256, ip, sizeof ip) || access(ip, F_OK)) continue;
        assert_int_equal(prep_cut_object_path(recv, en->sha256, op, sizeof op), 0);
    }
    assert_true(op[0]);
    assert_int_equal(unlink(op), 0);
    assert_int_equal(prep_cut_receive(recv, inc, &pol, &res, &d), PREP_OK);
    assert_int_equal(res.unchanged, 1);
    assert_int_equal(res.accepted, 0);
    assert_int_equal(res.objects_copied, 1);
    assert_int_equal(access(op, F_OK), 0);
    assert_int_equal(active_seq(recv), 2);
    char *healed = pathf("%s/%s", recv, PREP_CUT_HEALED_FILE); /* what makes a server load it again */
    assert_int_equal(access(healed, F_OK), 0);
    /* one held damaged (cut short) and not yet moved aside: moved, and the delivery's copy taken */
    struct stat ost;
    assert_int_equal(stat(op, &ost), 0);
    assert_int_equal(chmod(op, 0644), 0);
    assert_int_equal(truncate(op, 1), 0);
    assert_int_equal(prep_cut_receive(recv, inc, &pol, &res, &d), PREP_OK);
    assert_int_equal(res.objects_copied, 1);
    struct stat nst;
    assert_int_equal(stat(op, &nst), 0);
    assert_int_equal(nst.st_size, ost.st_size);
    assert_int_equal(sh("ls %s/damaged/ | grep -q .", recv), 0);
    free(healed);
    prep_cut_manifest_free(&ma);
    /* A batch of two cuts (3 and 4) in one incoming area. */
    site_set(&s, "index.html", "corte 3");
    assert_int_equal(make_cut(inst, &s, &sk, LIVE, T0 + 600, 3600, &seq, &d), PREP_OK);
    site_set(&s, "index.html", "corte 4");
    assert_int_equal(make_cut(inst, &s, &sk, LIVE, T0 + 900, 3600, &seq, &d), PREP_OK);
    char *inc4 = pathf("%s/inc4", t);
    deliver(inst, 3, recv, inc);
    deliver(inst, 4, recv, inc4);
    assert_int_equal(sh("cp -r %s/cuts/4 %s/cuts/ && cp -rn %s/objects/. %s/objects/", inc4, inc, inc4, inc), 0);
    pol.now = T0 + 960;
    assert_int_equal(prep_cut_receive(recv, inc, &pol, &res, &d), PREP_OK);
    assert_int_equal(res.accepted, 2);
    assert_int_equal(active_seq(recv), 4);
    /* Both stores verify as whole chains. */
    prep_cut_verify_result vr;
    assert_int_equal(prep_cut_verify(recv, 0, &pol, &vr, &d), PREP_OK);
    assert_int_equal(vr.first, 1);
    assert_int_equal(vr.last, 4);
    assert_int_equal(vr.cuts, 4);
    /* 13 + 3 + 1 + 1 distinct objects */
    assert_int_equal(vr.objects, 18);
    assert_int_equal(vr.stale, 0);
    assert_int_equal(prep_cut_verify(inst, 2, &pol, &vr, &d), PREP_OK);
    assert_int_equal(vr.cuts, 1);
    /* Later the last cut is stale (desactualizado), but still verifies. */
    pol.now = T0 + 900 + 3601;
    assert_int_equal(prep_cut_verify(recv, 0, &pol, &vr, &d), PREP_OK);
    assert_int_equal(vr.stale, 1);
    prep_cut_manifest am;
    assert_int_equal(prep_cut_load(recv, 0, &am, &d), PREP_OK);
    assert_int_equal(prep_cut_is_stale(&am, T0 + 900 + 3600), 0);
    assert_int_equal(prep_cut_is_stale(&am, T0 + 900 + 3601), 1);
    prep_cut_manifest_free(&am);
    /* The log names each activation. */
    char *last = log_last_line(recv);
    assert_non_null(strstr(last, "cut 4 activated"));
    free(last);
    prep_diags_free(&d);
    site_free(&s);
    rm_rf(t);
    free(t), free(inst), free(recv), free(inc), free(inc4);
}

/* A cut of more objects than CUT_STAGE_SPREAD: its new objects are written on several
 * threads (cut_stage_mem_many). Every object is in the store under its name with its
 * bytes (prep_cut_verify re-reads and hashes each), none is left in tmp/, and the same
 * holds for a second cut that changes most of them (objects looked for first). */
static void test_make_many_objects(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *inst = pathf("%s/inst", t);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(5, &sk, &pk);
    prep_diags d;
    prep_diags_init(&d);
    site s;
    site_init(&s, 6000); /* 6,003 files, every content distinct */
    uint64_t seq;
    assert_int_equal(make_cut(inst, &s, &sk, LIVE, T0, 3600, &seq, &d), PREP_OK);
    prep_cut_policy pol;
    policy_for(&pol, &pk, T0 + 60);
    prep_cut_verify_result vr;
    assert_int_equal(prep_cut_verify(inst, 1, &pol, &vr, &d), PREP_OK);
    assert_int_equal(vr.objects, 6003);
    assert_int_equal(sh("test -z \"$(ls -A %s/tmp)\"", inst), 0);
    for (int i = 0; i < 5000; i++) {
        char p[64];
        snprintf(p, sizeof p, "gubernatura/seccion-%04d/index.html", i + 1);
        site_set(&s, p, "<p>acta %d, corte 2</p>", i);
    }
    assert_int_equal(make_cut(inst, &s, &sk, LIVE, T0 + 300, 3600, &seq, &d), PREP_OK);
    assert_int_equal(seq, 2);
    policy_for(&pol, &pk, T0 + 360);
    assert_int_equal(prep_cut_verify(inst, 0, &pol, &vr, &d), PREP_OK);
    assert_int_equal(vr.cuts, 2);
    assert_int_equal(vr.objects, 6003 + 5000);
    assert_int_equal(sh("test -z \"$(ls -A %s/tmp)\"", inst), 0);
    site_free(&s);
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(inst);
}

static void test_make_rules(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t);
    prep_cut_seckey sk;
    prep_cut_pubkey pk;
    key_from_seed(5, &sk, &pk);
    prep_diags d;
    prep_diags_init(&d);
    site s;
    site_init(&s, 2);
    uint64_t seq;
    /* A drill-marked key cannot sign a live cut, and the reverse. */
    sk.mark = PREP_CUT_KEY_DRILL;
    assert_int_equal(make_cut(store, &s, &sk, LIVE, T0, 3600, &seq, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "key-mode"));
    sk.mark = PREP_CUT_KEY_LIVE;
    assert_int_equal(make_cut(store, &s, &sk, PREP_CUT_DRILL, T0, 3600, &seq, &d), PREP_ERR_INVALID);
    assert_int_equal(make_cut(store, &s, &sk, LIVE, T0, 3600, &seq, &d), PREP_OK);
    /* A live store takes no drill cut (a drill needs its own store and key). */
    prep_diags_free(&d);
    prep_diags_init(&d);
    sk.mark = PREP_CUT_KEY_UNMARKED;
    assert_int_equal(make_cut(store, &s, &sk, PREP_CUT_DRILL, T0 + 300, 3600, &seq, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "mode"));
    /* A cut instant before the active one is refused. */
    assert_int_equal(make_cut(store, &s, &sk, LIVE, T0 - 1, 3600, &seq, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "instant-regress"));
    /* Bad paths and duplicates in the input. */
    prep_diags_free(&d);
    prep_diags_init(&d);
    site_set(&s, "../fuera.html", "x");
    assert_int_equal(make_cut(store, &s, &sk, LIVE, T0 + 300, 3600, &seq, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "bad-path"));
    site_free(&s);
    prep_cut_file dup[] = {{"a.html", "1", 1, NULL, 0, {0}, 0, 0, 0, NULL, NULL}, {"a.html", "2", 1, NULL, 0, {0}, 0, 0, 0, NULL, NULL}};
    prep_cut_params p;
    prep_cut_params_init(&p);
    p.process = "qro2021";
    p.instant = T0 + 300;
    p.zone = "America/Mexico_City";
    assert_int_equal(prep_cut_make(store, &p, dup, 2, &sk, &seq, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "duplicate-path"));
    p.zone = "Mars/Olympus";
    assert_int_not_equal(prep_cut_make(store, &p, dup, 1, &sk, &seq, &d), PREP_OK);
    p.zone = "America/Mexico_City";
    p.process = "qro 2021";
    assert_int_not_equal(prep_cut_make(store, &p, dup, 1, &sk, &seq, &d), PREP_OK);
    p.process = "otro";
    assert_int_equal(prep_cut_make(store, &p, dup, 1, &sk, &seq, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "process-mismatch"));
    assert_int_equal(active_seq(store), 1);
    /* Files made for a sequence another writer already took are refused under the lock
     * (their pages would show the wrong number); made for the next one, accepted. */
    prep_diags_free(&d);
    prep_diags_init(&d);
    p.process = "qro2021";
    p.expect_seq = 1;
    assert_int_equal(prep_cut_make(store, &p, dup, 1, &sk, &seq, &d), PREP_ERR_INVALID);
    const prep_diag *mv = prep_diags_find(&d, "sequence-moved");
    assert_non_null(mv);
    assert_non_null(strstr(mv->msg, "made for sequence 1 but the store's next cut is 2"));
    assert_int_equal(active_seq(store), 1);
    p.expect_seq = 2;
    /* One file against the active cut's many: a wrong or half-copied directory, refused
     * (nothing stored) unless allow_shrink; no file at all is refused even then. */
    prep_diags_free(&d);
    prep_diags_init(&d);
    assert_int_equal(prep_cut_make(store, &p, dup, 1, &sk, &seq, &d), PREP_ERR_INVALID);
    const prep_diag *sh1 = prep_diags_find(&d, "cut-shrinks");
    assert_non_null(sh1);
    assert_non_null(strstr(sh1->msg, "the cut has 1 files against the active cut 1's"));
    assert_int_equal(active_seq(store), 1);
    p.allow_shrink = 1;
    assert_int_equal(prep_cut_make(store, &p, dup, 0, &sk, &seq, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "empty-cut"));
    assert_int_equal(active_seq(store), 1);
    assert_int_equal(prep_cut_make(store, &p, dup, 1, &sk, &seq, &d), PREP_OK);
    assert_int_equal(seq, 2);
    assert_int_equal(active_seq(store), 2);
    p.expect_seq = 0;
    /* The chain continues only under the key that signed it: another key (of the same
     * mode) is refused, nothing stored, and the right key goes on. */
    prep_diags_free(&d);
    prep_diags_init(&d);
    char *ok2 = pathf("%s/otra", t);
    assert_int_equal(prep_cut_keygen(ok2, PREP_CUT_LIVE, NULL), PREP_OK);
    char *ok2k = pathf("%s.key", ok2);
    prep_cut_seckey sk2;
    assert_int_equal(prep_cut_seckey_load(ok2k, &sk2, NULL), PREP_OK);
    p.instant += 300;
    assert_int_equal(prep_cut_make(store, &p, dup, 1, &sk2, &seq, &d), PREP_ERR_VERIFY);
    assert_non_null(prep_diags_find(&d, "chain-key"));
    assert_int_equal(active_seq(store), 2);
    assert_int_equal(prep_cut_make(store, &p, dup, 1, &sk, &seq, &d), PREP_OK);
    assert_int_equal(active_seq(store), 3);
    /* A lost active pointer: the store's cuts show there was one, so a new chain is not
     * started beside the published one; prep verify says so too. */
    prep_diags_free(&d);
    prep_diags_init(&d);
    char *ap = pathf("%s/active", store);
    size_t saved_n;
    char *saved = read_all(ap, &saved_n);
    assert_int_equal(unlink(ap), 0);
    p.instant += 300;
    assert_int_equal(prep_cut_make(store, &p, dup, 1, &sk, &seq, &d), PREP_ERR_VERIFY);
    const prep_diag *am = prep_diags_find(&d, "active-missing");
    assert_non_null(am);
    assert_non_null(strstr(am->msg, "holds cuts up to 3 but no active pointer"));
    {
        prep_cut_pubkey vpk;
        prep_cut_seckey_public(&sk, &vpk);
        prep_cut_policy pol;
        prep_cut_policy_init(&pol);
        pol.keys = &vpk;
        pol.n_keys = 1;
        pol.now = T0;
        prep_cut_verify_result vr;
        prep_diags vd;
        prep_diags_init(&vd);
        assert_int_equal(prep_cut_verify(store, 0, &pol, &vr, &vd), PREP_ERR_VERIFY);
        assert_non_null(prep_diags_find(&vd, "active-missing"));
        prep_diags_free(&vd);
    }
    assert_int_equal(sh("printf '%%s' '%s' > %s", saved, ap), 0);
    assert_int_equal(prep_cut_make(store, &p, dup, 1, &sk, &seq, &d), PREP_OK);
    assert_int_equal(active_seq(store), 4);
    free(saved), free(ap), free(ok2), free(ok2k);
    prep_cut_seckey_wipe(&sk2);

    /* From a directory: sub-folders, a Latin-1 text, a symlink refused. */
    char *dir = pathf("%s/site", t);
    assert_int_equal(sh("mkdir -p %s/datos && printf 'a\\361o\\n' > %s/LEEME.txt && printf 'x|y\\n' > %s/datos/a.csv",
                        dir, dir, dir),
                     0);
    char *st2 = pathf("%s/store2", t);
    p.process = "qro2021";
    assert_int_equal(prep_cut_make_dir(st2, &p, dir, &sk, &seq, &d), PREP_OK);
    prep_cut_manifest m;
    assert_int_equal(prep_cut_load(st2, 0, &m, &d), PREP_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(prep_cut_manifest_find(&m, "LEEME.txt")->media_type, "text/plain; charset=iso-8859-1");
    assert_string_equal(prep_cut_manifest_find(&m, "datos/a.csv")->media_type, "text/csv; charset=utf-8");
    prep_cut_manifest_free(&m);
    assert_int_equal(sh("ln -s /etc/passwd %s/datos/p.txt", dir), 0);
    prep_diags_free(&d);
    prep_diags_init(&d);
    p.instant += 300;
    assert_int_equal(prep_cut_make_dir(st2, &p, dir, &sk, &seq, &d), PREP_ERR_INVALID);
    assert_non_null(prep_diags_find(&d, "symlink"));
    assert_int_equal(active_seq(st2), 1);
    /* A store inside the tree to publish is refused. */
    char *inner = pathf("%s/datos/almacen", dir);
    assert_int_equal(prep_cut_make_dir(inner, &p, dir, &sk, &seq, &d), PREP_ERR_USAGE);
    free(inner);
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(store), free(dir), free(st2);
}

/* ---------------------------------------------------------------- export */
static char *brotli_decode_file(const char *path, size_t *outn)
{
    size_t n;
    char *in = read_all(path, &n);
    assert_non_null(in);
    size_t cap = 1 << 20;
    uint8_t *out = malloc(cap);
    *outn = cap;
    assert_int_equal(BrotliDecoderDecompress(n, (const uint8_t *)in, outn, out), BROTLI_DECODER_RESULT_SUCCESS);
    free(in);
    return (char *)out;
}

static void test_export(void **st)
{
    (void)st;
    char *t = tmpdir_new();
    char *store = pathf("%s/store", t), *out = pathf("%s/www", t);
    char *name = pathf("%s/inst", t), *kp = pathf("%s/inst.key", t);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_cut_keygen(name, PREP_CUT_LIVE, &d), PREP_OK);
    prep_cut_seckey sk;
    assert_int_equal(prep_cut_seckey_load(kp, &sk, &d), PREP_OK);
    site s;
    site_init(&s, 4);
    uint64_t seq;
    assert_int_equal(make_cut(store, &s, &sk, LIVE, T0, 3600, &seq, &d), PREP_OK);
    prep_cut_export_opts o;
    prep_cut_export_opts_init(&o);
    assert_int_equal(prep_cut_export(store, out, &o, &d), PREP_OK);
    /* What a citizen runs on a downloaded copy. */
    assert_int_equal(sh("cd %s && signify-openbsd -V -q -p %s.pub -m SHA256SUMS && sha256sum -c --strict --quiet "
                        "SHA256SUMS",
                        out, name),
                     0);
    /* Twins decompress to the very file. */
    assert_int_equal(sh("cd %s && gzip -dc index.html.gz | cmp -s - index.html", out), 0);
    char *brp = pathf("%s/index.html.br", out);
    size_t bn, on;
    char *dec = brotli_decode_file(brp, &bn);
    char *ip = pathf("%s/index.html", out);
    char *orig = read_all(ip, &on);
    assert_int_equal(bn, on);
    assert_memory_equal(dec, orig, on);
    free(dec), free(orig), free(brp);
    /* LEEME.txt is under 256 bytes: no twin. */
    assert_int_not_equal(sh("test -e %s/LEEME.txt.gz", out), 0);
    /* Hard links into the export's own pool, never into the store. */
    struct stat sb, so;
    assert_int_equal(stat(ip, &sb), 0);
    assert_true(sb.st_nlink >= 2);
    prep_cut_manifest m1;
    assert_int_equal(prep_cut_load(store, 1, &m1, &d), PREP_OK);
    char objp[4096];
    prep_cut_object_path(store, prep_cut_manifest_find(&m1, "index.html")->sha256, objp, sizeof objp);
    prep_cut_manifest_free(&m1);
    assert_int_equal(stat(objp, &so), 0);
    assert_int_not_equal(sb.st_ino, so.st_ino);
    /* An edit in place of a served file (root ignores 0444) leaves the store whole, and the
     * next export puts the signed bytes back. */
    assert_int_equal(sh("echo cambio >> %s", ip), 0);
    prep_cut_pubkey pk;
    prep_cut_seckey_public(&sk, &pk);
    prep_cut_policy pol;
    policy_for(&pol, &pk, T0 + 60);
    assert_int_equal(prep_cut_verify(store, 0, &pol, NULL, &d), PREP_OK);
    assert_int_equal(prep_cut_export(store, out, &o, &d), PREP_OK);
    assert_int_equal(sh("cd %s && sha256sum -c --strict --quiet SHA256SUMS && gzip -dc index.html.gz | cmp -s - index.html",
                        out),
                     0);
    /* Cut 2, exported over the first: swapped in whole; cortes/1 and cortes/2 browsable. */
    site_set(&s, "index.html", "<p>corte 2</p>%0400d", 0);
    assert_int_equal(make_cut(store, &s, &sk, LIVE, T0 + 300, 3600, &seq, &d), PREP_OK);
    assert_int_equal(prep_cut_export(store, out, &o, &d), PREP_OK);
    assert_int_equal(sh("cd %s && grep -q 'corte 2' index.html && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    assert_int_equal(sh("cd %s/cortes/1 && grep -q 'Corte: inicial' index.html && signify-openbsd -V -q -p %s.pub -m "
                        "SHA256SUMS && sha256sum -c --strict --quiet SHA256SUMS",
                        out, name),
                     0);
    assert_int_equal(sh("cd %s/cortes/2 && sha256sum -c --strict --quiet SHA256SUMS", out), 0);
    assert_int_equal(sh("test -z \"$(ls -a %s | grep -v '^www$\\|^www.cortes$\\|^www.objetos$\\|^store$\\|^inst\\|^\\.')\"", t), 0);
    /* An older cut exported on request. */
    char *out1 = pathf("%s/www1", t);
    o.seq = 1;
    o.archive = 0;
    o.copy = 1;
    assert_int_equal(prep_cut_export(store, out1, &o, &d), PREP_OK);
    assert_int_equal(sh("cd %s && grep -q 'Corte: inicial' index.html && test ! -e cortes && sha256sum -c --strict "
                        "--quiet SHA256SUMS",
                        out1),
                     0);
    free(ip);
    ip = pathf("%s/index.html", out1);
    assert_int_equal(stat(ip, &sb), 0);
    assert_int_equal(sb.st_nlink, 1);
    /* A directory that is not an export is never replaced. */
    char *other = pathf("%s/other", t);
    assert_int_equal(sh("mkdir -p %s && touch %s/precious", other, other), 0);
    assert_int_equal(prep_cut_export(store, other, &o, &d), PREP_ERR_INVALID);
    assert_int_equal(sh("test -f %s/precious", other), 0);
    prep_cut_seckey_wipe(&sk);
    site_free(&s);
    prep_diags_free(&d);
    rm_rf(t);
    free(t), free(store), free(out), free(name), free(kp), free(ip), free(out1), free(other);
}

/* ---------------------------------------------------------------- the documentation */
/* The fenced block after "<!-- example:NAME -->" in docs/formats/cut.md (owned), or NULL. */
static char *doc_block(const char *doc, const char *name, size_t *n)
{
    char marker[128];
    snprintf(marker, sizeof marker, "<!-- example:%s -->\n```\n", name);
    const char *a = strstr(doc, marker);
    if (!a) return NULL;
    a += strlen(marker);
    const char *b = strstr(a, "```\n");
    if (!b) return NULL;
    *n = (size_t)(b - a);
    return prep_xstrndup(a, *n);
}

/* Every value of the worked example in docs/formats/cut.md is checked here, with the
 * library and with signify, so the page a citizen follows cannot drift from the program. */
static void test_doc_example(void **st)
{
    (void)st;
    size_t dn;
    char *doc = read_all(PREP_TEST_DATA "/../../docs/formats/cut.md", &dn);
    assert_non_null(doc);
    size_t pn, m2n, s2n, m1n, s1n, in;
    char *pub = doc_block(doc, "ieeq.pub", &pn), *m2 = doc_block(doc, "SHA256SUMS", &m2n);
    char *s2 = doc_block(doc, "SHA256SUMS.sig", &s2n), *m1 = doc_block(doc, "cortes/1/SHA256SUMS", &m1n);
    char *s1 = doc_block(doc, "cortes/1/SHA256SUMS.sig", &s1n), *page = doc_block(doc, "index.html", &in);
    assert_non_null(pub), assert_non_null(m2), assert_non_null(s2), assert_non_null(m1), assert_non_null(s1);
    assert_non_null(page);
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_pubkey pk;
    prep_cut_sig sig;
    assert_int_equal(prep_cut_pubkey_parse(pub, pn, "doc", &pk, &d), PREP_OK);
    assert_int_equal(prep_cut_sig_parse(s2, s2n, "doc", &sig, &d), PREP_OK);
    assert_int_equal(prep_cut_sig_verify(&pk, 1, &sig, m2, m2n, NULL, "doc", &d), PREP_OK);
    assert_int_equal(prep_cut_sig_parse(s1, s1n, "doc", &sig, &d), PREP_OK);
    assert_int_equal(prep_cut_sig_verify(&pk, 1, &sig, m1, m1n, NULL, "doc", &d), PREP_OK);
    prep_cut_manifest a, b;
    assert_int_equal(prep_cut_manifest_parse(m1, m1n, NULL, "doc cut 1", &a, &d), PREP_OK);
    assert_int_equal(prep_cut_manifest_parse(m2, m2n, NULL, "doc cut 2", &b, &d), PREP_OK);
    assert_string_equal(b.meta.previous, a.sha256);
    assert_string_equal(a.sha256, "df8f4ad320a471d28d394ff8f852970a8f86285bd6153f135ea75f96641c6896");
    assert_string_equal(b.sha256, "30c52efeda853717041f663a0b55010e10bb4c34bfd708bca19247fc4e63e251");
    assert_memory_equal(b.meta.keynum, pk.keynum, 8);
    char kh[17];
    prep_cut_keynum_hex(pk.keynum, kh);
    assert_string_equal(kh, "d93db5a86bc0546c");
    char h[65];
    prep_sha256_hex(page, in, h);
    const prep_cut_entry *e = prep_cut_manifest_find(&b, "index.html");
    assert_string_equal(h, e->sha256);
    assert_int_equal(in, e->size);
    /* And with signify, from files as a citizen would have them. */
    char *t = tmpdir_new();
    char *pp = pathf("%s/ieeq.pub", t), *mp = pathf("%s/SHA256SUMS", t), *sp = pathf("%s/SHA256SUMS.sig", t);
    write_bytes(pp, pub, pn);
    write_bytes(mp, m2, m2n);
    write_bytes(sp, s2, s2n);
    assert_int_equal(sh("signify-openbsd -V -q -p %s -m %s", pp, mp), 0);
    rm_rf(t);
    prep_cut_manifest_free(&a);
    prep_cut_manifest_free(&b);
    prep_diags_free(&d);
    free(doc), free(pub), free(m2), free(s2), free(m1), free(s1), free(page), free(t), free(pp), free(mp), free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_files),
        cmocka_unit_test(test_signify_interop),
        cmocka_unit_test(test_openssl_interop),
        cmocka_unit_test(test_rfc8032_vector),
        cmocka_unit_test(test_envelope_errors),
        cmocka_unit_test(test_manifest_known_answer),
        cmocka_unit_test(test_manifest_parse_errors),
        cmocka_unit_test(test_manifest_path_conflicts),
        cmocka_unit_test(test_manifest_patch),
        cmocka_unit_test(test_paths_and_types),
        cmocka_unit_test(test_chain_receive_verify_delta),
        cmocka_unit_test(test_make_rules),
        cmocka_unit_test(test_make_many_objects),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_doc_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
