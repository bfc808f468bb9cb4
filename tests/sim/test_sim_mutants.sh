#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_sim_mutants.sh: shows that the simulator can fail. Each mutant of dlsim breaks one
# protocol rule inside the simulated world (src/ is untouched); for a seed range, dlsim
# must find violations (exit 1, "N seeds, V violations" with V > 0), and more of the
# invariant the broken rule guards than the same seeds without the mutant (so that a bug
# of the protocol itself cannot pass for a caught mutant). Ends with "K passed, M failed".
#
# Environment: DLEASE_BUILD_DIR (where dlsim is), SIM_SCALE (multiply the seed counts).
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${DLEASE_BUILD_DIR:-$here/../../build}
dlsim=$build/dlsim
scale=${SIM_SCALE:-1}
passed=0
failed=0

if [ ! -x "$dlsim" ]; then
	echo "dlsim not found at $dlsim (build the dlsim target first)"
	echo "0 passed, 1 failed"
	exit 1
fi

# mutant | invariants it must break (grep -E) | seeds | dlsim options
mutants=(
	"no-host-dead-wait|one-holder|100|--hosts 2-4 --disks 1,3,5 --resources 1-2 --faults pause"
	"stale-clock|one-holder|300|--hosts 2-3 --disks 1,3,5 --resources 1 --faults pause"
)

count_of() { # file, invariants
	grep -cE "^seed [0-9]+: VIOLATION ($2):" "$1"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for entry in "${mutants[@]}"; do
	mutant=${entry%%|*}
	rest=${entry#*|}
	opts=${rest##*|}
	rest=${rest%|*}
	seeds=$((${rest##*|} * scale))
	invariants=${rest%|*}
	rc=0
	# shellcheck disable=SC2086 # opts is a list of options
	"$dlsim" $opts --seeds "1-$seeds" --mutant "$mutant" >"$tmp/m.out" 2>&1 || rc=$?
	# shellcheck disable=SC2086
	"$dlsim" $opts --seeds "1-$seeds" >"$tmp/b.out" 2>&1
	summary=$(tail -n 1 "$tmp/m.out")
	violations=$(sed -n 's/^[0-9]* seeds, \([0-9]*\) violations$/\1/p' <<<"$summary")
	found=$(count_of "$tmp/m.out" "$invariants")
	baseline=$(count_of "$tmp/b.out" "$invariants")
	if [ "$rc" = 1 ] && [ "${violations:-0}" -gt 0 ] && [ "$found" -gt "$baseline" ]; then
		echo "ok   $mutant: $summary; $found seeds broke $invariants (without the mutant: $baseline)"
		passed=$((passed + 1))
	else
		echo "FAIL $mutant: $summary (exit $rc); $found seeds broke $invariants (without the mutant: $baseline)"
		failed=$((failed + 1))
	fi
	grep -m 1 -E "^seed [0-9]+: VIOLATION ($invariants):" "$tmp/m.out" | cut -c1-200
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
