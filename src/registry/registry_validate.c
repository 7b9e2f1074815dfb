/* prep registry: the Anexo 1 fields, their validators and the "key = value" input file
 * (docs/registry.md). Pure functions: no database, no files. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "prep/registry.h"

const prep_registry_field_info prep_registry_fields[PREP_REGISTRY_NFIELDS] = {
#define PREP_REGISTRY_INFO_(col, opt, label, kind, max, req) {#col, opt, label, kind, max, req},
    PREP_REGISTRY_FIELDS(PREP_REGISTRY_INFO_)
#undef PREP_REGISTRY_INFO_
};

int prep_registry_field_by_option(const char *option)
{
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++)
        if (!strcmp(prep_registry_fields[i].option, option)) return i;
    return -1;
}

/* ---------------------------------------------------------------- small helpers */
static int is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
static int is_digit(int c) { return c >= '0' && c <= '9'; }

#define FAIL(w)                                                                                                     \
    do {                                                                                                            \
        *why = (w);                                                                                                 \
        return -1;                                                                                                  \
    } while (0)

/* Text without control characters (C0, DEL, C1); newlines allowed when nl. */
static int check_text(const char *s, size_t max, int nl, const char **why)
{
    size_t n = strlen(s);
    if (n == 0) FAIL("is empty");
    if (n > max) FAIL("is too long");
    if (!prep_utf8_valid(s, n)) FAIL("is not valid UTF-8");
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        if (u[i] == '\n' && nl) continue;
        if (u[i] < 0x20 || u[i] == 0x7f) FAIL("contains a control character");
        if (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) FAIL("contains a control character");
    }
    if (s[0] == ' ' || s[n - 1] == ' ') FAIL("begins or ends with a space");
    return 0;
}

static int check_dns(const char *s, size_t n, const char **why)
{
    if (n == 0) FAIL("has an empty host");
    if (n > 253) FAIL("has a host name longer than 253 bytes");
    size_t labels = 0, i = 0;
    int all_digits = 1;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '.') j++;
        size_t l = j - i;
        if (l == 0) FAIL("has an empty label in its host name");
        if (l > 63) FAIL("has a host name label longer than 63 bytes");
        if (s[i] == '-' || s[j - 1] == '-') FAIL("has a host name label that begins or ends with '-'");
        all_digits = 1;
        for (size_t k = i; k < j; k++) {
            if (!is_alnum((unsigned char)s[k]) && s[k] != '-') FAIL("has a character not allowed in a host name");
            if (!is_digit((unsigned char)s[k])) all_digits = 0;
        }
        labels++;
        i = j + 1;
        if (j == n - 1) FAIL("has a host name ending in '.'");
    }
    if (all_digits) FAIL("is neither a valid IPv4 address nor a host name");
    if (labels < 2 && !(n == 9 && !strncmp(s, "localhost", 9))) FAIL("has a host name with a single label");
    return 0;
}

static int check_ipv4(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && is_digit((unsigned char)s[j])) j++;
        if (j == i || j - i > 3) return -1;
        if (j - i > 1 && s[i] == '0') return -1;
        int v = 0;
        for (size_t k = i; k < j; k++) v = v * 10 + (s[k] - '0');
        if (v > 255) return -1;
        parts++;
        if (j == n) break;
        if (s[j] != '.') return -1;
        i = j + 1;
        if (i == n) return -1;
    }
    return parts == 4 ? 0 : -1;
}

static int check_ipv6(const char *s, size_t n)
{
    char b[64];
    if (n == 0 || n >= sizeof b) return -1;
    memcpy(b, s, n);
    b[n] = 0;
    unsigned char a[16];
    return inet_pton(AF_INET6, b, a) == 1 ? 0 : -1;
}

static int looks_ipv4(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)s[i]) && s[i] != '.') return 0;
    return 1;
}

static int check_host_n(const char *s, size_t n, const char **why)
{
    if (memchr(s, ':', n)) {
        if (check_ipv6(s, n)) FAIL("is not a valid IPv6 address");
        return 0;
    }
    if (looks_ipv4(s, n)) {
        if (check_ipv4(s, n)) FAIL("is not a valid IPv4 address (four numbers 0..255, no leading zeros)");
        return 0;
    }
    return check_dns(s, n, why);
}

