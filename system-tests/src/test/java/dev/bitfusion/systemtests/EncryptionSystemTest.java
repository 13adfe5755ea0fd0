package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.server.GpuServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_NO_DEVICE;
import static dev.bitfusion.systemtests.CudaExamples.binary;
import static dev.bitfusion.systemtests.DriverCalls.*;
import static dev.bitfusion.systemtests.Drivers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Encrypted sessions: a CUDA program runs through {@code bitfusion run --encrypt} over UDP against a server that
 * requires encryption; a client that does not ask for it is refused, saying how to ask; and what crosses the wire,
 * as the server's media driver holds it (the log buffers of the images it received and of the publications it
 * sent), does not carry the plaintext of the device data in either direction, where an unencrypted session does.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class EncryptionSystemTest
{
    private static final String TOKEN = "encryption-s3cret";
    private static final byte[] MARKER = "bitfusion plaintext marker 7f3a ".getBytes(StandardCharsets.US_ASCII);
    private static final int DATA_BYTES = 1 << 20;

    @RegisterExtension
    final ClosedAfterEach resources = new ClosedAfterEach();

    @BeforeAll
    static void buildExamples() throws IOException, InterruptedException
    {
        CudaExamples.buildAll();
    }

    @Test
    void shouldRunAProgramEncryptedOverUdpAndRefuseAClientThatDoesNotEncrypt() throws Exception
    {
        final ServerProcess server = ServerProcess.start(1024, "--token-file", tokenFile().toString(), "--encrypt");
        resources.add(server);

        final BitfusionRun run = BitfusionRun.start(Map.of(ClientSettings.TOKEN_ENV_NAME, TOKEN),
            "-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--encrypt", "--", binary("vector_add"));
        resources.add(run);
        assertEquals(0, run.await(120), run::output);
        assertTrue(run.output().contains("vector_add: 4096 elements PASSED"), run::output);

        final RemoteDriver plain = new RemoteDriver(
            new ClientSettings().server(server.endpoint()).transport("udp").token(TOKEN).memoryFraction(0.5), System.out);
        resources.add(plain);
        expect(CUDA_ERROR_NO_DEVICE, plain.cuInit(0), "cuInit without encryption");
        assertTrue(plain.lastError().contains("requires encrypted sessions"), plain.lastError());
        assertTrue(plain.lastError().contains(ClientSettings.ENCRYPT_ENV_NAME), plain.lastError());
    }

    @Test
    void shouldRefuseToEncryptWithoutAToken() throws Exception
    {
        final ServerProcess server = ServerProcess.start(256);
        resources.add(server);
        final RemoteDriver noToken = new RemoteDriver(new ClientSettings().server(server.endpoint()).transport("udp")
            .token("").encrypt(true).memoryFraction(0.5), System.out);
        resources.add(noToken);
        expect(CUDA_ERROR_NO_DEVICE, noToken.cuInit(0), "cuInit encrypted without a token");
        assertTrue(noToken.lastError().contains("needs the server's token"), noToken.lastError());

        final RemoteDriver tokenlessServer = new RemoteDriver(new ClientSettings().server(server.endpoint())
            .transport("udp").token(TOKEN).encrypt(true).memoryFraction(0.5), System.out);
        resources.add(tokenlessServer);
        expect(CUDA_ERROR_NO_DEVICE, tokenlessServer.cuInit(0), "cuInit encrypted against a server without a token");
        assertTrue(tokenlessServer.lastError().contains("has no token"), tokenlessServer.lastError());
    }

    @Test
    void shouldKeepThePlaintextOffTheWireInBothDirections() throws Exception
    {
        final ServerProcess server = ServerProcess.start(1024, "--token-file", tokenFile().toString());
        resources.add(server);
        final Path aeronDirectory = Path.of(GpuServer.serverAeronDirectory(server.endpoint().port()));

        // Encrypted first: the log buffers of a closed session linger a while, and the plain one's carry the marker.
        assertFalse(copiesPlaintextVisibly(server, aeronDirectory, true),
            "the marker crossed the wire in the clear in an encrypted session");
        assertTrue(copiesPlaintextVisibly(server, aeronDirectory, false),
            "the check sees the marker of a session that does not encrypt, so its finding nothing means something");
    }

    /**
     * Copy marked data to the device and back over UDP, and look for the marker in the server's log buffers while
     * the session is open.
     *
     * @return whether the marker was found.
     */
    private boolean copiesPlaintextVisibly(final ServerProcess server, final Path aeronDirectory, final boolean encrypt)
        throws IOException
    {
        final byte[] data = new byte[DATA_BYTES];
        for (int i = 0; i < DATA_BYTES; i++)
        {
            data[i] = MARKER[i % MARKER.length];
        }
        try (RemoteDriver driver = Drivers.open(server.endpoint(), "udp",
            new ClientSettings().token(TOKEN).encrypt(encrypt).memoryFraction(0.25)))
        {
            final long address = alloc(driver, DATA_BYTES);
            ok(copyToDevice(driver, address, data), "cuMemcpyHtoD", driver);
            final byte[] back = new byte[DATA_BYTES];
            ok(copyFromDevice(driver, back, address), "cuMemcpyDtoH", driver);
            assertArrayEquals(data, back, "the data came back intact");
            return containsMarker(aeronDirectory);
        }
    }

    private static boolean containsMarker(final Path aeronDirectory) throws IOException
    {
        try (Stream<Path> files = Files.walk(aeronDirectory))
        {
            for (final Path file : files.filter(path -> path.toString().endsWith(".logbuffer")).toList())
            {
                try
                {
                    if (indexOf(Files.readAllBytes(file), MARKER) >= 0)
                    {
                        return true;
                    }
                }
                catch (final NoSuchFileException ignore)
                {
                    // A lingering image of the earlier session was deleted between the listing and the read.
                }
            }
        }
        return false;
    }

    private static int indexOf(final byte[] haystack, final byte[] needle)
    {
        outer:
        for (int i = 0, last = haystack.length - needle.length; i <= last; i++)
        {
            for (int j = 0; j < needle.length; j++)
            {
                if (haystack[i + j] != needle[j])
                {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private Path tokenFile() throws IOException
    {
        final Path file = Files.createTempFile("bitfusion-token", ".txt");
        Files.writeString(file, TOKEN + "\n");
        resources.add(() -> Files.deleteIfExists(file));
        return file;
    }
}
