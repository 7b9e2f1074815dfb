/* prep check: the firewall model. Reads `nft -j list ruleset` (jansson) and
 * iptables-save / ip6tables-save texts into one small model - base chains on the input
 * hook, their rules as AND-ed conditions plus a verdict - and decides, for a new TCP
 * connection to a port from a class of sources, whether it is accepted.
 *
 * The decision is three-valued and conservative (docs/check.md, "Firewall"): a condition
 * the model does not understand is "cannot tell", never a guess; a condition that may
 * hold for some of the sources ("some") counts as holding for an accept (someone gets in)
 * and as not holding for a drop (not everyone is kept out). */
#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check_int.h"

enum { C_DPORT, C_SADDR, C_L4, C_NFPROTO, C_IIF, C_CTNEW, C_SOME, C_NEVER, C_UNKNOWN };
enum { M_NEVER, M_SOME, M_ALWAYS, M_UNKNOWN };
enum { V_NONE, V_ACCEPT, V_DROP, V_JUMP, V_GOTO, V_RETURN, V_UNKNOWN };
enum { R_OPEN, R_CLOSED, R_UNKNOWN, R_FALL };

typedef struct prange {
    unsigned lo, hi;
} prange;

typedef struct arange { /* an address range, big-endian bytes, of one family */
    uint8_t lo[16], hi[16];
} arange;

typedef struct fw_cond {
    int kind, neg;
    int l4;   /* C_DPORT: 0 any transport, 6 tcp, 17 another protocol */
    int fam;  /* C_SADDR: 4 or 6 */
    int val;  /* C_L4: set holds tcp; C_IIF: set holds only loopback; C_CTNEW: set holds
               * "new"; C_NFPROTO: bit 1 ipv4, bit 2 ipv6 */
    size_t n;
    prange *ports; /* owned, C_DPORT */
    arange *addrs; /* owned, C_SADDR */
} fw_cond;

typedef struct fw_rule {
    fw_cond *c; /* owned */
    size_t nc;
    int v;
    char *target; /* owned, V_JUMP/V_GOTO */
    long handle;
} fw_rule;

typedef struct fw_chain {
    char *family, *table, *name; /* owned */
    int fams;                    /* bit 1 IPv4, bit 2 IPv6: which packets the chain sees */
    int base_input, policy_drop;
    fw_rule *r; /* owned */
    size_t nr, cap;
} fw_chain;

struct prep_check_fw {
    fw_chain *ch;
    size_t nch, cap, nrules;
};

/* ---------------------------------------------------------------- model */
prep_check_fw *prep_check_fw_new(void) { return calloc(1, sizeof(prep_check_fw)); }

static void cond_free(fw_cond *c)
{
    free(c->ports);
    free(c->addrs);
}

static void rule_free(fw_rule *r)
{
    for (size_t i = 0; i < r->nc; i++) cond_free(&r->c[i]);
    free(r->c);
    free(r->target);
}

void prep_check_fw_free(prep_check_fw *fw)
{
    if (!fw) return;
    for (size_t i = 0; i < fw->nch; i++) {
        fw_chain *c = &fw->ch[i];
        for (size_t j = 0; j < c->nr; j++) rule_free(&c->r[j]);
        free(c->r);
        free(c->family);
        free(c->table);
        free(c->name);
    }
    free(fw->ch);
    free(fw);
}

size_t prep_check_fw_input_chains(const prep_check_fw *fw)
{
    size_t n = 0;
    for (size_t i = 0; fw && i < fw->nch; i++) n += fw->ch[i].base_input && fw->ch[i].fams;
    return n;
}

static int fams_of(const char *family)
{
    if (!strcmp(family, "ip")) return 1;
    if (!strcmp(family, "ip6")) return 2;
    if (!strcmp(family, "inet")) return 3;
    return 0; /* arp, bridge, netdev: not the input hook of IP packets */
}

static fw_chain *chain_find(const prep_check_fw *fw, const char *family, const char *table, const char *name)
{
    for (size_t i = 0; i < fw->nch; i++) {
        fw_chain *c = &fw->ch[i];
        if (!strcmp(c->family, family) && !strcmp(c->table, table) && !strcmp(c->name, name)) return c;
    }
    return NULL;
}

static fw_chain *chain_get(prep_check_fw *fw, const char *family, const char *table, const char *name)
{
    fw_chain *c = chain_find(fw, family, table, name);
    if (c) return c;
    if (fw->nch >= PREP_CHECK_FW_MAX_CHAINS) return NULL;
    if (fw->nch == fw->cap) {
        size_t nc = fw->cap ? fw->cap * 2 : 8;
        fw_chain *v = realloc(fw->ch, nc * sizeof *v);
        if (!v) return NULL;
        fw->ch = v;
        fw->cap = nc;
    }
    c = &fw->ch[fw->nch];
    memset(c, 0, sizeof *c);
    c->family = strdup(family);
    c->table = strdup(table);
    c->name = strdup(name);
    if (!c->family || !c->table || !c->name) {
        free(c->family);
        free(c->table);
        free(c->name);
        return NULL;
    }
    c->fams = fams_of(family);
    fw->nch++;
    return c;
}

/* Appends r (moved in) to c. */
static prep_err chain_add_rule(prep_check_fw *fw, fw_chain *c, fw_rule *r)
{
    if (fw->nrules >= PREP_CHECK_FW_MAX_RULES) return PREP_ERR_LIMIT;
    if (c->nr == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        fw_rule *v = realloc(c->r, nc * sizeof *v);
        if (!v) return PREP_ERR_NOMEM;
        c->r = v;
        c->cap = nc;
    }
    c->r[c->nr++] = *r;
    fw->nrules++;
    memset(r, 0, sizeof *r);
    return PREP_OK;
}

/* A new condition at the end of r; NULL when the rule is full (the caller marks the rule
 * unknown instead). */
