package dev.bitfusion.agent.driver;

/**
 * The bytes of a module image, read when the image travels to the server (and again after a reset, or
 * for another GPU).
 * <p>
 * Thread safety: implementations are thread safe.
 */
@FunctionalInterface
public interface ModuleImage extends AutoCloseable
{
    /**
     * @return PTX text, a fatbin or a cubin.
     */
    byte[] bytes();

    /**
     * Called for each place the driver keeps the image (see {@link NativeModuleImage}).
     */
    default ModuleImage retain()
    {
        return this;
    }

    /**
     * Called when a place that kept the image lets it go.
     */
    default void release()
    {
    }

    /**
     * Lets the maker's reference go: whoever makes an image hands it on in a try-with-resources.
     */
    default void close()
    {
        release();
    }
}
