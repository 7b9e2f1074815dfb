/* Unit tests of prep check's pure items, fed with recorded samples (tests/data/check/):
 * real files from the build machine (os-release.debian12, meminfo.24g, cpuinfo.epyc2,
 * sshd-T.debian12, net-tcp.sample, nft-*.json made by real nft in a network namespace from
 * the nft-*.nft beside them) and hand-written ones for the other verdicts. Every item is
 * tested in each of its verdicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "prep/check.h"

static char *load(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/check/%s", PREP_TEST_DATA, name);
    char *d = NULL;
    size_t n = 0;
    if (prep_read_file(path, 1 << 24, &d, &n) != PREP_OK) fail_msg("cannot read %s", path);
    if (len) *len = n;
    return d;
}

static int has(const prep_check_item *it, const char *s) { return strstr(it->evidence, s) != NULL; }

#define ASSERT_EVIDENCE(it, s)                                                                   \
    do {                                                                                         \
        if (!has(it, s)) fail_msg("evidence of %s lacks \"%s\": %s", (it)->id, s, (it)->evidence); \
    } while (0)

/* ---------------------------------------------------------------- os */
static void os_of(const char *file, const char *machine, prep_check_item *it)
{
    size_t n;
    char *t = load(file, &n);
    prep_check_os(t, n, machine, it);
    free(t);
}