static fw_cond *rule_cond(fw_rule *r, int kind, int neg)
{
    if (r->nc >= PREP_CHECK_FW_MAX_CONDS) return NULL;
    fw_cond *v = realloc(r->c, (r->nc + 1) * sizeof *v);
    if (!v) return NULL;
    r->c = v;
    fw_cond *c = &r->c[r->nc++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->neg = neg;
    return c;
}

/* Sets the rule's last condition (or adds one) to "cannot tell". */
static void rule_unknown(fw_rule *r)
{
    if (!rule_cond(r, C_UNKNOWN, 0) && r->nc) {
        fw_cond *c = &r->c[r->nc - 1];
        cond_free(c);
        memset(c, 0, sizeof *c);
        c->kind = C_UNKNOWN;
    }
}

/* Turns a condition whose value could not be read into "cannot tell" (never "no match"). */
static void cond_unknown(fw_cond *c)
{
    cond_free(c);
    memset(c, 0, sizeof *c);
    c->kind = C_UNKNOWN;
}

static int cond_add_port(fw_cond *c, unsigned lo, unsigned hi)
{
    if (c->n >= PREP_CHECK_FW_MAX_ELEMS || lo > hi || hi > 65535) return -1;
    prange *v = realloc(c->ports, (c->n + 1) * sizeof *v);
    if (!v) return -1;
    c->ports = v;
    v[c->n].lo = lo;
    v[c->n].hi = hi;
    c->n++;
    return 0;
}

/* Parses "ADDR", "ADDR/LEN" or "ADDR/MASK" (dotted, IPv4) of family fam into a range. */
static int parse_prefix(const char *s, int fam, arange *out)
{
    char buf[128];
    size_t n = strlen(s);
    if (n >= sizeof buf) return -1;
    memcpy(buf, s, n + 1);
    char *slash = strchr(buf, '/');
    if (slash) *slash = '\0';
    int bytes = fam == 4 ? 4 : 16;
    uint8_t a[16] = {0};
    if (inet_pton(fam == 4 ? AF_INET : AF_INET6, buf, a) != 1) return -1;
    int len = bytes * 8;
    if (slash) {
        char *e;
        if (fam == 4 && strchr(slash + 1, '.')) {
            uint8_t m[4];
            if (inet_pton(AF_INET, slash + 1, m) != 1) return -1;
            uint32_t mm = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
            len = 0;
            while (len < 32 && (mm & (0x80000000u >> len))) len++;
            if (len < 32 && (mm << len) != 0) return -1; /* not a contiguous mask */
        } else {
            long l = strtol(slash + 1, &e, 10);
            if (e == slash + 1 || *e || l < 0 || l > bytes * 8) return -1;
            len = (int)l;
        }
    }
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 16; i++) {
        int bits = len - i * 8; /* prefix bits within this byte */
        uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
        if (i >= bytes) {
            out->lo[i] = 0;
            out->hi[i] = 0;
        } else {
            out->lo[i] = a[i] & mask;
            out->hi[i] = (uint8_t)(a[i] | (uint8_t)~mask);
        }
    }
    return 0;
}

static int cond_add_addr(fw_cond *c, const arange *a)
{
    if (c->n >= PREP_CHECK_FW_MAX_ELEMS) return -1;
    arange *v = realloc(c->addrs, (c->n + 1) * sizeof *v);
    if (!v) return -1;
    c->addrs = v;
    v[c->n++] = *a;
    return 0;
}

/* Well-known service names nft or iptables may print instead of numbers. */
static int service_port(const char *s)
{
    static const struct { const char *n; int p; } svc[] = {
        {"ftp", 21}, {"ftp-data", 20}, {"ssh", 22}, {"http", 80}, {"https", 443}, {"ftps", 990}, {"ftps-data", 989},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(svc); i++)
        if (!strcmp(s, svc[i].n)) return svc[i].p;
    char *e;
    long v = strtol(s, &e, 10);
    if (e != s && !*e && v >= 0 && v <= 65535) return (int)v;
    return -1;
}

/* ---------------------------------------------------------------- evaluation */
typedef struct pkt {
    unsigned port;
    int fam;     /* 4 or 6: the packet's family */
    int cls;     /* 0 any source, 1 exactly src, 2 any source but src */
    int srcfam;  /* src's family (0 none) */
    uint8_t src[16];
} pkt;

/* Rule evaluations allowed per base chain walk: jumps can branch (a chain of N jumps to a
 * chain of N jumps...), so the walk is bounded by work, not only by depth. */
#define FW_WALK_BUDGET 200000L

typedef struct walk_st {
    int maybe_acc, maybe_drop;
    long steps;
    char why[160];
} walk_st;

static int a_full(const arange *a, int fam)
{
    int bytes = fam == 4 ? 4 : 16;
    for (int i = 0; i < bytes; i++)
        if (a->lo[i] != 0 || a->hi[i] != 0xff) return 0;
    return 1;
}

static int a_contains(const arange *a, const uint8_t *x) { return memcmp(a->lo, x, 16) <= 0 && memcmp(x, a->hi, 16) <= 0; }

static int a_exactly(const arange *a, const uint8_t *x) { return !memcmp(a->lo, x, 16) && !memcmp(a->hi, x, 16); }

static int m_not(int m)
{
    return m == M_ALWAYS ? M_NEVER : m == M_NEVER ? M_ALWAYS : m;
}

static int eval_cond(const fw_cond *c, const pkt *p)
{
    int m;
    switch (c->kind) {
    case C_DPORT: {
        if (c->l4 == 17) return M_NEVER; /* udp/sctp dport: not our TCP packet either way */
        int in = 0;
        for (size_t i = 0; i < c->n; i++) in |= c->ports[i].lo <= p->port && p->port <= c->ports[i].hi;
        m = in ? M_ALWAYS : M_NEVER;
        return c->neg ? m_not(m) : m;
    }
    case C_SADDR: {
        if (c->fam != p->fam) return M_NEVER; /* "ip saddr" implies IPv4, in both senses */
        int full = 0, only_src = c->n > 0, contains = 0;
        for (size_t i = 0; i < c->n; i++) {
            full |= a_full(&c->addrs[i], c->fam);
            if (p->srcfam == p->fam) {
                contains |= a_contains(&c->addrs[i], p->src);
                only_src &= a_exactly(&c->addrs[i], p->src);
            } else {
                only_src = 0;
            }
        }
        if (p->cls == 1) {
            m = contains ? M_ALWAYS : M_NEVER;
        } else if (full) {
            m = M_ALWAYS;
        } else if (!c->n || (p->cls == 2 && only_src)) {
            m = M_NEVER;
        } else {
            m = M_SOME;
        }
        return c->neg ? m_not(m) : m;
    }
    case C_L4:
        if (c->fam && c->fam != p->fam) return M_NEVER; /* "ip protocol" implies IPv4 */
        m = c->val ? M_ALWAYS : M_NEVER;
        return c->neg ? m_not(m) : m;
    case C_NFPROTO:
        m = (c->val & (p->fam == 4 ? 1 : 2)) ? M_ALWAYS : M_NEVER;
        return c->neg ? m_not(m) : m;
    case C_IIF: /* sources are remote: they never arrive on loopback */
        if (!c->val) return M_SOME;
        return c->neg ? M_ALWAYS : M_NEVER;
    case C_CTNEW: /* a new connection's first packet is in state "new" */
        m = c->val ? M_ALWAYS : M_NEVER;
        return c->neg ? m_not(m) : m;
    case C_SOME: return M_SOME;
    case C_NEVER: return M_NEVER;
    default: return M_UNKNOWN;
    }
}

