/* Crash safety of receive/activate (DESIGN.md promise 2).
 *
 * test_sigkill_100: 100 cuts; each is received by a child process that is killed with
 *   SIGKILL at a random point chosen by a seeded RNG: on even iterations at the k-th
 *   file-system step (through the store's I/O hook: before a write, fsync, rename...),
 *   on odd ones after a random delay. After each kill the "restarted" broadcaster must
 *   have, as active cut, the old one or the new one, whole: the whole chain verifies
 *   (signatures, every object's size and hash, links). Then receiving again completes
 *   the cut and leaves no temporary file.
 * test_enospc_every_step: the I/O hook fails the k-th step with ENOSPC, for every k.
 * test_disk_full_tmpfs: the store on a real 2 MiB tmpfs (we run as root), filled to
 *   leave 0..N KiB free; skipped with a message if mounting is not permitted.
 * test_readers_see_whole_cuts: a reader process checks every file of the active cut
 *   against its manifest in a loop while 30 cuts are activated. */
#include "test_cut_util.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>

typedef struct fx {
    char *t, *inst, *recv, *inc;
    prep_cut_seckey k;
    prep_cut_pubkey pk;
    site s;
    uint64_t last; /* last cut made */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->t = tmpdir_new();
    f->inst = pathf("%s/inst", f->t);
    f->recv = pathf("%s/recv", f->t);
    f->inc = pathf("%s/incoming", f->t);
    key_from_seed(21, &f->k, &f->pk);
    site_init(&f->s, 12);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char *mnt = pathf("%s/mnt", f->t);
    umount2(mnt, MNT_DETACH); /* the disk-full test's tmpfs, if it stopped half-way */
    free(mnt);
    rm_rf(f->t);
    site_free(&f->s);
    free(f->t), free(f->inst), free(f->recv), free(f->inc);
    free(f);
    return 0;
}

