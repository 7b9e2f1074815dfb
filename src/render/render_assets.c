/* render: the two assets — one stylesheet (with the catalogue's party colours as classes)
 * and one small script that only offers "hay un corte nuevo". Both are published under
 * assets/ with their content hash in the name (render_site.c). No web fonts, no images.
 *
 * Colours: body text #1a1a1a on #fff (17:1); links #0b4f9c (8:1); secondary text #444
 * (9.7:1); the drill banner white on #8a1c00 (9:1); the notices #1a1a1a on #fff8e6.
 * Party colours never sit behind text: they fill swatches and bars (with a dark border). */
#include <string.h>

#include "render_internal.h"

static const char css_base[] =
    "*{box-sizing:border-box}"
    "html{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif;"
    "line-height:1.45;color:#1a1a1a;background:#fff}"
    /* the stamp (.sello) follows the page's body in the file and shows below the header */
    "body{margin:0;display:flex;flex-direction:column}main,footer{order:1}"
    /* until the stamp is parsed the body is not shown, so the stamp never pushes it down
     * (no layout shift); a browser without :has() shows it at once */
    "body:not(:has(>.sello))>main{visibility:hidden}"
    "a{color:#0b4f9c}"
    ":focus-visible{outline:3px solid #0b4f9c;outline-offset:2px}"
    "a:focus{outline:3px solid #0b4f9c;outline-offset:2px}"
    ".salto{position:absolute;left:-9999px;top:0;background:#fff;padding:.5rem;z-index:9}"
    ".salto:focus{left:.5rem}"
    "header{background:#f2f4f7;padding:.5rem 1rem 0}"
    ".sello{background:#f2f4f7;border-bottom:1px solid #c9ced6;padding:0 1rem .5rem}"
    ".sitio{margin:0;font-weight:600}"
    ".corte{display:flex;flex-wrap:wrap;gap:.1rem 1rem;align-items:baseline;margin:.25rem 0}"
    ".prelim{margin:0;font-weight:700;text-transform:uppercase;letter-spacing:.03em}"
    ".hora{margin:0;font-size:1.3rem}"
    ".inicio .hora{font-size:2.1rem}"
    ".emb.inicio .hora{font-size:1.6rem}"
    ".simulacro{margin:0 0 .5rem;padding:.5rem 1rem;background:#8a1c00;color:#fff;font-weight:700;"
    "font-size:1.3rem;text-align:center;letter-spacing:.05em}"
    ".aviso{padding:.5rem;margin:.5rem 0;border:2px solid #8a5a00;background:#fff8e6}"
    ".avisos{position:fixed;left:0;right:0;bottom:0;z-index:8}.avisos .aviso{margin:0}"
    /* while one shows, the page's end and a focused element are not left under it (2.4.11) */
    "html:has(.avisos>:not([hidden])){scroll-padding-bottom:9rem}"
    "body:has(.avisos>:not([hidden])){padding-bottom:9rem}"
    "[hidden]{display:none!important}"
    ".nw{white-space:nowrap}"
    "nav ul{list-style:none;margin:.25rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}"
    "nav a[aria-current]{font-weight:700}"
    "main{display:block;padding:1rem;width:100%;max-width:74rem;margin:0 auto}"
    ".ruta ol{list-style:none;padding:0;margin:0 0 .5rem;display:flex;flex-wrap:wrap}"
    ".ruta li+li:before{content:\"\\203A\";padding:0 .4rem;color:#444}"
    "h1{font-size:1.6rem;margin:.25rem 0 .75rem}"
    "h2{font-size:1.25rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #c9ced6}"
    "h3{font-size:1.05rem;margin:1rem 0 .4rem}"
    /* tables shrink to the screen (no scrolling region): long names and field names wrap */
    "table{border-collapse:collapse;margin:.5rem 0;max-width:100%}"
    /* captions name every table for assistive technology; the h2 above says the same */
    "caption{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
    /* a number, a percentage or a heading's word never breaks inside (issue 16): figures
     * do not wrap at all, headings wrap between words only, names wrap where they must */
    "th,td{padding:.2rem .5rem;border-bottom:1px solid #d5d9e0;text-align:left;vertical-align:top}"
    "tbody th,td.t{overflow-wrap:break-word}"
    "td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.t{text-align:left;white-space:normal}"
    "thead th{border-bottom:2px solid #555}"
    "tfoot th,tfoot td{font-weight:700;border-top:2px solid #555}"
    ".sw{display:inline-block;width:.85em;height:.85em;margin-right:.35em;border:1px solid #333;"
    "vertical-align:-.05em}"
    ".ci{background:" RENDER_INDEP_COLOR "}"
    ".cx{background:#fff}"
    ".ce{background:#9AA0A8}"
    ".cn{background:#E6E9EE}"
    ".leyenda{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}"
    "svg a:focus path{stroke:#000;stroke-width:4}"
    "figure{margin:.5rem 0 1rem}"
    /* the progress chart: full width on a phone, at most 480 px; its table scrolls in its own box */
    "figure.avance{max-width:30rem}"
    ".avance-t{overflow-x:auto;font-size:.875rem}.avance-t th,.avance-t td{overflow-wrap:normal}"
    ".avance-t td,.avance-t tbody th{white-space:nowrap}"
    "svg{max-width:100%;height:auto}"
    ".res{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.5rem;margin:0 0 1rem}"
    ".res div{border:1px solid #d5d9e0;padding:.4rem .6rem}"
    ".res dt{font-size:.9rem;color:#444}"
    ".res dd{margin:0;font-size:1.2rem;font-weight:700}"
    ".elecciones{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));gap:1rem}"
    ".elecciones>section{border:1px solid #c9ced6;padding:0 .75rem .75rem}"
    ".elecciones ol{padding-left:1.2rem}"
    ".acta{border:1px solid #d5d9e0;padding:0 .75rem .5rem;margin:.75rem 0}"
    ".acta dl{display:grid;grid-template-columns:minmax(0,max-content) minmax(0,1fr);gap:.1rem .75rem;"
    "margin:.25rem 0}"
    ".acta dt,.acta dd{overflow-wrap:anywhere}"
    /* targets of at least 24x24 px (WCAG 2.2 2.5.8) where a link is not inside a sentence */
    "nav a,th a,footer a,.ligas a{display:inline-block;min-width:24px;min-height:24px;padding:.1rem 0}"
    /* phones (issue 16): tighter margins; the tables of units (.un: districts, municipalities,
     * sections) become one block per unit, its name on the first line and each figure,
     * named, after it; the column headings stay in the markup for screen readers */
    "@media (max-width:30rem){.acta dl{grid-template-columns:minmax(0,1fr)}.acta dd{margin-bottom:.3rem}"
    "main{padding:1rem .5rem}table{font-size:.875rem}th,td{padding:.2rem .25rem}"
    ".un thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
    ".un,.un tbody{display:block}"
    ".un tr{display:flex;flex-wrap:wrap;gap:0 1rem;border-bottom:1px solid #d5d9e0;padding:.2rem 0}"
    ".un th,.un td{display:block;border:0;padding:0;text-align:left}"
    ".un th{flex-basis:100%}"
    /* the night's progress table likewise: one block per cut, each figure after its name */
    ".avance-t{overflow-x:visible}.avance-t table,.avance-t tbody{display:block}"
    ".avance-t thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
    ".avance-t tr{display:flex;flex-wrap:wrap;gap:0 1rem;border-bottom:1px solid #d5d9e0;padding:.2rem 0}"
    ".avance-t th,.avance-t td{display:block;border:0;padding:0}.avance-t tbody th{flex-basis:100%}"
    ".avance-t td:before{content:attr(data-l) \" \";color:#444}"
    /* a municipality has hundreds of sections: rows off screen are laid out when scrolled to */
    ".un tr{content-visibility:auto;contain-intrinsic-size:auto 4.5rem}"
    ".un td:before{color:#444;font-weight:400}"
    /* cells counted from the end: [Casillas] Actas Participación Encabeza */
    ".un td:nth-last-child(4):before{content:\"Casillas \"}"
    ".un td:nth-last-child(3):before{content:\"Actas \"}"
    ".un td:nth-last-child(2):before{content:\"Participaci\\F3n \"}"
    ".un td:last-child:before{content:\"Encabeza: \"}"
    "}"
    ".acta dt{color:#444}"
    ".acta dd{margin:0}"
    "code{word-break:break-all;font-size:.9em}"
    ".nota{font-size:.9rem;color:#444}"
    "footer{border-top:1px solid #c9ced6;padding:1rem;font-size:.9rem;color:#333}"
    ".emb header{padding:.25rem .5rem 0}.emb .sello{padding:0 .5rem .25rem}"
    ".emb main{padding:.5rem}"
    "pre{white-space:pre-wrap;word-break:break-all;background:#f2f4f7;padding:.5rem}";