static void test_os(void **st)
{
    (void)st;
    prep_check_item it;
    os_of("os-release.centos8", "x86_64", &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "CentOS Linux 8");
    os_of("os-release.centos8", "i686", &it); /* CentOS 8 but 32-bit */
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "not 64-bit");
    os_of("os-release.rocky8", "x86_64", &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "EL8 rebuild");
    os_of("os-release.centos7", "x86_64", &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "version 8");
    os_of("os-release.debian12", "x86_64", &it); /* this machine */
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "Debian GNU/Linux 12");
    prep_check_os(NULL, 0, "x86_64", &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    prep_check_os("# nothing\nNAME=x\n", 17, "x86_64", &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    assert_string_equal(it.id, "os");
}

/* ---------------------------------------------------------------- listeners, web */
static void test_listeners(void **st)
{
    (void)st;
    size_t n;
    char *t = load("net-tcp.listen443", &n);
    /* lines 0 and 3 listen (state 0A) on 0x01BB = 443; line 2 is an established 443 socket */
    assert_int_equal(prep_check_tcp_listeners(t, n, 443), 2);
    assert_int_equal(prep_check_tcp_listeners(t, n, 80), 1);
    assert_int_equal(prep_check_tcp_listeners(t, n, 22), 0);
    free(t);
    t = load("net-tcp.sample", &n); /* this machine: one listener on 0x07E8 = 2024 */
    assert_int_equal(prep_check_tcp_listeners(t, n, 2024), 1);
    assert_int_equal(prep_check_tcp_listeners(t, n, 443), 0);
    free(t);
    t = load("net-tcp6.sample", &n); /* header only */
    assert_int_equal(prep_check_tcp_listeners(t, n, 443), 0);
    free(t);
    assert_int_equal(prep_check_tcp_listeners("garbage\n", 8, 443), -1);
    assert_int_equal(prep_check_tcp_listeners(NULL, 0, 443), -1);
    const char bad[] = "  sl  local_address\n   0: 00000000 zz\n";
    assert_int_equal(prep_check_tcp_listeners(bad, sizeof bad - 1, 443), -1);
}

static void test_web(void **st)
{
    (void)st;
    prep_check_item it;
    prep_check_web("Server version: Apache/2.4.71 (Debian)\nServer built:   2026-11-12T08:58:41\n", NULL, 1, 1, 0, &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "Apache 2.4.71");
    ASSERT_EVIDENCE(&it, "1 listener(s) on :443");
    prep_check_web(NULL, "nginx version: nginx/1.22.1\n", 1, 0, 0, &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "nginx 1.22.1");
    prep_check_web(NULL, NULL, 1, -1, 1, &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "prep serve running");
    prep_check_web("Server version: Apache/1.3.42 (Unix)\n", NULL, 0, 0, 0, &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
}

/* ---------------------------------------------------------------- ssh */
static void test_ssh(void **st)
{
    (void)st;
    prep_check_item it;
    char *t = load("sshd-T.debian12", NULL);
    char *cfg = load("sshd_config.debian12", NULL);
    const char *v = "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.22 25 Aug 2026\n";
    prep_check_ssh(t, cfg, v, 1, &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "OpenSSH 9.2p1");
    ASSERT_EVIDENCE(&it, "sshd -T: port 22");
    ASSERT_EVIDENCE(&it, "passwordauthentication yes");
    ASSERT_EVIDENCE(&it, "recommended: PasswordAuthentication no");
    /* not root: the config file, where Debian's says nothing of the port */
    prep_check_ssh(NULL, cfg, v, 1, &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "22 (default)");
    unsigned ports[4];
    assert_int_equal(prep_check_sshd_ports(t, ports, 4), 1);
    assert_int_equal(ports[0], 22);
    const char *c2 = "# hardened\nPort 2222\nPort 22\nPasswordAuthentication no\nMatch User x\n  Port 9\n";
    assert_int_equal(prep_check_sshd_ports(c2, ports, 4), 2);
    assert_int_equal(ports[0], 2222);
    assert_int_equal(ports[1], 22);
    prep_check_ssh(NULL, c2, v, 1, &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    assert_false(has(&it, "recommended"));
    ASSERT_EVIDENCE(&it, "port 2222,22");
    /* old sshd that still allows protocol 1 */
    prep_check_ssh(NULL, "Protocol 2,1\n", "OpenSSH_5.3p1, OpenSSL 1.0.1e-fips\n", 1, &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    /* old sshd, protocol not said: cannot tell */
    prep_check_ssh(NULL, NULL, "OpenSSH_6.6p1\n", 1, &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    prep_check_ssh(NULL, NULL, NULL, 0, &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "no sshd");
    free(t);
    free(cfg);
}

/* ---------------------------------------------------------------- ntp */
static void test_ntp(void **st)
{
    (void)st;
    prep_check_item it;
    /* what adjtimex said on this machine: STA_UNSYNC (0x40), maxerror 16 s */
    prep_check_clock c = {1, 0, 0x0040, 16000000L, 16000000L};
    prep_check_ntp(&c, "bash\nsleep\n", &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "NOT synchronised");
    ASSERT_EVIDENCE(&it, "no NTP client process");
    /* chrony disciplining: STA_PLL (0x01) only, maxerror 0.2 s */
    prep_check_clock s = {1, 0, 0x0001, 200000L, 1500L};
    prep_check_ntp(&s, "systemd\nchronyd\nsshd\n", &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "client: chronyd running");
    /* synchronised but the unsync bit clear while maxerror hit the 16 s cap: not synchronised */
    prep_check_clock h = {1, 0, 0x0001, 16000000L, 0};
    prep_check_ntp(&h, "systemd-timesyn\n", &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "systemd-timesyn running");
    prep_check_clock e = {0, 1, 0, 0, 0};
    prep_check_ntp(&e, NULL, &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
}

/* ---------------------------------------------------------------- disk */
static void test_disk(void **st)
{
    (void)st;
    prep_check_item it;
    /* 20,000,000,000 bytes exactly: the call's 20 GB, passes */
    prep_check_disk("/srv/prep", 1, 0, 20000000000ULL, 100000000000ULL, &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "20.00 GB free of 100 GB");
    /* 19,999,999,999 bytes: one short */
    prep_check_disk("/srv/prep", 1, 0, 19999999999ULL, 100000000000ULL, &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "19.99 GB");
    prep_check_disk("/nope", 0, 2, 0, 0, &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    ASSERT_EVIDENCE(&it, "statvfs(/nope)");
}

/* ---------------------------------------------------------------- ram */
static void ram_of(const char *file, prep_check_item *it)
{
    size_t n;
    char *t = load(file, &n);
    prep_check_ram(t, n, it);
    free(t);
}

static void test_ram(void **st)
{
    (void)st;
    prep_check_item it;
    /* this machine: 24684084 kB; 24684084 * 100 / 1048576 = 2354.05 -> 23.54 GiB */
    ram_of("meminfo.24g", &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "23.54 GiB");
    /* 62 GiB = 65011712 kB < 97.5 % of 64 GiB = 67108864 * 0.975 = 65431142.4 kB */
    ram_of("meminfo.62gib", &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "62.00 GiB");
    /* a 64 GiB server's MemTotal, 65842540 kB (62.79 GiB) >= 65431142 kB */
    ram_of("meminfo.64g-server", &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    assert_int_equal(PREP_CHECK_RAM_MIN_MEMTOTAL_KIB, 65431142ULL);
    prep_check_ram(NULL, 0, &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    prep_check_ram("MemTotal: lots\n", 15, &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    prep_check_ram("MemTotal: 99 MB\n", 16, &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
}

/* ---------------------------------------------------------------- cpu */
static void cpu_of(const char *file, long nproc, long khz, prep_check_item *it)
{
    size_t n;
    char *t = load(file, &n);
    prep_check_cpu(t, n, nproc, khz, it);
    free(t);
}

static void test_cpu(void **st)
{
    (void)st;
    prep_check_item it;
    cpu_of("cpuinfo.epyc2", 2, 0, &it); /* this machine: 2 cores */
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "2 physical core(s) on 1 socket(s)");
    ASSERT_EVIDENCE(&it, "needs 8 cores");
    cpu_of("cpuinfo.xeon-2x4", 8, 0, &it); /* 2 sockets x 4 cores, "@ 2.40GHz" */
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "8 physical core(s) on 2 socket(s)");
    ASSERT_EVIDENCE(&it, "clock 2400 MHz (model name)");
    cpu_of("cpuinfo.xeon-2x4", 8, 2100000, &it); /* cpufreq max wins: 2.1 GHz */
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "needs 2.4 GHz");
    cpu_of("cpuinfo.smt-4c8t", 8, 0, &it); /* 8 threads are 4 cores */
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "4 physical core(s)");
    cpu_of("cpuinfo.slow-16c", 16, 0, &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "2100 MHz");
    cpu_of("cpuinfo.arm64-8", 8, 0, &it); /* no topology, no clock */
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    ASSERT_EVIDENCE(&it, "8 logical CPU(s), physical cores unknown");
    prep_check_cpu(NULL, 0, 0, 0, &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
}

/* ---------------------------------------------------------------- https */
static void test_https(void **st)
{
    (void)st;
    prep_check_item it;
    prep_check_tls_probe p;
    memset(&p, 0, sizeof p);
    strcpy(p.url, "https://127.0.0.1/");
    strcpy(p.err, "connect: Connection refused");
    p.not_after = PREP_TIME_NONE;
    prep_check_https(&p, &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    ASSERT_EVIDENCE(&it, "Connection refused");
    p.connected = 1;
    strcpy(p.err, "TLS handshake: wrong version number");
    prep_check_https(&p, &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    p.handshake = 1;
    p.http_status = 200;
    strcpy(p.tls_version, "TLSv1.3");
    strcpy(p.cipher, "TLS_AES_256_GCM_SHA384");
    p.now = 1780000000;            /* 2026-05-28 */
    p.not_after = 1780000000 + 90 * 86400;
    prep_check_https(&p, &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "TLSv1.3");
    ASSERT_EVIDENCE(&it, "HTTP 200");
    ASSERT_EVIDENCE(&it, "(in 90 days)");
    p.not_after = p.now - 1;
    prep_check_https(&p, &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "EXPIRED");
}

/* ---------------------------------------------------------------- firewall */
static const unsigned call_ports[] = {21, 990, 22};

static prep_check_fw *fw_nft(const char *file)
{
    size_t n;
    char *t = load(file, &n);
    prep_check_fw *fw = prep_check_fw_new();
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_check_fw_add_nft_json(fw, t, n, file, &d), PREP_OK);
    assert_int_equal(d.n, 0);
    prep_diags_free(&d);
    free(t);
    return fw;
}

static void fw_ipt(prep_check_fw *fw, const char *file, int fam)
{
    size_t n;
    char *t = load(file, &n);
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_check_fw_add_iptables(fw, t, n, fam, file, &d), PREP_OK);
    if (d.n) prep_diags_print(&d, stderr, 5);
    assert_int_equal(d.n, 0);
    prep_diags_free(&d);
    free(t);
}

static prep_check_verdict fw_verdict(const prep_check_fw *fw, prep_check_item *it)
{
    prep_check_firewall(fw, "test", "10.0.0.1", call_ports, 3, it);
    return it->verdict;
}

static void test_fw_restricted(void **st)
{
    (void)st;
    prep_check_item it;
    prep_check_fw *fw = fw_nft("nft-restricted.json");
    assert_int_equal(prep_check_fw_input_chains(fw), 1);
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "22 only from 10.0.0.1");
    ASSERT_EVIDENCE(&it, "443 accepts");
    char why[200];
    assert_int_equal(prep_check_fw_reach(fw, 22, "10.0.0.1", 1, why, sizeof why), PREP_CHECK_REACH_CLOSED);
    assert_string_equal(why, "inet filter input rule 11: drop"); /* the final "counter drop" */
    assert_int_equal(prep_check_fw_reach(fw, 22, "10.0.0.1", 0, why, sizeof why), PREP_CHECK_REACH_OPEN);
    assert_int_equal(prep_check_fw_reach(fw, 40050, "10.0.0.1", 0, NULL, 0), PREP_CHECK_REACH_OPEN);
    assert_int_equal(prep_check_fw_reach(fw, 40101, "10.0.0.1", 0, NULL, 0), PREP_CHECK_REACH_CLOSED);
    assert_int_equal(prep_check_fw_reach(fw, 8080, NULL, 0, NULL, 0), PREP_CHECK_REACH_CLOSED);
    /* another institute address: 22 is then open to "others" (10.0.0.1 is one of them) */
    assert_int_equal(prep_check_fw_reach(fw, 22, "10.0.0.2", 1, NULL, 0), PREP_CHECK_REACH_OPEN);
    /* an IPv6 institute: 10.0.0.1 is "another source" for it */
    assert_int_equal(prep_check_fw_reach(fw, 22, "2001:db8::1", 1, NULL, 0), PREP_CHECK_REACH_OPEN);
    prep_check_firewall(fw, NULL, NULL, call_ports, 3, &it); /* no institute address given */
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    ASSERT_EVIDENCE(&it, "--institute-ip");
    prep_check_fw_free(fw);
}

static void test_fw_permissive(void **st)
{
    (void)st;
    prep_check_item it;
    prep_check_fw *fw = fw_nft("nft-permissive.json");
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "22 OPEN to others than 10.0.0.1 (inet filter input: policy accept)");
    prep_check_fw_free(fw);
    fw = fw_nft("nft-empty.json"); /* no tables at all */
    assert_int_equal(prep_check_fw_input_chains(fw), 0);
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "no input chain filters IPv4");
    prep_check_fw_free(fw);
    fw = fw_nft("nft-wide-prefix.json"); /* 10.0.0.0/8 is more than one address */
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "22 OPEN to others than 10.0.0.1 (ip filter input rule 4: accept (some sources))");
    prep_check_fw_free(fw);
}

static void test_fw_sets_jumps_negation(void **st)
{
    (void)st;
    prep_check_item it;
    prep_check_fw *fw = fw_nft("nft-set-jump.json");
    assert_int_equal(prep_check_fw_input_chains(fw), 2);
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_PASS);
    assert_int_equal(prep_check_fw_reach(fw, 443, NULL, 0, NULL, 0), PREP_CHECK_REACH_OPEN); /* "https" by name */
    assert_int_equal(prep_check_fw_reach(fw, 990, "10.0.0.1", 0, NULL, 0), PREP_CHECK_REACH_OPEN);
    prep_check_fw_free(fw);
    fw = fw_nft("nft-vmap.json"); /* inline verdict maps on ct state and tcp dport */
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "21 only from 10.0.0.1; 990 only from 10.0.0.1; 22 only from 10.0.0.1");
    assert_int_equal(prep_check_fw_reach(fw, 443, NULL, 0, NULL, 0), PREP_CHECK_REACH_OPEN);
    assert_int_equal(prep_check_fw_reach(fw, 8443, NULL, 0, NULL, 0), PREP_CHECK_REACH_CLOSED);
    prep_check_fw_free(fw);
    fw = fw_nft("nft-vmap-wide.json"); /* ip saddr vmap { 10.0.0.1 : accept, 192.168.0.0/16 : accept } */
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "22 OPEN to others than 10.0.0.1");
    ASSERT_EVIDENCE(&it, "21 only from 10.0.0.1 (closed to it too)");
    assert_int_equal(prep_check_fw_reach(fw, 22, "192.168.4.4", 0, NULL, 0), PREP_CHECK_REACH_OPEN);
    assert_int_equal(prep_check_fw_reach(fw, 22, "172.16.0.1", 0, NULL, 0), PREP_CHECK_REACH_CLOSED);
    prep_check_fw_free(fw);
    fw = fw_nft("nft-policy-accept-drop-others.json");
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_PASS);
    assert_int_equal(prep_check_fw_reach(fw, 22, "10.0.0.1", 0, NULL, 0), PREP_CHECK_REACH_OPEN);
    assert_int_equal(prep_check_fw_reach(fw, 443, NULL, 0, NULL, 0), PREP_CHECK_REACH_OPEN);
    prep_check_fw_free(fw);
}

