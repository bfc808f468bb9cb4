#!/bin/bash
# SPDX-License-Identifier: MIT
# Exhaustive spin runs of tests/model/dlease.pml (the resource-lease protocol): the safe
# configurations must finish with "errors: 0" and a complete search; the known weaknesses of the
# protocol as first written, the mutants and the vacuity canaries must each make spin find a
# violation. It only reads the model and works in a temporary directory; it never touches the
# source tree. Skips (77) without spin or cc. Budget: about 2.5 minutes on 2 cores, under 6 GiB
# (two pans at a time, each capped at MEMLIM_MB); README.md lists the measured state counts.
#
# Environment: DL_MODEL_JOBS (parallel pans, default 2), DL_MODEL_ONLY (run the jobs whose name
# matches this extended regex), DL_MODEL_KEEP=1 (keep the work directory and say where).
set -u

model="$(cd "$(dirname "$0")" && pwd)/dlease.pml"
jobs_max="${DL_MODEL_JOBS:-2}"
only="${DL_MODEL_ONLY:-}"
MEMLIM_MB=3500
DEPTH=100000

for tool in spin cc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not found (apt-get install spin gcc)"
		exit 77
	fi
done
[ -r "$model" ] || { echo "FAIL: cannot read $model"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/dlease-model.XXXXXX")" || exit 1
if [ "${DL_MODEL_KEEP:-0}" = 1 ]; then
	echo "# work directory: $work"
else
	trap 'rm -rf "$work"' EXIT
fi
trap 'exit 130' INT TERM

# name | expect | macros | pan hash size (-w)
#   pass: "errors: 0" and a complete search.  fail: spin must find an assertion violation.
# Bounds: K ballot rounds per instance, TMAX instances (tokens), CRASHES crash+restart events,
# DAMAGE damaged sectors, FAILS failed disk operations per run (unbounded if absent), ORDERED
# each host goes round the disks in its own fixed order (see dlease.pml).
jobs=(
	# -- the protocol with the fix (PHASE0, OWNLVER) and no recovery rule: must be safe --
	# 2 hosts, 1 disk: release and re-acquire, 2 crashes, a damaged sector, 3 tokens
	"n2d1|pass|-DN=2 -DD=1 -DK=2 -DTMAX=3 -DCRASHES=2 -DDAMAGE=1 -DRELEASE=1|25"
	# 3 hosts, 1 disk: a finisher of someone else's ballot, 2 crashes, a damaged sector
	"n3d1|pass|-DN=3 -DD=1 -DK=1 -DTMAX=3 -DCRASHES=2 -DDAMAGE=1|25"
	# 2 hosts, 3 disks: two failed I/Os (two different majorities), crash, damaged sector
	"n2d3|pass|-DN=2 -DD=3 -DORDERED=1 -DFAILS=2 -DK=1 -DTMAX=2 -DCRASHES=1 -DDAMAGE=1|25"
	# 2 hosts, 3 disks, disks in any order: takeover after a crash, one failed I/O
	"n2d3-anyorder|pass|-DN=2 -DD=3 -DFAILS=1 -DK=1 -DTMAX=2 -DCRASHES=1 -DDAMAGE=0|24"
	# 2 hosts, 3 disks, disks in any order: contention over 2 rounds, two failed I/Os
	"n2d3-anyorder-k2|pass|-DN=2 -DD=3 -DFAILS=2 -DK=2 -DTMAX=1 -DCRASHES=0 -DDAMAGE=0|24"
	# 3 hosts, 3 disks: three-way contention, two failed I/Os
	"n3d3-contend|pass|-DN=3 -DD=3 -DORDERED=1 -DFAILS=2 -DK=1 -DTMAX=1 -DCRASHES=0 -DDAMAGE=0|25"
	# 3 hosts, 3 disks: a crash mid-ballot leaves partial writes, takeover
	"n3d3-takeover|pass|-DN=3 -DD=3 -DORDERED=1 -DFAILS=0 -DK=1 -DTMAX=2 -DCRASHES=1 -DDAMAGE=0|25"
	# -- the recovery rule as src/lease had it (RECOVERY=3), under the timing assumption that a
	#    leader write never lands over a newer lver (NOREGRESS): must be safe --
	"n2d1-rec|pass|-DN=2 -DD=1 -DK=2 -DTMAX=3 -DCRASHES=2 -DDAMAGE=1 -DRELEASE=1 -DRECOVERY=3 -DNOREGRESS=1|25"
	"n3d1-rec|pass|-DN=3 -DD=1 -DK=1 -DTMAX=3 -DCRASHES=2 -DDAMAGE=1 -DRECOVERY=3 -DNOREGRESS=1|25"
	# two damaged copies of one host: the rule needs D - M + 1 = 2 of them on 3 disks
	"n2d3-rec|pass|-DN=2 -DD=3 -DORDERED=1 -DFAILS=1 -DK=1 -DTMAX=2 -DCRASHES=1 -DDAMAGE=2 -DRECOVERY=3 -DNOREGRESS=1|25"

	# -- weaknesses of the protocol as first written (README.md): must be found --
	# the recovery rule: a dead holder's damaged block hides its ballot; the token is reused
	"unsafe-recovery|fail|-DN=2 -DD=1 -DRECOVERY=1|22"
	"unsafe-recovery-d3|fail|-DN=2 -DD=3 -DORDERED=1 -DFAILS=1 -DK=1 -DRECOVERY=1 -DDAMAGE=2|23"
	# the recovery rule plus re-reading every leader copy: still two live holders, with a
	# restart, or with a third host and no restart at all
	"unsafe-recovery-reread|fail|-DN=2 -DD=1 -DRECOVERY=2|22"
	"unsafe-recovery-reread-n3|fail|-DN=3 -DD=1 -DK=1 -DRECOVERY=2 -DRESTART=0|22"
	# the rule as src/lease had it, without the timing assumption: a late leader write
	# hides a decided instance whose only witness is a dead host's damaged block
	"unsafe-recovery-src|fail|-DN=2 -DD=1 -DK=2 -DTMAX=3 -DCRASHES=2 -DDAMAGE=1 -DRELEASE=1 -DRECOVERY=3|23"
	# as first written (no phase 0): a restarted host erases its own vote
	"unsafe-no-phase0|fail|-DN=2 -DD=1 -DPHASE0=0 -DOWNLVER=0 -DK=2 -DTMAX=3 -DCRASHES=2|22"
	"unsafe-no-phase0-d3|fail|-DN=2 -DD=3 -DORDERED=1 -DFAILS=1 -DK=1 -DPHASE0=0 -DOWNLVER=0|22"
	# phase 0 but no OWNLVER: a late leader write sends a host back to a decided instance
	"unsafe-no-ownlver|fail|-DN=2 -DD=1 -DOWNLVER=0 -DK=2 -DTMAX=3 -DCRASHES=2|22"

	# -- mutants: must be found --
	"mutant-trust-one-disk|fail|-DN=2 -DD=3 -DORDERED=1 -DFAILS=4 -DK=1 -DCRASHES=0 -DDAMAGE=0 -DMUTANT=1|22"
	"mutant-no-mbal-abort|fail|-DN=2 -DD=1 -DMUTANT=2|22"
	"mutant-skip-phase1|fail|-DN=2 -DD=1 -DMUTANT=3|22"

	# -- canaries: the safe runs are not vacuous (a token TMAX is granted; OWNLVER acts) --
	"canary-n2d1|fail|-DN=2 -DD=1 -DK=2 -DTMAX=3 -DCRASHES=2 -DDAMAGE=1 -DRELEASE=1 -DCANARY=1|22"
	"canary-n3d1|fail|-DN=3 -DD=1 -DK=1 -DTMAX=3 -DCRASHES=2 -DDAMAGE=1 -DCANARY=1|22"
	"canary-n2d3|fail|-DN=2 -DD=3 -DORDERED=1 -DFAILS=2 -DK=1 -DTMAX=2 -DCRASHES=1 -DDAMAGE=1 -DCANARY=1|22"
	"canary-n3d3|fail|-DN=3 -DD=3 -DORDERED=1 -DFAILS=0 -DK=1 -DTMAX=2 -DCRASHES=1 -DDAMAGE=0 -DCANARY=1|22"
	"canary-ownlver|fail|-DN=2 -DD=1 -DK=2 -DTMAX=3 -DCRASHES=2 -DDAMAGE=1 -DRELEASE=1 -DCANARY=3|24"
	"canary-rec|fail|-DN=2 -DD=1 -DK=2 -DTMAX=3 -DCRASHES=2 -DDAMAGE=1 -DRELEASE=1 -DRECOVERY=3 -DNOREGRESS=1 -DCANARY=2|22"
	"canary-rec-d3|fail|-DN=2 -DD=3 -DORDERED=1 -DFAILS=1 -DK=1 -DTMAX=2 -DCRASHES=1 -DDAMAGE=2 -DRECOVERY=3 -DNOREGRESS=1 -DCANARY=2|22"
)

# violation PAN_OUT: which invariant the counterexample breaks, in words
violation() {
	local what
	what=$(grep -m1 'assertion violated' "$1")
	case "$what" in
	*holder_of*) echo "a token granted twice" ;;
	*held*) echo "two live holders" ;;
	*raised*) echo "canary: OWNLVER acted and the host holds" ;;
	*used_rec*) echo "canary: the recovery rule acted and the host holds" ;;
	*TMAX* | *'.t<'*) echo "canary: the last token was granted" ;;
	*) echo "$what" ;;
	esac
}

