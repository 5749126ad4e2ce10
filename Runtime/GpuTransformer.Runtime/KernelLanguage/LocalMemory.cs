using GpuTransformer.Runtime.Emulator;

namespace GpuTransformer.Runtime;

/// <summary>Memory private to one work-item (a C array in registers or private memory).</summary>
public static class LocalMemory
{
    /// <summary>
    /// Allocates <paramref name="length"/> private elements. The length must be a compile-time constant and the call
    /// must initialise a local. Contents are undefined until written (the emulator fills them with NaN / -1 bytes).
    /// </summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="length">Elements; a constant.</param>
    /// <returns>A view of the work-item's array.</returns>
    public static ArrayView<T> Allocate<T>(int length)
        where T : unmanaged => LaneContext.Current.AllocateLocal<T>(length);
}
