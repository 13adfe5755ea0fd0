package dev.bitfusion.server;

/**
 * What one session has done so far, as its {@link Reservation} adds it up for listings.
 * <p>
 * Thread safety: read from any thread; once the session has ended it reads as it stood then, so a reservation that
 * keeps the sum of its ended sessions neither loses nor doubles their part.
 */
interface SessionTraffic
{
    /**
     * @return calls executed so far.
     */
    long calls();

    /**
     * @return bytes of requests and replies so far.
     */
    long bytes();
}
