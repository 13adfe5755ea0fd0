package dev.bitfusion.transport;

import io.aeron.CncFileDescriptor;
import org.agrona.IoUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class AeronDirectoryJanitorTest
{
    private final String name = "janitor-test-" + ProcessHandle.current().pid();
    private final List<String> said = new ArrayList<>();
    private final List<File> made = new ArrayList<>();

    @AfterEach
    void removeWhatWasMade() throws Exception
    {
        for (final File file : made)
        {
            IoUtil.delete(file, true);
            Files.deleteIfExists(OwnerLock.fileFor(file.toPath()));
        }
    }

    @Test
    void shouldKeepTheDirectoryOfALiveOwnerAndRemoveOneWhoseOwnerIsGone() throws Exception
    {
        final TransportSettings settings =
            new TransportSettings().aeronDirectoryName(TransportSettings.defaultAeronDirectory(name + "-live"));
        final File live = track(new File(settings.aeronDirectoryName()));
        try (AeronTransport transport = AeronTransport.launchEmbedded(settings))
        {
            final File dead = track(zeroFilledCnc(name + "-dead"));
            Files.writeString(OwnerLock.fileFor(dead.toPath()), "pid=1 start=0\n");
            assertTrue(OwnerLock.isHeld(OwnerLock.fileFor(live.toPath())));
            AeronDirectoryJanitor.sweep(said::add);
            assertTrue(live.exists(), "a live owner's directory stays");
            assertFalse(dead.exists(), "a directory whose lock no one holds is removed");
            assertFalse(Files.exists(OwnerLock.fileFor(dead.toPath())), "and its lock file");
            assertTrue(said.stream().anyMatch(line -> line.contains(dead.toString()) && line.contains("pid=1")), said::toString);
        }
        assertFalse(live.exists(), "the owner removes its directory on close");
        assertFalse(Files.exists(OwnerLock.fileFor(live.toPath())), "and its lock file");
    }

    @Test
    void shouldLeaveAFreshHalfMadeDirectoryWithoutOwnerAloneAndRemoveItOnceOld() throws Exception
    {
        final File halfMade = track(zeroFilledCnc(name + "-halfmade"));
        assertEquals(CncProbe.NOT_INITIALISED, CncProbe.heartbeatAgeMs(halfMade), "answered at once, no exception");

        AeronDirectoryJanitor.sweep(said::add);
        assertTrue(halfMade.exists(), "a driver may still be starting there");
        assertTrue(said.stream().anyMatch(line -> line.contains(halfMade.toString()) && line.contains("left")), said::toString);

        final long longAgo = System.currentTimeMillis() - TimeUnit.MINUTES.toMillis(5);
        assertTrue(new File(halfMade, CncFileDescriptor.CNC_FILE).setLastModified(longAgo));
        assertTrue(halfMade.setLastModified(longAgo));
        AeronDirectoryJanitor.sweep(said::add);
        assertFalse(halfMade.exists());
    }

    @Test
    void shouldRemoveAClientDirectoryWithoutOwnerWhosePidIsGone() throws Exception
    {
        final Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        final File leftover = track(zeroFilledCnc("client-" + gone.pid() + "-dead"));
        AeronDirectoryJanitor.sweep(said::add);
        assertFalse(leftover.exists(), said::toString);
    }

    @Test
    void shouldTakeOverAHalfMadeDirectoryButNotOneThisProcessOwns() throws Exception
    {
        final File directory = track(zeroFilledCnc(name + "-own"));
        try (OwnerLock lock = AeronDirectoryJanitor.takeOwnership(directory, said::add))
        {
            assertTrue(said.stream().anyMatch(line -> line.contains("replacing the leftover")), said::toString);
            final DirectoryInUseException refused = assertThrows(DirectoryInUseException.class,
                () -> AeronDirectoryJanitor.takeOwnership(directory, said::add));
            assertTrue(refused.getMessage().contains("pid=" + ProcessHandle.current().pid()), refused.getMessage());
        }
        AeronDirectoryJanitor.takeOwnership(directory, said::add).close();
    }

    @Test
    void shouldNotCallAHalfMadeDirectoryServed() throws Exception
    {
        final File directory = track(zeroFilledCnc(name + "-served"));
        assertFalse(AeronTransport.isDriverActive(directory.toString()));
    }

    private File track(final File file)
    {
        made.add(file);
        return file;
    }

    private static File zeroFilledCnc(final String name) throws Exception
    {
        final File directory = new File(TransportSettings.defaultAeronDirectory(name));
        assertTrue(directory.mkdirs());
        Files.write(new File(directory, CncFileDescriptor.CNC_FILE).toPath(), new byte[4096]);
        return directory;
    }
}
