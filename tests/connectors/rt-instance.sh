#!/usr/bin/env bash
# A throwaway Request Tracker 5 instance for the connector tests, on loopback only.
#
#   rt-instance.sh install          install Debian's RT 5 packages when they are missing
#   rt-instance.sh start DIR PORT   create an instance under DIR, serve it on 127.0.0.1:PORT
#   rt-instance.sh stop DIR         stop the instance started under DIR
#
# `start` writes into DIR (which must not already hold an instance):
#   url             http://127.0.0.1:PORT (REST2 lives under url + /REST/2.0/)
#   token           REST2 token of triage-bot, the connector's own user
#   agent-token     REST2 token of agent, a human agent; agent-password has its web password
#   pid             the server's pid (also its process-group id)
#   RT_SiteConfig.pm, rt.sqlite, rt.log (RT's log), server.log (the web server's output)
#
# The site config is read only from DIR (RT_SITE_CONFIG and RT_SITE_CONFIG_DIR); nothing
# under /etc/request-tracker5 is read or changed. Outgoing mail goes to mbox files in DIR/var.
# Users: root (password "password", RT's default), triage-bot (no password, token only),
# agent. Queues: General, Service Desk, Network, Applications, Accounts. Custom field:
# Category (free-form, one value, on every queue's tickets).
set -euo pipefail

readonly RT_HOME=/usr/share/request-tracker5
readonly RT_SERVER="$RT_HOME/libexec/rt-server"
readonly RT_PACKAGES=(request-tracker5 rt5-db-sqlite rt5-standalone)
readonly AGENT_PASSWORD='agent-password-1'
readonly START_TIMEOUT_SECONDS=90
readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
    echo "rt-instance: $*" >&2
    exit 1
}

usage() {
    sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

rt_is_installed() {
    [[ -d "$RT_HOME" && -x "$RT_SERVER" ]] && setup_database_command >/dev/null
}

setup_database_command() {
    local candidate
    for candidate in /usr/sbin/rt-setup-database-5 /usr/sbin/rt-setup-database; do
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

cmd_install() {
    if rt_is_installed; then
        echo "rt-instance: Request Tracker 5 is already installed"
        return 0
    fi
    local -a as_root=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "Request Tracker 5 is missing and installing it needs root; run as root, or install sudo, or run: apt-get install -y --no-install-recommends ${RT_PACKAGES[*]}"
        as_root=(sudo -n)
    fi
    local -a apt_install=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends "${RT_PACKAGES[@]}")
    if ! "${apt_install[@]}"; then
        echo "rt-instance: apt-get install failed; updating the package lists and trying again" >&2
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
        "${apt_install[@]}"
    fi
    rt_is_installed || die "the packages installed but $RT_SERVER is still missing"
}

# Runs an RT command with the instance's site config and nothing from /etc/request-tracker5.
run_rt() {
    local dir=$1
    shift
    env RT_SITE_CONFIG="$dir/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$dir/RT_SiteConfig.d" "$@"
}

write_site_config() {
    local dir=$1 port=$2
    mkdir -p "$dir/RT_SiteConfig.d" "$dir/var" "$dir/mason" "$dir/sessions"
    # The path variables below come from RT::Generated (package paths under /var); they are
    # plain package variables, so the site config may point them into DIR.
    cat >"$dir/RT_SiteConfig.pm" <<EOF
# Throwaway instance for triage's connector tests; written by rt-instance.sh.
Set(\$rtname, 'triage-test');
Set(\$Organization, 'triage.test');
Set(\$CorrespondAddress, 'rt@triage.test');
Set(\$CommentAddress, 'rt-comment@triage.test');
Set(\$RTAddressRegexp, qr/^rt(?:-comment)?\@triage\.test\$/i);
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $port);
Set(\$WebPath, '');
Set(\$Timezone, 'UTC');
Set(\$DatabaseType, 'SQLite');
Set(\$DatabaseName, '$dir/rt.sqlite');
Set(\$LogToSyslog, undef);
Set(\$LogToSTDERR, 'error');
Set(\$LogToFile, 'info');
Set(\$LogDir, '$dir');
Set(\$LogToFileNamed, 'rt.log');
Set(\$MailCommand, 'mbox');
\$RT::VarPath = '$dir/var';
\$RT::MasonDataDir = '$dir/mason';
\$RT::MasonSessionDir = '$dir/sessions';
1;
EOF
}

