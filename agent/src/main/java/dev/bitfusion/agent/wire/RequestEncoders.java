package dev.bitfusion.agent.wire;

import dev.bitfusion.transport.protocol.*;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Encoders and the encode buffer of one calling thread: threads send concurrently on one publication,
 * so each encodes into its own buffer.
 * <p>
 * Thread safety: confined to its thread.
 */
final class RequestEncoders
{
    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64 * 1024]);
    final UnsafeBuffer userData = new UnsafeBuffer(0, 0);
    final MessageHeaderEncoder header = new MessageHeaderEncoder();
    final MemAllocEncoder memAlloc = new MemAllocEncoder();
    final MemFreeEncoder memFree = new MemFreeEncoder();
    final MemGetInfoEncoder memGetInfo = new MemGetInfoEncoder();
    final MemcpyHtoDChunkEncoder htoD = new MemcpyHtoDChunkEncoder();
    final MemcpyDtoHEncoder dtoH = new MemcpyDtoHEncoder();
    final MemcpyDtoDEncoder dtoD = new MemcpyDtoDEncoder();
    final MemsetEncoder memset = new MemsetEncoder();
    final ContextCreateEncoder contextCreate = new ContextCreateEncoder();
    final ContextDestroyEncoder contextDestroy = new ContextDestroyEncoder();
    final SynchronizeEncoder synchronize = new SynchronizeEncoder();
    final StreamCreateEncoder streamCreate = new StreamCreateEncoder();
    final StreamDestroyEncoder streamDestroy = new StreamDestroyEncoder();
    final StreamWaitEventEncoder streamWaitEvent = new StreamWaitEventEncoder();
    final EventCreateEncoder eventCreate = new EventCreateEncoder();
    final EventRecordEncoder eventRecord = new EventRecordEncoder();
    final EventDestroyEncoder eventDestroy = new EventDestroyEncoder();
    final EventElapsedTimeEncoder elapsedTime = new EventElapsedTimeEncoder();
    final ModuleImageChunkEncoder imageChunk = new ModuleImageChunkEncoder();
    final ModuleLoadEncoder moduleLoad = new ModuleLoadEncoder();
    final ModuleUnloadEncoder moduleUnload = new ModuleUnloadEncoder();
    final ModuleGetFunctionEncoder getFunction = new ModuleGetFunctionEncoder();
    final ModuleGetGlobalEncoder getGlobal = new ModuleGetGlobalEncoder();
    final FunctionGetAttributeEncoder getAttribute = new FunctionGetAttributeEncoder();
    final LaunchKernelEncoder launch = new LaunchKernelEncoder();
    final FunctionSetAttributeEncoder setAttribute = new FunctionSetAttributeEncoder();
    final ContextLimitEncoder contextLimit = new ContextLimitEncoder();
    final TensorMapEncodeEncoder tensorMapEncode = new TensorMapEncodeEncoder();
    final ClusterOccupancyEncoder clusterOccupancy = new ClusterOccupancyEncoder();
    final SessionCloseEncoder sessionClose = new SessionCloseEncoder();
    final PeerReceiveEncoder peerReceive = new PeerReceiveEncoder();
    final PeerSendEncoder peerSend = new PeerSendEncoder();
    final byte[] peerKey = new byte[PeerReceiveEncoder.peerKeyLength()];
}
