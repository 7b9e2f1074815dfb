/* How a complete file of a kind ends (cut_end_*): what prep cut --from checks so that a
 * file cut short while being copied (a page that stops mid-table, a JSON without its last
 * brace, an image without its trailer) is not signed and published. */
#include <string.h>

#include "cut_internal.h"

static int ext_is(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    if (n <= e + 1 || path[n - e - 1] != '.') return 0; /* a name, then the extension */
    for (size_t i = 0; i < e; i++) {
        char c = path[n - e + i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != ext[i]) return 0;
    }
    return 1;
}

cut_end_kind cut_end_kind_of(const char *path)
{
    static const struct {
        const char *ext;
        cut_end_kind k;
    } map[] = {
        {"html", CUT_END_HTML}, {"htm", CUT_END_HTML}, {"svg", CUT_END_SVG},   {"json", CUT_END_JSON},
        {"geojson", CUT_END_JSON}, {"csv", CUT_END_LINE}, {"tsv", CUT_END_LINE}, {"txt", CUT_END_LINE},
        {"md", CUT_END_LINE},    {"png", CUT_END_PNG},  {"jpg", CUT_END_JPEG},  {"jpeg", CUT_END_JPEG},
        {"pdf", CUT_END_PDF},    {"zip", CUT_END_ZIP},  {"xlsx", CUT_END_ZIP},  {"docx", CUT_END_ZIP},
    };
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (ext_is(name, map[i].ext)) return map[i].k;
    return CUT_END_NONE;
}

const char *cut_end_name(cut_end_kind k)
{
    switch (k) {
    case CUT_END_HTML: return "</html>";
    case CUT_END_SVG: return "</svg>";
    case CUT_END_JSON: return "a closing } or ]";
    case CUT_END_LINE: return "a line end";
    case CUT_END_PNG: return "PNG's IEND chunk";
    case CUT_END_JPEG: return "JPEG's end marker";
    case CUT_END_PDF: return "%%EOF";
    case CUT_END_ZIP: return "ZIP's end of central directory";
    case CUT_END_NONE:
    case CUT_END_KINDS: break;
    }
    return "";
}

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

/* t[0..n) without its trailing ASCII white space ends with tag, case aside */
static int ends_with_tag(const unsigned char *t, size_t n, const char *tag)
{
    while (n && is_space(t[n - 1])) n--;
    size_t k = strlen(tag);
    if (n < k) return 0;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = t[n - k + i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)tag[i]) return 0;
    }
    return 1;
}

static int contains(const unsigned char *t, size_t n, const char *s, size_t k, size_t after)
{
    for (size_t i = 0; i + k + after <= n; i++)
        if (!memcmp(t + i, s, k)) return 1;
    return 0;
}

int cut_end_ok(cut_end_kind k, const unsigned char *tail, size_t n)
{
    switch (k) {
    case CUT_END_HTML: return ends_with_tag(tail, n, "</html>");
    case CUT_END_SVG: return ends_with_tag(tail, n, "</svg>");
    case CUT_END_JSON:
        while (n && is_space(tail[n - 1])) n--;
        return n && (tail[n - 1] == '}' || tail[n - 1] == ']');
    case CUT_END_LINE: return n && tail[n - 1] == '\n';
    case CUT_END_PNG: return n >= 8 && !memcmp(tail + n - 8, "IEND\xae\x42\x60\x82", 8);
    case CUT_END_JPEG: return n >= 2 && tail[n - 2] == 0xff && tail[n - 1] == 0xd9;
    case CUT_END_PDF: return contains(tail, n, "%%EOF", 5, 0);
    case CUT_END_ZIP: return contains(tail, n, "PK\x05\x06", 4, 18); /* the record is 22 bytes */
    case CUT_END_NONE:
    case CUT_END_KINDS: break;
    }
    return 1;
}

void cut_end_json_feed(cut_end_json *j, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = b[i];
        if (j->in_str) {
            if (j->esc)
                j->esc = 0;
            else if (c == '\\')
                j->esc = 1;
            else if (c == '"')
                j->in_str = 0;
        } else if (c == '"') {
            j->in_str = 1;
        } else if (c == '{' || c == '[') {
            j->depth++;
        } else if (c == '}' || c == ']') {
            if (j->depth)
                j->depth--;
            else
                j->under = 1;
        }
    }
}

int cut_end_json_closed(const cut_end_json *j) { return !j->depth && !j->in_str && !j->under; }

void cut_end_push(unsigned char tail[CUT_END_TAIL], size_t *n, const void *p, size_t len)
{
    const unsigned char *b = p;
    if (len >= CUT_END_TAIL) {
        memcpy(tail, b + len - CUT_END_TAIL, CUT_END_TAIL);
        *n = CUT_END_TAIL;
        return;
    }
    size_t keep = *n + len > CUT_END_TAIL ? CUT_END_TAIL - len : *n;
    memmove(tail, tail + *n - keep, keep);
    memcpy(tail + keep, b, len);
    *n = keep + len;
}
