package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.server.status.ServerCounters;
import dev.bitfusion.server.status.TrafficCounters;
import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Protocol;
import io.aeron.Aeron;
import io.aeron.Counter;
import io.aeron.Subscription;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.CompositeAgent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Everything of the server that lives on one media driver: the driver and the server's Aeron client, the
 * counters in its CnC file, and the control agents ({@link ControlAdapter} with the {@link ControlReplySender})
 * on their thread. A pause longer than the liveness timeout closes the Aeron client for good, and with it every
 * publication, subscription and counter made through it, so the server replaces the whole of this, never a part.
 * <p>
 * Thread safety: made and closed by the {@link GpuServer}, one thread at a time.
 */
final class ServerTransport implements AutoCloseable
{
    /** The shortest time a control reply waits for its client to connect. */
    private static final long MIN_REPLY_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(2);

    private final AeronTransport transport;
    private final List<TrafficCounters> gpuCounters = new ArrayList<>();
    private final Counter repliesDropped;
    private final AgentRunner controlRunner;

    /**
     * @param onTransportClosed told why, once, from the control thread, when the Aeron client has closed.
     */
    ServerTransport(
        final GpuServer.Context context, final SessionRegistry registry, final Consumer<String> onTransportClosed)
    {
        transport = AeronTransport.launchEmbedded(context.transportSettings());
        try
        {
            final Aeron aeron = transport.aeron();
            final String udpChannel = ChannelUris.udp(context.endpoint(), context.transportSettings());
            final String ipcChannel = ChannelUris.ipc(context.transportSettings());
            for (final GpuDescriptor gpu : context.backend().gpus())
            {
                gpuCounters.add(TrafficCounters.forGpu(aeron, gpu.index()));
            }
            repliesDropped = ServerCounters.controlRepliesDropped(aeron);
            final ControlReplySender replySender = new ControlReplySender(aeron, context.errorLog(), repliesDropped,
                Math.max(context.transportSettings().livenessTimeoutNs(), MIN_REPLY_TIMEOUT_NS));
            final ControlReplyProxy replyProxy = new ControlReplyProxy(replySender);
            final SessionAdmission admission =
                new SessionAdmission(context, aeron, registry, gpuCounters, replyProxy, udpChannel, ipcChannel);
            final Subscription udpControl = aeron.addSubscription(udpChannel, Protocol.CONTROL_STREAM_ID);
            final Subscription ipcControl = aeron.addSubscription(ipcChannel, Protocol.CONTROL_STREAM_ID);
            final ControlAdapter controlAdapter = new ControlAdapter(context, aeron, udpControl, ipcControl, admission,
                replyProxy, registry, replySender::send, onTransportClosed);
            controlRunner = new AgentRunner(
                new BackoffIdleStrategy(10, 10, TimeUnit.MICROSECONDS.toNanos(10), TimeUnit.MILLISECONDS.toNanos(1)),
                context.errorLog(), null, new CompositeAgent(controlAdapter, replySender));
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(gpuCounters);
            transport.close();
            throw ex;
        }
        final Thread controlThread = new Thread(controlRunner, "bitfusion-control");
        controlThread.setDaemon(false);
        controlThread.start();
    }

    /**
     * Stop admitting sessions and answering the control stream: the control thread ends.
     */
    void stopControl()
    {
        controlRunner.close();
    }

    /**
     * Close the control agents, the counters and the transport; the sessions made on it must have ended.
     */
    public void close()
    {
        controlRunner.close();
        CloseHelper.quietCloseAll(gpuCounters);
        CloseHelper.quietClose(repliesDropped);
        transport.close();
    }
}
