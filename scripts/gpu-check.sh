#!/usr/bin/env bash
# One-shot check of the cuda backend on a GPU machine. Build here first: ./mvnw -q -o install -DskipTests.
# The machine lent here (KINDS.md: nvcc 13.0, PyTorch for CUDA 13, no Java) wants cli/target,
# native-bridge/target and a runtime from scripts/make-jre.sh --minimal (target/jre) carried, about 57 MB;
# the examples are then built there by scripts/build-examples.sh. On a machine with Java and without nvcc,
# carry system-tests/target/cuda-examples (scripts/build-examples.sh) instead of target/jre. Then run:
#   scripts/gpu-check.sh [OUT_DIR]
# It starts `bitfusion server --backend cuda` on loopback, runs the examples through `bin/bitfusion run` over
# UDP, then compares remote with local: ResNet-50 training (batch 64, synthetic, 30 steps after warm-up),
# batch-1 inference latency, and 256 MiB H2D/D2H bandwidth, after PyTorch checks of copies, elementwise,
# cuBLAS and cuDNN against the CPU. It prints a table and exits non-zero when an example or check fails or a
# goal is missed (training >= 95% of local, batch-1 inference >= 80% of local).
set -uo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
out="${1:-${OUT:-/tmp/bitfusion-gpu-check}}"
mkdir -p "$out"
bitfusion="$root/bin/bitfusion"
port="${BITFUSION_CHECK_PORT:-56101}"
slice_mb="${BITFUSION_CHECK_SLICE_MB:-40960}"
# The examples suite: the run lines of examples/cuda/manifest.txt (the same programs and verdicts as the
# system tests), read with bash alone.
manifest="$root/examples/cuda/manifest.txt"
say() { printf '%s\n' "gpu-check: $*" >&2; }
failures=0

[ -f "$root/cli/target/lib/bitfusion-cli.jar" ] || { say "not built: run ./mvnw -q -o install -DskipTests and carry cli/target"; exit 2; }
if [ -z "${JAVA_HOME:-}" ] && ! command -v java >/dev/null 2>&1 && [ -x "$root/target/jre/bin/java" ]; then
    export JAVA_HOME="$root/target/jre"