int prep_registry_check_host(const char *s, const char **why)
{
    return check_host_n(s, strlen(s), why);
}

int prep_registry_check_ip(const char *s, const char **why)
{
    size_t n = strlen(s);
    if (memchr(s, ':', n) ? check_ipv6(s, n) : check_ipv4(s, n)) FAIL("is not an IPv4 or IPv6 address");
    return 0;
}

int prep_registry_check_id(const char *s, const char **why)
{
    size_t n = strlen(s);
    if (n == 0 || n > PREP_REGISTRY_ID_MAX) FAIL("must have 1 to 63 characters");
    if (s[0] == '-') FAIL("must not begin with '-'");
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || is_digit((unsigned char)s[i]) || s[i] == '-'))
            FAIL("may only contain a-z, 0-9 and '-'");
    return 0;
}

/* Authority "host[:port]" of n bytes; IPv6 in brackets. */
static int check_authority(const char *s, size_t n, const char **why)
{
    if (n == 0) FAIL("has no host");
    if (memchr(s, '@', n)) FAIL("must not contain a user name or password");
    const char *host = s, *port = NULL;
    size_t hn = n;
    if (s[0] == '[') {
        const char *e = memchr(s, ']', n);
        if (!e) FAIL("has an unclosed '[' in its host");
        host = s + 1;
        hn = (size_t)(e - host);
        if (check_ipv6(host, hn)) FAIL("has an invalid IPv6 address in brackets");
        size_t rest = n - (size_t)(e + 1 - s);
        if (rest) {
            if (e[1] != ':') FAIL("has characters after its IPv6 address");
            port = e + 2;
        }
    } else {
        const char *c = memchr(s, ':', n);
        if (c) {
            hn = (size_t)(c - s);
            port = c + 1;
        }
        if (check_host_n(host, hn, why)) return -1;
    }
    if (port) {
        size_t pl = n - (size_t)(port - s);
        if (pl == 0 || pl > 5) FAIL("has an invalid port");
        long v = 0;
        for (size_t i = 0; i < pl; i++) {
            if (!is_digit((unsigned char)port[i])) FAIL("has an invalid port");
            v = v * 10 + (port[i] - '0');
        }
        if (v < 1 || v > 65535) FAIL("has a port outside 1..65535");
    }
    return 0;
}

/* Path, query and fragment: visible ASCII only, no quotes, angle brackets or backslash. */
static int check_url_tail(const char *s, const char **why)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f) FAIL("contains a space, control or non-ASCII character (percent-encode it)");
        if (*p == '"' || *p == '<' || *p == '>' || *p == '\\' || *p == '`' || *p == '{' || *p == '}' || *p == '|' ||
            *p == '^')
            FAIL("contains a character not allowed in a URL");
        if (*p == '%' && !(isxdigit(p[1]) && isxdigit(p[2]))) FAIL("has a '%' not followed by two hex digits");
    }
    return 0;
}

int prep_registry_check_url(const char *s, int https_only, const char **why)
{
    size_t n = strlen(s);
    if (n > 2048) FAIL("is longer than 2048 bytes");
    const char *rest;
    if (!strncmp(s, "https://", 8))
        rest = s + 8;
    else if (!https_only && !strncmp(s, "http://", 7))
        rest = s + 7;
    else
        FAIL(https_only ? "must begin with https://" : "must begin with http:// or https://");
    size_t an = strcspn(rest, "/?#");
    if (check_authority(rest, an, why)) return -1;
    return check_url_tail(rest + an, why);
}

int prep_registry_check_origin(const char *s, const char **why)
{
    if (strncmp(s, "https://", 8)) FAIL("must begin with https://");
    const char *rest = s + 8;
    size_t an = strlen(rest);
    if (strcspn(rest, "/?#") != an) FAIL("must be an origin (scheme://host[:port], without a path)");
    return check_authority(rest, an, why);
}

