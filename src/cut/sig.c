/* prep cut: Ed25519 keys and signatures in OpenBSD signify's file formats.
 *
 * Each signify file is two lines: "untrusted comment: TEXT\n" then the base64 of a
 * binary record and "\n". The records (all big-endian, "Ed" = Ed25519, "BK" = bcrypt
 * KDF) are described in include/prep/cut.h and docs/formats/cut.md. We write secret
 * keys unencrypted (kdfrounds 0, like `signify -G -n`) and refuse encrypted ones. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cut_internal.h"

#define COMMENT_HDR "untrusted comment: "
#define PUB_LEN 42  /* "Ed" + keynum + pk */
#define SEC_LEN 104 /* "Ed" "BK" rounds salt checksum keynum sk */
#define SIG_LEN 74  /* "Ed" + keynum + sig */
#define KEYFILE_MAX 4096

static int sodium_ready(void)
{
    static int ok = -2;
    if (ok == -2) ok = sodium_init() < 0 ? -1 : 0;
    return ok;
}

const char *prep_cut_mode_name(prep_cut_mode m) { return m == PREP_CUT_DRILL ? "drill" : "live"; }

void prep_cut_keynum_hex(const uint8_t keynum[PREP_CUT_KEYNUM_LEN], char out[17])
{
    prep_hex(keynum, PREP_CUT_KEYNUM_LEN, out);
}

/* Splits a signify envelope and decodes its record, which must be exactly want bytes.
 * comment gets the comment text (NUL-terminated, at most PREP_CUT_COMMENT_MAX). */
static prep_err envelope_parse(const void *data, size_t len, const char *name, size_t want, uint8_t *rec,
                               char *comment, prep_diags *d)
{
    const char *p = data;
    size_t hl = strlen(COMMENT_HDR);
    if (len > KEYFILE_MAX) {
        prep_diags_add(d, name, 0, 0, "sig-envelope", "file is %zu bytes; a signify file is at most %d", len,
                       KEYFILE_MAX);
        return PREP_ERR_LIMIT;
    }
    if (len < hl || memcmp(p, COMMENT_HDR, hl) != 0) {
        prep_diags_add(d, name, 1, 1, "sig-envelope", "first line does not start with \"%s\"", COMMENT_HDR);
        return PREP_ERR_PARSE;
    }
    const char *nl = memchr(p, '\n', len);
    if (!nl) {
        prep_diags_add(d, name, 1, 0, "sig-envelope", "no end of line after the comment");
        return PREP_ERR_PARSE;
    }
    size_t cl = (size_t)(nl - p);
    if (cl > PREP_CUT_COMMENT_MAX) {
        prep_diags_add(d, name, 1, 0, "sig-envelope", "comment line is %zu bytes; the limit is %d", cl,
                       PREP_CUT_COMMENT_MAX);
        return PREP_ERR_LIMIT;
    }
    if (memchr(p, 0, cl) || memchr(p, '\r', cl)) {
        prep_diags_add(d, name, 1, 0, "sig-envelope", "comment line holds a NUL or CR byte");
        return PREP_ERR_PARSE;
    }
    if (comment) {
        memcpy(comment, p + hl, cl - hl);
        comment[cl - hl] = 0;
    }
    const char *b = nl + 1;
    size_t rest = len - cl - 1;
    const char *nl2 = memchr(b, '\n', rest);
    if (!nl2) {
        prep_diags_add(d, name, 2, 0, "sig-envelope", "no end of line after the base64 line (truncated?)");
        return PREP_ERR_PARSE;
    }
    size_t bl = (size_t)(nl2 - b);
    if ((size_t)(nl2 + 1 - p) != len) {
        prep_diags_add(d, name, 3, 1, "sig-envelope",
                       "%zu bytes after the base64 line; embedded signatures (signify -e) are not accepted",
                       len - (size_t)(nl2 + 1 - p));
        return PREP_ERR_PARSE;
    }
    size_t want_b64 = (want + 2) / 3 * 4;
    if (bl != want_b64) {
        prep_diags_add(d, name, 2, 0, "sig-envelope", "base64 line is %zu characters; expected %zu", bl, want_b64);
        return PREP_ERR_PARSE;
    }
    if (sodium_ready() < 0) return PREP_ERR_IO;
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(rec, want, b, bl, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != want || end != b + bl) {
        prep_diags_add(d, name, 2, 0, "sig-envelope", "base64 line is not valid base64 of %zu bytes", want);
        return PREP_ERR_PARSE;
    }
    if (rec[0] != 'E' || rec[1] != 'd') {
        prep_diags_add(d, name, 2, 0, "sig-algorithm", "algorithm is '%c%c'; only Ed25519 ('Ed') is accepted",
                       rec[0] >= 0x20 && rec[0] < 0x7f ? rec[0] : '?', rec[1] >= 0x20 && rec[1] < 0x7f ? rec[1] : '?');
        return PREP_ERR_INVALID;
    }
    return PREP_OK;
}

