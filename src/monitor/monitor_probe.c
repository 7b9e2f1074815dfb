/* prep monitor: fetching over HTTPS with libcurl's multi interface, bounded parallelism,
 * bodies hashed while they stream (never held in memory), each capped at the size the
 * manifest gives plus one byte. */
#include <ctype.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "monitor_internal.h"

/* ---------------------------------------------------------------- small pure helpers */
static prep_time utc_time(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
    return prep_days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 + mi * 60 + s;
}

int mon_parse_cert_date(const char *s, prep_time *out)
{
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char mon[4] = "";
    unsigned d, h, mi, sec;
    int y, used = 0;
    while (*s == ' ') s++;
    if (sscanf(s, "%3s %u %u:%u:%u %d GMT%n", mon, &d, &h, &mi, &sec, &y, &used) == 6 && used > 0) {
        for (unsigned m = 0; m < 12; m++)
            if (!strcmp(mon, months[m])) {
                if (d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1950 || y > 9999) return -1;
                *out = utc_time(y, m + 1, d, h, mi, sec);
                return 0;
            }
        return -1;
    }
    unsigned mo;
    used = 0;
    if (sscanf(s, "%d-%u-%u %u:%u:%u GMT%n", &y, &mo, &d, &h, &mi, &sec, &used) == 6 && used > 0) {
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1950 || y > 9999)
            return -1;
        *out = utc_time(y, mo, d, h, mi, sec);
        return 0;
    }
    return -1;
}

int mon_url_join(const char *base, const char *path, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(base), o = 0;
    if (n + 1 > outsz) return -1;
    memcpy(out, base, n);
    o = n;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("._~/-", *p)) {
            if (o + 2 > outsz) return -1;
            out[o++] = (char)*p;
        } else {
            if (o + 4 > outsz) return -1;
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = 0;
    return 0;
}

int mon_curl_is_cert_error(int code)
{
    return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
           code == CURLE_SSL_ISSUER_ERROR || code == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
           code == CURLE_SSL_INVALIDCERTSTATUS;
}

/* ---------------------------------------------------------------- the body's stamp */
static const char *const stamp_pat[2] = {"data-corte=\"", "\"corte\":"};

void mon_stamp_init(mon_stamp *s)
{
    memset(s, 0, sizeof *s);
    s->corte = -1;
}

void mon_stamp_feed(mon_stamp *s, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n && s->corte < 0; i++) {
        unsigned char ch = p[i];
        if (s->in_num) {
            if (ch >= '0' && ch <= '9') {
                if (s->ndig < 19) s->num = s->num * 10 + (ch - '0');
                s->ndig++;
                continue;
            }
            if (!s->ndig && ch == ' ' && s->in_num == 2) continue; /* "corte": 3 */
            /* a whole number of at most 18 digits, closed by '"' in the attribute */
            if (s->ndig && s->ndig <= 18 && s->num > 0 && (s->in_num == 2 || ch == '"')) s->corte = s->num;
            s->in_num = 0;
            s->ndig = 0;
            s->num = 0;
        }
        for (int k = 0; k < 2; k++) {
            /* the patterns have no border longer than one byte, so a mismatch restarts at
             * the byte itself */
            if (ch == (unsigned char)stamp_pat[k][s->pos[k]]) s->pos[k]++;
            else s->pos[k] = ch == (unsigned char)stamp_pat[k][0];
            if (!stamp_pat[k][s->pos[k]]) {
                s->in_num = k + 1;
                s->pos[0] = s->pos[1] = 0;
                break;
            }
        }
    }
}

void mon_stamp_end(mon_stamp *s)
{
    /* a body that ends right after the digits (corte.json as `{"corte":3`): a NUL closes them */
    mon_stamp_feed(s, "", 1);
}

/* ---------------------------------------------------------------- callbacks */
static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    mon_fetch *f = ud;
    size_t n = size * nmemb;
    if (f->bytes + n > f->max_bytes) {
        f->oversize = 1;
        return 0; /* aborts: CURLE_WRITE_ERROR */
    }
    f->bytes += n;
    if (EVP_DigestUpdate(f->_ctx, p, n) != 1) return 0;
    if (f->kind != MON_SUMS) mon_stamp_feed(&f->stamp, p, n);
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    mon_fetch *f = ud;
    size_t n = size * nmemb;
    char line[128];
    if (n >= sizeof line) return n;
    memcpy(line, p, n);
    line[n] = 0;
    char *colon = strchr(line, ':');
    if (!colon) return n;
    *colon = 0;
    char *v = prep_trim(colon + 1);
    if (!strcasecmp(line, "x-prep-corte")) {
        int64_t x;
        if (!prep_parse_i64(v, &x) && x >= 0) f->x_prep_corte = x;
    } else if (!strcasecmp(line, "content-encoding")) {
        snprintf(f->content_encoding, sizeof f->content_encoding, "%s", v);
    }
    return n;
}

static void read_certinfo(CURL *h, mon_fetch *f)
{
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1) return;
    for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
        if (!strncmp(s->data, "Expire date:", 12)) {
            prep_time t;
            if (!mon_parse_cert_date(s->data + 12, &t)) f->cert_expires = t;
        }
    }
}

