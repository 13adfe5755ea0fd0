package dev.bitfusion.transport.auth;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.ChaCha20ParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class ChaCha20Test
{
    /** Key 00 01 .. 1f, as in the RFC's test vectors. */
    private static final byte[] KEY = HexFormat.of().parseHex(
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    @Test
    void matchesTheRfcsBlockFunctionTestVector()
    {
        // RFC 8439 2.3.2: counter 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00; zeros XORed give the block.
        final byte[] nonce = HexFormat.of().parseHex("000000090000004a00000000");
        final byte[] block = xor(KEY, 1, nonce, new byte[64]);
        assertArrayEquals(HexFormat.of().parseHex(
            "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e" +
            "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"), block);
    }

    @Test
    void matchesTheRfcsEncryptionTestVector()
    {
        // RFC 8439 2.4.2: counter 1, nonce 00:00:00:00:00:00:00:4a:00:00:00:00, 114 bytes (a partial last block).
        final byte[] nonce = HexFormat.of().parseHex("000000000000004a00000000");
        final byte[] plaintext = ("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for " +
            "the future, sunscreen would be it.").getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals(HexFormat.of().parseHex(
            "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b" +
            "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8" +
            "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736" +
            "5af90bbf74a35be6b40b8eedf2785e42874d"), xor(KEY, 1, nonce, plaintext));
    }

    @Test
    void matchesTheJdksChaCha20AtEveryLengthAroundBlocks() throws Exception
    {
        final Random random = new Random(42);
        final byte[] key = new byte[32];
        final byte[] nonce = new byte[12];
        for (int length = 0; length <= 200; length++)
        {
            random.nextBytes(key);
            random.nextBytes(nonce);
            final byte[] plaintext = new byte[length];
            random.nextBytes(plaintext);
            final int counter = random.nextInt(1000);
            final Cipher jdk = Cipher.getInstance("ChaCha20");
            jdk.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new ChaCha20ParameterSpec(nonce, counter));
            assertArrayEquals(jdk.doFinal(plaintext), xor(key, counter, nonce, plaintext), "length " + length);
        }
    }

    @Test
    void decryptsInPlaceWhatItEncrypted()
    {
        final byte[] nonce = HexFormat.of().parseHex("0102030405060708090a0b0c");
        final byte[] plaintext = new byte[1000];
        new Random(7).nextBytes(plaintext);
        final UnsafeBuffer buffer = new UnsafeBuffer(plaintext.clone());
        final ChaCha20 cipher = new ChaCha20(KEY);
        cipher.xor(0, 0x04030201, 0x08070605, 0x0c0b0a09, buffer, 0, buffer, 0, 1000);
        cipher.xor(0, 0x04030201, 0x08070605, 0x0c0b0a09, buffer, 0, buffer, 0, 1000);
        assertArrayEquals(plaintext, buffer.byteArray());
    }

    private static byte[] xor(final byte[] key, final int counter, final byte[] nonce, final byte[] input)
    {
        final UnsafeBuffer nonceView = new UnsafeBuffer(nonce);
        final byte[] output = new byte[input.length];
        new ChaCha20(key).xor(counter, nonceView.getInt(0, ByteOrder.LITTLE_ENDIAN),
            nonceView.getInt(4, ByteOrder.LITTLE_ENDIAN), nonceView.getInt(8, ByteOrder.LITTLE_ENDIAN),
            new UnsafeBuffer(input), 0, new UnsafeBuffer(output), 0, input.length);
        return output;
    }
}
