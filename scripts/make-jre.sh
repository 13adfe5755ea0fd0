#!/usr/bin/env bash
# A Java runtime for machines without one (a GPU machine lent for scripts/gpu-check.sh, for example):
# jlink's image of the modules bitfusion uses, about 50 MB, under target/jre. Carry it there and point
# JAVA_HOME (and so bin/bitfusion and our libcuda.so.1) at it.
#   scripts/make-jre.sh [--minimal]   (after ./mvnw -DskipTests package)
# --minimal leaves out java.desktop (35 MB instead of 49): only servers.conf files need it (YAML's bean
# introspection), so give servers with --server_list.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
jre="$root/target/jre"
[ -d "$root/cli/target/lib" ] || { echo "make-jre: not built yet: run ./mvnw -DskipTests package" >&2; exit 2; }
modules="$(jdeps --ignore-missing-deps --multi-release 17 --print-module-deps --class-path "$root/cli/target/lib/*" \
    "$root"/cli/target/lib/*.jar 2>/dev/null | tail -1)"
if [ "${1:-}" = --minimal ]; then
    modules="$(tr , '\n' <<<"$modules" | grep -v -x -e java.desktop -e java.compiler | paste -sd, -)"
fi
rm -rf "$jre"
jlink --add-modules "$modules,jdk.crypto.ec" --strip-debug --no-man-pages --no-header-files --compress=2 --output "$jre"
echo "make-jre: $jre ($(du -sh "$jre" | cut -f1), modules $modules): JAVA_HOME=$jre"
