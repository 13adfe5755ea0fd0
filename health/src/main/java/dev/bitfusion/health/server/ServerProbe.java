package dev.bitfusion.health.server;

import dev.bitfusion.health.ServerAddress;

/**
 * Asks one server for its {@link ServerFacts}: connect with the token, request its health facts, and
 * measure latency and bandwidth. Implemented over the transport by the client; tests give canned facts.
 */
@FunctionalInterface
public interface ServerProbe
{
    /**
     * @param address the server.
     * @return what it reported and what was measured.
     * @throws Exception when the server does not answer, refuses the token or fails; the message becomes
     *                   the FATAL line of its section, so it should say what failed for a person.
     */
    ServerFacts probe(ServerAddress address) throws Exception;
}
