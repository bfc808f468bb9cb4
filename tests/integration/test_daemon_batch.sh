#!/bin/bash
# SPDX-License-Identifier: MIT
# One event loop, one submission: a daemon in three lockspaces renews them together, and
# every round it makes in one pass of its loop (renewal reads and writes, host scans) reaches
# the kernel in one io_uring_enter. Counted with strace over a few seconds: without batching
# there is at least one io_uring_enter per round (two per renewal); with it, far fewer.
# The metrics file (metrics_file) is written at most every 10 s, not at every renewal.
# Needs strace; exits 77 (skipped) without it or when the engine is not io_uring.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"
command -v strace >/dev/null || { echo "skipped: no strace"; exit 77; }
[ "${DLEASE_IO_ENGINE:-uring}" = uring ] || { echo "skipped: engine ${DLEASE_IO_ENGINE}"; exit 77; }

renewals() {
	dl 1 status --json | python3 -c 'import json,sys; print(sum(l["renewals"] for l in json.load(sys.stdin)["lockspaces"]))'
}

for i in 1 2 3; do
	truncate -s 32M "$TMP/m$i.img"
	expect 0 "format lockspace m$i" -- "$DLCTL" format --lockspace "m$i" --max-hosts 8 --resources 4 --io-timeout 1 "$TMP/m$i.img"
done
printf 'metrics_file = %s\n' "$TMP/dlease.prom" >"$TMP/h1.conf"
daemon_start 1 --config "$TMP/h1.conf"
for i in 1 2 3; do expect 0 "join m$i" -- dl 1 join --host-id 1 "$TMP/m$i.img"; done
expect 0 "engine" -- dl 1 status --json
if ! echo "$OUT" | grep -q '"engine": *"uring"'; then echo "skipped: the daemon does not use io_uring here"; exit 77; fi
sleep 2
r0=$(renewals)
timeout -s INT 6 strace -f -c -e trace=io_uring_enter -p "${DPID[1]}" >"$TMP/strace.out" 2>&1
r1=$(renewals)
calls=$(awk '$NF == "io_uring_enter" { print $4 }' "$TMP/strace.out")
if [ -z "$calls" ]; then
	cat "$TMP/strace.out"
	echo "skipped: strace could not count (no ptrace here?)"
	exit 77
fi
n=$((r1 - r0))
echo "    $n renewals ($((2 * n)) renewal rounds, plus host scans) in $calls io_uring_enter calls"
if [ "$n" -ge 24 ]; then ok "three lockspaces renewed all along ($n renewals in 6 s)"; else fail "only $n renewals in 6 s"; fi
if [ "$calls" -gt 0 ] && [ "$calls" -le "$n" ]; then
	ok "rounds share submissions: $calls io_uring_enter for $((2 * n)) renewal rounds"
else
	fail "$calls io_uring_enter for $((2 * n)) renewal rounds: not batched"
fi
expect 0 "status" -- dl 1 status --json
valid=$(echo "$OUT" | python3 -c 'import json,sys; print(" ".join(str(l["valid_ms_left"]) for l in json.load(sys.stdin)["lockspaces"]))')
echo "    validity left per lockspace (ms): $valid"
# the textfile-collector file: written with the renewals, at most every 10 s
OUT=$(cat "$TMP/dlease.prom" 2>&1)
has '^dlease_renewals_total [1-9]' "metrics_file holds the counters"
has '^dlease_hosts\{lockspace="m3",state="live"\} 1' "and the gauges of every lockspace"
# every renewal (6 a second here) would change the mtime every second; every 10 s, at most once
for i in $(seq 16); do stat -c %Y "$TMP/dlease.prom"; sleep 0.25; done >"$TMP/mtimes"
distinct=$(sort -u "$TMP/mtimes" | wc -l)
if [ "$distinct" -le 2 ]; then ok "not rewritten at every renewal ($distinct mtimes in 4 s)"; else fail "rewritten $distinct times in 4 s"; fi
finish
