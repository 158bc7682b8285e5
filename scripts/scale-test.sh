#!/usr/bin/env bash
# Scale-out test: Kamailio's dispatcher (deploy/kamailio) in front of three
# agent workers, driven by SIPp over loopback.  See docs/scaling.md.
#
# Phases (each: CALLS calls at RATE calls/s, every call a short scripted
# conversation with RFC 4733 DTMF, tests/sipp/scale/caller_dtmf.xml):
#   baseline  all calls succeed and are spread over the three workers;
#   kill      worker w2 is killed (SIGKILL) mid-run: only the calls it was
#             carrying are lost (counted); once the proxy marks it down no
#             new call pays an INVITE timeout; it is restarted and takes
#             calls again;
#   refuse    worker w3 is replaced by one that answers every INVITE with
#             503 (as a full or draining worker does) while its OPTIONS still
#             say 200 (it filled up between two probes): every call it
#             refuses is placed on another worker at once, none is lost
#             (REFUSE_CALLS calls); then it answers OPTIONS with 503 too, and
#             the proxy must keep it out of rotation; then the real w3 comes
#             back;
#   drain     worker w3 gets SIGTERM mid-run: it refuses new calls (503),
#             finishes its calls and exits; no call is lost.  Only a real
#             worker can drain: with the SIPp stand-in this phase is skipped
#             (and says so).
# Prints a table and one PASS/MISS line per check.
#
# Usage: scripts/scale-test.sh [--install] [--keep]
#   --install  install the Debian packages kamailio and sip-tester first
#              (needs root and apt-get)
#   --keep     keep the work directory (logs) even when every check passes
#
# Exit status: 0 every check passed; 1 a check missed; 2 the test could not
# run (a process failed to start); 77 SKIPPED: kamailio/SIPp missing, or not
# root (SIPp plays RTP from pcap files through raw sockets, which needs root).
# 77 is never a pass: callers that accept a skip must test for it.
#
# Environment (all optional):
#   WORKER_KIND     agent: an example agent in sip mode (WORKER_EXAMPLE);
#                   echo: the agents-sip echo_server example (the real SIP
#                   stack and its drain, no agent); sipp: a SIPp stand-in;
#                   auto (default): the first of agent, echo, sipp that
#                   builds and runs, saying why the others were not used
#   WORKER_EXAMPLE  example binary run in sip mode (survey)
#   WORKER_ARGS     extra arguments for that binary (default --scripted: the
#                   demo model, scripted STT and a tone voice; no key)
#   WORKER_PROFILE  cargo profile the worker is built with (release)
#   WORKER_CMD      any worker command; {port} {rtp} {max} {name} are
#                   replaced per worker (overrides WORKER_KIND)
#   CALLS RATE      calls per phase and calls per second (300, 20)
#   REFUSE_CALLS    calls in the refuse phase (100)
#   PROXY_PORT      proxy SIP port (15060); workers use the next three ports
#   CALLER_PORT     SIPp caller SIP port (15070)
#   MEDIA_BASE      first SIPp media port (16000)
#   RTP_BASE        first RTP port of the real workers (40000, 1000 each)
#   WORKER_MAX_CALLS  --max-calls of the real workers (200)
#   KILL_AT RESTART_AT DRAIN_AT  seconds into a phase (4, 11, 4)
#   SLOW_MS         a call setup this slow counts as having paid an INVITE
#                   timeout (800; the proxy waits 1000 ms for a silent worker)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCEN_DIR=$ROOT/tests/sipp/scale
KAM_DIR=$ROOT/deploy/kamailio
ANALYZE=$ROOT/scripts/scale/analyze.awk
PCAP_DIR=/usr/share/sip-tester

CALLS=${CALLS:-300}
REFUSE_CALLS=${REFUSE_CALLS:-100}
RATE=${RATE:-20}
PROXY_PORT=${PROXY_PORT:-15060}
CALLER_PORT=${CALLER_PORT:-15070}
MEDIA_BASE=${MEDIA_BASE:-16000}
RTP_BASE=${RTP_BASE:-40000}
WORKER_MAX_CALLS=${WORKER_MAX_CALLS:-200}
KILL_AT=${KILL_AT:-4}
RESTART_AT=${RESTART_AT:-11}
DRAIN_AT=${DRAIN_AT:-4}
SLOW_MS=${SLOW_MS:-800}
PROBE_S=1   # PROBE_INTERVAL_S of kamailio.cfg
WORKER_EXAMPLE=${WORKER_EXAMPLE:-survey}
WORKER_KIND=${WORKER_KIND:-auto}
NWORKERS=3

