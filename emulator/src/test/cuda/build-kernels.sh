#!/usr/bin/env bash
# Compile every kernel of the test corpus with the flags its committed fixtures were built with:
#   name.ptx    nvcc -O3 -ptx -arch=compute_75
#   name.fatbin nvcc -O3 -fatbin -gencode arch=compute_75,code=compute_75 (zstd-compressed PTX only)
# plus sass_only.fatbin (vector_add as sm_90 machine code, no PTX) for the NO_BINARY_FOR_GPU case.
#
# usage: build-kernels.sh [nvcc] [output directory]
# Refresh the fixtures with: build-kernels.sh /usr/local/cuda/bin/nvcc ../resources/kernels
set -euo pipefail

NVCC="${1:-/usr/local/cuda/bin/nvcc}"
SOURCE_DIR="$(cd "$(dirname "$0")" && pwd)"
OUTPUT_DIR="${2:-${SOURCE_DIR}/../../../target/nvcc-kernels}"
mkdir -p "${OUTPUT_DIR}"
OUTPUT_DIR="$(cd "${OUTPUT_DIR}" && pwd)"

PTX_FLAGS=(-O3 -ptx -arch=compute_75)
FATBIN_FLAGS=(-O3 -fatbin -gencode arch=compute_75,code=compute_75)
SASS_FLAGS=(-O3 -fatbin -gencode arch=compute_90,code=sm_90)

PARALLELISM="$(nproc 2>/dev/null || echo 2)"
pids=()

wait_all()
{
    local failed=0
    for pid in "${pids[@]}"; do
        wait "${pid}" || failed=1
    done
    pids=()
    return "${failed}"
}

run()
{
    "$@" &
    pids+=("$!")
    if [ "${#pids[@]}" -ge "${PARALLELISM}" ]; then
        wait_all
    fi
}

cd "${SOURCE_DIR}"
for source in *.cu; do
    name="${source%.cu}"
    run "${NVCC}" "${PTX_FLAGS[@]}" -o "${OUTPUT_DIR}/${name}.ptx" "${source}"
    run "${NVCC}" "${FATBIN_FLAGS[@]}" -o "${OUTPUT_DIR}/${name}.fatbin" "${source}"
done
run "${NVCC}" "${SASS_FLAGS[@]}" -o "${OUTPUT_DIR}/sass_only.fatbin" vector_add.cu
wait_all

echo "nvcc kernels built into ${OUTPUT_DIR}"
