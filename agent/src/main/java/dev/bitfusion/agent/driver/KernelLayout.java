package dev.bitfusion.agent.driver;

/**
 * A kernel's parameter layout, learnt once from the server at cuModuleGetFunction so every launch can
 * pack its arguments without asking again.
 *
 * @param moduleHandle the module the kernel belongs to.
 * @param bufferSize   size of the packed parameter buffer.
 * @param offsets      offset of each parameter.
 * @param sizes        size of each parameter.
 * @param attributes   what is known of the kernel's attributes, answered without a round trip.
 */
record KernelLayout(long moduleHandle, int bufferSize, int[] offsets, int[] sizes, FunctionAttributes attributes)
{
}