static int eval_rule(const fw_rule *r, const pkt *p)
{
    int res = M_ALWAYS, unknown = 0, some = 0;
    for (size_t i = 0; i < r->nc; i++) {
        int m = eval_cond(&r->c[i], p);
        if (m == M_NEVER) return M_NEVER;
        unknown |= m == M_UNKNOWN;
        some |= m == M_SOME;
    }
    if (unknown) res = M_UNKNOWN;
    else if (some) res = M_SOME;
    return res;
}

static void set_why(walk_st *st, const fw_chain *c, const fw_rule *r, const char *what)
{
    if (st->why[0]) return;
    if (r)
        snprintf(st->why, sizeof st->why, "%s %s %s rule %ld: %s", c->family, c->table, c->name, r->handle, what);
    else
        snprintf(st->why, sizeof st->why, "%s %s %s: %s", c->family, c->table, c->name, what);
}

static int walk(const prep_check_fw *fw, const fw_chain *c, const pkt *p, int depth, walk_st *st)
{
    for (size_t i = 0; i < c->nr; i++) {
        const fw_rule *r = &c->r[i];
        if (++st->steps > FW_WALK_BUDGET) {
            set_why(st, c, r, "too many jumps to follow");
            return R_UNKNOWN;
        }
        int m = eval_rule(r, p);
        if (m == M_NEVER) continue;
        switch (r->v) {
        case V_NONE: break;
        case V_ACCEPT:
            if (m == M_UNKNOWN) {
                st->maybe_acc = 1;
                break;
            }
            set_why(st, c, r, m == M_ALWAYS ? "accept" : "accept (some sources)");
            return st->maybe_drop ? R_UNKNOWN : R_OPEN;
        case V_DROP:
            if (m == M_ALWAYS) {
                set_why(st, c, r, "drop");
                return st->maybe_acc ? R_UNKNOWN : R_CLOSED;
            }
            if (m == M_UNKNOWN) st->maybe_drop = 1;
            break;
        case V_RETURN:
            if (m == M_ALWAYS) return R_FALL;
            break;
        case V_JUMP:
        case V_GOTO: {
            const fw_chain *t = r->target ? chain_find(fw, c->family, c->table, r->target) : NULL;
            if (!t || depth >= PREP_CHECK_FW_MAX_DEPTH || t == c) {
                st->maybe_acc = st->maybe_drop = 1;
                break;
            }
            int res = walk(fw, t, p, depth + 1, st);
            if (res == R_FALL) {
                if (r->v == V_GOTO && m == M_ALWAYS) return R_FALL;
                break;
            }
            if (m == M_ALWAYS) return res;
            if (res == R_OPEN) {
                if (m == M_SOME) return R_OPEN;
                st->maybe_acc = 1;
            } else if (res == R_CLOSED) {
                if (m == M_UNKNOWN) st->maybe_drop = 1;
            } else {
                st->maybe_acc = st->maybe_drop = 1;
            }
            break;
        }
        default: /* verdict maps, queues: cannot tell */
            st->maybe_acc = st->maybe_drop = 1;
            break;
        }
    }
    return R_FALL;
}

/* The packet's fate on one family: every input base chain it traverses must accept. */
static prep_check_reach reach_family(const prep_check_fw *fw, const pkt *p, char *why, size_t whysz)
{
    int any = 0, closed = 0, unknown = 0;
    char first_open[160] = "", first_closed[160] = "", first_unknown[160] = "";
    for (size_t i = 0; i < fw->nch; i++) {
        const fw_chain *c = &fw->ch[i];
        if (!c->base_input || !(c->fams & (p->fam == 4 ? 1 : 2))) continue;
        any = 1;
        walk_st st;
        memset(&st, 0, sizeof st);
        int res = walk(fw, c, p, 0, &st);
        if (res == R_FALL) {
            set_why(&st, c, NULL, c->policy_drop ? "policy drop" : "policy accept");
            if (c->policy_drop) res = st.maybe_acc ? R_UNKNOWN : R_CLOSED;
            else res = st.maybe_drop ? R_UNKNOWN : R_OPEN;
        }
        if (res == R_UNKNOWN && !first_unknown[0]) {
            size_t wl = strnlen(st.why, 100);
            snprintf(first_unknown, sizeof first_unknown, "%.*s, with a rule the check cannot read", (int)wl, st.why);
        }
        if (res == R_CLOSED && !closed) snprintf(first_closed, sizeof first_closed, "%s", st.why);
        if (res == R_OPEN && !first_open[0]) snprintf(first_open, sizeof first_open, "%s", st.why);
        closed |= res == R_CLOSED;
        unknown |= res == R_UNKNOWN;
    }
    if (!any) {
        if (why) snprintf(why, whysz, "no input chain filters IPv%d", p->fam);
        return PREP_CHECK_REACH_OPEN;
    }
    if (closed) {
        if (why) snprintf(why, whysz, "%s", first_closed);
        return PREP_CHECK_REACH_CLOSED;
    }
    if (unknown) {
        if (why) snprintf(why, whysz, "%s", first_unknown);
        return PREP_CHECK_REACH_UNKNOWN;
    }
    if (why) snprintf(why, whysz, "%s", first_open);
    return PREP_CHECK_REACH_OPEN;
}

const char *prep_check_reach_name(prep_check_reach r)
{
    return r == PREP_CHECK_REACH_CLOSED ? "closed" : r == PREP_CHECK_REACH_OPEN ? "open" : "cannot-tell";
}

