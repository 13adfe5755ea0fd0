package dev.bitfusion.transport.auth;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class PeerKeysTest
{
    private final FragmentAuthenticator requestKey = FragmentAuthenticator.of(PeerKeys.newKey());

    @Test
    void shouldUnmaskWhatTheOtherEndMaskedUnderTheSameRequestKeyAndCorrelationId()
    {
        final byte[] key = PeerKeys.newKey();
        final byte[] onTheWire = key.clone();
        PeerKeys.mask(requestKey, 42, onTheWire);
        assertFalse(Arrays.equals(key, onTheWire));

        final byte[] received = onTheWire.clone();
        PeerKeys.mask(requestKey, 42, received);
        assertArrayEquals(key, received);
    }

    @Test
    void shouldMaskEachRequestDifferentlyAndLeaveTheKeyAsItIsWithoutARequestKey()
    {
        final byte[] first = new byte[PeerKeys.KEY_LENGTH];
        final byte[] second = new byte[PeerKeys.KEY_LENGTH];
        PeerKeys.mask(requestKey, 1, first);
        PeerKeys.mask(requestKey, 2, second);
        assertFalse(Arrays.equals(first, second));

        final byte[] key = PeerKeys.newKey();
        final byte[] unmasked = key.clone();
        PeerKeys.mask(null, 1, unmasked);
        assertArrayEquals(key, unmasked);
    }
}
