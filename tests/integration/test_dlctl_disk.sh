#!/bin/bash
# SPDX-License-Identifier: MIT
# dlctl format / dump / verify on real files and loop devices with real O_DIRECT I/O:
# layouts on 1 and 3 disks, damage made with dd and found, every bad input answered with one
# clear line naming the device and the problem, and nothing on disk changed by a refusal.
source "$(dirname "$0")/lib.sh"

d="$TMP/d"
for i in 0 1 2; do truncate -s 64M "$d$i.img"; done

echo "# bad command lines and bad devices"
expect 2 "no command" -- "$DLCTL"
expect 2 "unknown command" -- "$DLCTL" frobnicate
expect 2 "format without options" -- "$DLCTL" format "$d"0.img
expect 2 "format with bad --max-hosts" -- "$DLCTL" format --lockspace a --max-hosts 0 --resources 4 "$d"0.img
expect 2 "format with bad --sector-size" -- "$DLCTL" format --lockspace a --max-hosts 4 --resources 4 --sector-size 1024 "$d"0.img
expect 1 "format on a path that does not exist" -- "$DLCTL" format --lockspace a --max-hosts 4 --resources 4 "$TMP/nope.img"
has "$TMP/nope.img: cannot open: No such file" "the error names the path and the problem"
expect 1 "format on a directory" -- "$DLCTL" format --lockspace a --max-hosts 4 --resources 4 "$TMP"
has "$TMP: cannot open" "the error names the directory"
expect 1 "format with a bad lockspace name" -- "$DLCTL" format --lockspace "a b" --max-hosts 4 --resources 4 "$d"0.img
has "lockspace name" "names the problem"
expect 1 "two disks are refused" -- "$DLCTL" format --lockspace a --max-hosts 4 --resources 4 "$d"0.img "$d"1.img
has "1, 3 or 5 disks" "says why"
expect 1 "the same disk twice is refused" -- "$DLCTL" format --lockspace a --max-hosts 4 --resources 4 "$d"0.img "$d"1.img "$d"0.img
has "given twice" "says which"
truncate -s 8M "$TMP/small.img"
expect 1 "a disk too small" -- "$DLCTL" format --lockspace a --max-hosts 8 --resources 16 "$TMP/small.img"
has "small.img: too small: 8.0 MiB.*need at least 19.0 MiB" "says how large it must be"
expect 1 "dump of an unformatted disk" -- "$DLCTL" dump "$d"0.img
has "d0.img: no dlease lockspace header \(sector 0 is empty\)" "says it is unformatted"
head -c 1M /dev/urandom >"$TMP/foreign.img"; truncate -s 64M "$TMP/foreign.img"
sum_before=$(md5sum <"$TMP/foreign.img")
expect 1 "format refuses a disk holding other data" -- "$DLCTL" format --lockspace a --max-hosts 4 --resources 4 "$TMP/foreign.img"
has "foreign.img: sector 0 is not empty \(bad_magic" "says what it found"
[ "$(md5sum <"$TMP/foreign.img")" = "$sum_before" ] && ok "the refused disk is unchanged" || fail "the refused disk was modified"
expect 1 "dump of a disk of another format" -- "$DLCTL" dump "$TMP/foreign.img"
has "no dlease lockspace header \(sector 0 is bad_magic\)" "says it is not a lockspace"

echo "# one disk"
expect 0 "format one 64 MiB file" -- "$DLCTL" format --lockspace one --max-hosts 8 --resources 16 "$d"0.img
has "formatted lockspace 'one'" "reports the lockspace"
expect 0 "dump it" -- "$DLCTL" dump "$d"0.img
has "^lockspace one " "shows the header"
has "max-hosts 8  resources 16  io-timeout 2.000 s  disks 1" "shows the geometry"
expect 0 "verify it" -- "$DLCTL" verify "$d"0.img
has "^ok: lockspace one, 1 disk agree" "verify is happy"
sum_before=$(md5sum <"$d"0.img)
expect 1 "format refuses a formatted disk" -- "$DLCTL" format --lockspace two --max-hosts 8 --resources 16 "$d"0.img
has "d0.img: already formatted: lockspace 'one' \(uuid [0-9a-f-]+, disk 1 of 1\); use --force" "names the lockspace it would destroy"
[ "$(md5sum <"$d"0.img)" = "$sum_before" ] && ok "the refused disk is unchanged" || fail "the refused disk was modified"
expect 0 "dump --json" -- "$DLCTL" dump --json "$d"0.img
echo "$OUT" >"$TMP/one.json"
if command -v python3 >/dev/null; then
	expect 0 "dump --json is one JSON object with every slot" -- python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert set(["lockspace", "sector_size", "disks", "hosts", "resources"]) <= set(d), d.keys()
