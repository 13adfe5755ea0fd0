package dev.bitfusion.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * Checks the token a session presents against the server's token file, when it has one.
 * <p>
 * Thread safety: immutable.
 */
public final class TokenAuthenticator
{
    private final byte[] expectedToken;

    private TokenAuthenticator(final byte[] expectedToken)
    {
        this.expectedToken = expectedToken;
    }

    /**
     * @return an authenticator that accepts every session (no token file configured).
     */
    public static TokenAuthenticator acceptAll()
    {
        return new TokenAuthenticator(null);
    }

    /**
     * @param tokenFile a file whose first line is the token; surrounding white space is ignored.
     * @return an authenticator requiring that token.
     * @throws IOException when the file cannot be read.
     * @throws IllegalArgumentException when it holds no token.
     */
    public static TokenAuthenticator fromFile(final Path tokenFile) throws IOException
    {
        final String token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        if (token.isEmpty())
        {
            throw new IllegalArgumentException("token file " + tokenFile + " is empty");
        }
        return new TokenAuthenticator(token.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @return true when sessions must present a token.
     */
    public boolean required()
    {
        return expectedToken != null;
    }

    /**
     * @param presented the token a client sent, possibly empty.
     * @return true when it may open a session.
     */
    public boolean accepts(final String presented)
    {
        if (expectedToken == null)
        {
            return true;
        }
        final byte[] presentedBytes = (presented == null ? "" : presented.strip()).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expectedToken, presentedBytes);
    }
}
