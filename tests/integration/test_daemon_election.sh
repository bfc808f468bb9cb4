#!/bin/bash
# SPDX-License-Identifier: MIT
# Leader election with three real daemons (three hosts) on shared files: three concurrent
# try-once acquires give exactly one token; every daemon and a direct read of the disks name the
# same holder; the hosts see each other live. On one disk, on three disks, on three disks one of
# which is wiped while the daemons run, and on three loop devices with 4096-byte sectors.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"

# elect LS RESOURCE DISK...: hosts 1..3 try at once; exactly one wins; all views agree.
elect() {
	local ls=$1 res=$2 n winners=0 winner=0 token=0 held=0
	shift 2
	for n in 1 2 3; do dl $n acquire --lockspace "$ls" --resource "$res" --wait 0 >"$TMP/acq$n.out" 2>&1 & eval "local ap$n=\$!"; done
	for n in 1 2 3; do
		local v="ap$n" rc=0
		wait "${!v}" || rc=$?
		if [ $rc = 0 ]; then
			winners=$((winners + 1)) winner=$n token=$(cat "$TMP/acq$n.out")
		elif grep -q "held by" "$TMP/acq$n.out"; then
			held=$((held + 1))
		else
			echo "    # h$n: exit $rc: $(cat "$TMP/acq$n.out")"
		fi
	done
	check "[ $winners = 1 ]" "$ls/$res: exactly one of three concurrent acquires wins ($winners: h$winner, token $token)"
	check "[ $held = 2 ]" "$ls/$res: the two others fail with \"held by\" ($held)"
	[ $winners = 1 ] || { show_log 1; show_log 2; show_log 3; return; }
	check "[[ '$token' =~ ^[0-9]+$ ]] && [ '$token' -ge 1 ]" "$ls/$res: the winner prints a token ($token)"
	OUT=$(cat "$TMP/acq$(( winner % 3 + 1 )).out")
	has "held by host $winner\b" "$ls/$res: a loser's error names host $winner"
	for n in 1 2 3; do
		local j
		j=$(dl $n leader --json --lockspace "$ls" --resource "$res" 2>&1)
		check "[ '$(jfield "$j" .owner_host_id 2>/dev/null)/$(jfield "$j" .token 2>/dev/null)' = '$winner/$token' ]" \
			"$ls/$res: leader from h$n names host $winner token $token ($(jfield "$j" '"\(.owner_host_id)/\(.token) \(.owner_state)"' 2>/dev/null || echo "$j"))"
	done
	local d
	d=$("$DLCTL" leader --direct --json --resource "$res" "$@" 2>&1)
	check "[ '$(echo "$d" | jq -r '.resources[0] | "\(.owner_host_id)/\(.token)"' 2>/dev/null)' = '$winner/$token' ]" \
		"$ls/$res: leader --direct on the disks agrees ($(echo "$d" | jq -r '.resources[0] | "\(.owner_host_id)/\(.token)"' 2>/dev/null || echo "$d"))"
	# since_ms: the holder's daemon and the disks must give the same time for this token
	local s_holder s_disk
	s_holder=$(dl $winner leader --json --lockspace "$ls" --resource "$res" | jq -r .since_ms)
	s_disk=$(echo "$d" | jq -r '.resources[0].since_ms')
	check "[ '$s_holder' = '$s_disk' ]" "$ls/$res: the holder's daemon reports the same since_ms as the disks ($s_holder vs $s_disk)"
	ELECTED=$winner TOKEN=$token
}

# all_live LS: every daemon lists hosts 1..3 live.
all_live() {
	local n
	for n in 1 2 3; do
		[ "$(dl $n hosts --json --lockspace "$1" | jq -r '[.hosts[] | select(.state == "live") | .host_id] | sort | join(",")')" = "1,2,3" ] || return 1
	done
}

daemons_start 1 2 3 || { fail "daemons did not start"; finish; exit; }

echo "# one disk"
mapfile -t D1 < <(mkdisks "$TMP/one" 1)
format_ls one "${D1[@]}"
t0=$(now_ms)
join_all "1 2 3" "${D1[@]}"
elect one leader "${D1[@]}"
if wait_until 6 all_live one; then
	ok "every daemon lists hosts 1, 2, 3 live ($(($(now_ms) - t0)) ms after the joins began)"
