package dev.bitfusion.server;

import dev.bitfusion.server.TokenAuthenticator.Access;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.Handshakes;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TokenAuthenticatorTest
{
    private static final long NOW_MS = 1_800_000_000_000L;

    @Test
    void shouldGrantOnlyProofsOfTheTokensFromTheFiles() throws Exception
    {
        final TokenAuthenticator authenticator = fromFiles("  abc123 \n", "root-key");
        assertTrue(authenticator.required());

        assertEquals(Access.TENANT, authorize(authenticator, 1, Credentials.ofToken(" abc123\n"), NOW_MS));
        assertEquals(Access.ADMIN, authorize(authenticator, 2, Credentials.ofToken("root-key"), NOW_MS));
        assertEquals(Access.REFUSED, authorize(authenticator, 3, Credentials.ofToken("abc1234"), NOW_MS));
        assertTrue(authenticator.refusal().contains("does not match"), authenticator.refusal());
        assertEquals(Access.REFUSED, authorize(authenticator, 4, Credentials.none(), NOW_MS));
        assertTrue(authenticator.refusal().contains("requires a token"), authenticator.refusal());
        assertFalse(Access.TENANT.seesClientIds());
        assertTrue(Access.ADMIN.seesClientIds());
    }

    @Test
    void shouldRefuseAProofForAnotherRequest() throws Exception
    {
        final TokenAuthenticator authenticator = fromFiles("abc123", null);
        final byte[] proof = Credentials.ofToken("abc123")
            .prove(Handshakes.query(Handshakes.LIST_GPUS, 5, 7, NOW_MS));
        assertEquals(Access.REFUSED, authenticator.authorize(
            Handshakes.query(Handshakes.HEALTH_QUERY, 5, 7, NOW_MS), proof, 5, NOW_MS, NOW_MS));
        assertEquals(Access.REFUSED, authenticator.authorize(
            Handshakes.query(Handshakes.LIST_GPUS, 6, 7, NOW_MS), proof, 6, NOW_MS, NOW_MS));
    }

    @Test
    void shouldRefuseReplaysAndStaleProofs() throws Exception
    {
        final TokenAuthenticator authenticator = fromFiles("abc123", null);
        final Credentials tenant = Credentials.ofToken("abc123");
        assertEquals(Access.TENANT, authorize(authenticator, 9, tenant, NOW_MS));
        assertEquals(Access.REFUSED, authorize(authenticator, 9, tenant, NOW_MS));
        assertTrue(authenticator.refusal().contains("replays"), authenticator.refusal());

        final long stale = NOW_MS - Handshakes.MAX_CLOCK_SKEW_MS - 1;
        assertEquals(Access.REFUSED, authorize(authenticator, 10, tenant, stale));
        assertTrue(authenticator.refusal().contains("clock"), authenticator.refusal());
    }

    @Test
    void shouldRefuseAnEmptyTokenFileAndAnAdministratorsTokenEqualToTheTenants() throws Exception
    {
        assertThrows(IllegalArgumentException.class, () -> fromFiles("", null));
        assertThrows(IllegalArgumentException.class, () -> fromFiles("same", "same"));
    }

    @Test
    void shouldOpenEverythingToEveryoneWithoutATokenFile()
    {
        final TokenAuthenticator open = TokenAuthenticator.acceptAll();
        assertFalse(open.required());
        assertEquals(Access.OPEN, authorize(open, 1, Credentials.none(), NOW_MS));
        assertTrue(Access.OPEN.seesClientIds());
    }

    private static Access authorize(
        final TokenAuthenticator authenticator, final long correlationId, final Credentials credentials,
        final long timestampMs)
    {
        final byte[] proof =
            credentials.prove(Handshakes.query(Handshakes.LIST_GPUS, correlationId, 7, timestampMs));
        return authenticator.authorize(
            Handshakes.query(Handshakes.LIST_GPUS, correlationId, 7, timestampMs), proof, correlationId, timestampMs,
            NOW_MS);
    }

    private static TokenAuthenticator fromFiles(final String token, final String adminToken) throws Exception
    {
        final Path file = Files.createTempFile("token", ".txt");
        final Path adminFile = adminToken == null ? null : Files.createTempFile("admin-token", ".txt");
        try
        {
            Files.writeString(file, token);
            if (adminFile != null)
            {
                Files.writeString(adminFile, adminToken);
            }
            return TokenAuthenticator.fromFiles(file, adminFile);
        }
        finally
        {
            Files.delete(file);
            if (adminFile != null)
            {
                Files.delete(adminFile);
            }
        }
    }
}
