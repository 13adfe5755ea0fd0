package dev.bitfusion.agent;

import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.LocalRoute;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.TransportSettings;
import dev.bitfusion.transport.protocol.*;
import io.aeron.ChannelUriStringBuilder;
import io.aeron.ConcurrentPublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.ByteOrder;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One session with a GPU server: the ordered request publication, the reply subscription, and the
 * routing of replies to the threads waiting for them.
 * <p>
 * Replies are received by whichever thread needs one: a waiting caller takes the poll lock and polls
 * itself (so a single-threaded program pays what a raw Aeron ping-pong pays), and delivers replies for
 * other threads on the way. A keeper thread polls when nobody waits, to pick up asynchronous errors and
 * device printf output, and to notice a dead server.
 * <p>
 * Thread safety: thread safe; any number of threads may call at once.
 */
public final class ServerConnection implements AutoCloseable, FragmentHandler
{
    private static final int VAR_LENGTH_BYTES = 4;
    private static final int FRAGMENT_LIMIT = 64;

    private final Endpoint endpoint;
    private final AeronTransport transport;
    private final Subscription replies;
    private final FragmentAssembler replyAssembler = new FragmentAssembler(this);
    private final CallSlots slots = new CallSlots();
    private final AtomicBoolean pollLock = new AtomicBoolean();
    private final long livenessTimeoutNs;
    private final PrintStream deviceOutput;
    /** Device printf text not yet shown: it appears at the program's next synchronisation, as with a GPU. */
    private final StringBuilder pendingDeviceOutput = new StringBuilder();
    /** Lets the synchronisations of programs that never print pass without taking the lock. */
    private volatile boolean deviceOutputPending;

    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final ResultDecoder resultDecoder = new ResultDecoder();
    private final DataChunkDecoder dataChunkDecoder = new DataChunkDecoder();
    private final FunctionInfoDecoder functionInfoDecoder = new FunctionInfoDecoder();
    private final AsyncErrorDecoder asyncErrorDecoder = new AsyncErrorDecoder();
    private final DeviceOutputDecoder deviceOutputDecoder = new DeviceOutputDecoder();
    private final SessionOpenReplyDecoder openReplyDecoder = new SessionOpenReplyDecoder();

    private ConcurrentPublication requests;
    private long sessionId;
    private DeviceInfo device;
    private long openCorrelationId;
    private String openRefusal;

    private volatile int pendingError;
    private volatile int stickyError;
    private volatile String lastErrorMessage;
    private volatile boolean closed;
    private Thread keeper;

    private ServerConnection(
        final Endpoint endpoint,
        final AeronTransport transport,
        final Subscription replies,
        final PrintStream deviceOutput)
    {
        this.endpoint = endpoint;
        this.transport = transport;
        this.replies = replies;
        this.livenessTimeoutNs = transport.settings().livenessTimeoutNs();
        this.deviceOutput = deviceOutput;
    }

    /**
     * Open a session on one GPU of a server.
     *
     * @param endpoint     the server.
     * @param gpuIndex     which of its GPUs.
     * @param settings     slice size, token, transport choice.
     * @param deviceOutput where device printf output goes (the program's stdout).
     * @return the open connection.
     * @throws SessionRefusedException when the server refuses or does not answer, with the reason.
     */
    public static ServerConnection open(
        final Endpoint endpoint, final int gpuIndex, final ClientSettings settings, final PrintStream deviceOutput)
    {
        final Link link = Link.establish(endpoint, settings);
        final ServerConnection connection =
            new ServerConnection(endpoint, link.transport, link.replies, deviceOutput);
        try
        {
            connection.openSession(link, gpuIndex, settings);
        }
        catch (final RuntimeException ex)
        {
            connection.closeTransport();
            throw ex;
        }
        return connection;
    }

    /**
     * @return what the server granted: the device as the slice presents it.
     */
    public DeviceInfo device()
    {
        return device;
    }

    public Endpoint endpoint()
    {
        return endpoint;
    }

    public long sessionId()
    {
        return sessionId;
    }

    /**
     * @return true when requests travel over shared memory rather than UDP.
     */
    public boolean isIpc()
    {
        return ChannelUris.isIpc(requests.channel());
    }

    /**
     * @return the message of the last error the server reported, for people.
     */
    public String lastErrorMessage()
    {
        return lastErrorMessage;
    }

    /**
     * @return the sticky error that makes this session unusable, or CUDA_SUCCESS.
     */
    public int stickyError()
    {
        return stickyError;
    }

