package dev.bitfusion.transport;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class OwnerLockTest
{
    private final Path file = Path.of(TransportSettings.defaultAeronDirectory(
        "owner-lock-test-" + ProcessHandle.current().pid()) + OwnerLock.SUFFIX);

    @AfterEach
    void removeFile() throws Exception
    {
        Files.deleteIfExists(file);
    }

    @Test
    void shouldStayHeldForOtherProcessesWhateverThisProcessAsksAboutIt() throws Exception
    {
        try (OwnerLock lock = OwnerLock.acquire(file))
        {
            assertNotNull(lock);
            assertTrue(lock.owner().contains("pid=" + ProcessHandle.current().pid()), lock.owner());
            // Each of these would drop a POSIX lock if it opened and closed the file.
            assertTrue(OwnerLock.isHeld(file));
            assertEquals(lock.owner(), OwnerLock.ownerOf(file));
            assertNull(OwnerLock.acquire(file));
            assertNull(OwnerLock.acquireExisting(file));
            AeronDirectoryJanitor.sweep(line -> {});

            assertEquals("held", probeFromAnotherProcess());
        }
        assertFalse(Files.exists(file), "the owner removes its lock file");
    }

    /**
     * The Java agent loads its own copy of this class beside an application's (a server under bitfusion run): a
     * probe through one copy must not drop a lock held through the other.
     */
    @Test
    void shouldStayHeldWhenAnotherCopyOfTheClassInThisProcessProbesIt() throws Exception
    {
        final URL classes = OwnerLock.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader isolated = new URLClassLoader(new URL[]{ classes }, ClassLoader.getPlatformClassLoader()))
        {
            final Class<?> otherCopy = isolated.loadClass(OwnerLock.class.getName());
            assertNotSame(OwnerLock.class, otherCopy);
            final AutoCloseable lock = (AutoCloseable)otherCopy.getMethod("acquire", Path.class).invoke(null, file);
            assertNotNull(lock);
            try
            {
                assertEquals(ProcessHandle.current().pid(), PosixLockTable.holderOf(file));
                assertTrue(OwnerLock.isHeld(file));
                assertFalse(OwnerLock.isAbandoned(file));
                assertNull(OwnerLock.acquireExisting(file));
                assertTrue(OwnerLock.ownerOf(file).contains("pid=" + ProcessHandle.current().pid()));
                AeronDirectoryJanitor.sweep(line -> {});

                assertEquals("held", probeFromAnotherProcess());
            }
            finally
            {
                lock.close();
            }
        }
        assertEquals(PosixLockTable.NONE, PosixLockTable.holderOf(file));
    }

    @Test
    void shouldBeTakenOverOnceItsOwnerIsGone() throws Exception
    {
        Files.writeString(file, "pid=1 start=0\n");
        assertEquals("free", probeFromAnotherProcess());
        try (OwnerLock lock = OwnerLock.acquireExisting(file))
        {
            assertNotNull(lock);
            assertEquals("pid=1 start=0", lock.owner());
        }
    }

    private String probeFromAnotherProcess() throws Exception
    {
        final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        final Process probe = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
            OwnerLockProbe.class.getName(), file.toString())).redirectErrorStream(true).start();
        assertTrue(probe.waitFor(30, TimeUnit.SECONDS));
        return new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    }

    /**
     * Says whether a lock file is held, from a process of its own.
     */
    public static final class OwnerLockProbe
    {
        public static void main(final String[] args)
        {
            System.out.println(OwnerLock.isHeld(new File(args[0]).toPath()) ? "held" : "free");
        }
    }
}
