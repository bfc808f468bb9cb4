#!/bin/bash
# SPDX-License-Identifier: MIT
# Enforcement: when a host's renewals cannot succeed, its daemon stops the local holders
# before another host may take over. The shared disk is a file on an ext4 loop mount that
# the test freezes (fsfreeze): every write to it blocks, renewals miss their deadline, and
# the daemon must send SIGTERM at the act deadline (2T after the last counted renewal) and
# SIGKILL at 2.5T to a holder that ignores SIGTERM. The watchdog "device" is a plain file:
# the daemon pets it (writes) while the lockspace is healthy and stops petting at the act
# deadline. After the thaw the host joins again with a new generation.
# Needs root, loop devices, mkfs.ext4 and fsfreeze; exits 77 (skipped) otherwise.
source "$(dirname "$0")/lib.sh"
DLEASED=$BUILD/dleased
command -v fsfreeze >/dev/null && command -v mkfs.ext4 >/dev/null && can_loop || {
	echo "skipped: needs root, loop devices, mkfs.ext4, fsfreeze"; exit 77; }
T_MS=1000
now_ms() { echo $(($(date +%s%N) / 1000000)); }
mnt=$TMP/mnt
frozen=0
thaw() { [ "$frozen" = 1 ] && fsfreeze -u "$mnt"; frozen=0; }
stop_all() {
	thaw
	for p in "$TMP"/h*/dleased.pid; do [ -f "$p" ] && kill -CONT "$(cat "$p")" 2>/dev/null; done
	for p in "$TMP"/h*/dleased.pid; do [ -f "$p" ] && kill -TERM "$(cat "$p")" 2>/dev/null; done
	sleep 1
	pkill -KILL -f "dleased --run-dir $TMP/" 2>/dev/null
	[ -n "${holder:-}" ] && kill -KILL "$holder" 2>/dev/null
	mountpoint -q "$mnt" && umount "$mnt"
	cleanup
}
trap stop_all EXIT

truncate -s 160M "$TMP/fs.img"
mkfs.ext4 -q -F -b 4096 "$TMP/fs.img"
mkdir -p "$mnt"
dev=$(loop_attach "$TMP/fs.img" 4096) || { echo "skipped: losetup failed"; exit 77; }
mount "$dev" "$mnt" || { echo "skipped: cannot mount ext4 on $dev"; exit 77; }
disk=$mnt/shared.img
truncate -s 64M "$disk"
expect 0 "format the shared disk (file on ext4)" -- "$DLCTL" format --lockspace enf --max-hosts 4 --resources 4 --io-timeout 1 "$disk"

mkdir -p "$TMP/h1"
cat >"$TMP/h1.conf" <<CONF
host_name = h1
watchdog = $TMP/watchdog
kill_grace_ms = 500
CONF
: >"$TMP/watchdog"
"$DLEASED" --run-dir "$TMP/h1" --config "$TMP/h1.conf" 2>"$TMP/h1.log"
expect 0 "dleased with a watchdog file starts" -- test -S "$TMP/h1/dleased.sock"
expect 0 "join" -- "$DLCTL" join --run-dir "$TMP/h1" --host-id 1 "$disk"

# a holder that ignores SIGTERM: only SIGKILL stops it
bash -c 'trap "echo got-TERM >> '"$TMP"'/holder.log" TERM; while :; do sleep 0.05; done' &
holder=$!
expect 0 "acquire on behalf of the holder's pid" -- "$DLCTL" acquire --run-dir "$TMP/h1" --lockspace enf --resource vm --pid "$holder"
pets1=$(stat -c %s "$TMP/watchdog")
sleep 1
pets2=$(stat -c %s "$TMP/watchdog")
if [ "$pets2" -gt "$pets1" ]; then ok "the daemon pets the watchdog while healthy ($pets1 -> $pets2 bytes)"; else fail "no watchdog pets while healthy ($pets1 -> $pets2)"; fi

freeze_ms=$(now_ms)
fsfreeze -f "$mnt" && frozen=1
early=$((freeze_ms + 12 * T_MS / 10))
while [ "$(now_ms)" -lt "$early" ]; do sleep 0.05; done
if kill -0 "$holder" 2>/dev/null && [ ! -s "$TMP/holder.log" ]; then
	ok "holder untouched 1.2T after the freeze (act deadline not reached)"
else
	fail "holder signalled before 1.2T"
fi
pets_frozen=$(stat -c %s "$TMP/watchdog")
dead_ms=0
late_pets=0
window_start=$((freeze_ms + 2 * T_MS + 200))
prev=$(stat -c %s "$TMP/watchdog")
while [ "$(now_ms)" -lt $((freeze_ms + 6 * T_MS)) ]; do
	if ! kill -0 "$holder" 2>/dev/null; then dead_ms=$(now_ms); break; fi
	cur=$(stat -c %s "$TMP/watchdog")
	[ "$(now_ms)" -ge "$window_start" ] && [ "$cur" -gt "$prev" ] && late_pets=$((late_pets + cur - prev))
	prev=$cur
	sleep 0.02
done
wait "$holder" 2>/dev/null
term=$(grep -c got-TERM "$TMP/holder.log" 2>/dev/null || echo 0)
if [ "$dead_ms" != 0 ] && [ $((dead_ms - freeze_ms)) -le $((25 * T_MS / 10 + 600)) ]; then
	ok "holder killed $((dead_ms - freeze_ms)) ms after the freeze (SIGKILL due by 2.5T = $((25 * T_MS / 10)) ms after the last renewal)"
else
	fail "holder not killed in time (dead at +$((dead_ms - freeze_ms)) ms)"
fi
if [ "$term" -ge 1 ]; then ok "SIGTERM came first ($term)"; else fail "no SIGTERM before SIGKILL"; fi
if [ "$late_pets" = 0 ]; then
	ok "no watchdog pet from 2T after the freeze until the holder was gone"
else
	fail "$late_pets watchdog pets while a holder of a lost lease still ran"
fi
thaw
sleep 5
expect 0 "history after the thaw" -- "$DLCTL" history --run-dir "$TMP/h1" --lockspace enf
has "lockspace_lost" "the loss is in the history"
has "lost +enf/vm" "the lease's loss is in the history"
has "joined .*generation" "the host joined again"
expect 0 "status after the thaw" -- "$DLCTL" status --run-dir "$TMP/h1" --json
gen_line=$(echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["lockspaces"][0]["generation"], d["lockspaces"][0]["state"])' 2>&1)
echo "    status: generation, state = $gen_line"
case "$gen_line" in *live) ok "live again after the thaw";; *) fail "not live again: $gen_line"; tail -20 "$TMP/h1.log";; esac
if grep -q '"kind":"lost"' "$TMP/h1/audit.jsonl"; then ok "the audit log has the loss"; else fail "no loss in the audit log"; fi
finish
