/* prep check: a broadcaster's infrastructure self-check against section II of the call
 * (convocatoria.md; docs/check.md).
 *
 * Two layers:
 *   - pure item functions: each item's verdict is a function of texts and numbers the
 *     caller hands in (file contents, command outputs, syscall results), so unit tests
 *     feed recorded samples;
 *   - a thin gathering layer (prep_check_run) that reads the real machine and calls them.
 *
 * Ownership: every pointer argument is borrowed unless said otherwise. Items hold their
 * evidence in fixed buffers (no allocation); id and requirement point to static text. */
#ifndef PREP_CHECK_H
#define PREP_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prep/core.h"

/* ---------------------------------------------------------------- limits */
#define PREP_CHECK_TEXT_MAX ((size_t)16 << 20) /* bytes of any one input text (16 MiB) */
#define PREP_CHECK_EVIDENCE_MAX 1024           /* bytes of an item's evidence, NUL included */
#define PREP_CHECK_FW_MAX_CHAINS 4096
#define PREP_CHECK_FW_MAX_RULES 65536          /* rules in a whole ruleset */
#define PREP_CHECK_FW_MAX_CONDS 32             /* conditions in one rule */
#define PREP_CHECK_FW_MAX_ELEMS 1024           /* elements of one set (ports, addresses) */
#define PREP_CHECK_FW_MAX_DEPTH 16             /* nested jumps followed */
#define PREP_CHECK_LINE_MAX 8192               /* bytes of one line of iptables-save etc. */
#define PREP_CHECK_MAX_PORTS 16                /* restricted ports checked */

/* Section II figures (convocatoria.md). */
#define PREP_CHECK_DISK_MIN_BYTES 20000000000ULL        /* "20 GB" free: SI gigabytes */
#define PREP_CHECK_RAM_MIN_KIB (64ULL * 1024 * 1024)    /* "64 GB" RAM read as 64 GiB */
/* MemTotal runs below installed RAM (firmware and kernel reservations): a 64 GiB server
 * shows about 62.6-63.5 GiB. MemTotal at or above 97.5 % of 64 GiB passes. */
#define PREP_CHECK_RAM_MIN_MEMTOTAL_KIB (PREP_CHECK_RAM_MIN_KIB * 975 / 1000)
#define PREP_CHECK_CORES_MIN 8                          /* "2 x 4 cores" */
#define PREP_CHECK_MHZ_MIN 2400                         /* "at 2.4 GHz" */

/* ---------------------------------------------------------------- items */
typedef enum prep_check_verdict {
    PREP_CHECK_PASS = 0,
    PREP_CHECK_FAIL,
    PREP_CHECK_UNKNOWN, /* cannot tell: the evidence needed is not readable here */
} prep_check_verdict;

/* "pass", "fail", "cannot-tell" (static). */
const char *prep_check_verdict_name(prep_check_verdict v);

typedef struct prep_check_item {
    const char *id;          /* static: "os", "web", "ssh", "ntp", "disk", "ram", "cpu",
                              * "https", "firewall", "ids" */
    const char *requirement; /* static: the call's words for this item */
    prep_check_verdict verdict;
    char evidence[PREP_CHECK_EVIDENCE_MAX]; /* what was seen, one line, truncated to fit */
} prep_check_item;

/* OS: /etc/os-release text (NULL: unreadable) and uname's machine ("x86_64").
 * Pass: CentOS 8 64-bit (an EL8 rebuild - rhel, rocky, almalinux, ol - passes with a note);
 * fail: anything else; cannot tell: no os-release. */
void prep_check_os(const char *os_release, size_t len, const char *machine, prep_check_item *out);

/* Counts LISTEN sockets on local port `port` in a /proc/net/tcp or tcp6 text. Returns the
 * count, or -1 if the text is not in that format. */
int prep_check_tcp_listeners(const char *text, size_t len, unsigned port);

/* Web server: outputs of `apache2 -v`/`httpd -v` and `nginx -v` (NULL: not installed),
 * listeners on 443 and 80 (-1: unknown), and whether a `prep serve` process runs.
 * Pass: Apache 2.x installed; fail: otherwise (what serves 443 is said). */