    /**
     * Take the error of an earlier asynchronous call, as the next synchronizing call reports it.
     *
     * @return the error, or CUDA_SUCCESS; a non-sticky error is cleared by taking it.
     */
    int takeDeferredError()
    {
        final int sticky = stickyError;
        if (sticky != CuResult.CUDA_SUCCESS)
        {
            return sticky;
        }
        final int pending = pendingError;
        if (pending != CuResult.CUDA_SUCCESS)
        {
            pendingError = CuResult.CUDA_SUCCESS;
        }
        return pending;
    }

    CallSlot slot()
    {
        return slots.forCurrentThread();
    }

    ThreadRequestState requestState()
    {
        return slots.forCurrentThread().requestState;
    }

    /**
     * @return the largest message that travels unfragmented, which bounds chunks and claims.
     */
    int maxPayloadLength()
    {
        return requests.maxPayloadLength();
    }

    /**
     * Send an encoded request, waiting out back pressure.
     *
     * @return CUDA_SUCCESS, or the error that makes the server unreachable.
     */
    int send(final DirectBuffer buffer, final int length)
    {
        return send(buffer, length, null, 0, 0);
    }

    /**
     * Send a request made of an encoded head and a body taken straight from the caller's memory.
     */
    int send(
        final DirectBuffer head, final int headLength, final DirectBuffer body, final int bodyOffset, final int bodyLength)
    {
        final int sticky = stickyError;
        if (sticky != CuResult.CUDA_SUCCESS)
        {
            return sticky;
        }
        long lostSinceNs = 0;
        int attempts = 0;
        while (true)
        {
            final long position = body == null ?
                requests.offer(head, 0, headLength) :
                requests.offer(head, 0, headLength, body, bodyOffset, bodyLength, null);
            if (position > 0)
            {
                return CuResult.CUDA_SUCCESS;
            }
            if (position == Publication.CLOSED || position == Publication.MAX_POSITION_EXCEEDED)
            {
                return serverLost("request stream closed");
            }
            final long nowNs = System.nanoTime();
            if (lostSinceNs == 0)
            {
                lostSinceNs = nowNs;
            }
            else if (nowNs - lostSinceNs > livenessTimeoutNs && position == Publication.NOT_CONNECTED)
            {
                return serverLost("server not reachable for " + TimeUnit.NANOSECONDS.toMillis(livenessTimeoutNs) + " ms");
            }
            backOff(++attempts);
            if (stickyError != CuResult.CUDA_SUCCESS)
            {
                return stickyError;
            }
            pollIfFree();
        }
    }

