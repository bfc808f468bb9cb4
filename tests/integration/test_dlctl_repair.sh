#!/bin/bash
# SPDX-License-Identifier: MIT
# dlctl repair on files, no daemon: a resource whose leader is valid (lver k) and whose ballot
# block of one host is damaged (docs/design.md §4). Refusals write nothing (checksums before and
# after): blocker not damaged, a disk missing, no --force, a holder that renews, a lease area
# that changes. With --force: a free leader at max(every lver seen, --above) + 1 with reason
# operator_repair on every disk, the blocker's block empty, verify clean. io_timeout 1 s keeps
# each 4.25 T watch at 4.25 s.
source "$(dirname "$0")/lib.sh"
PLANT=$BUILD/dlplant

# ballot_offset RESOURCE HOST DISK...: byte offset of HOST's ballot in RESOURCE's lease area,
# from dump --json (the area's leader lba; ballots follow the leader and the request).
ballot_offset() {
	local res=$1 host=$2 json ss lba
	shift 2
	json=$("$DLCTL" dump --json "$@")
	ss=$(echo "$json" | sed -n 's/^  "sector_size": \([0-9]*\),$/\1/p')
	lba=$(echo "$json" | sed -n '/"resources": \[/,$p' |
		sed -n "s/^    {\"slot\": $res, \"state\": \"[a-z_]*\", \"lba\": \([0-9]*\),.*/\1/p")
	echo $(((lba + 1 + host) * ss))
}
# damage OFFSET FILE...: 8 random bytes inside the sector at OFFSET: a bad checksum
damage() {
	local off=$1
	shift
	for f in "$@"; do
		dd if=/dev/urandom of="$f" bs=1 count=8 seek=$((off + 100)) conv=notrunc status=none
	done
}
sums() { md5sum "$@" | cut -d' ' -f1 | tr '\n' ' '; }
# the JSON checks need python3, as in test_dlctl_disk.sh
have_py() { command -v python3 >/dev/null; }

echo "# one disk"
a="$TMP/a.img"
truncate -s 64M "$a"
expect 0 "format one disk, io_timeout 1 s" -- "$DLCTL" format --lockspace rep1 --max-hosts 8 --resources 16 --io-timeout 1 "$a"
"$PLANT" host 2 node-b 5 "$a"
"$PLANT" name 0 db "$a"
"$PLANT" leader 0 2 5 7 "$a"
"$PLANT" ballot 0 2 1002 1002 7 "$a"
off=$(ballot_offset 0 2 "$a")
damage "$off" "$a"
expect 1 "verify sees the damaged ballot" -- "$DLCTL" verify "$a"
has "resource 0 ballot of host 2 .*bad_checksum" "named by verify"

expect 2 "repair without --blocker is a usage error" -- "$DLCTL" repair --resource db "$a"
expect 2 "repair with both --resource and --index" -- "$DLCTL" repair --resource db --index 0 --blocker 2 "$a"
before=$(sums "$a")
expect 1 "repair of a resource that does not exist" -- "$DLCTL" repair --resource nope --blocker 2 "$a"
has "no resource named nope" "says so"
expect 1 "repair refuses a blocker whose block is not damaged" -- "$DLCTL" repair --resource db --blocker 1 --force "$a"
has "ballot block of host 1 in resource 0 is not damaged \(disk 1 empty\): nothing to repair" "says why"
expect 1 "repair without --force stops after the plan" -- "$DLCTL" repair --resource db --blocker 2 "$a"
has "waiting 4.250s \(4.25 x io_timeout\): the leader names host 2 as holder" "says it waits, and why"
has "ballot block of host 2: damaged on 1 of 1 disks \(disk 1 bad_checksum\)" "shows the damage"
has "1. leader at lba [0-9]+ \(byte [0-9]+\): lver 8, owner free \(host 0\), previous owner host 2 generation 5, reason operator_repair" "the leader it would write"
has "2. ballot block of host 2 at lba $((off / 512)) \(byte $off\): an empty \(all-zero\) sector" "the ballot sector it would write"
has "nothing written: add --force to write" "asks for --force"
[ "$(sums "$a")" = "$before" ] && ok "the refusals wrote nothing" || fail "a refusal changed the disk"

expect 0 "repair --force" -- "$DLCTL" repair --resource db --blocker 2 --force "$a"
has "repaired: resource db \(index 0\) is free at lver 8 on every disk" "new lver = max + 1"
has "next holder's token will be 9 or more; fenced services must from now on refuse every token up to 8" "tells the operator about fencing"
has "^audit: .* dlctl repair uid=[0-9]+ lockspace=rep1 .*resource=db index=0 blocker=2 damaged=1/1 lver=7->8 seen=7 above=0 prev_owner=2/g5 disks=$a$" "one audit line"
expect 0 "verify is clean" -- "$DLCTL" verify "$a"
expect 0 "dump shows the repaired leader" -- "$DLCTL" dump "$a"
has "^  0 +db +valid +free +8 .*operator_repair" "free, lver 8, reason operator_repair"
hasnt "ballot host 2" "the blocker's block is empty"
expect 0 "leader --direct names the previous holder" -- "$DLCTL" leader --direct --resource db "$a"
has "token 8, since .*, reason operator_repair" "token and reason"
has "previous holder host 2, generation 5" "previous holder"

echo "# --above"
"$PLANT" ballot 0 2 2002 2002 9 "$a"
damage "$off" "$a"
expect 0 "repair --above 1000 --force (by --index)" -- "$DLCTL" repair --index 0 --blocker 2 --above 1000 --force "$a"
has "highest lver on disk: 8 \(leader on disk 1\); --above 1000" "the lver seen and --above"
has "free at lver 1001 on every disk" "lver = --above + 1"
if have_py; then
	"$DLCTL" dump --json "$a" >"$TMP/a.json"
	expect 0 "dump --json: lver 1001, free, operator_repair, no ballot of host 2" -- python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["resources"][0]
