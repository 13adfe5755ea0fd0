package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.agent.wire.ClientLink;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.protocol.MemsetEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.SessionCloseEncoder;
import io.aeron.ChannelUriStringBuilder;
import io.aeron.ExclusivePublication;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A hostile tenant in a process of its own, as any pod of a cluster could be: it knows the server's address, the
 * victim's session id and device pointer (the worst case: pointers were predictable, ids were listed), holds the
 * token or not, and tries what the protocol lets a stranger try. Each attempt that succeeds prints a line starting
 * with {@code FINDING:}; the test asserts there are none.
 * <ol>
 *   <li>list the pool, looking for the victim's client id;</li>
 *   <li>publish into request streams the way a session's client does, over the range where earlier servers numbered
 *       them one after another, and try to overwrite the victim's memory and close its session on every stream that
 *       hears it;</li>
 *   <li>open a session of its own and read and write the victim's pointer through it.</li>
 * </ol>
 * Usage: {@code RogueClient HOST:PORT TOKEN|- VICTIM_SESSION_ID VICTIM_ADDRESS VICTIM_MARKER}
 */
public final class RogueClient
{
    /** Request streams of earlier servers were numbered from here, one per session. */
    private static final int SEQUENTIAL_FIRST_STREAM = 100_000;
    private static final int STREAMS_TRIED = 64;
    private static final long CONNECT_WAIT_NS = TimeUnit.SECONDS.toNanos(2);
    private static final int OVERWRITTEN_BYTES = 4096;

    private RogueClient()
    {
    }

    public static void main(final String[] args) throws InterruptedException
    {
        final Endpoint server = Endpoint.parse(args[0]);
        final String token = args[1].equals("-") ? "" : args[1];
        final long victimSessionId = Long.parseLong(args[2]);
        final long victimAddress = Long.parseLong(args[3]);
        final String victimMarker = args[4];

        listThePool(server, token, victimMarker);
        publishIntoRequestStreams(server, victimSessionId, victimAddress);
        reachThroughASessionOfItsOwn(server, token, victimAddress);
        System.out.println("rogue: done");
        System.out.flush();
        // The session's embedded media driver runs on threads of its own.
        System.exit(0);
    }

    private static void listThePool(final Endpoint server, final String token, final String victimMarker)
    {
        try
        {
            final GpuPoolInfo pool =
                PoolQuery.listGpus(server, Credentials.ofToken(token), "", TimeUnit.SECONDS.toNanos(5));
            final List<GpuPoolInfo.Slice> slices = new ArrayList<>();
            pool.gpus().forEach(gpu -> slices.addAll(gpu.slices()));
            System.out.println("rogue: listed " + slices.size() + " slices");
            for (final GpuPoolInfo.Slice slice : slices)
            {
                System.out.println("rogue: slice of '" + slice.clientId() + "'");
                if (slice.clientId().contains(victimMarker))
                {
                    System.out.println("FINDING: the listing shows the victim's client id " + slice.clientId());
                }
            }
        }
        catch (final RuntimeException ex)
        {
            System.out.println("rogue: listing refused: " + ex.getMessage());
        }
    }

    private static void publishIntoRequestStreams(final Endpoint server, final long victimSessionId, final long victimAddress)
        throws InterruptedException
    {
        final UnsafeBuffer memset = new UnsafeBuffer(new byte[256]);
        final int memsetLength = MessageHeaderEncoder.ENCODED_LENGTH + new MemsetEncoder()
            .wrapAndApplyHeader(memset, 0, new MessageHeaderEncoder())
            .streamHandle(Protocol.NULL_HANDLE)
            .deviceAddress(victimAddress)
            .value(0x5A)
            .elementSize(1)
            .width(OVERWRITTEN_BYTES)
            .height(1)
            .pitch(OVERWRITTEN_BYTES)
            .encodedLength();
        final UnsafeBuffer close = new UnsafeBuffer(new byte[64]);
        final int closeLength = MessageHeaderEncoder.ENCODED_LENGTH + new SessionCloseEncoder()
            .wrapAndApplyHeader(close, 0, new MessageHeaderEncoder())
            .sessionId(victimSessionId)
            .encodedLength();

        // The channel a session's client published on before responses channels, with small terms: the rogue
        // opens many publications at once.
        final String channel = new ChannelUriStringBuilder()
            .media("udp").endpoint(server.toString()).termLength(64 * 1024).build();
        final List<ExclusivePublication> publications = new ArrayList<>();
        try (ClientLink link = ClientLink.towards(server, "udp", "rogue"))
        {
            for (int stream = SEQUENTIAL_FIRST_STREAM; stream < SEQUENTIAL_FIRST_STREAM + STREAMS_TRIED; stream++)
            {
                publications.add(link.transport().aeron().addExclusivePublication(channel, stream));
            }
            final long deadlineNs = System.nanoTime() + CONNECT_WAIT_NS;
            while (System.nanoTime() < deadlineNs)
            {
                Thread.sleep(50);
            }
            int heard = 0;
            for (final ExclusivePublication publication : publications)
            {
                if (publication.isConnected())
                {
                    heard++;
                    System.out.println("FINDING: the server hears the rogue on request stream " + publication.streamId());
                    publication.offer(memset, 0, memsetLength);
                    publication.offer(close, 0, closeLength);
                }
            }
            System.out.println("rogue: " + heard + " of " + STREAMS_TRIED + " request streams heard it");
            Thread.sleep(500);
        }
        finally
        {
            CloseHelper.quietCloseAll(publications);
        }
    }

    private static void reachThroughASessionOfItsOwn(final Endpoint server, final String token, final long victimAddress)
    {
        try (RemoteDriver driver = new RemoteDriver(
            new ClientSettings().server(server).transport("udp").token(token).memoryFraction(0.1), System.out))
        {
            tryTheVictimsPointer(driver, victimAddress);
        }
    }

    private static void tryTheVictimsPointer(final RemoteDriver driver, final long victimAddress)
    {
        final int init = driver.cuInit(0);
        if (init != CuResult.CUDA_SUCCESS)
        {
            System.out.println("rogue: no session of its own: " + CuResult.describe(init) + " " + driver.lastError());
            return;
        }
        Drivers.makePrimaryCurrent(driver);
        final byte[] stolen = new byte[OVERWRITTEN_BYTES];
        final int read = DriverCalls.copyFromDevice(driver, stolen, victimAddress);
        System.out.println("rogue: reading the victim's pointer in its own session: " + CuResult.describe(read));
        if (read == CuResult.CUDA_SUCCESS)
        {
            System.out.println("FINDING: the rogue's session read the victim's memory");
        }
        final int write = DriverCalls.copyToDevice(driver, victimAddress, new byte[OVERWRITTEN_BYTES]);
        final int sync = driver.contexts().cuCtxSynchronize();
        System.out.println("rogue: writing the victim's pointer in its own session: " + CuResult.describe(write) +
            ", then " + CuResult.describe(sync));
        if (write == CuResult.CUDA_SUCCESS && sync == CuResult.CUDA_SUCCESS)
        {
            System.out.println("FINDING: the rogue's session wrote to the victim's memory");
        }
    }
}
