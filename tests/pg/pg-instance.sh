#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store's conformance tests, on loopback only.
#
#   pg-instance.sh install                 install Debian's postgresql when it is missing
#   pg-instance.sh start DIR [WATCH_PID]   initdb under DIR, serve on a free 127.0.0.1 port, print the URL
#                                          (PG_DURABLE=1: fsync and synchronous commit on, for benchmarks;
#                                          PG_SSL=1: TLS on, with a throwaway CA in DIR/ca.pem)
#   pg-instance.sh stop DIR                stop the cluster started under DIR and remove DIR
#
# `start` writes DIR/url (postgres://triage@127.0.0.1:PORT/postgres; trust authentication, no
# password), DIR/port, DIR/log, and the cluster itself in DIR/data. The server runs as the
# `postgres` user when started by root (PostgreSQL refuses to run as root), with its socket in
# DIR (whose parent folders the `postgres` user must be able to enter: not a mode-700 mktemp
# folder); nothing under /etc/postgresql or /var/lib/postgresql is used and no system service is
# started. With WATCH_PID, a small watcher stops the cluster and removes DIR once that process
# has exited (test binaries have no hook that runs at exit).
set -euo pipefail

readonly START_TIMEOUT_SECONDS=60

die() {
    echo "pg-instance: $*" >&2
    exit 1
}

usage() {
    sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

bin_dir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

cmd_install() {
    if bin_dir >/dev/null; then
        echo "pg-instance: PostgreSQL is already installed ($(bin_dir))"
        return 0
    fi
    local -a as_root=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "PostgreSQL is missing and installing it needs root; run as root, or install sudo, or run: apt-get install -y postgresql"
        as_root=(sudo -n)
    fi
    local -a apt_install=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)
    if ! "${apt_install[@]}"; then
        echo "pg-instance: apt-get install failed; updating the package lists and trying again" >&2
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
        "${apt_install[@]}"
    fi
    bin_dir >/dev/null || die "postgresql installed but no initdb was found under /usr/lib/postgresql"
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
        echo $((20000 + RANDOM % 20000))
}

cmd_start() {
    [[ $# -ge 1 && $# -le 2 ]] || usage
    local dir=$1 watch=${2:-}
    local bin
    bin="$(bin_dir)" || die "PostgreSQL is not installed; run: $0 install"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [[ ! -e "$dir/data" ]] || die "$dir already holds a cluster; stop it and use a fresh directory"
    [[ $(id -u) -ne 0 ]] || chown postgres "$dir"
    local started=$SECONDS
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U triage -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        as_owner "$bin/initdb" -D "$dir/data" -A trust -U triage -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
        tail -n 20 "$dir/initdb.log" >&2
        die "initdb failed; see $dir/initdb.log"
    }
    local port attempt
    for attempt in 1 2 3; do
        port="$(free_port)"
        # fsync off: a throwaway cluster for tests, lost with its folder anyway; PG_DURABLE=1
        # keeps PostgreSQL's own defaults (fsync, synchronous commit) for benchmarks
        local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        [[ "${PG_DURABLE:-}" != 1 ]] || durability=""
        local ssl=""
        if [[ "${PG_SSL:-}" == 1 && ! -f "$dir/server.pem" ]]; then
            # a CA of its own and a server certificate for 127.0.0.1, both gone with DIR
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=triage-test-ca" \
                -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1 || die "openssl could not make a CA"
            openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/server.ext"
            openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 2 \
                -extfile "$dir/server.ext" -out "$dir/server.pem" >/dev/null 2>&1 || die "openssl could not sign the server certificate"
            chmod 600 "$dir/server.key"
            [[ $(id -u) -ne 0 ]] || chown postgres "$dir/server.key" "$dir/server.pem"
        fi
        [[ "${PG_SSL:-}" != 1 ]] || ssl="-c ssl=on -c ssl_cert_file=$dir/server.pem -c ssl_key_file=$dir/server.key"
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t "$START_TIMEOUT_SECONDS" \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $durability $ssl -c max_connections=200" \
            start >"$dir/pg_ctl.log" 2>&1; then
            break
        fi
        ((attempt < 3)) || {
            tail -n 20 "$dir/log" >&2 || true
            die "the server did not start; see $dir/log"
        }
    done
    local url="postgres://triage@127.0.0.1:$port/postgres"
    echo "$port" >"$dir/port"
    echo "$url" >"$dir/url"
    if [[ -n "$watch" ]]; then
        [[ "$watch" =~ ^[0-9]+$ ]] || die "WATCH_PID must be a number, not '$watch'"
        # detached, with its output closed, so the caller's pipes see EOF
        setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; "$2" stop "$3"' _ "$watch" "$0" "$dir" \
            </dev/null >/dev/null 2>&1 &
    fi
    echo "pg-instance: PostgreSQL is up at 127.0.0.1:$port after $((SECONDS - started))s (cluster in $dir)" >&2
    echo "$url"
}

cmd_stop() {
    [[ $# -eq 1 ]] || usage
    local dir=$1
    [[ -d "$dir/data" ]] || die "no cluster in $dir; nothing to stop"
    local bin
    bin="$(bin_dir)" || die "PostgreSQL is not installed"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    echo "pg-instance: stopped and removed the cluster in $dir" >&2
}

main() {
    [[ $# -ge 1 ]] || usage
    local command=$1
    shift
    case "$command" in
    install) cmd_install "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    *) usage ;;
    esac
}

main "$@"
