package dev.bitfusion.cli;

import dev.bitfusion.agent.Reservation;
import dev.bitfusion.transport.Endpoint;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What {@code bitfusion request_gpus} holds, written by its holder process for {@code bitfusion client} and
 * {@code bitfusion release_gpus}: by default {@code ~/.bitfusion/reservation}, one request at a time per file
 * ({@code -f FILE} for more).
 * <p>
 * Format: Java properties in UTF-8, one key a line, lists comma separated and parallel, one entry per device ordinal:
 * <pre>
 * servers=gpu-host:56001            the server of each device ordinal
 * gpu_indices=0                     that server's GPU
 * reservations=7:00112233...        ID:KEY (the key in hex) of each reservation: a secret
 * memory_fraction=0.5               the slice: memory_fraction, or memory_mb=MiB
 * encrypt=false                     whether the job's sessions encrypt
 * tag=bitfusion request_gpus UUID   the servers list the holder and the job's sessions by it
 * holder_pid=12345                  the holder process, which keeps the reservations while it lives
 * taken_at=2025-01-31T12:00:00Z     when they were taken
 * lost=REASON                       only once the holder lost them (a server ended them or was lost)
 * </pre>
 * The keys let anyone who reads them attach to the slices, so the file is created with mode 0600 (and its directory,
 * when made here, 0700), and it is never seen half written: it is written to a temporary file beside it first, then
 * linked or renamed into place.
 *
 * @param gpus       what is held.
 * @param holderPid  the holder process.
 * @param takenAt    when the reservations were taken.
 * @param lostReason why the holder lost the reservations, or null while it holds them.
 */
record ReservationFile(HeldGpus gpus, long holderPid, Instant takenAt, String lostReason)
{
    /** The file's name in {@code ~/.bitfusion}, when {@code -f} names none. */
    static final String DEFAULT_NAME = "reservation";

    private static final String SERVERS = "servers";
    private static final String GPU_INDICES = "gpu_indices";
    private static final String RESERVATIONS = "reservations";
    private static final String MEMORY_FRACTION = "memory_fraction";
    private static final String MEMORY_MB = "memory_mb";
    private static final String ENCRYPT = "encrypt";
    private static final String TAG = "tag";
    private static final String HOLDER_PID = "holder_pid";
    private static final String TAKEN_AT = "taken_at";
    private static final String LOST = "lost";

    /**
     * @return {@code ~/.bitfusion/reservation}.
     */
    static Path defaultPath()
    {
        return Path.of(System.getProperty("user.home"), ".bitfusion", DEFAULT_NAME);
    }

    /**
     * @param option the {@code -f} value, or null.
     * @return the reservation file a command uses, absolute and through no symbolic link, so that every command names
     * it the same way however it was given (the holder is recognised by it).
     */
    static Path resolve(final Path option) throws IOException
    {
        final Path file = (option != null ? option : defaultPath()).toAbsolutePath().normalize();
        final Path directory = file.getParent();
        return Files.isDirectory(directory) ? directory.toRealPath().resolve(file.getFileName()) : file;
    }

    /**
     * @param file a reservation file, absolute.
     * @return how a command names it: nothing for the default, else {@code  -f FILE}.
     */
    static String option(final Path file)
    {
        try
        {
            return file.equals(resolve(null)) ? "" : " -f " + file;
        }
        catch (final IOException ex)
        {
            return " -f " + file;
        }
    }

    /**
     * @param file a reservation file.
     * @return the log of its holder, beside it.
     */
    static Path logOf(final Path file)
    {
        return file.resolveSibling(file.getFileName() + ".log");
    }