# run_job NAME EXPECT MACROS W: compile and run one pan; writes NAME/result as one line
run_job() {
	local name=$1 expect=$2 macros=$3 w=$4
	local dir="$work/$name" start end secs states errors verdict note
	mkdir -p "$dir" && cd "$dir" || return
	cp "$model" dlease.pml || return	# spin -t wants the trail beside the model
	start=$(date +%s.%N)
	# shellcheck disable=SC2086
	if ! spin -a $macros dlease.pml >spin.log 2>&1; then
		echo "FAIL $name: spin -a failed: $(head -n 3 spin.log | tr '\n' ' ')" >result
		return
	fi
	if ! cc -O2 -w -DSAFETY -DMEMLIM=$MEMLIM_MB -o pan pan.c >cc.log 2>&1; then
		echo "FAIL $name: cc failed: $(head -n 3 cc.log | tr '\n' ' ')" >result
		return
	fi
	./pan -m$DEPTH -w"$w" >pan.out 2>&1
	end=$(date +%s.%N)
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	states=$(awk '/states, stored/ { print $1; exit }' pan.out)
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out | head -n 1)
	note=""
	if [ -z "$errors" ]; then
		verdict=FAIL note="pan gave no verdict: $(tail -n 2 pan.out | tr '\n' ' ')"
	elif [ "$expect" = pass ]; then
		if [ "$errors" != 0 ]; then
			verdict=FAIL note="$(grep -m1 'violated' pan.out)"
		elif grep -q 'max search depth too small' pan.out; then
			verdict=FAIL note="search truncated: max search depth $DEPTH too small"
		elif grep -q -e 'Search not completed' -e 'MEMLIM' pan.out; then
			verdict=FAIL note="search not completed (memory bound $MEMLIM_MB MB?)"
		else
			verdict=PASS note="errors 0, complete"
		fi
	else
		if [ "$errors" != 0 ] && grep -q 'assertion violated' pan.out; then
			verdict=PASS note="found: $(violation pan.out)"
		else
			verdict=FAIL note="expected a violation, got errors $errors"
		fi
	fi
	printf '%s %-26s expect %-4s %10s states %6s s  %s\n' \
		"$verdict" "$name" "$expect" "${states:-?}" "$secs" "$note" >result
	if [ "$verdict" = FAIL ] && [ -f dlease.pml.trail ]; then
		# shellcheck disable=SC2086
		spin -t $macros dlease.pml 2>&1 | sed -n 's/^ *MSC: /    /p' >>result
	fi
}

t0=$(date +%s)
running=0
for job in "${jobs[@]}"; do
	IFS='|' read -r name expect macros w <<<"$job"
	if [ -n "$only" ] && ! [[ $name =~ $only ]]; then
		continue
	fi
	if [ "$running" -ge "$jobs_max" ]; then
		wait -n
		running=$((running - 1))
	fi
	(run_job "$name" "$expect" "$macros" "$w"; cat "$work/$name/result") &
	running=$((running + 1))
done
wait

passed=0
failed=0
echo "#"
for job in "${jobs[@]}"; do
	IFS='|' read -r name _ <<<"$job"
	if [ -n "$only" ] && ! [[ $name =~ $only ]]; then
		continue
	fi
	if [ ! -f "$work/$name/result" ]; then
		echo "FAIL $name: no result"
		failed=$((failed + 1))
		continue
	fi
	case "$(cut -c1-4 "$work/$name/result")" in
	PASS) passed=$((passed + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
done
echo "# spin $(spin -V 2>/dev/null | awk '{ print $3 }'), $(( $(date +%s) - t0 )) s in all"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
