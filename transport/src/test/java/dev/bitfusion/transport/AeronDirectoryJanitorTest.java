package dev.bitfusion.transport;

import io.aeron.CncFileDescriptor;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class AeronDirectoryJanitorTest
{
    @Test
    void shouldRemoveTheDirectoryOfADeadDriverAndKeepALiveOne() throws Exception
    {
        final String name = "janitor-test-" + ProcessHandle.current().pid();
        final TransportSettings settings =
            new TransportSettings().aeronDirectoryName(TransportSettings.defaultAeronDirectory(name + "-live"));
        final File dead = new File(TransportSettings.defaultAeronDirectory(name + "-dead"));
        try (AeronTransport live = AeronTransport.launchEmbedded(settings))
        {
            final File liveDirectory = new File(settings.aeronDirectoryName());
            assertFalse(AeronDirectoryJanitor.isAbandoned(liveDirectory), "a running driver's directory stays");

            copyCncWithOldHeartbeat(liveDirectory, dead);
            assertTrue(AeronDirectoryJanitor.isAbandoned(dead), "a driver whose heartbeat stopped is gone");
            AeronDirectoryJanitor.sweep();
            assertFalse(dead.exists());
            assertTrue(liveDirectory.exists());
        }
        finally
        {
            org.agrona.IoUtil.delete(dead, true);
        }
    }

    @Test
    void shouldKeepAFreshDirectoryWithoutCncAndRemoveAnOldOne() throws Exception
    {
        final File directory = new File(TransportSettings.defaultAeronDirectory("janitor-empty-" + ProcessHandle.current().pid()));
        try
        {
            assertTrue(directory.mkdirs());
            assertFalse(AeronDirectoryJanitor.isAbandoned(directory), "a driver may still be starting");
            assertTrue(directory.setLastModified(System.currentTimeMillis() - TimeUnit.MINUTES.toMillis(5)));
            assertTrue(AeronDirectoryJanitor.isAbandoned(directory));
        }
        finally
        {
            org.agrona.IoUtil.delete(directory, true);
        }
    }

    private static void copyCncWithOldHeartbeat(final File from, final File to) throws Exception
    {
        assertTrue(to.mkdirs());
        final File cnc = new File(to, CncFileDescriptor.CNC_FILE);
        Files.copy(new File(from, CncFileDescriptor.CNC_FILE).toPath(), cnc.toPath());
        // The copy's heartbeat is the live driver's latest; it is older than the timeout only once time
        // moves past it, so age the copy by rewriting the heartbeat to zero (the epoch).
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(
            cnc.toPath(), java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE))
        {
            final java.nio.MappedByteBuffer mapped = channel.map(java.nio.channels.FileChannel.MapMode.READ_WRITE, 0, channel.size());
            final org.agrona.concurrent.UnsafeBuffer metaData = CncFileDescriptor.createMetaDataBuffer(mapped);
            final org.agrona.concurrent.UnsafeBuffer toDriver = CncFileDescriptor.createToDriverBuffer(mapped, metaData);
            final int heartbeatOffset = toDriver.capacity() - org.agrona.concurrent.ringbuffer.RingBufferDescriptor.TRAILER_LENGTH +
                org.agrona.concurrent.ringbuffer.RingBufferDescriptor.CONSUMER_HEARTBEAT_OFFSET;
            toDriver.putLongVolatile(heartbeatOffset, 0);
        }
    }
}
