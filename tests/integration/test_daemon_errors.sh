#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input to the daemon and to dlctl: every one answered with one clear error and exit 1 (2 for
# a bad command line), nothing on disk changed by a refusal, and the daemon keeps serving:
# no daemon; a second daemon on a run directory; joins of wrong, unformatted, too small, mixed
# and out-of-range disks; leases not joined / not held / badly named; malformed frames on the
# socket; access control by socket group and `acquire` rule, with the audit entry.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/daemon_lib.sh"

sums() { (cd "$TMP" && sha256sum "$@"); }

echo "# no daemon"
for cmd in "status" "hosts --lockspace x" "acquire --lockspace x --resource r" "join --host-id 1 $TMP/x.img" "watch"; do
	# shellcheck disable=SC2086
	expect 1 "dlctl $cmd without a daemon" -- env DLEASE_RUN_DIR="$TMP/none" "$DLCTL" $cmd
	has "cannot reach dleased at $TMP/none/dleased.sock.*--run-dir $TMP/none" "names the socket and the run directory"
done
expect 1 "--run-dir wins over DLEASE_RUN_DIR" -- env DLEASE_RUN_DIR="$TMP/elsewhere" "$DLCTL" status --run-dir "$TMP/none"
has "$TMP/none/dleased.sock" "names --run-dir's socket"

echo "# one daemon per run directory"
daemon_start 1 || { fail "daemon h1 did not start"; finish; exit; }
expect 1 "a second dleased on h1's run directory refuses to start" -- timeout 10 "$DLEASED" --run-dir "$TMP/h1" --host-name other --foreground
has "another dleased \(pid ${DPID[1]}\)" "names the running daemon's pid"
expect 0 "the first still answers" -- dl 1 status --json
has "\"pid\": ${DPID[1]}\b" "with its own pid"
check "[ '$(cat "$TMP/h1/dleased.pid")' = '${DPID[1]}' ]" "dleased.pid still names the first"

echo "# joins that must be refused, disks unchanged"
mapfile -t A < <(mkdisks "$TMP/a" 3)
mapfile -t B < <(mkdisks "$TMP/b" 1)
format_ls A "${A[@]}"
format_ls B "${B[@]}"
truncate -s 64M "$TMP/unformatted.img"
truncate -s 1M "$TMP/tiny.img"
truncate -s 64M "$TMP/short.img"
format_ls S "$TMP/short.img"
truncate -s 10M "$TMP/short.img" # formatted for 19 MiB, now 10 MiB: its lease areas are gone
head -c 1M /dev/urandom >"$TMP/foreign.img"
truncate -s 64M "$TMP/foreign.img"
FILES="a0.img a1.img a2.img b0.img unformatted.img tiny.img foreign.img"
short_before=$(sums short.img)
# shellcheck disable=SC2086
before=$(sums $FILES)
expect 1 "join a path that does not exist" -- dl 1 join --host-id 1 "$TMP/nope.img"
has "$TMP/nope.img: No such file" "names the path and the problem"
expect 1 "join an unformatted file" -- dl 1 join --host-id 1 "$TMP/unformatted.img"
has "unformatted.img: no dlease lockspace header \(sector 0 is empty\)" "says it is not formatted"
expect 1 "join a 1 MiB unformatted file" -- dl 1 join --host-id 1 "$TMP/tiny.img"
has "tiny.img: " "names it"
expect 1 "join a file of random data" -- dl 1 join --host-id 1 "$TMP/foreign.img"
has "foreign.img: no dlease lockspace header" "says it is not a lockspace"
expect 1 "join a formatted disk cut below the lockspace's size" -- dl 1 join --host-id 1 "$TMP/short.img"
has "short.img: .*(too small|smaller than)" "says it is too small"
dl 1 leave --lockspace S --force >/dev/null 2>&1
check "[ '$(sums short.img)' = '$short_before' ]" "the short disk is unchanged (size $(stat -c %s "$TMP/short.img"))"
expect 1 "join two disks of A and one of B" -- dl 1 join --host-id 1 "${A[0]}" "${A[1]}" "${B[0]}"
has "b0.img: belongs to another lockspace" "names the foreign disk"
expect 1 "join the same disk twice" -- dl 1 join --host-id 1 "${A[0]}" "${A[0]}" "${A[1]}"
has "a0.img: the same disk as .*a0.img, given twice" "says so"
expect 2 "join as host 0" -- dl 1 join --host-id 0 "${B[0]}"
has "host-id 0: must be 1 to" "says the range"
expect 2 "join as host abc" -- dl 1 join --host-id abc "${B[0]}"
expect 1 "join as host 9 of 8" -- dl 1 join --host-id 9 "${B[0]}"
has "host id 9 is out of range: lockspace B has host ids 1..8" "says the lockspace's range"
t0=$(now_ms)
expect 1 "join one of A's three disks" -- dl 1 join --host-id 1 "${A[0]}"
has "only 1 of 3 disks" "says a majority is missing ($(($(now_ms) - t0)) ms)"
OUT=$(dl 1 status --json | jq -r '(.lockspaces // []) | length')
check "[ '$OUT' = 0 ]" "h1 is in no lockspace after the refusals ($OUT)"
# shellcheck disable=SC2086
after=$(sums $FILES)
if [ "$before" = "$after" ]; then ok "no refused disk was modified"; else
	fail "refused disks were modified"
	diff <(echo "$before") <(echo "$after") | sed 's/^/    | /'
