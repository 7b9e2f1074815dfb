/* libFuzzer target: the registry's input side (docs/registry.md): the "key = value"
 * registration file, every field validator, the logo check and the date parser used by
 * `prep difusor settings`. Invariants checked:
 *   - parsing never fails without a diag, and a parsed input written back in the same
 *     format (with \n and \\ escapes) parses to the same values;
 *   - what a validator accepts has the shape it promises (scheme, '@', no space...);
 *   - a password is never echoed in a diag. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prep/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_escaped(prep_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            prep_buf_puts(b, "\\n");
        else if (*s == '\\')
            prep_buf_puts(b, "\\\\");
        else
            prep_buf_putc(b, *s);
    }
}

static void roundtrip(const prep_registry_input *in)
{
    prep_buf b;
    prep_buf_init(&b, 0);
    const char *extra[4][2] = {{"id", in->id}, {"logo", in->logo}, {"ftp-password", in->ftp_password},
                               {"ssh-password", in->ssh_password}};
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) {
        if (!in->v[i]) continue;
        prep_buf_printf(&b, "%s = ", prep_registry_fields[i].option);
        put_escaped(&b, in->v[i]);
        prep_buf_putc(&b, '\n');
    }
    for (int i = 0; i < 4; i++) {
        if (!extra[i][1]) continue;
        prep_buf_printf(&b, "%s = ", extra[i][0]);
        put_escaped(&b, extra[i][1]);
        prep_buf_putc(&b, '\n');
    }
    prep_registry_input again;
    prep_registry_input_init(&again);
    prep_diags d;
    prep_diags_init(&d);
    if (prep_registry_input_parse(b.data ? b.data : "", b.len, "again", &again, &d) != PREP_OK) abort();
    for (int i = 0; i < PREP_REGISTRY_NFIELDS; i++) {
        if (!in->v[i] != !again.v[i]) abort();
        if (in->v[i] && strcmp(in->v[i], again.v[i])) abort();
    }
    prep_registry_input_free(&again);
    prep_diags_free(&d);
    prep_buf_free(&b);
}

static void shapes(const char *s)
{
    const char *why;
    size_t n = strlen(s);
    for (int k = PREP_REGISTRY_K_LINE; k <= PREP_REGISTRY_K_PATH; k++) {
        why = NULL;
        int r = prep_registry_check_kind((prep_registry_kind)k, 4096, s, &why);
        if (r && !why) abort();
        if (r) continue;
        switch ((prep_registry_kind)k) {
        case PREP_REGISTRY_K_URL:
        case PREP_REGISTRY_K_HTTPS:
            if (strncmp(s, "https://", 8) && (k == PREP_REGISTRY_K_HTTPS || strncmp(s, "http://", 7))) abort();
            /* fallthrough */
        case PREP_REGISTRY_K_EMAIL:
        case PREP_REGISTRY_K_HOST:
        case PREP_REGISTRY_K_USER:
        case PREP_REGISTRY_K_SFTP_URL:
        case PREP_REGISTRY_K_FTP_URL:
        case PREP_REGISTRY_K_HOSTKEY:
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) abort();
            break;
        default: break;
        }
        if (k == PREP_REGISTRY_K_EMAIL && (!strchr(s, '@') || n > 254)) abort();
        if (k == PREP_REGISTRY_K_LINE && strchr(s, '\n')) abort();
        if ((k == PREP_REGISTRY_K_SFTP_URL || k == PREP_REGISTRY_K_FTP_URL) && s[n - 1] != '/') abort();
    }
    if (prep_registry_check_ip(s, &why) == 0) {
        unsigned char a[16];
        if (inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, a) != 1) abort();
    }
    prep_time t;
    (void)prep_time_parse(s, "America/Mexico_City", &t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    prep_registry_input in;
    prep_registry_input_init(&in);
    prep_diags d;
    prep_diags_init(&d);
    d.max_keep = 8;
    prep_err e = prep_registry_input_parse(data, size, "fuzz", &in, &d);
    if (e && d.total == 0) abort();
    if (e == PREP_OK) roundtrip(&in);
    prep_diags vd;
    prep_diags_init(&vd);
    if (prep_registry_input_validate(&in, &vd) != PREP_OK && vd.total == 0) abort();
    /* The same input with the password replaced by a sentinel of the same length: a
     * message that quotes the password would quote the sentinel. The password's own text
     * may still occur in a message by chance ("ftps" in the fixed words "ftps-url"); that
     * is not an echo when the sentinel run prints it too. */
    if (in.ftp_password && strlen(in.ftp_password) >= 4) {
        char *real = in.ftp_password;
        size_t n = strlen(real);
        char *sent = malloc(n + 1);
        if (!sent) abort();
        for (size_t i = 0; i < n; i++) sent[i] = "Zq7#"[i % 4];
        sent[n] = 0;
        in.ftp_password = sent;
        prep_diags sd;
        prep_diags_init(&sd);
        (void)prep_registry_input_validate(&in, &sd);
        in.ftp_password = real;
        int sent_elsewhere = 0; /* the sentinel's text in a plain field: cannot tell */
        for (int f = 0; f < PREP_REGISTRY_NFIELDS; f++)
            if (in.v[f] && strstr(in.v[f], sent)) sent_elsewhere = 1;
        if ((in.id && strstr(in.id, sent)) || (in.logo && strstr(in.logo, sent))) sent_elsewhere = 1;
        for (size_t i = 0; i < sd.n && !sent_elsewhere; i++)
            if (strstr(sd.v[i].msg, sent)) abort();
        if (sd.n == vd.n)
            for (size_t i = 0; i < vd.n; i++)
                if (strstr(vd.v[i].msg, real) && !strstr(sd.v[i].msg, real)) {
                    int also = 0; /* unless a plain field holds the same text */
                    for (int f = 0; f < PREP_REGISTRY_NFIELDS; f++)
                        if (in.v[f] && strstr(in.v[f], real)) also = 1;
                    if ((in.id && strstr(in.id, real)) || (in.logo && strstr(in.logo, real))) also = 1;
                    if (!also) abort();
                }
        prep_diags_free(&sd);
        free(sent);
    }
    prep_diags_free(&vd);
    prep_registry_input_free(&in);
    prep_diags_free(&d);

    /* the raw bytes as one value (up to the first NUL, at most 4 KiB) */
    size_t n = size < 4096 ? size : 4096;
    char *s = malloc(n + 1);
    if (!s) return 0;
    memcpy(s, data, n);
    s[n] = 0;
    shapes(s);
    free(s);
    const char *type, *why;
    if (prep_registry_check_logo(data, size, &type, &why) == 0 && strcmp(type, "image/png") && strcmp(type, "image/svg+xml"))
        abort();
    return 0;
}