void prep_check_web(const char *apache_v, const char *nginx_v, int l443, int l80, int prep_serve,
                    prep_check_item *out);

/* SSH: `sshd -T` output (NULL unless run as root), the sshd_config text (NULL: unreadable),
 * `ssh -V` output, and whether an sshd binary exists. Pass: sshd present and speaking
 * protocol 2 (OpenSSH >= 7.4 speaks nothing else); "PasswordAuthentication no" is
 * recommended in the evidence. Fail: no sshd. */
void prep_check_ssh(const char *sshd_t, const char *sshd_config, const char *ssh_v, int sshd_present,
                    prep_check_item *out);
/* The ports sshd listens on, from sshd -T ("port N" lines) or sshd_config ("Port N").
 * Writes at most max ports; returns how many (0: none said, the default 22 applies). */
size_t prep_check_sshd_ports(const char *text, unsigned *ports, size_t max);

/* NTP: the kernel clock state from adjtimex(2). */
typedef struct prep_check_clock {
    int ok;            /* adjtimex answered */
    int err;           /* errno when not ok */
    int status;        /* timex.status (STA_UNSYNC = 0x40) */
    long maxerror_us;  /* timex.maxerror */
    long esterror_us;  /* timex.esterror */
} prep_check_clock;
/* procs: newline-separated process names running (NULL: unknown). Pass: STA_UNSYNC clear
 * and maxerror < 16 s; fail: unsynchronised; cannot tell: adjtimex failed. */
void prep_check_ntp(const prep_check_clock *clk, const char *procs, prep_check_item *out);

/* Disk: statvfs of path; ok = 0 with err = errno when it failed. */
void prep_check_disk(const char *path, int ok, int err, uint64_t avail_bytes, uint64_t total_bytes,
                     prep_check_item *out);

/* RAM: /proc/meminfo text (NULL: unreadable). See PREP_CHECK_RAM_MIN_MEMTOTAL_KIB. */
void prep_check_ram(const char *meminfo, size_t len, prep_check_item *out);

/* CPU: /proc/cpuinfo text (NULL: unreadable), sysconf(_SC_NPROCESSORS_ONLN) (0: unknown),
 * cpufreq's cpuinfo_max_freq in kHz (0: unknown). Pass: >= 8 physical cores and >= 2.4 GHz. */
void prep_check_cpu(const char *cpuinfo, size_t len, long nproc, long max_khz, prep_check_item *out);

/* HTTPS answering: what one probe of a URL saw. */
typedef struct prep_check_tls_probe {
    char url[256];
    int connected;       /* TCP connection made */
    int handshake;       /* TLS handshake completed */
    int http_status;     /* status code of the answer to GET, 0 if none */
    char tls_version[32];/* "TLSv1.3" */
    char cipher[64];
    char alpn[16];
    int64_t not_after;   /* certificate expiry, Unix seconds (PREP_TIME_NONE: unknown) */
    int64_t now;         /* when probed */
    int verify_ok;       /* chain and name verified against the system's trust store */
    char verify_msg[96];
    char err[160];       /* why connecting or the handshake failed */
} prep_check_tls_probe;
/* Pass: TLS handshake and an HTTP answer with a certificate not expired; fail: a server
 * answers TCP but TLS fails, or the certificate expired; cannot tell: nothing answered. */
void prep_check_https(const prep_check_tls_probe *p, prep_check_item *out);
/* Probes url (https://HOST[:PORT][/PATH]) with OpenSSL: connect (timeout_ms), handshake,
 * GET, status line. Never fails: what happened is in *p. */
void prep_check_tls_probe_run(const char *url, int timeout_ms, prep_check_tls_probe *p);

/* ---------------------------------------------------------------- firewall */
/* A ruleset read from `nft -j list ruleset` or `iptables-save`/`ip6tables-save`, reduced to
 * what decides whether a new TCP connection to a port from a source is accepted on the
 * input hook. Opaque; owned by the caller, free with prep_check_fw_free. */
typedef struct prep_check_fw prep_check_fw;

prep_check_fw *prep_check_fw_new(void);
void prep_check_fw_free(prep_check_fw *fw);
/* Adds the ruleset in an nft JSON text. Unknown expressions are kept as "cannot tell"
 * conditions, never guessed. Errors (not JSON, limits) go to d with `file`. */