prep_check_reach prep_check_fw_reach(const prep_check_fw *fw, unsigned port, const char *src, int others, char *why,
                                     size_t whysz)
{
    pkt p;
    memset(&p, 0, sizeof p);
    p.port = port;
    if (why && whysz) why[0] = '\0';
    if (src) {
        if (inet_pton(AF_INET, src, p.src) == 1) {
            p.srcfam = 4;
        } else if (inet_pton(AF_INET6, src, p.src) == 1) {
            p.srcfam = 6;
        } else {
            if (why) snprintf(why, whysz, "not an IP address: %s", src);
            return PREP_CHECK_REACH_UNKNOWN;
        }
        p.cls = others ? 2 : 1;
    }
    if (p.cls == 1) {
        p.fam = p.srcfam;
        return reach_family(fw, &p, why, whysz);
    }
    char w4[160], w6[160];
    p.fam = 4;
    prep_check_reach r4 = reach_family(fw, &p, w4, sizeof w4);
    p.fam = 6;
    prep_check_reach r6 = reach_family(fw, &p, w6, sizeof w6);
    prep_check_reach r;
    const char *w;
    if (r4 == PREP_CHECK_REACH_OPEN || r6 == PREP_CHECK_REACH_OPEN) {
        r = PREP_CHECK_REACH_OPEN;
        w = r4 == PREP_CHECK_REACH_OPEN ? w4 : w6;
    } else if (r4 == PREP_CHECK_REACH_UNKNOWN || r6 == PREP_CHECK_REACH_UNKNOWN) {
        r = PREP_CHECK_REACH_UNKNOWN;
        w = r4 == PREP_CHECK_REACH_UNKNOWN ? w4 : w6;
    } else {
        r = PREP_CHECK_REACH_CLOSED;
        w = w4;
    }
    if (why) snprintf(why, whysz, "%s", w);
    return r;
}

/* ---------------------------------------------------------------- item */
void prep_check_firewall(const prep_check_fw *fw, const char *note, const char *institute, const unsigned *ports,
                         size_t nports, prep_check_item *out)
{
    chk_item(out, "firewall", "HTTPS open to any origin; FTPS and SSH open only to the institute's address");
    if (!fw) {
        chk_ev(out, "no ruleset readable%s%s", note ? ": " : "", note ? note : "");
        return;
    }
    if (note) chk_ev(out, "%s", note);
    chk_ev_sep(out, "%zu input chain(s)", prep_check_fw_input_chains(fw));
    char why[200];
    int fail = 0, unknown = 0;
    prep_check_reach h = prep_check_fw_reach(fw, 443, NULL, 0, why, sizeof why);
    chk_ev_sep(out, "443 %s (%s)", h == PREP_CHECK_REACH_OPEN ? "accepts" : prep_check_reach_name(h), why);
    if (h == PREP_CHECK_REACH_CLOSED) fail = 1;
    if (h == PREP_CHECK_REACH_UNKNOWN) unknown = 1;
    if (!institute) {
        chk_ev_sep(out, "give --institute-ip to check FTPS/SSH ports");
        out->verdict = fail ? PREP_CHECK_FAIL : PREP_CHECK_UNKNOWN;
        return;
    }
    for (size_t i = 0; i < nports; i++) {
        prep_check_reach o = prep_check_fw_reach(fw, ports[i], institute, 1, why, sizeof why);
        if (o == PREP_CHECK_REACH_OPEN) {
            fail = 1;
            chk_ev_sep(out, "%u OPEN to others than %s (%s)", ports[i], institute, why);
        } else if (o == PREP_CHECK_REACH_UNKNOWN) {
            unknown = 1;
            chk_ev_sep(out, "%u cannot tell (%s)", ports[i], why);
        } else {
            prep_check_reach in = prep_check_fw_reach(fw, ports[i], institute, 0, NULL, 0);
            chk_ev_sep(out, "%u only from %s%s", ports[i], institute,
                       in == PREP_CHECK_REACH_OPEN ? "" : in == PREP_CHECK_REACH_CLOSED ? " (closed to it too)" : " (?)");
        }
    }
    out->verdict = fail ? PREP_CHECK_FAIL : unknown ? PREP_CHECK_UNKNOWN : PREP_CHECK_PASS;
}

/* ---------------------------------------------------------------- nft JSON */
typedef struct nft_ctx {
    json_t *sets; /* borrowed: the ruleset's "set" objects */
    const char *family, *table;
} nft_ctx;

/* Resolves "@name" to the named set's elements: 0 with *out = the "elem" array (NULL for
 * an empty set), or with *out = v when v is not a set reference; -1 if no such set. */
static int nft_resolve(const nft_ctx *x, json_t *v, json_t **out)
{
    const char *s = json_string_value(v);
    *out = v;
    if (!s || s[0] != '@') return 0;
    size_t i;
    json_t *set;
    json_array_foreach(x->sets, i, set)
    {
        const char *f = json_string_value(json_object_get(set, "family"));
        const char *t = json_string_value(json_object_get(set, "table"));
        const char *n = json_string_value(json_object_get(set, "name"));
        if (f && t && n && !strcmp(f, x->family) && !strcmp(t, x->table) && !strcmp(n, s + 1)) {
            *out = json_object_get(set, "elem");
            return 0;
        }
    }
    return -1;
}

/* The element array of a {"set": [...]} right-hand side, or NULL. */
static json_t *nft_elems(json_t *right)
{
    if (json_is_object(right) && json_object_get(right, "set")) return json_object_get(right, "set");
    return NULL;
}

static int nft_port_elem(fw_cond *c, json_t *e)
{
    if (json_is_object(e) && json_object_get(e, "elem")) e = json_object_get(json_object_get(e, "elem"), "val");
    if (json_is_integer(e)) {
        json_int_t v = json_integer_value(e);
        return v < 0 || v > 65535 ? -1 : cond_add_port(c, (unsigned)v, (unsigned)v);
    }
    if (json_is_string(e)) {
        int p = service_port(json_string_value(e));
        return p < 0 ? -1 : cond_add_port(c, (unsigned)p, (unsigned)p);
    }
    json_t *r = json_object_get(e, "range");
    if (json_is_array(r) && json_array_size(r) == 2) {
        json_t *a = json_array_get(r, 0), *b = json_array_get(r, 1);
        int lo = json_is_integer(a) ? (int)json_integer_value(a) : json_is_string(a) ? service_port(json_string_value(a)) : -1;
        int hi = json_is_integer(b) ? (int)json_integer_value(b) : json_is_string(b) ? service_port(json_string_value(b)) : -1;
        if (json_is_integer(a) && (json_integer_value(a) < 0 || json_integer_value(a) > 65535)) return -1;
        if (json_is_integer(b) && (json_integer_value(b) < 0 || json_integer_value(b) > 65535)) return -1;
        return lo < 0 || hi < 0 ? -1 : cond_add_port(c, (unsigned)lo, (unsigned)hi);
    }
    return -1;
}

