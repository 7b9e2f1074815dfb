/* prep core: the one TLS policy of every server prep runs (docs/internals/serve.md "TLS",
 * docs/delivery.md "Pull"). Used by prep serve (src/http/tls.c), the institute's pull
 * links (src/pull/pull_server.c) and the benchmark servers that mirror them.
 *
 * It lives in core, not in serve, because the DESIGN's `http` part (the server core both
 * servers stand on, "TLS settings" among its duties) does not exist yet as its own folder:
 * core is the one part both serve and deliver may use without deliver reaching into
 * serve's private headers. When `http` is split out, this moves there unchanged. */
#ifndef PREP_TLS_H
#define PREP_TLS_H

#include <openssl/ssl.h>

#include "prep/core.h"

/* The key-exchange groups offered and accepted, in preference order. Only elliptic-curve
 * groups: a TLS 1.3 server with no list accepts the finite-field ffdhe2048..8192 groups,
 * and 11.6 replayed ClientHellos per second asking for ffdhe8192 kept both cores of a
 * broadcaster's machine busy (issue 13). X25519 and P-256 cost ~0.1 ms a handshake. */
#define PREP_TLS_GROUPS "X25519:P-256:P-384"
/* TLS 1.2 cipher suites: ECDHE only (no RSA key exchange, no DHE), AEAD only (no CBC).
 * TLS 1.3 suites stay at OpenSSL's defaults (all AEAD). */
#define PREP_TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20"

/* Applies the policy to a server context (borrowed): minimum TLS 1.2, the TLS 1.2 cipher
 * list, the groups above, server cipher preference, no renegotiation, no compression.
 * Leaves certificates, ALPN, session cache and I/O modes to the caller. Returns PREP_OK,
 * or PREP_ERR_INVALID with a "tls" diag naming OpenSSL's reason (its error queue is then
 * cleared); with d NULL, no diag and OpenSSL's error queue is left for the caller. */
PREP_NODISCARD prep_err prep_tls_server_policy(SSL_CTX *ctx, prep_diags *d);

#endif
