#!/usr/bin/env bash
# Records real REST2 responses from a fresh throwaway RT 5 instance into fixtures/rt/, and
# rewrites the request list in fixtures/rt/README.md (between the requests markers).
#
#   rt-capture-fixtures.sh [PORT]
#
# Every response body is saved as it came, pretty-printed by `jq -S .` (keys sorted, so
# re-recording gives readable diffs). Ids and times differ from run to run.
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly OUT="$SCRIPT_DIR/fixtures/rt"
readonly PORT="${1:-$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport')}"

work="$(mktemp -d)"
instance="$work/rt"
cleanup() {
    "$SCRIPT_DIR/rt-instance.sh" stop "$instance" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

"$SCRIPT_DIR/rt-instance.sh" start "$instance" "$PORT"
BASE="$(cat "$instance/url")/REST/2.0"
BOT_TOKEN="$(cat "$instance/token")"
AGENT_TOKEN="$(cat "$instance/agent-token")"
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.txt
listing="$work/requests.md"
: >"$listing"

uri_encode() {
    jq -rn --arg v "$1" '$v | @uri'
}

# req NAME AS METHOD PATH [BODY] [-- KEY=VALUE...]
#   AS is bot (triage-bot's token), agent (agent's token), bad (a wrong token) or none.
#   Saves the body to $OUT/NAME.json and sets LAST to the body and STATUS to the code.
req() {
    local name=$1 as=$2 method=$3 path=$4
    shift 4
    local body=''
    if [[ $# -gt 0 && $1 != -- ]]; then
        body=$1
        shift
    fi
    [[ $# -gt 0 && $1 == -- ]] && shift
    local -a params=("$@")
    local query='' pair
    for pair in "${params[@]}"; do
        query+="${query:+&}$(uri_encode "${pair%%=*}")=$(uri_encode "${pair#*=}")"
    done
    local url="$BASE$path${query:+?$query}"

    local -a auth=()
    case "$as" in
    bot) auth=(-H "Authorization: token $BOT_TOKEN") ;;
    agent) auth=(-H "Authorization: token $AGENT_TOKEN") ;;
    bad) auth=(-H "Authorization: token 1-999-0123456789abcdef0123456789abcdef") ;;
    none) ;;
    esac
    local -a data=()
    [[ -n "$body" ]] && data=(-H 'Content-Type: application/json' --data-binary "$body")

    STATUS="$(curl -gsS -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method" \
        "${auth[@]}" "${data[@]}" "$url")"
    if jq -S . "$work/body" >"$OUT/$name.json" 2>/dev/null && [[ -s "$OUT/$name.json" ]]; then
        :
    else
        # Not JSON (an empty 500, say): keep the raw bytes next to a note.
        rm -f "$OUT/$name.json"
        cp "$work/body" "$OUT/$name.txt"
    fi
    LAST="$(cat "$work/body")"
    local location
    location="$(sed -n 's/^Location: *//Ip' "$work/headers" | tr -d '\r')"

    {
        echo "### \`$name\` — $STATUS"
        echo
        echo "As \`$as\`: \`$method /REST/2.0$path\`${location:+ → Location \`$location\`}"
        if [[ ${#params[@]} -gt 0 ]]; then
            echo
            for pair in "${params[@]}"; do
                echo "- \`${pair%%=*}\` = \`${pair#*=}\`"
            done
        fi
        if [[ -n "$body" ]]; then
            echo
            echo '```json'
            jq -S . <<<"$body"
            echo '```'
        fi
        echo
    } >>"$listing"
}

expect() {
    local want=$1 what=$2
    [[ "$STATUS" == "$want" ]] || {
        echo "capture: $what answered $STATUS, expected $want: $LAST" >&2
        exit 1
    }
}

# Timestamps in TicketSQL are read in the requesting user's time zone; the instance runs UTC.
utc_now() { date -u '+%Y-%m-%d %H:%M:%S'; }

before_all="$(utc_now)"
sleep 1
req 01-create-ticket agent POST /ticket \
    '{"Queue":"Service Desk","Subject":"VPN drops every 10 minutes","Content":"Since Monday my VPN connection drops every ten minutes.\nLaptop: ThinkPad T14, Windows 11.","ContentType":"text/plain"}'
expect 201 'create ticket 1'
ticket="$(jq -r .id <<<"$LAST")"
sleep 1.1
after_first="$(utc_now)"
sleep 1.1
req 02-create-ticket-with-requestor agent POST /ticket \
    '{"Queue":"Accounts","Subject":"Locked out of my account","Content":"I typed my password wrong three times and now I am locked out.","ContentType":"text/plain","Requestor":"alice@example.com","Priority":20}'
expect 201 'create ticket 2'
req 03-create-ticket-html agent POST /ticket \
    '{"Queue":"General","Subject":"Printer on floor 3 jams","Content":"<p>The <b>printer</b> on floor 3 jams on every job.</p>","ContentType":"text/html"}'
expect 201 'create ticket 3'
req 04-create-ticket-no-queue agent POST /ticket '{"Subject":"no queue","Content":"x","ContentType":"text/plain"}'
req 05-create-ticket-unknown-queue agent POST /ticket '{"Queue":"No Such Queue","Subject":"x","Content":"x","ContentType":"text/plain"}'

req 06-ticket bot GET "/ticket/$ticket"
expect 200 'get ticket'

ticket_fields='Subject,Queue,Status,Owner,Creator,LastUpdated,Created,Priority,Resolved'
req 07-search-since bot GET /tickets -- "query=LastUpdated >= '$before_all'" orderby=LastUpdated order=ASC "fields=$ticket_fields"
expect 200 'search since'
req 08-search-since-with-names bot GET /tickets -- "query=LastUpdated >= '$before_all'" orderby=LastUpdated order=ASC \
    "fields=$ticket_fields" 'fields[Queue]=Name' 'fields[Owner]=Name,RealName,EmailAddress' 'fields[Creator]=Name,RealName'
expect 200 'search with names'
req 09-search-strictly-after-first bot GET /tickets -- "query=LastUpdated > '$after_first'" orderby=LastUpdated order=ASC 'fields=Subject,LastUpdated'
expect 200 'search after first'
req 10-search-page-1 bot GET /tickets -- "query=LastUpdated >= '$before_all'" orderby=id order=ASC per_page=2 page=1 'fields=Subject'
req 11-search-page-2 bot GET /tickets -- "query=LastUpdated >= '$before_all'" orderby=id order=ASC per_page=2 page=2 'fields=Subject'
# The same bound as 09 written as ISO 8601 with a Z: RT drops the time (reads midnight).
req 12-search-iso-t-z-misparsed bot GET /tickets -- "query=LastUpdated > '${after_first/ /T}Z'" 'fields=Subject,LastUpdated'
req 13-search-bad-query bot GET /tickets -- 'query=Bogus = 1'

sleep 1
req 14-comment-plain bot POST "/ticket/$ticket/comment" \
    '{"Content":"Triage suggestion: queue Network, confidence 0.91.\nSimilar resolved ticket: #12.","ContentType":"text/plain"}'
expect 201 'comment plain'
req 15-comment-html bot POST "/ticket/$ticket/comment" \
    '{"Content":"<p>Triage suggestion: <b>Network</b> (0.91)</p>","ContentType":"text/html"}'
expect 201 'comment html'
sleep 1
req 16-update-queue-priority-cf bot PUT "/ticket/$ticket" '{"Queue":"Network","Priority":50,"CustomFields":{"Category":"vpn"}}'
expect 200 'update queue'
req 17-update-unknown-queue bot PUT "/ticket/$ticket" '{"Queue":"No Such Queue"}'
sleep 1
req 18-set-owner agent PUT "/ticket/$ticket" '{"Owner":"agent"}'
expect 200 'set owner'
sleep 1
req 19-correspond-and-resolve agent POST "/ticket/$ticket/correspond" \
    '{"Content":"Replaced the VPN client profile; the connection has been stable for an hour.","ContentType":"text/plain","Status":"resolved"}'
expect 201 'correspond and resolve'
sleep 1
req 20-reopen agent PUT "/ticket/$ticket" '{"Status":"open"}'
expect 200 'reopen'
sleep 1
req 21-resolve-again agent PUT "/ticket/$ticket" '{"Status":"resolved"}'
expect 200 'resolve again'
req 22-ticket-after-changes bot GET "/ticket/$ticket"

req 22b-search-after-changes bot GET /tickets -- "query=LastUpdated >= '$before_all'" orderby=LastUpdated order=ASC \
    "fields=$ticket_fields,LastUpdatedBy" 'fields[Queue]=Name' 'fields[Owner]=Name' 'fields[LastUpdatedBy]=Name'

req 23-history bot GET "/ticket/$ticket/history"
req 24-history-with-fields bot GET "/ticket/$ticket/history" -- \
    'fields=Type,Creator,Created,Field,OldValue,NewValue,Data,Description' 'fields[Creator]=Name' per_page=100
expect 200 'history with fields'
create_txn="$(jq -r '[.items[] | select(.Type == "Create")][0].id' <<<"$LAST")"
req 25-transaction-create bot GET "/transaction/$create_txn"
req 26-transaction-attachments bot GET "/transaction/$create_txn/attachments"
req 27-transaction-attachments-with-fields bot GET "/transaction/$create_txn/attachments" -- \
    'fields=Subject,ContentType,Content,Filename,TransactionId,Creator,Created'
attachment="$(jq -r '.items[0].id' <<<"$LAST")"
req 28-attachment bot GET "/attachment/$attachment"
req 29-ticket-attachments-with-fields bot GET "/ticket/$ticket/attachments" -- \
    'fields=TransactionId,ContentType,Content,Creator,Created' 'fields[Creator]=Name' orderby=id order=DESC
req 30-transactions-by-sql bot GET /transactions -- \
    "query=ObjectType = 'RT::Ticket' AND ObjectId = $ticket AND ( Type = 'Correspond' OR Type = 'Comment' )" \
    orderby=Created order=DESC 'fields=Type,Creator,Created' 'fields[Creator]=Name'
req 31-transaction-attachments-bad-field-500 bot GET "/transaction/$create_txn/attachments" -- 'fields=Parent'

req 32-queue bot GET /queue/1
req 33-queues-all-with-names bot GET /queues/all -- 'fields=Name,Description'
req 34-user bot GET /user/agent

req 35-ticket-missing bot GET /ticket/999999
req 36-comment-on-missing-ticket bot POST /ticket/999999/comment '{"Content":"x","ContentType":"text/plain"}'
req 37-bad-token bad GET "/ticket/$ticket"
req 38-no-token none GET "/ticket/$ticket"
req 39-rest2-root bot GET /
req 40-rt-version bot GET /rt

# Put the listing between the markers in README.md.
readme="$OUT/README.md"
if [[ -f "$readme" ]] && grep -q '<!-- requests:begin -->' "$readme"; then
    perl -0pi -e '
        BEGIN { local $/; open my $fh, "<", shift @ARGV or die; $listing = <$fh>; }
        s/(<!-- requests:begin -->\n).*(<!-- requests:end -->)/$1\n$listing$2/s
    ' "$listing" "$readme"
else
    cp "$listing" "$OUT/REQUESTS.md"
    echo "capture: $readme has no requests markers; wrote $OUT/REQUESTS.md instead" >&2
fi
echo "capture: $(find "$OUT" -name '*.json' | wc -l) responses in $OUT"