int prep_registry_check_email(const char *s, const char **why)
{
    size_t n = strlen(s);
    if (n > 254) FAIL("is longer than 254 bytes");
    const char *at = strrchr(s, '@');
    if (!at) FAIL("has no '@'");
    size_t ln = (size_t)(at - s);
    if (ln == 0) FAIL("has an empty local part");
    if (ln > 64) FAIL("has a local part longer than 64 bytes");
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
    for (size_t i = 0; i < ln; i++) {
        char c = s[i];
        if (c == '.') {
            if (i == 0 || i == ln - 1 || s[i - 1] == '.') FAIL("has a misplaced '.' in its local part");
            continue;
        }
        if (!is_alnum((unsigned char)c) && !(c && strchr(atext, c))) FAIL("has a character not allowed in its local part");
    }
    const char *dom = at + 1;
    size_t dn = strlen(dom);
    if (looks_ipv4(dom, dn) || memchr(dom, ':', dn)) FAIL("must have a domain name, not an address");
    if (check_dns(dom, dn, why)) return -1;
    if (!memchr(dom, '.', dn)) FAIL("has a domain with a single label");
    return 0;
}

int prep_registry_check_phone(const char *s, const char **why)
{
    size_t n = strlen(s);
    if (n == 0) FAIL("is empty");
    if (n > 40) FAIL("is longer than 40 bytes");
    const char *p = s;
    int plus = 0;
    if (*p == '+') {
        plus = 1;
        p++;
    }
    char digits[32];
    size_t nd = 0;
    int parens = 0, closed = 0;
    while (*p) {
        char c = *p;
        if (is_digit((unsigned char)c)) {
            if (nd >= 20) FAIL("has too many digits");
            digits[nd++] = c;
        } else if (c == ' ' || c == '-' || c == '.') {
            if (p[1] == ' ' || p[1] == '-' || p[1] == '.') FAIL("has repeated separators");
        } else if (c == '(') {
            if (parens || closed) FAIL("has misplaced parentheses");
            parens = 1;
        } else if (c == ')') {
            if (!parens || closed) FAIL("has misplaced parentheses");
            closed = 1;
        } else if (c == 'e' || c == 'x' || c == 'E' || c == 'X') {
            break;
        } else {
            FAIL("contains a character that is not a digit, space, '-', '.', '(' or ')'");
        }
        p++;
    }
    if (parens && !closed) FAIL("has misplaced parentheses");
    if (*p) { /* extension */
        if (!strncmp(p, "ext.", 4) || !strncmp(p, "Ext.", 4))
            p += 4;
        else if (!strncmp(p, "ext", 3) || !strncmp(p, "Ext", 3))
            p += 3;
        else if (*p == 'x' || *p == 'X')
            p += 1;
        else
            FAIL("has an extension not written as 'ext. N'");
        while (*p == ' ') p++;
        size_t e = 0;
        while (is_digit((unsigned char)p[e])) e++;
        if (e == 0 || e > 6 || p[e]) FAIL("has an extension that is not 1 to 6 digits");
    }
    if (plus) {
        if (nd < 8 || nd > 15) FAIL("must have 8 to 15 digits after '+'");
        if (nd >= 2 && digits[0] == '5' && digits[1] == '2' && nd != 12)
            FAIL("must have 10 digits after +52 (Mexican numbers)");
    } else if (nd != 10) {
        FAIL("must have 10 digits (Mexican number) or begin with '+' and a country code");
    }
    return 0;
}

static int check_list(const char *s, size_t max, int (*one)(const char *, const char **), const char **why)
{
    size_t n = strlen(s);
    if (n == 0) FAIL("is empty");
    if (n > max) FAIL("is too long");
    char b[2100];
    if (n >= sizeof b) FAIL("is too long");
    size_t i = 0, count = 0;
    while (i < n) {
        while (i < n && s[i] == ' ') i++;
        if (i == n) break;
        size_t j = i;
        while (j < n && s[j] != ' ') j++;
        memcpy(b, s + i, j - i);
        b[j - i] = 0;
        if (one(b, why)) return -1;
        count++;
        i = j;
    }
    if (!count) FAIL("is empty");
    return 0;
}

static int check_origin1(const char *s, const char **why) { return prep_registry_check_origin(s, why); }