    /**
     * Make the file's directory, private (0700), when it is not there yet.
     *
     * @param file a reservation file.
     */
    static void createDirectory(final Path file) throws IOException
    {
        final Path directory = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(directory))
        {
            Files.createDirectories(directory,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    /**
     * @param reason why the holder lost the reservations.
     * @return this file as it reads once they are lost.
     */
    ReservationFile lost(final String reason)
    {
        return new ReservationFile(gpus, holderPid, takenAt, reason);
    }

    /**
     * @return the file's text.
     */
    String text()
    {
        final StringBuilder text = new StringBuilder()
            .append("# bitfusion request_gpus: GPUs held for `bitfusion client` until `bitfusion release_gpus`.\n")
            .append("# The reservations' keys let whoever reads them use the GPUs: keep this file private.\n");
        line(text, SERVERS, join(gpus.servers(), Endpoint::toString));
        line(text, GPU_INDICES, join(gpus.gpuIndices(), String::valueOf));
        line(text, RESERVATIONS, join(gpus.reservations(), Reservation::toString));
        if (gpus.memoryMb() > 0)
        {
            line(text, MEMORY_MB, Long.toString(gpus.memoryMb()));
        }
        else
        {
            line(text, MEMORY_FRACTION, Double.toString(gpus.memoryFraction()));
        }
        line(text, ENCRYPT, Boolean.toString(gpus.encrypt()));
        line(text, TAG, gpus.tag());
        line(text, HOLDER_PID, Long.toString(holderPid));
        line(text, TAKEN_AT, takenAt.toString());
        if (lostReason != null)
        {
            line(text, LOST, lostReason);
        }
        return text.toString();
    }

    /**
     * Write the file where none is, so that two holders never share one: the first to link its file there has it.
     *
     * @param file where.
     * @throws java.nio.file.FileAlreadyExistsException when a file is there already.
     */
    void writeNew(final Path file) throws IOException
    {
        final Path temporary = writeTemporary(file);
        try
        {
            Files.createLink(file, temporary);
        }
        finally
        {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * Write the file over the one there, at once: a reader sees the old one or the new one.
     *
     * @param file where.
     */
    void replace(final Path file) throws IOException
    {
        final Path temporary = writeTemporary(file);
        try
        {
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        finally
        {
            Files.deleteIfExists(temporary);
        }
    }

    /**
     * @param file a reservation file.
     * @return what it says.
     * @throws java.nio.file.NoSuchFileException when there is none.
     * @throws IllegalArgumentException naming the file and what is wrong when it is not a reservation file.
     */
    static ReservationFile read(final Path file) throws IOException
    {
        try
        {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(file + " is not a reservation file of bitfusion request_gpus: " +
                ex.getMessage(), ex);
        }
    }

    /**
     * @param text the file's text.
     * @return what it says.
     * @throws IllegalArgumentException saying what is missing or malformed.
     */
    static ReservationFile parse(final String text)
    {
        final Properties properties = new Properties();
        try
        {
            properties.load(new StringReader(text));
        }
        catch (final IOException | IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("unreadable: " + ex.getMessage());
        }
        final List<Endpoint> servers = list(properties, SERVERS, Endpoint::parse);
        final List<Integer> gpuIndices = list(properties, GPU_INDICES, Integer::valueOf);
        final List<Reservation> reservations = list(properties, RESERVATIONS, Reservation::parse);
        final String megabytes = properties.getProperty(MEMORY_MB);
        if (megabytes == null && properties.getProperty(MEMORY_FRACTION) == null)
        {
            throw new IllegalArgumentException("it has no slice: " + MEMORY_FRACTION + " or " + MEMORY_MB);
        }
        final double fraction = megabytes == null ? value(properties, MEMORY_FRACTION, Double::valueOf) : 0;
        final long memoryMb = megabytes == null ? 0 : value(properties, MEMORY_MB, Long::valueOf);
        final String encrypt = required(properties, ENCRYPT);
        if (!encrypt.equals("true") && !encrypt.equals("false"))
        {
            throw new IllegalArgumentException(ENCRYPT + " must be true or false, got '" + encrypt + "'");
        }
        final HeldGpus gpus = new HeldGpus(servers, gpuIndices, reservations, fraction, memoryMb,
            required(properties, TAG), Boolean.parseBoolean(encrypt));
        return new ReservationFile(gpus, value(properties, HOLDER_PID, Long::valueOf),
            value(properties, TAKEN_AT, Instant::parse), properties.getProperty(LOST));
    }

    private Path writeTemporary(final Path file) throws IOException
    {
        createDirectory(file);
        final Path directory = file.toAbsolutePath().getParent();
        // Created 0600 from the start: the keys are never readable by others, not even for a moment.
        final Path temporary = Files.createTempFile(directory, "." + file.getFileName(), ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try
        {
            Files.writeString(temporary, text(), StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            Files.deleteIfExists(temporary);
            throw ex;
        }
        return temporary;
    }

    private static void line(final StringBuilder text, final String key, final String value)
    {
        // Properties take the rest of the line as the value; only backslashes and line breaks need escaping.
        text.append(key).append('=')
            .append(value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")).append('\n');
    }

    private static <T> String join(final List<T> values, final Function<T, String> format)
    {
        return values.stream().map(format).collect(Collectors.joining(","));
    }

    private static String required(final Properties properties, final String key)
    {
        final String value = properties.getProperty(key);
        if (value == null || value.isBlank())
        {
            throw new IllegalArgumentException("it has no " + key);
        }
        return value.strip();
    }

    private static <T> T value(final Properties properties, final String key, final Function<String, T> parse)
    {
        return parsed(key, required(properties, key), parse);
    }

    private static <T> List<T> list(final Properties properties, final String key, final Function<String, T> parse)
    {
        return Arrays.stream(required(properties, key).split(",")).map(entry -> parsed(key, entry.strip(), parse)).toList();
    }

    private static <T> T parsed(final String key, final String value, final Function<String, T> parse)
    {
        try
        {
            return parse.apply(value);
        }
        catch (final IllegalArgumentException | DateTimeParseException ex)
        {
            throw new IllegalArgumentException(key + " '" + value + "' is malformed: " + ex.getMessage());
        }
    }
}
