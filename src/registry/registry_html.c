/* prep registry: logos, the Anexo 2 commitment letter and the public roster of official
 * broadcasters (signed like a cut). docs/registry.md. */
#include <stdlib.h>
#include <string.h>

#include "prep/cut.h"
#include "prep/registry.h"
#include "registry_internal.h"

/* ---------------------------------------------------------------- logos */
static int has_ci(const unsigned char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++) {
        size_t j = 0;
        while (j < k) {
            unsigned char c = p[i + j];
            if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
            if (c != (unsigned char)needle[j]) break;
            j++;
        }
        if (j == k) return 1;
    }
    return 0;
}

int prep_registry_check_logo(const unsigned char *p, size_t n, const char **type, const char **why)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n == 0) {
        *why = "is empty";
        return -1;
    }
    if (n > PREP_REGISTRY_LOGO_MAX) {
        *why = "is larger than 512 KiB";
        return -1;
    }
    if (n >= 8 && !memcmp(p, png, 8)) {
        /* the first chunk must be IHDR */
        if (n < 33 || memcmp(p + 12, "IHDR", 4)) {
            *why = "is a truncated PNG (no IHDR chunk)";
            return -1;
        }
        *type = "image/png";
        return 0;
    }
    if (!prep_utf8_valid((const char *)p, n) || memchr(p, 0, n)) {
        *why = "is neither a PNG nor an SVG image";
        return -1;
    }
    if (!has_ci(p, n, "<svg")) {
        *why = "is neither a PNG nor an SVG image (no <svg> element)";
        return -1;
    }
    static const char *const banned[] = {"<script", "javascript:", "<foreignobject", "@import", "href=\"http",
                                         "href='http", "url(http", "url(\"http", "url('http", "<!entity"};
    for (size_t i = 0; i < PREP_ARRAY_LEN(banned); i++)
        if (has_ci(p, n, banned[i])) {
            *why = "is an SVG with a script or an external reference (the roster makes no outside requests)";
            return -1;
        }
    /* event handler attributes: " onload=", "\tonclick=" ... */
    for (size_t i = 1; i + 3 < n; i++) {
        unsigned char b = p[i - 1];
        if ((b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '/') && (p[i] == 'o' || p[i] == 'O') &&
            (p[i + 1] == 'n' || p[i + 1] == 'N')) {
            size_t j = i + 2;
            while (j < n && ((p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z'))) j++;
            while (j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\n' || p[j] == '\r')) j++;
            if (j > i + 2 && j < n && p[j] == '=') {
                *why = "is an SVG with an event handler attribute (on...=)";
                return -1;
            }
        }
    }
    *type = "image/svg+xml";
    return 0;
}

prep_err prep_registry_logo_load(const char *path, prep_registry_logo *out, prep_diags *d)
{
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t len = 0;
    prep_err e = prep_read_file(path, PREP_REGISTRY_LOGO_MAX, &data, &len);
    if (e == PREP_ERR_LIMIT) {
        prep_diags_add(d, "logo", 0, 0, "invalid-field", "--logo '%.200s' is larger than %u bytes", path,
                       PREP_REGISTRY_LOGO_MAX);
        return PREP_ERR_INVALID;
    }
    if (e) {
        prep_diags_add(d, "logo", 0, 0, "invalid-field", "--logo '%.200s' cannot be read", path);
        return PREP_ERR_INVALID;
    }
    const char *type = NULL, *why = NULL;
    if (prep_registry_check_logo((const unsigned char *)data, len, &type, &why)) {
        prep_diags_add(d, "logo", 0, 0, "invalid-field", "--logo '%.200s' %s", path, why);
        free(data);
        return PREP_ERR_INVALID;
    }
    out->data = (unsigned char *)data;
    out->len = len;
    snprintf(out->type, sizeof out->type, "%s", type);
    prep_sha256_hex(data, len, out->sha256);
    return PREP_OK;
}

/* ---------------------------------------------------------------- HTML */
prep_err prep_registry_html_escape(prep_buf *out, const char *s)
{
    prep_err e = PREP_OK;
    for (; *s && !e; s++) {
        switch (*s) {
        case '&': e = prep_buf_puts(out, "&amp;"); break;
        case '<': e = prep_buf_puts(out, "&lt;"); break;
        case '>': e = prep_buf_puts(out, "&gt;"); break;
        case '"': e = prep_buf_puts(out, "&quot;"); break;
        case '\'': e = prep_buf_puts(out, "&#39;"); break;
        default: e = prep_buf_putc(out, *s);
        }
    }
    return e;
}

static prep_err base64(prep_buf *out, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    prep_err e = prep_buf_reserve(out, (n + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < n && !e; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=', i + 2 < n ? t[v & 63] : '='};
        e = prep_buf_append(out, q, 4);
    }
    return e;
}

/* "6 de junio de 2021" */
static void date_es(prep_time t, const char *zone, char *out, size_t outsz)
{
    char b[96];
    if (prep_time_format(t, zone, PREP_TS_HUMAN, b, sizeof b)) {
        snprintf(out, outsz, "____ de __________ de ____");
        return;
    }
    char *c = strchr(b, ',');
    if (c) *c = 0;
    snprintf(out, outsz, "%s", b);
}

static const char LETTER_CSS[] =
    "@page{size:letter;margin:2.5cm 2.5cm 2cm 2.5cm}\n"
    "body{font-family:Georgia,'Times New Roman',serif;font-size:12pt;line-height:1.5;color:#000;max-width:17cm;"
    "margin:1cm auto}\n"
    "h1{font-size:13pt;text-align:center;margin:0 0 .2em}\n"
    "p.anexo{text-align:center;font-weight:bold;margin:0}\n"
    "p.fecha{text-align:right;margin:2em 0}\n"
    "p.destinatario{margin:0}\n"
    "p.cuerpo{text-align:justify;margin:1.5em 0}\n"
    "div.firma{margin-top:4em;text-align:center}\n"
    "div.firma .linea{border-top:1px solid #000;width:8cm;margin:3em auto .3em}\n"
    "p.nota{font-size:9pt;margin-top:4em}\n"
    "@media print{body{margin:0;max-width:none}}\n";

prep_err prep_registry_letter(prep_registry *r, const char *id, prep_time date, prep_buf *out, prep_diags *d)
{
    prep_registry_settings set;
    prep_err e = prep_registry_settings_get(r, &set, d);
    if (e) return e;
    prep_registry_difusor df;
    if ((e = prep_registry_get(r, id, &df, d))) return e;
    char fecha[96];
    date_es(date, set.zone, fecha, sizeof fecha);
    const char *name = df.v[PREP_REGISTRY_F_name], *legal = df.v[PREP_REGISTRY_F_legal_name];
    e = prep_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"es\">\n<head>\n<meta charset=\"utf-8\">\n"
                           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                           "style-src 'unsafe-inline'\">\n<title>Carta compromiso: ");
    if (!e) e = prep_registry_html_escape(out, name);
    if (!e) e = prep_buf_printf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", LETTER_CSS);
    if (!e) e = prep_buf_puts(out, "<p class=\"anexo\">Anexo 2</p>\n<h1>Carta Compromiso</h1>\n<p class=\"fecha\">"
                                   "Santiago de Querétaro, Qro., ");
    if (!e) e = prep_registry_html_escape(out, fecha);
    if (!e)
        e = prep_buf_puts(out,
                          ".</p>\n<p class=\"destinatario\"><strong>Lic. José Eugenio Plascencia Zarazúa</strong><br>\n"
                          "Presidente de la Comisión Transitoria del Programa de Resultados Electorales "
                          "Preliminares 2020-2021.<br>\n<strong>PRESENTE.</strong></p>\n<p class=\"cuerpo\">"
                          "Por este medio, el (la) <strong>");
    if (!e) e = prep_registry_html_escape(out, name);
    if (!e)
        e = prep_buf_puts(
            out, "</strong> manifiesta su compromiso de apegarse y cumplir con los requisitos establecidos por el IEEQ "
                 "para participar en la difusión a la ciudadanía de los Resultados Electorales Preliminares de las "
                 "elecciones de gubernatura, ayuntamientos y diputaciones locales del estado de Querétaro para el "
                 "Proceso Electoral Local 2020 - 2021 y en el instrumento jurídico que para tal efecto se suscriba. "
                 "Del mismo modo expreso el compromiso de garantizar que el acceso a la información será, veraz, "
                 "seguro, público y gratuito, y que se cuenta con los mecanismos que permitan preservar la "
                 "confiabilidad, integridad y disponibilidad de la información publicada; así como a actuar bajo los "
                 "principios que rigen la función electoral de certeza, imparcialidad, independencia, legalidad, "
                 "máxima publicidad y objetividad.</p>\n<div class=\"firma\">\n<p>Atentamente</p>\n"
                 "<div class=\"linea\"></div>\n<p><strong>");
    if (!e) e = prep_registry_html_escape(out, legal);
    if (!e) e = prep_buf_puts(out, "</strong><br>\nRepresentante legal<br>\n");
    if (!e) e = prep_registry_html_escape(out, name);
    if (!e)
        e = prep_buf_puts(out, "</p>\n</div>\n<p class=\"nota\">Nota.- Imprimir en hoja membretada y presentar con la "
                               "carta de intención en formato libre y el Formato de Registro en la Oficialía de "
                               "Partes del Instituto Electoral del Estado de Querétaro.</p>\n</body>\n</html>\n");
    prep_registry_difusor_free(&df);
    return e;
}

/* ---------------------------------------------------------------- roster */
static const char ROSTER_CSS[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1a1a1a;background:#fff}\n"
    "header,main,footer{max-width:60rem;margin:0 auto;padding:1rem}\n"
    "h1{font-size:1.6rem;margin:.5rem 0}\n"
    "ul.difusores{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));"
    "gap:1rem}\n"
    "ul.difusores li{border:1px solid #ccc;border-radius:.5rem;padding:1rem;text-align:center}\n"
    "ul.difusores img{max-width:100%;height:6rem;object-fit:contain;display:block;margin:0 auto .5rem}\n"
    "ul.difusores a{color:#0b4f8a}\n"
    "ul.difusores a:focus{outline:3px solid #f5a623;outline-offset:2px}\n"
    "li.bloqueado{background:#f4f4f4;color:#555}\n"
    "li.bloqueado img{filter:grayscale(1);opacity:.5}\n"
    ".estado{display:inline-block;margin-top:.3rem;padding:.1rem .5rem;border-radius:.3rem;background:#8b0000;"
    "color:#fff;font-weight:bold}\n";

static int on_roster(const prep_registry_difusor *df)
{
    if (df->status == PREP_REGISTRY_APPROVED || df->status == PREP_REGISTRY_ACTIVE) return 1;
    return df->status == PREP_REGISTRY_BLOCKED &&
           (df->before_block == PREP_REGISTRY_APPROVED || df->before_block == PREP_REGISTRY_ACTIVE);
}

static prep_err logo_img(prep_buf *out, const prep_registry_difusor *df)
{
    prep_err e = prep_buf_printf(out, "<img src=\"data:%s;base64,", df->logo_type);
    if (!e) e = base64(out, df->logo, df->logo_len);
    if (!e) e = prep_buf_puts(out, "\" alt=\"Logotipo de ");
    if (!e) e = prep_registry_html_escape(out, df->v[PREP_REGISTRY_F_name]);
    if (!e) e = prep_buf_puts(out, "\">");
    return e;
}

prep_err prep_registry_roster_html(prep_registry *r, prep_time now, prep_buf *out, prep_diags *d)
{
    prep_registry_settings set;
    prep_err e = prep_registry_settings_get(r, &set, d);
    if (e) return e;
    prep_registry_difusor *v;
    size_t n;
    if ((e = prep_registry_list_logos(r, &v, &n, d))) return e;
    char stamp[96];
    if (prep_time_format(now, set.zone, PREP_TS_HUMAN, stamp, sizeof stamp)) snprintf(stamp, sizeof stamp, "?");
    e = prep_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"es\">\n<head>\n<meta charset=\"utf-8\">\n"
                           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
                           "style-src 'unsafe-inline'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
                           "<title>Difusores oficiales del PREP</title>\n<style>\n");
    if (!e) e = prep_buf_puts(out, ROSTER_CSS);
    if (!e)
        e = prep_buf_puts(out, "</style>\n</head>\n<body>\n<header>\n<h1>Difusores oficiales del Programa de "
                               "Resultados Electorales Preliminares</h1>\n<p>Lista actualizada al <time datetime=\"");
    char iso[40];
    if (!e && prep_time_format(now, set.zone, PREP_TS_ISO_OFF, iso, sizeof iso) == 0) e = prep_buf_puts(out, iso);
    if (!e) e = prep_buf_puts(out, "\">");
    if (!e) e = prep_registry_html_escape(out, stamp);
    if (!e)
        e = prep_buf_puts(out, "</time>. Cada logotipo lleva al sitio donde el difusor publica los resultados "
                               "preliminares. Un difusor bloqueado ya no recibe la información del Instituto.</p>\n"
                               "</header>\n<main>\n");
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) shown += on_roster(&v[i]) ? 1 : 0;
    if (!e && !shown) e = prep_buf_puts(out, "<p>Aún no hay difusores oficiales aprobados.</p>\n");
    if (!e && shown) e = prep_buf_puts(out, "<ul class=\"difusores\">\n");
    for (size_t i = 0; i < n && !e; i++) {
        const prep_registry_difusor *df = &v[i];
        if (!on_roster(df)) continue;
        const char *name = df->v[PREP_REGISTRY_F_name];
        if (df->status == PREP_REGISTRY_BLOCKED) {
            e = prep_buf_puts(out, "<li class=\"bloqueado\">");
            if (!e && df->logo) e = logo_img(out, df);
            if (!e) e = prep_buf_puts(out, "<span>");
            if (!e) e = prep_registry_html_escape(out, name);
            if (!e) e = prep_buf_puts(out, "</span><br><span class=\"estado\">Bloqueado</span></li>\n");
        } else {
            e = prep_buf_puts(out, "<li><a href=\"");
            if (!e) e = prep_registry_html_escape(out, df->v[PREP_REGISTRY_F_publication_url]);
            if (!e) e = prep_buf_puts(out, "\" rel=\"noopener\">");
            if (!e && df->logo) e = logo_img(out, df);
            if (!e) e = prep_buf_puts(out, "<span>");
            if (!e) e = prep_registry_html_escape(out, name);
            if (!e) e = prep_buf_puts(out, "</span></a></li>\n");
        }
    }
    if (!e && shown) e = prep_buf_puts(out, "</ul>\n");
    if (!e)
        e = prep_buf_puts(out, "</main>\n<footer>\n<p>Esta página está firmada como un corte del PREP: "
                               "<a href=\"SHA256SUMS\">SHA256SUMS</a> y <a href=\"SHA256SUMS.sig\">SHA256SUMS.sig</a> "
                               "se verifican con <code>signify -V</code> y <code>sha256sum -c</code>.</p>\n"
                               "</footer>\n</body>\n</html>\n");
    prep_registry_difusor_list_free(v, n);
    return e;
}

prep_err prep_registry_roster(prep_registry *r, const char *out, const prep_cut_seckey *key, int drill, prep_time now,
                              uint64_t *seq, prep_diags *d)
{
    prep_registry_settings set;
    prep_err e = prep_registry_settings_get(r, &set, d);
    if (e) return e;
    size_t ol = strlen(out);
    while (ol > 1 && out[ol - 1] == '/') ol--;
    if (ol == 0) return PREP_ERR_USAGE;
    char *store = prep_xmalloc(ol + 8);
    snprintf(store, ol + 8, "%.*s.store", (int)ol, out);
    char process[PREP_CUT_PROCESS_MAX + 1];
    snprintf(process, sizeof process, "%.54s-difusores", set.process);
    prep_buf html;
    prep_buf_init(&html, 256u * 1024 * 1024);
    e = prep_registry_roster_html(r, now, &html, d);
    if (!e) {
        prep_cut_file f;
        memset(&f, 0, sizeof f);
        f.path = "index.html";
        f.data = html.data;
        f.len = html.len;
        prep_cut_params p;
        prep_cut_params_init(&p);
        p.process = process;
        p.instant = now;
        p.zone = set.zone;
        p.mode = drill ? PREP_CUT_DRILL : PREP_CUT_LIVE;
        p.valid_for = 366 * 86400; /* the roster stays current until the next one */
        e = prep_cut_make(store, &p, &f, 1, key, seq, d);
    }
    if (!e) {
        prep_cut_export_opts o;
        prep_cut_export_opts_init(&o);
        char *o_out = prep_xstrndup(out, ol);
        e = prep_cut_export(store, o_out, &o, d);
        free(o_out);
    }
    prep_buf_free(&html);
    free(store);
    return e;
}