fi
"${JAVA_HOME:+$JAVA_HOME/bin/}java" -version >/dev/null 2>&1 ||
    { say "no Java here: run scripts/make-jre.sh where it was built and carry target/jre"; exit 2; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/gpu-check: GPU: /' >&2

# ---------------------------------------------------------------- server
"$bitfusion" server --backend cuda --listen "127.0.0.1:$port" >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null' EXIT
for _ in $(seq 1 60); do
    grep -q "listening on" "$out/server.log" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.5
done
if ! grep -q "backend cuda" "$out/server.log"; then
    say "server did not start with the cuda backend:"; cat "$out/server.log" >&2; exit 1
fi
say "$(grep 'listening on' "$out/server.log")"

remote() { # remote LOG CMD...: run a program on a slice of the local server, over UDP
    local log="$1"; shift
    BITFUSION_JVM_OPTS="-Dbitfusion.client.transport=udp" timeout "${TIMEOUT_S:-120}" \
        "$bitfusion" run -m "$slice_mb" --server_list "127.0.0.1:$port" -- "$@" >"$log" 2>&1
}

# ---------------------------------------------------------------- examples
bin_dir="$root/system-tests/target/cuda-examples"   # built where the project was built, and carried
if [ ! -x "$bin_dir/vector_add" ] && [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; then
    bin_dir="$out/examples"
    "$root/scripts/build-examples.sh" "$bin_dir" >"$out/build-examples.log" 2>&1 || say "building the examples failed (see $out/build-examples.log)"
fi
declare -A example_result
example_names=()
# The programs read the manifest's lines from descriptor 3, so none of them can swallow the rest on stdin.
while IFS='|' read -r -u 3 kind e args passed _; do
    [ "$kind" = run ] || continue
    example_names+=("$e")
    if [ ! -x "$bin_dir/$e" ]; then example_result[$e]="MISSING from $bin_dir"; failures=$((failures + 1)); continue; fi
    # shellcheck disable=SC2086 # ARGS are words on purpose
    if (cd "$bin_dir" && TIMEOUT_S=90 remote "$out/example-$e.log" "./$e" $args) && grep -qF "$passed" "$out/example-$e.log" \
        && ! grep -q FAILED "$out/example-$e.log"; then
        example_result[$e]="PASS"
    else
        example_result[$e]="FAIL (see $out/example-$e.log)"; failures=$((failures + 1))
    fi
done 3<"$manifest"

# ---------------------------------------------------------------- PyTorch: correctness first, then speed
# Each check compares the remote GPU's answer with the CPU's, so a failure in the benchmark below can be
# told apart from a wrong result or a missing driver entry point.
cat >"$out/smoke.py" <<'PY'
import torch
torch.manual_seed(0)
def check(name, run):
    try:
        print("SMOKE %s %s" % (name, "PASS" if run() else "WRONG"), flush=True)
    except Exception as e:
        print("SMOKE %s ERROR %s" % (name, str(e).strip().splitlines()[0][:160]), flush=True)
check("device", lambda: torch.cuda.is_available() and torch.cuda.device_count() >= 1)
x = torch.randn(1 << 20)
check("copy", lambda: torch.equal(x.cuda().cpu(), x))
check("elementwise", lambda: torch.allclose((x.cuda() * 2 + 1).cpu(), x * 2 + 1))
a, b = torch.randn(256, 256), torch.randn(256, 256)
check("matmul_cublas", lambda: torch.allclose((a.cuda() @ b.cuda()).cpu(), a @ b, rtol=1e-2, atol=1e-2))
i, w = torch.randn(4, 3, 32, 32), torch.randn(8, 3, 3, 3)
conv = torch.nn.functional.conv2d
check("conv_cudnn", lambda: torch.allclose(conv(i.cuda(), w.cuda(), padding=1).cpu(), conv(i, w, padding=1), rtol=1e-2, atol=1e-2))
PY
# ---------------------------------------------------------------- PyTorch and bandwidth
cat >"$out/bench.py" <<'PY'
import sys, time, statistics, torch, torch.nn as nn
def resnet50():
    try:
        import torchvision
        return torchvision.models.resnet50()
    except Exception:
        pass
    class Bottleneck(nn.Module):
        def __init__(s, cin, mid, stride):
            super().__init__(); cout = mid * 4
            s.body = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(True),
                nn.Conv2d(mid, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(True),
                nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
            s.skip = nn.Sequential() if stride == 1 and cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        def forward(s, x): return torch.relu(s.body(x) + s.skip(x))
    layers, cin = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(True), nn.MaxPool2d(3, 2, 1)], 64
    for mid, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(cin, mid, stride if i == 0 else 1)); cin = mid * 4
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000))
def sync(): torch.cuda.synchronize()
def section(name, run):  # each part reports on its own, so one failing does not hide the others
    try:
        run()
    except Exception as e:
        print("SECTION %s ERROR %s" % (name, str(e).strip().splitlines()[0][:160]), flush=True)
dev = torch.device("cuda")
def bandwidth():
    host = torch.empty(256 << 20, dtype=torch.uint8).pin_memory(); gpu = torch.empty_like(host, device=dev)
    for name, copy in (("h2d", lambda: gpu.copy_(host, non_blocking=True)), ("d2h", lambda: host.copy_(gpu, non_blocking=True))):
        copy(); sync(); t = time.perf_counter()
        for _ in range(5): copy()
        sync(); print("RESULT %s_gib_per_s %.2f" % (name, 5 * 256 / 1024 / (time.perf_counter() - t)), flush=True)
