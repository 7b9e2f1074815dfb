/* prep deliver: the institute's delivery network (DESIGN.md "deliver").
 *
 * Two halves share this header:
 *   - the registry of broadcasters (difusores): SQLite, statuses, audit log, Anexo 1
 *     fields, commitment letter, public roster (src/deliver/registry*.c);
 *   - transfers: push a cut over SFTP / explicit FTPS with libcurl, only the objects the
 *     broadcaster lacks, manifest and signature last; pull links (src/deliver/push*.c,
 *     pull*.c).
 * The type below is the seam between them: the registry yields targets, the pusher
 * takes them. Ownership is stated at each declaration. */
#ifndef PREP_DELIVER_H
#define PREP_DELIVER_H

#include "prep/core.h"
#include "prep/cut.h"

typedef enum prep_deliver_method {
    PREP_DELIVER_SFTP = 0, /* push over SFTP (OpenSSH), SSH key authentication */
    PREP_DELIVER_FTPS = 1, /* push over FTP with explicit TLS (AUTH TLS), TLS required */
    PREP_DELIVER_PULL = 2, /* the broadcaster pulls from its own tokened HTTPS link */
} prep_deliver_method;

/* Where and how one broadcaster receives cuts. Plain value type (fixed arrays), so a
 * list of them is one allocation. Secrets (password) come from the 0600 secrets file and
 * must never be printed, logged or exported. */
typedef struct prep_deliver_target {
    char id[64];                /* the broadcaster's id in the registry ([a-z0-9-]) */
    prep_deliver_method method;
    char url[512];              /* the incoming directory, ending in '/':
                                 * sftp://user@host:port/abs/path/incoming/ or
                                 * ftp://host:port/incoming/ (explicit TLS is forced) */
    char ssh_key[512];          /* SFTP: the institute's private key file */
    char ssh_host_sha256[128];  /* SFTP: pinned host key, base64 SHA-256 as
                                 * `ssh-keygen -lf key.pub -E sha256` prints it, without
                                 * the "SHA256:" prefix (CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256) */
    char ca_file[512];          /* FTPS: the CA or self-signed certificate to verify against
                                 * ("" = the system's CAs) */
    char user[128];             /* FTPS user ("" = anonymous) */
    char password[256];         /* FTPS password (secret) */
} prep_deliver_target;

#endif