fi

echo "# leases: not joined, not held, bad names"
expect 0 "h1 joins B" -- dl 1 join --host-id 1 "${B[0]}"
expect 1 "join B again" -- dl 1 join --host-id 1 "${B[0]}"
has "already|joined" "says it is joined already"
expect 1 "acquire in a lockspace not joined" -- dl 1 acquire --lockspace NOPE --resource r
has "has not joined lockspace NOPE" "names the lockspace"
expect 1 "release a lease not held" -- dl 1 release --lockspace B --resource r
has "does not hold r in B" "says so"
expect 1 "release in a lockspace not joined" -- dl 1 release --lockspace NOPE --resource r
has "has not joined lockspace NOPE" "names the lockspace"
long48=$(printf 'x%.0s' $(seq 48))
long49=$(printf 'y%.0s' $(seq 49))
for bad in "a b" "$long49" "" "é" "tab	x"; do
	expect 1 "acquire resource name '$bad'" -- dl 1 acquire --lockspace B --resource "$bad"
	has "resource name" "says what a resource name may be"
done
expect 0 "a 48-byte name is fine" -- dl 1 acquire --lockspace B --resource "$long48"
OUT=$(dl 1 resource list --json --lockspace B | jq -r '.resources[].resource')
check "[ '$OUT' = '$long48' ]" "only the good name is in the directory ($(echo "$OUT" | wc -l) names)"
expect 1 "leave B while holding a lease" -- dl 1 leave --lockspace B
has "force" "says --force releases them"
expect 1 "leave a lockspace not joined" -- dl 1 leave --lockspace NOPE
expect 2 "acquire --wait soon" -- dl 1 acquire --lockspace B --resource r --wait soon
expect 2 "acquire without --resource" -- dl 1 acquire --lockspace B
expect 1 "request a lease nobody holds" -- dl 1 request --lockspace B --resource free1
expect 0 "verify B: the disk is intact" -- "$DLCTL" verify "${B[0]}"

echo "# malformed frames on the socket"
cat >"$TMP/frames.py" <<'EOF'
import os, socket, struct, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); s.settimeout(5); return s
def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b
def reply(s):
    try:
        h = recv_exact(s, 4)
    except socket.timeout:
        return "timeout"
    if h is None:
        return "closed"
    p = recv_exact(s, struct.unpack("<I", h)[0])
    if p is None:
        return "closed-mid-reply"
    return " ".join(l for l in p.decode("utf-8", "replace").split("\n")[:2] if l)
def closed(s):
    try:
        s.settimeout(2); return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True
def frame(p):
    return struct.pack("<I", len(p)) + p
def case(name, data):
    s = conn(); s.sendall(data); r = reply(s)
    if r.startswith("rc="):  # framing intact: the same connection must still serve
        s.sendall(frame(b"op=hello\n")); r += " | then: " + reply(s)
    print(f"{name}: {r}", flush=True); s.close()
keep = conn()
case("hello", frame(b"op=hello\n"))
case("garbage", frame(os.urandom(300).replace(b"=", b"") + b"\n"))
case("control", frame(b"op=status\n\x01\x02\x03=\xff\xfe\n"))
case("noeq", frame(b"op=status\nthis line has no equals sign\n"))
case("noop", frame(b"lockspace=x\nop=status\n"))
case("unknownop", frame(b"op=frobnicate\n"))
case("badkey", frame(b"op=status\nBAD-KEY=1\n"))
case("badescape", frame(b"op=status\nx=a\\q\n"))
case("missingfield", frame(b"op=acquire\nresource=r\n"))
case("badnumber", frame(b"op=acquire\nlockspace=B\nresource=r\ntimeout_ms=soon\n"))
case("empty", frame(b""))
s = conn(); s.sendall(struct.pack("<I", 1 << 30) + b"op=hello\n"); print("len1g:", reply(s), "| closed" if closed(s) else "| open", flush=True); s.close()
s = conn(); s.sendall(frame(b"op=hello\nx=" + b"a" * 70000 + b"\n")); print("over64k:", reply(s), "| closed" if closed(s) else "| open", flush=True); s.close()
half = conn(); half.sendall(struct.pack("<I", 100) + b"op=he")
t = time.time(); s2 = conn(); s2.sendall(frame(b"op=hello\n")); r = reply(s2); print(f"while-half-frame: {r} | {(time.time()-t)*1000:.0f} ms", flush=True); s2.close()
s = conn(); s.sendall(struct.pack("<I", 100) + b"op=he"); s.close()
s = conn(); s.sendall(frame(b"op=status\n") * 2000); s.close()
keep.sendall(frame(b"op=hello\n")); print("first-connection:", reply(keep), flush=True)
half.close()
EOF
expect 0 "the frame tests ran" -- timeout 60 python3 "$TMP/frames.py" "$TMP/h1/dleased.sock"
echo "$OUT" | sed 's/^/    # /'
has "^hello: rc=0 " "a good frame is answered (the harness works)"
for c in garbage control noeq noop unknownop badkey badescape missingfield badnumber empty; do
	has "^$c: rc=-(74|22) error=[^|]+\| then: rc=0 " "$c: rc -EBADMSG/-EINVAL with an error, and the connection keeps serving"