if [ $((CALLS / RATE)) -lt $((RESTART_AT + 3)) ]; then
    echo "CALLS/RATE must last at least RESTART_AT + 3 s (the kill phase restarts w2 at +${RESTART_AT} s and needs new calls after that)" >&2
    exit 2
fi

install=0
keep=0
for arg in "$@"; do
    case $arg in
        --install) install=1 ;;
        --keep) keep=1 ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $arg (try --help)" >&2; exit 2 ;;
    esac
done

skip() {
    echo "SKIPPED: scale test not run: $*"
    exit 77
}

# --- prerequisites ---------------------------------------------------------
have_tools() { command -v kamailio >/dev/null && command -v kamcmd >/dev/null && command -v sipp >/dev/null; }
if ! have_tools && [ "$install" = 1 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing kamailio and sip-tester from Debian's packages..."
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y kamailio sip-tester; } \
            >/tmp/scale-test-apt.log 2>&1 || echo "apt-get failed (log: /tmp/scale-test-apt.log)"
    else
        echo "cannot install: needs root and apt-get"
    fi
fi
have_tools || skip "kamailio, kamcmd or sipp not installed (Debian: apt-get install kamailio sip-tester, or run with --install as root)"
[ "$(id -u)" = 0 ] || skip "needs root: SIPp plays the RTP audio and RFC 4733 DTMF pcaps through raw sockets"
for f in g711a.pcap dtmf_2833_1.pcap dtmf_2833_pound.pcap; do
    [ -r "$PCAP_DIR/$f" ] || skip "$PCAP_DIR/$f missing (package sip-tester)"
done

WORK=$(mktemp -d -t scale-test.XXXXXX)
RUN_DIR=$WORK/kamailio-run
CTL="unix:$RUN_DIR/kamailio_ctl"
declare -A PIDS=()   # process-group leaders we started: name -> pid
misses=0

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local name pid
    for name in "${!PIDS[@]}"; do
        pid=${PIDS[$name]}
        kill -TERM -- "-$pid" 2>/dev/null
    done
    sleep 0.5
    for name in "${!PIDS[@]}"; do
        pid=${PIDS[$name]}
        kill -KILL -- "-$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$keep" = 1 ] || [ "$misses" != 0 ]; then
        echo "logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM

fail_setup() {
    echo "ERROR: $*"
    echo "logs in $WORK"
    keep=1
    exit 2
}

now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
# sleep until OFFSET seconds after START
sleep_until() { local d; d=$(awk -v s="$1" -v o="$2" -v n="$(now)" 'BEGIN { d = s + o - n; printf "%.3f", (d > 0 ? d : 0) }'); sleep "$d"; }

worker_port() { echo $((PROXY_PORT + $1)); }

# --- worker kind -------------------------------------------------------------
# try_build KIND: build the Rust worker of KIND (agent | echo); on success set
# WORKER_CMD and worker_note, else set why.
profile=${WORKER_PROFILE:-release}
cargo_profile=$profile
[ "$profile" = debug ] && cargo_profile=dev
target_dir=${CARGO_TARGET_DIR:-$ROOT/target}/$profile
try_build() {
    local kind=$1 what bin
    why=""
    if [ "$kind" = agent ]; then
        what=(-p agents-examples --bin "$WORKER_EXAMPLE")
        bin=$target_dir/$WORKER_EXAMPLE
    else
        what=(-p agents-sip --example echo_server)
        bin=$target_dir/examples/echo_server
    fi
    if [ ! -d "$ROOT/agents-sip" ]; then
        why="no agents-sip crate in this tree"
        return 1
    fi
    if ! command -v cargo >/dev/null; then
        why="cargo not found"
        return 1
    fi
    echo "== building the worker: cargo build --profile=$cargo_profile ${what[*]}"
    if ! (cd "$ROOT" && timeout 1800 cargo build --profile="$cargo_profile" -q "${what[@]}") >"$WORK/build-$kind.log" 2>&1; then
        why="cargo build ${what[*]} failed: $(grep -m1 '^error' "$WORK/build-$kind.log" || tail -n1 "$WORK/build-$kind.log")"
        return 1
    fi
    if [ "$kind" = agent ]; then
        if ! "$bin" sip --help >"$WORK/sip-help.txt" 2>&1; then
            why="'$WORKER_EXAMPLE sip --help' failed: the example has no sip mode yet"
            return 1
        fi
        WORKER_CMD="$bin sip --listen 127.0.0.1:{port} --rtp-ports {rtp} --max-calls {max} ${WORKER_ARGS:---scripted}"
        worker_note="Rust agent worker (example '$WORKER_EXAMPLE' in sip mode)"
        worker_label="agent ($WORKER_EXAMPLE)"
    else
        WORKER_CMD="$bin --listen 127.0.0.1:{port} --rtp-ports {rtp} --max-calls {max}"
        worker_label="echo_server (agents-sip, no agent)"
        worker_note="Rust SIP worker without an agent (agents-sip example echo_server: the real SIP stack, drain included; it echoes the caller instead of running an agent)"
    fi
    return 0
}

