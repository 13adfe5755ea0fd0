#!/usr/bin/env bash
# Assembles bitfusion-agent.jar at package time (run by exec-maven-plugin):
#   build-agent-jar.sh JAVA_HOME TARGET_DIR
# The jar's root holds only the agent's entry point (BitfusionAgent, which the JVM puts on the application's
# class path); everything else (this module's classes and libraries, the client runtime and its dependencies,
# copied to TARGET_DIR/agent-lib by maven-dependency-plugin) goes under BITFUSION-INF/lib/, stored uncompressed,
# for the agent's own class loader. The build id names the directory they are unpacked to, once per build.
set -euo pipefail
java_home="$1"; target="$2"
stage="$target/agent-jar"
rm -rf "$stage"
mkdir -p "$stage/BITFUSION-INF/lib"
cp "$target"/agent-lib/*.jar "$stage/BITFUSION-INF/lib/"
"$java_home/bin/jar" --create --file "$stage/BITFUSION-INF/lib/bitfusion-native-bridge.jar" -C "$target/classes" .
agent_jar=$(ls "$stage"/BITFUSION-INF/lib/bitfusion-agent-*.jar)
(cd "$stage" && "$java_home/bin/jar" --extract --file "$agent_jar" dev/bitfusion/agent/javaagent/BitfusionAgent.class)
(cd "$stage/BITFUSION-INF/lib" && cat $(ls | sort)) | sha256sum | cut -c1-16 > "$stage/BITFUSION-INF/build-id"
cat > "$target/agent-manifest.txt" <<MANIFEST
Premain-Class: dev.bitfusion.agent.javaagent.BitfusionAgent
Can-Redefine-Classes: true
Can-Retransform-Classes: true
MANIFEST
rm -f "$target/bitfusion-agent.jar"
"$java_home/bin/jar" --create --no-compress --file "$target/bitfusion-agent.jar" --manifest "$target/agent-manifest.txt" \
    -C "$stage" .
echo "native-bridge: built $target/bitfusion-agent.jar ($(ls "$stage/BITFUSION-INF/lib" | wc -l) jars, $(du -h "$target/bitfusion-agent.jar" | cut -f1))"
