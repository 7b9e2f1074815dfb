# shellcheck shell=bash disable=SC2034  # PEER_* variables are set for the sourcing script
# Real peers on loopback for the integration tests and benchmarks: free ports, waiting for
# a port, a self-signed certificate, throwaway sshd (SFTP) and vsftpd (explicit FTPS)
# instances, and stopping what a script started. The recipes are those of
# /work/shared/C-DEPS-AND-STYLE.md §2.
#
# Source it (it is not a test: it lives under lib/ so CMake's tests/integ/*.sh glob does
# not run it):
#   . "$(dirname "$0")/lib/peers.sh"            # from tests/integ/X.sh
#   . "$(dirname "$0")/../tests/integ/lib/peers.sh"   # from bench/X.sh
# Every function is safe under `set -euo pipefail`. Names start with peer_ / PEER_.
#
# Servers are started in the background of the calling shell (so `wait` works on them);
# the start functions set PEER_PID to the new process's id and do not track it: the caller
# passes it to peer_track (or keeps it in its own table).

PEER_PIDS=()   # processes peer_cleanup stops (peer_track adds, peer_stop removes)
PEER_TMP=      # the directory peer_cleanup removes (unless KEEP is set)
PEER_PID=      # the process the last peer_*_start started

# peer_free_ports N: print N distinct free TCP ports of 127.0.0.1 on one line. The kernel
# picks them (bind to port 0, all N held at once so they differ), then they are released
# for the caller's server to take right after.
peer_free_ports() {
  python3 - "${1:-1}" <<'EOF'
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
for s in ss: s.close()
EOF
}

# peer_free_port: print one free TCP port of 127.0.0.1 (see peer_free_ports).
peer_free_port() { peer_free_ports 1; }