static int check_user(const char *s, const char **why)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) FAIL("must have 1 to 64 characters");
    for (size_t i = 0; i < n; i++)
        if (!is_alnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            FAIL("may only contain A-Z, a-z, 0-9, '.', '_' and '-'");
    return 0;
}

/* scheme://[user@]host[:port]/path/ ending in '/'. */
static int check_transfer_url(const char *s, const char *scheme, int need_user, const char **why)
{
    size_t sl = strlen(scheme);
    if (strncmp(s, scheme, sl)) {
        *why = need_user ? "must begin with sftp://" : "must begin with ftp:// (explicit TLS is forced)";
        return -1;
    }
    const char *rest = s + sl;
    const char *slash = strchr(rest, '/');
    if (!slash) FAIL("has no path");
    const char *at = memchr(rest, '@', (size_t)(slash - rest));
    const char *auth = rest;
    if (need_user) {
        if (!at) FAIL("must name the user (sftp://user@host/path/)");
        char u[80];
        size_t un = (size_t)(at - rest);
        if (un == 0 || un >= sizeof u) FAIL("has an invalid user name");
        memcpy(u, rest, un);
        u[un] = 0;
        if (check_user(u, why)) return -1;
        auth = at + 1;
    } else if (at) {
        FAIL("must not contain a user name or password (use --ftp-user and --ftp-password)");
    }
    if (check_authority(auth, (size_t)(slash - auth), why)) return -1;
    if (strchr(slash, '?') || strchr(slash, '#')) FAIL("must not have a query or fragment");
    if (check_url_tail(slash, why)) return -1;
    if (strstr(slash, "/../") || strstr(slash, "/./") || strstr(slash, "//")) FAIL("has a '.', '..' or empty path segment");
    if (slash[strlen(slash) - 1] != '/') FAIL("must end in '/' (a directory)");
    return 0;
}

static int check_hostkey(const char *s, const char **why)
{
    if (!strncmp(s, "SHA256:", 7)) s += 7;
    size_t n = strlen(s);
    if (n != 43) FAIL("must be 43 base64 characters (ssh-keygen -lf KEY.pub -E sha256)");
    for (size_t i = 0; i < n; i++)
        if (!is_alnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/') FAIL("is not base64");
    /* 43 chars hold 258 bits: the last char's low 2 bits must be zero for 32 bytes */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *q = strchr(b64, s[42]);
    if (!q || ((q - b64) & 3)) FAIL("is not the base64 of 32 bytes");
    return 0;
}

static int check_path(const char *s, const char **why)
{
    if (check_text(s, 511, 0, why)) return -1;
    if (s[0] != '/') FAIL("must be an absolute path");
    return 0;
}

int prep_registry_check_kind(prep_registry_kind k, size_t max, const char *s, const char **why)
{
    if (strlen(s) > max) FAIL("is too long");
    switch (k) {
    case PREP_REGISTRY_K_LINE: return check_text(s, max, 0, why);
    case PREP_REGISTRY_K_TEXT: return check_text(s, max, 1, why);
    case PREP_REGISTRY_K_KIND:
        if (strcmp(s, "universidad") && strcmp(s, "medio") && strcmp(s, "otro"))
            FAIL("must be universidad, medio or otro");
        return 0;
    case PREP_REGISTRY_K_URL: return prep_registry_check_url(s, 0, why);
    case PREP_REGISTRY_K_HTTPS: return prep_registry_check_url(s, 1, why);
    case PREP_REGISTRY_K_ORIGINS: return check_list(s, max, check_origin1, why);
    case PREP_REGISTRY_K_PHONE: return prep_registry_check_phone(s, why);
    case PREP_REGISTRY_K_EMAIL: return prep_registry_check_email(s, why);
    case PREP_REGISTRY_K_HOST: return prep_registry_check_host(s, why);
    case PREP_REGISTRY_K_USER: return check_user(s, why);
    case PREP_REGISTRY_K_IPS: return check_list(s, max, prep_registry_check_ip, why);
    case PREP_REGISTRY_K_METHOD:
        if (strcmp(s, "sftp") && strcmp(s, "ftps") && strcmp(s, "pull")) FAIL("must be sftp, ftps or pull");
        return 0;
    case PREP_REGISTRY_K_SFTP_URL: return check_transfer_url(s, "sftp://", 1, why);
    case PREP_REGISTRY_K_FTP_URL: return check_transfer_url(s, "ftp://", 0, why);
    case PREP_REGISTRY_K_HOSTKEY: return check_hostkey(s, why);
    case PREP_REGISTRY_K_PATH: return check_path(s, why);
    }
    FAIL("has an unknown kind");
}

/* ---------------------------------------------------------------- input */
static void wipe_free(char *s)
{
    if (!s) return;
    volatile char *v = s;
    while (*v) *v++ = 0;
    free(s);
}

void prep_registry_input_init(prep_registry_input *in)
{
    memset(in, 0, sizeof *in);
}

void prep_registry_input_free(prep_registry_input *in)
{
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) free(in->v[i]);
    free(in->id);
    free(in->logo);
    wipe_free(in->ftp_password);
    wipe_free(in->ssh_password);
    memset(in, 0, sizeof *in);
}

