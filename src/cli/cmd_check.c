/* prep check: a broadcaster's infrastructure self-check against the call's section II
 * (docs/check.md). Option parsing and printing only; the work is in src/check/. */
#include "cli.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "prep/check.h"

static int parse_ports(const char *s, prep_check_opts *o)
{
    char buf[256];
    if (strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        uint32_t v;
        if (prep_parse_u32(p, &v) || v < 1 || v > 65535 || o->n_extra_ports >= PREP_CHECK_MAX_PORTS) return -1;
        o->extra_ports[o->n_extra_ports++] = v;
    }
    return o->n_extra_ports ? 0 : -1;
}

int cmd_check(int argc, char **argv)
{
    cli_opt opts[] = {
        {"institute-ip", "ADDR", "the one address the institute named for FTPS and SSH (IPv4 or IPv6)", NULL},
        {"url", "URL", "the HTTPS URL to probe (default https://127.0.0.1/)", NULL},
        {"path", "DIR", "the file system whose free space counts (default /; give the store dir)", NULL},
        {"ports", "LIST", "more ports open only to the institute, comma-separated (FTPS data ports...)", NULL},
        {"nft-json", "FILE", "read this `nft -j list ruleset` output instead of running nft", NULL},
        {"timeout", "MS", "HTTPS probe timeout in milliseconds (default 5000)", NULL},
        {"json", NULL, "print JSON instead of the table", NULL},
        {"strict", NULL, "treat 'cannot tell' as a failure (exit 1)", NULL},
        {NULL, NULL, NULL, NULL},
    };
    int help;
    char err[256];
    if (cli_parse(argc - 1, argv + 1, opts, &help, err, sizeof err)) {
        fprintf(stderr, "prep check: %s (see 'prep check --help')\n", err);
        return CLI_USAGE;
    }
    if (help) {
        cli_usage(stdout, "check", "[--institute-ip ADDR] [--url URL] [--path DIR] [--json] [--strict]",
                  "Checks this server against the call's section II: OS, web server, SSH, NTP, free disk,\n"
                  "RAM, cores and clock, HTTPS answering, firewall (HTTPS open to all; FTPS and SSH only\n"
                  "from the institute's address), intrusion detection. Each item: pass, fail or cannot\n"
                  "tell, with the evidence. Run as root to read the firewall and sshd -T.\n"
                  "Exit: 0 nothing failed ('cannot tell' is printed loudly but is not a failure unless\n"
                  "--strict), 1 an item failed, 2 bad usage.",
                  opts);
        return CLI_OK;
    }
    prep_check_opts o;
    memset(&o, 0, sizeof o);
    o.institute_ip = cli_get(opts, "institute-ip");
    o.url = cli_get(opts, "url");
    o.path = cli_get(opts, "path");
    o.nft_json = cli_get(opts, "nft-json");
    if (o.institute_ip) {
        unsigned char a[16];
        if (inet_pton(AF_INET, o.institute_ip, a) != 1 && inet_pton(AF_INET6, o.institute_ip, a) != 1) {
            fprintf(stderr, "prep check: --institute-ip %s is not an IPv4 or IPv6 address\n", o.institute_ip);
            return CLI_USAGE;
        }
    }
    if (o.url && strncmp(o.url, "https://", 8) != 0) {
        fprintf(stderr, "prep check: --url must start with https://\n");
        return CLI_USAGE;
    }
    const char *ports = cli_get(opts, "ports");
    if (ports && parse_ports(ports, &o)) {
        fprintf(stderr, "prep check: --ports wants up to %d comma-separated ports 1-65535, got '%s'\n",
                PREP_CHECK_MAX_PORTS, ports);
        return CLI_USAGE;
    }
    const char *to = cli_get(opts, "timeout");
    if (to) {
        uint32_t v;
        if (prep_parse_u32(to, &v) || v < 1 || v > 60000) {
            fprintf(stderr, "prep check: --timeout wants milliseconds 1-60000, got '%s'\n", to);
            return CLI_USAGE;
        }
        o.timeout_ms = (int)v;
    }
    prep_check_report r;
    prep_check_run(&o, &r);
    if (cli_get(opts, "json")) {
        char *j = prep_check_json(&r);
        if (!j) {
            fprintf(stderr, "prep check: out of memory\n");
            return CLI_USAGE;
        }
        printf("%s\n", j);
        free(j);
    } else {
        prep_check_print_text(&r, stdout);
    }
    size_t p, f, u;
    prep_check_count(&r, &p, &f, &u);
    if (u) {
        fprintf(stderr, "prep check: CANNOT TELL %zu item(s):", u);
        for (size_t i = 0; i < r.n; i++)
            if (r.items[i].verdict == PREP_CHECK_UNKNOWN) fprintf(stderr, " %s", r.items[i].id);
        fprintf(stderr, "%s\n", cli_get(opts, "strict") ? " (--strict: counted as failures)" : " (not a pass)");
    }
    return f || (u && cli_get(opts, "strict")) ? CLI_CHECK_FAILED : CLI_OK;
}