assert d["lockspace"]["name"] == "one" and d["lockspace"]["max_hosts"] == 8
assert len(d["hosts"]) == 8 and all(h["state"] == "empty" and "slot" in h for h in d["hosts"])
assert len(d["resources"]) == 16 and all(r["state"] == "valid" and r["lver"] == 0 for r in d["resources"])
assert d["damaged_slots"] == 0
' "$TMP/one.json"
fi
expect 0 "format --force overwrites" -- "$DLCTL" format --lockspace two --max-hosts 8 --resources 16 --force "$d"0.img
expect 0 "dump shows the new lockspace" -- "$DLCTL" dump "$d"0.img
has "^lockspace two " "new name"

echo "# three disks"
expect 0 "format three disks" -- "$DLCTL" format --lockspace three --max-hosts 8 --resources 16 --sector-size 4096 "$d"0.img "$d"1.img "$d"2.img --force
expect 0 "verify three disks, given in another order" -- "$DLCTL" verify "$d"2.img "$d"0.img "$d"1.img
has "3 disks agree" "all three agree"
# resource 0's leader: lba 768 (3 MiB) with 4 KiB sectors, 8 hosts, 16 resources
dd if=/dev/urandom of="$d"1.img bs=1 count=8 seek=$((3 * 1048576 + 100)) conv=notrunc status=none
expect 0 "dump with a corrupted leader on disk 2" -- "$DLCTL" dump "$d"0.img "$d"1.img "$d"2.img
has "^  0 .*bad_checksum.*0:valid,1:bad_checksum,2:valid" "flags resource 0's leader per disk"
expect 1 "verify finds it" -- "$DLCTL" verify "$d"0.img "$d"1.img "$d"2.img
has "damaged: resource 0 leader \(lba 768\) on $d""1.img: bad_checksum" "names the slot and the disk"
# a sector copied from disk 1 to disk 3 at the same place: wrong disk
dd if="$d"0.img of="$d"2.img bs=4096 count=1 skip=1280 seek=1280 conv=notrunc status=none
# and a sector copied within disk 1 to another place: misplaced
dd if="$d"0.img of="$d"0.img bs=4096 count=1 skip=768 seek=$((768 + 256)) conv=notrunc status=none
expect 1 "verify finds the copied sectors" -- "$DLCTL" verify "$d"0.img "$d"1.img "$d"2.img
has "resource 1 leader \(lba 1024\) on .*d0.img: misplaced" "misplaced"
has "resource 2 leader \(lba 1280\) on .*d2.img: wrong_disk" "wrong disk"
has "resource 0 leader \(lba 768\) on .*d1.img: bad_checksum" "still the checksum damage"
expect 0 "dump with one disk missing" -- "$DLCTL" dump "$d"0.img "$d"2.img
has "disks 3 \(majority 2\)" "still reads the lockspace"
expect 1 "verify with one disk missing" -- "$DLCTL" verify "$d"0.img "$d"2.img
has "incomplete: 2 of the lockspace's 3 disks given" "says a disk is missing"
truncate -s 64M "$TMP/other.img"
"$DLCTL" format --lockspace other --max-hosts 8 --resources 16 --sector-size 4096 "$TMP/other.img" >/dev/null
expect 1 "verify with a disk of another lockspace" -- "$DLCTL" verify "$d"0.img "$d"1.img "$TMP/other.img"
has "other.img: header disagrees" "names the foreign disk"