/* The institute makes the next cut: three pages change (a realistic 5-minute delta). */
static void next_cut(fx *f, prep_rng *r)
{
    if (f->last) {
        for (int i = 0; i < 3; i++) {
            char p[64];
            snprintf(p, sizeof p, "gubernatura/seccion-%04d/index.html", (int)prep_rng_below(r, 12) + 1);
            site_set(&f->s, p, "<p>corte %llu, actas %llu</p>%0200d", (unsigned long long)f->last + 1,
                     (unsigned long long)prep_rng_next(r), 0);
        }
        site_set(&f->s, "index.html", "<p>corte %llu</p>%0500d", (unsigned long long)f->last + 1, 0);
    }
    prep_diags d;
    prep_diags_init(&d);
    uint64_t seq;
    prep_err e = make_cut(f->inst, &f->s, &f->k, PREP_CUT_LIVE, T0 + 300 * (prep_time)f->last, 3600 * 24 * 30, &seq, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(seq, f->last + 1);
    f->last = seq;
    prep_diags_free(&d);
}

static prep_err receive(fx *f, prep_diags *d)
{
    prep_cut_policy pol;
    policy_for(&pol, &f->pk, T0 + 300 * (prep_time)f->last + 60);
    return prep_cut_receive(f->recv, f->inc, &pol, NULL, d);
}

/* "After restart": active is prev or prev+1, and the whole store verifies. */
static void check_whole(fx *f, uint64_t prev)
{
    uint64_t a = active_seq(f->recv);
    if (a != prev && a != prev + 1) fail_msg("active cut %llu; expected %llu or %llu", (unsigned long long)a,
                                             (unsigned long long)prev, (unsigned long long)prev + 1);
    if (a == 0) return;
    prep_cut_policy pol;
    policy_for(&pol, &f->pk, T0);
    prep_diags d;
    prep_diags_init(&d);
    prep_err e = prep_cut_verify(f->recv, 0, &pol, NULL, &d);
    if (e) {
        prep_diags_print(&d, stderr, 10);
        fail_msg("store does not verify after a crash (active %llu)", (unsigned long long)a);
    }
    prep_diags_free(&d);
}

/* No leftovers once a receive has completed. */
static void check_clean(fx *f)
{
    char *tmp = pathf("%s/tmp", f->recv), *cuts = pathf("%s/cuts", f->recv);
    assert_int_equal(dir_count(tmp, NULL), 0);
    assert_int_equal(dir_count(cuts, "."), 0);
    free(tmp), free(cuts);
}

/* ---------------------------------------------------------------- hooks */
typedef struct hookctx {
    long count;
    long target;   /* the step at which to act */
    int err;       /* 0 = SIGKILL ourselves, else fail with this errno */
} hookctx;

static int hook(void *ctx, const char *op, const char *path)
{
    (void)op;
    (void)path;
    hookctx *h = ctx;
    if (++h->count != h->target) return 0;
    if (!h->err) raise(SIGKILL);
    return h->err;
}

/* Steps and wall time of one full receive of the next cut (measured on a copy). */
static void measure(fx *f, long *steps, long *usec)
{
    char *copy = pathf("%s/probe", f->t);
    rm_rf(copy);
    copy_tree(f->recv, copy);
    hookctx h = {0, -1, 0};
    prep_cut_set_io_hook(hook, &h);
    prep_cut_policy pol;
    policy_for(&pol, &f->pk, T0 + 300 * (prep_time)f->last + 60);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(prep_cut_receive(copy, f->inc, &pol, NULL, NULL), PREP_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    prep_cut_set_io_hook(NULL, NULL);
    *steps = h.count;
    *usec = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
    rm_rf(copy);
    free(copy);
}

static void test_sigkill_100(void **state)
{
    fx *f = *state;
    prep_rng r;
    prep_rng_seed(&r, 20210606);
    /* Cut 1 received normally. */
    next_cut(f, &r);
    deliver(f->inst, 1, f->recv, f->inc);
    assert_int_equal(receive(f, NULL), PREP_OK);
    int killed = 0, killed_before = 0, killed_after = 0, finished = 0;
    long steps = 0, usec = 0;
    for (int it = 0; it < 100; it++) {
        next_cut(f, &r);
        deliver(f->inst, f->last, f->recv, f->inc);
        uint64_t prev = f->last - 1;
        if (it % 10 == 0) measure(f, &steps, &usec); /* the steps of one receive vary little */
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        long target = (long)prep_rng_below(&r, (uint64_t)steps) + 1;
        if (it == 0) target = steps;     /* after the switch's rename, before its directory fsync */
        if (it == 2) target = steps - 1; /* the rename of the active pointer itself */
        long delay = (long)prep_rng_below(&r, (uint64_t)usec + 1);
        if (pid == 0) {
            hookctx h = {0, target, 0};
            if (it % 2 == 0) prep_cut_set_io_hook(hook, &h);
            prep_diags d;
            prep_diags_init(&d);
            _exit(receive(f, &d) == PREP_OK ? 0 : 1);
        }
        if (it % 2 == 1) {
            struct timespec ts = {delay / 1000000, (delay % 1000000) * 1000};
            nanosleep(&ts, NULL);
            kill(pid, SIGKILL);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            killed++;
            if (active_seq(f->recv) == prev)
                killed_before++;
            else
                killed_after++;
        } else {
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
            finished++;
        }
        /* Restart: the store holds a whole, verified cut, old or new. */
        check_whole(f, prev);
        /* And the cut can be received to the end; nothing good was lost. */
        prep_diags d;
        prep_diags_init(&d);
        prep_err e = receive(f, &d);
        if (e) prep_diags_print(&d, stderr, 5);
        assert_int_equal(e, PREP_OK);
        prep_diags_free(&d);
        assert_int_equal(active_seq(f->recv), f->last);
        check_clean(f);
    }
    check_whole(f, f->last);
    print_message("SIGKILL: %d killed (%d before the switch, %d after), %d finished first\n", killed, killed_before,
                  killed_after, finished);
    /* The seeded schedule must really crash the receiver, on both sides of the switch. */
    assert_true(killed >= 60);
    assert_true(killed_before >= 20);
    assert_true(killed_after >= 1);
}

static void test_enospc_every_step(void **state)
{
    fx *f = *state;
    prep_rng r;
    prep_rng_seed(&r, 7);
    next_cut(f, &r);
    deliver(f->inst, 1, f->recv, f->inc);
    assert_int_equal(receive(f, NULL), PREP_OK);
    next_cut(f, &r);
    deliver(f->inst, 2, f->recv, f->inc);
    long steps, usec;
    measure(f, &steps, &usec);
    assert_true(steps > 10);
    char *base = pathf("%s/base", f->t);
    copy_tree(f->recv, base);
    int failed = 0;
    for (long k = 1; k <= steps; k++) {
        rm_rf(f->recv);
        copy_tree(base, f->recv);
        hookctx h = {0, k, ENOSPC};
        prep_cut_set_io_hook(hook, &h);
        prep_diags d;
        prep_diags_init(&d);
        prep_err e = receive(f, &d);
        prep_cut_set_io_hook(NULL, NULL);
        if (e) {
            failed++;
            assert_int_equal(e, PREP_ERR_IO);
            const prep_diag *g = prep_diags_find(&d, "io");
            assert_non_null(g);
            assert_non_null(strstr(g->msg, "No space left on device"));
            /* Only the last step (the directory fsync after the pointer's rename) fails
             * with the new cut already switched in. */
            if (active_seq(f->recv) != 1) assert_int_equal(k, steps);
        }
        prep_diags_free(&d);
        check_whole(f, 1);
        prep_diags_init(&d);
        assert_int_equal(receive(f, &d), PREP_OK);
        prep_diags_free(&d);
        assert_int_equal(active_seq(f->recv), 2);
        check_clean(f);
    }
    print_message("ENOSPC injected at each of %ld steps: %d receives failed cleanly\n", steps, failed);
    /* Every step before the switch must surface the error. */
    assert_true(failed >= steps - 2);
    free(base);
}

/* The store's retention on a full disk (a real tmpfs): with no data block left it still
 * marks and removes (an empty mark needs only an inode), freeing the space the next cut
 * needs; with no inode left either it fails, says so ("no space left on device (or no free
 * inode)", naming the mark's path), removes nothing, and the store still verifies. */
static void big_cut(fx *f, prep_rng *r)
{
    size_t n = 192 * 1024;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++) big[i] = (char)('a' + prep_rng_below(r, 26));
    big[n - 1] = 0;
    site_set(&f->s, "datos/base.csv", "%s", big);
    free(big);
    next_cut(f, r);
    deliver(f->inst, f->last, f->recv, f->inc);
    assert_int_equal(receive(f, NULL), PREP_OK);
}

static int count_objects(const char *store)
{
    int n = 0;
    for (int i = 0; i < 256; i++) {
        char *p = pathf("%s/objects/%02x", store, i);
        int k = dir_count(p, NULL);
        if (k > 0) n += k;
        free(p);
    }
    return n;
}

static void fill(const char *path)
{
    sh("dd if=/dev/zero of=%s bs=4k 2>/dev/null; true", path);
}

static void test_gc_full_disk(void **state)
{
    fx *f = *state;
    char *mnt = pathf("%s/mnt", f->t);
    assert_int_equal(mkdir(mnt, 0755), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") != 0) {
        print_message("tmpfs mount not permitted (%s): skipped\n", strerror(errno));
        free(mnt);
        skip();
    }
    free(f->recv);
    f->recv = pathf("%s/store", mnt);
    prep_rng r;
    prep_rng_seed(&r, 5);
    for (int k = 0; k < 5; k++) big_cut(f, &r);
    /* no data block left */
    char *filler = pathf("%s/filler", mnt);
    fill(filler);
    prep_diags d;
    prep_diags_init(&d);
    prep_cut_gc_result g;
    prep_err e = prep_cut_store_gc(f->recv, 1, &g, &d);
    if (e) prep_diags_print(&d, stderr, 5);
    assert_int_equal(e, PREP_OK);
    assert_int_equal(g.cuts_pruned, 4);
    assert_true(g.bytes_removed >= 4 * 192 * 1024);
    prep_diags_free(&d);
    check_whole(f, f->last);
    /* the space it freed takes the next cut, the disk still otherwise full */
    big_cut(f, &r);
    assert_int_equal(active_seq(f->recv), f->last);
    unlink(filler);
    assert_int_equal(umount(mnt), 0);

    /* no inode left either: the failure is named, nothing is removed */
    assert_int_equal(mount("tmpfs", mnt, "tmpfs", 0, "size=4m,nr_inodes=400"), 0);
    f->last = 0;
    rm_rf(f->inst);
    rm_rf(f->inc);
    for (int k = 0; k < 3; k++) big_cut(f, &r);
    for (int i = 0; i < 1000; i++) {
        char *p = pathf("%s/i%04d", mnt, i);
        int fd = open(p, O_CREAT | O_WRONLY, 0644);
        free(p);
        if (fd < 0) break;
        close(fd);
    }
    fill(filler);
    int before = count_objects(f->recv);
    prep_diags_init(&d);
    e = prep_cut_store_gc(f->recv, 1, &g, &d);
    assert_int_equal(e, PREP_ERR_IO);
    const prep_diag *x = prep_diags_find(&d, "io");
    assert_non_null(x);
    if (!strstr(x->msg, "no space left on device (or no free inode)") || !strstr(x->msg, "/cuts/1/pruned"))
        fail_msg("diag: %s", x->msg);
    assert_int_equal(g.objects_removed, 0);
    assert_int_equal(count_objects(f->recv), before);
    prep_diags_free(&d);
    check_whole(f, f->last);
    free(filler);
    assert_int_equal(umount(mnt), 0);
    free(mnt);
}

static void test_disk_full_tmpfs(void **state)
{
    fx *f = *state;
    char *mnt = pathf("%s/mnt", f->t);
    assert_int_equal(mkdir(mnt, 0755), 0);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") != 0) {
        print_message("tmpfs mount not permitted (%s): real disk-full run skipped; "
                      "test_enospc_every_step covers ENOSPC by injection\n",
                      strerror(errno));
        free(mnt);
        skip();
    }
    free(f->recv);
    f->recv = pathf("%s/store", mnt);
    prep_rng r;
    prep_rng_seed(&r, 11);
    next_cut(f, &r);
    deliver(f->inst, 1, f->recv, f->inc);
    assert_int_equal(receive(f, NULL), PREP_OK);
    /* Cut 2 adds a 1.5 MiB file: with the disk full it cannot fit. */
    char *big = malloc(1536 * 1024);
    for (size_t i = 0; i < 1536 * 1024; i++) big[i] = (char)('a' + prep_rng_below(&r, 26));
    big[1536 * 1024 - 1] = 0;
    site_set(&f->s, "datos/base.csv", "%s", big);
    free(big);
    next_cut(f, &r);
    deliver(f->inst, 2, f->recv, f->inc);
    int failed = 0, ok = 0;
    char *filler = pathf("%s/filler", mnt);
    for (int free_kib = 0; free_kib <= 2048; free_kib += 64) {
        /* Fill the disk, then give back free_kib KiB. */
        sh("dd if=/dev/zero of=%s bs=4k 2>/dev/null; true", filler);
        struct stat sb;
        assert_int_equal(stat(filler, &sb), 0);
        off_t keep = sb.st_size > (off_t)free_kib * 1024 ? sb.st_size - (off_t)free_kib * 1024 : 0;
        assert_int_equal(truncate(filler, keep), 0);
        prep_diags d;
        prep_diags_init(&d);
        prep_err e = receive(f, &d);
        if (e) {
            assert_int_equal(e, PREP_ERR_IO);
            assert_int_equal(active_seq(f->recv), 1);
            failed++;
        } else {
            ok++;
        }
        prep_diags_free(&d);
        check_whole(f, 1);
        unlink(filler);
        if (!e) break;
    }
    print_message("tmpfs 2 MiB: %d receives failed for lack of space, %d succeeded once space was freed\n", failed,
                  ok);
    assert_true(failed >= 10);
    assert_int_equal(ok, 1);
    assert_int_equal(active_seq(f->recv), 2);
    check_clean(f);
    assert_int_equal(umount(mnt), 0);
    free(filler);
    free(mnt);
}

