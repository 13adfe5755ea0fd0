#!/usr/bin/env bash
# Soak: kill clients against one server, many times, and show that the server stays flat.
#
# Starts one `bitfusion server --backend emulated` on a free loopback port, then, CYCLES times: starts
# `bitfusion run -p 0.5 -- kernel_loop` (allocates, launches and copies in a loop), SIGKILLs the program at a
# random point (from before its session opens to well into its loop), and checks that the server freed its
# slice: the session's "ended ... freed" line within 3 s of the kill, and every 10 cycles `bitfusion list_gpus`
# showing no session, nothing allocated and the whole GPU unreserved. It reports the server's RSS, heap after a
# full GC, native memory committed (NMT), threads, open fds and the host's /dev/shm entries of this user at the
# start, every 100 cycles and at the end, and exits non-zero at the first slice not freed.
#
# Usage: scripts/soak-client-kills.sh [CYCLES (default 1000)] [TRANSPORT: auto (IPC on one host) | udp]
# Needs a built tree (./mvnw -DskipTests package) and the examples (scripts/build-examples.sh).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cycles="${1:-1000}"
transport="${2:-auto}"
bitfusion="$root/bin/bitfusion"
program="$root/system-tests/target/cuda-examples/kernel_loop"
memory_mb=1024
freed_within_ms=3000
work="$(mktemp -d "${TMPDIR:-/tmp}/bitfusion-soak.XXXXXX")"
server_log="$work/server.log"

[ -x "$program" ] || { echo "soak: $program is missing: run scripts/build-examples.sh" >&2; exit 2; }
port="$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

# Native memory tracking costs little and tells a leak of native memory from one of heap.
BITFUSION_JAVA_OPTS="${SOAK_SERVER_JAVA_OPTS:--XX:NativeMemoryTracking=summary}" \
    "$bitfusion" server --backend emulated --listen "127.0.0.1:$port" --memory-mb "$memory_mb" >"$server_log" 2>&1 &
server_pid=$!
cleanup()
{
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 300); do
    grep -q "listening on" "$server_log" && break
    kill -0 "$server_pid" 2>/dev/null || { echo "soak: the server did not start:" >&2; cat "$server_log" >&2; exit 2; }
    sleep 0.1
done
# bin/bitfusion execs java: the launcher's pid is the server's JVM.

shm_entries() { find /dev/shm -maxdepth 1 -name "bitfusion-$(id -un)-*" 2>/dev/null | wc -l; }
heap_used()
{
    jcmd "$server_pid" GC.heap_info 2>/dev/null | awk '/garbage-first heap|total.*used/ { for (i = 1; i <= NF; i++) if ($i == "used") { print $(i + 1); exit } }'
}
native_committed()
{
    jcmd "$server_pid" VM.native_memory summary 2>/dev/null | awk '/^Total:/ { for (i = 1; i <= NF; i++) if ($i ~ /^committed=/) { sub("committed=", "", $i); print $i; exit } }'
}
# Figures after a full collection, so that garbage not yet collected does not pass for growth.
report()
{
    local status="/proc/$server_pid/status"
    jcmd "$server_pid" GC.run >/dev/null 2>&1 || true
    printf '%-6s %5s  rss %7s kB  heap %8s  native %9s  threads %3s  fds %3s  /dev/shm %2s\n' "$1" "$2" \
        "$(awk '/^VmRSS/ { print $2 }' "$status")" "$(heap_used)" "$(native_committed)" \
        "$(awk '/^Threads/ { print $2 }' "$status")" "$(ls "/proc/$server_pid/fd" | wc -l)" "$(shm_entries)"
}
ended_count() { grep -c " ended: " "$server_log" || true; }
opened_count() { grep -c " opened for " "$server_log" || true; }

check_pool()
{
    local listing
    listing="$("$bitfusion" list_gpus --server_list "127.0.0.1:$port" 2>&1)"
    if ! grep -q "0 sessions" <<<"$listing" || ! grep -q "free $memory_mb MiB (unreserved), allocated 0 MiB, 0 slices" <<<"$listing"; then
        echo "soak: cycle $1: the server still holds a slice:" >&2
        echo "$listing" >&2
        exit 1
    fi
}

echo "soak: $cycles client kills against 127.0.0.1:$port (server pid $server_pid, transport $transport); log in $work"
report start 0
slowest_ms=0
for cycle in $(seq 1 "$cycles"); do
    BITFUSION_JVM_OPTS="-Dbitfusion.client.transport=$transport" \
        "$bitfusion" run --server_list "127.0.0.1:$port" -p 0.5 -- "$program" 120 >"$work/run.log" 2>&1 &
    run_pid=$!
    # The program once exec'd: until then the child is a copy of the launching JVM.
    program_pid=""
    for _ in $(seq 1 600); do
        for child in $(pgrep -P "$run_pid" || true); do
            [ "$(readlink "/proc/$child/exe" 2>/dev/null)" = "$program" ] && program_pid="$child"
        done
        [ -n "$program_pid" ] && break
        kill -0 "$run_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ -z "$program_pid" ]; then
        echo "soak: cycle $cycle: the program never started:" >&2
        cat "$work/run.log" >&2
        exit 1
    fi
    # A random point: from the program's start (before its session opens) to a few seconds into its loop.
    sleep "$(awk -v seed="$RANDOM" 'BEGIN { srand(seed); printf "%.2f", rand() * 4 }')"
    opened_before_kill="$(opened_count)"
    killed_at_ms="$(date +%s%3N)"
    if ! kill -KILL "$program_pid" 2>/dev/null; then
        echo "soak: cycle $cycle: the program ended before it was killed:" >&2
        cat "$work/run.log" >&2
        exit 1
    fi
    # Every session opened (the run's own check, the program's) must end, freeing what it held, within the bound.
    while [ "$(ended_count)" -lt "$(opened_count)" ] || [ "$(opened_count)" -lt "$opened_before_kill" ]; do
        waited_ms=$(( $(date +%s%3N) - killed_at_ms ))
        if [ "$waited_ms" -gt 20000 ]; then
            echo "soak: cycle $cycle: a session still open 20 s after the kill" >&2
            tail -5 "$server_log" >&2
            exit 1
        fi
        sleep 0.05
    done
    freed_ms=$(( $(date +%s%3N) - killed_at_ms ))
    [ "$freed_ms" -gt "$slowest_ms" ] && slowest_ms=$freed_ms
    if [ "$freed_ms" -gt "$freed_within_ms" ] && grep -q "looping" "$work/run.log"; then
        echo "soak: cycle $cycle: slice freed $freed_ms ms after the kill (more than $freed_within_ms ms)" >&2
    fi
    wait "$run_pid" 2>/dev/null || true
    [ $((cycle % 10)) -eq 0 ] && check_pool "$cycle"
    [ $((cycle % 100)) -eq 0 ] && report cycle "$cycle"
done
check_pool end
report end "$cycles"
echo "soak: $cycles kills, every slice freed; slowest from kill to the last session's end: $slowest_ms ms"
echo "soak: server errors: $(grep -c 'ERROR\|Exception' "$server_log" || true)"
