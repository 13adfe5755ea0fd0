package dev.bitfusion.server;

import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.FragmentAuthenticator;
import dev.bitfusion.transport.auth.Handshakes;
import dev.bitfusion.transport.auth.KeyExchange;
import io.aeron.Image;

/**
 * What ties an admitted session to the client that opened it, decided once its request stream's image appears:
 * <ul>
 *   <li>the image must come from the publication the client named (its subscription hears no other Aeron session)
 *       and, over UDP, from the address the SessionOpen came from;</li>
 *   <li>replies go back on the image's own path: its Aeron response channel over UDP, the client's stream over
 *       IPC;</li>
 *   <li>when the server has a token, the two sides' X25519 keys and the token give the key every request fragment
 *       must be tagged with ({@link FragmentAuthenticator}), and the server proves the token back; a session the
 *       client opened encrypted also gets the keys its request payloads are decrypted with and its replies are
 *       encrypted and tagged with.</li>
 * </ul>
 * Thread safety: the session's thread only.
 */
final class SessionBinding
{
    private final SessionAdmission.OpenRequest request;
    private final long sessionId;
    private final GpuServer.Context context;
    private final Credentials credentials;
    private byte[] serverPublicKey = new byte[0];
    private byte[] serverProof = new byte[0];
    private FragmentAuthenticator requestAuthenticator;
    private FragmentAuthenticator replyAuthenticator;

    /**
     * @param credentials the token to derive the session's keys with, or null when the server has none.
     */
    SessionBinding(
        final SessionAdmission.OpenRequest request,
        final long sessionId,
        final GpuServer.Context context,
        final Credentials credentials)
    {
        this.request = request;
        this.sessionId = sessionId;
        this.context = context;
        this.credentials = credentials;
    }

    long openCorrelationId()
    {
        return request.correlationId();
    }

    int requestStreamId()
    {
        return request.requestStreamId();
    }

    int replyStreamId()
    {
        return request.sessionReplyStreamId();
    }

    /**
     * @param image the request stream's image, from the one publication the subscription accepts.
     * @return why the image is not the opener's, or null when it is.
     */
    String refusalOf(final Image image)
    {
        if (request.overIpc())
        {
            return null;
        }
        final String sourceHost = ChannelUris.sourceHost(image.sourceIdentity());
        return request.sourceHost().equals(sourceHost) ? null :
            "its request stream came from " + sourceHost + ", not from " + request.sourceHost() + ", which opened it";
    }

    /**
     * @param image the request stream's image.
     * @return the channel the session's replies go back on.
     */
    String replyChannelFor(final Image image)
    {
        if (request.overIpc())
        {
            return ChannelUris.ipc(context.transportSettings());
        }
        return ChannelUris.udpResponse(context.endpoint(), image.correlationId(), request.sourceHost(),
            context.transportSettings().termLength(), context.transportSettings());
    }

    /**
     * Make this side of the key exchange and the session's keys, when the server has a token.
     *
     * @throws IllegalArgumentException when the client's public key is unusable.
     */
    void exchangeKeys()
    {
        if (credentials == null)
        {
            return;
        }
        final KeyExchange keyExchange = KeyExchange.generate();
        serverPublicKey = keyExchange.publicKey();
        final byte[] sharedSecret = keyExchange.sharedSecret(request.clientPublicKey());
        final Credentials.Transcript accept = Handshakes.sessionAccept(request.transcript(), sessionId, serverPublicKey);
        serverProof = credentials.prove(accept);
        requestAuthenticator = Handshakes.requestAuthenticator(credentials, sharedSecret, accept, request.encrypt());
        if (request.encrypt())
        {
            replyAuthenticator = Handshakes.replyAuthenticator(credentials, sharedSecret, accept);
        }
    }

    /**
     * @return the authenticator every request fragment must satisfy, or null when requests are not authenticated.
     */
    FragmentAuthenticator requestAuthenticator()
    {
        return requestAuthenticator;
    }

    /**
     * @return what encrypts and tags the session's replies, or null when they travel as they are.
     */
    FragmentAuthenticator replyAuthenticator()
    {
        return replyAuthenticator;
    }

    byte[] serverPublicKey()
    {
        return serverPublicKey;
    }

    byte[] serverProof()
    {
        return serverProof;
    }
}
