#!/usr/bin/env bash
# Builds the programs of examples/cuda into a directory as examples/cuda/manifest.txt says (its build lines:
# nvcc with its defaults, one with the toolkit's shared cudart, one with sm_90 machine code alone, the
# driver-API kernels as PTX and as a fatbin, and the C programs with gcc against our libcuda.so), each only
# when its source (or, for the programs linked against it, our libcuda.so) is newer. The system tests and
# gpu-check use it.
#   scripts/build-examples.sh OUT_DIR
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
out="${1:?usage: build-examples.sh OUT_DIR}"
cuda="${CUDA_HOME:-/usr/local/cuda}"
nvcc="$cuda/bin/nvcc"
src="$root/examples/cuda"
manifest="$src/manifest.txt"
bridge="$root/native-bridge/target/native"
mkdir -p "$out"

stale() { # stale OUTPUT INPUT...: whether OUTPUT is missing or older than an input
    local output="$1"; shift
    [ -e "$output" ] || return 0
    for input in "$@"; do [ "$input" -nt "$output" ] && return 0; done
    return 1
}

# The compilers read the manifest's lines from descriptor 3, so none of them can swallow the rest on stdin.
while IFS='|' read -r -u 3 kind output source command; do
    [ "$kind" = build ] || continue
    read -r -a words <<<"${command//\$CUDA/$cuda}"
    case "${words[0]}" in
        nvcc)
            stale "$out/$output" "$src/$source" || continue
            "$nvcc" "${words[@]:1}" -o "$out/$output" "$src/$source" ;;
        gcc)
            stale "$out/$output" "$src/$source" "$bridge/libcuda.so.1" || continue
            gcc "${words[@]:1}" -o "$out/$output" "$src/$source" -L"$bridge" -lcuda ;;
        *)
            echo "build-examples.sh: $manifest: $output: unknown compiler '${words[0]}' (nvcc or gcc)" >&2; exit 1 ;;
    esac
done 3<"$manifest"
