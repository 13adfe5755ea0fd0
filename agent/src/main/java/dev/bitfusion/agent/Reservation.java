package dev.bitfusion.agent;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A slice of one GPU that a server holds for a job: what its holder ({@code bitfusion run}, {@code request_gpus}, a
 * Java agent's own session) received, and what the job's other sessions show to attach to it and share its slice
 * rather than take fresh capacity. The server frees it when its holder's session ends.
 * <p>
 * Written as {@code ID:KEY} (the key in hex), the form {@link ClientSettings#RESERVATIONS_ENV_NAME} carries.
 *
 * @param id  the reservation's id on its server.
 * @param key the 16 bytes the server gave its holder: whoever shows them may attach.
 */
public record Reservation(long id, byte[] key)
{
    /** The length of a reservation's key. */
    public static final int KEY_LENGTH = 16;

    public Reservation
    {
        if (id <= 0 || key == null || key.length != KEY_LENGTH)
        {
            throw new IllegalArgumentException("a reservation is a positive id and a key of " + KEY_LENGTH + " bytes");
        }
        key = key.clone();
    }

    /**
     * @return a copy of the key.
     */
    public byte[] key()
    {
        return key.clone();
    }

    /**
     * @param text {@code ID:KEY} as {@link #toString()} writes it.
     * @return the reservation.
     * @throws IllegalArgumentException when the text is not one.
     */
    public static Reservation parse(final String text)
    {
        final int colon = text.indexOf(':');
        try
        {
            if (colon > 0)
            {
                return new Reservation(Long.parseLong(text.substring(0, colon).strip()),
                    HexFormat.of().parseHex(text.substring(colon + 1).strip()));
            }
        }
        catch (final IllegalArgumentException ex)
        {
            // Said below, with the text.
        }
        throw new IllegalArgumentException("a reservation is ID:KEY (a positive id, then " + KEY_LENGTH +
            " bytes in hex), got '" + text + "'");
    }

    public boolean equals(final Object other)
    {
        return other instanceof Reservation that && id == that.id && Arrays.equals(key, that.key);
    }

    public int hashCode()
    {
        return Long.hashCode(id) * 31 + Arrays.hashCode(key);
    }

    /**
     * @return {@code ID:KEY}, the key in hex: a secret, for the environment of the job's own processes only.
     */
    public String toString()
    {
        return id + ":" + HexFormat.of().formatHex(key);
    }
}