static void test_fw_unknown(void **st)
{
    (void)st;
    prep_check_item it;
    prep_check_fw *fw = fw_nft("nft-unknown.json"); /* a named verdict map on ip saddr */
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_UNKNOWN);
    ASSERT_EVIDENCE(&it, "22 cannot tell");
    ASSERT_EVIDENCE(&it, "21 only from 10.0.0.1");
    prep_check_fw_free(fw);
    /* nothing readable */
    prep_check_firewall(NULL, "nft -j list ruleset failed (not root): Operation not permitted", "10.0.0.1", call_ports, 3,
                        &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    ASSERT_EVIDENCE(&it, "no ruleset readable");
}

static void test_fw_iptables(void **st)
{
    (void)st;
    prep_check_item it;
    prep_check_fw *fw = prep_check_fw_new();
    fw_ipt(fw, "iptables-restricted.v4", 4);
    fw_ipt(fw, "iptables-restricted.v6", 6);
    assert_int_equal(prep_check_fw_input_chains(fw), 2);
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_PASS);
    assert_int_equal(prep_check_fw_reach(fw, 40000, "10.0.0.1", 0, NULL, 0), PREP_CHECK_REACH_OPEN);
    assert_int_equal(prep_check_fw_reach(fw, 40000, "10.0.0.1", 1, NULL, 0), PREP_CHECK_REACH_CLOSED);
    prep_check_fw_free(fw);
    /* v4 only: IPv6 is left unfiltered */
    fw = prep_check_fw_new();
    fw_ipt(fw, "iptables-restricted.v4", 4);
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "no input chain filters IPv6");
    prep_check_fw_free(fw);
    /* policy ACCEPT, a /255.255.255.0 mask on 22 */
    fw = prep_check_fw_new();
    fw_ipt(fw, "iptables-open.v4", 4);
    fw_ipt(fw, "iptables-restricted.v6", 6);
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "21 only from 10.0.0.1 (closed to it too)");
    ASSERT_EVIDENCE(&it, "22 OPEN");
    assert_int_equal(prep_check_fw_reach(fw, 22, "192.168.1.7", 0, NULL, 0), PREP_CHECK_REACH_OPEN);
    prep_check_fw_free(fw);
    fw = prep_check_fw_new();
    fw_ipt(fw, "iptables-negated.v4", 4);
    fw_ipt(fw, "iptables-restricted.v6", 6);
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_PASS);
    prep_check_fw_free(fw);
    fw = prep_check_fw_new();
    fw_ipt(fw, "iptables-unknown.v4", 4); /* -m geoip: not modelled */
    fw_ipt(fw, "iptables-restricted.v6", 6);
    assert_int_equal(fw_verdict(fw, &it), PREP_CHECK_UNKNOWN);
    prep_check_fw_free(fw);
}