echo "# both engines read the same"
"$DLCTL" format --lockspace eng --max-hosts 8 --resources 16 --force "$d"0.img "$d"1.img "$d"2.img >/dev/null
DLEASE_IO_ENGINE=uring "$DLCTL" dump --json --all "$d"0.img "$d"1.img "$d"2.img | grep -v '"engine"' >"$TMP/uring.json"
DLEASE_IO_ENGINE=aio "$DLCTL" dump --json --all "$d"0.img "$d"1.img "$d"2.img | grep -v '"engine"' >"$TMP/aio.json"
cmp -s "$TMP/uring.json" "$TMP/aio.json" && ok "uring and aio dumps are identical" || fail "uring and aio dumps differ"
expect 0 "engine is reported" -- env DLEASE_IO_ENGINE=aio "$DLCTL" dump "$d"0.img "$d"1.img "$d"2.img
has "engine aio" "aio when forced"
expect 0 "engine default" -- "$DLCTL" dump "$d"0.img "$d"1.img "$d"2.img
has "engine uring" "io_uring by default"
if command -v strace >/dev/null; then
	expect 0 "strace: the default engine calls io_uring_enter" -- env ASAN_OPTIONS=detect_leaks=0 strace -f -c -e trace=io_uring_enter,io_submit "$DLCTL" dump "$d"0.img
	has "io_uring_enter" "io_uring_enter seen"
	hasnt "io_submit" "no io_submit"
	expect 0 "strace: the forced aio engine calls io_submit" -- env ASAN_OPTIONS=detect_leaks=0 DLEASE_IO_ENGINE=aio strace -f -c -e trace=io_uring_enter,io_submit "$DLCTL" dump "$d"0.img
	has "io_submit" "io_submit seen"
fi

echo "# records as the protocols will write them, planted by a test tool"
PLANT=$BUILD/dlplant
"$DLCTL" format --lockspace rec --max-hosts 8 --resources 16 --force "$d"0.img "$d"1.img "$d"2.img >/dev/null
"$PLANT" host 3 node-c 7 "$d"0.img "$d"1.img "$d"2.img
"$PLANT" name 5 vm-web "$d"0.img "$d"1.img "$d"2.img
"$PLANT" leader 5 3 7 12 "$d"0.img "$d"1.img "$d"2.img
"$PLANT" ballot 5 3 1003 1003 12 "$d"0.img "$d"1.img "$d"2.img
"$PLANT" request 5 4 12 "$d"0.img "$d"1.img
"$PLANT" mailbox 3 4 5 12 "$d"0.img "$d"1.img "$d"2.img
expect 0 "dump shows planted records" -- "$DLCTL" dump "$d"0.img "$d"1.img "$d"2.img
has "^  3 +valid +joined +node-c +7 " "host 3: name and generation"
has "^  5 +vm-web +valid +3/g7 +12 .*acquire +host 4" "resource 5: name, owner/generation, lver, reason, request"
has "ballot host 3: valid mbal 1003 bal 1003 inp 3/g0 lver 12" "the ballot"
has "mailbox of host 3: valid: host 4 asks for resource 5 \(lver 12\)" "the mailbox"
has "7 empty host slots not listed" "empty slots counted"
has "damaged slots: 0" "no damage"
expect 0 "verify accepts them" -- "$DLCTL" verify "$d"0.img "$d"1.img "$d"2.img
if command -v python3 >/dev/null; then
	"$DLCTL" dump --json "$d"0.img "$d"1.img "$d"2.img >"$TMP/rec.json"
	expect 0 "dump --json carries the planted records" -- python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
h = d["hosts"][2]
assert h["slot"] == 3 and h["state"] == "valid" and h["name"] == "node-c" and h["generation"] == 7, h
assert h["mailbox"]["state"] == "valid" and h["mailbox"]["requester_host_id"] == 4, h["mailbox"]
r = d["resources"][5]
assert r["name"] == "vm-web" and r["owner_host_id"] == 3 and r["owner_generation"] == 7 and r["lver"] == 12, r
assert r["request"]["state"] == "valid" and r["request"]["requester_host_id"] == 4, r["request"]
assert [b["slot"] for b in r["ballots"]] == [3] and r["ballots"][0]["mbal"] == 1003, r["ballots"]
' "$TMP/rec.json"
fi

echo "# loop devices with 512- and 4096-byte logical sectors"
if can_loop; then
	for ss in 512 4096; do
		truncate -s 64M "$TMP/loop$ss.img"
		dev=$(loop_attach "$TMP/loop$ss.img" $ss) || { fail "losetup $ss"; continue; }
		expect 0 "format $dev ($ss-byte sectors)" -- "$DLCTL" format --lockspace loop$ss --max-hosts 8 --resources 16 "$dev"
		has "sector $ss," "sector size taken from the device"
		expect 0 "verify $dev" -- "$DLCTL" verify "$dev"
		if [ $ss = 4096 ]; then
			expect 1 "512-byte records on a 4096-byte device are refused" -- "$DLCTL" format --lockspace x --max-hosts 8 --resources 16 --sector-size 512 --force "$dev"
			has "sector size 512 is smaller than the device's 4096-byte logical sectors" "says why"
		fi
		losetup -d "$dev"
	done
else
	echo "# skipped: not root or no loop devices"
fi
finish