worker_note=""
worker_label="SIPp stand-in"
notes=""
case $WORKER_KIND in
    auto | agent | echo | sipp) ;;
    *) fail_setup "unknown WORKER_KIND=$WORKER_KIND (auto, agent, echo, sipp)" ;;
esac
if [ -n "${WORKER_CMD:-}" ]; then
    WORKER_KIND=cmd
    worker_note="command: $WORKER_CMD"
    worker_label="WORKER_CMD"
elif [ "$WORKER_KIND" = sipp ]; then
    worker_note="SIPp stand-in (tests/sipp/scale/worker_uas.xml), chosen by WORKER_KIND=sipp"
else
    for kind in agent echo; do
        [ "$WORKER_KIND" = auto ] || [ "$WORKER_KIND" = "$kind" ] || continue
        if try_build "$kind"; then
            WORKER_KIND=cmd
            break
        fi
        [ "$WORKER_KIND" = auto ] || fail_setup "WORKER_KIND=$kind but $why"
        notes="$notes; $kind worker not used: $why"
    done
    if [ "$WORKER_KIND" = auto ]; then
        WORKER_KIND=sipp
        worker_note="SIPp stand-in (tests/sipp/scale/worker_uas.xml)$notes"
    elif [ -n "$notes" ]; then
        worker_note="$worker_note$notes"
    fi
fi

# --- work directory: scenarios next to their (shortened) pcaps -----------------
cp "$SCEN_DIR"/caller_dtmf.xml "$SCEN_DIR"/worker_uas.xml "$SCEN_DIR"/worker_full.xml "$SCEN_DIR"/worker_draining.xml \
    "$SCEN_DIR"/options_ping.xml "$WORK"/
# g711a.pcap holds 30 ms packets of 310 bytes after a 24-byte header: keep ~2 s
# of caller speech and ~1 s of agent greeting.
head -c $((24 + 67 * 310)) "$PCAP_DIR/g711a.pcap" >"$WORK/caller_speech.pcap"
head -c $((24 + 34 * 310)) "$PCAP_DIR/g711a.pcap" >"$WORK/agent_greeting.pcap"