static int nft_addr_elem(fw_cond *c, json_t *e)
{
    if (json_is_object(e) && json_object_get(e, "elem")) e = json_object_get(json_object_get(e, "elem"), "val");
    arange a;
    if (json_is_string(e)) {
        if (parse_prefix(json_string_value(e), c->fam, &a)) return -1;
        return cond_add_addr(c, &a);
    }
    json_t *pf = json_object_get(e, "prefix");
    if (pf) {
        const char *addr = json_string_value(json_object_get(pf, "addr"));
        json_t *len = json_object_get(pf, "len");
        if (!addr || !json_is_integer(len) || json_integer_value(len) < 0 || json_integer_value(len) > 128) return -1;
        char buf[96];
        snprintf(buf, sizeof buf, "%s/%d", addr, (int)json_integer_value(len));
        if (parse_prefix(buf, c->fam, &a)) return -1;
        return cond_add_addr(c, &a);
    }
    json_t *r = json_object_get(e, "range");
    if (json_is_array(r) && json_array_size(r) == 2) {
        arange lo, hi;
        const char *sl = json_string_value(json_array_get(r, 0)), *sh = json_string_value(json_array_get(r, 1));
        if (!sl || !sh || strchr(sl, '/') || strchr(sh, '/') || parse_prefix(sl, c->fam, &lo) ||
            parse_prefix(sh, c->fam, &hi))
            return -1;
        memcpy(a.lo, lo.lo, 16);
        memcpy(a.hi, hi.hi, 16);
        if (memcmp(a.lo, a.hi, 16) > 0) return -1;
        return cond_add_addr(c, &a);
    }
    return -1;
}

/* Fills c's elements from the right-hand side with fn; -1 if any is not understood. */
static int nft_fill(const nft_ctx *x, fw_cond *c, json_t *right, int (*fn)(fw_cond *, json_t *))
{
    json_t *res;
    if (nft_resolve(x, right, &res)) return -1;
    if (!res) return 0; /* an empty named set */
    json_t *set = nft_elems(res);
    if (!set && json_is_array(res)) set = res;
    int rc = 0;
    if (set) {
        size_t i;
        json_t *e;
        json_array_foreach(set, i, e) if (fn(c, e)) rc = -1;
    } else {
        rc = fn(c, res);
    }
    return rc;
}

/* Does the right-hand side (string, set, array) contain string s? Others make *other = 1. */
static int nft_has_string(const nft_ctx *x, json_t *right, const char *s, int *other)
{
    json_t *set = nft_elems(right);
    if (!set && json_is_array(right)) set = right;
    int has = 0;
    if (set) {
        size_t i;
        json_t *e;
        json_array_foreach(set, i, e)
        {
            const char *v = json_string_value(e);
            if (v && !strcmp(v, s)) has = 1;
            else *other = 1;
        }
        return has;
    }
    const char *v = json_string_value(right);
    (void)x;
    if (v && !strcmp(v, s)) return 1;
    *other = 1;
    return 0;
}

static void nft_match(const nft_ctx *x, fw_rule *r, json_t *m)
{
    const char *op = json_string_value(json_object_get(m, "op"));
    json_t *left = json_object_get(m, "left"), *right = json_object_get(m, "right");
    if (!op || !left || !right) {
        rule_unknown(r);
        return;
    }
    int neg;
    if (!strcmp(op, "==") || !strcmp(op, "in")) neg = 0;
    else if (!strcmp(op, "!=")) neg = 1;
    else if (!strcmp(op, "<") || !strcmp(op, ">") || !strcmp(op, "<=") || !strcmp(op, ">=")) neg = 2;
    else {
        rule_unknown(r);
        return;
    }
    json_t *pl = json_object_get(left, "payload");
    json_t *meta = json_object_get(left, "meta");
    json_t *ct = json_object_get(left, "ct");
    if (pl) {
        const char *proto = json_string_value(json_object_get(pl, "protocol"));
        const char *field = json_string_value(json_object_get(pl, "field"));
        if (!proto || !field) {
            rule_unknown(r); /* raw payload */
            return;
        }
        int l4 = !strcmp(proto, "tcp") ? 6 : !strcmp(proto, "th") ? 0 :
                 (!strcmp(proto, "udp") || !strcmp(proto, "sctp") || !strcmp(proto, "dccp") || !strcmp(proto, "udplite")) ? 17 : -1;
        if (l4 >= 0 && !strcmp(field, "dport")) {
            fw_cond *c = rule_cond(r, C_DPORT, neg == 1);
            if (!c) return rule_unknown(r);
            c->l4 = l4;
            if (neg == 2) {
                json_int_t v = json_integer_value(right);
                if (!json_is_integer(right) || v < 0 || v > 65535) return cond_unknown(c);
                unsigned u = (unsigned)v;
                int rc = !strcmp(op, "<") ? (u ? cond_add_port(c, 0, u - 1) : 0)
                         : !strcmp(op, "<=") ? cond_add_port(c, 0, u)
                         : !strcmp(op, ">") ? (u < 65535 ? cond_add_port(c, u + 1, 65535) : 0)
                                            : cond_add_port(c, u, 65535);
                if (rc) cond_unknown(c);
                return;
            }
            if (nft_fill(x, c, right, nft_port_elem)) cond_unknown(c);
            return;
        }
        if (l4 == 17) { /* any other field of udp & co: implies not TCP */
            if (!rule_cond(r, C_NEVER, 0)) rule_unknown(r);
            return;
        }
        if (((!strcmp(proto, "ip") && !strcmp(field, "protocol")) || (!strcmp(proto, "ip6") && !strcmp(field, "nexthdr"))) &&
            neg != 2) {
            fw_cond *c = rule_cond(r, C_L4, neg);
            if (!c) return rule_unknown(r);
            c->fam = !strcmp(proto, "ip") ? 4 : 6;
            int other = 0;
            c->val = nft_has_string(x, right, "tcp", &other) || (json_is_integer(right) && json_integer_value(right) == 6);
            return;
        }
        if ((!strcmp(proto, "ip") || !strcmp(proto, "ip6")) && !strcmp(field, "saddr") && neg != 2) {
            fw_cond *c = rule_cond(r, C_SADDR, neg);
            if (!c) return rule_unknown(r);
            c->fam = !strcmp(proto, "ip") ? 4 : 6;
            if (nft_fill(x, c, right, nft_addr_elem)) cond_unknown(c);
            return;
        }
        /* other header fields (daddr, tcp flags, sport...): some packets */
        if (!rule_cond(r, C_SOME, 0)) rule_unknown(r);
        return;
    }
    const char *rs = json_string_value(right);
    if ((meta || ct) && rs && rs[0] == '@') return rule_unknown(r); /* named set of marks, states... */
    if (meta && neg != 2) {
        const char *key = json_string_value(json_object_get(meta, "key"));
        if (!key) return rule_unknown(r);
        int other = 0;
        if (!strcmp(key, "l4proto")) {
            fw_cond *c = rule_cond(r, C_L4, neg);
            if (!c) return rule_unknown(r);
            int has = nft_has_string(x, right, "tcp", &other);
            if (json_is_integer(right)) has = json_integer_value(right) == 6;
            c->val = has;
            return;
        }
        if (!strcmp(key, "nfproto")) {
            fw_cond *c = rule_cond(r, C_NFPROTO, neg);
            if (!c) return rule_unknown(r);
            int o1 = 0, o2 = 0;
            c->val = (nft_has_string(x, right, "ipv4", &o1) ? 1 : 0) | (nft_has_string(x, right, "ipv6", &o2) ? 2 : 0);
            return;
        }
        if (!strcmp(key, "iif") || !strcmp(key, "iifname") || !strcmp(key, "iiftype")) {
            fw_cond *c = rule_cond(r, C_IIF, neg);
            if (!c) return rule_unknown(r);
            int has = nft_has_string(x, right, !strcmp(key, "iiftype") ? "loopback" : "lo", &other);
            c->val = has && !other;
            return;
        }
        if (!rule_cond(r, C_SOME, 0)) rule_unknown(r);
        return;
    }
    if (ct && neg != 2) {
        const char *key = json_string_value(json_object_get(ct, "key"));
        if (key && !strcmp(key, "state")) {
            fw_cond *c = rule_cond(r, C_CTNEW, neg);
            if (!c) return rule_unknown(r);
            int other = 0;
            c->val = nft_has_string(x, right, "new", &other);
            return;
        }
        if (!rule_cond(r, C_SOME, 0)) rule_unknown(r);
        return;
    }
    if (json_object_get(left, "fib") || json_object_get(left, "socket") || json_object_get(left, "osf")) {
        if (!rule_cond(r, C_SOME, 0)) rule_unknown(r);
        return;
    }
    rule_unknown(r);
}