static char **input_slot(prep_registry_input *in, const char *option)
{
    int f = prep_registry_field_by_option(option);
    if (f >= 0) return &in->v[f];
    if (!strcmp(option, "id")) return &in->id;
    if (!strcmp(option, "logo")) return &in->logo;
    if (!strcmp(option, "ftp-password")) return &in->ftp_password;
    if (!strcmp(option, "ssh-password")) return &in->ssh_password;
    return NULL;
}

prep_err prep_registry_input_set(prep_registry_input *in, const char *option, const char *value, const char *file, long line,
                            prep_diags *d)
{
    char **slot = input_slot(in, option);
    if (!slot) {
        prep_diags_add(d, file, line, 0, "unknown-key", "unknown field '%.64s'", option);
        return PREP_ERR_INVALID;
    }
    if (*slot) {
        prep_diags_add(d, file, line, 0, "duplicate-key", "field '%s' given twice", option);
        return PREP_ERR_INVALID;
    }
    *slot = strdup(value);
    return *slot ? PREP_OK : PREP_ERR_NOMEM;
}

prep_err prep_registry_input_parse(const void *data, size_t len, const char *name, prep_registry_input *in, prep_diags *d)
{
    if (len > PREP_REGISTRY_INPUT_MAX) {
        prep_diags_add(d, name, 0, 0, "limit", "input is %zu bytes, more than the limit of %u", len,
                       PREP_REGISTRY_INPUT_MAX);
        return PREP_ERR_LIMIT;
    }
    const char *p = data, *end = p + len;
    prep_err worst = PREP_OK;
    long lineno = 0;
    char *line = malloc(PREP_REGISTRY_LINE_MAX + 1);
    if (!line) return PREP_ERR_NOMEM;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t ll = (size_t)(le - p);
        lineno++;
        const char *next = nl ? nl + 1 : end;
        if (ll > PREP_REGISTRY_LINE_MAX) {
            prep_diags_add(d, name, lineno, 0, "limit", "line is %zu bytes, more than the limit of %d", ll,
                           PREP_REGISTRY_LINE_MAX);
            worst = PREP_ERR_LIMIT;
            p = next;
            continue;
        }
        memcpy(line, p, ll);
        line[ll] = 0;
        p = next;
        if (ll && line[ll - 1] == '\r') line[--ll] = 0;
        if (memchr(line, 0, ll)) {
            prep_diags_add(d, name, lineno, 0, "syntax", "line contains a NUL byte");
            if (!worst) worst = PREP_ERR_PARSE;
            continue;
        }
        if (!prep_utf8_valid(line, ll)) {
            prep_diags_add(d, name, lineno, 0, "not-utf8", "line is not valid UTF-8");
            if (!worst) worst = PREP_ERR_PARSE;
            continue;
        }
        char *t = prep_trim(line);
        if (!*t || *t == '#') continue;
        char *eq = strchr(t, '=');
        if (!eq) {
            prep_diags_add(d, name, lineno, 0, "syntax", "expected 'key = value', got '%.80s'", t);
            if (!worst) worst = PREP_ERR_PARSE;
            continue;
        }
        *eq = 0;
        char *key = prep_trim(t), *val = prep_trim(eq + 1);
        if (!*key) {
            prep_diags_add(d, name, lineno, 0, "syntax", "empty key before '='");
            if (!worst) worst = PREP_ERR_PARSE;
            continue;
        }
        /* multi-line text: a literal "\n" in a value is a newline (software, hardware...) */
        char *w = val;
        for (char *r = val; *r; r++) {
            if (r[0] == '\\' && r[1] == 'n') {
                *w++ = '\n';
                r++;
            } else if (r[0] == '\\' && r[1] == '\\') {
                *w++ = '\\';
                r++;
            } else {
                *w++ = *r;
            }
        }
        *w = 0;
        prep_err e = prep_registry_input_set(in, key, val, name, lineno, d);
        if (e == PREP_ERR_NOMEM) {
            free(line);
            return e;
        }
        if (e && !worst) worst = e;
    }
    free(line);
    return worst;
}

