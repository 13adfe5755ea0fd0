package dev.bitfusion.transport.protocol;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.*;

class MessageBoundsTest
{
    private static final int HEADER = MessageHeaderEncoder.ENCODED_LENGTH;

    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64 * 1024]);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final MessageBounds bounds = new MessageBounds();

    @Test
    void shouldPassWellFormedMessagesOfEveryShape()
    {
        assertEquals(MessageBounds.VALID, bounds.check(buffer, 0, sessionOpen("client", new byte[32])));
        assertTrue(bounds.hasCorrelationId());
        assertEquals(7, bounds.correlationId());

        final GpuListEncoder list = new GpuListEncoder().wrapAndApplyHeader(buffer, 0, header).correlationId(3);
        final GpuListEncoder.GpusEncoder gpus = list.gpusCount(2);
        for (int i = 0; i < 2; i++)
        {
            final GpuListEncoder.GpusEncoder.SlicesEncoder slices = gpus.next().index(i).slicesCount(2);
            slices.next().sessionId(1).clientId("a");
            slices.next().sessionId(2).clientId("bb");
            gpus.name("gpu " + i);
        }
        list.backend("emulated").message("").hostname("gpu-host").cudaVersion("13.0").driverVersion("emulated");
        assertEquals(MessageBounds.VALID, bounds.check(buffer, 0, HEADER + list.encodedLength()), bounds.reason());

        final int launch = new LaunchKernelEncoder().wrapAndApplyHeader(buffer, 0, header)
            .putParameters(new byte[24], 0, 24).encodedLength();
        assertEquals(MessageBounds.VALID, bounds.check(buffer, 0, HEADER + launch));
        assertFalse(bounds.hasCorrelationId(), "a launch has none");
    }

    @Test
    void shouldRefuseTruncatedHeadersAndBlocksAndUnknownMessages()
    {
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, 3));
        assertEquals("truncated message of 3 bytes", bounds.reason());

        header.wrap(buffer, 0).blockLength(8).templateId(20).schemaId(4242).version(1);
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, 16));
        assertTrue(bounds.reason().contains("unknown schema 4242"), bounds.reason());

        header.wrap(buffer, 0).blockLength(0).templateId(999).schemaId(MessageHeaderEncoder.SCHEMA_ID).version(1);
        assertEquals(MessageBounds.UNKNOWN_TEMPLATE, bounds.check(buffer, 0, HEADER));

        header.wrap(buffer, 0).blockLength(64).templateId(MemAllocEncoder.TEMPLATE_ID)
            .schemaId(MessageHeaderEncoder.SCHEMA_ID).version(1);
        buffer.putLong(HEADER, 55, ByteOrder.LITTLE_ENDIAN);
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, HEADER + 12));
        assertTrue(bounds.reason().contains("needs 64 bytes of fields, got 12"), bounds.reason());
        assertTrue(bounds.hasCorrelationId(), "the correlation id lies within what arrived");
        assertEquals(55, bounds.correlationId());

        header.wrap(buffer, 0).blockLength(4).templateId(MemAllocEncoder.TEMPLATE_ID);
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, HEADER + MemAllocEncoder.BLOCK_LENGTH));
        assertTrue(bounds.reason().contains("its header says 4"), bounds.reason());
        assertFalse(bounds.hasCorrelationId(), "a 4-byte block cannot hold it");
    }

    @Test
    void shouldRefuseVarDataLengthsThatOverflowOrRunPastTheEnd()
    {
        final int lengthField = HEADER + ModuleGetFunctionEncoder.BLOCK_LENGTH;
        for (final int hostile : new int[]{ Integer.MAX_VALUE, Integer.MAX_VALUE - 4, -1, -16, 1 << 20, 7 })
        {
            final int length = HEADER + new ModuleGetFunctionEncoder().wrapAndApplyHeader(buffer, 0, header)
                .correlationId(9).name("kern").encodedLength();
            buffer.putInt(lengthField, hostile, ByteOrder.LITTLE_ENDIAN);

            assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, length), "length " + hostile);
            assertTrue(bounds.reason().contains("runs past the message end"), bounds.reason());
            assertTrue(bounds.hasCorrelationId());
            assertEquals(9, bounds.correlationId());
        }
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, lengthField + 2), "the length itself cut off");
    }

    @Test
    void shouldCheckTheMessagesOfACopyBetweenServers()
    {
        final byte[] key = new byte[16];
        final int receive = HEADER + new PeerReceiveEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(11).bytes(1 << 20).peerStreamId(100_007).putPeerKey(key, 0, 16).encodedLength();
        assertEquals(MessageBounds.VALID, bounds.check(buffer, 0, receive), bounds.reason());
        assertEquals(11, bounds.correlationId());
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, receive - 1), "the key cut off");

        final int send = HEADER + new PeerSendEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(12).putPeerKey(key, 0, 16).peerEndpoint("gpu-b:56001").encodedLength();
        assertEquals(MessageBounds.VALID, bounds.check(buffer, 0, send), bounds.reason());
        buffer.putInt(HEADER + PeerSendEncoder.BLOCK_LENGTH, 5000, ByteOrder.LITTLE_ENDIAN);
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, send), "5000 bytes of endpoint claimed");
        assertEquals(12, bounds.correlationId());

        final int chunk = HEADER + new PeerChunkEncoder().wrapAndApplyHeader(buffer, 0, header)
            .byteOffset(4096).putData(new byte[100], 0, 100).encodedLength();
        assertEquals(MessageBounds.VALID, bounds.check(buffer, 0, chunk), bounds.reason());
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, chunk - 1), "the data cut off");
    }

    @Test
    void shouldTellAStringLongerThanTheSchemaAllowsFromAMalformedMessage()
    {
        final int length = sessionOpen("x".repeat(10), new byte[0]);
        buffer.putInt(HEADER + SessionOpenEncoder.BLOCK_LENGTH, 5000, ByteOrder.LITTLE_ENDIAN);
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, length), "5000 bytes claimed, 10 there");

        final int end = writeSessionOpenWithClientIdOf(5000);
        assertEquals(MessageBounds.OVER_LIMIT, bounds.check(buffer, 0, end));
        assertTrue(bounds.reason().contains("SessionOpen.clientId: 5000 bytes, more than the 4096"), bounds.reason());
    }

    @Test
    void shouldRefuseGroupsWhoseCountsOrEntrySizesDoNotFit()
    {
        final FunctionInfoEncoder info = new FunctionInfoEncoder().wrapAndApplyHeader(buffer, 0, header).correlationId(4);
        info.parametersCount(2).next().offset(0).size(8).next().offset(8).size(8);
        final int length = HEADER + info.encodedLength();
        final int groupHeader = HEADER + FunctionInfoEncoder.BLOCK_LENGTH;
        assertEquals(MessageBounds.VALID, bounds.check(buffer, 0, length));

        buffer.putShort(groupHeader + 2, (short)0xFFFF, ByteOrder.LITTLE_ENDIAN);
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, length));
        assertTrue(bounds.reason().contains("FunctionInfo.parameters: 65535 entries"), bounds.reason());

        buffer.putShort(groupHeader + 2, (short)2, ByteOrder.LITTLE_ENDIAN);
        buffer.putShort(groupHeader, (short)2, ByteOrder.LITTLE_ENDIAN);
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, length));
        assertTrue(bounds.reason().contains("fewer than the 8 its fields need"), bounds.reason());

        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, groupHeader + 3), "header cut off");
    }

    @Test
    void shouldWalkNestedGroupsEntryByEntry()
    {
        final GpuListEncoder list = new GpuListEncoder().wrapAndApplyHeader(buffer, 0, header).correlationId(3);
        final GpuListEncoder.GpusEncoder gpus = list.gpusCount(1).next().index(0);
        gpus.slicesCount(1).next().sessionId(1).clientId("abc");
        gpus.name("gpu");
        list.backend("emulated").message("").hostname("").cudaVersion("").driverVersion("");
        final int length = HEADER + list.encodedLength();
        assertEquals(MessageBounds.VALID, bounds.check(buffer, 0, length));

        final int slicesHeader = HEADER + GpuListEncoder.BLOCK_LENGTH + 4 + GpuListEncoder.GpusEncoder.sbeBlockLength();
        buffer.putShort(slicesHeader + 2, (short)40_000, ByteOrder.LITTLE_ENDIAN);
        assertEquals(MessageBounds.MALFORMED, bounds.check(buffer, 0, length));
        assertTrue(bounds.reason().startsWith("GpuList.gpus.slices"), bounds.reason());
    }

    private int sessionOpen(final String clientId, final byte[] proof)
    {
        return HEADER + new SessionOpenEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(7).protocolVersion(2).gpuIndex(0).memoryFraction(0.5).memoryMb(0).replyStreamId(1)
            .clientId(clientId).putClientPublicKey(new byte[44], 0, 44).putAuthProof(proof, 0, proof.length)
            .putPadding(new byte[16], 0, 16).encodedLength();
    }

    private int writeSessionOpenWithClientIdOf(final int bytes)
    {
        new SessionOpenEncoder().wrapAndApplyHeader(buffer, 0, header).correlationId(7);
        int limit = HEADER + SessionOpenEncoder.BLOCK_LENGTH;
        buffer.putInt(limit, bytes, ByteOrder.LITTLE_ENDIAN);
        limit += 4 + bytes;
        for (int emptyField = 0; emptyField < 3; emptyField++)
        {
            // The public key, the proof and the padding.
            buffer.putInt(limit, 0, ByteOrder.LITTLE_ENDIAN);
            limit += 4;
        }
        return limit;
    }
}