static void nft_rule(const nft_ctx *x, fw_rule *r, json_t *expr)
{
    size_t i;
    json_t *e;
    json_array_foreach(expr, i, e)
    {
        const char *k = json_object_iter_key(json_object_iter(e));
        if (!k || json_object_size(e) != 1) {
            rule_unknown(r);
            continue;
        }
        json_t *v = json_object_get(e, k);
        if (!strcmp(k, "match")) nft_match(x, r, v);
        else if (!strcmp(k, "accept")) r->v = V_ACCEPT;
        else if (!strcmp(k, "drop") || !strcmp(k, "reject")) r->v = V_DROP;
        else if (!strcmp(k, "return")) r->v = V_RETURN;
        else if (!strcmp(k, "jump") || !strcmp(k, "goto")) {
            const char *t = json_string_value(json_object_get(v, "target"));
            r->v = t ? (!strcmp(k, "jump") ? V_JUMP : V_GOTO) : V_UNKNOWN;
            free(r->target);
            r->target = t ? strdup(t) : NULL;
            if (t && !r->target) r->v = V_UNKNOWN;
        } else if (!strcmp(k, "counter") || !strcmp(k, "log") || !strcmp(k, "mangle") || !strcmp(k, "notrack") ||
                   !strcmp(k, "set") || !strcmp(k, "ct helper")) {
            /* statements that neither match nor decide */
        } else if (!strcmp(k, "limit") || !strcmp(k, "quota") || !strcmp(k, "ct count")) {
            if (!rule_cond(r, C_SOME, 0)) rule_unknown(r);
        } else if (!strcmp(k, "vmap") || !strcmp(k, "queue")) {
            r->v = V_UNKNOWN;
        } else {
            rule_unknown(r); /* "xt" (untranslated iptables matches) and anything new */
        }
    }
}

/* The element pairs of the rule's one inline verdict map ({"vmap": {"key": K, "data":
 * {"set": [[k, verdict], ...]}}}), or NULL (none, several, or a named map "@m"). */
static json_t *nft_inline_vmap(json_t *expr)
{
    json_t *found = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(expr, i, e)
    {
        json_t *vm = json_object_get(e, "vmap");
        if (!vm) continue;
        if (found) return NULL;
        json_t *set = json_object_get(json_object_get(vm, "data"), "set");
        if (!json_is_array(set) || !json_object_get(vm, "key") || json_array_size(set) > PREP_CHECK_FW_MAX_ELEMS) return NULL;
        found = set;
    }
    return found;
}

/* A copy of expr with its vmap replaced by {"match": {"op": "==", "left": KEY, "right": k}}
 * and the element's verdict; NULL if the pair is not [k, verdict]. Owned (json_decref). */
static json_t *nft_vmap_expand(json_t *expr, json_t *pair)
{
    if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_object(json_array_get(pair, 1))) return NULL;
    json_t *out = json_array();
    if (!out) return NULL;
    size_t i;
    json_t *e;
    json_array_foreach(expr, i, e)
    {
        json_t *vm = json_object_get(e, "vmap");
        if (!vm) {
            json_array_append(out, e);
            continue;
        }
        json_t *m = json_pack("{s:{s:s,s:O,s:O}}", "match", "op", "==", "left", json_object_get(vm, "key"), "right",
                              json_array_get(pair, 0));
        if (!m) {
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, m);
        json_array_append(out, json_array_get(pair, 1));
    }
    return out;
}

