# SPDX-License-Identifier: MIT
# daemon_lib.sh: helpers for the tests that run real dleased daemons (sourced after lib.sh).
# One daemon is one host: host N runs `dleased --run-dir $TMP/hN --host-name hN --foreground`
# in the background, its stderr in $TMP/hN.log. Everything started here (daemons and the
# background dlctl processes registered with bg_add) is stopped by the EXIT trap: SIGCONT first
# (a test may have stopped it), then SIGTERM, then SIGKILL.
DLEASED=$BUILD/dleased
command -v jq >/dev/null || { echo "FAIL - jq is missing (tools/install-deps installs it)"; exit 1; }
T_MS=1000 # io_timeout of every lockspace these tests format (--io-timeout 1)
declare -A DPID=()
BGPIDS=()

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# bg_add PID: stop this process in the cleanup.
bg_add() { BGPIDS+=("$1"); }

# stop_pids PID...: CONT, TERM, wait up to 3 s, KILL; reaps our children.
stop_pids() {
	local p alive i
	[ $# -gt 0 ] || return 0
	for p in "$@"; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
	for i in $(seq 30); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
	for p in "$@"; do wait "$p" 2>/dev/null; done
	return 0
}

daemon_cleanup() {
	local pids=() n
	for n in "${!DPID[@]}"; do pids+=("${DPID[$n]}"); done
	stop_pids "${BGPIDS[@]}" "${pids[@]}"
	if [ "${KEEP_LOGS:-}" ]; then for f in "$TMP"/h*.log; do [ -f "$f" ] && cp "$f" "/tmp/$(basename "$TMP")-$(basename "$f")"; done; fi
	# a sanitizer build's daemons report memory errors and leaks in their logs
	local bad=0 f
	for f in "$TMP"/h*.log; do
		[ -f "$f" ] || continue
		if grep -Eq "ERROR: (Address|Leak)Sanitizer|runtime error:" "$f"; then
			echo "FAIL - sanitizer report in $(basename "$f"):"
			grep -E -A20 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$f" | head -60 | sed 's/^/    | /'
			bad=1
		fi
	done
	cleanup
	[ "$bad" = 0 ] || exit 1
}
trap daemon_cleanup EXIT

# HDIR[N] may move host N's run directory out of $TMP (a test whose users cannot reach $TMP).
declare -A HDIR=()
rundir() { echo "${HDIR[$1]:-$TMP/h$1}"; }

# dl N ARGS...: dlctl as host N (its daemon's run directory).
dl() {
	local n=$1
	shift
	DLEASE_RUN_DIR="$(rundir "$n")" "$DLCTL" "$@"
}

# daemon_start N [DLEASED ARGS...]: start host N's daemon and wait for its socket to answer.
daemon_start() {
	local n=$1 i
	shift
	mkdir -p "$(rundir "$n")"
	"$DLEASED" --run-dir "$(rundir "$n")" --host-name "h$n" --foreground "$@" 2>>"$TMP/h$n.log" &
	DPID[$n]=$!
	for i in $(seq 100); do
		if [ -S "$(rundir "$n")/dleased.sock" ] && dl "$n" status >/dev/null 2>&1; then return 0; fi
		kill -0 "${DPID[$n]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "# daemon h$n did not start; its log:"
	sed 's/^/    | /' "$TMP/h$n.log" | tail -20
	return 1
}

# daemon_stop N [SIGNAL]: send SIGNAL (default TERM) and reap the daemon.
daemon_stop() {
	local n=$1 sig=${2:-TERM} p=${DPID[$1]:-}
	[ -n "$p" ] || return 0
	kill -CONT "$p" 2>/dev/null
	kill -"$sig" "$p" 2>/dev/null
	for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	unset "DPID[$n]"
}

# daemons_start N...: start several.
daemons_start() {
	local n
	for n in "$@"; do daemon_start "$n" || return 1; done
}

# mkdisks PREFIX COUNT [SIZE]: COUNT sparse files PREFIX0.img..; prints their paths.
mkdisks() {
	local i
	for i in $(seq 0 $(($2 - 1))); do
		truncate -s "${3:-64M}" "$1$i.img"
		echo "$1$i.img"
	done
}

# format LS DISK...: a lockspace with io_timeout 1 s, 8 hosts, 16 resources.
format_ls() {
	local ls=$1
	shift
	"$DLCTL" format --lockspace "$ls" --max-hosts 8 --resources 16 --io-timeout 1 "$@" >/dev/null
}

# join_all "N..." DISK...: every host N joins with host id N, in parallel; ok/fail per host.
join_all() {
	local hosts=$1 n
	shift
	for n in $hosts; do
		dl "$n" join --host-id "$n" "$@" >"$TMP/join$n.out" 2>&1 &
		eval "local jp$n=\$!"
	done
	for n in $hosts; do
		local v="jp$n"
		if wait "${!v}"; then ok "h$n joins as host $n"; else
			fail "h$n join: exit $?"
			sed 's/^/    | /' "$TMP/join$n.out"
		fi
	done
}

# wait_until SECONDS COMMAND...: retry every 0.1 s until COMMAND succeeds; 1 on timeout.
wait_until() {
	local deadline=$(($(now_ms) + $1 * 1000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# jfield JSON JQ-FILTER: one value.
jfield() { echo "$1" | jq -r "$2"; }

# generation N LS: host N's generation in lockspace LS (from status --json).
generation() { dl "$1" status --json | jq -r --arg ls "$2" '.lockspaces[] | select(.lockspace == $ls) | .generation'; }

# show_log N: the tail of host N's daemon log, for a failure.
show_log() { echo "    # h$1.log:"; tail -"${2:-15}" "$TMP/h$1.log" | sed 's/^/    | /'; }

# check COND DESCRIPTION: ok when the arithmetic/test COND (evaluated by bash) holds.
check() {
	if eval "$1"; then ok "$2"; else fail "$2 (check: $1)"; fi
}

# alive PID: the process exists and is not a zombie.
alive() { [ -e "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
