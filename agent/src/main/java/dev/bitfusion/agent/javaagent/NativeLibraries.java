package dev.bitfusion.agent.javaagent;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The bridge's native libraries, our {@code libcuda.so.1} and the NVML stand-in {@code libnvidia-ml.so.1}, as
 * files: the native-bridge module packages them as class path resources, and a process loads them from a
 * directory on disk, one per content hash, shared by every process of the user that runs the same build.
 * Used by the Java agent (which loads them with {@code System.load}) and by {@code bitfusion run} (which puts
 * the directory first in a native program's library path).
 * <p>
 * Thread safety: stateless; concurrent processes extracting the same build race harmlessly (atomic moves).
 */
public final class NativeLibraries
{
    /** Where the native-bridge module puts its libraries on the class path. */
    public static final String RESOURCE_DIRECTORY = "/dev/bitfusion/bridge/linux-x86_64/";
    /** Our driver: every later {@code dlopen("libcuda.so.1")} in the process binds to it by SONAME. */
    public static final String DRIVER = "libcuda.so.1";
    /** The NVML stand-in. */
    public static final String NVML = "libnvidia-ml.so.1";

    private NativeLibraries()
    {
    }

    /**
     * @param loader the class loader whose class path holds the native-bridge jar.
     * @return the directory holding both libraries (and {@code libcuda.so} / {@code libnvidia-ml.so} links for
     * programs that link against the unversioned names).
     * @throws IOException when a library is missing from the class path or cannot be written.
     */
    public static Path extract(final Class<?> loader) throws IOException
    {
        final Map<String, byte[]> libraries = new LinkedHashMap<>();
        final MessageDigest digest;
        try
        {
            digest = MessageDigest.getInstance("SHA-256");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException(ex);
        }
        for (final String name : new String[] {DRIVER, NVML})
        {
            try (InputStream in = loader.getResourceAsStream(RESOURCE_DIRECTORY + name))
            {
                if (in == null)
                {
                    throw new IOException(name + " is missing from the class path: rebuild with ./mvnw package");
                }
                final byte[] bytes = in.readAllBytes();
                digest.update(bytes);
                libraries.put(name, bytes);
            }
        }
        final String hash = HexFormat.of().formatHex(digest.digest()).substring(0, 16);
        final Path dir = Path.of(System.getProperty("java.io.tmpdir"),
            "bitfusion-" + System.getProperty("user.name", "user"), "native-" + hash);
        Files.createDirectories(dir);
        for (final Map.Entry<String, byte[]> library : libraries.entrySet())
        {
            final Path target = dir.resolve(library.getKey());
            if (!Files.isRegularFile(target) || Files.size(target) != library.getValue().length)
            {
                final Path temporary = Files.createTempFile(dir, library.getKey(), ".tmp");
                Files.write(temporary, library.getValue());
                temporary.toFile().setExecutable(true);
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            final String unversioned = library.getKey().substring(0, library.getKey().length() - 2);
            final Path link = dir.resolve(unversioned);
            if (!Files.isSymbolicLink(link))
            {
                Files.deleteIfExists(link);
                try
                {
                    Files.createSymbolicLink(link, target.getFileName());
                }
                catch (final IOException ignore)
                {
                    // Another process made it first.
                }
            }
        }
        return dir;
    }
}
