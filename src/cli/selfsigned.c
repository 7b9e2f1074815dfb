/* A throwaway TLS identity for the drill (prep demo): an ECDSA P-256 key and a
 * self-signed certificate for localhost and 127.0.0.1, valid for 30 days
 * (past the monitor's 14-day expiry warning, so a drill's board can be green). Never for
 * production: a broadcaster's real site uses a certificate from a public CA. */
#include "cli.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex) return -1;
    int ok = X509_add_ext(x, ex, -1);
    X509_EXTENSION_free(ex);
    return ok ? 0 : -1;
}

int cli_selfsigned(const char *cert_path, const char *key_path, const char *cn)
{
    int rc = -1;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *f = NULL;
    if (!k || !x) goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 30 * 86400);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"prep simulacro", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    if (add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") ||
        add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
        add_ext(x, NID_ext_key_usage, "serverAuth"))
        goto out;
    if (!X509_sign(x, k, EVP_sha256())) goto out;
    mode_t old = umask(077);
    f = fopen(key_path, "w");
    umask(old);
    if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) || fclose(f)) {
        f = NULL;
        goto out;
    }
    f = fopen(cert_path, "w");
    if (!f || !PEM_write_X509(f, x) || fclose(f)) {
        f = NULL;
        goto out;
    }
    f = NULL;
    rc = 0;
out:
    if (f) fclose(f);
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}
