# SPDX-License-Identifier: MIT
# lib.sh: helpers for the integration tests (sourced). Each check prints "ok" or "FAIL" lines
# and the test ends with the plain summary line "N passed, M failed".
set -uo pipefail
BUILD=${DLEASE_BUILD_DIR:?set by ctest}
SRC=${DLEASE_SOURCE_DIR:?set by ctest}
DLCTL=$BUILD/dlctl
TMP=$(mktemp -d "${DLEASE_TEST_TMPDIR:-/var/tmp}/dlit.XXXXXX")
PASSED=0
FAILED=0
cleanup() {
	# loop devices were attached in subshells: find them by their backing files
	for f in "$TMP"/*; do
		[ -f "$f" ] || continue
		losetup -j "$f" 2>/dev/null | cut -d: -f1 | while read -r l; do losetup -d "$l"; done
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }

# expect RC DESCRIPTION -- COMMAND...: run, keep stdout+stderr in $OUT, check the exit code.
expect() {
	local want=$1 what=$2
	shift 3
	OUT=$("$@" 2>&1)
	local rc=$?
	if [ "$rc" = "$want" ]; then ok "$what (exit $rc)"; else fail "$what: exit $rc, wanted $want"; echo "$OUT" | sed 's/^/    | /'; fi
}
# has PATTERN DESCRIPTION: the last $OUT matches the extended regex.
has() {
	if echo "$OUT" | grep -Eq -- "$1"; then ok "$2"; else fail "$2: no /$1/ in output"; echo "$OUT" | sed 's/^/    | /' | head -40; fi
}
hasnt() {
	if echo "$OUT" | grep -Eq -- "$1"; then fail "$2: /$1/ in output"; echo "$OUT" | sed 's/^/    | /' | head -40; else ok "$2"; fi
}
can_loop() { [ "$(id -u)" = 0 ] && [ -e /dev/loop-control ] && command -v losetup >/dev/null; }
loop_attach() { # FILE SECTOR -> prints the device
	local dev
	dev=$(losetup --find --show --direct-io=on --sector-size "$2" "$1") || return 1
	echo "$dev"
}
finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
}
