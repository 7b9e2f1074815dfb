/* prep core: the TLS policy of every prep server (include/prep/tls.h). */
#include "prep/tls.h"

#include <openssl/err.h>

static prep_err policy_fail(prep_diags *d, const char *what)
{
    if (!d) return PREP_ERR_INVALID; /* OpenSSL's error queue is left for the caller */
    char buf[256] = "unknown TLS error";
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    prep_diags_add(d, "tls", 0, 0, "tls", "%s: %s", what, buf);
    return PREP_ERR_INVALID;
}

prep_err prep_tls_server_policy(SSL_CTX *ctx, prep_diags *d)
{
    if (!ctx) return policy_fail(d, "no TLS context");
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
        return policy_fail(d, "cannot set TLS 1.2 as the minimum version");
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    if (!SSL_CTX_set_cipher_list(ctx, PREP_TLS12_CIPHERS))
        return policy_fail(d, "cannot set the TLS 1.2 cipher list " PREP_TLS12_CIPHERS);
    if (!SSL_CTX_set1_groups_list(ctx, PREP_TLS_GROUPS))
        return policy_fail(d, "cannot set the key-exchange groups " PREP_TLS_GROUPS);
    return PREP_OK;
}
