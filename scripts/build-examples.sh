#!/usr/bin/env bash
# Builds the programs of examples/cuda into a directory, each only when its source (or, for the programs
# linked against it, our libcuda.so) is newer: nvcc with its defaults (cudart linked statically), one with
# the toolkit's shared cudart, one with sm_90 machine code alone, the driver-API kernels as PTX and as a
# fatbin, and the two C programs with gcc against our libcuda.so. The system tests and gpu-check use it.
#   scripts/build-examples.sh OUT_DIR
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
out="${1:?usage: build-examples.sh OUT_DIR}"
cuda="${CUDA_HOME:-/usr/local/cuda}"
nvcc="$cuda/bin/nvcc"
src="$root/examples/cuda"
bridge="$root/native-bridge/target/native"
mkdir -p "$out"

stale() { # stale OUTPUT INPUT...: whether OUTPUT is missing or older than an input
    local output="$1"; shift
    [ -e "$output" ] || return 0
    for input in "$@"; do [ "$input" -nt "$output" ] && return 0; done
    return 1
}
build() { # build OUTPUT INPUTS -- COMMAND...
    local output="$1"; shift; local inputs=()
    while [ "$1" != -- ]; do inputs+=("$1"); shift; done; shift
    if stale "$output" "${inputs[@]}"; then "$@"; fi
}

for name in vector_add device_info memcpy_kinds memcpy_async memcpy_2d memset events host_alloc multi_thread_streams \
    device_printf device_reset unsupported_memory kernel_loop pointer_attributes runtime_queries mapped_memory \
    host_functions stream_ordered_memory multi_gpu; do
    build "$out/$name" "$src/$name.cu" -- "$nvcc" -o "$out/$name" "$src/$name.cu"
done
# libcudart.so is the toolkit's, found through RUNPATH, which the loader searches after LD_LIBRARY_PATH,
# so our libcuda.so.1 (first in LD_LIBRARY_PATH) still wins.
build "$out/shared_runtime" "$src/shared_runtime.cu" -- \
    "$nvcc" -cudart shared -Xlinker "-rpath=$cuda/lib64" -o "$out/shared_runtime" "$src/shared_runtime.cu"
# Machine code for sm_90 alone: what PyTorch's wheels are like (no PTX), which the emulated GPU cannot run.
build "$out/vector_add_sm90_only" "$src/vector_add.cu" -- \
    "$nvcc" -gencode arch=compute_90,code=sm_90 -o "$out/vector_add_sm90_only" "$src/vector_add.cu"
build "$out/driver_kernels.ptx" "$src/driver_kernels.cu" -- "$nvcc" -ptx -o "$out/driver_kernels.ptx" "$src/driver_kernels.cu"
build "$out/driver_kernels.fatbin" "$src/driver_kernels.cu" -- \
    "$nvcc" -fatbin -o "$out/driver_kernels.fatbin" "$src/driver_kernels.cu"
build "$out/fork_child" "$src/fork_child.c" "$bridge/libcuda.so.1" -- gcc -std=gnu11 -Wall -O2 -I"$cuda/include" \
    -o "$out/fork_child" "$src/fork_child.c" -L"$bridge" -lcuda
build "$out/driver_api" "$src/driver_api.c" "$bridge/libcuda.so.1" -- gcc -std=c11 -Wall -O2 -I"$cuda/include" \
    -o "$out/driver_api" "$src/driver_api.c" -L"$bridge" -lcuda