# --- processes -----------------------------------------------------------------
# Each process is started as its own process group (setsid), so a signal sent
# to the group reaches it and nothing else.
# start_worker I [SCENARIO [SIPP ARGS...]]: the pool's worker I, or a SIPp
# worker playing SCENARIO (worker_full.xml, ...) on its port.
start_worker() {
    local i=$1 scenario=${2:-} port rtp cmd
    shift
    [ $# -gt 0 ] && shift
    port=$(worker_port "$i")
    if [ "$WORKER_KIND" = sipp ] || [ -n "$scenario" ]; then
        (cd "$WORK" && exec setsid sipp -sf "${scenario:-worker_uas.xml}" -i 127.0.0.1 -p "$port" \
            -mp $((MEDIA_BASE + 100 * i)) -nostdin -trace_err -error_file "w$i.errors.log" "$@") \
            >>"$WORK/w$i.log" 2>&1 </dev/null &
    else
        rtp="$((RTP_BASE + 1000 * (i - 1)))-$((RTP_BASE + 1000 * (i - 1) + 999))"
        cmd=${WORKER_CMD//\{port\}/$port}
        cmd=${cmd//\{rtp\}/$rtp}
        cmd=${cmd//\{max\}/$WORKER_MAX_CALLS}
        cmd=${cmd//\{name\}/w$i}
        (cd "$WORK" && exec setsid bash -c "exec $cmd") >>"$WORK/w$i.log" 2>&1 </dev/null &
    fi
    PIDS[w$i]=$!
}

# Signal a worker's process group and, for SIGKILL, reap it.
signal_worker() {
    local i=$1 sig=$2 pid=${PIDS[w$1]}
    kill -s "$sig" -- "-$pid" 2>/dev/null
    if [ "$sig" = KILL ]; then
        wait "$pid" 2>/dev/null
        unset "PIDS[w$i]"
    fi
}

# Wait up to $2 s for worker $1 to exit by itself; true if it did.
wait_worker_exit() {
    local i=$1 deadline pid=${PIDS[w$1]}
    deadline=$(( $(date +%s) + $2 ))
    while kill -0 "$pid" 2>/dev/null; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        # a zombie counts as exited
        [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && break
        sleep 0.2
    done
    wait "$pid" 2>/dev/null
    unset "PIDS[w$i]"
    return 0
}

# "uri flags" per worker, from the proxy's control socket.
pool_state() {
    kamcmd -s "$CTL" dispatcher.list 2>/dev/null |
        awk '$1 == "URI:" { u = $2 } $1 == "FLAGS:" { print u, $2 }'
}

# Wait up to $1 s until every worker is active in the proxy.
wait_pool_up() {
    local deadline=$(( $(date +%s) + $1 )) n
    while :; do
        n=$(pool_state | awk '$2 ~ /^A/' | wc -l)
        [ "$n" = "$NWORKERS" ] && return 0
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

# Epoch of the first "worker <event> <uri> at T" proxy log line with T >= $3.
proxy_event_after() {
    local event=$1 port=$2 since=$3
    awk -v e="$event" -v u="sip:127.0.0.1:$port" -v s="$since" \
        '$0 ~ ("worker " e " " u " at ") { t = $NF; if (t >= s) { print t; exit } }' "$WORK/kamailio.log"
}

echo "== scale test: Kamailio $(kamailio -v | awk 'NR == 1 { print $3 }') dispatcher + $NWORKERS workers + SIPp $(sipp -v 2>/dev/null | awk '/SIPp v/ { print $2 }' | tr -d ',')"
echo "== worker kind: $worker_note"
echo "== work dir: $WORK"

kamailio -c -f "$KAM_DIR/kamailio.cfg" >"$WORK/kamailio-check.log" 2>&1 ||
    fail_setup "kamailio -c rejected deploy/kamailio/kamailio.cfg (see $WORK/kamailio-check.log)"

{
    echo "# scale test pool: set 1, three workers"
    for i in $(seq 1 $NWORKERS); do echo "1 sip:127.0.0.1:$(worker_port "$i") 0 0 name=w$i"; done
} >"$WORK/dispatcher.list"

for i in $(seq 1 $NWORKERS); do start_worker "$i"; done
sleep 0.5
for i in $(seq 1 $NWORKERS); do
    kill -0 "${PIDS[w$i]}" 2>/dev/null || fail_setup "worker w$i exited at start (see $WORK/w$i.log)"
done

(exec setsid env LISTEN="udp:127.0.0.1:$PROXY_PORT" DISPATCHER_LIST="$WORK/dispatcher.list" \
    RUN_DIR="$RUN_DIR" "$KAM_DIR/run.sh") >"$WORK/kamailio.log" 2>&1 </dev/null &
PIDS[kamailio]=$!

wait_pool_up 20 || fail_setup "the proxy did not see all workers up within 20 s: $(pool_state | tr '\n' ' ') (see $WORK/kamailio.log)"
# `kamailio -c` does not check everything: route one request through the
# running proxy before trusting it.
(cd "$WORK" && timeout 10 sipp "127.0.0.1:$PROXY_PORT" -sf options_ping.xml -i 127.0.0.1 \
    -p "$CALLER_PORT" -m 1 -nostdin -trace_err -error_file options.errors.log) >"$WORK/options.log" 2>&1 ||
    fail_setup "the proxy did not answer OPTIONS with 200 (see $WORK/options.log, $WORK/kamailio.log)"
echo "== proxy up on udp:127.0.0.1:$PROXY_PORT, all $NWORKERS workers active"

# --- phases --------------------------------------------------------------------
declare -A R=()   # phase.key -> value
PORTS=""
for i in $(seq 1 $NWORKERS); do PORTS="$PORTS $(worker_port "$i"):w$i"; done

# Start the caller for phase $1 ($2 calls) in the background; sets
# CALLER_PID, T_START.
start_caller() {
    local phase=$1 calls=${2:-$CALLS}
    T_START=$(now)
    (cd "$WORK" && exec timeout $((CALLS / RATE + 90)) sipp "127.0.0.1:$PROXY_PORT" -sf caller_dtmf.xml \
        -s agent -i 127.0.0.1 -p "$CALLER_PORT" -mp "$MEDIA_BASE" \
        -m "$calls" -r "$RATE" -l $((RATE * 30)) -recv_timeout 20000 -nostdin \
        -trace_logs -log_file "$phase.calls.log" -trace_err -error_file "$phase.errors.log" \
        -trace_stat -stf "$phase.stat.csv") >"$WORK/$phase.sipp.log" 2>&1 </dev/null &
    CALLER_PID=$!
}

finish_caller() {
    local phase=$1 rc
    wait "$CALLER_PID"
    rc=$?
    R[$phase.sipp_rc]=$rc
    # SIPp: 0 all calls passed, 1 some failed; anything else is a crash or timeout.
    if [ "$rc" -gt 1 ]; then
        echo "   caller SIPp exited with status $rc (see $WORK/$phase.sipp.log)"
    fi
}

analyze() {
    local phase=$1 k v
    shift
    while IFS='=' read -r k v; do
        R[$phase.$k]=$v
    done < <(awk -v ports="$PORTS" -v slow_ms="$SLOW_MS" "$@" -f "$ANALYZE" "$WORK/$phase.calls.log")
}

check() {
    local ok=$1
    shift
    if [ "$ok" = 1 ]; then
        echo "PASS  $*"
    else
        echo "MISS  $*"
        misses=$((misses + 1))
    fi
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print ((a + 0 >= b + 0) ? 1 : 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { print ((a + 0 < b + 0) ? 1 : 0) }'; }
eq() { [ "$1" = "$2" ] && echo 1 || echo 0; }

duration_s=$((CALLS / RATE))

echo "== phase baseline: $CALLS calls at $RATE cps (~${duration_s} s + call length)"
start_caller baseline
finish_caller baseline
analyze baseline

wait_pool_up 10 || fail_setup "pool not fully up after the baseline: $(pool_state | tr '\n' ' ')"
echo "== phase kill: w2 killed (SIGKILL) at +${KILL_AT} s, restarted at +${RESTART_AT} s"
start_caller kill
sleep_until "$T_START" "$KILL_AT"
t_kill=$(now)
signal_worker 2 KILL
sleep_until "$T_START" "$RESTART_AT"
t_restart=$(now)
start_worker 2
finish_caller kill
victim_port=$(worker_port 2)
t_down=$(proxy_event_after down "$victim_port" "$t_kill")
t_up=$(proxy_event_after up "$victim_port" "$t_restart")
analyze kill -v kill_t="$t_kill" -v down_t="${t_down:-0}" -v restart_t="$t_restart" -v up_t="${t_up:-0}" -v victim=w2

wait_pool_up 15 || fail_setup "pool not fully up after the kill phase: $(pool_state | tr '\n' ' ')"
echo "== phase refuse: w3 replaced by a worker answering INVITE with 503, OPTIONS with 200 ($REFUSE_CALLS calls)"
signal_worker 3 KILL          # between phases: it carries no call
start_worker 3 worker_full.xml
sleep 0.3
kill -0 "${PIDS[w3]}" 2>/dev/null || fail_setup "the refusing worker exited at start (see $WORK/w3.log)"
sleep $((PROBE_S + 1))   # let a probe see it answer 200
wait_pool_up 10 || fail_setup "the refusing worker did not join the pool: $(pool_state | tr '\n' ' ')"
start_caller refuse "$REFUSE_CALLS"
finish_caller refuse
analyze refuse
# Refused INVITEs the proxy moved to another worker (its failure route logs
# "worker <uri> failed <call-id> (503), marked down" for each).
refuse_retried=$(grep -c "worker sip:127.0.0.1:$(worker_port 3) failed .* (503)" "$WORK/kamailio.log")
echo "== w3 now answers OPTIONS with 503 too (a draining worker)"
wait_pool_up 10 || fail_setup "pool not fully up after the refuse phase: $(pool_state | tr '\n' ' ')"
signal_worker 3 KILL
start_worker 3 worker_draining.xml
sleep 0.3
kill -0 "${PIDS[w3]}" 2>/dev/null || fail_setup "the draining stand-in exited at start (see $WORK/w3.log)"
t_probe503=$(now)
sleep 3.5
t_probe503_down=$(proxy_event_after down "$(worker_port 3)" "$t_probe503")
t_probe503_up=$(proxy_event_after up "$(worker_port 3)" "$t_probe503")
probe503_state=$(pool_state | awk -v u="sip:127.0.0.1:$(worker_port 3)" '$1 == u { print $2 }')
signal_worker 3 KILL
start_worker 3

drain_run=0
if [ "$WORKER_KIND" = sipp ]; then
    drain_note="SKIPPED: the SIPp stand-in cannot drain (SIGTERM ends SIPp and drops its calls); needs the real worker"
else
    wait_pool_up 10 || fail_setup "pool not fully up before the drain phase: $(pool_state | tr '\n' ' ')"
    echo "== phase drain: w3 gets SIGTERM at +${DRAIN_AT} s"
    drain_run=1
    start_caller drain
    sleep_until "$T_START" "$DRAIN_AT"
    t_drain=$(now)
    signal_worker 3 TERM
    # Note when it exits (a zombie has exited; it is reaped later).
    (pid=${PIDS[w3]}
     while kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; do sleep 0.1; done
     now >"$WORK/drain-exit.t") &
    finish_caller drain
    if wait_worker_exit 3 30; then drain_exited=1; else drain_exited=0; fi
    sleep 0.3
    t_drain_exit=$(cat "$WORK/drain-exit.t" 2>/dev/null || now)
    t_drain_down=$(proxy_event_after down "$(worker_port 3)" "$t_drain")
    analyze drain
fi

# --- report --------------------------------------------------------------------
row() {
    local p=$1 label=$2 cells="" i
    for i in $(seq 1 $NWORKERS); do
        cells="$cells$(printf '%-12s' "${R[$p.answered_w$i]}/${R[$p.lost_w$i]}")"
    done
    printf '%-9s %7s %5s %7s  %s %9s %9s\n' "$label" "${R[$p.placed]}" "${R[$p.ok]}" "${R[$p.failed]}" \
        "$cells" "${R[$p.p50]}" "${R[$p.p99]}"
}
echo
echo "Worker kind: $worker_note"
echo "Machine: $(nproc) vCPU; $CALLS calls per phase at $RATE cps; call = greeting 1 s, speech 2 s, DTMF 1 #, 1 s, BYE"
printf '%-9s %7s %5s %7s  ' phase placed ok failed
for i in $(seq 1 $NWORKERS); do printf '%-12s' "w$i ans/lost"; done
printf '%9s %9s\n' "p50 ms" "p99 ms"
row baseline baseline
row kill "kill w2"
row refuse "503 w3"
if [ "$drain_run" = 1 ]; then row drain "drain w3"; else echo "drain w3  $drain_note"; fi
echo "(ans = calls the worker answered, lost = answered but not completed; setup = INVITE sent -> 200 OK received at the caller)"
echo
k_down=$([ -n "$t_down" ] && fsub "$t_down" "$t_kill" || echo never)
k_up=$([ -n "$t_up" ] && fsub "$t_up" "$t_restart" || echo never)
echo "kill: w2 marked down ${k_down} s after SIGKILL; ${R[kill.window_calls]} calls started before that, ${R[kill.window_paid_timeout]} of them paid the INVITE timeout (max setup ${R[kill.window_max]} ms)"
echo "      after it was marked down: ${R[kill.after_down_calls]} calls, max setup ${R[kill.after_down_max]} ms; restarted worker up again ${k_up} s after restart and took ${R[kill.back_on_victim]} calls"
echo

# baseline
b=baseline
check "$(eq "${R[$b.failed]}" 0)" "baseline: all ${R[$b.placed]} calls completed (failed ${R[$b.failed]})"
check "$(eq "${R[$b.placed]}" "$CALLS")" "baseline: $CALLS calls placed (${R[$b.placed]})"
fair=$((CALLS * 8 / 10 / NWORKERS))
spread=1
for i in $(seq 1 $NWORKERS); do [ "$(ge "${R[$b.answered_w$i]}" "$fair")" = 1 ] || spread=0; done
check "$spread" "baseline: spread over workers, each >= $fair calls ($(for i in $(seq 1 $NWORKERS); do printf 'w%s=%s ' "$i" "${R[$b.answered_w$i]}"; done | sed 's/ $//'))"
check "$(lt "${R[$b.max]}" "$SLOW_MS")" "baseline: no call setup paid a timeout (max ${R[$b.max]} ms < $SLOW_MS ms)"
# kill
k="kill"
check "$(eq "${R[$k.placed]}" "$CALLS")" "kill: $CALLS calls placed (${R[$k.placed]})"
check "$(ge "${R[$k.lost_in_progress]}" 1)" "kill: calls in progress on w2 were lost, counted: ${R[$k.lost_in_progress]}"
check "$(eq "${R[$k.lost_unexpected]}" 0)" "kill: no other call failed (${R[$k.lost_unexpected]} failed that were not on w2 at the kill; ${R[$k.rejected]} rejected)"
check "$([ -n "$t_down" ] && lt "$k_down" 3 || echo 0)" "kill: proxy marked w2 down within 3 s (${k_down} s)"
check "$([ "${R[$k.after_down_calls]}" -gt 0 ] && [ "${R[$k.after_down_slow]}" = 0 ] && echo 1 || echo 0)" \
    "kill: after the mark-down no INVITE timeout paid (${R[$k.after_down_slow]} of ${R[$k.after_down_calls]} calls >= $SLOW_MS ms)"
check "$(eq "${R[$k.after_down_on_victim]}" 0)" "kill: no call sent to w2 while down (${R[$k.after_down_on_victim]})"
check "$([ -n "$t_up" ] && [ "${R[$k.back_on_victim]}" -gt 0 ] && echo 1 || echo 0)" "kill: restarted w2 back in the pool and taking calls (${R[$k.back_on_victim]} calls)"
# refuse
f=refuse
check "$(eq "${R[$f.placed]}" "$REFUSE_CALLS")" "503: $REFUSE_CALLS calls placed (${R[$f.placed]})"
check "$(ge "$refuse_retried" 1)" "503: INVITEs refused by w3 were placed on another worker ($refuse_retried)"
check "$(eq "${R[$f.failed]}" 0)" "503: no call lost (failed ${R[$f.failed]}, rejected ${R[$f.rejected]})"
check "$(eq "${R[$f.answered_w3]}" 0)" "503: the refusing worker answered no call (${R[$f.answered_w3]})"
check "$(lt "${R[$f.max]}" "$SLOW_MS")" "503: no call setup paid a timeout (max ${R[$f.max]} ms)"
# w3 may already be down when this step starts (its refused INVITEs mark it down at once): then
# there is no new "down" event, and what counts is that the probes never brought it back.
check "$([ -z "$t_probe503_up" ] && [ "${probe503_state#I}" != "$probe503_state" ] && echo 1 || echo 0)" \
    "503 to OPTIONS: proxy kept w3 out of rotation (${t_probe503_down:+marked down after $(fsub "$t_probe503_down" "$t_probe503") s; }no up event; state ${probe503_state:-?})"
# drain
if [ "$drain_run" = 1 ]; then
    d=drain
    check "$(eq "${R[$d.failed]}" 0)" "drain: no call lost (failed ${R[$d.failed]}, w3 lost ${R[$d.lost_w3]}, rejected ${R[$d.rejected]})"
    check "$(ge "${R[$d.answered_w3]}" 1)" "drain: w3 carried calls before the drain (${R[$d.answered_w3]})"
    check "$([ -n "$t_drain_down" ] && echo 1 || echo 0)" "drain: proxy took w3 out of rotation ${t_drain_down:+after $(fsub "$t_drain_down" "$t_drain") s}"
    check "$drain_exited" "drain: w3 exited by itself within 30 s of SIGTERM$([ "$drain_exited" = 1 ] && echo " (exited $(fsub "$t_drain_exit" "$t_drain") s after it)")"
else
    echo "SKIP  drain: $drain_note"
fi
echo
if [ "$misses" = 0 ]; then
    echo "RESULT: all checks passed (workers: $worker_label; drain checked: $([ "$drain_run" = 1 ] && echo yes || echo "no, skipped"))"
    exit 0
fi
echo "RESULT: $misses check(s) missed"
exit 1
