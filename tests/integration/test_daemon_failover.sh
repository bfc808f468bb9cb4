#!/bin/bash
# SPDX-License-Identifier: MIT
# Failover after a crash: the holder's daemon is killed with SIGKILL while another host waits in
# `dlctl acquire --wait`. The waiter must not take over before the dead host's last renewal is
# 4.25T old (host dead D), and must have the lease within 6T + 2 s of the kill; the token grows,
# the new holder records a takeover. The killed host's daemon, restarted on the same run
# directory, rejoins with a higher generation and does not think it holds anything.
# On one file, then on three files.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"

D_MS=$((T_MS * 425 / 100)) # host dead: 4.25T

# failover LS DISK...: hosts 1 and 2 (running) join LS; 1 holds, is killed; 2 takes over.
failover() {
	local ls=$1
	shift
	join_all "1 2" "$@"
	expect 0 "$ls: h1 acquires" -- dl 1 acquire --lockspace "$ls" --resource leader --wait 0
	local old=$OUT gen1
	gen1=$(generation 1 "$ls")
	check "[[ '$gen1' =~ ^[0-9]+$ ]]" "$ls: h1's generation from status --json ($gen1)"
	rm -f "$TMP/acq.end"
	(
		dl 2 acquire --lockspace "$ls" --resource leader --wait 30 >"$TMP/acq.out" 2>&1
		echo "$? $(date +%s%N)" >"$TMP/acq.end"
	) &
	local waiter=$!
	bg_add $waiter
	sleep 1.2 # the waiter has read the leader and is polling the owner's slot
	check "[ ! -e '$TMP/acq.end' ]" "$ls: h2's acquire --wait 30 is waiting while h1 lives"
	local kill_ns
	kill_ns=$(date +%s%N)
	kill -KILL "${DPID[1]}"
	wait "${DPID[1]}" 2>/dev/null
	unset "DPID[1]"
	wait $waiter
	local rc end_ns ms
	read -r rc end_ns <"$TMP/acq.end"
	ms=$(((end_ns - kill_ns) / 1000000))
	OUT=$(cat "$TMP/acq.out")
	check "[ $rc = 0 ]" "$ls: h2's waiting acquire gets the lease (exit $rc: $OUT)"
	local new=$OUT
	check "[ $ms -gt $((T_MS * 375 / 100)) ]" "$ls: no takeover sooner than 4.25T after the last renewal can have been written (T/2 before the kill): $ms ms after SIGKILL > $((T_MS * 375 / 100)) ms"
	check "[ $ms -lt $((6 * T_MS + 2000)) ]" "$ls: failover within 6T + 2 s: $ms ms after SIGKILL < $((6 * T_MS + 2000)) ms"
	check "[ '$new' -gt '$old' ] 2>/dev/null" "$ls: the new token is higher ($old -> $new)"
	# exact bound: h2 decided (event time) at least D after h1's last renewal (its slot's time)
	local last_ms ev_ms
	last_ms=$("$DLCTL" dump --json "$@" | jq -r '.hosts[] | select(.host_id == 1) | .renewed_wall_ms')
	dl 2 history --json --lockspace "$ls" >"$TMP/hist2.json"
	ev_ms=$(jq -r '[.events[] | select(.kind == "acquired" and .resource == "leader")] | last | .time_ms' "$TMP/hist2.json")
	check "[ $((ev_ms - last_ms)) -ge $D_MS ]" "$ls: h2 took over $((ev_ms - last_ms)) ms after h1's last renewal on disk (>= 4.25T = $D_MS ms); the kill came $(((kill_ns / 1000000) - last_ms)) ms after it"
	OUT=$(jq -r '.events[] | "\(.kind) \(.resource // "-") \(.old_host_id // 0)/\(.old_generation // 0) -> \(.new_host_id // 0) token \(.token // 0): \(.reason)"' "$TMP/hist2.json")
	has "^acquired leader 1/$gen1 -> 2 token $new: takeover_owner_dead" "$ls: h2's history: acquired from host 1 by takeover_owner_dead"
	expect 0 "$ls: leader from h2" -- dl 2 leader --json --lockspace "$ls" --resource leader
	OUT=$(echo "$OUT" | jq -r '"\(.owner_host_id) \(.token) \(.reason) prev \(.prev_host_id)/\(.prev_generation)"')
	has "^2 $new takeover_owner_dead prev 1/$gen1$" "$ls: leader: host 2, token $new, reason takeover_owner_dead, previous holder host 1"
	expect 0 "$ls: leader --direct" -- "$DLCTL" leader --direct --json --resource leader "$@"
	OUT=$(echo "$OUT" | jq -r '.resources[0] | "\(.owner_host_id) \(.token) \(.reason)"')
	has "^2 $new takeover_owner_dead$" "$ls: the disks agree"
	# the host scan (every 2T) is separate from the resource's owner watch: dead <= 8.25T after the
	# last renewal, i.e. up to 4T after the takeover
	hostdead() { [ "$(dl 2 hosts --json --lockspace "$1" | jq -r '.hosts[] | select(.host_id == 1) | .state')" = dead ]; }
	if wait_until 5 hostdead "$ls"; then
		ok "$ls: h2 lists host 1 dead $(($(now_ms) - ev_ms)) ms after it took over host 1's lease"
	else
		fail "$ls: h2 does not list host 1 dead 5 s after taking over its lease"
		dl 2 hosts --lockspace "$ls" | sed 's/^/    | /'
	fi
	OUT=$(dl 2 history --json --lockspace "$ls" | jq -r '.events[] | "\(.kind) \(.old_host_id // 0)/\(.old_generation // 0) \(.time_ms)"')
	has "^host_dead 1/$gen1 " "$ls: h2's history: host_dead for host 1 ($(echo "$OUT" | awk '$1 == "host_dead" {print $3 - '"$ev_ms"' " ms after the takeover"}'))"

	echo "# $ls: h1's daemon restarted on the same run directory"
	check "[ -e '$TMP/h1/dleased.lock' ] && [ -e '$TMP/h1/dleased.pid' ]" "$ls: the killed daemon left its lock and pid files"
	if ! daemon_start 1; then
		fail "$ls: the daemon does not restart on the run directory of a killed one"
		return
	fi
	ok "$ls: the daemon restarts on the killed one's run directory"
	OUT=$(dl 1 status --json | jq -r '.lockspaces | length')
	check "[ '$OUT' = 0 ]" "$ls: the restarted daemon is in no lockspace ($OUT)"
	expect 0 "$ls: h1 joins again" -- dl 1 join --host-id 1 "$@"
	local gen1b
	gen1b=$(generation 1 "$ls")
	check "[ '$gen1b' -gt '$gen1' ] 2>/dev/null" "$ls: with a higher generation ($gen1 -> $gen1b)"
	OUT=$(dl 1 status --json | jq -r '.leases | length')
	check "[ '$OUT' = 0 ]" "$ls: h1 holds no lease after the restart ($OUT)"
	expect 1 "$ls: h1 cannot acquire: h2 holds" -- dl 1 acquire --lockspace "$ls" --resource leader --wait 0
	has "held by host 2" "$ls: the error names host 2"
	hostlive() { [ "$(dl 2 hosts --json --lockspace "$1" | jq -r ".hosts[] | select(.host_id == 1) | \"\(.state) \(.generation)\"")" = "live $2" ]; }
	if wait_until 5 hostlive "$ls" "$gen1b"; then ok "$ls: h2 sees host 1 live again with generation $gen1b"; else
		fail "$ls: h2 does not list host 1 live with generation $gen1b"
		dl 2 hosts --lockspace "$ls" | sed 's/^/    | /'
	fi
}

daemons_start 1 2 || { fail "daemons did not start"; finish; exit; }
echo "# one disk"
mapfile -t D1 < <(mkdisks "$TMP/one" 1)
format_ls one "${D1[@]}"
failover one "${D1[@]}"

echo "# three disks"
dl 1 leave --lockspace one --force >/dev/null 2>&1
dl 2 leave --lockspace one --force >/dev/null 2>&1
mapfile -t D3 < <(mkdisks "$TMP/three" 3)
format_ls three "${D3[@]}"
failover three "${D3[@]}"
finish
