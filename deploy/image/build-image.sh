#!/usr/bin/env bash
# Builds the bitfusion image without Docker: a minimal Debian root filesystem (debootstrap, minbase), a jlinked
# Java runtime and the distribution, committed with buildah and written as OCI and Docker archives for clusters
# without a registry. One image, four roles: GPU server (`bitfusion server`), client payload (/opt/bitfusion,
# copied into pods by the webhook's init container), health Job (`bitfusion health`) and the webhook itself.
#
#   ./mvnw -B -DskipTests package && sudo deploy/image/build-image.sh
#
# Needs root and buildah, debootstrap and skopeo (apt-get install -y buildah debootstrap skopeo). Writes
# target/image/bitfusion-VERSION.oci.tar and .docker.tar, and leaves localhost/bitfusion:VERSION (and :latest)
# in the local containers storage. BITFUSION_DEBIAN_MIRROR picks the mirror; a root filesystem already made
# under target/image/rootfs is reused (delete it to start over).
#
# Layout: /opt/bitfusion/{bin/bitfusion, lib/*.jar, bitfusion-agent.jar, jre/, lib64/libcuda.so.1};
# /usr/local/bin/bitfusion links to the launcher; the user is bitfusion (uid 10001, gid 0: runs under any uid
# OpenShift-style). The image carries no NVIDIA software: a GPU server gets the driver from its host (the NVIDIA
# container toolkit mounts it).
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
out="$root/target/image"
lib="$root/cli/target/lib"
mirror="${BITFUSION_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
uid=10001

fail() { echo "build-image: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (debootstrap and buildah's storage): run it with sudo"
for tool in buildah debootstrap skopeo jlink jdeps; do
    command -v "$tool" >/dev/null || fail "$tool is missing: apt-get install -y buildah debootstrap skopeo (and a JDK 17)"
done
[ -f "$lib/bitfusion-cli.jar" ] || fail "not built yet: run ./mvnw -B -DskipTests package"
version="$(unzip -p "$lib"/bitfusion-health-*.jar dev/bitfusion/health/bitfusion-version.properties | sed -n 's/^version=//p')"
[ -n "$version" ] || fail "cannot read the version from the health jar"
image="localhost/bitfusion:$version"
start=$SECONDS
mkdir -p "$out"

# 1. The root filesystem: Debian bookworm, minbase (dpkg, apt, coreutils, bash, glibc, libstdc++, zlib), without
#    the package lists, caches, documentation and translations nothing in the image reads.
rootfs="$out/rootfs"
if [ ! -f "$rootfs/.complete" ]; then
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$out/debootstrap.log" 2>&1 ||
        fail "debootstrap failed: see $out/debootstrap.log"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* \
        "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*
    touch "$rootfs/.complete"
fi
echo "build-image: root filesystem ready ($(du -sh --exclude=.complete "$rootfs" | cut -f1), $((SECONDS - start)) s)"

# 2. The payload: the Java runtime bitfusion needs (scripts/make-jre.sh: jdeps over the jars, jlink), the jars,
#    the Java agent beside lib/ (where bitfusion run looks for it, to hand it to JVM programs), the launcher, and
#    our libcuda.so.1 for programs started without bitfusion run.
payload="$out/payload"
rm -rf "$payload"
mkdir -p "$payload/bin" "$payload/lib" "$payload/lib64"
"$root/scripts/make-jre.sh" >/dev/null
cp -a "$root/target/jre" "$payload/jre"
cp "$lib"/*.jar "$payload/lib/"
cp "$root/cli/target/bitfusion-agent.jar" "$payload/bitfusion-agent.jar"
cp "$root/bin/bitfusion" "$payload/bin/bitfusion"
cp "$root/native-bridge/target/native/libcuda.so.1" "$payload/lib64/libcuda.so.1"
ln -s libcuda.so.1 "$payload/lib64/libcuda.so"
chmod -R a+rX "$payload"
echo "build-image: payload ready ($(du -sh "$payload" | cut -f1), $((SECONDS - start)) s)"

# 3. The image.
container="$(buildah from scratch)"
trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
mount="$(buildah mount "$container")"
cp -a "$rootfs/." "$mount/"
rm -f "$mount/.complete"
mkdir -p "$mount/opt/bitfusion" "$mount/etc/bitfusion" "$mount/home/bitfusion"
cp -a "$payload/." "$mount/opt/bitfusion/"
ln -s /opt/bitfusion/bin/bitfusion "$mount/usr/local/bin/bitfusion"
echo "bitfusion:x:$uid:0:bitfusion:/home/bitfusion:/bin/bash" >>"$mount/etc/passwd"
chown "$uid:0" "$mount/home/bitfusion"
chmod 0775 "$mount/home/bitfusion"
buildah umount "$container" >/dev/null
buildah config \
    --user "$uid:0" \
    --workingdir /home/bitfusion \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env HOME=/home/bitfusion \
    --env LANG=C.UTF-8 \
    --entrypoint '["/usr/local/bin/bitfusion"]' \
    --cmd '["--help"]' \
    --port 56001/udp \
    --port 56002/udp \
    --label org.opencontainers.image.title=bitfusion \
    --label org.opencontainers.image.version="$version" \
    --label org.opencontainers.image.description="Network-attached full or partial GPUs: server, client payload, health, webhook" \
    "$container"
buildah commit --quiet --rm "$container" "$image" >/dev/null
trap - EXIT
buildah tag "$image" localhost/bitfusion:latest

# 4. Archives for clusters without a registry: `ctr -n k8s.io images import` or `docker load` the Docker one,
#    `skopeo copy oci-archive:... docker://REGISTRY/...` the OCI one.
rm -f "$out/bitfusion-$version.oci.tar" "$out/bitfusion-$version.docker.tar"
skopeo copy --quiet "containers-storage:$image" "oci-archive:$out/bitfusion-$version.oci.tar:bitfusion/bitfusion:$version"
skopeo copy --quiet "containers-storage:$image" "docker-archive:$out/bitfusion-$version.docker.tar:bitfusion/bitfusion:$version"
echo "build-image: $image: $(buildah images --format '{{.Size}}' "$image" | head -1) unpacked; archives" \
    "$(du -h "$out/bitfusion-$version.oci.tar" | cut -f1) (OCI), $(du -h "$out/bitfusion-$version.docker.tar" | cut -f1)" \
    "(Docker) in $out; $((SECONDS - start)) s"
