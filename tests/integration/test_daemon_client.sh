#!/bin/bash
# SPDX-License-Identifier: MIT
# The client side: a lease held by a process ends the moment that process dies (no expiry to wait
# for); `dlctl run` hands its command the lease in the environment and exits with its status;
# `dlctl watch` delivers every event exactly once across reconnections with --since; a daemon
# stopped with SIGTERM stops its holders, releases everything and leaves, so another host takes
# over at once and the disk shows the host gone.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"

daemons_start 1 2 || { fail "daemons did not start"; finish; exit; }
mapfile -t D < <(mkdisks "$TMP/d" 1)
format_ls ls "${D[@]}"
join_all "1 2" "${D[@]}"

# waiter N RES NAME: host N's `acquire --wait 10` in the background; NAME.out, NAME.end ("rc ns")
waiter() {
	(
		dl "$1" acquire --lockspace ls --resource "$2" --wait 10 >"$TMP/$3.out" 2>&1
		echo "$? $(date +%s%N)" >"$TMP/$3.end"
	) &
	bg_add $!
}

echo "# a client killed with SIGKILL releases at once"
DLEASE_RUN_DIR=$TMP/h1 "$DLCTL" run --lockspace ls --resource C -- sh -c "echo \$\$ > $TMP/C.pid; exec sleep 1000" 2>"$TMP/C.err" &
runpid=$!
bg_add $runpid
if wait_until 5 test -s "$TMP/C.pid"; then ok "dlctl run (pid $runpid) runs its command"; else fail "dlctl run did not start its command"; fi
cpid=$(cat "$TMP/C.pid" 2>/dev/null)
OUT=$(dl 1 status --json | jq -r '.leases[] | "\(.resource) \(.state) \(.owner_pid)"')
has "^C held $runpid$" "the lease belongs to the dlctl run process"
waiter 2 C C
sleep 0.7
check "[ ! -e '$TMP/C.end' ]" "h2 waits while the client lives"
k=$(date +%s%N)
kill -KILL $runpid
wait $runpid 2>/dev/null
wait_until 5 test -e "$TMP/C.end"
read -r rc e <"$TMP/C.end"
ms=$(((e - k) / 1000000))
check "[ $rc = 0 ]" "h2's acquire gets C (exit $rc: $(cat "$TMP/C.out"))"
check "[ $ms -lt 1000 ]" "$ms ms after the client's SIGKILL (< 1 s: no expiry)"
wait_until 2 bash -c "! { [ -e /proc/$cpid/status ] && ! grep -q '^State:.*Z' /proc/$cpid/status; }"
check "! alive $cpid" "the command died with dlctl run (PR_SET_PDEATHSIG)"
OUT=$(dl 1 history --json | jq -r '.events[] | select(.resource == "C") | "\(.kind) \(.reason)"')
has "^released " "h1's history: C released"

echo "# dlctl run: environment and exit status"
expect 3 "the command's exit status is dlctl run's" -- dl 1 run --lockspace ls --resource E -- sh -c "env > $TMP/env; exit 3"
tok=$(dl 1 history --json | jq -r '[.events[] | select(.kind == "acquired" and .resource == "E")] | last | .token')
OUT=$(grep '^DLEASE_' "$TMP/env")
has "^DLEASE_TOKEN=$tok$" "DLEASE_TOKEN=$tok (the acquired token)"
has "^DLEASE_RESOURCE=E$" "DLEASE_RESOURCE"
has "^DLEASE_LOCKSPACE=ls$" "DLEASE_LOCKSPACE"
has "^DLEASE_HOST_ID=1$" "DLEASE_HOST_ID"
has "^DLEASE_RUN_DIR=$TMP/h1$" "DLEASE_RUN_DIR"
OUT=$(dl 1 status --json | jq -r '(.leases // [])[] | .resource')
hasnt "^E$" "E is released when the command has exited"
expect 0 "h2 takes E at once" -- dl 2 acquire --lockspace ls --resource E --wait 0
expect 0 "exit 0 passes through" -- dl 1 run --lockspace ls --resource E0 -- true
expect 1 "dlctl run on a lease held elsewhere exits 1, command not run" -- dl 1 run --lockspace ls --resource E -- touch "$TMP/notrun"
check "[ ! -e '$TMP/notrun' ]" "the command did not run"
expect 127 "a command that does not exist: 127" -- dl 1 run --lockspace ls --resource E1 -- "$TMP/no-such-command"
expect 143 "a command killed by SIGTERM: 128+15" -- dl 1 run --lockspace ls --resource E2 -- sh -c 'kill -TERM $$'