static prep_err envelope_write(const uint8_t *rec, size_t n, const char *comment, prep_buf *out)
{
    if (sodium_ready() < 0) return PREP_ERR_IO;
    if (strchr(comment, '\n') || strlen(comment) > 1000) return PREP_ERR_INVALID;
    char b64[256];
    sodium_bin2base64(b64, sizeof b64, rec, n, sodium_base64_VARIANT_ORIGINAL);
    return prep_buf_printf(out, COMMENT_HDR "%s\n%s\n", comment, b64);
}

prep_err prep_cut_pubkey_parse(const void *data, size_t len, const char *name, prep_cut_pubkey *out,
                               prep_diags *d)
{
    uint8_t rec[PUB_LEN];
    prep_err e = envelope_parse(data, len, name, PUB_LEN, rec, NULL, d);
    if (e) return e;
    memcpy(out->keynum, rec + 2, 8);
    memcpy(out->pk, rec + 10, 32);
    return PREP_OK;
}

prep_err prep_cut_sig_parse(const void *data, size_t len, const char *name, prep_cut_sig *out, prep_diags *d)
{
    uint8_t rec[SIG_LEN];
    prep_err e = envelope_parse(data, len, name, SIG_LEN, rec, NULL, d);
    if (e) return e;
    memcpy(out->keynum, rec + 2, 8);
    memcpy(out->sig, rec + 10, 64);
    return PREP_OK;
}

prep_err prep_cut_seckey_parse(const void *data, size_t len, const char *name, prep_cut_seckey *out,
                               prep_diags *d)
{
    uint8_t rec[SEC_LEN];
    char comment[PREP_CUT_COMMENT_MAX + 1];
    prep_err e = envelope_parse(data, len, name, SEC_LEN, rec, comment, d);
    if (e) goto out;
    if (rec[2] != 'B' || rec[3] != 'K') {
        prep_diags_add(d, name, 2, 0, "sig-algorithm", "key derivation is not 'BK'");
        e = PREP_ERR_INVALID;
        goto out;
    }
    uint32_t rounds = (uint32_t)rec[4] << 24 | (uint32_t)rec[5] << 16 | (uint32_t)rec[6] << 8 | rec[7];
    if (rounds != 0) {
        prep_diags_add(d, name, 2, 0, "key-encrypted",
                       "secret key is passphrase-protected (%u kdf rounds); make one with 'prep keygen' or "
                       "'signify -G -n'",
                       rounds);
        e = PREP_ERR_INVALID;
        goto out;
    }
    uint8_t h[crypto_hash_sha512_BYTES];
    crypto_hash_sha512(h, rec + 40, 64);
    if (sodium_memcmp(h, rec + 24, 8) != 0) {
        prep_diags_add(d, name, 2, 0, "key-checksum", "secret key checksum does not match (damaged key file)");
        e = PREP_ERR_INVALID;
        goto out;
    }
    /* The public half stored in sk must be the one the seed gives. */
    uint8_t pk[32], sk[64];
    crypto_sign_seed_keypair(pk, sk, rec + 40);
    int same = sodium_memcmp(sk, rec + 40, 64) == 0;
    sodium_memzero(sk, sizeof sk);
    if (!same) {
        prep_diags_add(d, name, 2, 0, "key-checksum", "secret key's public half does not match its seed");
        e = PREP_ERR_INVALID;
        goto out;
    }
    memcpy(out->keynum, rec + 32, 8);
    memcpy(out->sk, rec + 40, 64);
    out->mark = PREP_CUT_KEY_UNMARKED;
    if (strstr(comment, "prep drill key"))
        out->mark = PREP_CUT_KEY_DRILL;
    else if (strstr(comment, "prep live key"))
        out->mark = PREP_CUT_KEY_LIVE;
out:
    sodium_memzero(rec, sizeof rec);
    return e;
}