PREP_NODISCARD prep_err prep_check_fw_add_nft_json(prep_check_fw *fw, const char *text, size_t len, const char *file,
                                    prep_diags *d);
/* Adds an iptables-save (family 4) or ip6tables-save (family 6) text's filter table. */
PREP_NODISCARD prep_err prep_check_fw_add_iptables(prep_check_fw *fw, const char *text, size_t len, int family,
                                    const char *file, prep_diags *d);
/* Number of input base chains read (0: no firewall on the input hook). */
size_t prep_check_fw_input_chains(const prep_check_fw *fw);

typedef enum prep_check_reach {
    PREP_CHECK_REACH_CLOSED = 0, /* every such connection is dropped */
    PREP_CHECK_REACH_OPEN,       /* some such connection is accepted */
    PREP_CHECK_REACH_UNKNOWN,    /* depends on something the model does not read */
} prep_check_reach;
/* "closed", "open", "cannot-tell" (static). */
const char *prep_check_reach_name(prep_check_reach r);

/* Whether a new TCP connection to `port` is accepted on the input hook:
 *   src == NULL:       from any source address (IPv4 and IPv6);
 *   others == 0:       from exactly src;
 *   others == 1:       from some address other than src (either family).
 * why (may be NULL) gets a short reason ("inet f input rule 4: accept"). */
prep_check_reach prep_check_fw_reach(const prep_check_fw *fw, unsigned port, const char *src, int others,
                                     char *why, size_t whysz);

/* Firewall item. fw NULL (no ruleset readable) with `note` saying why -> cannot tell.
 * institute NULL -> cannot tell (the check needs the institute's address). Pass: HTTPS
 * (443) open to any source, and each of ports[] reachable from no source but institute. */
void prep_check_firewall(const prep_check_fw *fw, const char *note, const char *institute,
                         const unsigned *ports, size_t nports, prep_check_item *out);

/* ---------------------------------------------------------------- IDS */
/* Intrusion detection: dpkg status text (NULL: none), newline-separated running process
 * names (NULL: unknown), newline-separated paths that exist among those
 * prep_check_ids_paths lists. Pass: a known IDS running (or, for aide/tripwire that run
 * from cron, installed with its database). docs/check.md lists each with why it counts. */
void prep_check_ids(const char *dpkg_status, size_t len, const char *procs, const char *present,
                    prep_check_item *out);
/* The paths prep_check_ids wants tested for existence (static, NULL-terminated). */
const char *const *prep_check_ids_paths(void);

/* 1 if the dpkg status text says package `name` is "install ok installed"; 0 otherwise. */
int prep_check_dpkg_installed(const char *status, size_t len, const char *name, char *version, size_t vsz);

/* ---------------------------------------------------------------- run + report */
enum { PREP_CHECK_N_ITEMS = 10 };

typedef struct prep_check_report {
    prep_check_item items[PREP_CHECK_N_ITEMS];
    size_t n;
} prep_check_report;

typedef struct prep_check_opts {
    const char *institute_ip; /* NULL: firewall cannot tell */
    const char *url;          /* NULL: https://127.0.0.1/ */
    const char *path;         /* NULL: "/" */
    const char *nft_json;     /* a file with `nft -j list ruleset` output to read instead of running nft */
    unsigned extra_ports[PREP_CHECK_MAX_PORTS]; /* more restricted ports (FTPS data, ...) */
    size_t n_extra_ports;
    int timeout_ms;           /* HTTPS probe; 0: 5000 */
} prep_check_opts;

/* Gathers from this machine and fills r with every item, in the order of section II. */
void prep_check_run(const prep_check_opts *o, prep_check_report *r);

/* Counts of each verdict. */
void prep_check_count(const prep_check_report *r, size_t *pass, size_t *fail, size_t *unknown);
/* Text table: item, verdict, evidence, requirement. */
void prep_check_print_text(const prep_check_report *r, FILE *f);
/* JSON text (owned, free()); keys: {"check":"prep-check-1","items":[{"id","verdict",
 * "evidence","requirement"}...],"summary":{"pass","fail","cannot_tell"}}. NULL on no memory. */
char *prep_check_json(const prep_check_report *r);

#endif