static CURL *make_easy(mon_fetch *f, const prep_monitor_config *c, struct curl_slist *identity)
{
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    const prep_monitor_target *t = &c->targets[f->target];
    f->curl_error[0] = 0;
    curl_easy_setopt(h, CURLOPT_URL, f->url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, f);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "prep-monitor/1");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(c->timeout_seconds < 10 ? c->timeout_seconds : 10));
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout_seconds);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, f->curl_error);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (t->ca_file[0]) curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_file);
    if (f->kind == MON_ENC) {
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "br, gzip");
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, identity);
    }
    if (f->kind == MON_SUMS) {
        curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
        /* A fresh connection, so the certificate is seen (and checked) on every round. */
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
    }
    return h;
}

static void finish(CURL *h, mon_fetch *f, CURLcode rc)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    f->curl_code = rc;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &f->http_code);
    if (rc == CURLE_OK && EVP_DigestFinal_ex(f->_ctx, md, &mdlen) == 1 && mdlen == 32) {
        prep_hex(md, 32, f->found);
    }
    if (rc != CURLE_OK && !f->curl_error[0]) snprintf(f->curl_error, sizeof f->curl_error, "%s", curl_easy_strerror(rc));
    if (f->oversize)
        snprintf(f->curl_error, sizeof f->curl_error, "body longer than %llu bytes",
                 (unsigned long long)(f->max_bytes));
    if (f->kind == MON_SUMS) read_certinfo(h, f);
    else mon_stamp_end(&f->stamp);
    f->at = prep_time_now();
    EVP_MD_CTX_free(f->_ctx);
    f->_ctx = NULL;
}

prep_err mon_fetch_all(mon_fetch *f, size_t n, const prep_monitor_config *c)
{
    for (size_t i = 0; i < n; i++) {
        f[i].curl_code = -1;
        snprintf(f[i].curl_error, sizeof f[i].curl_error, "not attempted");
        f[i].http_code = 0;
        f[i].bytes = 0;
        f[i].oversize = 0;
        f[i].found[0] = 0;
        f[i].x_prep_corte = -1;
        mon_stamp_init(&f[i].stamp);
        f[i].content_encoding[0] = 0;
        f[i].cert_expires = PREP_TIME_NONE;
        f[i].at = PREP_TIME_NONE;
        f[i]._ctx = NULL;
    }
    if (!n) return PREP_OK;
    CURLM *m = curl_multi_init();
    struct curl_slist *identity = curl_slist_append(NULL, "Accept-Encoding: identity");
    if (!m || !identity) {
        if (m) curl_multi_cleanup(m);
        curl_slist_free_all(identity);
        return PREP_ERR_NOMEM;
    }
    CURL **hs = calloc(n, sizeof *hs); /* the handles still running, to clean up on a multi failure */
    if (!hs) {
        curl_multi_cleanup(m);
        curl_slist_free_all(identity);
        return PREP_ERR_NOMEM;
    }
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->parallel);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 2L);
    size_t next = 0, running = 0;
    prep_err err = PREP_OK;
    while (next < n || running) {
        while (next < n && running < (size_t)c->parallel) {
            mon_fetch *x = &f[next++];
            x->_ctx = EVP_MD_CTX_new();
            CURL *h = x->_ctx ? make_easy(x, c, identity) : NULL;
            if (!h || EVP_DigestInit_ex(x->_ctx, EVP_sha256(), NULL) != 1 || curl_multi_add_handle(m, h)) {
                if (h) curl_easy_cleanup(h);
                EVP_MD_CTX_free(x->_ctx);
                x->_ctx = NULL;
                x->curl_code = CURLE_OUT_OF_MEMORY;
                snprintf(x->curl_error, sizeof x->curl_error, "out of memory");
                err = PREP_ERR_NOMEM;
                continue;
            }
            hs[next - 1] = h;
            running++;
        }
        int still = 0;
        if (curl_multi_perform(m, &still) != CURLM_OK) {
            err = PREP_ERR_NOMEM;
            break;
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL *h = msg->easy_handle;
            mon_fetch *x = NULL;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
            finish(h, x, msg->data.result);
            curl_multi_remove_handle(m, h);
            curl_easy_cleanup(h);
            hs[x - f] = NULL;
            running--;
        }
        if (running && (next >= n || running >= (size_t)c->parallel))
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (!hs[i]) continue;
        /* only after a multi failure: the transfer did not finish */
        curl_multi_remove_handle(m, hs[i]);
        curl_easy_cleanup(hs[i]);
        EVP_MD_CTX_free(f[i]._ctx);
        f[i]._ctx = NULL;
        f[i].curl_code = CURLE_OUT_OF_MEMORY;
        snprintf(f[i].curl_error, sizeof f[i].curl_error, "transfer abandoned (libcurl multi failure)");
    }
    free(hs);
    curl_slist_free_all(identity);
    curl_multi_cleanup(m);
    return err;
}