# peer_wait_port PORT [SECONDS]: until something accepts a TCP connection on
# 127.0.0.1:PORT, polled every 0.1 s for at most SECONDS (default 10). Returns 1 on timeout.
peer_wait_port() {
  local i n=$(( ${2:-10} * 10 ))
  for ((i = 0; i < n; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# peer_cert CERT KEY [DAYS]: a self-signed ECDSA P-256 certificate (PEM) in file CERT,
# its private key (PEM, unencrypted) in file KEY; subject CN=localhost, SAN localhost and
# 127.0.0.1, valid for DAYS days (default 2). openssl's status; its messages are dropped.
peer_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$2" -out "$1" \
    -days "${3:-2}" -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
}

# peer_ssh_pin PUBKEY-FILE: print the key's SHA-256 fingerprint as "SHA256:<base64>", the
# form of a host-key pin (strip the prefix with ${PIN#SHA256:} where a bare one is wanted).
peer_ssh_pin() { ssh-keygen -lf "$1" -E sha256 | awk '{print $2}'; }

# peer_sshd_start DIR PORT LOG [LINE...]: OpenSSH sshd for SFTP on 127.0.0.1:PORT, key
# login only. Needs root (it can then log in as root) and /usr/sbin/sshd. Writes in DIR:
# hostkey(.pub), clientkey(.pub) (the client's key, in authorized_keys), sshd_config
# (plus each extra LINE, e.g. "MaxStartups 100"), sshd.pid. Starts `/usr/sbin/sshd -D -e`
# in the background, stdout and stderr appended to LOG. Sets PEER_PID and PEER_SSH_PIN
# (the host key's pin, "SHA256:..."). Does not wait for the port: peer_wait_port PORT.
peer_sshd_start() {
  local dir=$1 port=$2 log=$3
  shift 3
  ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey" </dev/null
  ssh-keygen -q -t ed25519 -N '' -f "$dir/clientkey" </dev/null
  cp "$dir/clientkey.pub" "$dir/authorized_keys"
  printf '%s\n' "Port $port" "ListenAddress 127.0.0.1" "HostKey $dir/hostkey" "PidFile $dir/sshd.pid" \
    "AuthorizedKeysFile $dir/authorized_keys" "StrictModes no" "UsePAM no" "PasswordAuthentication no" \
    "KbdInteractiveAuthentication no" "PermitRootLogin prohibit-password" "Subsystem sftp internal-sftp" \
    "$@" >"$dir/sshd_config"
  mkdir -p /run/sshd   # the privilege-separation directory sshd needs as root
  /usr/sbin/sshd -D -e -f "$dir/sshd_config" >>"$log" 2>&1 &
  PEER_PID=$!
  PEER_SSH_PIN=$(peer_ssh_pin "$dir/hostkey.pub")
  export PEER_SSH_PIN
}

# peer_vsftpd_start DIR PORT ROOT LOG [LINE...]: vsftpd on 127.0.0.1:PORT, explicit FTPS
# (TLS required on control and data, session reuse required), anonymous login with write
# (upload, mkdir, rename, delete; umask 022) under ROOT, which the caller fills (an upload
# directory must be mode 0777: vsftpd writes as the anonymous user's mapping). Uses the
# certificate DIR/cert.pem and key DIR/key.pem (make them first, peer_cert). Writes
# DIR/vsftpd.conf (plus each extra LINE, e.g. "xferlog_enable=YES" or "max_clients=200")
# and DIR/empty (its secure chroot dir). Passive data ports: PEER_PASV_SPAN + 1 ports
# (default 200) from a random start in 20000-49999. Runs as the launching user, no
# chroot (`run_as_launching_user`): a client must use paths relative to ROOT. Starts
# /usr/sbin/vsftpd in the background, stdout and stderr appended to LOG; sets PEER_PID.
# Does not wait for the port: peer_wait_port PORT.
peer_vsftpd_start() {
  local dir=$1 port=$2 root=$3 log=$4 pasv=$((20000 + RANDOM % 30000))
  shift 4
  mkdir -p "$root" "$dir/empty"
  printf '%s\n' listen=YES listen_ipv6=NO listen_address=127.0.0.1 "listen_port=$port" background=NO \
    run_as_launching_user=YES seccomp_sandbox=NO anonymous_enable=YES no_anon_password=YES "anon_root=$root" \
    local_enable=NO write_enable=YES anon_upload_enable=YES anon_mkdir_write_enable=YES anon_other_write_enable=YES \
    anon_umask=022 ssl_enable=YES allow_anon_ssl=YES force_anon_logins_ssl=YES force_anon_data_ssl=YES \
    require_ssl_reuse=YES "rsa_cert_file=$dir/cert.pem" "rsa_private_key_file=$dir/key.pem" pasv_enable=YES \
    pasv_address=127.0.0.1 "pasv_min_port=$pasv" "pasv_max_port=$((pasv + ${PEER_PASV_SPAN:-200}))" \
    "secure_chroot_dir=$dir/empty" "$@" >"$dir/vsftpd.conf"
  /usr/sbin/vsftpd "$dir/vsftpd.conf" >>"$log" 2>&1 &
  PEER_PID=$!
}

# peer_track PID...: peer_cleanup stops these processes.
peer_track() { PEER_PIDS+=("$@"); }

# peer_stop PID: SIGTERM, then wait for it; its exit status (as `wait` gives it). It is no
# longer tracked.
peer_stop() {
  local p keep=() rc=0
  for p in "${PEER_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PEER_PIDS=("${keep[@]}")
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || rc=$?
  return $rc
}

# peer_cleanup: SIGTERM every tracked process, wait for them all, then remove PEER_TMP
# unless KEEP is set (non-empty). Never fails (it runs as the EXIT trap: a failure there
# would replace the script's exit status under set -e).
peer_cleanup() {
  local p
  for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PEER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PEER_PIDS=()
  if [ -n "$PEER_TMP" ] && [ -z "${KEEP:-}" ]; then rm -rf "$PEER_TMP" || true; fi
  return 0
}

# peer_cleanup_on_exit DIR: at exit, peer_cleanup (tracked processes stopped, DIR removed
# unless KEEP=1); SIGTERM, SIGINT and SIGHUP exit 143 so that it runs then too.
peer_cleanup_on_exit() {
  PEER_TMP=$1
  trap peer_cleanup EXIT
  trap 'exit 143' TERM INT HUP
}

# peer_serve_and_apache PREP STORE DOCROOT THREADS: the two public servers on the same cut,
# in the current directory (which holds cert.pem / key.pem, from peer_cert): `prep serve`
# of STORE over TLS with THREADS threads, and Apache httpd with `prep apache`'s standalone
# configuration of the exported DOCROOT (in ./ap). Sets SP and AP to their HTTPS ports
# once both answer; tracked for peer_cleanup. On failure prints a FAIL line and exits 1.
peer_serve_and_apache() {
  local prep=$1 store=$2 docroot=$3 threads=$4 dir=$PWD
  "$prep" serve --store "$store" --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --tls-cert cert.pem --tls-key key.pem \
    --threads "$threads" >serve.out 2>serve.err &
  peer_track $!
  for _ in $(seq 300); do grep -q "listening on http://" serve.out 2>/dev/null && break; sleep 0.1; done
  SP=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\)/ (h2, http/1.1)$|\1|p' serve.out)
  [ -n "$SP" ] || { echo "FAIL - prep serve did not start: $(cat serve.out serve.err)"; exit 1; }
  read -r AP < <(peer_free_ports 1)
  mkdir -p ap
  "$prep" apache --docroot "$docroot" --server-name localhost --listen 127.0.0.1:$AP \
    --tls-cert cert.pem --tls-key key.pem --standalone "$dir/ap" >ap/httpd.conf
  apache2 -d "$dir/ap" -f "$dir/ap/httpd.conf" -t >ap/t.log 2>&1 || { echo "FAIL - apache2 -t: $(cat ap/t.log)"; exit 1; }
  apache2 -d "$dir/ap" -f "$dir/ap/httpd.conf" -DFOREGROUND >ap/stdout.log 2>&1 &
  peer_track $!
  peer_wait_port "$AP" 10 || { echo "FAIL - apache2 did not start: $(cat ap/error.log ap/stdout.log)"; exit 1; }
  for _ in $(seq 300); do
    curl -s -o /dev/null --max-time 2 --cacert cert.pem --resolve "localhost:$SP:127.0.0.1" "https://localhost:$SP/corte.json" && break
    sleep 0.1
  done
}