section("bandwidth", bandwidth)
model = None
def train():
    global model
    model = resnet50().to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.randn(64, 3, 224, 224, device=dev), torch.randint(0, 1000, (64,), device=dev)
    loss_fn = nn.CrossEntropyLoss()
    def step():
        opt.zero_grad(set_to_none=True); loss_fn(model(x), y).backward(); opt.step()
    for _ in range(5): step()
    sync(); t = time.perf_counter()
    for _ in range(30): step()
    sync(); print("RESULT train_images_per_s %.1f" % (30 * 64 / (time.perf_counter() - t)), flush=True)
section("train", train)
def infer():
    net = (model if model is not None else resnet50().to(dev)).eval()
    one = torch.randn(1, 3, 224, 224, device=dev); times = []
    with torch.no_grad():
        for i in range(60):
            sync(); t = time.perf_counter(); net(one); sync()
            if i >= 10: times.append((time.perf_counter() - t) * 1000)
    print("RESULT infer_b1_ms %.3f" % statistics.median(times), flush=True)
section("infer", infer)
PY
python="${BITFUSION_CHECK_PYTHON:-python3}"
if ! "$python" -c "import torch; assert torch.cuda.is_available()" 2>"$out/torch-probe.log"; then
    say "PyTorch with CUDA is not usable locally: $(tail -1 "$out/torch-probe.log")"
fi
TIMEOUT_S=150 remote "$out/smoke-remote.log" "$python" "$out/smoke.py" || say "remote smoke checks failed (see $out/smoke-remote.log)"
timeout 180 "$python" "$out/bench.py" >"$out/bench-local.log" 2>&1 || say "local bench failed (see $out/bench-local.log)"
TIMEOUT_S=240 remote "$out/bench-remote.log" "$python" "$out/bench.py" || say "remote bench failed (see $out/bench-remote.log)"

value() { awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$1" | tail -1; }
row() { # row LABEL KEY GOAL_PERCENT HIGHER_IS_BETTER
    local l r pct verdict
    l="$(value "$out/bench-local.log" "$2")"; r="$(value "$out/bench-remote.log" "$2")"
    if [ -z "$l" ] || [ -z "$r" ]; then
        pct="-"; verdict="NO DATA"; [ "$3" != "-" ] && failures=$((failures + 1))
    else
        pct="$(awk -v l="$l" -v r="$r" -v h="$4" 'BEGIN { printf "%.1f%%", (h ? r / l : l / r) * 100 }')"
        verdict="$(awk -v p="${pct%\%}" -v g="$3" 'BEGIN { print (g == "-" ? "INFO" : (p >= g ? "PASS" : "MISS")) }')"
        [ "$verdict" = MISS ] && failures=$((failures + 1))
    fi
    printf '%-30s %12s %12s %9s %7s  %s\n' "$1" "${l:--}" "${r:--}" "$pct" "$3" "$verdict"
}

echo
echo "== examples through bin/bitfusion run (UDP loopback, --backend cuda)"
for e in "${example_names[@]}"; do printf '  %-24s %s\n' "$e" "${example_result[$e]}"; done
echo
echo "== PyTorch on the remote GPU, each result checked against the CPU"
if grep -q '^SMOKE ' "$out/smoke-remote.log" 2>/dev/null; then
    awk '$1 == "SMOKE" { $1 = ""; print "  " substr($0, 2) }' "$out/smoke-remote.log"
    grep '^SMOKE ' "$out/smoke-remote.log" | grep -qv ' PASS$' && failures=$((failures + 1))
else
    echo "  no result (see $out/smoke-remote.log)"; failures=$((failures + 1))
fi
echo
printf '%-30s %12s %12s %9s %7s  %s\n' "metric" "local" "remote" "of local" "goal%" "verdict"
row "train images/s (RN50, b64)" train_images_per_s 95 1
row "infer batch-1 latency ms" infer_b1_ms 80 0
row "H2D 256 MiB GiB/s" h2d_gib_per_s - 1
row "D2H 256 MiB GiB/s" d2h_gib_per_s - 1
for side in local remote; do
    grep '^SECTION ' "$out/bench-$side.log" 2>/dev/null | sed "s/^SECTION /  $side: /"
done
echo
say "logs in $out; $failures problem(s)"
[ "$failures" -eq 0 ]