static prep_err load_small(const char *path, char **data, size_t *len, prep_diags *d)
{
    const char *why = NULL;
    prep_err e = cut_read_small(path, KEYFILE_MAX, data, len, &why);
    if (e == PREP_ERR_NOTFOUND)
        prep_diags_add(d, path, 0, 0, "not-found", "no such file");
    else if (e == PREP_ERR_LIMIT)
        prep_diags_add(d, path, 0, 0, "sig-envelope", "file is larger than %d bytes", KEYFILE_MAX);
    else if (e == PREP_ERR_INVALID)
        prep_diags_add(d, path, 0, 0, "not-regular", "%s", why);
    else if (e)
        prep_diags_add(d, path, 0, 0, "io", "cannot read: %s", strerror(errno));
    return e;
}

prep_err prep_cut_pubkey_load(const char *path, prep_cut_pubkey *out, prep_diags *d)
{
    char *data;
    size_t len;
    prep_err e = load_small(path, &data, &len, d);
    if (e) return e;
    e = prep_cut_pubkey_parse(data, len, path, out, d);
    free(data);
    return e;
}

prep_err prep_cut_seckey_load(const char *path, prep_cut_seckey *out, prep_diags *d)
{
    char *data;
    size_t len;
    prep_err e = load_small(path, &data, &len, d);
    if (e) return e;
    e = prep_cut_seckey_parse(data, len, path, out, d);
    sodium_memzero(data, len);
    free(data);
    return e;
}

void prep_cut_seckey_wipe(prep_cut_seckey *k) { sodium_memzero(k, sizeof *k); }

void prep_cut_seckey_public(const prep_cut_seckey *k, prep_cut_pubkey *out)
{
    memcpy(out->keynum, k->keynum, 8);
    memcpy(out->pk, k->sk + 32, 32);
}

/* Signing is OpenSSL's Ed25519 (RFC 8032, pure: the same deterministic signature bytes as
 * libsodium's): a national manifest is ~69 MB, which Ed25519 hashes twice with SHA-512,
 * and OpenSSL's assembly SHA-512 signs it in 0.23 CPU s against libsodium's 0.35
 * (docs/dependencies.md). Verification stays libsodium's (strict), so a cut maker's own
 * check after signing (make.c) also cross-checks the two implementations. */
prep_err prep_cut_sign(const prep_cut_seckey *k, const void *msg, size_t len, prep_cut_sig *out)
{
    memcpy(out->keynum, k->keynum, 8);
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, k->sk, 32);
    EVP_MD_CTX *c = pk ? EVP_MD_CTX_new() : NULL;
    size_t sl = sizeof out->sig;
    int ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestSign(c, out->sig, &sl, msg, len) == 1 && sl == sizeof out->sig;
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(pk); /* OpenSSL clears the private key it copied */
    if (!pk || !c) return PREP_ERR_NOMEM;
    return ok ? PREP_OK : PREP_ERR_INVALID;
}

prep_err prep_cut_sig_format(const prep_cut_sig *s, const char *comment, prep_buf *out)
{
    uint8_t rec[SIG_LEN];
    rec[0] = 'E';
    rec[1] = 'd';
    memcpy(rec + 2, s->keynum, 8);
    memcpy(rec + 10, s->sig, 64);
    return envelope_write(rec, sizeof rec, comment, out);
}