static void test_readers_see_whole_cuts(void **state)
{
    fx *f = *state;
    prep_rng r;
    prep_rng_seed(&r, 99);
    next_cut(f, &r);
    deliver(f->inst, 1, f->recv, f->inc);
    assert_int_equal(receive(f, NULL), PREP_OK);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[1]);
        fcntl(pfd[0], F_SETFL, O_NONBLOCK);
        long reads = 0, bad = 0;
        uint64_t last_seq = 0, seqs_seen = 0;
        for (;;) {
            char c;
            if (read(pfd[0], &c, 1) == 0) break; /* parent closed: done */
            prep_cut_manifest m;
            if (prep_cut_load(f->recv, 0, &m, NULL) != PREP_OK) {
                bad++;
                continue;
            }
            if (m.meta.seq != last_seq) seqs_seen++, last_seq = m.meta.seq;
            for (size_t i = 0; i < m.n; i++) {
                char p[4096];
                prep_cut_object_path(f->recv, m.entries[i].sha256, p, sizeof p);
                size_t n;
                char *b = read_all(p, &n);
                char h[65] = "";
                if (b) prep_sha256_hex(b, n, h);
                if (!b || n != m.entries[i].size || strcmp(h, m.entries[i].sha256)) bad++;
                free(b);
            }
            prep_cut_manifest_free(&m);
            reads++;
        }
        printf("reader: %ld whole reads of %llu different cuts, %ld inconsistencies\n", reads,
               (unsigned long long)seqs_seen, bad);
        fflush(stdout);
        _exit(bad == 0 && reads > 0 && seqs_seen > 1 ? 0 : 1);
    }
    close(pfd[0]);
    for (int i = 0; i < 30; i++) {
        next_cut(f, &r);
        deliver(f->inst, f->last, f->recv, f->inc);
        assert_int_equal(receive(f, NULL), PREP_OK);
    }
    close(pfd[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigkill_100, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc_every_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disk_full_tmpfs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_full_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readers_see_whole_cuts, setup, teardown),
    };
    if (getenv("CUT_TEST_FILTER")) cmocka_set_test_filter(getenv("CUT_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
