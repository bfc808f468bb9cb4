#!/bin/bash
# SPDX-License-Identifier: MIT
# Handoff on request: a host-owned lease is handed over at once when another host asks
# (`dlctl request`), without waiting for any expiry; a `dlctl run` holder gets a `request` event
# and stops its command (graceful); a force request stops a command that ignores SIGTERM. In
# each case the lease moves within a couple of seconds, the holder's command is gone before the
# new holder has it, and the leader record says handoff.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"

daemons_start 1 2 || { fail "daemons did not start"; finish; exit; }
mapfile -t D < <(mkdisks "$TMP/d" 1)
format_ls ls "${D[@]}"
join_all "1 2" "${D[@]}"

# leader_is RES WANT: leader from h1, h2 and the disks all print WANT ("owner token reason prev").
leader_is() {
	local n j
	for n in 1 2; do
		j=$(dl $n leader --json --lockspace ls --resource "$1" | jq -r '"\(.owner_host_id) \(.token) \(.reason) prev \(.prev_host_id)"')
		check "[ '$j' = '$2' ]" "$1: leader from h$n: $j"
	done
	j=$("$DLCTL" leader --direct --json --resource "$1" "${D[@]}" | jq -r '.resources[0] | "\(.owner_host_id) \(.token) \(.reason) prev \(.prev_host_id)"')
	check "[ '$j' = '$2' ]" "$1: leader --direct: $j"
}

# handoff_recorded RES: h1 released RES with reason handoff (history and audit log); the leader
# record then says the free lease was taken by host 2 (docs/operations.md section 9: "acquire",
# the release before it is in the releasing host's audit log).
handoff_recorded() {
	OUT=$(dl 1 history --json | jq -r --arg r "$1" '.events[] | select(.resource == $r and .kind == "released") | "\(.old_host_id) \(.reason)"')
	has "^1 handoff$" "$1: h1's history: released, reason handoff"
	OUT=$(grep '"kind": *"released"' "$TMP/h1/audit.jsonl" | grep "\"resource\": *\"$1\"")
	has '"reason": *"handoff"' "$1: h1's audit log: released, reason handoff"
	leader_is "$1" "2 $(dl 2 status --json | jq -r --arg r "$1" '.leases[] | select(.resource == $r) | .token') acquire prev 0"
}

# watch_start RES FILE: h1 watches RES, events as JSON lines in FILE.
watch_start() {
	dl 1 watch --json --lockspace ls --resource "$1" >"$2" 2>&1 &
	WATCH=$!
	bg_add $WATCH
	sleep 0.2
}

echo "# a host-owned lease"
expect 0 "h1 acquires H" -- dl 1 acquire --lockspace ls --resource H
t1=$OUT
watch_start H "$TMP/watchH"
t0=$(now_ms)
expect 0 "h2 requests H" -- dl 2 request --lockspace ls --resource H
expect 0 "h2 acquires H with --wait 10" -- dl 2 acquire --lockspace ls --resource H --wait 10
ms=$(($(now_ms) - t0))
t2=$OUT
check "[ $ms -lt 2000 ]" "request + acquire took $ms ms (< 2 s)"
check "[ '$t2' -gt '$t1' ] 2>/dev/null" "the token grows ($t1 -> $t2)"
OUT=$(dl 1 history --json | jq -r '.events[] | select(.resource == "H") | "\(.kind) \(.new_host_id // 0) \(.reason)"')
has "^request 2 " "h1's history: request from host 2"
handoff_recorded H
OUT=$(dl 1 status --json | jq -r '(.leases // [])[] | .resource')
hasnt "^H$" "h1 no longer lists H"
OUT=$(cat "$TMP/watchH")
has '"kind": *"request"' "h1's watch shows the request event"

echo "# dlctl run, graceful request"
(
	dl 1 run --lockspace ls --resource G -- sh -c "echo \$\$ > $TMP/G.pid; exec sleep 1000" 2>"$TMP/G.err"
	echo "$? $(date +%s%N)" >"$TMP/G.end"
) &
bg_add $!
if wait_until 5 test -s "$TMP/G.pid"; then ok "h1 runs a command under G"; else fail "dlctl run did not start its command"; fi
gpid=$(cat "$TMP/G.pid")
tg=$(dl 1 leader --json --lockspace ls --resource G | jq -r .token)
watch_start G "$TMP/watchG"
t0=$(now_ms)
expect 0 "h2 requests G (graceful)" -- dl 2 request --lockspace ls --resource G
expect 0 "h2 acquires G with --wait 10" -- dl 2 acquire --lockspace ls --resource G --wait 10
got=$(now_ms)
ms=$((got - t0))
tg2=$OUT
check "[ $ms -lt 2000 ]" "request + acquire took $ms ms (< 2 s)"
check "! kill -0 $gpid 2>/dev/null" "the command (pid $gpid) is gone when h2 has G"
wait_until 3 test -e "$TMP/G.end"
read -r rc _ <"$TMP/G.end" 2>/dev/null
check "[ '${rc:-}' = 75 ]" "dlctl run exits 75 (exit ${rc:-none})"
OUT=$(cat "$TMP/G.err")
has "requests lease" "and says the lease was requested"
OUT=$(cat "$TMP/watchG")
has '"kind": *"request".*"token": *'"$tg"'\b' "h1's watch shows a request event for token $tg"
has '"reason": *"[^"]*graceful' "marked graceful"
handoff_recorded G

echo "# dlctl run, force request, a command that ignores SIGTERM"
TICKS=$TMP/ticksF
(
	dl 1 run --lockspace ls --resource F --grace 20 -- sh -c "trap '' TERM; while :; do date +%s%N >> $TICKS; sleep 0.05; done" 2>"$TMP/F.err"
	echo "$? $(date +%s%N)" >"$TMP/F.end"
) &
bg_add $!
if wait_until 5 test -s "$TICKS"; then ok "h1 runs a command under F"; else fail "dlctl run did not start its command"; fi
watch_start F "$TMP/watchF"
t0=$(now_ms)
expect 0 "h2 requests F with --force" -- dl 2 request --lockspace ls --resource F --force
expect 0 "h2 acquires F with --wait 10" -- dl 2 acquire --lockspace ls --resource F --wait 10
got=$(now_ms)
tf2=$OUT
check "[ $((got - t0)) -lt $((T_MS / 2 + 2000)) ]" "force request + acquire took $((got - t0)) ms (< T/2 kill grace + 2 s)"
sleep 0.2
last=$(($(tail -1 "$TICKS") / 1000000))
ev_ms=$(dl 2 history --json | jq -r '[.events[] | select(.kind == "acquired" and .resource == "F")] | last | .time_ms')
check "[ $last -lt $ev_ms ]" "the command's last tick came $((ev_ms - last)) ms before h2 had F"
wait_until 3 test -e "$TMP/F.end"
read -r rc _ <"$TMP/F.end" 2>/dev/null
check "[ -n '${rc:-}' ] && [ '${rc:-}' != 0 ]" "dlctl run ended, not with success (exit ${rc:-none})"
OUT=$(cat "$TMP/watchF")
has '"kind": *"request".*force' "h1's watch shows the force request"
handoff_recorded F
finish
