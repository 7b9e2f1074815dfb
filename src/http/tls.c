/* prep serve: the one SSL_CTX of the process (docs/internals/serve.md "Network layer").
 * Versions, ciphers and key-exchange groups are prep's one TLS policy
 * (prep_tls_server_policy, include/prep/tls.h: TLS 1.2 minimum, ECDHE+AEAD for 1.2,
 * X25519/P-256/P-384 only); here: ALPN chooses h2 over http/1.1, session tickets on,
 * read ahead on. */
#include <string.h>

#include <openssl/err.h>

#include "net_internal.h"
#include "prep/tls.h"

static const unsigned char alpn_ours[] = "\x02h2\x08http/1.1";

/* ALPN: our preference order wins (h2 first; arg non-NULL: http/1.1 only). A client
 * offering neither gets no ALPN answer and is served HTTP/1.1. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg)
{
    (void)ssl;
    const unsigned char *ours = arg ? alpn_ours + 3 : alpn_ours;
    unsigned ours_len = (unsigned)(sizeof alpn_ours - 1) - (arg ? 3u : 0u);
    unsigned char *o = NULL;
    if (SSL_select_next_proto(&o, outlen, ours, ours_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

static void ssl_diag(prep_diags *d, const char *file, const char *kind, const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    prep_diags_add(d, file, 0, 0, kind, "%s: %s", what, e ? buf : "unknown TLS error");
    ERR_clear_error();
}

/* Counts the KeyUpdates a client sends (its connection is the SSL's app data). */
static void net_tls_msg(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg)
{
    (void)version;
    (void)arg;
    if (write_p || content_type != SSL3_RT_HANDSHAKE || len < 1 || ((const unsigned char *)buf)[0] != SSL3_MT_KEY_UPDATE)
        return;
    net_conn *c = SSL_get_app_data(ssl);
    if (c) c->key_updates++;
}

prep_err net_tls_ctx(const char *cert, const char *key, int h2, SSL_CTX **out, prep_diags *d)
{
    *out = NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_diag(d, "tls", "tls", "cannot create a TLS context");
        return PREP_ERR_NOMEM;
    }
    prep_err pe = prep_tls_server_policy(ctx, d);
    if (pe) {
        SSL_CTX_free(ctx);
        return pe;
    }
    /* RELEASE_BUFFERS: a connection whose TLS buffers are empty gives them back (~20 KiB
     * each, measured: 300 connections holding 32 streams, 54 -> 48 MB), as nginx does; no
     * CPU per request measurable (bench_serve.sh, same run: HTTPS/1.1 13.0 -> 12.9 us,
     * HTTP/2 7.5 -> 7.0) */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    /* SSL_read returns after a record that is no data (a KeyUpdate) instead of reading on
     * until data comes: a client sending nothing else cannot hold the worker inside it
     * (net_conn_read defers the connection when more is buffered; NET_TLS_KEY_UPDATES_MAX) */
    SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
    SSL_CTX_set_msg_callback(ctx, net_tls_msg);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    /* Read ahead: one read(2) takes a whole record (and whatever follows it) instead of
     * its 5-byte header first and its body in a second read: one system call fewer per
     * request (bench_serve.sh: 2.2 reads per HTTPS/1.1 request without it). */
    SSL_CTX_set_read_ahead(ctx, 1);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_diag(d, cert, "tls-cert", "cannot use the certificate chain");
        SSL_CTX_free(ctx);
        return PREP_ERR_INVALID;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_diag(d, key, "tls-key", "cannot use the private key");
        SSL_CTX_free(ctx);
        return PREP_ERR_INVALID;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_diag(d, key, "tls-key", "the private key does not match the certificate");
        SSL_CTX_free(ctx);
        return PREP_ERR_INVALID;
    }
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, h2 ? NULL : (void *)alpn_ours);
    *out = ctx;
    return PREP_OK;
}
