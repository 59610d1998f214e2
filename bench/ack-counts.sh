#!/bin/sh
# System calls and instructions per ack round trip of one client, load-independent (see
# docs/benchmarks.md, "Counting per ack"). Each count is taken for two runs, N1 and N2 acks, and
# the difference divided by N2 - N1, so that starting, connecting and closing cancel out.
#
#   bench/target/release/socketio-bench replay &          # prints LISTENING <port>
#   bench/ack-counts.sh ours-tokio http://127.0.0.1:<port> [syscalls|instructions|both]
#
# Peers: ours-tokio, ours-async-std, ours-blocking, rust_socketio, raw.
set -eu
peer=$1
url=$2
what=${3:-both}
bin=${BENCH_BIN:-$(dirname "$0")/target/release/socketio-bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The system calls counted by name; every other one is in the total.
names="futex epoll_wait epoll_pwait epoll_ctl recvfrom sendto read write timerfd_settime"

syscalls() { # n -> "name count" lines, every thread (perf's tracepoints: strace -f -c slows
    # every system call enough to change how the threads interleave, and so what they do)
    events=raw_syscalls:sys_enter
    for name in $names; do events="$events,syscalls:sys_enter_$name"; done
    perf stat -x, -e "$events" -o "$tmp/perf" "$bin" client "$peer" ack "$url" "$1" websocket \
        >/dev/null
    awk -F, '$3 ~ /sys_enter/ { name = $3; sub(/.*sys_enter_?/, "", name)
        if (name == "") name = "total"; print name, $1 }' "$tmp/perf"
}

instructions() { # n -> instructions, every thread
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.%p" "$bin" client "$peer" ack \
        "$url" "$1" websocket >/dev/null 2>"$tmp/cg.log"
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/cg.log" | tail -1
}

if [ "$what" != instructions ]; then
    n1=2000 n2=12000
    syscalls $n1 | sort >"$tmp/a"
    syscalls $n2 | sort >"$tmp/b"
    join -a 2 -e 0 -o 0,1.2,2.2 "$tmp/a" "$tmp/b" |
        awk -v d=$((n2 - n1)) '{ per = ($3 - $2) / d
            if ($1 == "total") total = per; else if (per >= 0.05) printf "%-16s %6.2f\n", $1, per }
            END { printf "%-16s %6.2f  syscalls per ack\n", "total", total }'
fi
if [ "$what" != syscalls ]; then
    n1=500 n2=2500
    a=$(instructions $n1)
    b=$(instructions $n2)
    echo "$(( (b - a) / (n2 - n1) )) instructions per ack"
fi
