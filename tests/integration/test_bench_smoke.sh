#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# test_bench_smoke.sh: dlbench runs end to end on a scratch file -- engine and
# fio (--fio --json), a second engine without fio, and a refusal -- and its
# JSON has every expected field with positive latencies. It never asserts the
# 10% verdict: figures are measured by the benchmark (docs/performance.md), not
# by a timed test. Quick (a few seconds: tiny iteration counts, fio runtime
# 0.5 s). Skips (77) without fio or python3, or when dlbench was not built.
set -euo pipefail

build=${DLEASE_BUILD_DIR:?DLEASE_BUILD_DIR not set}
src=${DLEASE_SOURCE_DIR:?DLEASE_SOURCE_DIR not set}
tmp_root=${DLEASE_TEST_TMPDIR:-${TMPDIR:-/tmp}}
dlbench=$build/dlbench

command -v fio >/dev/null || { echo "SKIP: fio not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[ -x "$dlbench" ] || { echo "SKIP: $dlbench not built"; exit 77; }

mkdir -p "$tmp_root"
work=$(mktemp -d "$tmp_root/bench_smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
img=$work/bench.img
truncate -s 64M "$img"
export DLEASE_FIO_PROFILES=$src/fio-profiles

fail() { echo "FAIL: $*" >&2; exit 1; }

# check_json FILE WANT_FIO: the fields and the positive latencies.
check_json() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
path, want_fio = sys.argv[1], sys.argv[2] == "1"
doc = json.load(open(path))
def need(cond, what):
    if not cond:
        sys.exit("bad dlbench JSON: " + what)
for key in ("dev", "dev_kind", "sector_size", "engine", "iterations", "batches",
            "batch_size", "rounds", "tests", "verdict"):
    need(key in doc, "missing " + key)
need(doc["dev_kind"] == "file", "dev_kind " + str(doc["dev_kind"]))
need(doc["sector_size"] in (512, 4096), "sector_size")
need(doc["batch_size"] == 2000, "batch_size")
names = [t["name"] for t in doc["tests"]]
need(names == ["write_qd1", "read_qd1", "batchread_2000"], "tests " + str(names))
for t in doc["tests"]:
    e = t["engine"]
    for k in ("median_us", "p99_us", "mean_us", "count"):
        need(isinstance(e.get(k), (int, float)) and e[k] > 0, t["name"] + " engine " + k)
    need(e["median_us"] <= e["p99_us"], t["name"] + " engine median > p99")
    if t["name"] == "batchread_2000":
        need(e["per_sector_mean_us"] > 0, "engine per_sector_mean_us")
    if not want_fio:
        need(t["fio"] is None and t["verdict"] is None, t["name"] + " fio without --fio")
        continue
    f = t["fio"]
    need(isinstance(f, dict), t["name"] + " fio")
    keys = ("mean_us", "count", "per_sector_mean_us") if t["name"] == "batchread_2000" \
        else ("median_us", "p99_us", "mean_us", "count")
    for k in keys:
        need(isinstance(f.get(k), (int, float)) and f[k] > 0, t["name"] + " fio " + k)
    need(t["ratio"] > 0 and t["overall_ratio"] > 0, t["name"] + " ratio")
    need(t["target"] == 1.10, t["name"] + " target")
    need(t["verdict"] in ("PASS", "FAIL"), t["name"] + " verdict")
need(doc["verdict"] in (("PASS", "FAIL") if want_fio else (None,)), "overall verdict")
print("ok:", path, doc["engine"], [(t["name"], t["ratio"]) for t in doc["tests"]])
EOF
}

# 1. default engine against fio, JSON.
rc=0
timeout 60 "$dlbench" --dev "$img" --iterations 30 --batches 2 --rounds 1 --fio \
	--fio-runtime 0.5 --json >"$work/fio.json" 2>"$work/fio.err" || rc=$?
[ "$rc" = 0 ] || { cat "$work/fio.err" >&2; fail "dlbench --fio exited $rc"; }
check_json "$work/fio.json" 1 || fail "dlbench --fio --json output"

# 2. the libaio engine, without fio; the text table too.
rc=0
timeout 60 "$dlbench" --dev "$img" --engine aio --iterations 30 --batches 2 --rounds 1 \
	--warmup 0.1 --json >"$work/aio.json" 2>"$work/aio.err" || rc=$?
[ "$rc" = 0 ] || { cat "$work/aio.err" >&2; fail "dlbench --engine aio exited $rc"; }
check_json "$work/aio.json" 0 || fail "dlbench --engine aio --json output"
grep -q '"engine": "aio"' "$work/aio.json" || fail "aio run did not use the aio engine"
rc=0
timeout 60 "$dlbench" --dev "$img" --iterations 10 --batches 1 --rounds 1 --warmup 0 \
	--tests read,batch >"$work/text.out" 2>&1 ||
	rc=$?
[ "$rc" = 0 ] || fail "dlbench text mode exited $rc"
grep -q '^batch of 2000 reads' "$work/text.out" || fail "text table lacks the batch row"

# 3. --lease: a lockspace on the scratch file, acquire and release timed, real daemonless
#    protocol code on the real engine (figures are for the benchmark, not asserted).
rc=0
timeout 120 "$dlbench" --dev "$img" --lease --iterations 20 --json >"$work/lease.json" \
	2>"$work/lease.err" || rc=$?
[ "$rc" = 0 ] || { cat "$work/lease.err" >&2; fail "dlbench --lease exited $rc"; }
grep -qE '"acquire_median_us": [0-9.]+' "$work/lease.json" || fail "--lease lacks acquire_median_us"
grep -qE '"rounds_per_acquire_and_release": 8.00' "$work/lease.json" ||
	fail "--lease: an uncontended acquire + release should take 6 + 2 rounds"

# 4. it refuses what it must not write.
rc=0
"$dlbench" --dev "$work" --iterations 1 >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a directory was not refused (exit $rc)"
rc=0
"$dlbench" --dev "$img" --sector-size 1000 >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a bad --sector-size was not a usage error (exit $rc)"

echo "PASS: dlbench smoke"
