package dev.bitfusion.health.host;

import java.net.InetAddress;

/**
 * An address bound to a local interface, with its subnet.
 *
 * @param interfaceName the interface, e.g. "ens192".
 * @param address       the address on it.
 * @param prefixLength  the subnet prefix length, e.g. 24.
 */
public record LocalAddress(String interfaceName, InetAddress address, int prefixLength)
{
    /**
     * @param other an address to test.
     * @return true when {@code other} is in this address's subnet (same family, same prefix bits).
     */
    public boolean sameSubnet(final InetAddress other)
    {
        final byte[] mine = address.getAddress();
        final byte[] theirs = other.getAddress();
        if (mine.length != theirs.length || prefixLength < 0 || prefixLength > mine.length * 8)
        {
            return false;
        }

        for (int bit = 0; bit < prefixLength; bit++)
        {
            final int mask = 0x80 >>> (bit & 7);
            if ((mine[bit >>> 3] & mask) != (theirs[bit >>> 3] & mask))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @return "ens192 (10.0.0.2/24)".
     */
    public String describe()
    {
        return interfaceName + " (" + address.getHostAddress() + "/" + prefixLength + ")";
    }
}