void css_write(const prep_catalog *c, rbuf *r)
{
    rb_puts(r, css_base);
    for (uint32_t p = 0; p < c->n_parties; p++)
        rb_printf(r, ".c%u{background:%s}", p, c->parties[p].color);
    rb_puts(r, "\n");
}

/* The "hay un corte nuevo" script (docs/formats/site.md, "The corte nuevo protocol").
 * At load and every 60 s while the page is visible it fetches ROOT/corte.json without
 * cache and, when its "corte" is greater than the data-corte of the page's stamp (.corte),
 * shows the prepared notice; when the response's Date (the server's clock, not the
 * reader's) is past the page's data-vigente-hasta it shows the "desactualizado" notice.
 * The server never edits a signed page to do this. */
static const char js_src[] =
    "(function(){\"use strict\";"
    "var h=document.documentElement,c=document.querySelector(\".corte[data-corte]\"),"
    "n=c?+c.getAttribute(\"data-corte\"):0,"
    "r=h.getAttribute(\"data-raiz\")||\"\",b=document.getElementById(\"corte-nuevo\"),"
    "s=document.getElementById(\"desactualizado\"),"
    "v=s?Date.parse(s.getAttribute(\"data-vigente-hasta\")||\"\"):NaN,t;"
    "if(!b||!window.fetch||!n)return;"
    "function f(){if(document.hidden)return;"
    "fetch(r+\"corte.json\",{cache:\"no-store\",credentials:\"omit\"})"
    ".then(function(x){var d=Date.parse(x.headers.get(\"date\")||\"\");if(s&&d>v)s.hidden=false;"
    "return x.ok?x.json():null})"
    ".then(function(j){if(j&&typeof j.corte===\"number\"&&j.corte>n){b.hidden=false;clearInterval(t)}})"
    "[\"catch\"](function(){})}"
    "t=setInterval(f,60000);f()})();\n";

const char *js_text(size_t *len)
{
    *len = sizeof js_src - 1;
    return js_src;
}