prep_err prep_check_fw_add_nft_json(prep_check_fw *fw, const char *text, size_t len, const char *file, prep_diags *d)
{
    if (len > PREP_CHECK_TEXT_MAX) {
        prep_diags_add(d, file, 0, 0, "too-large", "ruleset of %zu bytes exceeds %zu", len, (size_t)PREP_CHECK_TEXT_MAX);
        return PREP_ERR_LIMIT;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        prep_diags_add(d, file, je.line, je.column, "not-json", "%s", je.text);
        return PREP_ERR_PARSE;
    }
    json_t *arr = json_object_get(root, "nftables");
    if (!json_is_array(arr)) {
        prep_diags_add(d, file, 0, 0, "not-nft", "no \"nftables\" array at the top");
        json_decref(root);
        return PREP_ERR_PARSE;
    }
    json_t *sets = json_array();
    if (!sets) {
        json_decref(root);
        return PREP_ERR_NOMEM;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        json_t *s = json_object_get(o, "set");
        if (json_is_object(s)) json_array_append(sets, s);
    }
    prep_err err = PREP_OK;
    /* chains first, so rules find their chains whatever the order */
    for (int pass = 0; pass < 2 && !err; pass++) {
        json_array_foreach(arr, i, o)
        {
            json_t *c = json_object_get(o, pass ? "rule" : "chain");
            if (!json_is_object(c)) continue;
            const char *f = json_string_value(json_object_get(c, "family"));
            const char *t = json_string_value(json_object_get(c, "table"));
            const char *n = json_string_value(json_object_get(c, pass ? "chain" : "name"));
            if (!f || !t || !n) {
                prep_diags_add(d, file, 0, (long)i + 1, "bad-object", "%s without family, table or name", pass ? "rule" : "chain");
                continue;
            }
            fw_chain *ch = chain_get(fw, f, t, n);
            if (!ch) {
                prep_diags_add(d, file, 0, (long)i + 1, "too-many-chains", "more than %d chains", PREP_CHECK_FW_MAX_CHAINS);
                err = PREP_ERR_LIMIT;
                break;
            }
            if (!pass) {
                const char *hook = json_string_value(json_object_get(c, "hook"));
                const char *type = json_string_value(json_object_get(c, "type"));
                const char *pol = json_string_value(json_object_get(c, "policy"));
                ch->base_input = hook && !strcmp(hook, "input") && (!type || !strcmp(type, "filter"));
                ch->policy_drop = pol && !strcmp(pol, "drop");
                continue;
            }
            fw_rule r;
            memset(&r, 0, sizeof r);
            json_t *h = json_object_get(c, "handle");
            r.handle = json_is_integer(h) ? (long)json_integer_value(h) : (long)ch->nr + 1;
            json_t *expr = json_object_get(c, "expr");
            nft_ctx x = {sets, f, t};
            json_t *pairs = json_is_array(expr) ? nft_inline_vmap(expr) : NULL;
            if (pairs) {
                /* an inline verdict map: one rule per element, "key == element: verdict";
                 * the map's keys do not overlap (nft refuses it), so the order is free */
                size_t k;
                json_t *pair;
                json_array_foreach(pairs, k, pair)
                {
                    json_t *e2 = nft_vmap_expand(expr, pair);
                    fw_rule r2;
                    memset(&r2, 0, sizeof r2);
                    r2.handle = r.handle;
                    if (e2) nft_rule(&x, &r2, e2);
                    else rule_unknown(&r2);
                    json_decref(e2);
                    err = chain_add_rule(fw, ch, &r2);
                    rule_free(&r2);
                    if (err) break;
                }
            } else {
                if (json_is_array(expr)) nft_rule(&x, &r, expr);
                else rule_unknown(&r);
                err = chain_add_rule(fw, ch, &r);
            }
            rule_free(&r);
            if (err) {
                prep_diags_add(d, file, 0, (long)i + 1, "too-many-rules", "more than %d rules", PREP_CHECK_FW_MAX_RULES);
                break;
            }
        }
    }
    json_decref(sets);
    json_decref(root);
    return err;
}

/* ---------------------------------------------------------------- iptables-save */
/* Splits a line into tokens, honouring "..." with \" and \\ escapes; in place. */
static size_t ipt_tokens(char *s, char **tok, size_t max)
{
    size_t n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t') s++;
        if (!*s) break;
        char *o = s, *start = s;
        if (*s == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && s[1]) s++;
                *o++ = *s++;
            }
            if (*s) s++;
        } else {
            while (*s && *s != ' ' && *s != '\t') *o++ = *s++;
        }
        int end = !*s;
        *o = '\0';
        if (n < max) tok[n] = start;
        n++;
        if (end) break;
        s++;
    }
    return n;
}

static int is_opt(const char *t) { return t[0] == '-' || !strcmp(t, "!"); }

/* Options that match something we do not model but that only narrow the match. */
static int ipt_some_opt(const char *o, int *nargs)
{
    static const struct { const char *o; int n; } some[] = {
        {"-d", 1}, {"--destination", 1}, {"-o", 1}, {"--out-interface", 1}, {"--sport", 1}, {"--source-port", 1},
        {"--sports", 1}, {"--syn", 0}, {"--tcp-flags", 2}, {"--icmp-type", 1}, {"--icmpv6-type", 1}, {"--limit", 1},
        {"--limit-burst", 1}, {"--name", 1}, {"--rcheck", 0}, {"--update", 0}, {"--set", 0}, {"--seconds", 1},
        {"--hitcount", 1}, {"--rsource", 0}, {"--src-range", 1}, {"--dst-range", 1}, {"--match-set", 2},
        {"--mark", 1}, {"--connlimit-above", 1}, {"--connlimit-mask", 1}, {"--pkt-type", 1}, {"--src-type", 1},
        {"--dst-type", 1}, {"-f", 0}, {"--fragment", 0}, {"--uid-owner", 1}, {"--mac-source", 1},
    };
    for (size_t i = 0; i < PREP_ARRAY_LEN(some); i++)
        if (!strcmp(o, some[i].o)) {
            *nargs = some[i].n;
            return 1;
        }
    return 0;
}

/* Target options: skipped with their argument. */
static int ipt_target_opt(const char *o)
{
    static const char *const t[] = {"--reject-with", "--log-prefix", "--log-level", "--nflog-group", "--nflog-prefix",
                                    "--set-xmark", "--set-mark", "--comment", "--log-uid", "--zone", "--helper"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(t); i++)
        if (!strcmp(o, t[i])) return 1;
    return 0;
}