server_is_running() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null
}

wait_until_ready() {
    local dir=$1 url=$2 pid=$3
    local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
    # RT 5.0's REST2 has no resource at /REST/2.0/ itself (404); /REST/2.0/rt needs a valid token.
    until curl -fsS -o /dev/null -H "Authorization: token $(cat "$dir/token")" "$url/REST/2.0/rt" 2>/dev/null; do
        if ! server_is_running "$pid"; then
            rm -f "$dir/pid"
            tail -n 20 "$dir/server.log" >&2 || true
            die "the RT server exited during start-up; see $dir/server.log and $dir/rt.log"
        fi
        if ((SECONDS >= deadline)); then
            cmd_stop "$dir"
            die "RT did not answer on $url within ${START_TIMEOUT_SECONDS}s; see $dir/server.log"
        fi
        sleep 0.5
    done
}

cmd_start() {
    [[ $# -eq 2 ]] || usage
    local dir=$1 port=$2
    [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, not '$port'"
    rt_is_installed || die "Request Tracker 5 is not installed; run: $0 install"
    command -v curl >/dev/null 2>&1 || die "curl is needed to check that RT is up; install curl"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [[ ! -e "$dir/rt.sqlite" && ! -e "$dir/pid" ]] ||
        die "$dir already holds an RT instance; stop it and use a fresh directory"

    local started=$SECONDS
    write_site_config "$dir" "$port"
    # An empty RT_DBA_PASSWORD stops rt-setup-database from prompting (SQLite has no DBA).
    run_rt "$dir" env RT_DBA_PASSWORD= "$(setup_database_command)" --action init \
        >"$dir/setup.log" 2>&1 || {
        tail -n 20 "$dir/setup.log" >&2
        die "rt-setup-database failed; see $dir/setup.log"
    }
    run_rt "$dir" perl "$SCRIPT_DIR/rt-provision.pl" "$dir" "$AGENT_PASSWORD" >>"$dir/setup.log" 2>&1 || {
        tail -n 20 "$dir/setup.log" >&2
        die "provisioning users, queues and tokens failed; see $dir/setup.log"
    }
    echo "$AGENT_PASSWORD" >"$dir/agent-password"

    # Standalone (HTTP::Server::PSGI) is one process: requests are served one at a time, so
    # SQLite never sees concurrent writers. The server gets its own session and process
    # group, whose id is its pid: the small perl prelude calls setsid() and then execs, so
    # $! is the server itself (setsid(1) would fork when the caller leads a process group).
    env RT_SITE_CONFIG="$dir/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$dir/RT_SiteConfig.d" \
        perl -MPOSIX -e 'POSIX::setsid(); exec { $ARGV[0] } @ARGV or die "exec: $!\n"' \
        perl "$RT_SERVER" --server Standalone --host 127.0.0.1 --port "$port" \
        </dev/null >"$dir/server.log" 2>&1 &
    local pid=$!
    echo "$pid" >"$dir/pid"
    local url="http://127.0.0.1:$port"
    echo "$url" >"$dir/url"
    wait_until_ready "$dir" "$url" "$pid"
    echo "rt-instance: RT is up at $url (pid $pid) after $((SECONDS - started))s; tokens in $dir"
}

cmd_stop() {
    [[ $# -eq 1 ]] || usage
    local dir=$1
    [[ -f "$dir/pid" ]] || die "no pid file in $dir; nothing to stop"
    local pid
    pid="$(cat "$dir/pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] || die "$dir/pid does not hold a pid"
    # SIGTERM, never SIGINT: rt-server's SIGINT handler chowns /var/lib/request-tracker5 when root.
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while server_is_running "$pid" && ((waited < 20)); do
        sleep 0.5
        waited=$((waited + 1))
    done
    # The server leads its own process group; take down anything it left behind.
    kill -TERM -- "-$pid" 2>/dev/null || true
    sleep 0.2
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$dir/pid"
    echo "rt-instance: stopped the RT server $pid"
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
