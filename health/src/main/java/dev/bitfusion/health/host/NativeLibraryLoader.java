package dev.bitfusion.health.host;

/**
 * Loads a native library into this JVM, as {@link System#load(String)} does. Injected so tests can
 * simulate a library that fails to link without loading anything.
 */
@FunctionalInterface
public interface NativeLibraryLoader
{
    /**
     * @param absolutePath the library file.
     * @throws UnsatisfiedLinkError when the library or one of its dependencies cannot be loaded.
     */
    void load(String absolutePath);
}