assert r["lver"] == 1001 and r["owner_host_id"] == 0 and r["reason"] == "operator_repair", r
assert r["prev_owner_host_id"] == 0, r  # the leader before was the first repair: free
assert [b for b in r["ballots"] if b["slot"] == 2] == [], r["ballots"]
' "$TMP/a.json"
fi

echo "# three disks"
d="$TMP/d"
for i in 0 1 2; do truncate -s 64M "$d$i.img"; done
D=("$d"0.img "$d"1.img "$d"2.img)
expect 0 "format three disks" -- "$DLCTL" format --lockspace rep3 --max-hosts 8 --resources 16 --io-timeout 1 --sector-size 4096 "${D[@]}"
"$PLANT" host 3 node-c 7 "${D[@]}"
"$PLANT" name 5 vm-web "${D[@]}"
"$PLANT" leader 5 3 7 12 "${D[@]}"
"$PLANT" ballot 5 3 1003 1003 12 "${D[@]}"
"$PLANT" ballot 5 4 2004 2004 14 "${D[@]}"
off=$(ballot_offset 5 4 "${D[@]}")
damage "$off" "${D[0]}" "${D[1]}"
expect 1 "verify: host 4's ballot damaged on 2 of 3 disks" -- "$DLCTL" verify "${D[@]}"
before=$(sums "${D[@]}")
expect 1 "repair with a disk missing" -- "$DLCTL" repair --resource vm-web --blocker 4 --force "${D[0]}" "${D[1]}"
has "lockspace rep3 has 3 disks and 2 were given: repair writes the new leader to every disk, so give them all" "says every disk is needed"
expect 1 "repair with one disk given twice" -- "$DLCTL" repair --resource vm-web --blocker 4 --force "${D[0]}" "${D[1]}" "${D[0]}"
has "given twice" "says which"
[ "$(sums "${D[@]}")" = "$before" ] && ok "the refusals wrote nothing" || fail "a refusal changed a disk"

# the holder renews its slot (same generation) while repair watches
(for _ in $(seq 60); do "$PLANT" host 3 node-c 7 "${D[@]}"; sleep 0.2; done) &
renewer=$!
expect 1 "repair refuses while the holder renews" -- "$DLCTL" repair --resource vm-web --blocker 4 --force "${D[@]}"
has "host 3, which the leader names as holder \(generation 7\), renewed its host slot while it was watched" "says the holder may hold it"
kill "$renewer" 2>/dev/null; wait "$renewer" 2>/dev/null

# someone writes the lease area (a request) while repair watches
(for _ in $(seq 60); do "$PLANT" request 5 6 12 "${D[@]}"; sleep 0.2; done) &
writer=$!
expect 1 "repair refuses while the lease area changes" -- "$DLCTL" repair --resource vm-web --blocker 4 --force "${D[@]}"
has "resource 5's request changed on .* while it was watched: a host is acquiring, releasing or requesting it" "says what changed"
kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
"$PLANT" host 3 node-c 7 "${D[@]}"
# the planting above changed the host slot and the request; the ballots and leader must not move
expect 1 "the blocker's block is still damaged" -- "$DLCTL" verify "${D[@]}"
has "ballot of host 4 .*d0.img: bad_checksum" "disk 1"
has "ballot of host 4 .*d1.img: bad_checksum" "disk 2"
expect 0 "and the leader is still lver 12" -- "$DLCTL" leader --direct --resource vm-web "${D[@]}"
has "token 12, since .*, reason acquire" "unchanged"

# the holder rejoined with a newer generation and renews: its old holding is over
(for _ in $(seq 60); do "$PLANT" host 3 node-c 8 "${D[@]}"; sleep 0.2; done) &
renewer=$!
expect 0 "repair --force with the holder rejoined" -- "$DLCTL" repair --resource vm-web --blocker 4 --force "${D[@]}"
kill "$renewer" 2>/dev/null; wait "$renewer" 2>/dev/null
has "holder host 3: rejoined with generation 8, newer than the leader's 7" "says why the holder does not count"
has "highest lver on disk: 14 \(ballot of host 4 on disk 3\)" "the highest lver is the valid copy of the damaged block"
has "free at lver 15 on every disk" "new lver = 14 + 1 > 12"
expect 0 "verify is clean on all three disks" -- "$DLCTL" verify "${D[@]}"
has "3 disks agree" "all agree"
expect 0 "dump" -- "$DLCTL" dump "${D[@]}"
has "^  5 +vm-web +valid +free +15 .*operator_repair" "free at 15, operator_repair"
has "ballot host 3: valid" "other ballots are left alone"
hasnt "ballot host 4" "the blocker's block is empty on every disk"
if have_py; then
	"$DLCTL" dump --json "${D[@]}" >"$TMP/d.json"
	expect 0 "dump --json: every disk valid, prev owner 3/g7" -- python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["resources"][5]
assert r["lver"] == 15 and r["owner_host_id"] == 0 and r["reason"] == "operator_repair", r
assert r["prev_owner_host_id"] == 3 and r["prev_owner_generation"] == 7, r
assert all(d["state"] == "valid" for d in r["disks"]), r["disks"]
assert [b["slot"] for b in r["ballots"]] == [3], r["ballots"]
' "$TMP/d.json"
fi
expect 1 "a second repair finds nothing to repair" -- "$DLCTL" repair --resource vm-web --blocker 4 "${D[@]}"
has "not damaged \(disk 1 empty, disk 2 empty, disk 3 empty\)" "all three empty"
finish
