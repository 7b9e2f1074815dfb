/* bench_fs_floor: the file-system floor under an Apache-mode export (docs/benchmarks.md,
 * "Apache mode over a night"): the CPU (user + sys) of only the file operations a new
 * cut cannot avoid, with no hashing, no compression and no reading of the store.
 *
 *   bench_fs_floor DIR [DIRS [CUTS]]
 *
 * DIR (created; must not exist) gets DIRS directories (default 15,057, the pages of the
 * Querétaro 2021 site) as in an archived cut, and then, CUTS times (default 6), one "cut":
 *
 *   write  a page (13,500 bytes) and its .gz (3,300 bytes) into every directory of a new
 *          tree, the directories taken over from the tree dropped by the previous cut
 *          (the export's spare skeleton) — 2 x DIRS files created and written;
 *   drop   the tree of two cuts back: every file unlinked, its directories kept for the
 *          next cut — 2 x DIRS unlinks;
 *   sync   one syncfs(2).
 *
 * which is what an export at Querétaro scale does once the retention runs (every page is
 * new on every cut: its stamp). Output: one line per cut, user and sys seconds of each
 * step. The first cut has nothing to drop and makes its directories: read the later ones. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static double cpu(int sys)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    struct timeval t = sys ? r.ru_stime : r.ru_utime;
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static void die(const char *what, const char *path)
{
    fprintf(stderr, "bench_fs_floor: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

/* The path of directory i of tree t (three levels, like municipality/section pages). */
static void dir_path(char *b, size_t n, const char *root, int t, int i)
{
    snprintf(b, n, "%s/t%d/m%03d/s%05d", root, t, i / 100, i);
}

static void put(const char *path, const char *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
    if (fd < 0) die("creating", path);
    if (write(fd, data, n) != (ssize_t)n) die("writing", path);
    if (close(fd) != 0) die("closing", path);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: bench_fs_floor DIR [DIRS [CUTS]]\n");
        return 2;
    }
    const char *root = argv[1];
    int ndirs = argc > 2 ? atoi(argv[2]) : 15057, cuts = argc > 3 ? atoi(argv[3]) : 6;
    if (ndirs < 1 || cuts < 1 || mkdir(root, 0755) != 0) die("creating", root);
    static char page[13500], gz[3300];
    for (size_t i = 0; i < sizeof page; i++) page[i] = (char)('a' + i % 26);
    memset(gz, 'z', sizeof gz);
    char p[4096], f[4200];
    printf("cut  write(user sys)  drop(user sys)  sync(sys)  total CPU s  (%d directories, %d files per cut)\n", ndirs,
           2 * ndirs);
    for (int c = 0; c < cuts; c++) {
        int t = c % 3; /* three trees in turn: the new one, the served one, the one dropped */
        double u0 = cpu(0), s0 = cpu(1);
        /* write: the new tree, in the skeleton the drop of the previous cut left */
        snprintf(p, sizeof p, "%s/t%d", root, t);
        mkdir(p, 0755);
        for (int i = 0; i < ndirs; i++) {
            dir_path(p, sizeof p, root, t, i);
            if (mkdir(p, 0755) != 0 && errno == ENOENT) { /* the first cut: the parents too */
                *strrchr(p, '/') = 0;
                mkdir(p, 0755);
                dir_path(p, sizeof p, root, t, i);
                if (mkdir(p, 0755) != 0) die("creating", p);
            }
            snprintf(f, sizeof f, "%s/index.html", p);
            put(f, page, sizeof page);
            snprintf(f, sizeof f, "%s/index.html.gz", p);
            put(f, gz, sizeof gz);
        }
        double u1 = cpu(0), s1 = cpu(1);
        /* drop: the tree of the cut that leaves (two cuts back), files only */
        int old = (c + 1) % 3;
        if (c >= 2)
            for (int i = 0; i < ndirs; i++) {
                dir_path(p, sizeof p, root, old, i);
                int dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0) die("opening", p);
                if (unlinkat(dfd, "index.html", 0) != 0 || unlinkat(dfd, "index.html.gz", 0) != 0) die("unlinking in", p);
                close(dfd);
            }
        double u2 = cpu(0), s2 = cpu(1);
        int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0 || syncfs(rfd) != 0) die("syncing", root);
        close(rfd);
        double s3 = cpu(1);
        printf("%3d  %6.2f %6.2f    %6.2f %6.2f     %6.2f     %6.2f%s\n", c + 1, u1 - u0, s1 - s0, u2 - u1, s2 - s1,
               s3 - s2, cpu(0) - u0 + s3 - s0, c < 2 ? "  (no drop yet)" : "");
        fflush(stdout);
    }
    return 0;
}
