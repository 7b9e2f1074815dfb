/* libFuzzer target: every parser of system text in prep check (docs/check.md). The first
 * byte picks the parser, the rest is its input:
 *   'o' os-release, 'm' /proc/meminfo, 'c' /proc/cpuinfo, 't' /proc/net/tcp,
 *   's' sshd -T / sshd_config, 'n' nft -j JSON, '4'/'6' iptables-save, 'd' dpkg status.
 * Checks: no crash or leak (ASan), verdicts in range, evidence NUL-terminated within its
 * buffer, firewall answers in range and consistent (an address that is "closed" to
 * everyone is closed to the institute too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prep/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void item_ok(const prep_check_item *it)
{
    if (it->verdict != PREP_CHECK_PASS && it->verdict != PREP_CHECK_FAIL && it->verdict != PREP_CHECK_UNKNOWN) abort();
    if (strnlen(it->evidence, sizeof it->evidence) >= sizeof it->evidence) abort();
    if (!it->id || !it->requirement) abort();
}

static void fw_ok(const prep_check_fw *fw)
{
    static const unsigned ports[] = {21, 22, 990, 443, 0, 65535};
    static const char *const srcs[] = {"10.0.0.1", "2001:db8::1", "0.0.0.0"};
    char why[200];
    for (size_t i = 0; i < PREP_ARRAY_LEN(ports); i++) {
        prep_check_reach any = prep_check_fw_reach(fw, ports[i], NULL, 0, why, sizeof why);
        if (any > PREP_CHECK_REACH_UNKNOWN || strnlen(why, sizeof why) >= sizeof why) abort();
        for (size_t j = 0; j < PREP_ARRAY_LEN(srcs); j++) {
            prep_check_reach ex = prep_check_fw_reach(fw, ports[i], srcs[j], 0, why, sizeof why);
            prep_check_reach ot = prep_check_fw_reach(fw, ports[i], srcs[j], 1, NULL, 0);
            if (ex > PREP_CHECK_REACH_UNKNOWN || ot > PREP_CHECK_REACH_UNKNOWN) abort();
            /* the model never says "no source gets in" and then lets one in */
            if (any == PREP_CHECK_REACH_CLOSED && ex == PREP_CHECK_REACH_OPEN) abort();
        }
    }
    prep_check_item it;
    prep_check_firewall(fw, "fuzz", "10.0.0.1", ports, 3, &it);
    item_ok(&it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char sel = (char)data[0];
    size_t n = size - 1;
    /* a NUL-terminated copy: some entry points take C strings */
    char *t = malloc(n + 1);
    if (!t) return 0;
    memcpy(t, data + 1, n);
    t[n] = '\0';
    prep_check_item it;
    switch (sel) {
    case 'o':
        prep_check_os(t, n, "x86_64", &it);
        item_ok(&it);
        break;
    case 'm':
        prep_check_ram(t, n, &it);
        item_ok(&it);
        break;
    case 'c':
        prep_check_cpu(t, n, 8, 0, &it);
        item_ok(&it);
        break;
    case 't': {
        int a = prep_check_tcp_listeners(t, n, 443);
        if (a < -1) abort();
        break;
    }
    case 's': {
        unsigned ports[8];
        size_t k = prep_check_sshd_ports(t, ports, 8);
        if (k > 8) abort();
        for (size_t i = 0; i < k; i++)
            if (ports[i] < 1 || ports[i] > 65535) abort();
        prep_check_ssh(t, NULL, t, 1, &it);
        item_ok(&it);
        prep_check_web(t, t, 0, 0, 0, &it);
        item_ok(&it);
        break;
    }
    case 'n':
    case '4':
    case '6': {
        prep_check_fw *fw = prep_check_fw_new();
        prep_diags d;
        prep_diags_init(&d);
        d.max_keep = 4;
        /* refused or not, what was added must stay consistent (fw_ok) */
        if (sel == 'n') PREP_IGNORE(prep_check_fw_add_nft_json(fw, (const char *)data + 1, n, "fuzz", &d));
        else PREP_IGNORE(prep_check_fw_add_iptables(fw, (const char *)data + 1, n, sel - '0', "fuzz", &d));
        fw_ok(fw);
        prep_diags_free(&d);
        prep_check_fw_free(fw);
        break;
    }
    case 'd':
        prep_check_dpkg_installed((const char *)data + 1, n, "fail2ban", NULL, 0);
        prep_check_ids((const char *)data + 1, n, t, t, &it);
        item_ok(&it);
        break;
    default: break;
    }
    free(t);
    return 0;
}
