/* One long-running writer per store: see cli.h cli_store_lock. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int cli_store_lock(const char *cmd, const char *store, const char *name)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s.lock", store, name);
    if (prep_mkdirs(store) != PREP_OK) {
        fprintf(stderr, "prep %s: cannot create the store %s: %s\n", cmd, store, strerror(errno));
        return -1;
    }
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot open: %s\n", p, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[24] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? strcspn(pid, "\n") : 0] = 0;
        fprintf(stderr,
                "%s: another prep %s (pid %s) runs on this store: one per store, or they race for every cut; "
                "nothing is started\n",
                p, cmd, pid[0] ? pid : "?");
        close(fd);
        return -1;
    }
    char line[24];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n)
        fprintf(stderr, "%s: cannot write the process id: %s (the lock holds)\n", p, strerror(errno));
    return fd;
}
