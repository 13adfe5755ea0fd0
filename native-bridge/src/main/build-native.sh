#!/usr/bin/env bash
# Builds our libcuda.so.1 during the Maven build: generates the driver exports and the CUresult codes
# (cuda_errors.h) from cuda.h (or the committed snapshots when the toolkit is absent), then compiles them
# with the forwarded calls BridgeGenerator wrote at generate-sources and the hand-written C. Run by
# exec-maven-plugin.
#   build-native.sh JAVA_HOME MODULE_DIR OUTPUT_DIR RESOURCE_DIR [true: refresh the snapshot]
set -euo pipefail
java_home="$1"; module="$2"; out="$3"; resources="$4"; update=""; [ "${5:-false}" = true ] && update=--update-snapshot
cuda_header="${CUDA_HOME:-/usr/local/cuda}/include/cuda.h"
gen="$module/target/native-gen"
mkdir -p "$gen" "$out" "$resources"
"$java_home/bin/java" "$module/src/main/generator/DriverExportsGenerator.java" \
    "$cuda_header" "$module/src/main/c/cuda-symbols.txt" "$gen" $update
# CUresult values, names and descriptions (cuda_errors.h and .c) from the cuda module's one snapshot.
"$java_home/bin/java" "$module/../cuda/src/main/generator/dev/bitfusion/cuda/generator/CudaErrorsGenerator.java" \
    "$module/../cuda" --header "$cuda_header" --c "$gen"
# No libjvm at link time: the bridge finds it at run time, so the build machine's JDK path is not baked in.
gcc -shared -fPIC -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -fvisibility=hidden \
    -Wl,-soname,libcuda.so.1 -Wl,--no-undefined \
    -I"$module/src/main/c" -I"$gen" -I"$java_home/include" -I"$java_home/include/linux" \
    -o "$out/libcuda.so.1" \
    "$module"/src/main/c/*.c "$gen/driver_exports.c" "$gen/cuda_errors.c" "$gen/forwarded_calls.c" -ldl -lpthread
ln -sf libcuda.so.1 "$out/libcuda.so"
# The NVML stand-in: its generated exports call through our libcuda.so.1's JVM, which it links (DT_NEEDED by
# SONAME, so it binds to whichever of our libcuda.so.1 the process has loaded).
gcc -shared -fPIC -O2 -g -std=gnu11 -Wall -Wextra -Wno-unused-parameter -fvisibility=hidden \
    -Wl,-soname,libnvidia-ml.so.1 -Wl,--no-undefined -Wl,-rpath,'$ORIGIN' \
    -I"$module/src/main/c" -I"$module/src/main/nvml" -I"$gen" -I"$java_home/include" -I"$java_home/include/linux" \
    -o "$out/libnvidia-ml.so.1" "$module"/src/main/nvml/*.c "$gen/nvml_calls.c" -L"$out" -l:libcuda.so.1
ln -sf libnvidia-ml.so.1 "$out/libnvidia-ml.so"
# Packaged in the jar so `bitfusion run` and the Java agent find the libraries that match their classes.
cp "$out/libcuda.so.1" "$out/libnvidia-ml.so.1" "$resources/"
echo "native-bridge: built $out/libcuda.so.1 ($(nm -D --defined-only "$out/libcuda.so.1" | grep -c ' T \| W ') exported functions)" \
    "and $out/libnvidia-ml.so.1 ($(nm -D --defined-only "$out/libnvidia-ml.so.1" | grep -c ' T \| W ') NVML functions)"
