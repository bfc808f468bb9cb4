#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_sim.sh: the CI seed set of the deterministic simulator. Runs dlsim (built by CMake,
# found in $DLEASE_BUILD_DIR) over 5,000 seeds spread across 1, 3 and 5 disks and 2..16
# hosts, every fault on (swarm testing picks a subset per seed), and requires each
# invocation to exit 0 and print "N seeds, 0 violations". Then checks that one seed replays
# bit for bit (same event count and disk hash). Builds nothing. Ends with "K passed, M failed".
#
# Stuck, needs operator: a world where a ballot block is damaged on so many disks that it can
# never be read on a majority and no running host remembers writing it cannot decide that
# resource any more (docs/design.md section 4: such a block is never counted as empty).
# dlsim reports it as "seed S: stuck: needs operator: ...", only once a contender has said so
# (-EBADMSG), and it is no violation; this script counts and prints those seeds. Any other
# liveness failure is a violation and fails the set.
#
# Environment:
#   DLEASE_BUILD_DIR  where dlsim is (default: build next to the source tree)
#   SIM_JOBS          invocations run at once (default 2)
#   SIM_SCALE         multiply every seed count (nightly: SIM_SCALE=20 gives 100,000 seeds)
#   SIM_SEED_BASE     first seed of every range (nightly: e.g. $(date +%Y%m%d)000000)
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${DLEASE_BUILD_DIR:-$here/../../build}
dlsim=$build/dlsim
jobs=${SIM_JOBS:-2}
scale=${SIM_SCALE:-1}
base=${SIM_SEED_BASE:-1}
passed=0
failed=0

if [ ! -x "$dlsim" ]; then
	echo "dlsim not found at $dlsim (build the dlsim target first)"
	echo "0 passed, 1 failed"
	exit 1
fi

# name | hosts | disks | resources | seeds
sets=(
	"small-1disk|2-4|1|1-3|900"
	"small-3disk|2-4|3|1-3|900"
	"small-5disk|2-4|5|1-3|700"
	"mid|5-8|1,3,5|1-4|1300"
	"large|9-16|1,3,5|2-8|900"
	"full|16|5|8|300"
)

# Known liveness failures (set:seed), open in the tracker: only a "liveness" verdict on
# exactly these seeds is tolerated, and each one is printed as XFAIL. Any safety violation
# (one-holder, token-order, majority-commit, dupid), or a liveness one elsewhere, fails.
#   (none today)
known_liveness=""

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run_set() {
	local name=$1 hosts=$2 disks=$3 resources=$4 count=$5
	local first=$base last=$((base + count * scale - 1)) rc=0

	"$dlsim" --hosts "$hosts" --disks "$disks" --resources "$resources" \
		--seeds "$first-$last" >"$tmp/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$tmp/$name.rc"
}

start=$(date +%s)
running=0
for entry in "${sets[@]}"; do
	IFS='|' read -r name hosts disks resources count <<<"$entry"
	run_set "$name" "$hosts" "$disks" "$resources" "$count" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

total=0
stuck_total=0
for entry in "${sets[@]}"; do
	IFS='|' read -r name hosts disks resources count <<<"$entry"
	seeds=$((count * scale))
	total=$((total + seeds))
	summary=$(tail -n 1 "$tmp/$name.out")
	stuck=$(sed -n 's/^\([0-9]*\) seeds stuck: needs operator$/\1/p' "$tmp/$name.out")
	stuck_total=$((stuck_total + ${stuck:-0}))
	unexpected=0
	while read -r line; do
		seed=$(echo "$line" | sed -E 's/^seed ([0-9]+): VIOLATION ([a-z-]+):.*/\1/')
		kind=$(echo "$line" | sed -E 's/^seed ([0-9]+): VIOLATION ([a-z-]+):.*/\2/')
		if [ "$kind" = liveness ] && [ "$scale" = 1 ] && [ "$base" = 1 ] &&
			echo " $known_liveness " | grep -q " $name:$seed "; then
			echo "XFAIL $name: seed $seed: known liveness failure (see the list above)"
		else
			unexpected=$((unexpected + 1))
		fi
	done < <(grep -E '^seed [0-9]+: VIOLATION' "$tmp/$name.out")
	if [ "$unexpected" = 0 ] && echo "$summary" | grep -qE "^$seeds seeds, [0-9]+ violations$"; then
		echo "ok   $name: --hosts $hosts --disks $disks --resources $resources: $summary, ${stuck:-?} stuck: needs operator"
		grep -E '^seed [0-9]+: stuck: needs operator' "$tmp/$name.out" | sed 's/^/       /' | head -n 5
		passed=$((passed + 1))
	else
		echo "FAIL $name: --hosts $hosts --disks $disks --resources $resources: $summary (exit $(cat "$tmp/$name.rc"))"
		grep -E '^seed [0-9]+: VIOLATION|^  replay:' "$tmp/$name.out" | head -n 20
		failed=$((failed + 1))
	fi
done

# Replay: the same seed twice must give the same events and the same disks.
replay() {
	"$dlsim" --hosts 5 --disks 3 --resources 3 --seeds "$base" --trace |
		grep -E '^seed [0-9]+: .*, [0-9]+ events, disk hash '
}
first=$(replay)
second=$(replay)
if [ -n "$first" ] && [ "$first" = "$second" ]; then
	echo "ok   replay: $first"
	passed=$((passed + 1))
else
	echo "FAIL replay: '$first' then '$second'"
	failed=$((failed + 1))
fi

echo "# $stuck_total of $total seeds ended stuck: needs operator (expected: a damaged ballot nobody may rewrite)"
echo "# $total seeds in $(($(date +%s) - start)) s with $jobs jobs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