echo "# watch: every event exactly once across reconnections"
S0=$(dl 1 history --json | jq -r '[.events[].seq] | max')
(
	for i in $(seq 8); do
		dl 1 acquire --lockspace ls --resource "W$((i % 3))" >/dev/null
		dl 1 release --lockspace ls --resource "W$((i % 3))"
		sleep 0.05
	done
	touch "$TMP/loop.done"
) &
bg_add $!
seqs() { jq -r 'select(.seq != null) | .seq' "$1" 2>/dev/null; }
expect 0 "watch A: --since $S0 --count 5" -- dl 1 watch --json --since "$S0" --count 5
echo "$OUT" >"$TMP/wA"
LA=$(seqs "$TMP/wA" | tail -1)
sleep 0.3
expect 0 "watch B: --since $LA --count 4" -- dl 1 watch --json --since "$LA" --count 4
echo "$OUT" >"$TMP/wB"
LB=$(seqs "$TMP/wB" | tail -1)
wait_until 20 test -e "$TMP/loop.done" || fail "the acquire/release loop did not finish"
END=$(dl 1 history --json | jq -r '[.events[].seq] | max')
n=$((END - LB))
expect 0 "watch C: --since $LB --count $n (up to #$END)" -- timeout 10 "$DLCTL" watch --run-dir "$TMP/h1" --json --since "$LB" --count "$n"
echo "$OUT" >"$TMP/wC"
all=$(cat "$TMP/wA" "$TMP/wB" "$TMP/wC" | jq -r 'select(.seq != null) | .seq' | tr '\n' ' ')
want=$(seq $((S0 + 1)) "$END" | tr '\n' ' ')
check "[ '$all' = '$want' ]" "the three watches saw #$((S0 + 1))..#$END once each, in order ($(echo $all | wc -w) events)"
OUT=$(cat "$TMP/wA" "$TMP/wB" "$TMP/wC")
hasnt '"gap"' "no gap reported"
check "[ $((END - S0)) -ge 16 ]" "the loop made at least 16 events ($((END - S0)))"
expect 0 "watch --since 0 --count $END replays the whole history" -- dl 1 watch --json --since 0 --count "$END"
check "[ '$(echo "$OUT" | jq -r 'select(.seq != null) | .seq' | tr '\n' ' ')' = '$(seq 1 "$END" | tr '\n' ' ')' ]" "#1..#$END, once each"
dl 1 history --json | jq -c '.events[]' | sort >"$TMP/hist.sorted"
echo "$OUT" | jq -c 'select(.seq != null)' | sort >"$TMP/watch.sorted"
check "cmp -s '$TMP/hist.sorted' '$TMP/watch.sorted'" "the replayed events equal the history's"

echo "# dleased SIGTERM: stops its holders, releases everything, leaves"
expect 0 "h1 holds S (host-owned)" -- dl 1 acquire --lockspace ls --resource S
DLEASE_RUN_DIR=$TMP/h1 "$DLCTL" run --lockspace ls --resource P -- sh -c "echo \$\$ > $TMP/P.pid; exec sleep 1000" 2>"$TMP/P.err" &
prun=$!
bg_add $prun
if wait_until 5 test -s "$TMP/P.pid"; then ok "h1 runs a command under P"; else fail "dlctl run did not start"; fi
ppid_=$(cat "$TMP/P.pid" 2>/dev/null)
waiter 2 S S
waiter 2 P P
sleep 0.7
k=$(date +%s%N)
kill -TERM "${DPID[1]}"
for r in S P; do
	wait_until 5 test -e "$TMP/$r.end"
	read -r rc e <"$TMP/$r.end" 2>/dev/null
	ms=$(((${e:-0} - k) / 1000000))
	check "[ '${rc:-}' = 0 ]" "h2 gets $r (exit ${rc:-none}: $(cat "$TMP/$r.out" 2>/dev/null))"
	check "[ $ms -lt 1000 ]" "$ms ms after h1's daemon got SIGTERM (< 1 s)"
done
check "! alive $ppid_" "h1's holder command is gone"
wait $prun
rc=$?
check "[ $rc = 75 ]" "its dlctl run exits 75 (exit $rc)"
wait_until 5 bash -c "! kill -0 ${DPID[1]} 2>/dev/null"
check "! kill -0 ${DPID[1]} 2>/dev/null" "h1's daemon has exited"
wait "${DPID[1]}"
rc=$?
check "[ $rc = 0 ]" "with status 0 (exit $rc)"
unset "DPID[1]"
OUT=$("$DLCTL" dump --json "${D[@]}" | jq -r '.hosts[] | select(.host_id == 1) | .host_state')
check "[ '$OUT' = left ] || [ '$OUT' = free ]" "dump shows host 1's slot left ($OUT)"
check "[ ! -e '$TMP/h1/dleased.sock' ]" "the socket is removed"
OUT=$(grep '"kind": *"left"' "$TMP/h1/audit.jsonl")
has '"lockspace": *"ls"' "h1's audit log: left ls"
finish
