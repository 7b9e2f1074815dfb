/* render: inline SVG figures, drawn here (no library, no external file). Every figure is
 * role="img" with a <title> and a <desc>, and the page shows the same numbers in a table
 * (the figure only restates them). Colours fill bars with a dark border, never sit behind
 * text. No xmlns attribute: inline SVG in HTML does not need one, and the publication
 * holds no URL of another origin. */
#include <string.h>

#include "render_internal.h"

#define BAR_W 640
#define BAR_LABEL_X 170 /* labels end here (text-anchor end) */
#define BAR_X 176
#define BAR_MAX 300
#define ROW_H 24
#define STR_(x) #x
#define STR(x) STR_(x) /* a constant in the markup, as text */
#define LABEL_MAX 26 /* bytes of a label drawn in a chart (the table has the whole text) */

/* Writes at most max bytes of s, cut at a UTF-8 boundary, with "…" when cut. */
static void esc_trunc(rbuf *r, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) {
        rb_esc(r, s);
        return;
    }
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    char tmp[LABEL_MAX + 8];
    if (k >= sizeof tmp) k = sizeof tmp - 1;
    memcpy(tmp, s, k);
    tmp[k] = 0;
    rb_esc(r, tmp);
    rb_puts(r, "\xE2\x80\xA6");
}

static void svg_open(rctx *x, rbuf *r, int w, int h, const char *title, const char *desc_fmt_title)
{
    unsigned id = ++x->chart_no;
    /* w, h >= 0: the charts' sizes */
    rb_puts(r, "<figure><svg viewBox=\"0 0 ");
    rb_uint(r, (unsigned)w);
    rb_puts(r, " ");
    rb_uint(r, (unsigned)h);
    rb_puts(r, "\" width=\"");
    rb_uint(r, (unsigned)w);
    rb_puts(r, "\" height=\"");
    rb_uint(r, (unsigned)h);
    rb_puts(r, "\" role=\"img\" aria-labelledby=\"g");
    rb_uint(r, id);
    rb_puts(r, "t g");
    rb_uint(r, id);
    rb_puts(r, "d\" font-family=\"sans-serif\" font-size=\"13\"><title id=\"g");
    rb_uint(r, id);
    rb_puts(r, "t\">");
    rb_esc(r, title);
    rb_puts(r, "</title><desc id=\"g");
    rb_uint(r, id);
    rb_puts(r, "d\">");
    rb_esc(r, desc_fmt_title);
    rb_puts(r, "</desc>");
}

static void svg_close(rbuf *r)
{
    rb_puts(r, "</svg></figure>");
}

void svg_bars(rctx *x, rbuf *r, const char *title, const rbar *bars, size_t n, int64_t total)
{
    if (x->lean) return;
    if (!n) return;
    int64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (bars[i].value > max) max = bars[i].value;
    int h = (int)n * ROW_H + 6;
    svg_open(x, r, BAR_W, h, title, "Gráfica de barras horizontales; las mismas cifras están en la tabla anterior.");
    for (size_t i = 0; i < n; i++) {
        int y = (int)i * ROW_H + 4;
        int w = max > 0 ? (int)((bars[i].value * BAR_MAX) / max) : 0;
        if (bars[i].value > 0 && w < 1) w = 1;
        /* y, w >= 0 */
        rb_puts(r, "<text x=\"" STR(BAR_LABEL_X) "\" y=\"");
        rb_uint(r, (unsigned)(y + 13));
        rb_puts(r, "\" text-anchor=\"end\">");
        esc_trunc(r, bars[i].label, LABEL_MAX);
        rb_puts(r, "</text>");
        if (w > 0) {
            rb_puts(r, "<rect x=\"" STR(BAR_X) "\" y=\"");
            rb_uint(r, (unsigned)y);
            rb_puts(r, "\" width=\"");
            rb_uint(r, (unsigned)w);
            rb_puts(r, "\" height=\"16\" fill=\"");
            rb_puts(r, bars[i].color);
            rb_puts(r, "\" stroke=\"#333\"/>");
        }
        rb_puts(r, "<text x=\"");
        rb_uint(r, (unsigned)(BAR_X + w + 6));
        rb_puts(r, "\" y=\"");
        rb_uint(r, (unsigned)(y + 13));
        rb_puts(r, "\">");
        rb_int(r, bars[i].value);
        rb_puts(r, " (");
        rb_pct(r, bars[i].value, total, x->dec);
        rb_puts(r, ")</text>");
    }
    svg_close(r);
}

void svg_actas(rctx *x, rbuf *r, const prep_tally_agg *a)
{
    if (x->lean) return;
    int64_t esp = a->esperadas, cont = a->contabilizadas, cap_nc = (int64_t)a->capturadas - a->contabilizadas;
    int64_t pend = esp - a->capturadas;
    if (pend < 0) pend = 0;
    int wc = esp ? (int)(cont * 600 / esp) : 0;
    int wn = esp ? (int)(cap_nc * 600 / esp) : 0;
    svg_open(x, r, BAR_W, 52, "Avance de actas",
             "Barra de actas contabilizadas, capturadas sin contabilizar y pendientes sobre las esperadas; "
             "las cifras están en la tabla de actas.");
    rb_puts(r, "<rect x=\"1\" y=\"1\" width=\"600\" height=\"20\" fill=\"#e6e9ee\" stroke=\"#333\"/>");
    if (wc) rb_printf(r, "<rect x=\"1\" y=\"1\" width=\"%d\" height=\"20\" fill=\"#0b4f9c\"/>", wc);
    if (wn) rb_printf(r, "<rect x=\"%d\" y=\"1\" width=\"%d\" height=\"20\" fill=\"#7a9cc6\"/>", 1 + wc, wn);
    rb_puts(r, "<text x=\"1\" y=\"40\">Contabilizadas ");
    rb_int(r, cont);
    rb_puts(r, " \xC2\xB7 capturadas sin contabilizar ");
    rb_int(r, cap_nc);
    rb_puts(r, " \xC2\xB7 pendientes ");
    rb_int(r, pend);
    rb_puts(r, "</text>");
    svg_close(r);
}

void svg_participation(rctx *x, rbuf *r, int64_t num, int64_t den)
{
    if (x->lean) return;
    int w = den > 0 ? (int)((num > den ? den : num) * 600 / den) : 0;
    svg_open(x, r, BAR_W, 52, "Participación ciudadana",
             "Barra del porcentaje de participación sobre la lista nominal de las actas contabilizadas; "
             "la cifra está en el resumen.");
    rb_puts(r, "<rect x=\"1\" y=\"1\" width=\"600\" height=\"20\" fill=\"#e6e9ee\" stroke=\"#333\"/>");
    if (w) rb_printf(r, "<rect x=\"1\" y=\"1\" width=\"%d\" height=\"20\" fill=\"#0b4f9c\"/>", w);
    rb_puts(r, "<text x=\"1\" y=\"40\">Participación ");
    rb_pct(r, num, den, x->dec);
    rb_puts(r, " de la lista nominal de actas contabilizadas</text>");
    svg_close(r);
}

int map_available(const prep_catalog *c)
{
    if (!c->has_map || !c->municipality_shape) return 0;
    for (uint32_t m = 0; m < c->n_municipalities; m++)
        if (c->municipality_shape[m]) return 1;
    return 0;
}
