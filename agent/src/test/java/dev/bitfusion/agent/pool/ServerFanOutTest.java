package dev.bitfusion.agent.pool;

import dev.bitfusion.transport.Endpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class ServerFanOutTest
{
    @Test
    void shouldAskEveryServerAtOnceAndAnswerInTheOrderGiven() throws InterruptedException
    {
        final List<Endpoint> servers = servers(ServerFanOut.MAX_ASKERS);
        final CountDownLatch allAsked = new CountDownLatch(servers.size());

        final List<ServerFanOut.Reply<Integer>> replies = ServerFanOut.ask(servers, server ->
        {
            allAsked.countDown();
            try
            {
                // Each answers only once all are being asked: one after another would never get here.
                if (!allAsked.await(5, TimeUnit.SECONDS))
                {
                    throw new IllegalStateException("asked one after another");
                }
            }
            catch (final InterruptedException ex)
            {
                throw new IllegalStateException(ex);
            }
            return server.port();
        });

        assertEquals(servers.size(), replies.size());
        for (int i = 0; i < servers.size(); i++)
        {
            assertEquals(servers.get(i), replies.get(i).server());
            assertEquals(servers.get(i).port(), replies.get(i).answer(), replies.get(i).reason());
            assertNull(replies.get(i).failure());
        }
    }

    @Test
    void shouldKeepWhyAServerFailedBesideTheOthersAnswers() throws InterruptedException
    {
        final List<Endpoint> servers = servers(3);

        final List<ServerFanOut.Reply<String>> replies = ServerFanOut.ask(servers, server ->
        {
            if (server.port() == 2)
            {
                throw new IllegalStateException("no answer from " + server);
            }
            if (server.port() == 3)
            {
                throw new UnsupportedOperationException();
            }
            return "up";
        });

        assertEquals("up", replies.get(0).answer());
        assertNull(replies.get(1).answer());
        assertEquals("no answer from 127.0.0.1:2", replies.get(1).reason());
        assertTrue(replies.get(1).failure() instanceof IllegalStateException);
        assertEquals("UnsupportedOperationException", replies.get(2).reason(), "a failure without a message says its kind");
        assertNull(replies.get(0).reason());
    }

    @Test
    void shouldAnswerAnEmptyPoolWithNoReplies() throws InterruptedException
    {
        assertEquals(List.of(), ServerFanOut.ask(List.of(), Endpoint::port));
    }

    private static List<Endpoint> servers(final int count)
    {
        final List<Endpoint> servers = new ArrayList<>();
        for (int i = 1; i <= count; i++)
        {
            servers.add(new Endpoint("127.0.0.1", i));
        }
        return servers;
    }
}