static void ipt_rule(fw_rule *r, char **tok, size_t n, int fam)
{
    int neg = 0, l4 = 0;
    for (size_t i = 0; i < n; i++) {
        const char *o = tok[i];
        const char *a = i + 1 < n ? tok[i + 1] : NULL;
        if (!strcmp(o, "!")) {
            neg = 1;
            continue;
        }
        int nargs = 0;
        if (!strcmp(o, "-p") || !strcmp(o, "--protocol")) {
            if (!a) return rule_unknown(r);
            i++;
            if (strcmp(a, "all") != 0 && strcmp(a, "0") != 0) {
                fw_cond *c = rule_cond(r, C_L4, neg);
                if (!c) return rule_unknown(r);
                c->val = !strcasecmp(a, "tcp") || !strcmp(a, "6");
                l4 = c->val ? 6 : 17;
            }
        } else if (!strcmp(o, "-s") || !strcmp(o, "--source")) {
            if (!a) return rule_unknown(r);
            i++;
            fw_cond *c = rule_cond(r, C_SADDR, neg);
            if (!c) return rule_unknown(r);
            c->fam = fam;
            char buf[PREP_CHECK_LINE_MAX];
            snprintf(buf, sizeof buf, "%s", a);
            for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                arange ar;
                if (parse_prefix(p, fam, &ar) || cond_add_addr(c, &ar)) {
                    cond_unknown(c);
                    break;
                }
            }
        } else if (!strcmp(o, "-i") || !strcmp(o, "--in-interface")) {
            if (!a) return rule_unknown(r);
            i++;
            fw_cond *c = rule_cond(r, C_IIF, neg);
            if (!c) return rule_unknown(r);
            c->val = !strcmp(a, "lo") || !strcmp(a, "lo+");
        } else if (!strcmp(o, "-m") || !strcmp(o, "--match")) {
            if (!a) return rule_unknown(r);
            i++;
        } else if (!strcmp(o, "--dport") || !strcmp(o, "--destination-port") || !strcmp(o, "--dports") ||
                   !strcmp(o, "--destination-ports")) {
            if (!a) return rule_unknown(r);
            i++;
            fw_cond *c = rule_cond(r, C_DPORT, neg);
            if (!c) return rule_unknown(r);
            c->l4 = l4 == 17 ? 17 : l4;
            char buf[PREP_CHECK_LINE_MAX];
            snprintf(buf, sizeof buf, "%s", a);
            for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
                char *colon = strchr(p, ':');
                if (colon) *colon = '\0';
                int lo = *p ? service_port(p) : 0, hi = colon ? (colon[1] ? service_port(colon + 1) : 65535) : lo;
                if (lo < 0 || hi < 0 || cond_add_port(c, (unsigned)lo, (unsigned)hi)) {
                    cond_unknown(c);
                    break;
                }
            }
        } else if (!strcmp(o, "--ctstate") || !strcmp(o, "--state")) {
            if (!a) return rule_unknown(r);
            i++;
            fw_cond *c = rule_cond(r, C_CTNEW, neg);
            if (!c) return rule_unknown(r);
            char buf[256];
            snprintf(buf, sizeof buf, ",%s,", a);
            c->val = strstr(buf, ",NEW,") != NULL;
        } else if (!strcmp(o, "-j") || !strcmp(o, "--jump") || !strcmp(o, "-g") || !strcmp(o, "--goto")) {
            if (!a) return rule_unknown(r);
            i++;
            int go = o[1] == 'g' || !strcmp(o, "--goto");
            if (!strcmp(a, "ACCEPT")) r->v = V_ACCEPT;
            else if (!strcmp(a, "DROP") || !strcmp(a, "REJECT")) r->v = V_DROP;
            else if (!strcmp(a, "RETURN")) r->v = V_RETURN;
            else if (!strcmp(a, "LOG") || !strcmp(a, "NFLOG") || !strcmp(a, "ULOG") || !strcmp(a, "MARK") ||
                     !strcmp(a, "CONNMARK") || !strcmp(a, "AUDIT") || !strcmp(a, "TRACE") || !strcmp(a, "CT"))
                r->v = V_NONE;
            else {
                r->v = go ? V_GOTO : V_JUMP;
                free(r->target);
                r->target = strdup(a); /* unresolved targets (NFQUEUE...) are "cannot tell" */
                if (!r->target) r->v = V_UNKNOWN;
            }
        } else if (ipt_target_opt(o)) {
            if (a) i++;
        } else if (ipt_some_opt(o, &nargs)) {
            if (!rule_cond(r, C_SOME, 0)) return rule_unknown(r);
            for (int k = 0; k < nargs && i + 1 < n; k++) i++;
        } else {
            rule_unknown(r); /* an option the model does not know */
            while (i + 1 < n && !is_opt(tok[i + 1])) i++;
        }
        neg = 0;
    }
}

prep_err prep_check_fw_add_iptables(prep_check_fw *fw, const char *text, size_t len, int family, const char *file,
                                    prep_diags *d)
{
    if (len > PREP_CHECK_TEXT_MAX) {
        prep_diags_add(d, file, 0, 0, "too-large", "ruleset of %zu bytes exceeds %zu", len, (size_t)PREP_CHECK_TEXT_MAX);
        return PREP_ERR_LIMIT;
    }
    const char *fam = family == 6 ? "ip6" : "ip";
    char line[PREP_CHECK_LINE_MAX];
    chk_lines l;
    int trunc, in_filter = 0;
    long ln = 0;
    chk_lines_init(&l, text, len);
    while (chk_lines_next(&l, line, sizeof line, &trunc)) {
        ln++;
        if (trunc) {
            prep_diags_add(d, file, ln, 0, "line-too-long", "line longer than %d bytes", PREP_CHECK_LINE_MAX - 1);
            if (in_filter) return PREP_ERR_LIMIT;
            continue;
        }
        if (line[0] == '#' || !line[0]) continue;
        if (line[0] == '*') {
            in_filter = !strcmp(prep_trim(line + 1), "filter");
            continue;
        }
        if (!strcmp(prep_trim(line), "COMMIT")) {
            in_filter = 0;
            continue;
        }
        if (!in_filter) continue;
        if (line[0] == ':') {
            char *tok[4];
            size_t n = ipt_tokens(line + 1, tok, 4);
            if (n < 2) {
                prep_diags_add(d, file, ln, 1, "bad-chain", "chain line without a policy");
                continue;
            }
            fw_chain *c = chain_get(fw, fam, "filter", tok[0]);
            if (!c) return PREP_ERR_LIMIT;
            c->base_input = !strcmp(tok[0], "INPUT");
            c->policy_drop = !strcmp(tok[1], "DROP");
            continue;
        }
        char *tok[256];
        size_t n = ipt_tokens(line, tok, 256);
        if (n > 256) {
            prep_diags_add(d, file, ln, 0, "too-many-tokens", "a rule of %zu words (limit 256)", n);
            return PREP_ERR_LIMIT;
        }
        if (n < 2 || (strcmp(tok[0], "-A") != 0 && strcmp(tok[0], "--append") != 0)) {
            prep_diags_add(d, file, ln, 1, "bad-line", "not a chain, rule, table or COMMIT line: \"%.40s\"", tok[0]);
            continue;
        }
        fw_chain *c = chain_get(fw, fam, "filter", tok[1]);
        if (!c) return PREP_ERR_LIMIT;
        fw_rule r;
        memset(&r, 0, sizeof r);
        r.handle = ln; /* iptables has no handles: the line number names the rule */
        ipt_rule(&r, tok + 2, n - 2, family == 6 ? 6 : 4);
        prep_err e = chain_add_rule(fw, c, &r);
        rule_free(&r);
        if (e) {
            prep_diags_add(d, file, ln, 0, "too-many-rules", "more than %d rules", PREP_CHECK_FW_MAX_RULES);
            return e;
        }
    }
    return PREP_OK;
}
