#!/usr/bin/env bash
# Smoke test of the throwaway RT instance: start it on a free loopback port in a temp dir,
# create a ticket as agent, comment on it as triage-bot, find both over REST2, stop it.
# Exits non-zero on any failure, and leaves no server running either way.
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly INSTANCE_SCRIPT="$SCRIPT_DIR/rt-instance.sh"

work="$(mktemp -d)"
dir="$work/rt"
cleanup() {
    if [[ -f "$dir/pid" ]]; then
        "$INSTANCE_SCRIPT" stop "$dir" >/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "rt-smoke: FAIL: $*" >&2
    exit 1
}

# call TOKEN_FILE METHOD PATH [BODY]: sets STATUS and BODY.
call() {
    local token
    token="$(cat "$dir/$1")"
    local -a data=()
    if [[ $# -ge 4 ]]; then
        data=(-H 'Content-Type: application/json' --data-binary "$4")
    fi
    STATUS="$(curl -sS -o "$work/body" -w '%{http_code}' -X "$2" -H "Authorization: token $token" \
        "${data[@]}" "$(cat "$dir/url")/REST/2.0$3")"
    BODY="$(cat "$work/body")"
}

port="$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport')"
since="$(date -u '+%Y-%m-%d %H:%M:%S')"
"$INSTANCE_SCRIPT" start "$dir" "$port"
for file in token agent-token pid url; do
    [[ -s "$dir/$file" ]] || fail "start did not write $dir/$file"
done
pid="$(cat "$dir/pid")"

call agent-token POST /ticket \
    '{"Queue":"Service Desk","Subject":"Smoke: VPN drops","Content":"It drops every ten minutes.","ContentType":"text/plain"}'
created="$BODY"
[[ "$STATUS" == 201 ]] || fail "create answered $STATUS: $created"
ticket="$(jq -r .id <<<"$created")"
[[ "$ticket" =~ ^[0-9]+$ ]] || fail "create returned no ticket id: $created"

call token POST "/ticket/$ticket/comment" '{"Content":"Triage: queue Network.","ContentType":"text/plain"}'
commented="$BODY"
[[ "$STATUS" == 201 ]] || fail "comment answered $STATUS: $commented"

call token GET "/ticket/$ticket/history?fields=Type,Creator"
history="$BODY"
[[ "$STATUS" == 200 ]] || fail "history answered $STATUS: $history"
jq -e '[.items[] | select(.Type == "Comment" and .Creator.id == "triage-bot")] | length == 1' \
    <<<"$history" >/dev/null || fail "history has no comment by triage-bot: $history"
jq -e '[.items[] | select(.Type == "Create" and .Creator.id == "agent")] | length == 1' \
    <<<"$history" >/dev/null || fail "history has no create by agent: $history"

query="$(jq -rn --arg q "LastUpdated >= '$since'" '$q | @uri')"
call token GET "/tickets?query=$query&fields=Subject,Queue&fields%5BQueue%5D=Name"
found="$BODY"
[[ "$STATUS" == 200 ]] || fail "search answered $STATUS: $found"
jq -e --arg id "$ticket" '.items | any(.id == $id and .Queue.Name == "Service Desk")' \
    <<<"$found" >/dev/null || fail "search since $since did not find ticket $ticket: $found"

"$INSTANCE_SCRIPT" stop "$dir"
! kill -0 "$pid" 2>/dev/null || fail "the server $pid still runs after stop"
echo "rt-smoke: ok (ticket $ticket created, commented, found; server stopped)"
