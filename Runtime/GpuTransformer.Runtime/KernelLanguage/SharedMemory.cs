using GpuTransformer.Runtime.Emulator;

namespace GpuTransformer.Runtime;

/// <summary>Memory shared by the work-items of one group (OpenCL <c>__local</c>, CUDA <c>__shared__</c>).</summary>
public static class SharedMemory
{
    /// <summary>
    /// Allocates <paramref name="length"/> elements of group-shared memory. The length must be a compile-time constant,
    /// and the call must initialise a local at the top level of a kernel body, so that every work-item of the group
    /// gets the same array. Its contents are undefined until written (the emulator fills it with NaN / -1 bytes).
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="length">Elements; a constant.</param>
    /// <returns>A view of the group's array.</returns>
    public static ArrayView<T> Allocate<T>(int length)
        where T : unmanaged => LaneContext.Current.AllocateShared<T>(length);
}