prep_err prep_registry_input_validate(const prep_registry_input *in, prep_diags *d)
{
    prep_err worst = PREP_OK;
    const char *why;
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) {
        const prep_registry_field_info *f = &prep_registry_fields[i];
        const char *v = in->v[i];
        if (!v || !*v) {
            if (f->required) {
                prep_diags_add(d, f->option, 0, 0, "missing-field", "--%s (%s) is required", f->option, f->label);
                worst = PREP_ERR_INVALID;
            }
            continue;
        }
        if (prep_registry_check_kind(f->kind, f->max, v, &why)) {
            prep_diags_add(d, f->option, 0, 0, "invalid-field", "--%s '%.200s' %s", f->option, v, why);
            worst = PREP_ERR_INVALID;
        }
    }
    if (in->id && prep_registry_check_id(in->id, &why)) {
        prep_diags_add(d, "id", 0, 0, "invalid-field", "--id '%.80s' %s", in->id, why);
        worst = PREP_ERR_INVALID;
    }
    if (in->logo && prep_registry_check_kind(PREP_REGISTRY_K_LINE, 4096, in->logo, &why)) {
        prep_diags_add(d, "logo", 0, 0, "invalid-field", "--logo '%.200s' %s", in->logo, why);
        worst = PREP_ERR_INVALID;
    }
    const char *pw[2] = {in->ftp_password, in->ssh_password};
    const char *pwn[2] = {"ftp-password", "ssh-password"};
    for (int i = 0; i < 2; i++) {
        if (!pw[i]) continue;
        size_t n = strlen(pw[i]);
        int bad = n == 0 || n > PREP_REGISTRY_SECRET_MAX || !prep_utf8_valid(pw[i], n);
        for (size_t k = 0; k < n && !bad; k++)
            if ((unsigned char)pw[i][k] < 0x20 || pw[i][k] == 0x7f) bad = 1;
        if (bad) { /* never echo a password */
            prep_diags_add(d, pwn[i], 0, 0, "invalid-field",
                           "--%s must be 1 to %d bytes of UTF-8 without control characters (value not shown)",
                           pwn[i], PREP_REGISTRY_SECRET_MAX);
            worst = PREP_ERR_INVALID;
        }
    }
    const char *m = in->v[PREP_REGISTRY_F_method];
    static const struct {
        const char *method;
        prep_registry_field f;
    } needs[] = {
        {"sftp", PREP_REGISTRY_F_sftp_url},
        {"sftp", PREP_REGISTRY_F_ssh_host_key},
        {"sftp", PREP_REGISTRY_F_ssh_key},
        {"ftps", PREP_REGISTRY_F_ftps_url},
    };
    for (size_t i = 0; m && i < PREP_ARRAY_LEN(needs); i++) {
        if (strcmp(m, needs[i].method)) continue;
        const char *v = in->v[needs[i].f];
        if (!v || !*v) {
            prep_diags_add(d, prep_registry_fields[needs[i].f].option, 0, 0, "missing-field",
                           "--%s (%s) is required with --method %s", prep_registry_fields[needs[i].f].option,
                           prep_registry_fields[needs[i].f].label, m);
            worst = PREP_ERR_INVALID;
        }
    }
    return worst;
}