prep_err prep_cut_sig_verify(const prep_cut_pubkey *keys, size_t n, const prep_cut_sig *s, const void *msg,
                             size_t len, size_t *which, const char *name, prep_diags *d)
{
    if (sodium_ready() < 0) return PREP_ERR_IO;
    char kh[17];
    prep_cut_keynum_hex(s->keynum, kh);
    for (size_t i = 0; i < n; i++) {
        if (memcmp(keys[i].keynum, s->keynum, 8) != 0) continue;
        if (crypto_sign_verify_detached(s->sig, msg, len, keys[i].pk) != 0) {
            prep_diags_add(d, name, 0, 0, "bad-signature",
                           "signature by key %s does not verify over the %zu manifest bytes", kh, len);
            return PREP_ERR_VERIFY;
        }
        if (which) *which = i;
        return PREP_OK;
    }
    prep_diags_add(d, name, 0, 0, "unknown-key", "signed by key %s, which is not a trusted key", kh);
    return PREP_ERR_VERIFY;
}

/* Creates path exclusively with the given bytes, fsynced. */
static int write_new(const char *path, const char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        prep_io_fail("create", path, errno);
        return -1;
    }
    if (cut_write_all(fd, data, len, path) != 0 || fsync(fd) != 0) {
        int er = errno;
        prep_io_fail("write", path, er);
        close(fd);
        unlink(path);
        errno = er;
        return -1;
    }
    if (close(fd) != 0) {
        prep_io_fail("close", path, errno);
        return -1;
    }
    return 0;
}

prep_err prep_cut_keygen(const char *name, prep_cut_mode mode, prep_diags *d)
{
    if (sodium_ready() < 0) return PREP_ERR_IO;
    prep_err e = PREP_OK;
    char *kpath = cut_fmt("%s.key", name), *ppath = cut_fmt("%s.pub", name);
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    uint8_t pk[32], sk[64], keynum[8], salt[16], h[crypto_hash_sha512_BYTES];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(keynum, sizeof keynum);
    randombytes_buf(salt, sizeof salt);
    crypto_hash_sha512(h, sk, 64);

    uint8_t srec[SEC_LEN] = {'E', 'd', 'B', 'K', 0, 0, 0, 0};
    memcpy(srec + 8, salt, 16);
    memcpy(srec + 24, h, 8);
    memcpy(srec + 32, keynum, 8);
    memcpy(srec + 40, sk, 64);
    uint8_t prec[PUB_LEN] = {'E', 'd'};
    memcpy(prec + 2, keynum, 8);
    memcpy(prec + 10, pk, 32);

    prep_buf sb, pb;
    prep_buf_init(&sb, 0);
    prep_buf_init(&pb, 0);
    char *sc = cut_fmt("prep %s key %s secret key", prep_cut_mode_name(mode), base);
    char *pc = cut_fmt("prep %s key %s public key", prep_cut_mode_name(mode), base);
    if ((e = envelope_write(srec, sizeof srec, sc, &sb)) || (e = envelope_write(prec, sizeof prec, pc, &pb))) {
        prep_diags_add(d, name, 0, 0, "keygen", "key name too long");
        goto out;
    }
    if (access(ppath, F_OK) == 0) {
        prep_diags_add(d, ppath, 0, 0, "exists", "refusing to overwrite an existing key file");
        e = PREP_ERR_INVALID;
        goto out;
    }
    if (write_new(kpath, sb.data, sb.len, 0600) != 0) {
        int er = errno;
        prep_diags_add(d, kpath, 0, 0, er == EEXIST ? "exists" : "io", "%s",
                       er == EEXIST ? "refusing to overwrite an existing key file" : strerror(er));
        e = er == EEXIST ? PREP_ERR_INVALID : PREP_ERR_IO;
        goto out;
    }
    if (write_new(ppath, pb.data, pb.len, 0644) != 0) {
        int er = errno;
        prep_diags_add(d, ppath, 0, 0, er == EEXIST ? "exists" : "io", "%s", strerror(er));
        unlink(kpath);
        e = er == EEXIST ? PREP_ERR_INVALID : PREP_ERR_IO;
        goto out;
    }
out:
    if (sb.data) sodium_memzero(sb.data, sb.len);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(srec, sizeof srec);
    prep_buf_free(&sb);
    prep_buf_free(&pb);
    free(sc);
    free(pc);
    free(kpath);
    free(ppath);
    return e;
}
