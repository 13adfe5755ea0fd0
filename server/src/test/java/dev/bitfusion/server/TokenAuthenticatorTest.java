package dev.bitfusion.server;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TokenAuthenticatorTest
{
    @Test
    void shouldAcceptOnlyTheTokenFromTheFile() throws Exception
    {
        final Path file = Files.createTempFile("token", ".txt");
        try
        {
            Files.writeString(file, "  abc123 \n");
            final TokenAuthenticator authenticator = TokenAuthenticator.fromFile(file);
            assertTrue(authenticator.required());
            assertTrue(authenticator.accepts("abc123"));
            assertTrue(authenticator.accepts(" abc123\n"));
            assertFalse(authenticator.accepts("abc1234"));
            assertFalse(authenticator.accepts(""));
            assertFalse(authenticator.accepts(null));
        }
        finally
        {
            Files.delete(file);
        }
    }

    @Test
    void shouldRefuseAnEmptyTokenFile() throws Exception
    {
        final Path file = Files.createTempFile("token", ".txt");
        try
        {
            assertThrows(IllegalArgumentException.class, () -> TokenAuthenticator.fromFile(file));
        }
        finally
        {
            Files.delete(file);
        }
    }

    @Test
    void shouldAcceptEveryoneWithoutATokenFile()
    {
        assertFalse(TokenAuthenticator.acceptAll().required());
        assertTrue(TokenAuthenticator.acceptAll().accepts(null));
    }
}