static void test_fw_hostile(void **st)
{
    (void)st;
    prep_check_fw *fw = prep_check_fw_new();
    prep_diags d;
    prep_diags_init(&d);
    assert_int_equal(prep_check_fw_add_nft_json(fw, "{\"nftables\": 3", 14, "x.json", &d), PREP_ERR_PARSE);
    assert_non_null(prep_diags_find(&d, "not-json"));
    assert_int_equal(prep_check_fw_add_nft_json(fw, "[1,2]", 5, "x.json", &d), PREP_ERR_PARSE);
    assert_non_null(prep_diags_find(&d, "not-nft"));
    /* a rule whose chain was never declared, odd types everywhere: kept, not trusted */
    const char *odd = "{\"nftables\":[{\"rule\":{\"family\":\"inet\",\"table\":\"t\",\"chain\":\"c\",\"expr\":"
                      "[{\"match\":{\"op\":\"==\",\"left\":{\"payload\":{\"protocol\":\"tcp\",\"field\":\"dport\"}},"
                      "\"right\":{\"range\":[99999,-1]}}},{\"accept\":null}]}},{\"chain\":{\"family\":\"inet\","
                      "\"table\":\"t\",\"name\":\"c\",\"hook\":\"input\",\"type\":\"filter\",\"policy\":\"drop\"}}]}";
    assert_int_equal(prep_check_fw_add_nft_json(fw, odd, strlen(odd), "odd.json", &d), PREP_OK);
    assert_int_equal(prep_check_fw_reach(fw, 22, "10.0.0.1", 1, NULL, 0), PREP_CHECK_REACH_UNKNOWN);
    /* an iptables chain that jumps to itself */
    const char *loop = "*filter\n:INPUT DROP [0:0]\n:L - [0:0]\n-A INPUT -j L\n-A L -j L\n-A L -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
    assert_int_equal(prep_check_fw_add_iptables(fw, loop, strlen(loop), 4, "loop", &d), PREP_OK);
    const char *junk = "*filter\n:INPUT\nhello world\n-A\n";
    assert_int_equal(prep_check_fw_add_iptables(fw, junk, strlen(junk), 4, "junk", &d), PREP_OK);
    const prep_diag *bl = prep_diags_find(&d, "bad-line");
    assert_non_null(bl);
    assert_int_equal(bl->line, 3);
    assert_non_null(prep_diags_find(&d, "bad-chain"));
    prep_check_fw_reach(fw, 22, "10.0.0.1", 1, NULL, 0);
    assert_int_equal(prep_check_fw_reach(fw, 22, "not-an-ip", 1, NULL, 0), PREP_CHECK_REACH_UNKNOWN);
    prep_diags_free(&d);
    prep_check_fw_free(fw);
    /* chains A and B of 40 jumps each to the other: 40^16 paths unless the walk is bounded */
    prep_buf b;
    prep_buf_init(&b, 0);
    prep_buf_puts(&b, "*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -j A\n");
    for (int i = 0; i < 40; i++) prep_buf_puts(&b, "-A A -p tcp -j B\n-A B -p tcp -j A\n");
    prep_buf_puts(&b, "COMMIT\n");
    fw = prep_check_fw_new();
    prep_diags_init(&d);
    assert_int_equal(prep_check_fw_add_iptables(fw, b.data, b.len, 4, "jumps", &d), PREP_OK);
    char why[200];
    assert_int_equal(prep_check_fw_reach(fw, 22, "10.0.0.1", 0, why, sizeof why), PREP_CHECK_REACH_UNKNOWN);
    assert_non_null(strstr(why, "too many jumps"));
    prep_diags_free(&d);
    prep_check_fw_free(fw);
    prep_buf_free(&b);
}