else
	fail "not every daemon lists 3 live hosts after 6 s"
	for n in 1 2 3; do dl $n hosts --lockspace one | sed 's/^/    | /'; done
fi
expect 0 "hosts (text) from h2" -- dl 2 hosts --lockspace one
has "^ +3 +h3 +[0-9]+ +live" "the text lists h3 live"
for n in 1 2 3; do
	dl $n status --json >"$TMP/status$n.json" 2>&1
	expect 0 "status --json of h$n is valid JSON" -- python3 -m json.tool "$TMP/status$n.json"
done
OUT=$(jq -r '.lockspaces[] | "\(.lockspace) \(.host_id) \(.state)"' "$TMP/status2.json")
has "^one 2 live$" "status of h2: lockspace one, host 2, live"
OUT=$(jq -r '.leases[] | "\(.lockspace)/\(.resource) \(.token) \(.state)"' "$TMP/status$ELECTED.json")
has "^one/leader $TOKEN held$" "status of the winner h$ELECTED lists the lease held"
expect 0 "the winner releases" -- dl "$ELECTED" release --lockspace one --resource leader
next=$((ELECTED % 3 + 1))
expect 0 "another host (h$next) acquires it now" -- dl $next acquire --lockspace one --resource leader --wait 0
check "[ '$OUT' -gt '$TOKEN' ] 2>/dev/null" "the new token is higher ($TOKEN -> $OUT)"

echo "# three disks"
mapfile -t D3 < <(mkdisks "$TMP/three" 3)
format_ls three "${D3[@]}"
join_all "1 2 3" "${D3[@]}"
elect three leader "${D3[@]}"
first=$ELECTED
expect 0 "verify: the three disks agree" -- "$DLCTL" verify "${D3[@]}"

echo "# three disks, one wiped while the daemons run"
dd if=/dev/zero of="${D3[1]}" bs=1M count=20 conv=notrunc status=none
wipe_ms=$(now_ms)
elect three leader2 "${D3[@]}"
sleep 1.5 # three renewals since the wipe
for n in 1 2 3; do
	st=$(dl $n status --json | jq -r '.lockspaces[] | select(.lockspace == "three") | "\(.state) \(.valid_ms_left)"')
	check "[ '${st%% *}' = live ] && [ '${st##* }' -gt 1000 ]" "h$n keeps lockspace three live on the majority ($st ms left, $(($(now_ms) - wipe_ms)) ms after the wipe)"
done
expect 0 "the first election's holder h$first still holds three/leader" -- dl "$first" status --json
OUT=$(echo "$OUT" | jq -r '.leases[] | "\(.lockspace)/\(.resource) \(.state)"')
has "^three/leader held$" "three/leader held"
check "wait_until 5 all_live three" "hosts 1, 2, 3 stay live in lockspace three"
old=$TOKEN
expect 0 "h$ELECTED releases leader2" -- dl "$ELECTED" release --lockspace three --resource leader2
next=$((ELECTED % 3 + 1))
expect 0 "h$next acquires leader2 on the two good disks" -- dl $next acquire --lockspace three --resource leader2 --wait 0
check "[ '$OUT' -gt '$old' ] 2>/dev/null" "the new token is higher ($old -> $OUT)"
expect 1 "verify names the wiped disk" -- "$DLCTL" verify "${D3[@]}"
has "$(basename "${D3[1]}")" "the wiped disk is named"

echo "# three loop devices with 4096-byte sectors"
if can_loop; then
	L=()
	for i in 0 1 2; do
		truncate -s 64M "$TMP/loop$i.img"
		dev=$(loop_attach "$TMP/loop$i.img" 4096) && L+=("$dev")
	done
	if [ ${#L[@]} = 3 ]; then
		expect 0 "format three loop devices" -- "$DLCTL" format --lockspace loop --max-hosts 8 --resources 16 --io-timeout 1 "${L[@]}"
		has "sector 4096" "4096-byte sectors taken from the devices"
		join_all "1 2 3" "${L[@]}"
		elect loop leader "${L[@]}"
		check "wait_until 5 all_live loop" "hosts 1, 2, 3 live in lockspace loop"
	else
		fail "could not attach three loop devices"
	fi
else
	echo "# skipped: not root or no loop devices"
fi
finish