done
has "^noeq: .*line 2 has no '='" "the error names the line without '='"
has "^unknownop: .*frobnicate" "the error names the unknown op"
has "^missingfield: .*lockspace" "the error names the missing field"
has "^len1g: rc=-[0-9]+ error=.*1073741824.* \| closed" "a 1 GiB frame length: an error naming it, then the connection is closed"
has "^over64k: rc=-[0-9]+ error=.* \| closed" "a frame over 64 KiB: an error, then closed"
has "^while-half-frame: rc=0 " "a connection stuck in half a frame does not block others"
has "^first-connection: rc=0 " "a connection opened before all that still serves"
check "alive ${DPID[1]}" "the daemon is still running"
expect 0 "dlctl status still works" -- dl 1 status
expect 0 "and acquire" -- dl 1 acquire --lockspace B --resource after-frames

echo "# access control: socket group and acquire rule"
cat >"$TMP/h2.conf" <<EOF
# test: the socket open to group nogroup; acquiring for root only
socket_group = nogroup
acquire = user:root
admin = user:root
EOF
chmod 711 "$TMP"
# nobody must reach the socket and run dlctl: when $TMP or the build sits below a directory
# closed to others (/root), both move to a world-searchable scratch directory
NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
NDLCTL=$DLCTL
if ! "${NOBODY[@]}" test -x "$DLCTL" || ! "${NOBODY[@]}" test -x "$TMP"; then
	ACC=$(mktemp -d /tmp/dlacc.XXXXXX)
	chmod 755 "$ACC"
	cp "$DLCTL" "$ACC/dlctl"
	NDLCTL=$ACC/dlctl
	HDIR[2]=$ACC/h2
	trap 'daemon_cleanup; rm -rf "$ACC"' EXIT
fi
H2=$(rundir 2)
daemon_start 2 --config "$TMP/h2.conf" || fail "h2 with a config file did not start"
OUT=$(stat -c '%a %G' "$H2/dleased.sock")
check "[ '$OUT' = '660 nogroup' ]" "the socket is mode 0660, group nogroup ($OUT)"
expect 0 "h2 (root) joins B" -- dl 2 join --host-id 2 "${B[0]}"
expect 0 "nobody:nogroup may read: status" -- "${NOBODY[@]}" "$NDLCTL" status --run-dir "$H2"
expect 0 "nobody:nogroup may read: leader" -- "${NOBODY[@]}" "$NDLCTL" leader --run-dir "$H2" --lockspace B --resource after-frames
expect 1 "nobody:nogroup may not acquire" -- "${NOBODY[@]}" "$NDLCTL" acquire --run-dir "$H2" --lockspace B --resource r
has "uid 65534 \(user nobody\) may not acquire in lockspace B" "the error names the user, the right and the lockspace"
expect 1 "nobody:nogroup may not join (admin)" -- "${NOBODY[@]}" "$NDLCTL" join --run-dir "$H2" --host-id 3 "${B[0]}"
has "may not" "refused"
expect 1 "nobody:nogroup may not release" -- "${NOBODY[@]}" "$NDLCTL" release --run-dir "$H2" --lockspace B --resource r
has "may not" "refused"
OUT=$(dl 2 status --json | jq -r '(.leases // []) | length')
check "[ '$OUT' = 0 ]" "nothing was acquired by the refused requests ($OUT leases)"
OUT=$(grep '"kind": *"refused"' "$H2/audit.jsonl")
has 'may not acquire' "audit.jsonl has a refused entry for the acquire"
check "[ $(echo "$OUT" | grep -c .) -ge 3 ] 2>/dev/null" "one refused entry per refused request ($(echo "$OUT" | grep -c .))"
OUT=$(dl 2 metrics | grep '^dlease_requests_refused_total')
has "^dlease_requests_refused_total [3-9]" "counted in the metrics"
expect 1 "a user outside the socket group cannot connect" -- setpriv --reuid=nobody --regid=daemon --clear-groups "$NDLCTL" status --run-dir "$H2"
has "Permission denied" "says so"
expect 0 "root may acquire" -- dl 2 acquire --lockspace B --resource r
finish