/* ---------------------------------------------------------------- ids */
static void test_ids(void **st)
{
    (void)st;
    prep_check_item it;
    size_t n;
    char *dpkg = load("dpkg-status.sample", &n);
    char ver[64];
    assert_int_equal(prep_check_dpkg_installed(dpkg, n, "fail2ban", ver, sizeof ver), 1);
    assert_string_equal(ver, "1.0.1-2");
    assert_int_equal(prep_check_dpkg_installed(dpkg, n, "aide", ver, sizeof ver), 0); /* config-files only */
    assert_int_equal(prep_check_dpkg_installed(dpkg, n, "openssh-server", NULL, 0), 1);
    assert_int_equal(prep_check_dpkg_installed(dpkg, n, "openssh", NULL, 0), 0);
    /* fail2ban installed and running */
    prep_check_ids(dpkg, n, "sshd\nfail2ban-server\n", "", &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "fail2ban 1.0.1-2 running");
    /* installed, not running */
    prep_check_ids(dpkg, n, "sshd\n", "", &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "NOT running");
    /* AIDE from its binary, with and without a database */
    prep_check_ids(NULL, 0, "sshd\n", "/usr/bin/aide\n/var/lib/aide/aide.db\n", &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    ASSERT_EVIDENCE(&it, "AIDE installed, database present");
    prep_check_ids(NULL, 0, "sshd\n", "/usr/bin/aide\n", &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    /* Wazuh running without a package database (CentOS: no dpkg) */
    prep_check_ids(NULL, 0, "wazuh-agentd\n", "/var/ossec/bin/wazuh-control\n", &it);
    assert_int_equal(it.verdict, PREP_CHECK_PASS);
    prep_check_ids(dpkg, n, "", "", &it);
    prep_check_ids(NULL, 0, "sshd\n", "", &it);
    assert_int_equal(it.verdict, PREP_CHECK_FAIL);
    ASSERT_EVIDENCE(&it, "none of");
    prep_check_ids(NULL, 0, NULL, NULL, &it);
    assert_int_equal(it.verdict, PREP_CHECK_UNKNOWN);
    int aide = 0;
    for (const char *const *p = prep_check_ids_paths(); *p; p++) aide |= !strcmp(*p, "/var/lib/aide/aide.db");
    assert_true(aide);
    free(dpkg);
}

/* ---------------------------------------------------------------- report */
static void test_report_json(void **st)
{
    (void)st;
    prep_check_report r;
    memset(&r, 0, sizeof r);
    prep_check_ram("MemTotal: 1024 kB\n", 18, &r.items[r.n++]);
    prep_check_disk("/", 1, 0, 30000000000ULL, 60000000000ULL, &r.items[r.n++]);
    prep_check_os(NULL, 0, NULL, &r.items[r.n++]);
    /* evidence with a quote, a control character and a Latin-1 byte survives as JSON */
    const char *odd = "PRETTY_NAME=\"Tu\xe9 \\\"x\\\"\tOS\"\nID=tue\n";
    prep_check_os(odd, strlen(odd), "x86_64", &r.items[r.n++]);
    size_t p, f, u;
    prep_check_count(&r, &p, &f, &u);
    assert_int_equal(p, 1);
    assert_int_equal(f, 2);
    assert_int_equal(u, 1);
    char *j = prep_check_json(&r);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"check\": \"prep-check-1\""));
    assert_non_null(strstr(j, "\"id\": \"ram\""));
    assert_non_null(strstr(j, "\"verdict\": \"cannot-tell\""));
    assert_non_null(strstr(j, "\"cannot_tell\": 1"));
    assert_non_null(strstr(j, "Tu\xc3\xa9 \\\"x\\\" OS"));
    free(j);
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    prep_check_print_text(&r, mf);
    fclose(mf);
    assert_non_null(strstr(buf, "CANNOT TELL: os"));
    assert_non_null(strstr(buf, "1 pass, 2 fail, 1 cannot tell"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_os),
        cmocka_unit_test(test_listeners),
        cmocka_unit_test(test_web),
        cmocka_unit_test(test_ssh),
        cmocka_unit_test(test_ntp),
        cmocka_unit_test(test_disk),
        cmocka_unit_test(test_ram),
        cmocka_unit_test(test_cpu),
        cmocka_unit_test(test_https),
        cmocka_unit_test(test_fw_restricted),
        cmocka_unit_test(test_fw_permissive),
        cmocka_unit_test(test_fw_sets_jumps_negation),
        cmocka_unit_test(test_fw_unknown),
        cmocka_unit_test(test_fw_iptables),
        cmocka_unit_test(test_fw_hostile),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_report_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