    /**
     * A reply usually comes within microseconds: spin and yield long before parking, so a synchronous
     * call costs about what a raw ping-pong costs, and park only when the server is busy for longer.
     */
    private static void awaitBackOff(final int idleCount)
    {
        if (idleCount < 200)
        {
            Thread.onSpinWait();
        }
        else if (idleCount < 2000)
        {
            Thread.yield();
        }
        else
        {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000);
        }
    }

    /**
     * Spin, then yield, then park briefly: back pressure usually clears within microseconds, and a
     * caller must not burn a core while a slow peer catches up.
     */
    private static void backOff(final int attempts)
    {
        if (attempts < 100)
        {
            Thread.onSpinWait();
        }
        else if (attempts < 200)
        {
            Thread.yield();
        }
        else
        {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000);
        }
    }

    /**
     * Wait for the reply to the call armed on {@code slot}, receiving replies meanwhile.
     *
     * @return the call's CUresult.
     */
    int await(final CallSlot slot)
    {
        int idleCount = 0;
        while (!slot.done)
        {
            final int work = pollIfFree();
            if (slot.done)
            {
                break;
            }
            if (work > 0)
            {
                idleCount = 0;
                continue;
            }
            if (++idleCount > 100 && (closed || stickyError == CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE))
            {
                slot.expectedCorrelationId = -1;
                return CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE;
            }
            awaitBackOff(idleCount);
        }
        slot.expectedCorrelationId = -1;
        return slot.result;
    }

    public void close()
    {
        if (closed)
        {
            return;
        }
        if (stickyError != CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE && requests != null)
        {
            final ThreadRequestState state = requestState();
            state.sessionClose.wrapAndApplyHeader(state.buffer, 0, state.header).sessionId(sessionId);
            final int length = MessageHeaderEncoder.ENCODED_LENGTH + state.sessionClose.encodedLength();
            requests.offer(state.buffer, 0, length);
        }
        closed = true;
        if (keeper != null)
        {
            try
            {
                keeper.join(1000);
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
        }
        flushDeviceOutput();
        closeTransport();
    }

    /**
     * Shows the device printf text received so far; called where the driver would show it: when a
     * synchronisation or a blocking copy returns, and when the session ends.
     */
    void flushDeviceOutput()
    {
        if (!deviceOutputPending)
        {
            return;
        }
        synchronized (pendingDeviceOutput)
        {
            deviceOutput.print(pendingDeviceOutput);
            deviceOutput.flush();
            pendingDeviceOutput.setLength(0);
            deviceOutputPending = false;
        }
    }

    private void closeTransport()
    {
        closed = true;
        CloseHelper.quietCloseAll(requests, replies, transport);
    }

    private int pollIfFree()
    {
        if (!pollLock.compareAndSet(false, true))
        {
            return 0;
        }
        try
        {
            return replies.poll(replyAssembler, FRAGMENT_LIMIT);
        }
        finally
        {
            pollLock.set(false);
        }
    }

    /**
     * Polls when nobody waits, and watches the server: the media driver already waits out the liveness
     * timeout before it drops the reply image or the request stream's connection, so either going away
     * means the server is gone.
     */
    private void keep()
    {
        while (!closed)
        {
            if (transport.isClosed())
            {
                serverLost("the media driver serving this connection is gone");
                return;
            }
            final int work = pollIfFree();
            if (!replies.isConnected() || !requests.isConnected())
            {
                serverLost("no word from the server for " +
                    TimeUnit.NANOSECONDS.toMillis(livenessTimeoutNs) + " ms");
                return;
            }
            if (work == 0)
            {
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
        }
    }

    private int serverLost(final String why)
    {
        if (stickyError != CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE)
        {
            final String message = "bitfusion: lost the GPU server " + endpoint + " (session " + sessionId + "): " +
                why + "; CUDA calls now fail with CUDA_ERROR_DEVICE_UNAVAILABLE";
            lastErrorMessage = message;
            stickyError = CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE;
            System.err.println(message);
            slots.completeAll(CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE, message);
        }
        return CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            return;
        }
        headerDecoder.wrap(buffer, offset);
        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        switch (headerDecoder.templateId())
        {
            case ResultDecoder.TEMPLATE_ID:
            {
                resultDecoder.wrap(buffer, bodyOffset, blockLength, version);
                final CallSlot slot = slots.waitingFor(resultDecoder.correlationId());
                if (slot != null)
                {
                    slot.result = resultDecoder.result();
                    slot.value1 = resultDecoder.value1();
                    slot.value2 = resultDecoder.value2();
                    slot.message = resultDecoder.messageLength() > 0 ? resultDecoder.message() : null;
                    slot.done = true;
                }
                break;
            }
            case DataChunkDecoder.TEMPLATE_ID:
            {
                dataChunkDecoder.wrap(buffer, bodyOffset, blockLength, version);
                final CallSlot slot = slots.waitingFor(dataChunkDecoder.correlationId());
                final long chunkOffset = dataChunkDecoder.byteOffset();
                final int dataLength = buffer.getInt(dataChunkDecoder.limit(), ByteOrder.LITTLE_ENDIAN);
                if (slot != null && chunkOffset >= 0 && chunkOffset + dataLength <= slot.copyBytes)
                {
                    slot.copyDestination.putBytes(
                        (int)chunkOffset, buffer, dataChunkDecoder.limit() + VAR_LENGTH_BYTES, dataLength);
                    slot.copyReceivedBytes += dataLength;
                }
                break;
            }
            case FunctionInfoDecoder.TEMPLATE_ID:
                onFunctionInfo(buffer, bodyOffset, blockLength, version);
                break;
            case AsyncErrorDecoder.TEMPLATE_ID:
            {
                asyncErrorDecoder.wrap(buffer, bodyOffset, blockLength, version);
                final int result = asyncErrorDecoder.result();
                final boolean sticky = asyncErrorDecoder.sticky() != 0;
                final String message = asyncErrorDecoder.message();
                lastErrorMessage = message;
                if (sticky)
                {
                    stickyError = result;
                }
                else if (pendingError == CuResult.CUDA_SUCCESS)
                {
                    pendingError = result;
                }
                System.err.println("bitfusion: server reported " + CuResult.describe(result) + ": " + message);
                break;
            }
            case DeviceOutputDecoder.TEMPLATE_ID:
            {
                deviceOutputDecoder.wrap(buffer, bodyOffset, blockLength, version);
                synchronized (pendingDeviceOutput)
                {
                    pendingDeviceOutput.append(deviceOutputDecoder.text());
                    deviceOutputPending = true;
                }
                break;
            }
            case SessionOpenReplyDecoder.TEMPLATE_ID:
                onSessionOpenReply(buffer, bodyOffset, blockLength, version);
                break;
            default:
                break;
        }
    }

    private void onFunctionInfo(final DirectBuffer buffer, final int bodyOffset, final int blockLength, final int version)
    {
        functionInfoDecoder.wrap(buffer, bodyOffset, blockLength, version);
        final CallSlot slot = slots.waitingFor(functionInfoDecoder.correlationId());
        if (slot == null)
        {
            return;
        }
        slot.parameterBufferSize = functionInfoDecoder.parameterBufferSize();
        final FunctionInfoDecoder.ParametersDecoder parameters = functionInfoDecoder.parameters();
        final int count = parameters.count();
        if (slot.parameterOffsets.length < count)
        {
            slot.parameterOffsets = new int[count];
            slot.parameterSizes = new int[count];
        }
        int i = 0;
        for (final FunctionInfoDecoder.ParametersDecoder parameter : parameters)
        {
            slot.parameterOffsets[i] = parameter.offset();
            slot.parameterSizes[i] = parameter.size();
            i++;
        }
        slot.parameterCount = count;
        slot.result = functionInfoDecoder.result();
        slot.done = true;
    }

    private void onSessionOpenReply(final DirectBuffer buffer, final int bodyOffset, final int blockLength, final int version)
    {
        openReplyDecoder.wrap(buffer, bodyOffset, blockLength, version);
        if (openReplyDecoder.correlationId() != openCorrelationId || device != null)
        {
            return;
        }
        if (openReplyDecoder.status() != SessionStatus.OPENED)
        {
            final SessionStatus status = openReplyDecoder.status();
            for (final SessionOpenReplyDecoder.AttributesDecoder ignored : openReplyDecoder.attributes())
            {
                // Var data follows the group: step over it to reach the message.
            }
            openReplyDecoder.skipDeviceName();
            openRefusal = status + ": " + openReplyDecoder.message();
            return;
        }
        sessionId = openReplyDecoder.sessionId();
        final int requestStreamId = openReplyDecoder.requestStreamId();
        final long sliceBytes = openReplyDecoder.sliceBytes();
        final int major = openReplyDecoder.computeCapabilityMajor();
        final int minor = openReplyDecoder.computeCapabilityMinor();
        final byte[] uuid = new byte[16];
        openReplyDecoder.getUuid(uuid, 0, 16);
        final int[][] attributes = new int[2][];
        final SessionOpenReplyDecoder.AttributesDecoder attributesDecoder = openReplyDecoder.attributes();
        attributes[0] = new int[attributesDecoder.count()];
        attributes[1] = new int[attributesDecoder.count()];
        int i = 0;
        for (final SessionOpenReplyDecoder.AttributesDecoder attribute : attributesDecoder)
        {
            attributes[0][i] = attribute.attribute();
            attributes[1][i] = attribute.value();
            i++;
        }
        final String name = openReplyDecoder.deviceName();
        device = new DeviceInfo(name, sliceBytes, major, minor, uuid, attributes[0], attributes[1], requestStreamId);
    }

    private void openSession(final Link link, final int gpuIndex, final ClientSettings settings)
    {
        final ConcurrentPublication control =
            transport.aeron().addPublication(link.serverChannel, Protocol.CONTROL_STREAM_ID);
        try
        {
            openCorrelationId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
            final SessionOpenEncoder encoder = new SessionOpenEncoder()
                .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
                .correlationId(openCorrelationId)
                .protocolVersion(Protocol.VERSION)
                .gpuIndex(gpuIndex)
                .memoryFraction(settings.memoryFraction())
                .memoryMb(settings.memoryMb())
                .replyStreamId(link.replyStreamId)
                .clientId(settings.clientId())
                .authToken(settings.token())
                .replyChannel(link.replyChannel);
            final int length = MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength();

            final long deadlineNs = System.nanoTime() + settings.openTimeoutNs();
            boolean sent = false;
            while (device == null && openRefusal == null)
            {
                if (System.nanoTime() > deadlineNs)
                {
                    throw new SessionRefusedException("no answer from bitfusion server " + endpoint + " within " +
                        TimeUnit.NANOSECONDS.toMillis(settings.openTimeoutNs()) + " ms (is it running, and is " +
                        endpoint + " reachable over UDP?)");
                }
                if (!sent)
                {
                    sent = control.offer(buffer, 0, length) > 0;
                }
                if (replies.poll(replyAssembler, FRAGMENT_LIMIT) == 0)
                {
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000);
                }
            }
            if (openRefusal != null)
            {
                throw new SessionRefusedException("bitfusion server " + endpoint + " refused the session: " + openRefusal);
            }

            requests = transport.aeron().addPublication(link.serverChannel, device.requestStreamId());
            while (!requests.isConnected())
            {
                if (System.nanoTime() > deadlineNs)
                {
                    throw new SessionRefusedException("bitfusion server " + endpoint + " opened session " + sessionId +
                        " but its request stream did not connect");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(100_000);
            }
        }
        finally
        {
            control.close();
        }

        keeper = new Thread(this::keep, "bitfusion-keeper-" + sessionId);
        keeper.setDaemon(true);
        keeper.start();
    }

    /**
     * The Aeron plumbing to one server: transport, reply subscription, channels.
     */
    private static final class Link
    {
        AeronTransport transport;
        Subscription replies;
        String serverChannel;
        String replyChannel;
        int replyStreamId;

        static Link establish(final Endpoint endpoint, final ClientSettings settings)
        {
            final Link link = new Link();
            final String serverDirectory = TransportSettings.defaultAeronDirectory("server-" + endpoint.port());
            final boolean serverIsLocal = Endpoint.isLoopback(endpoint.host()) || isLocalAddress(endpoint.host());
            final boolean useIpc = settings.transport().equals("ipc") ||
                (settings.transport().equals("auto") && serverIsLocal && AeronTransport.isDriverActive(serverDirectory));

            try
            {
                if (useIpc)
                {
                    final TransportSettings transportSettings = new TransportSettings().aeronDirectoryName(serverDirectory);
                    link.transport = AeronTransport.connect(transportSettings);
                    link.serverChannel = ChannelUris.ipc(transportSettings);
                    link.replyChannel = link.serverChannel;
                    link.replyStreamId = (int)(link.transport.aeron().nextCorrelationId() & 0x3fff_ffff) | 0x4000_0000;
                    link.replies = link.transport.aeron().addSubscription(link.replyChannel, link.replyStreamId);
                }
                else
                {
                    final TransportSettings transportSettings = new TransportSettings().aeronDirectoryName(
                        TransportSettings.defaultAeronDirectory("client-" + ProcessHandle.current().pid() + "-" +
                        Long.toHexString(ThreadLocalRandom.current().nextLong())));
                    link.transport = AeronTransport.launchEmbedded(transportSettings);
                    link.serverChannel = ChannelUris.udp(endpoint, transportSettings);
                    link.replyStreamId = 1;
                    final String localHost = LocalRoute.addressTowards(endpoint);
                    final String wildcardChannel = new ChannelUriStringBuilder()
                        .media("udp")
                        .endpoint(localHost + ":0")
                        .build();
                    link.replies = link.transport.aeron().addSubscription(wildcardChannel, link.replyStreamId);
                    link.replyChannel = resolveReplyChannel(link.replies, endpoint, transportSettings);
                }
            }
            catch (final RuntimeException ex)
            {
                CloseHelper.quietCloseAll(link.replies, link.transport);
                throw ex;
            }
            return link;
        }

        private static String resolveReplyChannel(
            final Subscription replies, final Endpoint server, final TransportSettings settings)
        {
            final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            String resolved;
            while ((resolved = replies.tryResolveChannelEndpointPort()) == null ||
                resolved.contains(":0|") || resolved.endsWith(":0"))
            {
                if (System.nanoTime() > deadlineNs)
                {
                    throw new SessionRefusedException("could not bind a local UDP port for replies");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(100_000);
            }
            final String endpoint = io.aeron.ChannelUri.parse(resolved).get("endpoint");
            final String host = endpoint.substring(0, endpoint.lastIndexOf(':'));
            return new ChannelUriStringBuilder()
                .media("udp")
                .endpoint(endpoint)
                .mtu(settings.udpMtuFor(host.replace("[", "").replace("]", "")))
                .termLength(settings.termLength())
                .build();
        }

        private static boolean isLocalAddress(final String host)
        {
            try
            {
                return java.net.NetworkInterface.getByInetAddress(InetAddress.getByName(host)) != null;
            }
            catch (final IOException ex)
            {
                return false;
            }
        }
    }

}
