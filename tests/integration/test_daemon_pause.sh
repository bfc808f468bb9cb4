#!/bin/bash
# SPDX-License-Identifier: MIT
# A frozen daemon (SIGSTOP): the holder's command, run by `dlctl run`, must stop by itself when
# the validity page's deadline (last renewal + 2T) passes, although nobody tells it; the other
# host must not take the lease before the frozen host's last renewal is 4.25T old, and must get
# it; the command's last sign of life comes before the takeover. Resumed (SIGCONT), the daemon
# finds its lease lost and does not act as holder.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"

D_MS=$((T_MS * 425 / 100))
daemons_start 1 2 || { fail "daemons did not start"; finish; exit; }
mapfile -t D < <(mkdisks "$TMP/d" 1)
format_ls ls "${D[@]}"
join_all "1 2" "${D[@]}"

echo "# h1 runs a command under the lease; h2 waits for it"
TICKS=$TMP/ticks
(
	dl 1 run --lockspace ls --resource R -- sh -c "while :; do date +%s%N >> $TICKS; sleep 0.05; done" 2>"$TMP/run.err"
	echo "$? $(date +%s%N)" >"$TMP/run.end"
) &
bg_add $!
if wait_until 5 test -s "$TICKS"; then ok "the command runs under the lease"; else fail "the command did not start"; cat "$TMP/run.err"; fi
OUT=$(dl 1 status --json | jq -r '.leases[] | "\(.resource) \(.token) \(.state) \(.owner_pid)"')
has "^R 1 held [1-9][0-9]*$" "h1 holds R for the dlctl run process"
(
	dl 2 acquire --lockspace ls --resource R --wait 30 >"$TMP/acq.out" 2>&1
	echo "$? $(date +%s%N)" >"$TMP/acq.end"
) &
bg_add $!
sleep 1
check "[ ! -e '$TMP/acq.end' ]" "h2's acquire --wait 30 waits while h1 renews"

echo "# SIGSTOP h1's daemon"
stop_ns=$(date +%s%N)
kill -STOP "${DPID[1]}"
wait_until 12 test -e "$TMP/run.end"
if [ -e "$TMP/run.end" ]; then
	read -r rc end_ns <"$TMP/run.end"
	check "[ $rc = 75 ]" "dlctl run exits 75 (exit $rc)"
	OUT=$(cat "$TMP/run.err")
	has "no longer valid" "and says the lease is no longer valid"
else
	fail "dlctl run still running 12 s after the daemon froze"
fi
last_tick=$(tail -1 "$TICKS")
sleep 0.3
check "[ '$(tail -1 "$TICKS")' = '$last_tick' ]" "no tick after the command was stopped"
gap=$(((last_tick - stop_ns) / 1000000))
# the last counted renewal was submitted at most T/2 (+ one I/O) before the stop: the act
# deadline (+2T) falls 1.5T..2T after it, dlctl checks every 100 ms
check "[ $gap -ge $((T_MS * 3 / 2 - 150)) ] && [ $gap -le $((2 * T_MS + 300)) ]" "the command's last tick came $gap ms after SIGSTOP (act deadline 2T after the last renewal: 1.5T..2T + 0.3 s)"

wait_until 15 test -e "$TMP/acq.end"
if [ -e "$TMP/acq.end" ]; then
	read -r rc acq_ns <"$TMP/acq.end"
	OUT=$(cat "$TMP/acq.out")
	check "[ $rc = 0 ]" "h2's waiting acquire gets the lease (exit $rc, token $OUT)"
	new=$OUT
	ms=$(((acq_ns - stop_ns) / 1000000))
	check "[ $ms -gt $((T_MS * 375 / 100)) ] && [ $ms -lt $((6 * T_MS + 2000)) ]" "h2 has it $ms ms after SIGSTOP (> 3.75T, < 6T + 2 s)"
	last_ms=$("$DLCTL" dump --json "${D[@]}" | jq -r '.hosts[] | select(.host_id == 1) | .renewed_wall_ms')
	ev_ms=$(dl 2 history --json | jq -r '[.events[] | select(.kind == "acquired" and .resource == "R")] | last | .time_ms')
	check "[ $((ev_ms - last_ms)) -ge $D_MS ]" "h2 took over $((ev_ms - last_ms)) ms after h1's last renewal (>= 4.25T)"
	check "[ $((last_tick / 1000000)) -lt $ev_ms ]" "h1's command had stopped $((ev_ms - last_tick / 1000000)) ms before h2 took over"
	check "[ '$new' -gt 1 ] 2>/dev/null" "the token grows (1 -> $new)"
else
	fail "h2's acquire did not finish 15 s after SIGSTOP"
fi

echo "# SIGCONT h1's daemon"
cont_ms=$(now_ms)
kill -CONT "${DPID[1]}"
sleep 0.5
lost_seen() { dl 1 history --json | jq -e '[.events[] | select(.resource == "R" and .kind == "lost")] | length > 0'; }
if wait_until 3 lost_seen; then ok "h1's history records R lost"; else fail "h1's history has no lost event for R"; dl 1 history | sed 's/^/    | /'; fi
OUT=$(dl 1 history --json | jq -r '.events[] | "\(.kind) \(.resource // "-") \(.time_ms) \(.reason)"')
echo "$OUT" | sed 's/^/    # /'
OUT=$(dl 1 status --json | jq -r '(.leases // [])[] | select(.resource == "R") | .state')
check "[ -z '$OUT' ] || [ '$OUT' = lost ]" "h1's status does not show R held (${OUT:-no lease})"
gen_old=$(dl 1 history --json | jq -r '[.events[] | select(.kind == "joined")] | first | .new_generation')
# the lapsed delta lease is never revived: the daemon joins again with a new generation
h1live() { [ "$(dl 1 status --json | jq -r '.lockspaces[0].state')" = live ]; }
if wait_until 6 h1live; then ok "h1 is live again $(($(now_ms) - cont_ms)) ms after SIGCONT"; else fail "h1 not live 6 s after SIGCONT"; dl 1 status | sed 's/^/    | /'; fi
gen_new=$(generation 1 ls)
check "[ '$gen_new' -gt '$gen_old' ] 2>/dev/null" "with a new generation ($gen_old -> $gen_new)"
expect 0 "leader from h1" -- dl 1 leader --json --lockspace ls --resource R
OUT=$(echo "$OUT" | jq -r '"\(.owner_host_id) \(.token)"')
check "[ '$OUT' = '2 ${new:-x}' ]" "h1's daemon names host 2 token ${new:-?} as the holder ($OUT)"
expect 1 "h1 cannot take R back" -- dl 1 acquire --lockspace ls --resource R --wait 0
has "held by host 2" "held by host 2"
OUT=$(grep '"kind": *"lost"' "$TMP/h1/audit.jsonl")
has '"resource": *"R"' "the audit log records the loss"
# the validity page: no slot of h1 says R is held
held=$(python3 - "$TMP/h1/validity" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack_from("<I", b, 12)[0]
held = 0
for i in range(n):
    o = 64 + i * 256
    seq, state = struct.unpack_from("<II", b, o)
    res = b[o + 88:o + 136].split(b"\0")[0]
    if state == 1 and res == b"R":
        held += 1
print(held)
EOF
)
check "[ '$held' = 0 ]" "h1's validity page has no held slot for R ($held)"
expect 0 "h2 still holds R" -- dl 2 status --json
OUT=$(echo "$OUT" | jq -r '.leases[] | "\(.resource) \(.state)"')
has "^R held$" "R held on h2"
finish
