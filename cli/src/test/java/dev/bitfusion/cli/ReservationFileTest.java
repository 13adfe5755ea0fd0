package dev.bitfusion.cli;

import dev.bitfusion.agent.Reservation;
import dev.bitfusion.transport.Endpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReservationFileTest
{
    private static final byte[] KEY = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, (byte)0xff};
    private static final Instant TAKEN_AT = Instant.parse("2025-01-31T12:00:00.123Z");

    @TempDir
    Path directory;

    @Test
    void shouldReadWhatItWrote() throws IOException
    {
        final ReservationFile written = twoGpus();
        final Path file = directory.resolve("reservation");

        written.writeNew(file);

        assertEquals(written, ReservationFile.read(file));
    }

    @Test
    void shouldKeepASliceInMegabytesAndALostReasonThatLooksLikeSyntax() throws IOException
    {
        final HeldGpus gpus = new HeldGpus(List.of(new Endpoint("gpu-host", 56001)), List.of(0),
            List.of(new Reservation(7, KEY)), 0, 256, "bitfusion request_gpus 1234", true);
        final ReservationFile lost = new ReservationFile(gpus, 42, TAKEN_AT, null)
            .lost("lost the GPU server gpu-host:56001 = gone # really\nC:\\path \u00e9");
        final Path file = directory.resolve("reservation");

        lost.writeNew(file);

        assertEquals(lost, ReservationFile.read(file));
    }

    @Test
    void shouldCreateTheFileReadableByItsOwnerOnly() throws IOException
    {
        final Path file = directory.resolve("made-here").resolve("reservation");

        twoGpus().writeNew(file);

        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    }

    @Test
    void shouldNeverWriteOverAnotherHoldersFile() throws IOException
    {
        final Path file = directory.resolve("reservation");
        twoGpus().writeNew(file);
        final String first = Files.readString(file);

        final ReservationFile second = new ReservationFile(twoGpus().gpus(), 99, TAKEN_AT, null);

        assertThrows(FileAlreadyExistsException.class, () -> second.writeNew(file));
        assertEquals(first, Files.readString(file));
        assertEquals(List.of(file), filesIn(directory), "no temporary file is left behind");
    }

    @Test
    void shouldReplaceTheFileAtOnce() throws IOException
    {
        final Path file = directory.resolve("reservation");
        final ReservationFile held = twoGpus();
        held.writeNew(file);

        held.lost("the server ended it").replace(file);

        assertEquals("the server ended it", ReservationFile.read(file).lostReason());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(List.of(file), filesIn(directory), "no temporary file is left behind");
    }

    @Test
    void shouldSayWhichFileAndWhatIsWrongWhenMalformed() throws IOException
    {
        final String good = twoGpus().text();
        assertMalformed(good.replaceAll("(?m)^reservations=.*\n", ""), "it has no reservations");
        assertMalformed(good.replaceAll("(?m)^reservations=.*\n", "reservations=7:abc,8:def\n"), "reservations '7:abc'");
        assertMalformed(good.replaceAll("(?m)^gpu_indices=.*\n", "gpu_indices=0\n"), "1 GPUs and 2 reservations");
        assertMalformed(good.replaceAll("(?m)^taken_at=.*\n", "taken_at=yesterday\n"), "taken_at 'yesterday'");
        assertMalformed(good.replaceAll("(?m)^memory_fraction=.*\n", ""), "it has no slice");
        assertMalformed(good.replaceAll("(?m)^memory_fraction=.*\n", "memory_fraction=1.5\n"), "the slice is a fraction");
        assertMalformed(good.replaceAll("(?m)^encrypt=.*\n", "encrypt=maybe\n"), "encrypt must be true or false");
        assertMalformed("not a properties file at all\n", "it has no servers");
    }

    private void assertMalformed(final String text, final String expected) throws IOException
    {
        final Path file = directory.resolve("malformed");
        Files.writeString(file, text);
        final IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> ReservationFile.read(file));
        assertTrue(thrown.getMessage().startsWith(file + " is not a reservation file of bitfusion request_gpus: "),
            thrown.getMessage());
        assertTrue(thrown.getMessage().contains(expected), thrown.getMessage());
    }

    private static ReservationFile twoGpus()
    {
        final HeldGpus gpus = new HeldGpus(List.of(new Endpoint("127.0.0.1", 40001), new Endpoint("10.0.0.2", 56001)),
            List.of(1, 0), List.of(new Reservation(7, KEY), new Reservation(12, KEY)), 0.5, 0,
            "bitfusion request_gpus 1234", false);
        return new ReservationFile(gpus, 4242, TAKEN_AT, null);
    }

    private static List<Path> filesIn(final Path directory) throws IOException
    {
        try (Stream<Path> files = Files.list(directory))
        {
            return files.toList();
        }
    }
}
